/* recv.c - see recv.h. The hook's state is the account's store, opened
 * at the first OMEMO message of a call (connect, one poll) and closed
 * when the call's hand-over is over (after publishing our bundle again
 * when a prekey was used): the store's lock is not held between polls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include <protocol.h>
#include <session_cipher.h>

#include "features/aesgcm.h"
#include "features/recvhook.h"
#include "features/sessobj.h"
#include "omemo/encrypt.h"
#include "omemo/recv.h"
#include "omemo/seal.h"

/* Received on one chain past this without our answering: a heartbeat
 * (the staleness rule of Conversations and python-omemo). */
#define XMSG_OMEMO_STALE 53

struct recv {
    xmsg_omemo_store *store; /* NULL until the call's first OMEMO message */
    int borrowed;            /* the session's sealer's (it holds the lock) */
};

/* The store closed at the end of a call, unless the sealer's. */
static void release(struct recv *r)
{
    if (!r->borrowed)
        xmsg_omemo_store_free(r->store);
    r->store = NULL;
    r->borrowed = 0;
}

const xmsg_xel *xmsg_omemo_recv_find(const xmsg_message *m, xmsg_xel **wrap)
{
    const char *payload = m ? xmsg_message_get(m, "payload") : NULL;

    *wrap = NULL;
    if (!payload || !strstr(payload, XMSG_OMEMO_NS))
        return NULL;
    *wrap = xmsg_xml_parse_fragment(payload);
    return *wrap ? xmsg_xel_child(*wrap, XMSG_OMEMO_NS, "encrypted") : NULL;
}

/* The fingerprint the store keeps for (sender, sid): owned, or NULL. */
static char *sender_fingerprint(const xmsg_omemo_store *s, const char *sender,
                                uint32_t sid)
{
    char k[16];
    signal_buffer *b;
    char *fp = NULL;

    snprintf(k, sizeof(k), "%u", (unsigned)sid);
    b = xmsg_omemo_json_b64(json_object_get(
        json_object_get(json_object_get(s->root, "identities"), sender), k));
    if (b)
        fp = xmsg_omemo_fingerprint_of(signal_buffer_data(b),
                                       signal_buffer_len(b));
    signal_buffer_free(b);
    return fp;
}

/* 1 when jid has no pins (blind trust) or fp is one of them. */
static int pinned_ok(const xmsg_omemo_store *s, const char *jid, const char *fp)
{
    json_t *pins = json_object_get(json_object_get(s->root, "trust"), jid);
    json_t *v;
    size_t i;

    if (json_array_size(pins) == 0)
        return 1;
    json_array_foreach(pins, i, v)
    {
        if (fp && json_is_string(v) && strcmp(json_string_value(v), fp) == 0)
            return 1;
    }
    return 0;
}

/* Decrypts and checks the pins: NULL, or why not (plain's text wiped).
 * *fp (owned) the sender device's fingerprint when known. */
static const char *open_checked(xmsg_omemo_store *s, const char *sender,
                                const xmsg_xel *enc, xmsg_omemo_plain *plain,
                                char **fp)
{
    const char *why = xmsg_omemo_decrypt_el(s, sender, enc, plain);

    *fp = plain->sid ? sender_fingerprint(s, sender, plain->sid) : NULL;
    if (why || pinned_ok(s, sender, *fp))
        return why;
    if (plain->text)
        xmsg_secure_zero(plain->text, strlen(plain->text));
    free(plain->text);
    plain->text = NULL;
    return "untrusted: the sender device's identity is not pinned for its "
           "JID (xmsg omemo trust)";
}

/* Used prekeys replaced (publishNeeded), the store saved: NULL or why
 * not. */
static const char *keep_state(xmsg_omemo_store *s, xmsg_status *st)
{
    if (xmsg_omemo_store_replenish(s) > 0)
        json_object_set_new(s->root, "publishNeeded", json_true());
    s->dirty = 1;
    return xmsg_omemo_store_save(s, st) ? "the store cannot be saved" : NULL;
}

int xmsg_omemo_recv_into(xmsg_omemo_store *s, const char *sender,
                         const xmsg_xel *enc, xmsg_message *m,
                         xmsg_omemo_plain *plain, xmsg_status *st)
{
    const char *why = "the sender is unknown";
    char num[16], *fp = NULL;
    int rc;

    memset(plain, 0, sizeof(*plain));
    if (sender)
        why = open_checked(s, sender, enc, plain, &fp);
    if (!why)
        why = keep_state(s, st);
    snprintf(num, sizeof(num), "%u", (unsigned)plain->sid);
    rc = xmsg_message_put(m, "encrypted", "omemo") ||
         (plain->sid && xmsg_message_put(m, "senderDevice", num)) ||
         (fp && xmsg_message_put(m, "fingerprint", fp)) ||
         (why && xmsg_message_put(m, "decryptError", why)) ||
         (plain->text && xmsg_message_put(m, "body", plain->text)) ||
         (plain->text && xmsg_take_aesgcm_url(m)); /* XEP-0454 */
    if (plain->text)
        xmsg_secure_zero(plain->text, strlen(plain->text));
    free(plain->text);
    plain->text = NULL;
    free(fp);
    return rc ? -1 : 0;
}

