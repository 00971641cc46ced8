/* status.c - the result object of every call: error, log, messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "model/internal.h"

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
    json_decref(st->files);
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

void xmsg_status_clear_error(xmsg_status *st)
{
    free(st->text);
    st->text = NULL;
    st->code = XMSG_OK;
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

int xmsg_status_log_owned(xmsg_status *st, char *line)
{
    char **slot;

    if (!line)
        return -1;
    if (st->log.n < XMSG_LOG_HEAD + XMSG_LOG_TAIL)
        return xmsg_strvec_push_owned(&st->log, line);
    slot = &st->log.v[XMSG_LOG_HEAD + st->log_tail];
    free(*slot);
    *slot = line;
    st->log_tail = (st->log_tail + 1) % XMSG_LOG_TAIL;
    st->log_dropped++;
    return 0;
}

int xmsg_status_log(xmsg_status *st, const char *line)
{
    return xmsg_status_log_owned(st, xmsg_strdup(line));
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
    return st ? st->log.n + (st->log_dropped > 0) : 0;
}

const char *xmsg_status_log_line(const xmsg_status *st, size_t i)
{
    xmsg_status *w = (xmsg_status *)st; /* log_gap is a cache */

    if (!st || i >= xmsg_status_log_count(st))
        return NULL;
    if (!st->log_dropped || i < XMSG_LOG_HEAD)
        return st->log.v[i];
    if (i == XMSG_LOG_HEAD) {
        snprintf(w->log_gap, sizeof(w->log_gap),
                 "info xmsg: (%zu log lines left out)", st->log_dropped);
        return st->log_gap;
    }
    i -= XMSG_LOG_HEAD + 1;
    return st->log.v[XMSG_LOG_HEAD + (st->log_tail + i) % XMSG_LOG_TAIL];
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

static json_t *log_to_json(const xmsg_status *st)
{
    json_t *a = json_array();
    size_t i, n = xmsg_status_log_count(st);

    for (i = 0; a && i < n; i++) {
        if (json_array_append_new(a,
                                  json_string(xmsg_status_log_line(st, i)))) {
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
    rc |= json_object_set_new(o, "log", log_to_json(st));
    if (st->is_collect && st->keeps)
        rc |= json_object_set_new(o, "messages", messages_to_json(st));
    if (st->is_collect)
        rc |= json_object_set_new(o, "collected",
                                  json_integer((json_int_t)st->collected));
    if (st->is_send)
        rc |= json_object_set_new(o, "delivered", json_boolean(st->delivered));
    if (st->is_send && st->encrypted)
        rc |= json_object_set_new(o, "encrypted",
                                  st->encrypted > 0 ? json_string("omemo")
                                                    : json_false());
    if (st->files)
        rc |= json_object_set(o, "files", st->files);
    if (st->is_batch)
        rc |= json_object_set_new(
            o, "batch",
            json_pack("{s:I, s:I, s:I}", "inputs", (json_int_t)st->batch_inputs,
                      "delivered", (json_int_t)st->batch_delivered, "failed",
                      (json_int_t)st->batch_failed));
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

xmsg_err xmsg_status_set_error(xmsg_status *st, xmsg_err code, const char *text)
{
    if (code == XMSG_OK)
        return code;
    return xmsg_status_fail(st, code, "%s", text ? text : xmsg_strerror(code));
}
