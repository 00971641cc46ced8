/* encrypt.h - an OMEMO <encrypted/> element for a text, to every device
 * of a recipient and to our own other devices (legacy OMEMO: AES-128-GCM
 * of the text, key||tag encrypted per device by its Signal session). */
#ifndef XMSG_OMEMO_ENCRYPT_H
#define XMSG_OMEMO_ENCRYPT_H

#include "omemo/pep.h"

/* What clients that cannot decrypt show instead. */
#define XMSG_OMEMO_FALLBACK                                                    \
    "I sent you an OMEMO encrypted message but your client doesn't seem "      \
    "to support that."

/* The <encrypted/> element (owned, *out) for text to bare JID to: the
 * device lists of to and of our account (bare JID own) fetched, a session built
 * from a bundle for each device that has none (a device whose bundle is
 * missing, malformed or untrusted is left out, at warn level). The store
 * changes (sessions): the caller saves it before the element goes out. Returns
 * XMSG_OK; XMSG_ERR_INPUT (to has no device we can encrypt to: nothing is
 * sent); the connection's errors; XMSG_ERR_INTERNAL. */
xmsg_err xmsg_omemo_encrypt(xmsg_conn *c, xmsg_omemo_store *s, const char *own,
                            const char *to, const char *text, xmsg_xel **out);

/* As xmsg_omemo_encrypt, to every device of every bare JID of to[] (nto
 * of them; a room's members): one <encrypted/> with a <key/> for each. A
 * JID without a device we can encrypt to (or whose devices its server
 * does not show us) is left out at warn level; none left is
 * XMSG_ERR_INPUT. Errors otherwise as xmsg_omemo_encrypt. */
xmsg_err xmsg_omemo_encrypt_list(xmsg_conn *c, xmsg_omemo_store *s,
                                 const char *own, const char *const *to,
                                 size_t nto, const char *text, xmsg_xel **out);

/* Device lists fetched once per session (seal.c, devcache.c): jids[i]
 * publishes ids[i] (ns[i] of them). Zeroed: empty. */
typedef struct xmsg_omemo_devcache {
    char **jids;
    uint32_t **ids;
    size_t *ns;
    size_t n, cap;
} xmsg_omemo_devcache;

/* The device ids of jid (owned copy, *n of them), from dc when it has
 * them, else fetched (xmsg_omemo_pep_devices) and kept in dc. dc NULL:
 * fetched each time. Errors as xmsg_omemo_pep_devices. */
xmsg_err xmsg_omemo_devcache_get(xmsg_conn *c, xmsg_omemo_devcache *dc,
                                 const char *jid, uint32_t **ids, size_t *n);
void xmsg_omemo_devcache_clear(xmsg_omemo_devcache *dc);

/* xmsg_omemo_encrypt with the device lists of dc (NULL: none kept). */
xmsg_err xmsg_omemo_encrypt_cached(xmsg_conn *c, xmsg_omemo_store *s,
                                   xmsg_omemo_devcache *dc, const char *own,
                                   const char *to, const char *text,
                                   xmsg_xel **out);

/* The payload of an encrypted message (XML text, owned): <encrypted/>,
 * EME (XEP-0380) and a store hint (XEP-0334). NULL when out of memory. */
char *xmsg_omemo_payload_xml(const xmsg_xel *encrypted);

/* After an encryption: the store saved (its sessions moved on, and go to
 * disk before the message leaves), then encrypted's payload in *xml
 * (xmsg_omemo_payload_xml, owned; NULL on error). Errors: the store's,
 * or XMSG_ERR_INTERNAL (out of memory), set in st. */
xmsg_err xmsg_omemo_save_payload(xmsg_omemo_store *s, xmsg_status *st,
                                 const xmsg_xel *encrypted, char **xml);

#endif
