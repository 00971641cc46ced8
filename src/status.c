/* status.c - the result object of every call: error, log, messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "internal.h"

xmsg_status *xmsg_status_new(void)
{
    return calloc(1, sizeof(xmsg_status));
}

void xmsg_status_free(xmsg_status *st)
{
    size_t i;

    if (!st)
        return;
    for (i = 0; i < st->n_messages; i++)
        xmsg_message_free(st->messages[i]);
    free(st->messages);
    xmsg_strvec_clear(&st->log);
    free(st->text);
    free(st);
}

xmsg_err xmsg_status_fail(xmsg_status *st, xmsg_err code, const char *fmt, ...)
{
    char buf[XMSG_ERRTEXT_MAX];
    va_list ap;

    if (!st || st->code != XMSG_OK)
        return code;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xmsg_utf8_sanitize(buf);
    st->code = code;
    st->text = xmsg_strdup(buf);
    return code;
}

xmsg_err xmsg_status_recode(xmsg_status *st, xmsg_err code, const char *what)
{
    char buf[XMSG_ERRTEXT_MAX];

    snprintf(buf, sizeof(buf), "%s (%s: %s)", what, xmsg_err_name(st->code),
             st->text ? st->text : xmsg_strerror(st->code));
    xmsg_utf8_sanitize(buf);
    free(st->text);
    st->text = xmsg_strdup(buf);
    st->code = code;
    return code;
}

int xmsg_status_log(xmsg_status *st, const char *line)
{
    return xmsg_strvec_push(&st->log, line);
}

int xmsg_status_add_message(xmsg_status *st, xmsg_message *m)
{
    xmsg_message **nv;
    size_t ncap;

    if (st->n_messages == st->cap_messages) {
        ncap = st->cap_messages ? st->cap_messages * 2 : 16;
        nv = realloc(st->messages, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        st->messages = nv;
        st->cap_messages = ncap;
    }
    st->messages[st->n_messages++] = m;
    return 0;
}

xmsg_err xmsg_status_code(const xmsg_status *st)
{
    return st ? st->code : XMSG_ERR_INTERNAL;
}

const char *xmsg_status_text(const xmsg_status *st)
{
    if (!st || st->code == XMSG_OK)
        return NULL;
    return st->text ? st->text : xmsg_strerror(st->code);
}

size_t xmsg_status_log_count(const xmsg_status *st)
{
    return st ? st->log.n : 0;
}

const char *xmsg_status_log_line(const xmsg_status *st, size_t i)
{
    return (st && i < st->log.n) ? st->log.v[i] : NULL;
}

int xmsg_status_delivered(const xmsg_status *st)
{
    return st ? st->delivered : 0;
}

size_t xmsg_status_message_count(const xmsg_status *st)
{
    return st ? st->n_messages : 0;
}

const xmsg_message *xmsg_status_message(const xmsg_status *st, size_t i)
{
    return (st && i < st->n_messages) ? st->messages[i] : NULL;
}

static json_t *strings_to_json(const xmsg_strvec *sv)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < sv->n; i++) {
        if (json_array_append_new(a, json_string(sv->v[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *messages_to_json(const xmsg_status *st)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < st->n_messages; i++) {
        if (json_array_append_new(a, xmsg_message_to_jobj(st->messages[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *error_to_json(const xmsg_status *st)
{
    return json_pack("{s:s, s:s}", "code", xmsg_err_name(st->code), "text",
                     xmsg_status_text(st));
}

/* New reference to the status as a JSON object, or NULL (memory). */
json_t *xmsg_status_to_jobj(const xmsg_status *st)
{
    json_t *o = json_object();
    int rc = 0;

    if (!o)
        return NULL;
    rc |= json_object_set_new(o, "log", strings_to_json(&st->log));
    if (st->is_collect && st->keeps)
        rc |= json_object_set_new(o, "messages", messages_to_json(st));
    if (st->is_collect)
        rc |= json_object_set_new(o, "collected",
                                  json_integer((json_int_t)st->collected));
    if (st->is_send)
        rc |= json_object_set_new(o, "delivered", json_boolean(st->delivered));
    if (st->code != XMSG_OK)
        rc |= json_object_set_new(o, "error", error_to_json(st));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *xmsg_status_to_json(const xmsg_status *st)
{
    json_t *o;
    char *s;

    if (!st)
        return NULL;
    o = xmsg_status_to_jobj(st);
    if (!o)
        return NULL;
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
