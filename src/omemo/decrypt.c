/* decrypt.c - see decrypt.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protocol.h>
#include <ratchet.h>
#include <session_cipher.h>
#include <session_record.h>
#include <session_state.h>

#include "omemo/decrypt.h"

static int parse_uint(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    v = strtoul(s, &end, 10);
    if (*end || v == 0 || v > 0x7ffffffful)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* The base64 text of el decoded: owned, or NULL. */
static uint8_t *b64_el(const xmsg_xel *el, size_t *n)
{
    char *text = el ? xmsg_xel_text(el) : NULL;
    uint8_t *raw = NULL;

    if (text && xmsg_omemo_b64_decode(text, &raw, n) != 0)
        raw = NULL;
    free(text);
    return raw;
}

/* Our <key/> of the header (rid = our device), or NULL. */
static const xmsg_xel *our_key(const xmsg_xel *header, uint32_t dev)
{
    const xmsg_xel *k;
    uint32_t rid;

    for (k = xmsg_xel_child(header, XMSG_OMEMO_NS, "key"); k;
         k = xmsg_xel_next_el(k, XMSG_OMEMO_NS, "key")) {
        if (parse_uint(xmsg_xel_attr(k, "rid"), &rid) == 0 && rid == dev)
            return k;
    }
    return NULL;
}

static const char *sg_text(int sg)
{
    switch (sg) {
    case SG_ERR_DUPLICATE_MESSAGE:
        return "a message already decrypted (replayed)";
    case SG_ERR_INVALID_MAC:
    case SG_ERR_INVALID_MESSAGE:
    case SG_ERR_INVALID_PROTO_BUF:
        return "the key is corrupt or not for this session";
    case SG_ERR_NO_SESSION:
        return "no session with the sender's device";
    case SG_ERR_INVALID_KEY_ID:
        return "a prekey we no longer have";
    case SG_ERR_UNTRUSTED_IDENTITY:
        return "the sender's identity is not the one pinned";
    case SG_ERR_LEGACY_MESSAGE:
    case SG_ERR_INVALID_VERSION:
        return "an OMEMO version we do not read";
    default:
        return "libomemo-c refused the key";
    }
}

/* How many messages the session with a has received on the chain of the
 * sender's ratchet key of sm (after decrypting it): 0 when unknown. */
static uint32_t chain_received(xmsg_omemo_store *s,
                               const signal_protocol_address *a,
                               const signal_message *sm)
{
    session_record *record = NULL;
    ratchet_chain_key *chain = NULL;
    uint32_t n = 0;

    if (!sm || signal_protocol_session_load_session(s->sctx, &record, a,
                                                    XMSG_OMEMO_VERSION) != 0)
        return 0;
    /* borrowed from the state, as the sender's key from sm */
    chain = session_state_get_receiver_chain_key(
        session_record_get_state(record),
        signal_message_get_sender_ratchet_key(sm));
    if (chain)
        n = ratchet_chain_key_get_index(chain);
    SIGNAL_UNREF(record);
    return n;
}

/* The key material of our <key/>: decrypted through the session with
 * (sender, sid) into *out (owned). NULL error, or why not. */
static const char *unwrap(xmsg_omemo_store *s, const char *sender, uint32_t sid,
                          const xmsg_xel *key, signal_buffer **out,
                          int *was_prekey, uint32_t *received)
{
    const signal_protocol_address a = {sender, strlen(sender), (int32_t)sid};
    const char *pk = xmsg_xel_attr(key, "prekey");
    const int prekey = pk && (!strcmp(pk, "true") || !strcmp(pk, "1"));
    pre_key_signal_message *pkm = NULL;
    signal_message *sm = NULL;
    session_cipher *c = NULL;
    size_t n = 0;
    uint8_t *raw = b64_el(key, &n);
    int sg = SG_ERR_INVALID_PROTO_BUF;

    *out = NULL;
    if (raw && session_cipher_create(&c, s->sctx, &a, s->ctx) == 0) {
        session_cipher_set_version(c, XMSG_OMEMO_VERSION);
        if (prekey)
            sg = pre_key_signal_message_deserialize(&pkm, raw, n, s->ctx);
        else
            sg = signal_message_deserialize(&sm, raw, n, s->ctx);
        if (!sg && prekey)
            sg = session_cipher_decrypt_pre_key_signal_message(c, pkm, NULL,
                                                               out);
        else if (!sg)
            sg = session_cipher_decrypt_signal_message(c, sm, NULL, out);
    }
    if (!sg && sm)
        *received = chain_received(s, &a, sm);
    SIGNAL_UNREF(pkm);
    SIGNAL_UNREF(sm);
    session_cipher_free(c);
    free(raw);
    *was_prekey = prekey && !sg;
    if (!raw)
        return "the key is not base64";
    return sg ? sg_text(sg) : NULL;
}

/* The payload decrypted with km (key||tag, or a 16-byte key with the tag
 * at the payload's end): *text owned, NUL-terminated. NULL or why not. */
static const char *open_payload(const signal_buffer *km, const uint8_t *iv,
                                const uint8_t *ct, size_t n, char **text)
{
    const uint8_t *k = signal_buffer_const_data(km);
    const size_t kn = signal_buffer_len(km);
    const uint8_t *tag = kn >= 32 ? k + 16 : ct + n - 16;
    const size_t len = kn >= 32 ? n : n - 16;

    *text = NULL;
    if (kn < 16 || (kn < 32 && n < 16))
        return "the key material is too short";
    *text = malloc(len + 1);
    if (!*text)
        return "out of memory";
    if (xmsg_omemo_gcm_decrypt(k, iv, ct, len, tag, (uint8_t *)*text)) {
        free(*text);
        *text = NULL;
        return "the payload does not match its tag (tampered?)";
    }
    (*text)[len] = '\0';
    if (strlen(*text) != len || !xmsg_text_valid(*text, len)) {
        free(*text);
        *text = NULL;
        return "the text is not valid UTF-8 XML text";
    }
    return NULL;
}

const char *xmsg_omemo_decrypt_el(xmsg_omemo_store *s, const char *sender,
                                  const xmsg_xel *enc, xmsg_omemo_plain *out)
{
    const xmsg_xel *header = xmsg_xel_child(enc, XMSG_OMEMO_NS, "header");
    const xmsg_xel *payload = xmsg_xel_child(enc, XMSG_OMEMO_NS, "payload");
    const xmsg_xel *key;
    signal_buffer *km = NULL;
    uint8_t *iv = NULL, *ct = NULL;
    size_t ivn = 0, ctn = 0;
    const char *why;

    memset(out, 0, sizeof(*out));
    if (!header || parse_uint(xmsg_xel_attr(header, "sid"), &out->sid))
        return "no header with a sender device";
    key = our_key(header, xmsg_omemo_store_device_id(s));
    if (!key)
        return "not encrypted for this device";
    why = unwrap(s, sender, out->sid, key, &km, &out->prekey, &out->received);
    if (!why && !payload)
        out->key_transport = 1; /* a key transport or heartbeat */
    else if (!why) {
        iv = b64_el(xmsg_xel_child(header, XMSG_OMEMO_NS, "iv"), &ivn);
        ct = b64_el(payload, &ctn);
        why = !iv || ivn != 12 ? "no 12-byte iv"
              : !ct            ? "the payload is not base64"
                               : open_payload(km, iv, ct, ctn, &out->text);
    }
    signal_buffer_bzero_free(km);
    free(iv);
    free(ct);
    return why;
}
