/* poll.c - what a session receives: kept in order from the session's
 * start (stanzas arrive during any call), XMSG_SESSION_QUEUE_MAX at most
 * (the oldest then go, logged), handed out by xmsg_session_poll(), or
 * matched as the reply of xmsg_session_request(). A session nobody polls
 * keeps only what its running call awaits. Pings from the server are
 * answered here. */
#include <stdlib.h>
#include <string.h>

#include "features/download.h"
#include "features/mam.h"
#include "features/recvhook.h"
#include "features/sessobj.h"

/* ---- the kept stanzas ----
 * A ring of at most XMSG_SESSION_QUEUE_MAX slots, oldest first. A stanza
 * taken out of the middle (a request's reply) leaves its slot empty
 * (NULL) until the slot reaches the head, so that every removal is O(1);
 * the head slot is never empty. Positions count from the session's start
 * (inq_first is the head's), so a scan resumes where it stopped. */

static xmsg_message **slot(const xmsg_session *s, size_t i)
{
    return &s->inq[(s->inq_head + i) % s->inq_cap];
}

/* Takes the oldest out (owned), and the empty slots behind it. */
static xmsg_message *pop_head(xmsg_session *s)
{
    xmsg_message *m = *slot(s, 0);

    do {
        *slot(s, 0) = NULL;
        s->inq_head = (s->inq_head + 1) % s->inq_cap;
        s->inq_first++;
        s->inq_n--;
    } while (s->inq_n && !*slot(s, 0));
    return m;
}

static int grow(xmsg_session *s)
{
    size_t ncap = s->inq_cap ? s->inq_cap * 2 : 16, i;
    xmsg_message **nq;

    if (ncap > XMSG_SESSION_QUEUE_MAX)
        ncap = XMSG_SESSION_QUEUE_MAX;
    nq = calloc(ncap, sizeof(*nq));
    if (!nq)
        return -1;
    for (i = 0; i < s->inq_n; i++)
        nq[i] = *slot(s, i);
    free(s->inq);
    s->inq = nq;
    s->inq_head = 0;
    s->inq_cap = ncap;
    return 0;
}

/* Full: the oldest goes, said in the log once until the next poll. */
static void drop_oldest(xmsg_session *s)
{
    if (!s->inq_dropped++)
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "%d received stanzas wait for poll: the oldest are "
                      "dropped",
                      XMSG_SESSION_QUEUE_MAX);
    xmsg_message_free(pop_head(s));
}

int xmsg_session_keep(xmsg_session *s, xmsg_message *m)
{
    if (s->inq_n == XMSG_SESSION_QUEUE_MAX)
        drop_oldest(s);
    if (s->inq_n == s->inq_cap && grow(s))
        return -1;
    *slot(s, s->inq_n++) = m;
    return 0;
}

size_t xmsg_session_kept_end(const xmsg_session *s)
{
    return s->inq_first + s->inq_n;
}

const xmsg_message *xmsg_session_kept_at(const xmsg_session *s, size_t pos)
{
    if (pos < s->inq_first || pos - s->inq_first >= s->inq_n)
        return NULL;
    return *slot(s, pos - s->inq_first);
}

