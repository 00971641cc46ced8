/* store_cb.c - see store.h: libomemo-c's session, prekey, signed prekey
 * and identity stores over the store's JSON (each change marks it dirty;
 * the caller saves). Trust: blind trust before verification; once a JID
 * has pinned fingerprints ("trust"), only those are trusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omemo/store.h"

json_t *xmsg_omemo_b64_json(const uint8_t *data, size_t len)
{
    char *b = xmsg_base64(data, len);
    json_t *v = b ? json_string(b) : NULL;

    if (b)
        xmsg_secure_zero(b, strlen(b));
    free(b);
    return v;
}

signal_buffer *xmsg_omemo_json_b64(const json_t *v)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    signal_buffer *b;

    if (!json_is_string(v) ||
        xmsg_omemo_b64_decode(json_string_value(v), &raw, &n))
        return NULL;
    b = signal_buffer_create(raw, n);
    xmsg_secure_zero(raw, n);
    free(raw);
    return b;
}

/* root[section][name] (created when make), borrowed; NULL if absent. */
static json_t *bucket(xmsg_omemo_store *s, const char *section,
                      const char *name, size_t name_len, int make)
{
    json_t *sec = json_object_get(s->root, section), *b;
    char *key = xmsg_strndup(name, name_len);

    b = key ? json_object_get(sec, key) : NULL;
    if (!b && key && make && json_object_set_new(sec, key, json_object()) == 0)
        b = json_object_get(sec, key);
    free(key);
    return json_is_object(b) ? b : NULL;
}

static void id_key(char *buf, size_t n, int64_t id)
{
    snprintf(buf, n, "%lld", (long long)id);
}

/* Loads obj[id] into *out: 1 found, 0 not, SG_ERR_NOMEM. */
static int load_id(json_t *obj, int64_t id, signal_buffer **out)
{
    char k[24];
    json_t *v;

    id_key(k, sizeof(k), id);
    v = json_object_get(obj, k);
    if (!v)
        return 0;
    *out = xmsg_omemo_json_b64(v);
    return *out ? 1 : SG_ERR_INVALID_PROTO_BUF;
}

static int store_id(xmsg_omemo_store *s, json_t *obj, int64_t id,
                    const uint8_t *data, size_t len)
{
    char k[24];

    id_key(k, sizeof(k), id);
    if (!obj || json_object_set_new(obj, k, xmsg_omemo_b64_json(data, len)))
        return SG_ERR_NOMEM;
    s->dirty = 1;
    return 0;
}

static int remove_id(xmsg_omemo_store *s, json_t *obj, int64_t id)
{
    char k[24];

    id_key(k, sizeof(k), id);
    if (obj && json_object_del(obj, k) == 0)
        s->dirty = 1;
    return 0;
}

static int contains_id(json_t *obj, int64_t id)
{
    char k[24];

    id_key(k, sizeof(k), id);
    return json_object_get(obj, k) != NULL;
}

/* ---- sessions ---- */

static int session_load(signal_buffer **record, signal_buffer **user,
                        const signal_protocol_address *a, void *ud)
{
    json_t *b = bucket(ud, "sessions", a->name, a->name_len, 0);

    (void)user;
    return b ? load_id(b, a->device_id, record) : 0;
}

static int session_devices(signal_int_list **out, const char *name,
                           size_t name_len, void *ud)
{
    json_t *b = bucket(ud, "sessions", name, name_len, 0), *v;
    signal_int_list *l = signal_int_list_alloc();
    const char *k;

    if (!l)
        return SG_ERR_NOMEM;
    json_object_foreach(b, k, v)
    {
        if (signal_int_list_push_back(l, atoi(k))) {
            signal_int_list_free(l);
            return SG_ERR_NOMEM;
        }
    }
    *out = l;
    return (int)signal_int_list_size(l);
}

static int session_store(const signal_protocol_address *a, uint8_t *record,
                         size_t len, uint8_t *user, size_t user_len, void *ud)
{
    (void)user;
    (void)user_len;
    return store_id(ud, bucket(ud, "sessions", a->name, a->name_len, 1),
                    a->device_id, record, len);
}

static int session_contains(const signal_protocol_address *a, void *ud)
{
    return contains_id(bucket(ud, "sessions", a->name, a->name_len, 0),
                       a->device_id);
}

static int session_delete(const signal_protocol_address *a, void *ud)
{
    return remove_id(ud, bucket(ud, "sessions", a->name, a->name_len, 0),
                     a->device_id);
}

static int session_delete_all(const char *name, size_t name_len, void *ud)
{
    json_t *b = bucket(ud, "sessions", name, name_len, 0);
    const int n = (int)json_object_size(b);

    if (n) {
        json_object_clear(b);
        ((xmsg_omemo_store *)ud)->dirty = 1;
    }
    return n;
}

/* ---- prekeys and signed prekeys ---- */