/* ---- the heartbeat: an empty OMEMO message after a prekey message ---- */

/* <encrypted> with our header and a key for (jid, dev) only: 32 random
 * bytes through the session (which the prekey message just made). */
static xmsg_xel *heartbeat_el(xmsg_omemo_store *s, const char *jid,
                              uint32_t dev)
{
    const signal_protocol_address a = {jid, strlen(jid), (int32_t)dev};
    xmsg_xel *enc = xmsg_xel_new(XMSG_OMEMO_NS, "encrypted");
    xmsg_xel *header = enc ? xmsg_xel_add_new(enc, NULL, "header") : NULL;
    session_cipher *c = NULL;
    ciphertext_message *cm = NULL;
    signal_buffer *ser;
    uint8_t km[32], iv[12];
    char sid[16], rid[16], *kb = NULL, *ivb = NULL;
    int ok = 0;

    snprintf(sid, sizeof(sid), "%u", (unsigned)xmsg_omemo_store_device_id(s));
    snprintf(rid, sizeof(rid), "%u", (unsigned)dev);
    if (!header || RAND_bytes(km, 32) != 1 || RAND_bytes(iv, 12) != 1 ||
        session_cipher_create(&c, s->sctx, &a, s->ctx))
        goto out;
    session_cipher_set_version(c, XMSG_OMEMO_VERSION);
    if (session_cipher_encrypt(c, km, sizeof(km), &cm))
        goto out;
    ser = ciphertext_message_get_serialized(cm);
    kb = xmsg_base64(signal_buffer_data(ser), signal_buffer_len(ser));
    ivb = xmsg_base64(iv, sizeof(iv));
    ok = kb && ivb && !xmsg_xel_set_attr(header, "sid", sid);
    if (ok) {
        xmsg_xel *key = xmsg_el_add(header, NULL, "key", kb);
        ok = key && !xmsg_xel_set_attr(key, "rid", rid) &&
             xmsg_el_add(header, NULL, "iv", ivb);
    }
out:
    xmsg_secure_zero(km, sizeof(km));
    free(kb);
    free(ivb);
    SIGNAL_UNREF(cm);
    session_cipher_free(c);
    if (!ok) {
        xmsg_xel_free(enc);
        return NULL;
    }
    return enc;
}

/* Answers a prekey message from (sender, sid) at full JID to (or a
 * session that received more than XMSG_OMEMO_STALE on one chain) with a
 * heartbeat through the stanza builder, the store saved first (the
 * session moved on), so that the sender's client leaves the prekey
 * state (or ratchets forward). Failures are logged: the message itself
 * was decrypted. */
static void heartbeat(xmsg_session *ss, xmsg_omemo_store *s, const char *to,
                      const char *sender, uint32_t sid)
{
    xmsg_xel *enc = heartbeat_el(s, sender, sid);
    char *payload = enc ? xmsg_omemo_payload_xml(enc) : NULL;
    xmsg_message *hb = payload ? xmsg_message_new() : NULL;
    xmsg_buf b = {NULL, 0, 0};
    int ok = hb && !xmsg_message_put(hb, "to", to) &&
             !xmsg_message_put(hb, "type", "chat") &&
             !xmsg_message_put(hb, "payload", payload) &&
             !xmsg_message_xml(hb, &b);

    s->dirty = 1;
    if (ok && xmsg_omemo_store_save(s, ss->c.st) == XMSG_OK) {
        xmsg_conn_send_xml(&ss->c, b.d, b.len);
        xmsg_conn_log(&ss->c, XMSG_LOG_DEBUG,
                      "OMEMO: heartbeat to device %u of %s", (unsigned)sid,
                      sender);
    } else {
        xmsg_conn_log(&ss->c, XMSG_LOG_WARN,
                      "OMEMO: no heartbeat to device %u of %s (out of "
                      "memory, no session or the store)",
                      (unsigned)sid, sender);
    }
    xmsg_buf_free(&b);
    xmsg_message_free(hb);
    free(payload);
    xmsg_xel_free(enc);
}

/* ---- the hook ---- */

static xmsg_err open_store(xmsg_session *ss, struct recv *r)
{
    char *path;
    xmsg_err rc;

    if (r->store)
        return XMSG_OK;
    /* A session that sends sealed holds the store (and its lock). */
    r->store = xmsg_omemo_sealer_store(ss);
    r->borrowed = r->store != NULL;
    if (r->store)
        return XMSG_OK;
    path = ss->bare ? xmsg_omemo_store_path(ss->p, ss->bare) : NULL;
    rc = path ? xmsg_omemo_store_open(path, ss->p->timeout * 1000L, &r->store,
                                      ss->c.st)
              : xmsg_status_fail(ss->c.st, XMSG_ERR_INPUT,
                                 "OMEMO: no place for the store (set "
                                 "stateFile, XDG_STATE_HOME or HOME)");
    free(path);
    return rc;
}

