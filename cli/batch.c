/* batch.c - xmsg send --batch: message objects in (JSON Lines on standard
 * input, or one JSON array), one result line out per input, in input
 * order, then the status line. Nothing here is held per input beyond the
 * library's window. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define OUT_FLUSH 65536

struct run {
    struct cli_input in;
    struct cli_rcpts *rcpts; /* several recipients: copies of defaults */
    xmsg_message *defaults;  /* message options: fields an input lacks */
    size_t *lines;           /* line of each input in flight (a FIFO) */
    size_t lhead, ln, lcap;
    char *out; /* result lines not yet written */
    size_t olen, ocap;
    int io_failed;
    struct cli_progress pr;
    xmsg_status *st; /* an I/O failure is recorded there as internal */
};

/* ---- output ---- */

static int out_put(struct run *r, const char *s, size_t n)
{
    char *nb;
    size_t ncap;

    if (r->olen + n > r->ocap) {
        ncap = (r->olen + n) * 2 > OUT_FLUSH ? (r->olen + n) * 2 : OUT_FLUSH;
        nb = realloc(r->out, ncap);
        if (!nb)
            return -1;
        r->out = nb;
        r->ocap = ncap;
    }
    memcpy(r->out + r->olen, s, n);
    r->olen += n;
    return 0;
}

static int out_str(struct run *r, const char *s)
{
    return out_put(r, s, strlen(s));
}

/* s as a JSON string (s is UTF-8: the library checked or sanitised it). */
static int out_json_string(struct run *r, const char *s)
{
    char esc[8];
    int rc = out_put(r, "\"", 1);

    for (; *s && !rc; s++) {
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\';
            esc[1] = *s;
            rc = out_put(r, esc, 2);
        } else if ((unsigned char)*s < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
            rc = out_put(r, esc, 6);
        } else {
            rc = out_put(r, s, 1);
        }
    }
    return rc || out_put(r, "\"", 1);
}

static int out_field(struct run *r, const char *name, const char *value)
{
    char key[32];

    if (!value)
        return 0;
    snprintf(key, sizeof(key), ",\"%s\":", name);
    return out_str(r, key) || out_json_string(r, value);
}

/* params omemo: "encrypted": "omemo", or false (sent in clear). */
static int out_encrypted(struct run *r, const char *value)
{
    if (!value)
        return 0;
    return strcmp(value, "omemo") == 0 ? out_field(r, "encrypted", value)
                                       : out_str(r, ",\"encrypted\":false");
}

static int out_flush(struct run *r)
{
    int rc = CLI_EXIT_OK;

    if (r->olen && !r->io_failed)
        rc = cli_write_stdout(r->out, r->olen);
    if (rc != CLI_EXIT_OK)
        r->io_failed = 1;
    r->olen = 0;
    return rc;
}

/* ---- the library's callbacks ---- */

static int push_line(struct run *r, size_t line)
{
    size_t *nl, i;

    if (r->ln == r->lcap) {
        nl = malloc((r->lcap ? r->lcap * 2 : 64) * sizeof(*nl));
        if (!nl)
            return -1;
        for (i = 0; i < r->ln; i++)
            nl[i] = r->lines[(r->lhead + i) % r->lcap];
        free(r->lines);
        r->lines = nl;
        r->lhead = 0;
        r->lcap = r->lcap ? r->lcap * 2 : 64;
    }
    r->lines[(r->lhead + r->ln++) % r->lcap] = line;
    return 0;
}

static size_t pop_line(struct run *r)
{
    size_t line = 0;

    if (r->ln) {
        line = r->lines[r->lhead];
        r->lhead = (r->lhead + 1) % r->lcap;
        r->ln--;
    }
    return line;
}

