/* batch.c - pipelined sending over one session.
 *
 * Messages go out without waiting for each other; at most params' window
 * are in flight. Every window/4 messages the server is asked how far it
 * got (XEP-0198 <r/>, or a ping answered in order without it). An answer
 * acknowledges the messages before it; a message is final once a later
 * request, sent after that acknowledgement arrived, was answered too: a
 * rejection (<message type='error'/>) the server routes apart from its
 * acknowledgement (ejabberd does) is in by then. Results are handed over
 * in input order as the head of the window becomes final. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/batch.h"
#include "features/upload.h"

struct entry {
    size_t index;       /* input position */
    xmsg_message *m;    /* as sent (owned); NULL for an invalid input */
    char *text;         /* failure text (owned) */
    xmsg_err code;      /* XMSG_OK while nothing went wrong */
    unsigned long seq;  /* stanzas sent up to and including it */
    uint64_t qpos;      /* bytes queued before it (+1; 0: not queued) */
    unsigned ack_epoch; /* answer that acknowledged it; 0: not yet */
    int final;          /* its result is known */
    int more;           /* a message of its input's files follows */
};

struct marker {
    unsigned long seq; /* stanzas sent before it */
    unsigned epoch;    /* answers received when it was sent */
    unsigned ping;     /* the ping's number; 0 for an <r/> */
};

struct batch {
    xmsg_conn *c;
    struct entry *ring;
    size_t cap, head, n;
    struct marker *marks;
    size_t mcap, mhead, mn;
    size_t index, step, since_marker;
    xmsg_buf text;        /* a message serialised */
    size_t window;        /* messages awaiting acknowledgement, at most */
    size_t inflight;      /* messages awaiting acknowledgement */
    unsigned epoch;       /* answers received */
    unsigned final_epoch; /* acknowledged at or before it: final */
    const struct xmsg_batch_io *io;
    xmsg_err worst;
    int stopped; /* done() asked to stop */
    size_t delivered, failed;
    xmsg_uploads uploads; /* the files of the inputs, uploaded once */
    xmsg_err carry;       /* the worst failure of an input's messages so */
    char *carry_text;     /* far (one per file), reported with its last */
};

/* "message", "presence", "iq" or "stanza" (raw), for the log. */
static const char *kind_of(const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");

    if (!kind)
        return "message";
    return strcmp(kind, "raw") == 0 ? "stanza" : kind;
}

static struct entry *at(struct batch *b, size_t i)
{
    return &b->ring[(b->head + i) % b->cap];
}

