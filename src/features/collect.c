/* collect.c - log in, collect every message waiting for the user, close.
 *
 * With a message archive (XEP-0313) and a state file, collection is
 * lossless and hands nothing over twice: archive pages after the
 * checkpoint are handed over one at a time, each followed by the
 * checkpoint's atomic replacement. Without them, the server's offline
 * storage is drained as the seed did (at most once). */
#include <stdlib.h>
#include <string.h>

#include "features/download.h"
#include "features/mam.h"
#include "features/recvhook.h"
#include "features/sessobj.h"
#include "features/state.h"

enum push_mode {
    PUSH_ALL,       /* hand over every pushed message */
    PUSH_UNARCHIVED /* archived ones come through the archive walk */
};

struct collect {
    xmsg_conn *c;
    xmsg_session *sess; /* c's session (its receive hook) */
    xmsg_message_cb cb;
    void *userdata;
    char *bare; /* own bare JID (owned) */
    xmsg_state state;
    int use_state;
    xmsg_mam_page page;
    enum push_mode push;
    int collecting;      /* pushed messages are wanted now */
    int discard_results; /* archive results are not wanted now */
    int answered;
    int failed; /* out of memory in a handler */
    xmsg_message **batch;
    size_t n_batch, cap_batch;
    size_t handed;
    int lock_fd; /* the state file's lock, held for the whole call */
};

static int batch_add(struct collect *s, xmsg_message *m)
{
    xmsg_message **nv;
    size_t ncap;

    if (s->n_batch == s->cap_batch) {
        ncap = s->cap_batch ? s->cap_batch * 2 : 64;
        nv = realloc(s->batch, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        s->batch = nv;
        s->cap_batch = ncap;
    }
    s->batch[s->n_batch++] = m;
    return 0;
}

static void batch_clear(struct collect *s)
{
    size_t i;

    for (i = 0; i < s->n_batch; i++)
        xmsg_message_free(s->batch[i]);
    s->n_batch = 0;
}

/* The caller's callback: time spent there is not the server's (nor a
 * download's, params downloadDir, done first; nor the receive hook's,
 * before it: params omemo). */
static int call_cb(struct collect *s, xmsg_message *m)
{
    const xmsg_conn_paused t = xmsg_conn_pause(s->c);
    const int taken = xmsg_recv_hook_run(s->sess, m);
    int rc;

    if (taken == 1)
        rc = 0;
    else if (taken < 0 || (m && xmsg_download_message(s->c, m)))
        rc = xmsg_status_fail(s->c->st, XMSG_ERR_INTERNAL, "out of memory");
    else
        rc = s->cb(m, s->userdata);
    xmsg_conn_resume(s->c, t);
    return rc;
}

/* Hands the batch over: each message, then NULL (make them durable). */
static xmsg_err hand_over(struct collect *s)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < s->n_batch && !rc; i++)
        rc = call_cb(s, s->batch[i]);
    if (!rc)
        rc = call_cb(s, NULL);
    if (!rc) {
        s->handed += s->n_batch;
        s->c->st->collected = s->handed;
    }
    batch_clear(s);
    if (!rc)
        return XMSG_OK;
    /* The callback's own failure when it recorded one, else a stop. */
    if (xmsg_status_code(s->c->st) != XMSG_OK)
        return xmsg_status_code(s->c->st);
    return xmsg_status_fail(s->c->st, XMSG_ERR_CANCELLED,
                            "the message callback asked to stop");
}

static void on_archive_result(struct collect *s, const xmsg_xel *stanza)
{
    int is_result;
    xmsg_message *m = xmsg_mam_result(stanza, &s->page, s->bare, &is_result);
    const char *from = m ? xmsg_message_get(m, "from") : NULL;

    if (!m) {
        if (!is_result || !s->discard_results)
            xmsg_conn_log(s->c, XMSG_LOG_DEBUG,
                          "skipped an archive result "
                          "(not ours, forged, or no "
                          "body)");
        return;
    }
    if (s->discard_results) {
        xmsg_message_free(m);
        return;
    }
    /* The archive keeps what the user sent too: only incoming counts. */
    if (xmsg_jid_bare_is(from, s->bare) ||
        xmsg_state_seen(&s->state, xmsg_message_get(m, "archiveId"))) {
        xmsg_message_free(m);
        return;
    }
    if (batch_add(s, m)) {
        xmsg_message_free(m);
        s->failed = 1;
    }
}