static json_t *section(void *ud, const char *name)
{
    return json_object_get(((xmsg_omemo_store *)ud)->root, name);
}

static int prekey_load(signal_buffer **record, uint32_t id, void *ud)
{
    int rc = load_id(section(ud, "preKeys"), id, record);
    return rc == 1 ? SG_SUCCESS : rc == 0 ? SG_ERR_INVALID_KEY_ID : rc;
}

static int prekey_store(uint32_t id, uint8_t *record, size_t len, void *ud)
{
    return store_id(ud, section(ud, "preKeys"), id, record, len);
}

static int prekey_contains(uint32_t id, void *ud)
{
    return contains_id(section(ud, "preKeys"), id);
}

static int prekey_remove(uint32_t id, void *ud)
{
    return remove_id(ud, section(ud, "preKeys"), id);
}

static int spk_load(signal_buffer **record, uint32_t id, void *ud)
{
    int rc = load_id(section(ud, "signedPreKeys"), id, record);
    return rc == 1 ? SG_SUCCESS : rc == 0 ? SG_ERR_INVALID_KEY_ID : rc;
}

static int spk_store(uint32_t id, uint8_t *record, size_t len, void *ud)
{
    return store_id(ud, section(ud, "signedPreKeys"), id, record, len);
}

static int spk_contains(uint32_t id, void *ud)
{
    return contains_id(section(ud, "signedPreKeys"), id);
}

static int spk_remove(uint32_t id, void *ud)
{
    return remove_id(ud, section(ud, "signedPreKeys"), id);
}

/* ---- identities ---- */

static int identity_pair(signal_buffer **pub, signal_buffer **priv, void *ud)
{
    json_t *id = section(ud, "identity");

    *pub = xmsg_omemo_json_b64(json_object_get(id, "public"));
    *priv = xmsg_omemo_json_b64(json_object_get(id, "private"));
    if (*pub && *priv)
        return 0;
    signal_buffer_free(*pub);
    signal_buffer_bzero_free(*priv);
    *pub = *priv = NULL;
    return SG_ERR_INVALID_KEY;
}

static int registration_id(void *ud, uint32_t *id)
{
    *id = (uint32_t)json_integer_value(section(ud, "registrationId"));
    return 0;
}

static int identity_save(const signal_protocol_address *a, uint8_t *key,
                         size_t len, void *ud)
{
    json_t *b = bucket(ud, "identities", a->name, a->name_len, 1);

    if (!key)
        return remove_id(ud, b, a->device_id);
    return store_id(ud, b, a->device_id, key, len);
}

/* Blind trust before verification: any key of a JID without pinned
 * fingerprints; once pinned, only those. */
static int identity_trusted(const signal_protocol_address *a, uint8_t *key,
                            size_t len, void *ud)
{
    json_t *pins = NULL, *v;
    char *fp, *name = xmsg_strndup(a->name, a->name_len);
    size_t i;
    int ok = 0;

    if (!name)
        return SG_ERR_NOMEM;
    pins = json_object_get(section(ud, "trust"), name);
    free(name);
    if (json_array_size(pins) == 0)
        return 1;
    fp = xmsg_omemo_fingerprint_of(key, len);
    json_array_foreach(pins, i, v)
    {
        if (fp && json_is_string(v) && strcmp(json_string_value(v), fp) == 0)
            ok = 1;
    }
    free(fp);
    return ok;
}

int xmsg_omemo_store_callbacks(xmsg_omemo_store *s)
{
    const signal_protocol_session_store sessions = {
        .load_session_func = session_load,
        .get_sub_device_sessions_func = session_devices,
        .store_session_func = session_store,
        .contains_session_func = session_contains,
        .delete_session_func = session_delete,
        .delete_all_sessions_func = session_delete_all,
        .user_data = s};
    const signal_protocol_pre_key_store prekeys = {
        .load_pre_key = prekey_load,
        .store_pre_key = prekey_store,
        .contains_pre_key = prekey_contains,
        .remove_pre_key = prekey_remove,
        .user_data = s};
    const signal_protocol_signed_pre_key_store spks = {
        .load_signed_pre_key = spk_load,
        .store_signed_pre_key = spk_store,
        .contains_signed_pre_key = spk_contains,
        .remove_signed_pre_key = spk_remove,
        .user_data = s};
    const signal_protocol_identity_key_store ids = {
        .get_identity_key_pair = identity_pair,
        .get_local_registration_id = registration_id,
        .save_identity = identity_save,
        .is_trusted_identity = identity_trusted,
        .user_data = s};

    return signal_protocol_store_context_set_session_store(s->sctx,
                                                           &sessions) ||
                   signal_protocol_store_context_set_pre_key_store(s->sctx,
                                                                   &prekeys) ||
                   signal_protocol_store_context_set_signed_pre_key_store(
                       s->sctx, &spks) ||
                   signal_protocol_store_context_set_identity_key_store(s->sctx,
                                                                        &ids)
               ? -1
               : 0;
}
