/* encrypt.c - see encrypt.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>

#include "omemo/encrypt.h"

/* The address of (jid, dev) for libomemo-c (jid borrowed). */
static signal_protocol_address address(const char *jid, uint32_t dev)
{
    const signal_protocol_address a = {jid, strlen(jid), (int32_t)dev};
    return a;
}

/* A session with (jid, dev) from its bundle. 1 built, 0 left out (told at
 * warn level), or an error of the connection (negative: see rc). */
static xmsg_err build_session(xmsg_conn *c, xmsg_omemo_store *s,
                              const char *jid, uint32_t dev, int *built)
{
    const signal_protocol_address a = address(jid, dev);
    session_pre_key_bundle *bundle = NULL;
    session_builder *b = NULL;
    xmsg_xel *wrap = NULL;
    const xmsg_xel *el = NULL;
    xmsg_status *quiet = xmsg_status_new();
    xmsg_err rc = xmsg_omemo_pep_bundle(c, jid, dev, &wrap, &el);
    int sg = 0;

    *built = 0;
    if (rc || !quiet)
        goto out;
    if (!el || xmsg_omemo_bundle_parse(el, dev, s->ctx, &bundle, quiet) ||
        session_builder_create(&b, s->sctx, &a, s->ctx) ||
        (session_builder_set_version(b, XMSG_OMEMO_VERSION),
         (sg = session_builder_process_pre_key_bundle(b, bundle)) != 0)) {
        xmsg_conn_log(c, XMSG_LOG_WARN, "OMEMO: device %u of %s left out: %s",
                      (unsigned)dev, jid,
                      !el ? "no bundle"
                      : sg == SG_ERR_UNTRUSTED_IDENTITY
                          ? "its identity is not the one pinned"
                      : xmsg_status_text(quiet) ? xmsg_status_text(quiet)
                                                : "no session");
        goto out;
    }
    *built = 1;
out:
    session_builder_free(b);
    SIGNAL_UNREF(bundle);
    xmsg_xel_free(wrap);
    xmsg_status_free(quiet);
    return rc;
}

/* <key rid=dev [prekey='true']> with keymat encrypted to (jid, dev), under
 * header. 0, or -1 (left out: no session). */
static int add_key(xmsg_omemo_store *s, xmsg_xel *header, const char *jid,
                   uint32_t dev, const uint8_t keymat[32])
{
    const signal_protocol_address a = address(jid, dev);
    session_cipher *cipher = NULL;
    ciphertext_message *m = NULL;
    signal_buffer *ser;
    xmsg_xel *key = NULL;
    char num[16], *b64 = NULL;
    int rc = -1;

    snprintf(num, sizeof(num), "%u", (unsigned)dev);
    if (session_cipher_create(&cipher, s->sctx, &a, s->ctx) ||
        session_cipher_encrypt(cipher, keymat, 32, &m))
        goto out;
    ser = ciphertext_message_get_serialized(m);
    b64 = xmsg_base64(signal_buffer_data(ser), signal_buffer_len(ser));
    key = b64 ? xmsg_xel_add_new(header, NULL, "key") : NULL;
    if (key && !xmsg_xel_set_attr(key, "rid", num) &&
        (ciphertext_message_get_type(m) != CIPHERTEXT_PREKEY_TYPE ||
         !xmsg_xel_set_attr(key, "prekey", "true")) &&
        !xmsg_xel_add_text(key, b64, strlen(b64)))
        rc = 0;
out:
    free(b64);
    SIGNAL_UNREF(m);
    session_cipher_free(cipher);
    return rc;
}

/* 1 if jid has pinned fingerprints and the identity we keep for (jid,
 * dev) is none of them (libomemo-c checks trust when it makes a session,
 * not when it encrypts on one it has). */
static int pinned_out(const xmsg_omemo_store *s, const char *jid, uint32_t dev)
{
    json_t *pins = json_object_get(json_object_get(s->root, "trust"), jid);
    char k[16], *fp = NULL;
    signal_buffer *b;
    json_t *v;
    size_t i;
    int out = 1;

    if (json_array_size(pins) == 0)
        return 0;
    snprintf(k, sizeof(k), "%u", (unsigned)dev);
    b = xmsg_omemo_json_b64(json_object_get(
        json_object_get(json_object_get(s->root, "identities"), jid), k));
    if (b)
        fp = xmsg_omemo_fingerprint_of(signal_buffer_data(b),
                                       signal_buffer_len(b));
    json_array_foreach(pins, i, v)
    {
        if (fp && json_is_string(v) && strcmp(json_string_value(v), fp) == 0)
            out = 0;
    }
    signal_buffer_free(b);
    free(fp);
    return out;
}