static void on_pushed(struct collect *s, const xmsg_xel *stanza)
{
    const char *aid = xmsg_stanza_archive_id(stanza, s->bare);
    xmsg_message *m;

    if (!s->collecting || (s->push == PUSH_UNARCHIVED && aid))
        return;
    /* Without a body: an OMEMO key transport, for the receive hook. */
    m = xmsg_el_child(stanza, "body") ? xmsg_message_from_stanza(stanza)
                                      : xmsg_object_from_stanza(stanza);
    if (!m)
        return;
    if ((aid && xmsg_message_put(m, "archiveId", aid)) || batch_add(s, m)) {
        xmsg_message_free(m);
        s->failed = 1;
    }
}

static int on_message(xmsg_conn *conn, const xmsg_xel *stanza, void *userdata)
{
    struct collect *s = userdata;

    (void)conn;
    if (xmsg_xel_child(stanza, XMSG_NS_MAM, "result"))
        on_archive_result(s, stanza);
    else if (xmsg_el_child(stanza, "body") ||
             (s->sess->rh_ops &&
              xmsg_xel_child(stanza, XMSG_NS_OMEMO, "encrypted")))
        on_pushed(s, stanza);
    return 1;
}

/* Offline messages are pushed after the initial presence; the server
 * handles a stream's stanzas in order, so all of them have arrived when
 * the ping sent after the presence is answered. */
static xmsg_err drain_offline(struct collect *s)
{
    xmsg_xel *pres = xmsg_xel_new(XMSG_NS_CLIENT, "presence");
    xmsg_err rc;

    if (!pres)
        return xmsg_status_fail(s->c->st, XMSG_ERR_INTERNAL, "out of memory");
    s->collecting = 1;
    xmsg_conn_send(s->c, pres);
    xmsg_xel_free(pres);
    s->answered = 0;
    rc = xmsg_conn_ping(s->c, &s->answered);
    if (!rc)
        rc = xmsg_conn_wait(s->c, &s->answered);
    return rc;
}

/* Runs one archive query to its answer. */
static xmsg_err query(struct collect *s, const char *after, int last_only)
{
    xmsg_err rc = xmsg_mam_query(s->c, &s->page, after, s->c->params->page_size,
                                 last_only);

    if (!rc)
        rc = xmsg_conn_wait(s->c, &s->page.done);
    return rc;
}

static int unsupported(const xmsg_mam_page *p)
{
    return p->error && strcmp(p->cond, "item-not-found") != 0;
}

/* Walks the archive after the checkpoint, a page at a time. */
static xmsg_err walk_archive(struct collect *s)
{
    xmsg_err rc;
    int whole = 0;

    for (;;) {
        rc = query(s, whole ? NULL : s->state.after, 0);
        if (rc)
            return rc;
        if (s->page.error && !whole && s->state.after &&
            strcmp(s->page.cond, "item-not-found") == 0) {
            xmsg_conn_log(s->c, XMSG_LOG_WARN,
                          "checkpoint %s is no longer in "
                          "the archive: collecting the whole archive",
                          s->state.after);
            whole = 1;
            continue;
        }
        if (s->page.error)
            return xmsg_status_fail(s->c->st, XMSG_ERR_PROTOCOL,
                                    "archive "
                                    "query failed: %s",
                                    s->page.cond);
        if (!s->page.complete && s->page.last && s->state.after && !whole &&
            strcmp(s->state.after, s->page.last) == 0)
            return xmsg_status_fail(s->c->st, XMSG_ERR_PROTOCOL,
                                    "archive "
                                    "paging does not advance past %s",
                                    s->page.last);
        whole = 0;
        if (s->page.last && xmsg_state_set_after(&s->state, s->page.last))
            return xmsg_status_fail(s->c->st, XMSG_ERR_INTERNAL,
                                    "out of memory");
        if (s->page.complete)
            xmsg_strvec_clear(&s->state.seen);
        rc = xmsg_state_prepare(&s->state, 0, s->c->st);
        if (!rc)
            rc = hand_over(s);
        if (!rc)
            rc = xmsg_state_commit(&s->state, s->c->st);
        if (rc || s->page.complete || !s->page.last)
            return rc;
        /* A page is progress: timeout bounds each page, so that a large
         * archive is not cut off by a deadline meant for a dead server. */
        xmsg_conn_extend(s->c);
    }
}