struct ranked {
    xmsg_message *m;
    size_t rank, i;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int xmsg_session_sort_since(xmsg_session *s, size_t mark, xmsg_kept_rank rank,
                            const void *arg)
{
    const size_t start = mark > s->inq_first ? mark - s->inq_first : 0;
    const size_t n = s->inq_n > start ? s->inq_n - start : 0;
    struct ranked *r;
    size_t i, k = 0;

    if (n < 2)
        return 0;
    r = calloc(n, sizeof(*r));
    if (!r)
        return -1;
    for (i = 0; i < n; i++) {
        xmsg_message *m = *slot(s, start + i);

        if (m)
            r[k++] = (struct ranked){m, rank(m, arg), i};
        *slot(s, start + i) = NULL;
    }
    qsort(r, k, sizeof(*r), cmp_ranked);
    for (i = 0; i < k; i++)
        *slot(s, start + i) = r[i].m;
    s->inq_n = start + k;
    free(r);
    return 0;
}

xmsg_message *xmsg_session_find(xmsg_session *s, size_t *from,
                                xmsg_kept_match fn, const void *arg, int take)
{
    size_t i = *from > s->inq_first ? *from - s->inq_first : 0;
    xmsg_message *m;

    for (; i < s->inq_n; i++) {
        m = *slot(s, i);
        if (!m || !fn(m, arg))
            continue;
        *from = s->inq_first + i + 1;
        return take ? xmsg_session_take(s, i) : m;
    }
    *from = xmsg_session_kept_end(s);
    return NULL;
}

xmsg_message *xmsg_session_kept(const xmsg_session *s, size_t i)
{
    return *slot(s, i);
}

xmsg_message *xmsg_session_take(xmsg_session *s, size_t i)
{
    xmsg_message *m = *slot(s, i);

    if (i == 0)
        return pop_head(s);
    *slot(s, i) = NULL;
    return m;
}

void xmsg_session_await(xmsg_session *s, xmsg_kept_match fn, const void *arg)
{
    s->await_fn = fn;
    s->await_arg = arg;
}

void xmsg_session_drop_queue(xmsg_session *s)
{
    xmsg_recv_hook_free(s);
    while (s->inq_n)
        xmsg_message_free(pop_head(s));
    free(s->inq);
    s->inq = NULL;
    s->inq_cap = 0;
}

/* Every stanza a handler of the connection did not take (an answer to
 * xmsg's own query is its alone; the stream answers pings). */
static int on_incoming(xmsg_conn *conn, const xmsg_xel *stanza, void *userdata)
{
    xmsg_session *s = userdata;
    const char *name = xmsg_xel_name(stanza), *aid;
    xmsg_message *m;

    (void)conn;
    /* Archive results are the catch-up's (reconnect.c); a message seen
     * before (the archive, then offline storage) is dropped. */
    if (!strcmp(name, "message") &&
        xmsg_xel_child(stanza, "urn:xmpp:mam:2", "result"))
        return 1;
    aid = !strcmp(name, "message") && s->bare
              ? xmsg_stanza_archive_id(stanza, s->bare)
              : NULL;
    if (aid && xmsg_session_seen(s, aid))
        return 1;
    if (aid)
        xmsg_session_saw(s, aid);
    /* Nobody polls (a one-shot call): only what the call awaits is
     * kept. */
    if ((s->flags & XMSG_SESSION_NO_POLL) && !s->await_fn)
        return 1;
    m = xmsg_object_from_stanza(stanza);
    if (m && aid && xmsg_message_put(m, "archiveId", aid)) {
        xmsg_message_free(m);
        m = NULL;
    }
    if (m && (s->flags & XMSG_SESSION_NO_POLL) &&
        !s->await_fn(m, s->await_arg)) {
        xmsg_message_free(m);
        return 1;
    }
    if (!m || xmsg_session_keep(s, m)) {
        xmsg_message_free(m);
        if (!s->inq_failed++)
            xmsg_conn_log(&s->c, XMSG_LOG_ERROR,
                          "out of memory: a received stanza was lost");
    }
    return 1;
}

void xmsg_session_listen(xmsg_session *s)
{
    if (xmsg_conn_handler_add(&s->c, on_incoming, NULL, NULL, s))
        xmsg_conn_log(&s->c, XMSG_LOG_ERROR,
                      "out of memory: received stanzas are not kept");
}

/* ---- keepalive: a ping when the server has been silent ---- */

static void keepalive(xmsg_session *s, uint64_t now)
{
    const xmsg_params *p = s->p;

    if (!p->keepalive)
        return;
    if (s->ka_sent && !s->ka_answered &&
        now - s->ka_sent >= (uint64_t)p->timeout * 1000u) {
        xmsg_conn_abort(&s->c, XMSG_ERR_CONNECT,
                        "the server did not answer a keepalive ping: the "
                        "connection is lost");
        return;
    }
    if (s->ka_sent && !s->ka_answered)
        return;
    if (now - s->c.last_rx < (uint64_t)p->keepalive_timeout * 1000u)
        return;
    s->ka_answered = 0;
    s->ka_sent = now;
    if (xmsg_conn_ping(&s->c, &s->ka_answered))
        s->ka_sent = 0;
}

/* ---- poll ---- */

/* The connection is down: reconnect (params reconnect) or fail. While
 * reconnecting, waits for the next attempt within the poll's time. */
static xmsg_err lost(xmsg_session *s, uint64_t end)
{
    xmsg_err rc = XMSG_OK;
    uint64_t now;

    if (!s->lost)
        rc = xmsg_conn_fail(&s->c, "waiting for stanzas");
    if (!s->p->reconnect || rc == XMSG_ERR_AUTH || rc == XMSG_ERR_TLS)
        return rc;
    rc = xmsg_session_reconnect(s);
    if (!rc) {
        xmsg_conn_set_deadline(&s->c, UINT64_MAX / 2);
        s->ka_sent = 0;
        return XMSG_OK;
    }
    if (rc == XMSG_ERR_AUTH || rc == XMSG_ERR_TLS)
        return rc; /* it would fail the same way again */
    /* The attempt itself may have outlasted the poll's time. */
    now = xmsg_now_ms();
    if (s->next_attempt > now && end > now)
        xmsg_sleep_ms((s->next_attempt < end ? s->next_attempt : end) - now);
    return XMSG_OK;
}

int xmsg_session_call(xmsg_session *s, xmsg_message_cb cb, xmsg_message *m,
                      void *userdata)
{
    const xmsg_conn_paused t = xmsg_conn_pause(&s->c);
    const int taken = xmsg_recv_hook_run(s, m); /* params omemo */
    int r = 0;

    if (taken == 1) {
        r = 0;
    } else if (taken < 0 || xmsg_download_message(&s->c, m)) {
        xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
        r = -1;
    } else {
        r = cb(m, userdata);
    }
    xmsg_conn_resume(&s->c, t);
    if (s->ka_sent)
        s->ka_sent += xmsg_now_ms() - t.at;
    return r;
}

int xmsg_session_deliver(xmsg_session *s, xmsg_message_cb cb, void *userdata,
                         size_t *n)
{
    xmsg_message *m;
    int stop = 0;

    if (s->inq_dropped)
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "%zu received stanza(s) were dropped before this poll",
                      s->inq_dropped);
    s->inq_dropped = 0;
    while (s->inq_n && !stop) {
        m = pop_head(s);
        stop = xmsg_session_call(s, cb, m, userdata) != 0;
        xmsg_message_free(m);
        (*n)++;
    }
    return stop;
}

