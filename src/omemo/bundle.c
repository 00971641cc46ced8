/* bundle.c - see omemo.h: the device list and the bundle, built from the
 * store and parsed from a peer's PEP items (legacy OMEMO: public keys
 * with their 0x05 type byte, in base64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "omemo/store.h"

xmsg_xel *xmsg_omemo_devicelist_build(const uint32_t *ids, size_t n)
{
    xmsg_xel *list = xmsg_xel_new(XMSG_OMEMO_NS, "list"), *d;
    char num[16];
    size_t i;

    for (i = 0; list && i < n; i++) {
        snprintf(num, sizeof(num), "%u", (unsigned)ids[i]);
        d = xmsg_xel_add_new(list, NULL, "device");
        if (!d || xmsg_xel_set_attr(d, "id", num)) {
            xmsg_xel_free(list);
            return NULL;
        }
    }
    return list;
}

/* A device id or prekey id: decimal, 1 .. 2^31 - 1; else 0. */
static uint32_t parse_id(const char *s)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return 0;
    v = strtoul(s, &end, 10);
    return *end || v == 0 || v > 0x7ffffffful ? 0 : (uint32_t)v;
}

static int has_id(const uint32_t *ids, size_t n, uint32_t id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (ids[i] == id)
            return 1;
    }
    return 0;
}

int xmsg_omemo_devicelist_parse(const xmsg_xel *list, uint32_t **ids, size_t *n)
{
    const xmsg_xel *d;
    uint32_t *v = NULL, *grown, id;
    size_t cap = 0;

    *ids = NULL;
    *n = 0;
    for (d = xmsg_xel_child(list, XMSG_OMEMO_NS, "device"); d;
         d = xmsg_xel_next_el(d, XMSG_OMEMO_NS, "device")) {
        id = parse_id(xmsg_xel_attr(d, "id"));
        if (!id || has_id(v, *n, id))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            grown = realloc(v, cap * sizeof(*v));
            if (!grown) {
                free(v);
                *n = 0;
                return -1;
            }
            v = grown;
        }
        v[(*n)++] = id;
    }
    *ids = v;
    return 0;
}

/* <name [attr=id]>base64(b)</name> under parent; b is freed. */
static int add_b64(xmsg_xel *parent, const char *name, const char *attr,
                   uint32_t id, signal_buffer *b)
{
    xmsg_xel *el = b ? xmsg_xel_add_new(parent, NULL, name) : NULL;
    char *text =
        el ? xmsg_base64(signal_buffer_data(b), signal_buffer_len(b)) : NULL;
    char num[16];
    int rc = -1;

    snprintf(num, sizeof(num), "%u", (unsigned)id);
    if (text && (!attr || xmsg_xel_set_attr(el, attr, num) == 0) &&
        xmsg_xel_add_text(el, text, strlen(text)) == 0)
        rc = 0;
    free(text);
    signal_buffer_free(b);
    return rc;
}

static signal_buffer *public_of(const ec_key_pair *kp)
{
    signal_buffer *b = NULL;

    if (ec_public_key_serialize(&b, ec_key_pair_get_public(kp)))
        return NULL;
    return b;
}

static int add_signed_prekey(xmsg_xel *bundle, xmsg_omemo_store *s)
{
    const uint32_t id = (uint32_t)json_integer_value(
        json_object_get(s->root, "signedPreKeyId"));
    session_signed_pre_key *spk = NULL;
    int rc = -1;

    if (signal_protocol_signed_pre_key_load_key(s->sctx, &spk, id))
        return -1;
    if (add_b64(bundle, "signedPreKeyPublic", "signedPreKeyId", id,
                public_of(session_signed_pre_key_get_key_pair(spk))) == 0 &&
        add_b64(bundle, "signedPreKeySignature", NULL, 0,
                signal_buffer_create(
                    session_signed_pre_key_get_signature(spk),
                    session_signed_pre_key_get_signature_len(spk))) == 0)
        rc = 0;
    SIGNAL_UNREF(spk);
    return rc;
}

static int add_prekeys(xmsg_xel *bundle, xmsg_omemo_store *s)
{
    xmsg_xel *pks = xmsg_xel_add_new(bundle, NULL, "prekeys");
    json_t *v;
    const char *k;
    session_pre_key *pk;
    uint32_t id;
    int rc = pks ? 0 : -1;

    json_object_foreach(json_object_get(s->root, "preKeys"), k, v)
    {
        pk = NULL;
        id = parse_id(k);
        if (rc || !id)
            continue;
        rc = signal_protocol_pre_key_load_key(s->sctx, &pk, id) ||
             add_b64(pks, "preKeyPublic", "preKeyId", id,
                     public_of(session_pre_key_get_key_pair(pk)));
        SIGNAL_UNREF(pk);
    }
    return rc;
}

