/* api.c - the public OMEMO functions (include/xmsg_omemo.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/sessobj.h"
#include "features/upload.h"
#include "omemo/decrypt.h"
#include "omemo/encrypt.h"
#include "omemo/pep.h"
#include "omemo/room.h"
#include "omemo/seal.h"
#include "omemo/recv.h"
#include "xmsg_omemo.h"

/* Opens the store of params' account (locked up to the timeout). */
static xmsg_err open_store(const xmsg_params *p, xmsg_omemo_store **out,
                           xmsg_status *st)
{
    int valid = p && p->jid && xmsg_jid_is_account(p->jid);
    char *bare = valid ? xmsg_jid_bare_norm(p->jid) : NULL;
    char *path = bare ? xmsg_omemo_store_path(p, bare) : NULL;
    xmsg_err rc;

    *out = NULL;
    if (!bare || !path)
        rc = xmsg_status_fail(
            st, XMSG_ERR_INPUT, "OMEMO: %s",
            !bare ? "params jid: a JID of an account (user@domain) required"
                  : "no place for the store (set stateFile, "
                    "XDG_STATE_HOME or HOME)");
    else
        rc = xmsg_omemo_store_open(path, p->timeout * 1000L, out, st);
    free(bare);
    free(path);
    return rc;
}

xmsg_err xmsg_omemo_identity(const xmsg_params *p, uint32_t *device_id,
                             char **fingerprint, xmsg_status *st)
{
    xmsg_omemo_store *s = NULL;
    xmsg_err rc;

    if (fingerprint)
        *fingerprint = NULL;
    if (!device_id || !fingerprint)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO: device_id and fingerprint required");
    rc = open_store(p, &s, st);
    if (rc)
        return rc;
    *device_id = xmsg_omemo_store_device_id(s);
    *fingerprint = xmsg_omemo_store_fingerprint(s);
    xmsg_omemo_store_free(s);
    return *fingerprint
               ? XMSG_OK
               : xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
}

/* Publishes, then forgets that a publication was due. */
static xmsg_err published(xmsg_conn *c, xmsg_omemo_store *store)
{
    xmsg_err rc = xmsg_omemo_pep_publish(c, store);

    if (!rc && json_object_del(store->root, "publishNeeded") == 0) {
        store->dirty = 1;
        rc = xmsg_omemo_store_save(store, c->st);
    }
    return rc;
}

xmsg_err xmsg_omemo_publish(xmsg_session *s, xmsg_status *st)
{
    xmsg_omemo_store *store = NULL;
    xmsg_err rc;

    if (!s)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "OMEMO: no session");
    if (!xmsg_session_begin(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_session_alive(s);
    if (!rc)
        rc = open_store(s->p, &store, s->c.st);
    if (!rc && xmsg_omemo_store_replenish(store) < 0)
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL,
                              "OMEMO: cannot make prekeys");
    if (!rc)
        rc = xmsg_omemo_store_save(store, s->c.st);
    if (!rc)
        rc = published(&s->c, store);
    if (!rc)
        xmsg_conn_log(&s->c, XMSG_LOG_INFO,
                      "OMEMO: device %u published with %zu prekeys",
                      (unsigned)xmsg_omemo_store_device_id(store),
                      xmsg_omemo_store_prekey_count(store));
    xmsg_omemo_store_free(store);
    xmsg_session_end(s);
    return rc;
}

/* {"device": dev, "fingerprint": FP|null} from dev's bundle. */
static xmsg_err device_entry(xmsg_conn *c, const char *jid, uint32_t dev,
                             json_t *out)
{
    xmsg_xel *wrap = NULL;
    const xmsg_xel *bundle = NULL, *ik;
    char *text = NULL, *fp = NULL;
    uint8_t *key = NULL;
    size_t n = 0;
    xmsg_err rc = xmsg_omemo_pep_bundle(c, jid, dev, &wrap, &bundle);

    if (rc == XMSG_ERR_PROTOCOL) {
        xmsg_status_clear_error(c->st); /* told as a null fingerprint */
        rc = XMSG_OK;
    }
    ik = bundle ? xmsg_xel_child(bundle, XMSG_OMEMO_NS, "identityKey") : NULL;
    text = ik ? xmsg_xel_text(ik) : NULL;
    if (text && xmsg_omemo_b64_decode(text, &key, &n) == 0)
        fp = xmsg_omemo_fingerprint_of(key, n);
    if (!rc && json_array_append_new(out, json_pack("{s:I, s:s?}", "device",
                                                    (json_int_t)dev,
                                                    "fingerprint", fp)))
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    free(fp);
    free(key);
    free(text);
    xmsg_xel_free(wrap);
    return rc;
}