/* Keys for every device of jid but `skip` (our own device): sessions made
 * as needed. *n counts the keys added. */
static xmsg_err add_keys(xmsg_conn *c, xmsg_omemo_store *s,
                         xmsg_omemo_devcache *dc, xmsg_xel *header,
                         const char *jid, uint32_t skip,
                         const uint8_t keymat[32], size_t *n)
{
    uint32_t *ids = NULL;
    size_t count = 0, i;
    xmsg_err rc = xmsg_omemo_devcache_get(c, dc, jid, &ids, &count);
    signal_protocol_address a;
    int ok;

    for (i = 0; !rc && i < count; i++) {
        a = address(jid, ids[i]);
        ok = ids[i] != skip;
        if (ok && !signal_protocol_session_contains_session(s->sctx, &a))
            rc = build_session(c, s, jid, ids[i], &ok);
        if (!rc && ok && !pinned_out(s, jid, ids[i]) &&
            add_key(s, header, jid, ids[i], keymat) == 0)
            (*n)++;
        else if (!rc && ok)
            xmsg_conn_log(c, XMSG_LOG_WARN,
                          "OMEMO: device %u of %s left out: its identity "
                          "is not trusted (not the one pinned)",
                          (unsigned)ids[i], jid);
    }
    free(ids);
    return rc;
}

/* Keys for every device of member jid; a member whose devices the
 * server does not show us (an error of its PEP service) is left out at
 * warn level, as one without devices. *n counts the keys added. */
static xmsg_err add_member_keys(xmsg_conn *c, xmsg_omemo_store *s,
                                xmsg_omemo_devcache *dc, xmsg_xel *header,
                                const char *jid, const uint8_t keymat[32],
                                size_t *n)
{
    const size_t before = *n;
    xmsg_err rc = add_keys(c, s, dc, header, jid, 0, keymat, n);

    if (rc == XMSG_ERR_PROTOCOL) {
        xmsg_conn_log(c, XMSG_LOG_WARN, "OMEMO: %s left out: %s", jid,
                      xmsg_status_text(c->st));
        xmsg_status_clear_error(c->st);
        return XMSG_OK;
    }
    if (!rc && *n == before)
        xmsg_conn_log(c, XMSG_LOG_WARN,
                      "OMEMO: %s left out: no device we can encrypt to", jid);
    return rc;
}

/* <iv/> under header, <payload/> under enc. */
static xmsg_err add_iv_payload(xmsg_conn *c, xmsg_xel *enc, xmsg_xel *header,
                               const uint8_t iv[12], const uint8_t *ct,
                               size_t len)
{
    char *b64 = xmsg_base64(ct, len), *ivb64 = xmsg_base64(iv, 12);
    const int ok = b64 && ivb64 && xmsg_el_add(header, NULL, "iv", ivb64) &&
                   xmsg_el_add(enc, NULL, "payload", b64);

    free(b64);
    free(ivb64);
    return ok ? XMSG_OK
              : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
}

/* Keys for every device of to[0..nto) into header. list: a room's
 * members (one whose devices its server does not show us is left out at
 * warn level, as one without devices); else one recipient (such a failure
 * is the message's). None at all is XMSG_ERR_INPUT. *n counts them. */
static xmsg_err recipient_keys(xmsg_conn *c, xmsg_omemo_store *s,
                               xmsg_omemo_devcache *dc, xmsg_xel *header,
                               const char *const *to, size_t nto, int list,
                               const uint8_t keymat[32], size_t *n)
{
    xmsg_err rc = XMSG_OK;
    size_t i;

    for (i = 0; !rc && i < nto; i++)
        rc = list ? add_member_keys(c, s, dc, header, to[i], keymat, n)
                  : add_keys(c, s, dc, header, to[i], 0, keymat, n);
    if (rc || *n)
        return rc;
    if (!list)
        return xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                                "OMEMO: %s has no device we can encrypt to: "
                                "nothing sent",
                                to[0]);
    return xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                            "OMEMO: none of the %zu recipient(s) has a "
                            "device we can encrypt to: nothing sent",
                            nto);
}

/* <header sid><key/>...<iv/></header><payload/> under enc: text for every
 * device of to[0..nto) (list: as recipient_keys) and our own others. */