xmsg_xel *xmsg_omemo_bundle_build(xmsg_omemo_store *s)
{
    xmsg_xel *bundle = xmsg_xel_new(XMSG_OMEMO_NS, "bundle");

    if (!bundle || add_signed_prekey(bundle, s) ||
        add_b64(bundle, "identityKey", NULL, 0,
                xmsg_omemo_store_identity_public(s)) ||
        add_prekeys(bundle, s)) {
        xmsg_xel_free(bundle);
        return NULL;
    }
    return bundle;
}

/* The base64 text of el decoded (owned), or NULL. */
static signal_buffer *b64_of(const xmsg_xel *el)
{
    char *text = el ? xmsg_xel_text(el) : NULL;
    uint8_t *raw = NULL;
    size_t n = 0;
    signal_buffer *b = NULL;

    if (text && xmsg_omemo_b64_decode(text, &raw, &n) == 0)
        b = signal_buffer_create(raw, n);
    free(text);
    free(raw);
    return b;
}

static ec_public_key *key_of(const xmsg_xel *el, signal_context *ctx)
{
    signal_buffer *b = b64_of(el);
    ec_public_key *k = NULL;

    if (b && curve_decode_point(&k, signal_buffer_data(b), signal_buffer_len(b),
                                ctx) != 0)
        k = NULL;
    signal_buffer_free(b);
    return k;
}

/* One prekey of the bundle, at random; NULL if it has none. */
static const xmsg_xel *pick_prekey(const xmsg_xel *bundle)
{
    const xmsg_xel *pks = xmsg_xel_child(bundle, XMSG_OMEMO_NS, "prekeys");
    const xmsg_xel *pk, *chosen = NULL;
    uint32_t r;
    size_t n = 0;

    for (pk = xmsg_xel_child(pks, XMSG_OMEMO_NS, "preKeyPublic"); pk;
         pk = xmsg_xel_next_el(pk, XMSG_OMEMO_NS, "preKeyPublic")) {
        if (!parse_id(xmsg_xel_attr(pk, "preKeyId")))
            continue;
        /* reservoir sampling: each kept with probability 1/n */
        if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
            r = 0;
        if (r % ++n == 0)
            chosen = pk;
    }
    return chosen;
}

xmsg_err xmsg_omemo_bundle_parse(const xmsg_xel *bundle, uint32_t device_id,
                                 signal_context *ctx,
                                 session_pre_key_bundle **out, xmsg_status *st)
{
    const xmsg_xel *spk_el =
        xmsg_xel_child(bundle, XMSG_OMEMO_NS, "signedPreKeyPublic");
    const xmsg_xel *pk_el = pick_prekey(bundle);
    ec_public_key *spk = key_of(spk_el, ctx), *ik, *pk;
    signal_buffer *sig =
        b64_of(xmsg_xel_child(bundle, XMSG_OMEMO_NS, "signedPreKeySignature"));
    const uint32_t spk_id =
        spk_el ? parse_id(xmsg_xel_attr(spk_el, "signedPreKeyId")) : 0;
    xmsg_err rc = XMSG_OK;

    ik = key_of(xmsg_xel_child(bundle, XMSG_OMEMO_NS, "identityKey"), ctx);
    pk = key_of(pk_el, ctx);
    *out = NULL;
    if (!spk || !sig || !ik || !pk || !spk_id)
        rc = xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                              "OMEMO bundle of device %u: %s is missing or "
                              "malformed",
                              (unsigned)device_id,
                              !spk || !spk_id ? "the signed prekey"
                              : !sig          ? "the signature"
                              : !ik           ? "the identity key"
                                              : "a prekey");
    else if (session_pre_key_bundle_create(
                 out, 0, (int)device_id,
                 parse_id(xmsg_xel_attr(pk_el, "preKeyId")), pk, spk_id, spk,
                 signal_buffer_data(sig), signal_buffer_len(sig), ik) != 0)
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(ik);
    SIGNAL_UNREF(pk);
    signal_buffer_free(sig);
    return rc;
}