/* The store could not be opened: m handed over with why, the call's
 * status left as it was. 0 or -1. */
static int no_store(xmsg_session *ss, xmsg_message *m)
{
    char why[300];

    snprintf(why, sizeof(why), "the store: %s",
             xmsg_status_text(ss->c.st) ? xmsg_status_text(ss->c.st) : "?");
    xmsg_status_clear_error(ss->c.st);
    xmsg_conn_log(&ss->c, XMSG_LOG_WARN, "OMEMO: %s", why);
    return xmsg_message_put(m, "encrypted", "omemo") ||
                   xmsg_message_put(m, "decryptError", why)
               ? -1
               : 0;
}

/* A message without payload (key transport, heartbeat): 1 taken, or 0
 * hand it over (it could not be processed: its decryptError says why). */
static int key_transport(xmsg_session *ss, const xmsg_message *m,
                         const xmsg_omemo_plain *plain, const char *sender)
{
    const char *why = xmsg_message_get(m, "decryptError");

    if (why && strcmp(why, "not encrypted for this device") != 0) {
        xmsg_conn_log(&ss->c, XMSG_LOG_WARN,
                      "OMEMO: a key transport from %s: %s", sender, why);
        return 0;
    }
    xmsg_conn_log(&ss->c, XMSG_LOG_DEBUG,
                  "OMEMO: a key transport from device %u of %s%s",
                  (unsigned)plain->sid, sender,
                  why ? " for another device: ignored" : " processed");
    return 1;
}

static int on_message(xmsg_session *ss, void *ud, xmsg_message *m)
{
    struct recv *r = ud;
    const char *from = xmsg_message_get(m, "from");
    const char *type = xmsg_message_get(m, "type");
    xmsg_xel *wrap = NULL;
    const xmsg_xel *enc = xmsg_omemo_recv_find(m, &wrap);
    const int has_payload =
        enc && xmsg_xel_child(enc, XMSG_OMEMO_NS, "payload") != NULL;
    char *sender = from ? xmsg_jid_bare_norm(from) : NULL;
    xmsg_omemo_plain plain;
    int rc = 0;

    /* Rooms are another matter (the sender's real JID): left as they are. */
    if (!enc || (type && strcmp(type, "groupchat") == 0))
        goto out;
    if (open_store(ss, r)) {
        rc = no_store(ss, m);
        goto out;
    }
    rc = xmsg_omemo_recv_into(r->store, sender, enc, m, &plain, ss->c.st);
    if (!rc && from && (plain.prekey || plain.received > XMSG_OMEMO_STALE))
        heartbeat(ss, r->store, from, sender, plain.sid);
    if (!rc && !has_payload)
        rc = key_transport(ss, m, &plain, sender ? sender : "?");
out:
    free(sender);
    xmsg_xel_free(wrap);
    return rc;
}

/* Our bundle published again when prekeys were used (so that the used
 * one leaves PEP); a failure is logged, the messages were handed over. */
static void on_done(xmsg_session *ss, void *ud)
{
    struct recv *r = ud;
    xmsg_err rc;

    if (!r->store)
        return;
    if (json_is_true(json_object_get(r->store->root, "publishNeeded"))) {
        xmsg_conn_extend(&ss->c); /* the publication's own wait */
        rc = xmsg_omemo_pep_publish(&ss->c, r->store);
        if (!rc && json_object_del(r->store->root, "publishNeeded") == 0) {
            r->store->dirty = 1;
            rc = xmsg_omemo_store_save(r->store, ss->c.st);
        }
        if (rc) {
            xmsg_conn_log(&ss->c, XMSG_LOG_WARN,
                          "OMEMO: our bundle is not published again: %s",
                          xmsg_status_text(ss->c.st));
            xmsg_status_clear_error(ss->c.st);
        }
    }
    release(r);
}

static void on_free(void *ud)
{
    struct recv *r = ud;

    if (r)
        release(r);
    free(r);
}

static const xmsg_recv_hook_ops ops = {on_message, on_done, on_free};

static xmsg_err make(xmsg_session *ss, const xmsg_recv_hook_ops **out,
                     void **ud)
{
    struct recv *r = calloc(1, sizeof(*r));

    if (!r)
        return xmsg_status_fail(ss->c.st, XMSG_ERR_INTERNAL, "out of memory");
    *out = &ops;
    *ud = r;
    return XMSG_OK;
}

/* Loaded with the library: sessions with params omemo get the hook. */
__attribute__((constructor)) static void provide(void)
{
    xmsg_recv_hook_provide(make);
}