xmsg_err xmsg_session_poll(xmsg_session *s, int timeout_ms, xmsg_message_cb cb,
                           void *userdata, xmsg_status *st)
{
    uint64_t now = xmsg_now_ms(), end;
    size_t n = 0;
    xmsg_err rc = XMSG_OK;

    if (!s || !cb)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "session and callback are required");
    if (!xmsg_session_begin(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_recv_hook_install(s);
    if (rc) {
        xmsg_session_end(s);
        return rc;
    }
    if (!s->ck_on && (xmsg_session_deliver(s, cb, userdata, &n) || n)) {
        xmsg_recv_hook_done(s);
        xmsg_session_end(s);
        return XMSG_OK;
    }
    rc = s->lost ? XMSG_OK : xmsg_session_alive(s);
    /* No deadline while waiting for stanzas: the caller's timeout ends
     * the wait, and the keepalive ping notices a dead server. */
    xmsg_conn_set_deadline(&s->c, UINT64_MAX / 2);
    end = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms;
    /* With the checkpoint shared, handing over may need the server. */
    if (!rc && s->ck_on && xmsg_checkpoint_deliver(s, cb, userdata, &n))
        end = now;
    while (!rc && !n && now < end) {
        if (s->lost || s->c.closed) {
            rc = lost(s, end);
            if (rc || s->lost) {
                now = xmsg_now_ms();
                continue;
            }
        }
        keepalive(s, now);
        xmsg_conn_run(&s->c, end - now < 100 ? (unsigned)(end - now) : 100);
        xmsg_checkpoint_deliver(s, cb, userdata, &n);
        now = xmsg_now_ms();
    }
    if (n && !rc)
        xmsg_recv_hook_done(s);
    xmsg_session_end(s);
    return rc;
}

/* ---- request: send, then wait for the matching reply ---- */

/* Is kept stanza r the reply to sent? An iq: its result or error (same
 * id). Otherwise: a stanza of the same kind with the same id, or from the
 * recipient (in the same thread when the reply names one). */
static int is_reply(const xmsg_message *sent, const xmsg_message *r)
{
    const char *kind = xmsg_message_get(sent, "kind");
    const char *rkind = xmsg_message_get(r, "kind");
    const char *id = xmsg_message_get(sent, "id");
    const char *rid = xmsg_message_get(r, "id");
    const char *to = xmsg_message_get(sent, "to");
    const char *from = xmsg_message_get(r, "from");
    const char *thread = xmsg_message_get(sent, "thread");
    const char *rthread = xmsg_message_get(r, "thread");
    const char *rtype = xmsg_message_get(r, "type");

    if (!kind)
        kind = "message";
    if (!rkind || strcmp(kind, rkind) != 0)
        return 0;
    if (strcmp(kind, "iq") == 0)
        return rid && id && !strcmp(rid, id) && rtype &&
               (!strcmp(rtype, "result") || !strcmp(rtype, "error"));
    if (rid && id && strcmp(rid, id) == 0)
        return 1;
    return to && from && xmsg_jid_bare_is(from, to) &&
           (!rthread || !thread || strcmp(rthread, thread) == 0);
}

/* The request as sent: an id to match, and a thread for a message. */
static xmsg_message *as_request(xmsg_session *s, const xmsg_message *m)
{
    xmsg_message *full = xmsg_message_copy(m);
    const char *kind = xmsg_message_get(m, "kind");
    int rc = !full || xmsg_conn_give_id(&s->c, full);

    if (!rc && (!kind || !strcmp(kind, "message")) &&
        !xmsg_message_get(full, "thread"))
        rc = xmsg_message_put(full, "thread", xmsg_message_get(full, "id"));
    if (rc) {
        xmsg_message_free(full);
        return NULL;
    }
    return full;
}

static int reply_to(const xmsg_message *r, const void *sent)
{
    return is_reply(sent, r);
}

/* Runs the loop until a kept stanza answers sent, or the call ends. Each
 * turn looks only at what arrived since the last. */
static xmsg_err wait_reply(xmsg_session *s, const xmsg_message *sent,
                           xmsg_message **reply)
{
    size_t from = 0;

    for (;;) {
        *reply = xmsg_session_find(s, &from, reply_to, sent, 1);
        if (*reply)
            return XMSG_OK;
        if (s->c.closed || xmsg_now_ms() >= s->c.deadline)
            return xmsg_conn_fail(&s->c, "waiting for the reply");
        xmsg_conn_run(&s->c, 100);
    }
}

xmsg_err xmsg_session_exchange(xmsg_session *s, const xmsg_message *m,
                               xmsg_message **reply)
{
    xmsg_message *full = as_request(s, m);
    const char *rtype;
    xmsg_err rc;

    if (!full)
        return xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    /* One deadline for the send and the reply: the call's. */
    xmsg_session_await(s, reply_to, full);
    rc = xmsg_session_send_one(&s->c, full, 1);
    if (!rc)
        rc = wait_reply(s, full, reply);
    else if (rc == XMSG_ERR_PROTOCOL) /* the error stanza itself */
        *reply = xmsg_session_find(s, &(size_t){0}, reply_to, full, 1);
    xmsg_session_await(s, NULL, NULL);
    rtype = *reply ? xmsg_message_get(*reply, "type") : NULL;
    if (!rc && rtype && strcmp(rtype, "error") == 0)
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_PROTOCOL,
                              "the reply is an error");
    xmsg_message_free(full);
    return rc;
}

xmsg_err xmsg_session_request(xmsg_session *s, const xmsg_message *m,
                              xmsg_message **reply, xmsg_status *st)
{
    xmsg_err rc;

    if (reply)
        *reply = NULL;
    if (!s || !m || !reply)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "session, message and reply are required");
    if (!xmsg_session_begin(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_session_alive(s);
    if (!rc)
        rc = xmsg_session_exchange(s, m, reply);
    xmsg_session_end(s);
    return rc;
}
