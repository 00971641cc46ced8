/* decrypt.h - a received <encrypted/> (legacy OMEMO) decrypted with the
 * store: our <key/> through the Signal session with the sender's device
 * (a prekey message makes the session and uses a prekey up), then the
 * payload's AES-128-GCM. */
#ifndef XMSG_OMEMO_DECRYPT_H
#define XMSG_OMEMO_DECRYPT_H

#include "omemo/store.h"

typedef struct xmsg_omemo_plain {
    uint32_t sid;      /* the sender's device */
    char *text;        /* owned; NULL for a key transport */
    int key_transport; /* no payload: key transport or heartbeat */
    int prekey;        /* our key came as a prekey message (decrypted) */
    uint32_t received; /* messages received on the sender's current chain
                          (Conversations answers past 53 with a heartbeat) */
} xmsg_omemo_plain;

/* Decrypts enc from bare JID sender into *out. Returns NULL, or why it
 * cannot (static text; out->sid set when the header had one). The store
 * changes (sessions, prekeys): the caller saves it. */
const char *xmsg_omemo_decrypt_el(xmsg_omemo_store *s, const char *sender,
                                  const xmsg_xel *enc, xmsg_omemo_plain *out);

#endif
