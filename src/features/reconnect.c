/* reconnect.c - a session that lost its connection logs in again (params
 * reconnect), and gets back what it missed from the message archive.
 *
 * First XEP-0198 resumption (the stream layer, src/xmpp): when the server
 * still holds the session, it goes on where it stopped, both sides
 * re-sending what the other did not acknowledge; nothing else is done.
 * When resumption is refused (or was never offered) the stream logs in
 * afresh, and the archive brings back what was missed: every message the
 * server archives for the account carries its archive id (XEP-0359
 * stanza-id); the session remembers the last one it received and the
 * recent ones.
 *
 * After logging in again: presence first, confirmed by the server; then
 * the archive is read after the last id. In that order no message falls
 * between the two: one routed while the account was offline is archived
 * before its route is decided, so the archive read after the presence
 * holds it even when the server's offline storage missed the presence
 * (ejabberd can store a message offline just after the presence released
 * offline storage: read before the presence, the archive lost it). What
 * comes twice (offline storage or live, then the archive) is dropped by
 * its id, and what arrived since the presence is put in the archive's
 * order: the caller gets every message once, oldest first. */
#include <stdlib.h>
#include <string.h>

#include "features/mam.h"
#include "features/sessobj.h"

/* ---- archive ids seen ---- */

int xmsg_session_seen(xmsg_session *s, const char *aid)
{
    size_t i;

    for (i = 0; i < XMSG_SEEN_MAX; i++) {
        if (s->seen[i] && strcmp(s->seen[i], aid) == 0)
            return 1;
    }
    return 0;
}

void xmsg_session_saw(xmsg_session *s, const char *aid)
{
    char *copy = xmsg_strdup(aid);

    if (!copy)
        return;
    free(s->seen[s->seen_next]);
    s->seen[s->seen_next] = copy;
    s->seen_next = (s->seen_next + 1) % XMSG_SEEN_MAX;
    if (s->catchup_from)
        return; /* the catch-up sets it, in the archive's order */
    free(s->last_aid);
    s->last_aid = xmsg_strdup(aid);
}

void xmsg_session_forget(xmsg_session *s)
{
    size_t i;

    for (i = 0; i < XMSG_SEEN_MAX; i++) {
        free(s->seen[i]);
        s->seen[i] = NULL;
    }
    free(s->last_aid);
    s->last_aid = NULL;
    free(s->catchup_from);
    s->catchup_from = NULL;
    xmsg_message_free(s->presence);
    s->presence = NULL;
}

/* ---- the archive after the last id ---- */

struct catchup {
    xmsg_session *s;
    xmsg_mam_page page;
    char *bare;
    xmsg_strvec order; /* the archive ids the archive gave, in its order */
    size_t kept;       /* of them, those not received otherwise */
    int failed;        /* out of memory */
};

static int on_result(xmsg_conn *conn, const xmsg_xel *stanza, void *userdata)
{
    struct catchup *k = userdata;
    xmsg_message *m;
    const char *aid, *from;
    int is_result;

    (void)conn;
    m = xmsg_mam_result(stanza, &k->page, k->bare, &is_result);
    aid = m ? xmsg_message_get(m, "archiveId") : NULL;
    from = m ? xmsg_message_get(m, "from") : NULL;
    if (aid && xmsg_strvec_push(&k->order, aid))
        k->failed = 1;
    /* What the account sent is in its archive too: only what came in. */
    if (!aid || xmsg_session_seen(k->s, aid) ||
        xmsg_jid_bare_is(from, k->bare)) {
        xmsg_message_free(m);
        return 1;
    }
    xmsg_session_saw(k->s, aid);
    if (xmsg_message_put(m, "kind", "message") || xmsg_session_keep(k->s, m))
        xmsg_message_free(m);
    else
        k->kept++;
    return 1;
}

/* The rank of kept stanza m: its archive id's place in the archive's
 * read, or after all of them (not in that read: live, newer). */
static size_t archive_rank(const xmsg_message *m, const void *arg)
{
    const xmsg_strvec *order = arg;
    const char *aid = xmsg_message_get(m, "archiveId");
    size_t i;

    for (i = 0; aid && i < order->n; i++) {
        if (strcmp(order->v[i], aid) == 0)
            return i;
    }
    return order->n;
}

/* Puts what was kept since position mark in the archive's order (what
 * came live since the read, after it, as it came); the last archive id
 * is then the newest of them. */
static int put_in_order(xmsg_session *s, size_t mark, const xmsg_strvec *order)
{
    const char *aid = NULL;
    size_t end;
    char *copy;

    if (xmsg_session_sort_since(s, mark, archive_rank, order))
        return -1;
    for (end = xmsg_session_kept_end(s); !aid && end > mark; end--) {
        const xmsg_message *m = xmsg_session_kept_at(s, end - 1);

        aid = m ? xmsg_message_get(m, "archiveId") : NULL;
    }
    if (!aid || (s->last_aid && strcmp(s->last_aid, aid) == 0))
        return 0;
    copy = xmsg_strdup(aid);
    if (!copy)
        return -1;
    free(s->last_aid);
    s->last_aid = copy;
    return 0;
}