static xmsg_err list_devices(xmsg_conn *c, const char *jid, char **json)
{
    uint32_t *ids = NULL;
    size_t n = 0, i;
    json_t *arr = json_array();
    xmsg_err rc =
        arr ? xmsg_omemo_pep_devices(c, jid, &ids, &n) : XMSG_ERR_INTERNAL;

    for (i = 0; !rc && i < n; i++)
        rc = device_entry(c, jid, ids[i], arr);
    if (!rc) {
        *json = json_dumps(arr, JSON_COMPACT);
        if (!*json)
            rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    json_decref(arr);
    free(ids);
    return rc;
}

xmsg_err xmsg_omemo_devices(xmsg_session *s, const char *jid, char **json,
                            xmsg_status *st)
{
    xmsg_err rc;

    if (json)
        *json = NULL;
    if (!s || !json || !jid || !xmsg_jid_is_account(jid) || strchr(jid, '/'))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO: devices of '%.200s': a bare account "
                                "JID (user@domain) is required",
                                jid ? jid : "(null)");
    if (!xmsg_session_begin(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_session_alive(s);
    if (!rc)
        rc = list_devices(&s->c, jid, json);
    xmsg_session_end(s);
    return rc;
}

/* Publishes our device when our device list lacks it: a recipient's
 * client looks our device up there (and our bundle) to decrypt. */
static xmsg_err ensure_published(xmsg_conn *c, xmsg_omemo_store *store)
{
    const uint32_t dev = xmsg_omemo_store_device_id(store);
    uint32_t *ids = NULL;
    size_t n = 0, i;
    int listed = 0;
    xmsg_err rc = xmsg_omemo_pep_devices(c, NULL, &ids, &n);

    for (i = 0; i < n; i++)
        listed |= ids[i] == dev;
    free(ids);
    if (rc || (listed &&
               !json_is_true(json_object_get(store->root, "publishNeeded"))))
        return rc;
    xmsg_conn_log(c, XMSG_LOG_INFO, "OMEMO: device %u %s: publishing it",
                  (unsigned)dev,
                  listed ? "has new prekeys" : "not published yet");
    return published(c, store);
}

xmsg_err xmsg_omemo_send(xmsg_session *s, const xmsg_message *m,
                         xmsg_status *st)
{
    const char *kind = m ? xmsg_message_get(m, "kind") : NULL;

    if (!s || !m || !xmsg_message_get(m, "to") ||
        (!xmsg_message_get(m, "body") && !m->files.n) ||
        xmsg_message_get(m, "payload") ||
        (kind && strcmp(kind, "message") != 0))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO: a message with to and a body or "
                                "files (and no payload) is required");
    /* One way: the send path's sealer (seal.c), required this time. */
    return xmsg_omemo_seal_send(s, m, st);
}

xmsg_err xmsg_omemo_store_of(const xmsg_params *p, xmsg_omemo_store **out,
                             xmsg_status *st)
{
    return open_store(p, out, st);
}

xmsg_err xmsg_omemo_ensure_published(xmsg_conn *c, xmsg_omemo_store *store)
{
    return ensure_published(c, store);
}

/* Decrypts enc into copy's fields; why it cannot in decryptError. */
static int decrypt_into(const xmsg_params *p, xmsg_message *copy,
                        const xmsg_xel *enc, xmsg_status *st)
{
    char *sender = xmsg_jid_bare_norm(xmsg_message_get(copy, "from"));
    xmsg_omemo_store *s = NULL;
    xmsg_omemo_plain plain;
    int rc;

    if (open_store(p, &s, st) != XMSG_OK)
        rc = xmsg_message_put(copy, "encrypted", "omemo") ||
             xmsg_message_put(copy, "decryptError", xmsg_status_text(st));
    else
        rc = xmsg_omemo_recv_into(s, sender, enc, copy, &plain, st);
    free(sender);
    xmsg_omemo_store_free(s);
    return rc;
}

xmsg_message *xmsg_omemo_decrypt(const xmsg_params *p, const xmsg_message *m,
                                 xmsg_status *st)
{
    xmsg_xel *w = NULL;
    const xmsg_xel *enc = xmsg_omemo_recv_find(m, &w);
    xmsg_status *own = enc ? xmsg_status_new() : NULL;
    xmsg_message *copy = own ? xmsg_message_copy(m) : NULL;

    if (copy &&
        (decrypt_into(p, copy, enc, own) || xmsg_take_aesgcm_url(copy))) {
        xmsg_message_free(copy);
        copy = NULL;
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    }
    xmsg_status_free(own);
    xmsg_xel_free(w);
    return copy;
}

/* fp as clients show it (8 groups of 8 lowercase hex digits) from 64 hex
 * digits with or without spaces: 0, or -1. */
static int normal_fingerprint(const char *in, char out[72])
{
    size_t n = 0;
    char *o = out;

    for (; *in; in++) {
        if (*in == ' ' || *in == ':')
            continue;
        if (!strchr("0123456789abcdefABCDEF", *in) || n == 64)
            return -1;
        if (n && n % 8 == 0)
            *o++ = ' ';
        *o++ = (char)(*in >= 'A' && *in <= 'F' ? *in - 'A' + 'a' : *in);
        n++;
    }
    *o = '\0';
    return n == 64 ? 0 : -1;
}

/* Adds fp to jid's pins (once). 0, or -1 out of memory. */
static int pin(xmsg_omemo_store *s, const char *jid, const char *fp)
{
    json_t *trust = json_object_get(s->root, "trust");
    json_t *pins = json_object_get(trust, jid), *v;
    size_t i;

    if (!pins) {
        pins = json_array();
        if (!pins || json_object_set_new(trust, jid, pins))
            return -1;
    }
    json_array_foreach(pins, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), fp) == 0)
            return 0;
    }
    s->dirty = 1;
    return json_array_append_new(pins, json_string(fp)) ? -1 : 0;
}