static void entry_fail(struct entry *e, xmsg_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void entry_fail(struct entry *e, xmsg_err code, const char *fmt, ...)
{
    char buf[XMSG_ERRTEXT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(e->text);
    e->code = code;
    e->text = xmsg_strdup(buf);
    e->final = 1;
}

/* ---- the caller's callbacks: time spent there is not the server's ---- */

static xmsg_next call_next(struct batch *b, int may_block, xmsg_message **m,
                           char *err, size_t errlen)
{
    const xmsg_conn_paused t = xmsg_conn_pause(b->c);
    const xmsg_next r = b->io->next(b->io->userdata, may_block, m, err, errlen);

    xmsg_conn_resume(b->c, t);
    return r;
}

static int call_done(struct batch *b, const struct entry *e)
{
    const xmsg_conn_paused t = xmsg_conn_pause(b->c);
    const int stop =
        b->io->done(b->io->userdata, e->index, e->m, e->code, e->text);

    xmsg_conn_resume(b->c, t);
    return stop;
}

/* ---- writing ---- */

/* One turn of the loop: what was queued is written, answers read. */
static void pump(struct batch *b, unsigned max_ms)
{
    xmsg_conn_run(b->c, max_ms);
}

/* ---- confirmation requests ---- */

static void send_marker(struct batch *b)
{
    xmsg_conn *c = b->c;
    struct marker *mk;

    if (b->mn == b->mcap)
        return; /* enough requests out; a later one follows */
    mk = &b->marks[(b->mhead + b->mn) % b->mcap];
    mk->seq = xmsg_conn_sent(c);
    mk->epoch = b->epoch;
    mk->ping = 0;
    if (xmsg_conn_sm_on(c)) {
        xmsg_conn_request_ack(c);
    } else {
        if (xmsg_conn_ping_n(c, &mk->ping))
            return;
        mk->seq = xmsg_conn_sent(c) - 1; /* the ping itself is counted */
    }
    b->mn++;
    b->since_marker = 0;
}

static void marker_pop(struct batch *b)
{
    struct marker *mk = &b->marks[b->mhead];

    if (mk->epoch > b->final_epoch)
        b->final_epoch = mk->epoch;
    b->mhead = (b->mhead + 1) % b->mcap;
    b->mn--;
}

/* The server processed every stanza up to h (of c->out). */
static void answered(struct batch *b, unsigned long h)
{
    size_t i;
    struct entry *e;

    b->epoch++;
    for (i = 0; i < b->n; i++) {
        e = at(b, i);
        if (e->m && !e->final && !e->ack_epoch && e->seq <= h) {
            e->ack_epoch = b->epoch;
            b->inflight--;
        }
    }
    for (i = 0; i < b->n; i++) {
        e = at(b, i);
        if (e->ack_epoch && e->ack_epoch <= b->final_epoch)
            e->final = 1;
    }
    if (!b->io->keep_deadline)
        xmsg_conn_extend(b->c);
}

static void on_ack(void *userdata, unsigned long h)
{
    struct batch *b = userdata;

    if (b->mn && !b->marks[b->mhead].ping)
        marker_pop(b);
    answered(b, h);
}

/* Pings are answered in order: every ping up to the n-th is answered. */
static void on_pong(void *userdata, unsigned n)
{
    struct batch *b = userdata;
    unsigned long seq;

    while (b->mn && b->marks[b->mhead].ping && b->marks[b->mhead].ping <= n) {
        seq = b->marks[b->mhead].seq;
        marker_pop(b);
        answered(b, seq);
    }
}

/* A message the server sent back as an error is rejected. */
static int on_bounce(xmsg_conn *c, const xmsg_xel *stanza, void *userdata)
{
    struct batch *b = userdata;
    const char *id = xmsg_xel_attr(stanza, "id"), *sent;
    char cond[128];
    size_t i;

    (void)c;
    if (!id)
        return 1;
    xmsg_error_condition(stanza, cond, sizeof(cond));
    for (i = 0; i < b->n; i++) {
        sent = at(b, i)->m ? xmsg_message_get(at(b, i)->m, "id") : NULL;
        if (sent && !at(b, i)->final && strcmp(sent, id) == 0) {
            if (!at(b, i)->ack_epoch)
                b->inflight--;
            entry_fail(at(b, i), XMSG_ERR_PROTOCOL,
                       "the server rejected %s %s: %s", xmsg_xel_name(stanza),
                       id, cond);
            return 1;
        }
    }
    xmsg_conn_log(b->c, XMSG_LOG_WARN,
                  "the server rejected message %s (%s) after its result "
                  "was reported",
                  id, cond);
    return 1;
}

/* ---- results ---- */

/* An input's messages before its last: their worst failure is carried
 * to the last, which reports the input. */
static void carry(struct batch *b, struct entry *e)
{
    if (e->more) {
        if (xmsg_err_rank(e->code) > xmsg_err_rank(b->carry)) {
            b->carry = e->code;
            free(b->carry_text);
            b->carry_text = e->text;
            e->text = NULL;
        }
        return;
    }
    if (xmsg_err_rank(b->carry) > xmsg_err_rank(e->code)) {
        e->code = b->carry;
        free(e->text);
        e->text = b->carry_text;
        b->carry_text = NULL;
    }
    b->carry = XMSG_OK;
    free(b->carry_text);
    b->carry_text = NULL;
}

static void drop_head(struct batch *b, struct entry *e)
{
    xmsg_message_free(e->m);
    free(e->text);
    memset(e, 0, sizeof(*e));
    b->head = (b->head + 1) % b->cap;
    b->n--;
}

static void report_head(struct batch *b)
{
    struct entry *e = at(b, 0);
    int stop;

    carry(b, e);
    if (e->more && b->io->single && e->code == XMSG_OK)
        xmsg_conn_log(b->c, XMSG_LOG_INFO, "message %s confirmed by the server",
                      xmsg_message_get(e->m, "id"));
    if (e->more) {
        drop_head(b, e);
        return;
    }
    if (e->code == XMSG_OK) {
        b->delivered++;
        /* A batch's results are its output lines, not log lines. */
        if (b->io->single)
            xmsg_conn_log(b->c, XMSG_LOG_INFO,
                          "%s %s confirmed by the server (%s)", kind_of(e->m),
                          xmsg_message_get(e->m, "id"),
                          xmsg_conn_sm_on(b->c) ? "XEP-0198 ack"
                                                : "ping answered after it");
    } else {
        b->failed++;
    }
    if (xmsg_err_rank(e->code) > xmsg_err_rank(b->worst))
        b->worst = e->code;
    stop = call_done(b, e);
    if (stop && !b->stopped) {
        b->stopped = 1;
        xmsg_conn_log(b->c, XMSG_LOG_INFO,
                      "the caller stopped the batch at input %zu", e->index);
    }
    drop_head(b, e);
}

static void report_final(struct batch *b)
{
    while (b->n && at(b, 0)->final)
        report_head(b);
}

/* The session failed: what was acknowledged was delivered, what left
 * without an answer is unconfirmed, what never left was not sent. */
static void fail_in_flight(struct batch *b, xmsg_err code, const char *text)
{
    const int overacked = xmsg_conn_overacked(b->c);
    const uint64_t written = xmsg_conn_tx_written(b->c);
    struct entry *e;
    size_t i;

    for (i = 0; i < b->n; i++) {
        e = at(b, i);
        if (e->final || (e->ack_epoch && !overacked))
            e->final = 1;
        else if (overacked)
            entry_fail(e, XMSG_ERR_PROTOCOL, "%s", text);
        else if (!e->qpos || e->qpos - 1 >= written)
            entry_fail(e, code, "not sent (%s: %s)", xmsg_err_name(code), text);
        else
            entry_fail(e, XMSG_ERR_UNCONFIRMED,
                       "sent but not confirmed (%s: %s)", xmsg_err_name(code),
                       text);
    }
    b->inflight = 0;
    report_final(b);
}

/* ---- input ---- */

static void push_failed(struct batch *b, xmsg_err code, const char *err)
{
    struct entry *e = at(b, b->n++);

    e->index = b->index++;
    entry_fail(e, code, "%s", err);
}

static void push_invalid(struct batch *b, const char *err)
{
    push_failed(b, XMSG_ERR_INPUT, err);
}

/* m (taken) goes out; more: another message of the same input (one of its
 * files) follows. */
static void push_message(struct batch *b, xmsg_message *m, int more)
{
    struct entry *e = at(b, b->n++);
    char err[XMSG_ERRTEXT_MAX];
    xmsg_err code;
    int sealed = 0;
    uint64_t pos;

    e->index = more ? b->index : b->index++;
    e->more = more;
    if (!m) {
        entry_fail(e, XMSG_ERR_INTERNAL, "out of memory");
        return;
    }
    m = xmsg_message_prepare(b->c, m, err, sizeof(err));
    if (!m) {
        entry_fail(e, XMSG_ERR_INPUT, "%s", err);
        return;
    }
    /* Sealing may wait for the server (device lists): e stays without a
     * message meanwhile, so that answers arriving leave it alone. */
    code = b->c->seal ? b->c->seal(b->c->seal_state, b->c, &m, &sealed, err,
                                   sizeof(err))
                      : XMSG_OK;
    e->m = m; /* a refused one too: its result names it */
    if (code) {
        entry_fail(e, code, "%s", err);
        return;
    }
    b->text.len = 0;
    if (xmsg_message_xml(e->m, &b->text) ||
        (b->c->seal &&
         xmsg_message_put(e->m, "encrypted", sealed ? "omemo" : "false"))) {
        entry_fail(e, XMSG_ERR_INTERNAL, "out of memory");
        return;
    }
    pos = xmsg_conn_tx_queued(b->c);
    xmsg_conn_send_xml(b->c, b->text.d, b->text.len);
    if (xmsg_conn_tx_queued(b->c) > pos)
        e->qpos = pos + 1;
    e->seq = xmsg_conn_sent(b->c);
    b->inflight++;
    if (b->io->single)
        xmsg_conn_log(b->c, XMSG_LOG_INFO,
                      "%s %s to %s handed to the connection, waiting for "
                      "the server's confirmation",
                      kind_of(e->m), xmsg_message_get(e->m, "id"),
                      xmsg_message_get(e->m, "to")
                          ? xmsg_message_get(e->m, "to")
                          : "the server");
    if (++b->since_marker >= b->step) {
        send_marker(b);
        pump(b, 0); /* the server starts on them meanwhile */
    }
}

/* Room for n more entries; a free one stays however it ends (take_input
 * starts with one, and this only reports). */
static void room_for(struct batch *b, size_t n)
{
    report_final(b);
    while (b->n + n > b->cap && !b->c->closed) {
        if (!b->mn)
            send_marker(b);
        pump(b, 100);
        report_final(b);
    }
}

/* 1 when m has a caption (a body besides its files). */
static int caption(const xmsg_message *m)
{
    const char *body = xmsg_message_get(m, "body");

    return body && *body;
}

/* An input with files: every file uploaded (or known from an input
 * before), then a message per file, together (sealed: the caption first,
 * alone). A file that fails sends nothing. */

static void push_files(struct batch *b, xmsg_message *m)
{
    const char *urls[XMSG_MESSAGE_FILES_MAX];
    char err[XMSG_ERRTEXT_MAX] = "";
    const size_t n = m->files.n;
    xmsg_err rc = XMSG_OK;
    size_t i;

    room_for(b, n + 1);
    if (b->c->closed)
        rc = xmsg_conn_fail(b->c, "sending");
    if (rc)
        snprintf(err, sizeof(err), "not sent (%s: %s)", xmsg_err_name(rc),
                 xmsg_status_text(b->c->st));
    /* Messages sealed end to end: the files go encrypted (XEP-0454), the
     * caption in a message of its own; a recipient that cannot get them
     * sealed gets nothing uploaded. */
    if (!rc && b->c->seal_check)
        rc = b->c->seal_check(b->c->seal_state, b->c, m, err, sizeof(err));
    b->c->aesgcm = b->c->seal != NULL;
    if (!rc)
        rc = xmsg_uploads_get(b->c, &b->uploads, m, urls, err, sizeof(err));
    b->c->aesgcm = 0;
    if (!b->io->keep_deadline)
        xmsg_conn_extend(b->c);
    if (rc)
        push_failed(b, rc, err);
    if (!rc && b->c->seal && caption(m))
        push_message(b, xmsg_caption_message(m), 1);
    for (i = 0; !rc && i < n; i++)
        push_message(b, xmsg_file_message(m, i, urls[i]), i + 1 < n);
    xmsg_message_free(m);
}

/* Every message in flight answered (or the session ended). */
static void settle(struct batch *b)
{
    while (b->n && !b->c->closed) {
        report_final(b);
        if (!b->n)
            break;
        if (!b->mn)
            send_marker(b);
        pump(b, 100);
    }
    report_final(b);
}

/* Room for one more input: fewer than window messages unacknowledged,
 * and a free slot (acknowledged ones wait there until final). */
static void make_room(struct batch *b)
{
    report_final(b);
    while ((b->n == b->cap || b->inflight >= b->window) && !b->c->closed) {
        if (!b->mn)
            send_marker(b);
        pump(b, 100);
        report_final(b);
    }
}

/* Takes one input; 0 at the end of the input. */
static int take_input(struct batch *b)
{
    char err[XMSG_ERRTEXT_MAX] = "";
    xmsg_message *m = NULL;
    xmsg_next r;

    r = call_next(b, b->n == 0, &m, err, sizeof(err));
    if (r == XMSG_NEXT_LATER && b->n) {
        settle(b);
        if (b->c->closed)
            return 1;
        r = call_next(b, 1, &m, err, sizeof(err));
        if (!b->io->keep_deadline)
            xmsg_conn_extend(b->c);
    }
    switch (r) {
    case XMSG_NEXT_MESSAGE:
        if (m && m->files.n)
            push_files(b, m);
        else if (m)
            push_message(b, m, 0);
        else
            push_invalid(b, "the input gave no message");
        return 1;
    case XMSG_NEXT_INVALID:
        push_invalid(b, err[0] ? err : "invalid input");
        return 1;
    case XMSG_NEXT_LATER:
        return 1;
    case XMSG_NEXT_END:
        break;
    }
    return 0;
}

/* After the session failed, every remaining input gets that failure. */
static void drain_input(struct batch *b, xmsg_err code, const char *text)
{
    size_t failed = 0;
    xmsg_err worst;

    if (b->stopped)
        return;
    worst = xmsg_batch_refuse(b->io, &b->index, code, text, &failed);
    b->failed += failed;
    if (xmsg_err_rank(worst) > xmsg_err_rank(b->worst))
        b->worst = worst;
}

xmsg_err xmsg_batch_refuse(const struct xmsg_batch_io *io, size_t *index,
                           xmsg_err code, const char *text, size_t *count)
{
    char err[XMSG_ERRTEXT_MAX], why[XMSG_ERRTEXT_MAX];
    xmsg_err worst = XMSG_OK, c;
    xmsg_message *m;
    xmsg_next r;
    int stop = 0;

    snprintf(why, sizeof(why), "not sent (%s: %s)", xmsg_err_name(code),
             text ? text : "failed");
    while (!stop) {
        m = NULL;
        err[0] = '\0';
        r = io->next(io->userdata, 1, &m, err, sizeof(err));
        if (r == XMSG_NEXT_END)
            break;
        c = r == XMSG_NEXT_INVALID ? XMSG_ERR_INPUT : code;
        if (xmsg_err_rank(c) > xmsg_err_rank(worst))
            worst = c;
        stop = io->done(io->userdata, (*index)++, m, c,
                        r == XMSG_NEXT_INVALID ? err : why);
        xmsg_message_free(m);
        (*count)++;
    }
    return worst;
}

static int batch_init(struct batch *b, xmsg_conn *c,
                      const struct xmsg_batch_io *io)
{
    memset(b, 0, sizeof(*b));
    b->c = c;
    b->io = io;
    b->window = (size_t)c->params->window;
    /* and the messages of one input's files, which go out together */
    b->cap = 2 * b->window + XMSG_MESSAGE_FILES_MAX;
    b->step = b->window >= 4 ? b->window / 4 : 1;
    b->mcap = b->cap + 2;
    b->ring = calloc(b->cap, sizeof(*b->ring));
    b->marks = calloc(b->mcap, sizeof(*b->marks));
    return b->ring && b->marks ? 0 : -1;
}

static void batch_free(struct batch *b)
{
    xmsg_buf_free(&b->text);
    xmsg_uploads_clear(&b->uploads);
    free(b->carry_text);
    while (b->mn)
        marker_pop(b);
    free(b->ring);
    free(b->marks);
}

static void hook(struct batch *b, int on)
{
    xmsg_conn *c = b->c;

    c->on_ack = on ? on_ack : NULL;
    c->on_pong = on ? on_pong : NULL;
    c->ack_userdata = on ? b : NULL;
    /* A stanza of any kind comes back as an error of its kind. */
    if (on)
        xmsg_conn_handler_add(c, on_bounce, NULL, "error", b);
    else
        xmsg_conn_handler_delete(c, on_bounce);
}

xmsg_err xmsg_batch_run(xmsg_conn *c, const struct xmsg_batch_io *io)
{
    struct batch b;
    xmsg_err code;

    if (batch_init(&b, c, io)) {
        batch_free(&b);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    hook(&b, 1);
    while (!c->closed && !b.stopped) {
        make_room(&b);
        if (c->closed || !take_input(&b))
            break;
    }
    if (!c->closed)
        settle(&b);
    hook(&b, 0);
    code = XMSG_OK;
    if (c->closed || b.n) {
        code = xmsg_conn_fail(c, "sending");
        fail_in_flight(&b, code, xmsg_status_text(c->st));
        drain_input(&b, code, xmsg_status_text(c->st));
    }
    if (!io->single) {
        c->st->is_batch = 1;
        c->st->batch_inputs += b.index;
        c->st->batch_delivered += b.delivered;
        c->st->batch_failed += b.failed;
    }
    if (!io->single)
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "batch: %zu input(s), %zu delivered, %zu failed", b.index,
                      b.delivered, b.failed);
    batch_free(&b);
    if (xmsg_err_rank(code) > xmsg_err_rank(b.worst))
        return code;
    /* A stop the caller asked for is cancelled, unless an input failed
     * worse. */
    if (b.stopped && xmsg_err_rank(XMSG_ERR_CANCELLED) > xmsg_err_rank(b.worst))
        return xmsg_status_fail(c->st, XMSG_ERR_CANCELLED,
                                "the caller stopped the batch after %zu "
                                "input(s)",
                                b.index);
    if (b.worst != XMSG_OK && xmsg_status_code(c->st) == XMSG_OK)
        xmsg_status_fail(c->st, b.worst, "%zu of %zu input(s) failed", b.failed,
                         b.index);
    return b.worst;
}
