/* message.c - the message object: ordered name/value fields, checks and
 * JSON mapping. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/internal.h"

/* The types of each kind (RFC 6121 5.2.2, 4.7.1; RFC 6120 8.2.3); an
 * empty type is none (available presence). */
static const char *const message_types[] = {"chat",     "normal", "groupchat",
                                            "headline", "error",  NULL};
static const char *const presence_types[] = {
    "unavailable",  "subscribe", "subscribed", "unsubscribe",
    "unsubscribed", "probe",     "error",      NULL};
static const char *const iq_types[] = {"get", "set", "result", "error", NULL};

static int one_of(const char *const *set, const char *v)
{
    for (; *set; set++) {
        if (strcmp(*set, v) == 0)
            return 1;
    }
    return 0;
}

int xmsg_type_valid(const char *kind, const char *type)
{
    if (!kind || strcmp(kind, "message") == 0)
        return one_of(message_types, type);
    if (strcmp(kind, "presence") == 0)
        return one_of(presence_types, type);
    if (strcmp(kind, "iq") == 0)
        return one_of(iq_types, type);
    return 0;
}

xmsg_message *xmsg_message_new(void)
{
    return calloc(1, sizeof(xmsg_message));
}

void xmsg_message_free(xmsg_message *m)
{
    if (!m)
        return;
    xmsg_strvec_clear(&m->names);
    xmsg_strvec_clear(&m->values);
    xmsg_strvec_clear(&m->files);
    xmsg_strvec_clear(&m->ftypes);
    free(m->oob);
    free(m);
}

static long field_index(const xmsg_message *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->names.n; i++) {
        if (strcmp(m->names.v[i], name) == 0)
            return (long)i;
    }
    return -1;
}

static void field_remove(xmsg_message *m, size_t i)
{
    size_t tail = m->names.n - i - 1;

    free(m->names.v[i]);
    free(m->values.v[i]);
    memmove(&m->names.v[i], &m->names.v[i + 1], tail * sizeof(char *));
    memmove(&m->values.v[i], &m->values.v[i + 1], tail * sizeof(char *));
    m->names.n--;
    m->values.n--;
}

int xmsg_message_put(xmsg_message *m, const char *name, const char *value)
{
    long i = field_index(m, name);
    char *copy;

    if (i >= 0) {
        copy = xmsg_strdup(value);
        if (!copy)
            return -1;
        free(m->values.v[i]);
        m->values.v[i] = copy;
        return 0;
    }
    if (xmsg_strvec_push(&m->names, name))
        return -1;
    if (xmsg_strvec_push(&m->values, value)) {
        free(m->names.v[--m->names.n]);
        return -1;
    }
    return 0;
}

xmsg_message *xmsg_message_copy(const xmsg_message *m)
{
    xmsg_message *out = xmsg_message_new();
    size_t i;

    for (i = 0; out && i < m->names.n; i++) {
        if (xmsg_message_put(out, m->names.v[i], m->values.v[i])) {
            xmsg_message_free(out);
            return NULL;
        }
    }
    if (out && xmsg_message_files_copy(out, m)) {
        xmsg_message_free(out);
        return NULL;
    }
    return out;
}

static int is_known(const char *name)
{
    static const char *const known[] = {
        "body",     "to",       "type",    "ns",     "from",
        "xml:lang", "id",       "kind",    "thread", "show",
        "status",   "priority", "payload", "xml",    "subject"};
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(*known); i++) {
        if (strcmp(known[i], name) == 0)
            return 1;
    }
    return 0;
}

/* A type of some kind: which one is checked with the whole object. */
static int type_valid(const char *t)
{
    return one_of(message_types, t) || one_of(presence_types, t) ||
           one_of(iq_types, t);
}

static int kind_valid(const char *k)
{
    static const char *const kinds[] = {"message", "presence", "iq", "raw",
                                        NULL};

    return one_of(kinds, k);
}