/* Removes fp from jid's pins (the list goes with the last one). 1 when
 * it was pinned, else 0. */
static int unpin(xmsg_omemo_store *s, const char *jid, const char *fp)
{
    json_t *trust = json_object_get(s->root, "trust");
    json_t *pins = json_object_get(trust, jid), *v;
    size_t i;

    json_array_foreach(pins, i, v)
    {
        if (!json_is_string(v) || strcmp(json_string_value(v), fp) != 0)
            continue;
        json_array_remove(pins, i);
        if (json_array_size(pins) == 0)
            json_object_del(trust, jid);
        s->dirty = 1;
        return 1;
    }
    return 0;
}

/* Pins (add) or unpins fingerprint for jid in the account's store. */
static xmsg_err change_pin(const xmsg_params *p, const char *jid,
                           const char *fingerprint, int add, xmsg_status *st)
{
    char fp[72], *bare = NULL;
    xmsg_omemo_store *s = NULL;
    xmsg_err rc;

    if (!jid || !xmsg_jid_is_account(jid) || strchr(jid, '/'))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO: %s '%.200s': a bare account JID "
                                "(user@domain) is required",
                                add ? "trust" : "untrust",
                                jid ? jid : "(null)");
    if (!fingerprint || normal_fingerprint(fingerprint, fp))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO: a fingerprint is 64 hex digits (in "
                                "groups or not)");
    bare = xmsg_jid_bare_norm(jid);
    rc = bare ? open_store(p, &s, st)
              : xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    if (!rc && add && pin(s, bare, fp))
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    else if (!rc && !add && !unpin(s, bare, fp))
        rc = xmsg_status_fail(st, XMSG_ERR_INPUT,
                              "OMEMO: %s is not pinned for %s", fp, bare);
    if (!rc)
        rc = xmsg_omemo_store_save(s, st);
    xmsg_omemo_store_free(s);
    free(bare);
    return rc;
}

xmsg_err xmsg_omemo_trust(const xmsg_params *p, const char *jid,
                          const char *fingerprint, xmsg_status *st)
{
    return change_pin(p, jid, fingerprint, 1, st);
}

xmsg_err xmsg_omemo_untrust(const xmsg_params *p, const char *jid,
                            const char *fingerprint, xmsg_status *st)
{
    return change_pin(p, jid, fingerprint, 0, st);
}
