/* store.c - see store.h: the store file, created once, loaded, saved. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <key_helper.h>

#include "features/state.h"
#include "omemo/store.h"

char *xmsg_omemo_store_path(const xmsg_params *p, const char *bare_jid)
{
    return xmsg_state_sibling_path(p, bare_jid, ".omemo.json");
}

/* Sets key of o to a new reference v (NULL v: out of memory). 0 or -1. */
static int put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

static int put_buf(json_t *o, const char *key, signal_buffer *b)
{
    int rc = b ? put(o, key,
                     xmsg_omemo_b64_json(signal_buffer_data(b),
                                         signal_buffer_len(b)))
               : -1;

    signal_buffer_bzero_free(b);
    return rc;
}

/* A random device id in 1 .. 2^31 - 1 (what clients accept). */
static uint32_t new_device_id(void)
{
    uint32_t id = 0;

    while (id == 0) {
        if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
            return 0;
        id &= 0x7fffffffu;
    }
    return id;
}

/* The identity key pair, its registration id and device id. */
static int create_identity(xmsg_omemo_store *s)
{
    ratchet_identity_key_pair *kp = NULL;
    signal_buffer *pub = NULL, *priv = NULL;
    json_t *id = json_object();
    uint32_t reg = 0, dev = new_device_id();
    int rc = -1;

    if (!id || !dev ||
        signal_protocol_key_helper_generate_identity_key_pair(&kp, s->ctx) ||
        signal_protocol_key_helper_generate_registration_id(&reg, 0, s->ctx))
        goto out;
    if (ec_public_key_serialize(&pub,
                                ratchet_identity_key_pair_get_public(kp)) ||
        ec_private_key_serialize(&priv,
                                 ratchet_identity_key_pair_get_private(kp)))
        goto out;
    rc = put_buf(id, "public", pub) | put_buf(id, "private", priv);
    pub = priv = NULL;
    rc |= put(s->root, "identity", json_incref(id)) |
          put(s->root, "deviceId", json_integer(dev)) |
          put(s->root, "registrationId", json_integer(reg));
out:
    signal_buffer_bzero_free(pub);
    signal_buffer_bzero_free(priv);
    json_decref(id);
    SIGNAL_UNREF(kp);
    return rc;
}

static ratchet_identity_key_pair *identity_pair(const xmsg_omemo_store *s)
{
    ratchet_identity_key_pair *kp = NULL;
    signal_protocol_identity_get_key_pair(s->sctx, &kp);
    return kp;
}

/* Signed prekey 1, signed by the identity (legacy OMEMO signs the key
 * serialised with its type byte). */
static int create_signed_prekey(xmsg_omemo_store *s)
{
    ratchet_identity_key_pair *kp = identity_pair(s);
    session_signed_pre_key *spk = NULL;
    uint64_t now = (uint64_t)time(NULL) * 1000;
    int rc = -1;

    if (kp &&
        signal_protocol_key_helper_generate_signed_pre_key(&spk, kp, 1, now,
                                                           s->ctx) == 0 &&
        signal_protocol_signed_pre_key_store_key(s->sctx, spk) == 0)
        rc = put(s->root, "signedPreKeyId", json_integer(1));
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(kp);
    return rc;
}

size_t xmsg_omemo_store_prekey_count(const xmsg_omemo_store *s)
{
    return json_object_size(json_object_get(s->root, "preKeys"));
}

int xmsg_omemo_store_replenish(xmsg_omemo_store *s)
{
    signal_protocol_key_helper_pre_key_list_node *head = NULL, *n;
    json_int_t next =
        json_integer_value(json_object_get(s->root, "nextPreKeyId"));
    const size_t have = xmsg_omemo_store_prekey_count(s);
    const unsigned int want = have >= XMSG_OMEMO_PREKEYS
                                  ? 0
                                  : (unsigned int)(XMSG_OMEMO_PREKEYS - have);
    int rc = 0;

    if (want == 0)
        return 0;
    if (next < 1 || next > 0x7fffffff - XMSG_OMEMO_PREKEYS)
        next = 1; /* ids wrap around (libsignal's medium) */
    if (signal_protocol_key_helper_generate_pre_keys(&head, (unsigned)next,
                                                     want, s->ctx))
        return -1;
    for (n = head; n && !rc; n = signal_protocol_key_helper_key_list_next(n))
        rc = signal_protocol_pre_key_store_key(
            s->sctx, signal_protocol_key_helper_key_list_element(n));
    signal_protocol_key_helper_key_list_free(head);
    if (rc || put(s->root, "nextPreKeyId", json_integer(next + want)))
        return -1;
    s->dirty = 1;
    return (int)want;
}

static json_t *empty_store(void)
{
    return json_pack("{s:i, s:{}, s:{}, s:i, s:{}, s:{}, s:{}}", "version", 1,
                     "signedPreKeys", "preKeys", "nextPreKeyId", 1, "sessions",
                     "identities", "trust");
}

static int create(xmsg_omemo_store *s)
{
    s->root = empty_store();
    if (!s->root || create_identity(s) || create_signed_prekey(s) ||
        xmsg_omemo_store_replenish(s) < 0)
        return -1;
    s->dirty = 1;
    return 0;
}

static int is_id(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 1 &&
           json_integer_value(v) <= 0x7fffffff;
}