/* First run: what offline storage holds is handed over and the checkpoint
 * goes to the archive's end; archive ids handed over are remembered so
 * that the next archive walk skips them. Offline storage is drained before
 * the archive is queried (Prosody stops pushing it once a session queried
 * the archive). A marker written first makes an interrupted first run
 * visible: the next run then walks the whole archive, so nothing drained
 * is lost. */
static xmsg_err first_run(struct collect *s)
{
    size_t i;
    const char *aid;
    xmsg_err rc;

    rc = xmsg_state_prepare(&s->state, 1, s->c->st);
    if (!rc)
        rc = xmsg_state_commit(&s->state, s->c->st);
    if (!rc)
        rc = drain_offline(s);
    /* Live messages keep being taken until the hand-over: those archived
     * before the archive's end is read must not fall behind it. A ping
     * after the query lets in-flight ones arrive. */
    s->discard_results = 1;
    if (!rc)
        rc = query(s, NULL, 1);
    s->discard_results = 0;
    s->answered = 0;
    if (!rc)
        rc = xmsg_conn_ping(s->c, &s->answered);
    if (!rc)
        rc = xmsg_conn_wait(s->c, &s->answered);
    if (rc)
        return rc;
    if (unsupported(&s->page)) {
        xmsg_state_remove(&s->state);
        xmsg_conn_log(s->c, XMSG_LOG_INFO,
                      "the server has no message "
                      "archive: collected from offline storage (at most once)");
        return hand_over(s);
    }
    xmsg_conn_log(s->c, XMSG_LOG_INFO,
                  "first collection: offline storage "
                  "handed over, checkpoint at the archive's end");
    if (xmsg_state_set_after(&s->state, s->page.last))
        return xmsg_status_fail(s->c->st, XMSG_ERR_INTERNAL, "out of memory");
    for (i = 0; i < s->n_batch; i++) {
        aid = xmsg_message_get(s->batch[i], "archiveId");
        if (aid && xmsg_strvec_push(&s->state.seen, aid))
            return xmsg_status_fail(s->c->st, XMSG_ERR_INTERNAL,
                                    "out of memory");
    }
    s->collecting = 0;
    rc = xmsg_state_prepare(&s->state, 0, s->c->st);
    if (!rc)
        rc = hand_over(s);
    if (!rc)
        rc = xmsg_state_commit(&s->state, s->c->st);
    return rc;
}

static xmsg_err offline_only(struct collect *s, const char *why)
{
    xmsg_err rc;

    xmsg_conn_log(s->c, XMSG_LOG_INFO,
                  "collecting from offline storage (at "
                  "most once): %s",
                  why);
    s->push = PUSH_ALL;
    rc = drain_offline(s);
    return rc ? rc : hand_over(s);
}

static xmsg_err with_archive(struct collect *s)
{
    xmsg_err rc;

    if (!s->state.exists)
        return first_run(s);
    if (s->state.interrupted)
        xmsg_conn_log(s->c, XMSG_LOG_WARN,
                      "the first collection into %s was "
                      "interrupted after the server drained its offline "
                      "storage: handing over the whole archive so that "
                      "nothing is lost",
                      s->state.path);
    rc = walk_archive(s);
    if (rc)
        return rc;
    s->push = PUSH_UNARCHIVED;
    rc = drain_offline(s);
    return rc ? rc : hand_over(s);
}