static xmsg_err catch_up(xmsg_session *s, const char *from_aid, size_t mark)
{
    struct catchup k;
    xmsg_conn *c = &s->c;
    char *after = xmsg_strdup(from_aid);
    xmsg_err rc = XMSG_OK;

    memset(&k, 0, sizeof(k));
    k.s = s;
    k.bare = xmsg_jid_bare_norm(s->p->jid);
    if (!k.bare || !after ||
        xmsg_conn_handler_add(c, on_result, "message", NULL, &k)) {
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
        goto out;
    }
    do {
        xmsg_mam_page_reset(&k.page);
        rc = xmsg_mam_query(c, &k.page, after, 100, 0);
        if (!rc)
            rc = xmsg_conn_wait(c, &k.page.done);
        free(after);
        after = k.page.last ? xmsg_strdup(k.page.last) : NULL;
    } while (!rc && !k.page.error && !k.page.complete && after);
    xmsg_conn_handler_delete(c, on_result);
    if (!rc && (k.failed || put_in_order(s, mark, &k.order)))
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    if (!rc && k.page.error)
        xmsg_conn_log(c, XMSG_LOG_WARN,
                      "the archive could not be read after %s (%s): "
                      "messages sent while the connection was down come "
                      "from offline storage only",
                      from_aid, k.page.cond);
    else if (!rc)
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "%zu message(s) from the archive missed while the "
                      "connection was down",
                      k.kept);
out:
    xmsg_mam_page_reset(&k.page);
    xmsg_strvec_clear(&k.order);
    free(after);
    free(k.bare);
    return rc;
}

/* ---- logging in again ---- */

/* One attempt: XEP-0198 resumption (the session goes on as it was), or a
 * fresh login: rejoin, presence again. Then the catch-up, when one is due
 * (a fresh login, or one that failed before: a session resumed since
 * does not hold what only the archive has). */
static xmsg_err attempt(xmsg_session *s)
{
    char *occupant = NULL;
    size_t mark;
    int resumed = 0;
    xmsg_err rc = xmsg_conn_reopen(&s->c, &resumed);

    if (rc)
        return rc;
    if (resumed && !s->catchup_from) {
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "the session was resumed (XEP-0198): nothing missed");
        return XMSG_OK;
    }
    if (!resumed) {
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "a fresh login (no resumption): "
                      "rejoining and catching up");
        if (s->occupant)
            rc = xmsg_muc_join(s, s->p->room, s->p->nick, s->p->room_password,
                               &occupant);
        free(occupant);
        /* From the last id received before the presence (until the
         * catch-up is done, what arrives does not move it). */
        if (!rc && s->last_aid && !s->catchup_from &&
            !(s->catchup_from = xmsg_strdup(s->last_aid)))
            rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    }
    mark = xmsg_session_kept_end(s);
    if (!rc && !resumed && s->presence)
        rc = xmsg_session_send_one(&s->c, s->presence, 0);
    if (!rc && s->catchup_from)
        rc = catch_up(s, s->catchup_from, mark);
    if (!rc) {
        free(s->catchup_from);
        s->catchup_from = NULL;
    }
    return rc;
}

void xmsg_session_mark_lost(xmsg_session *s)
{
    if (s->lost)
        return;
    xmsg_conn_log(&s->c, XMSG_LOG_WARN, "connection lost (%s): reconnecting",
                  xmsg_status_text(s->c.st) ? xmsg_status_text(s->c.st)
                                            : "closed");
    s->lost = 1;
    s->backoff = 0;
    s->next_attempt = xmsg_now_ms();
}

xmsg_err xmsg_session_reconnect(xmsg_session *s)
{
    xmsg_err rc;

    xmsg_session_mark_lost(s);
    if (xmsg_now_ms() < s->next_attempt)
        return XMSG_ERR_CONNECT;
    /* Each attempt's failure is logged; the last one is the call's. */
    xmsg_status_clear_error(s->c.st);
    rc = attempt(s);
    if (!rc) {
        s->lost = 0;
        xmsg_conn_log(&s->c, XMSG_LOG_WARN, "reconnected");
        return XMSG_OK;
    }
    xmsg_conn_log(&s->c, XMSG_LOG_WARN, "reconnecting failed: %s",
                  xmsg_status_text(s->c.st));
    s->backoff = s->backoff ? s->backoff * 2 : 500;
    if (s->backoff > 10000)
        s->backoff = 10000;
    s->next_attempt = xmsg_now_ms() + s->backoff;
    return rc;
}