static xmsg_err seal(xmsg_conn *c, xmsg_omemo_store *s, xmsg_omemo_devcache *dc,
                     xmsg_xel *enc, const char *own, const char *const *to,
                     size_t nto, int list, const char *text)
{
    const size_t len = strlen(text);
    uint8_t keymat[32], iv[12], *ct = malloc(len ? len : 1);
    xmsg_xel *header = xmsg_xel_add_new(enc, NULL, "header");
    char sid[16];
    size_t n = 0, mine = 0;
    xmsg_err rc = XMSG_ERR_INTERNAL;

    snprintf(sid, sizeof(sid), "%u", (unsigned)xmsg_omemo_store_device_id(s));
    if (!ct || !header || xmsg_xel_set_attr(header, "sid", sid) ||
        RAND_bytes(keymat, 16) != 1 || RAND_bytes(iv, 12) != 1 ||
        xmsg_omemo_gcm_encrypt(keymat, iv, (const uint8_t *)text, len, ct,
                               keymat + 16))
        goto out;
    rc = recipient_keys(c, s, dc, header, to, nto, list, keymat, &n);
    if (!rc)
        rc = add_keys(c, s, dc, header, own, xmsg_omemo_store_device_id(s),
                      keymat, &mine);
    if (!rc)
        rc = add_iv_payload(c, enc, header, iv, ct, len);
    if (!rc && list)
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "OMEMO: to %zu recipient(s): %zu device(s), %zu of our "
                      "own",
                      nto, n, mine);
    else if (!rc)
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "OMEMO: to %s: %zu device(s), %zu of our own", to[0], n,
                      mine);
out:
    xmsg_secure_zero(keymat, sizeof(keymat));
    free(ct);
    return rc == XMSG_ERR_INTERNAL && !xmsg_status_code(c->st)
               ? xmsg_status_fail(c->st, rc, "OMEMO: cannot encrypt")
               : rc;
}

xmsg_err xmsg_omemo_encrypt(xmsg_conn *c, xmsg_omemo_store *s, const char *own,
                            const char *to, const char *text, xmsg_xel **out)
{
    return xmsg_omemo_encrypt_cached(c, s, NULL, own, to, text, out);
}

xmsg_err xmsg_omemo_encrypt_cached(xmsg_conn *c, xmsg_omemo_store *s,
                                   xmsg_omemo_devcache *dc, const char *own,
                                   const char *to, const char *text,
                                   xmsg_xel **out)
{
    xmsg_xel *enc = xmsg_xel_new(XMSG_OMEMO_NS, "encrypted");
    xmsg_err rc =
        enc ? seal(c, s, dc, enc, own, &to, 1, 0, text)
            : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");

    if (rc) {
        xmsg_xel_free(enc);
        enc = NULL;
    }
    *out = enc;
    return rc;
}

xmsg_err xmsg_omemo_encrypt_list(xmsg_conn *c, xmsg_omemo_store *s,
                                 const char *own, const char *const *to,
                                 size_t nto, const char *text, xmsg_xel **out)
{
    xmsg_xel *enc = xmsg_xel_new(XMSG_OMEMO_NS, "encrypted");
    xmsg_err rc =
        enc ? seal(c, s, NULL, enc, own, to, nto, 1, text)
            : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");

    if (rc) {
        xmsg_xel_free(enc);
        enc = NULL;
    }
    *out = enc;
    return rc;
}

char *xmsg_omemo_payload_xml(const xmsg_xel *encrypted)
{
    xmsg_xel *eme = xmsg_xel_new("urn:xmpp:eme:0", "encryption");
    xmsg_xel *hint = xmsg_xel_new("urn:xmpp:hints", "store");
    xmsg_buf b = {0};
    int ok = eme && hint &&
             !xmsg_xel_set_attr(eme, "namespace", XMSG_OMEMO_NS) &&
             !xmsg_xel_set_attr(eme, "name", "OMEMO") &&
             !xmsg_xel_write(encrypted, NULL, &b) &&
             !xmsg_xel_write(eme, NULL, &b) && !xmsg_xel_write(hint, NULL, &b);

    xmsg_xel_free(eme);
    xmsg_xel_free(hint);
    if (!ok) {
        xmsg_buf_free(&b);
        return NULL;
    }
    return b.d;
}

xmsg_err xmsg_omemo_save_payload(xmsg_omemo_store *s, xmsg_status *st,
                                 const xmsg_xel *encrypted, char **xml)
{
    xmsg_err rc = xmsg_omemo_store_save(s, st);

    *xml = rc ? NULL : xmsg_omemo_payload_xml(encrypted);
    if (!rc && !*xml)
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    return rc;
}