static xmsg_err check_field(const char *name, const char *value,
                            xmsg_status *st)
{
    if (!is_known(name) && !xmsg_attr_name_valid(name))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.%s: not a valid XML attribute name",
                                name);
    if (strcmp(name, "files") == 0)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files: an array of paths "
                                "(xmsg_message_add_file), not a field");
    /* Received, "lang" could not be told from xml:lang. */
    if (strcmp(name, "lang") == 0 || strcmp(name, "stamp") == 0 ||
        strcmp(name, "archiveId") == 0)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.%s: reserved name (xml:lang and the "
                                "delay stamp use it)",
                                name);
    /* Received, these come from the OOB element and the download (a
     * peer's attribute of that name is never taken): sent, it would be
     * lost on the way to an xmsg. */
    if (strcmp(name, "url") == 0 || strcmp(name, "file") == 0 ||
        strcmp(name, "downloadError") == 0)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.%s: reserved name (received files "
                                "use it; send a file with files)",
                                name);
    /* Received, these say how an OMEMO message was decrypted (a peer's
     * attribute of that name is never taken). */
    if (strcmp(name, "encrypted") == 0 || strcmp(name, "senderDevice") == 0 ||
        strcmp(name, "fingerprint") == 0 || strcmp(name, "decryptError") == 0)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.%s: reserved name (received OMEMO "
                                "messages use it; send with omemo)",
                                name);
    if (!xmsg_text_valid(value, strlen(value)))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.%s: invalid UTF-8 or a character "
                                "XML forbids",
                                name);
    if ((!strcmp(name, "to") || !strcmp(name, "from")) &&
        !xmsg_jid_valid(value))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.%s: not a valid JID", name);
    if (!strcmp(name, "type") && !type_valid(value))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.type: must be chat, normal, "
                                "groupchat, headline or error (presence: "
                                "unavailable, subscribe, ...; iq: get, set, "
                                "result, error)");
    if (!strcmp(name, "kind") && !kind_valid(value))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.kind: must be message, presence, iq "
                                "or raw");
    if (!strcmp(name, "payload") && xmsg_xml_check(value, 0))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.payload: not well-formed XML "
                                "elements");
    if (!strcmp(name, "xml") && xmsg_xml_check(value, 1))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.xml: not one well-formed XML "
                                "element");
    return XMSG_OK;
}

xmsg_err xmsg_message_set(xmsg_message *m, const char *name, const char *value,
                          xmsg_status *st)
{
    long i;
    xmsg_err rc;

    if (!m || !name)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "message: no field name");
    if (!value) {
        i = field_index(m, name);
        if (i >= 0)
            field_remove(m, (size_t)i);
        return XMSG_OK;
    }
    rc = check_field(name, value, st);
    if (rc)
        return rc;
    if (xmsg_message_put(m, name, value))
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    return XMSG_OK;
}

const char *xmsg_message_get(const xmsg_message *m, const char *name)
{
    long i;

    if (!m || !name)
        return NULL;
    i = field_index(m, name);
    return i >= 0 ? m->values.v[i] : NULL;
}

size_t xmsg_message_field_count(const xmsg_message *m)
{
    return m ? m->names.n : 0;
}

const char *xmsg_message_field_name(const xmsg_message *m, size_t i)
{
    return (m && i < m->names.n) ? m->names.v[i] : NULL;
}

const char *xmsg_message_field_value(const xmsg_message *m, size_t i)
{
    return (m && i < m->values.n) ? m->values.v[i] : NULL;
}

xmsg_err xmsg_message_from_json(xmsg_message *m, const char *json,
                                xmsg_status *st)
{
    json_t *root, *v;
    const char *key;
    xmsg_err rc = XMSG_OK;

    if (!m)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "message: no handle");
    root = xmsg_json_parse_object(json, "message", st);
    if (!root)
        return XMSG_ERR_INPUT;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "files") == 0) {
            rc = xmsg_message_files_from_json(m, v, st);
            if (rc)
                break;
            continue;
        }
        if (!json_is_string(v)) {
            rc = xmsg_status_fail(st, XMSG_ERR_INPUT,
                                  "message.%s: must be a string", key);
            break;
        }
        rc = xmsg_message_set(m, key, json_string_value(v), st);
        if (rc)
            break;
    }
    json_decref(root);
    return rc;
}

json_t *xmsg_message_to_jobj(const xmsg_message *m)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; o && i < m->names.n; i++) {
        if (json_object_set_new(o, m->names.v[i],
                                json_string(m->values.v[i]))) {
            json_decref(o);
            return NULL;
        }
    }
    if (o && m->files.n &&
        json_object_set_new(o, "files", xmsg_message_files_to_jobj(m))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *xmsg_message_to_json(const xmsg_message *m)
{
    json_t *o;
    char *s;

    if (!m)
        return NULL;
    o = xmsg_message_to_jobj(m);
    if (!o)
        return NULL;
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
