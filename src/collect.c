/* collect.c - log in, collect every message waiting for the user, close. */
#include "session.h"

struct collect_state {
    xmsg_conn *c;
    int answered;
    int failed;
};

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct collect_state *s = userdata;
    xmsg_message *m;

    (void)conn;
    if (!xmpp_stanza_get_child_by_name(stanza, "body")) {
        xmsg_conn_log(s->c, XMSG_LOG_DEBUG, "skipped a message without body");
        return 1;
    }
    m = xmsg_message_from_stanza(stanza);
    if (!m || xmsg_status_add_message(s->c->st, m)) {
        xmsg_message_free(m);
        s->failed = 1;
    }
    return 1;
}

/* Offline messages are pushed after the initial presence; the server
 * handles a stream's stanzas in order, so all of them have arrived when
 * the ping sent after the presence is answered. */
static xmsg_err collect(xmsg_conn *c, struct collect_state *s)
{
    xmpp_stanza_t *pres = xmpp_presence_new(c->ctx);
    xmsg_err rc;

    if (!pres)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    xmpp_handler_add(c->conn, on_message, NULL, "message", NULL, s);
    xmpp_send(c->conn, pres);
    xmpp_stanza_release(pres);
    rc = xmsg_conn_ping(c, &s->answered);
    if (!rc)
        rc = xmsg_conn_wait(c, &s->answered);
    return rc;
}

xmsg_err xmsg_connect(const xmsg_params *p, xmsg_status *st)
{
    struct collect_state s = {0};
    xmsg_conn c;
    xmsg_err rc;

    if (!st)
        return XMSG_ERR_INPUT;
    st->is_collect = 1;
    rc = xmsg_params_check(p, st);
    if (rc)
        return rc;
    rc = xmsg_conn_open(&c, p, st);
    if (rc)
        return rc;
    s.c = &c;
    rc = collect(&c, &s);
    /* Messages arriving while the stream closes are kept too. */
    xmsg_conn_close(&c);
    if (!rc && s.failed)
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                              "out of memory while collecting messages");
    if (!rc)
        xmsg_conn_log(&c, XMSG_LOG_INFO, "collected %zu message(s)",
                      st->n_messages);
    return rc;
}