/* --file: the files of an input that has none. */
static xmsg_err add_files(const struct run *r, xmsg_message *m, xmsg_status *st)
{
    size_t i, n = xmsg_message_file_count(r->defaults);
    const char *path, *type, *kind = xmsg_message_get(m, "kind");
    xmsg_err rc = XMSG_OK;

    /* A presence, an iq or a raw stanza carries none. */
    if (xmsg_message_file_count(m) || (kind && strcmp(kind, "message")))
        return XMSG_OK;
    for (i = 0; i < n && !rc; i++) {
        path = xmsg_message_file(r->defaults, i, &type);
        rc = xmsg_message_add_file(m, path, type, st);
    }
    return rc;
}

/* Fields the input lacks come from the message options. */
static xmsg_err add_defaults(const struct run *r, xmsg_message *m,
                             xmsg_status *st)
{
    size_t i, n = xmsg_message_field_count(r->defaults);
    const char *name;
    xmsg_err rc = XMSG_OK;

    for (i = 0; i < n && !rc; i++) {
        name = xmsg_message_field_name(r->defaults, i);
        if (!xmsg_message_get(m, name))
            rc = xmsg_message_set(m, name,
                                  xmsg_message_field_value(r->defaults, i), st);
    }
    return rc ? rc : add_files(r, m, st);
}

static xmsg_next parse(struct run *r, const char *text, xmsg_message **m,
                       char *err, size_t errlen)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_err rc = XMSG_ERR_INTERNAL;

    *m = st ? xmsg_message_new() : NULL;
    if (*m) {
        rc = xmsg_message_from_json(*m, text, st);
        if (!rc)
            rc = add_defaults(r, *m, st);
    }
    if (rc) {
        snprintf(err, errlen, "%s",
                 st && xmsg_status_text(st) ? xmsg_status_text(st)
                                            : "out of memory");
        xmsg_message_free(*m);
        *m = NULL;
    }
    xmsg_status_free(st);
    return rc ? XMSG_NEXT_INVALID : XMSG_NEXT_MESSAGE;
}

