/* checkpoint.c - a session (xmsg listen) shares the collection checkpoint
 * of its account with xmsg connect (params checkpoint), so that the two
 * hand each archived message over once between them.
 *
 * The state file says what was handed over: every archive id up to
 * `after`, and the ids in `seen`. Archive ids are opaque (no order to
 * compare), so whether a received message lies at or before `after` is
 * learnt from the archive itself: a sync reads the archive after `after`
 * (the walk); a message received before the walk was asked for is in the
 * archive already (servers archive before they route), so one the walk
 * does not hold lies at or before `after`: handed over. What arrives
 * after the walk was asked for lies after it. The walk also hands over
 * what the archive holds that this session never got.
 *
 * Under the state file's lock, taken without waiting around each
 * hand-over (never for the session's life): load the state; sync when
 * none ran yet, when `after` moved (a connect ran), or to compact `seen`;
 * drop what was handed over; hand the rest to the caller, add each
 * archive id to `seen`; write the state; unlock. A connect holds the lock
 * for its whole run and skips `seen`. */
#include <stdlib.h>
#include <string.h>

#include "features/mam.h"
#include "features/sessobj.h"
#include "features/state.h"

/* `seen` longer than this is folded into `after` by a sync. */
#define CK_COMPACT 256

struct walk {
    xmsg_session *s;
    xmsg_mam_page page;
    const xmsg_state *state;
};

/* 1 if id is in v. */
static int has(const xmsg_strvec *v, const char *id)
{
    size_t i;

    for (i = 0; id && i < v->n; i++) {
        if (strcmp(v->v[i], id) == 0)
            return 1;
    }
    return 0;
}

/* The archive id of a result of our query (sent by the account), or
 * NULL. Borrowed. */
static const char *result_id(const xmsg_xel *stanza, const xmsg_mam_page *p,
                             const char *own_bare)
{
    const xmsg_xel *res = xmsg_xel_child(stanza, XMSG_NS_MAM, "result");
    const char *from = xmsg_xel_attr(stanza, "from");
    const char *qid = res ? xmsg_xel_attr(res, "queryid") : NULL;

    if (!qid || strcmp(qid, p->queryid) != 0 ||
        (from && (strchr(from, '/') || !xmsg_jid_bare_is(from, own_bare))))
        return NULL;
    return xmsg_xel_attr(res, "id");
}

/* A result: its id goes into the walk (what nobody hands over, the
 * account's own messages and results without body, also into ck_skip);
 * an incoming message neither handed over nor received is kept for the
 * caller. */
static int on_result(xmsg_conn *conn, const xmsg_xel *stanza, void *userdata)
{
    struct walk *w = userdata;
    xmsg_session *s = w->s;
    const char *id = result_id(stanza, &w->page, s->bare);
    xmsg_message *m;
    int is_result, own;

    (void)conn;
    if (!id)
        return 1;
    m = xmsg_mam_result(stanza, &w->page, s->bare, &is_result);
    own = m && xmsg_jid_bare_is(xmsg_message_get(m, "from"), s->bare);
    if (xmsg_strvec_push(&s->ck_walk, id) ||
        ((!m || own) && xmsg_strvec_push(&s->ck_skip, id)))
        s->ck_failed = 1;
    if (!m || own || has(&w->state->seen, id) || xmsg_session_seen(s, id)) {
        xmsg_message_free(m);
        return 1;
    }
    xmsg_session_saw(s, id);
    if (xmsg_message_put(m, "kind", "message") || xmsg_session_keep(s, m)) {
        xmsg_message_free(m);
        s->ck_failed = 1;
    }
    return 1;
}

/* Reads the archive after `after` to its end into s->ck_walk. */
static xmsg_err walk(xmsg_session *s, const xmsg_state *state)
{
    struct walk w;
    xmsg_conn *c = &s->c;
    char *after = xmsg_strdup(state->after);
    xmsg_err rc = XMSG_OK;

    memset(&w, 0, sizeof(w));
    w.s = s;
    w.state = state;
    if (xmsg_conn_handler_add(c, on_result, "message", NULL, &w)) {
        free(after);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    do {
        rc = xmsg_mam_query(c, &w.page, after, 100, 0);
        if (!rc)
            rc = xmsg_conn_wait(c, &w.page.done);
        free(after);
        after = w.page.last ? xmsg_strdup(w.page.last) : NULL;
        xmsg_conn_extend(c);
    } while (!rc && !w.page.error && !w.page.complete && after);
    if (!rc && w.page.error) {
        xmsg_conn_log(c, XMSG_LOG_WARN, "archive query failed: %s",
                      w.page.cond);
        rc = XMSG_ERR_PROTOCOL;
    }
    xmsg_conn_handler_delete(c, on_result);
    xmsg_mam_page_reset(&w.page);
    free(after);
    return rc;
}

/* Removes id from v (order kept). */
static void drop_id(xmsg_strvec *v, const char *id)
{
    size_t i;

    for (i = 0; i < v->n && strcmp(v->v[i], id) != 0; i++)
        ;
    if (i == v->n)
        return;
    free(v->v[i]);
    memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(*v->v));
    v->n--;
}

