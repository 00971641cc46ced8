/* files.c - the files a message carries (uploaded when it is sent), in
 * the typed API and in JSON ("files"), and the uploads a status reports. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/internal.h"

#define CONTENT_TYPE_MAX 255

/* A token character of RFC 9110 (5.6.2). */
static int tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Parameters after the type: printable ASCII, no CR or LF. */
static int params_valid(const char *p)
{
    for (; *p; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return 0;
    }
    return 1;
}

int xmsg_content_type_valid(const char *type)
{
    const char *p = type;
    size_t slash = 0, sub = 0;

    if (!type || strlen(type) > CONTENT_TYPE_MAX || !tchar(*p))
        return 0;
    while (tchar(*p))
        p++;
    if (*p++ != '/')
        return 0;
    slash = 1;
    while (tchar(*p)) {
        p++;
        sub++;
    }
    if (*p && *p != ';')
        return 0;
    return slash && sub && params_valid(p);
}

xmsg_err xmsg_message_add_file(xmsg_message *m, const char *path,
                               const char *content_type, xmsg_status *st)
{
    if (!m)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "message: no handle");
    if (!path || !*path)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files: a file's path is empty");
    if (!xmsg_text_valid(path, strlen(path)))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files: a path is not valid UTF-8");
    if (content_type && !xmsg_content_type_valid(content_type))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files: content type '%.64s' is not "
                                "type/subtype",
                                content_type);
    if (m->files.n >= XMSG_MESSAGE_FILES_MAX)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files: more than %d files",
                                XMSG_MESSAGE_FILES_MAX);
    if (xmsg_strvec_push(&m->files, path))
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    if (xmsg_strvec_push(&m->ftypes, content_type ? content_type : "")) {
        free(m->files.v[--m->files.n]);
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    }
    return XMSG_OK;
}

size_t xmsg_message_file_count(const xmsg_message *m)
{
    return m ? m->files.n : 0;
}

const char *xmsg_message_file(const xmsg_message *m, size_t i,
                              const char **content_type)
{
    if (content_type)
        *content_type = NULL;
    if (!m || i >= m->files.n)
        return NULL;
    if (content_type && *m->ftypes.v[i])
        *content_type = m->ftypes.v[i];
    return m->files.v[i];
}

/* A JSON string's text, or NULL when v is no string or holds a NUL. */
static const char *string_of(const json_t *v)
{
    const char *s = json_string_value(v);

    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* One element: "PATH" or {"path": "PATH", "contentType": "TYPE"}. */
static xmsg_err file_from_json(xmsg_message *m, size_t i, const json_t *v,
                               xmsg_status *st)
{
    const char *key, *path = NULL, *type = NULL;
    json_t *f;

    if (json_is_string(v))
        path = string_of(v);
    else if (!json_is_object(v))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files[%zu]: must be a path (a "
                                "string) or {\"path\", \"contentType\"}",
                                i);
    json_object_foreach((json_t *)v, key, f)
    {
        if (strcmp(key, "path") && strcmp(key, "contentType"))
            return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                    "message.files[%zu].%.64s: unknown (path "
                                    "and contentType are known)",
                                    i, key);
        if (!string_of(f))
            return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                    "message.files[%zu].%s: must be a string",
                                    i, key);
        *(strcmp(key, "path") ? &type : &path) = string_of(f);
    }
    if (!path)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files[%zu]: no path (a non-empty "
                                "string)",
                                i);
    return xmsg_message_add_file(m, path, type, st);
}

xmsg_err xmsg_message_files_from_json(xmsg_message *m, const json_t *v,
                                      xmsg_status *st)
{
    const size_t before = m->files.n;
    size_t i;
    xmsg_err rc = XMSG_OK;

    if (!json_is_array(v) || json_array_size(v) == 0)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.files: must be a non-empty array of "
                                "paths");
    for (i = 0; i < json_array_size(v) && !rc; i++)
        rc = file_from_json(m, i, json_array_get(v, i), st);
    /* All or none. */
    while (rc && m->files.n > before) {
        free(m->files.v[--m->files.n]);
        free(m->ftypes.v[--m->ftypes.n]);
    }
    return rc;
}

json_t *xmsg_message_files_to_jobj(const xmsg_message *m)
{
    json_t *a = json_array(), *f;
    size_t i;

    for (i = 0; a && i < m->files.n; i++) {
        f = *m->ftypes.v[i] ? json_pack("{s:s, s:s}", "path", m->files.v[i],
                                        "contentType", m->ftypes.v[i])
                            : json_string(m->files.v[i]);
        if (json_array_append_new(a, f)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int xmsg_message_set_oob(xmsg_message *m, const char *url)
{
    char *copy = url ? xmsg_strdup(url) : NULL;

    if (url && !copy)
        return -1;
    free(m->oob);
    m->oob = copy;
    return 0;
}

int xmsg_message_files_copy(xmsg_message *dst, const xmsg_message *src)
{
    size_t i;

    for (i = 0; i < src->files.n; i++) {
        if (xmsg_strvec_push(&dst->files, src->files.v[i]) ||
            xmsg_strvec_push(&dst->ftypes, src->ftypes.v[i]))
            return -1;
    }
    return xmsg_message_set_oob(dst, src->oob);
}

/* ---- the status ---- */

int xmsg_status_add_file(xmsg_status *st, const char *path, const char *url,
                         int64_t size)
{
    json_t *f;

    if (!st->files)
        st->files = json_array();
    f = st->files ? json_pack("{s:s, s:s, s:I}", "path", path, "url", url,
                              "size", (json_int_t)size)
                  : NULL;
    return json_array_append_new(st->files, f) ? -1 : 0;
}

size_t xmsg_status_file_count(const xmsg_status *st)
{
    return st && st->files ? json_array_size(st->files) : 0;
}

const char *xmsg_status_file(const xmsg_status *st, size_t i, const char **url,
                             int64_t *size)
{
    const json_t *f;

    if (url)
        *url = NULL;
    if (size)
        *size = 0;
    if (i >= xmsg_status_file_count(st))
        return NULL;
    f = json_array_get(st->files, i);
    if (url)
        *url = json_string_value(json_object_get(f, "url"));
    if (size)
        *size = (int64_t)json_integer_value(json_object_get(f, "size"));
    return json_string_value(json_object_get(f, "path"));
}