static xmsg_next invalid(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static xmsg_next invalid(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return XMSG_NEXT_INVALID;
}

/* The next recipient's copy of the message. */
static xmsg_next next_copy(struct run *r, xmsg_message **m, char *err,
                           size_t errlen)
{
    const struct cli_rcpt *to;
    xmsg_status *st;
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (r->rcpts->next == r->rcpts->n)
        return XMSG_NEXT_END;
    to = &r->rcpts->v[r->rcpts->next++];
    st = xmsg_status_new();
    *m = st ? xmsg_message_new() : NULL;
    if (push_line(r, to->line) || !*m) {
        r->io_failed = 1;
        xmsg_message_free(*m);
        xmsg_status_free(st);
        *m = NULL;
        return XMSG_NEXT_END;
    }
    rc = xmsg_message_set(*m, "to", to->jid, st);
    if (!rc)
        rc = add_defaults(r, *m, st);
    if (rc) {
        snprintf(err, errlen, "%s",
                 xmsg_status_text(st) ? xmsg_status_text(st) : "out of memory");
        xmsg_message_free(*m);
        *m = NULL;
    }
    xmsg_status_free(st);
    return rc ? XMSG_NEXT_INVALID : XMSG_NEXT_MESSAGE;
}

static xmsg_next next(void *userdata, int may_block, xmsg_message **m,
                      char *err, size_t errlen)
{
    struct run *r = userdata;
    const char *text = NULL;
    enum cli_item it;

    if (r->rcpts) {
        xmsg_next n = next_copy(r, m, err, errlen);

        if (n != XMSG_NEXT_END)
            cli_progress_sent(&r->pr);
        return n;
    }
    /* Nothing is in flight: show the results so far before waiting. */
    if (may_block)
        out_flush(r);
    it = cli_input_next(&r->in, may_block, &text);
    if (it == CLI_ITEM_LATER)
        return XMSG_NEXT_LATER;
    if (it == CLI_ITEM_END || it == CLI_ITEM_ERROR) {
        r->io_failed |= it == CLI_ITEM_ERROR;
        return XMSG_NEXT_END;
    }
    if (push_line(r, r->in.lineno)) {
        r->io_failed = 1;
        return XMSG_NEXT_END;
    }
    cli_progress_sent(&r->pr);
    switch (it) {
    case CLI_ITEM_TEXT:
        return parse(r, text, m, err, errlen);
    case CLI_ITEM_TOO_LONG:
        return invalid(err, errlen, "input longer than %d bytes: skipped",
                       CLI_INPUT_MAX);
    case CLI_ITEM_BINARY:
        return invalid(err, errlen, "input with a NUL byte: skipped");
    default:
        return invalid(err, errlen,
                       "not a JSON array of message objects: malformed "
                       "at element %zu, the rest is not read",
                       r->in.lineno);
    }
}

static int done(void *userdata, size_t index, const xmsg_message *m,
                xmsg_err code, const char *text)
{
    struct run *r = userdata;
    const size_t line = pop_line(r);
    char head[96];
    int rc;

    cli_progress_confirmed(&r->pr);
    if (r->in.is_array || (r->rcpts && line == 0))
        snprintf(head, sizeof(head), "{\"index\":%zu", index);
    else
        snprintf(head, sizeof(head), "{\"index\":%zu,\"line\":%zu", index,
                 line);
    rc = out_str(r, head);
    if (!rc && m)
        rc = out_field(r, "id", xmsg_message_get(m, "id")) ||
             out_field(r, "to", xmsg_message_get(m, "to")) ||
             out_encrypted(r, xmsg_message_get(m, "encrypted"));
    if (!rc)
        rc = out_str(r, code ? ",\"delivered\":false,\"error\":{\"code\":"
                             : ",\"delivered\":true}\n");
    if (!rc && code)
        rc = out_json_string(r, xmsg_err_name(code)) ||
             out_str(r, ",\"text\":") ||
             out_json_string(r, text ? text : xmsg_strerror(code)) ||
             out_str(r, "}}\n");
    if (rc)
        r->io_failed = 1;
    if (r->olen >= OUT_FLUSH)
        out_flush(r);
    /* Output lost: stop taking input (the library settles what flies);
     * the stop is an internal failure, not the caller's cancellation. */
    if (r->io_failed)
        xmsg_status_set_error(r->st, XMSG_ERR_INTERNAL,
                              "cannot read the input or write the results");
    return r->io_failed;
}

int cli_send_batch(const struct cli_opts *o, const xmsg_params *p,
                   xmsg_status *st)
{
    struct run r;
    struct cli_rcpts rcpts;
    xmsg_err err;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(&rcpts, 0, sizeof(rcpts));
    r.in.fd = -1;
    r.st = st;
    r.defaults = xmsg_message_new();
    if (!r.defaults)
        return cli_oom();
    if (o->multi) {
        /* One message, whole (body from stdin too), copied to each. */
        r.rcpts = &rcpts;
        rc = cli_rcpts_load(o, &rcpts);
        if (rc == CLI_EXIT_OK)
            rc = cli_load_message(o, r.defaults, st);
    } else {
        rc = cli_load_defaults(o, r.defaults, st);
        if (rc == CLI_EXIT_OK)
            rc = cli_input_open(&r.in, o->message_file);
    }
    if (rc != CLI_EXIT_OK)
        goto out;
    cli_progress_init(&r.pr, o);
    r.pr.total = rcpts.n;
    r.pr.fd = r.in.file ? fileno(r.in.file) : r.in.fd;
    r.pr.size = o->multi ? -1 : cli_progress_file_size(r.pr.fd);
    err = xmsg_send_batch(p, next, done, &r, st);
    cli_progress_end(&r.pr);
    out_flush(&r);
    rc = r.io_failed ? CLI_EXIT_INTERNAL : cli_exit_code(err);
out:
    cli_rcpts_free(&rcpts);
    cli_input_close(&r.in);
    xmsg_message_free(r.defaults);
    free(r.lines);
    free(r.out);
    return rc;
}