static xmsg_err load_state(struct collect *s, const xmsg_params *p,
                           xmsg_status *st)
{
    char *path;
    xmsg_err rc;

    if (!p->mam)
        return XMSG_OK;
    path = p->state_file ? xmsg_strdup(p->state_file)
                         : xmsg_state_default_path(s->bare);
    if (!path)
        return XMSG_OK;
    /* One collector at a time on a state file: another one waits for
     * the lock up to timeout, then fails with timeout. */
    rc = xmsg_state_lock(path, p->timeout * 1000L, &s->lock_fd, st);
    if (!rc)
        rc = xmsg_state_load(&s->state, path, st);
    free(path);
    s->use_state = rc == XMSG_OK;
    return rc;
}

static xmsg_err run(struct collect *s, const xmsg_params *p, xmsg_status *st)
{
    /* A session of one call, without stream management (nothing to
     * confirm; a server must not re-route what it pushed here) and keeping
     * nothing itself: this file hands each message over. */
    const unsigned kind =
        XMSG_SESSION_ONE_CALL | XMSG_SESSION_NO_SM | XMSG_SESSION_NO_KEEP;
    xmsg_session *sess = NULL;
    xmsg_conn *c;
    xmsg_err rc;

    rc = xmsg_session_start(p, kind, &sess, st);
    if (rc)
        return rc;
    c = &sess->c;
    s->c = c;
    s->sess = sess;
    rc = xmsg_recv_hook_install(sess);
    if (!rc && xmsg_conn_handler_add(c, on_message, "message", NULL, s))
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    if (rc) {
        xmsg_session_close(sess, st);
        return rc;
    }
    if (s->use_state)
        rc = with_archive(s);
    else
        rc = offline_only(s,
                          p->mam ? "no place for a state file" : "mam is off");
    if (!rc && s->failed)
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                              "out of memory while collecting messages");
    if (!rc)
        xmsg_conn_log(c, XMSG_LOG_INFO, "collected %zu message(s)", s->handed);
    if (!rc) /* else the hook's state just goes with the session */
        xmsg_recv_hook_done(sess);
    xmsg_conn_handler_delete(c, on_message);
    xmsg_mam_page_reset(&s->page); /* its handler goes with the session */
    xmsg_session_close(sess, st);
    return rc;
}

xmsg_err xmsg_connect_each(const xmsg_params *p, xmsg_message_cb cb,
                           void *userdata, xmsg_status *st)
{
    struct collect s;
    xmsg_err rc;

    if (!st)
        return XMSG_ERR_INPUT;
    st->is_collect = 1;
    if (!cb)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "no message callback");
    rc = xmsg_params_check(p, st);
    if (rc)
        return rc;
    memset(&s, 0, sizeof(s));
    s.cb = cb;
    s.userdata = userdata;
    s.lock_fd = -1;
    s.bare = xmsg_jid_bare_norm(p->jid);
    if (!s.bare)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    rc = load_state(&s, p, st);
    if (!rc)
        rc = run(&s, p, st);
    batch_clear(&s);
    free(s.batch);
    xmsg_mam_page_reset(&s.page);
    xmsg_state_clear(&s.state);
    xmsg_state_unlock(&s.lock_fd);
    free(s.bare);
    return rc;
}

static int keep_in_status(const xmsg_message *m, void *userdata)
{
    xmsg_status *st = userdata;
    xmsg_message *copy;

    if (!m)
        return 0;
    copy = xmsg_message_copy(m);
    if (!copy || xmsg_status_add_message(st, copy)) {
        xmsg_message_free(copy);
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        return -1;
    }
    return 0;
}

xmsg_err xmsg_connect(const xmsg_params *p, xmsg_status *st)
{
    if (st)
        st->keeps = 1;
    return xmsg_connect_each(p, keep_in_status, st, st);
}