/* 1 if root has the form of a store (store.h). */
static int well_formed(const json_t *root)
{
    const json_t *id = json_object_get(root, "identity");
    static const char *const objects[] = {"signedPreKeys", "preKeys",
                                          "sessions", "identities", "trust"};
    size_t i;

    if (!json_is_object(root) ||
        json_integer_value(json_object_get(root, "version")) != 1 ||
        !is_id(json_object_get(root, "deviceId")) ||
        !json_is_integer(json_object_get(root, "registrationId")) ||
        !is_id(json_object_get(root, "signedPreKeyId")) ||
        !json_is_integer(json_object_get(root, "nextPreKeyId")) ||
        !json_is_string(json_object_get(id, "public")) ||
        !json_is_string(json_object_get(id, "private")))
        return 0;
    for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        if (!json_is_object(json_object_get(root, objects[i])))
            return 0;
    }
    return 1;
}

static xmsg_err load(xmsg_omemo_store *s, xmsg_status *st)
{
    json_error_t jerr;
    signal_buffer *pub;

    s->root = json_load_file(s->path, JSON_REJECT_DUPLICATES, &jerr);
    if (!s->root && access(s->path, F_OK) != 0 && errno == ENOENT)
        return create(s) ? xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                            "OMEMO store %s: cannot "
                                            "create the identity",
                                            s->path)
                         : XMSG_OK;
    if (!s->root || !well_formed(s->root))
        return xmsg_status_fail(
            st, XMSG_ERR_INPUT,
            "OMEMO store %s is not readable (%s); "
            "it is left as it is: restore it, or "
            "move it away to start a new identity",
            s->path, s->root ? "not an xmsg OMEMO store" : jerr.text);
    pub = xmsg_omemo_store_identity_public(s);
    if (!pub)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO store %s: the identity key is "
                                "malformed (left as it is)",
                                s->path);
    signal_buffer_free(pub);
    return XMSG_OK;
}

/* Removes the temp files a killed writer left (<path>.tmp.XXXXXX: they
 * hold private keys). Called under the lock: no writer is running. */
static void remove_leftovers(const char *path)
{
    char *dir = xmsg_strdup(path), *slash, full[4096];
    const char *base;
    struct dirent *e;
    size_t n;
    DIR *d;

    slash = dir ? strrchr(dir, '/') : NULL;
    if (!slash) {
        free(dir);
        return;
    }
    *slash = '\0';
    base = slash + 1;
    n = strlen(base);
    d = opendir(*dir ? dir : "/");
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, n) == 0 &&
            strncmp(e->d_name + n, ".tmp.", 5) == 0 &&
            (size_t)snprintf(full, sizeof(full), "%s/%s", dir, e->d_name) <
                sizeof(full))
            unlink(full);
    }
    if (d)
        closedir(d);
    free(dir);
}

xmsg_err xmsg_omemo_store_open(const char *path, long wait_ms,
                               xmsg_omemo_store **out, xmsg_status *st)
{
    xmsg_omemo_store *s = calloc(1, sizeof(*s));
    xmsg_err rc;

    *out = NULL;
    if (!s)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    s->lock_fd = -1;
    s->path = xmsg_strdup(path);
    s->ctx = xmsg_omemo_context_new();
    if (!s->path || !s->ctx ||
        signal_protocol_store_context_create(&s->sctx, s->ctx) ||
        xmsg_omemo_store_callbacks(s)) {
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = xmsg_state_lock(path, wait_ms, &s->lock_fd, st);
    if (!rc)
        remove_leftovers(path);
    if (!rc)
        rc = load(s, st);
    if (!rc)
        rc = xmsg_omemo_store_save(s, st);
out:
    if (rc)
        xmsg_omemo_store_free(s);
    else
        *out = s;
    return rc;
}

xmsg_err xmsg_omemo_store_save(xmsg_omemo_store *s, xmsg_status *st)
{
    char *text;
    xmsg_err rc;

    if (!s->dirty)
        return XMSG_OK;
    text = json_dumps(s->root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    rc = xmsg_state_write_file(s->path, text, st);
    xmsg_secure_zero(text, strlen(text));
    free(text);
    if (!rc)
        s->dirty = 0;
    return rc;
}

void xmsg_omemo_store_free(xmsg_omemo_store *s)
{
    if (!s)
        return;
    if (s->sctx)
        signal_protocol_store_context_destroy(s->sctx);
    if (s->ctx)
        signal_context_destroy(s->ctx);
    xmsg_state_unlock(&s->lock_fd);
    json_decref(s->root);
    free(s->path);
    free(s);
}

uint32_t xmsg_omemo_store_device_id(const xmsg_omemo_store *s)
{
    return (uint32_t)json_integer_value(json_object_get(s->root, "deviceId"));
}

signal_buffer *xmsg_omemo_store_identity_public(const xmsg_omemo_store *s)
{
    signal_buffer *b = xmsg_omemo_json_b64(
        json_object_get(json_object_get(s->root, "identity"), "public"));

    if (b && (signal_buffer_len(b) != 33 || signal_buffer_data(b)[0] != 5)) {
        signal_buffer_free(b);
        return NULL;
    }
    return b;
}

char *xmsg_omemo_store_fingerprint(const xmsg_omemo_store *s)
{
    signal_buffer *b = xmsg_omemo_store_identity_public(s);
    char *fp = b ? xmsg_omemo_fingerprint_of(signal_buffer_data(b),
                                             signal_buffer_len(b))
                 : NULL;

    signal_buffer_free(b);
    return fp;
}