/* Removes v's first k strings. */
static void drop_first(xmsg_strvec *v, size_t k)
{
    size_t i;

    if (!k)
        return;
    for (i = 0; i < k; i++)
        free(v->v[i]);
    memmove(v->v, v->v + k, (v->n - k) * sizeof(*v->v));
    v->n -= k;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if id is in v, sorted. */
static int has_sorted(const xmsg_strvec *v, const char *id)
{
    return v->n && bsearch(&id, v->v, v->n, sizeof(*v->v), cmp_str) != NULL;
}

/* Moves `after` over the walk's first ids while each was handed over
 * (in seen) or is one nobody hands over: seen stays short. Then sorts
 * the rest of the walk, for lookups. */
static int compact(xmsg_session *s, xmsg_state *state)
{
    size_t k;

    for (k = 0; k < s->ck_walk.n; k++) {
        const char *id = s->ck_walk.v[k];

        if (!has(&state->seen, id) && !has(&s->ck_skip, id))
            break;
        drop_id(&state->seen, id);
        if (xmsg_state_set_after(state, id))
            return -1;
        s->ck_dirty = 1;
    }
    drop_first(&s->ck_walk, k); /* it now starts after the new `after` */
    if (s->ck_walk.n)
        qsort(s->ck_walk.v, s->ck_walk.n, sizeof(*s->ck_walk.v), cmp_str);
    return 0;
}

/* A new checkpoint at the archive's end (no state file yet): what
 * arrived before is not covered; what is handed over goes into seen. */
static xmsg_err start_checkpoint(xmsg_session *s, xmsg_state *state)
{
    xmsg_mam_page page;
    xmsg_err rc;

    memset(&page, 0, sizeof(page));
    rc = xmsg_mam_query(&s->c, &page, NULL, 1, 1);
    if (!rc)
        rc = xmsg_conn_wait(&s->c, &page.done);
    if (!rc && page.error) {
        xmsg_conn_log(&s->c, XMSG_LOG_WARN, "archive query failed: %s",
                      page.cond);
        rc = XMSG_ERR_PROTOCOL;
    }
    if (!rc && xmsg_state_set_after(state, page.last))
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    xmsg_mam_page_reset(&page);
    s->ck_dirty = 1;
    return rc;
}

static xmsg_err sync(xmsg_session *s, xmsg_state *state)
{
    xmsg_err rc;

    s->ck_before = xmsg_session_kept_end(s);
    xmsg_strvec_clear(&s->ck_walk);
    xmsg_strvec_clear(&s->ck_skip);
    s->ck_known = 0;
    xmsg_conn_extend(&s->c);
    if (!state->exists)
        rc = start_checkpoint(s, state);
    else if (state->interrupted)
        rc = XMSG_OK; /* connect hands over the whole archive next */
    else
        rc = walk(s, state);
    if (!rc && s->ck_failed)
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    if (!rc && state->exists && !state->interrupted) {
        s->ck_known = 1;
        if (compact(s, state))
            rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    }
    free(s->ck_after);
    s->ck_after = xmsg_strdup(state->after);
    s->ck_synced = !rc;
    xmsg_conn_set_deadline(&s->c, UINT64_MAX / 2);
    return rc;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Was the queued message i (archive id aid) handed over already? */
static int covered(const xmsg_session *s, const xmsg_state *state, size_t i,
                   const char *aid)
{
    return has(&state->seen, aid) ||
           (s->ck_known && s->inq_first + i < s->ck_before &&
            !has_sorted(&s->ck_walk, aid));
}

/* Hands the queue over: 1 when the callback asked to stop. Once seen
 * holds more than CK_COMPACT ids the rest waits for the next hand-over,
 * whose sync folds seen into after first: the checkpoint stays small
 * however much arrived at once (at least one goes each time). */
static int hand_over(xmsg_session *s, xmsg_state *state, xmsg_message_cb cb,
                     void *userdata, size_t *n)
{
    const size_t n0 = *n;
    xmsg_message *m;
    const char *aid;
    int stop = 0, drop, r;

    while (s->inq_n && !stop && (*n == n0 || state->seen.n <= CK_COMPACT)) {
        aid = xmsg_message_get(xmsg_session_kept(s, 0), "archiveId");
        drop = aid && covered(s, state, 0, aid);
        m = xmsg_session_take(s, 0);
        aid = xmsg_message_get(m, "archiveId");
        if (drop) {
            xmsg_conn_log(&s->c, XMSG_LOG_DEBUG,
                          "message %s was handed over already", aid);
        } else {
            r = xmsg_session_call(s, cb, m, userdata);
            stop = r != 0;
            (*n)++;
            /* Negative: cb could not take it (it is not recorded). */
            if (r >= 0 && aid && xmsg_strvec_push(&state->seen, aid) == 0)
                s->ck_dirty = 1;
        }
        xmsg_message_free(m);
    }
    return stop;
}

static int needs_sync(const xmsg_session *s, const xmsg_state *state)
{
    return !s->ck_synced || !same(s->ck_after, state->after) ||
           state->seen.n > CK_COMPACT;
}

/* Any archived message queued? */
static int archived_queued(const xmsg_session *s)
{
    size_t i;

    for (i = 0; i < s->inq_n; i++) {
        if (xmsg_message_get(xmsg_session_kept(s, i), "archiveId"))
            return 1;
    }
    return 0;
}

/* The checkpoint cannot be shared (no archive, a bad state file): this
 * session hands over as if it had none. */
static void give_up(xmsg_session *s, const char *why)
{
    xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                  "the checkpoint %s is not shared with connect: %s",
                  s->ck_path, why ? why : "failed");
    s->ck_on = 0;
}

/* Under the lock: load, sync when needed, hand over, write. */
static int locked_deliver(xmsg_session *s, xmsg_message_cb cb, void *userdata,
                          size_t *n, xmsg_status *quiet)
{
    xmsg_state state;
    int stop = 0;
    xmsg_err rc = xmsg_state_load(&state, s->ck_path, quiet);

    if (!rc && needs_sync(s, &state)) {
        if (s->lost || s->c.closed) /* after the reconnection */
            goto out;
        rc = sync(s, &state);
        if (rc && (s->lost || s->c.closed))
            goto out;
    }
    if (!rc)
        stop = hand_over(s, &state, cb, userdata, n);
    if (!rc && s->ck_dirty)
        rc = xmsg_state_prepare(&state, state.interrupted, quiet);
    if (!rc && s->ck_dirty)
        rc = xmsg_state_commit(&state, quiet);
    if (!rc)
        s->ck_dirty = 0;
    if (rc)
        give_up(s, xmsg_status_text(quiet) ? xmsg_status_text(quiet)
                                           : "the archive could not be read");
out:
    xmsg_state_clear(&state);
    return stop;
}

int xmsg_checkpoint_deliver(xmsg_session *s, xmsg_message_cb cb, void *userdata,
                            size_t *n)
{
    xmsg_status *quiet;
    int fd = -1, stop = 0;

    if (!s->ck_on || (s->ck_synced && !archived_queued(s)))
        return xmsg_session_deliver(s, cb, userdata, n);
    quiet = xmsg_status_new();
    if (!quiet)
        return 0;
    /* Never waits: while a connect runs, the queue waits instead. */
    if (xmsg_state_lock(s->ck_path, 0, &fd, quiet) == XMSG_OK)
        stop = locked_deliver(s, cb, userdata, n, quiet);
    else if (xmsg_status_code(quiet) != XMSG_ERR_TIMEOUT)
        give_up(s, xmsg_status_text(quiet));
    xmsg_state_unlock(&fd);
    xmsg_status_free(quiet);
    if (!s->ck_on && !stop)
        stop = xmsg_session_deliver(s, cb, userdata, n);
    return stop;
}

xmsg_err xmsg_checkpoint_start(xmsg_session *s)
{
    if (!s->p->checkpoint || !s->p->mam || !s->bare)
        return XMSG_OK;
    s->ck_path = s->p->state_file ? xmsg_strdup(s->p->state_file)
                                  : xmsg_state_default_path(s->bare);
    if (!s->ck_path) {
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "no place for a state file: the checkpoint is not "
                      "shared with connect");
        return XMSG_OK;
    }
    s->ck_on = 1;
    return XMSG_OK;
}

void xmsg_checkpoint_free(xmsg_session *s)
{
    free(s->ck_path);
    free(s->ck_after);
    xmsg_strvec_clear(&s->ck_walk);
    xmsg_strvec_clear(&s->ck_skip);
}
