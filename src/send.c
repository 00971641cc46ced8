/* send.c - log in, send one message, wait for the server's confirmation,
 * close. */
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define NS_SM "urn:xmpp:sm:3"

struct send_state {
    xmsg_conn *c;
    const char *id;
    int answered;  /* the server confirmed: <a h≥1/> or ping result */
    int sm_failed; /* the server refused to enable stream management */
    int overacked; /* it acknowledged more than was sent */
    unsigned long received; /* stanzas received, for the server's <r/> */
    int bounced;            /* the server returned the message as an error */
    char cond[128];
};

static xmsg_err check_message(const xmsg_message *m, xmsg_status *st)
{
    const char *body = xmsg_message_get(m, "body");
    const char *to = xmsg_message_get(m, "to");

    if (!body || !*body)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "message.body: is required");
    if (!to || !*to)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "message.to: is required");
    return XMSG_OK;
}

/* The message as sent: the caller's fields plus the defaults. */
static xmsg_message *with_defaults(const xmsg_message *m, const char *jid)
{
    static const char *const keys[] = {"type", "ns", "from", "xml:lang"};
    const char *vals[] = {"chat", "jabber:client", jid, "en"};
    xmsg_message *out = xmsg_message_copy(m);
    size_t i;

    for (i = 0; out && i < sizeof(keys) / sizeof(*keys); i++) {
        if (!xmsg_message_get(out, keys[i]) &&
            xmsg_message_put(out, keys[i], vals[i]))
            goto fail;
    }
    return out;
fail:
    xmsg_message_free(out);
    return NULL;
}

static int on_bounce(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct send_state *s = userdata;
    const char *id = xmpp_stanza_get_id(stanza);
    xmpp_stanza_t *err, *cond;

    (void)conn;
    if (!id || strcmp(id, s->id) != 0)
        return 1;
    s->bounced = 1;
    err = xmpp_stanza_get_child_by_name(stanza, "error");
    cond = err ? xmpp_stanza_get_children(err) : NULL;
    while (cond && !xmpp_stanza_is_tag(cond))
        cond = xmpp_stanza_get_next(cond);
    snprintf(s->cond, sizeof(s->cond), "%s",
             cond ? xmpp_stanza_get_name(cond) : "undefined-condition");
    return 1;
}

/* XEP-0198 elements: <a/> acknowledges our stanzas, <r/> asks for our
 * count, <failed/> refuses <enable/>. */
static int on_sm(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct send_state *s = userdata;
    const char *name = xmpp_stanza_get_name(stanza);
    const char *h = xmpp_stanza_get_attribute(stanza, "h");

    if (strcmp(name, "a") == 0 && h && strtoul(h, NULL, 10) > 1)
        s->overacked = s->answered = 1;
    else if (strcmp(name, "a") == 0 && h && strtoul(h, NULL, 10) == 1)
        s->answered = 1;
    else if (strcmp(name, "r") == 0)
        xmpp_send_raw_string(conn, "<a xmlns='" NS_SM "' h='%lu'/>",
                             s->received);
    else if (strcmp(name, "failed") == 0)
        s->sm_failed = s->answered = 1;
    return 1;
}

static int on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct send_state *s = userdata;
    const char *name = xmpp_stanza_get_name(stanza);

    (void)conn;
    if (!strcmp(name, "message") || !strcmp(name, "iq") ||
        !strcmp(name, "presence"))
        s->received++;
    return 1;
}

/* Asks for the server's confirmation of everything sent so far: an ack
 * request when stream management is on, else a ping (answered in order). */
static xmsg_err request_confirmation(xmsg_conn *c, struct send_state *s)
{
    if (c->sm_offered && !s->sm_failed) {
        xmpp_send_raw_string(c->conn, "<r xmlns='" NS_SM "'/>");
        return XMSG_OK;
    }
    return xmsg_conn_ping(c, &s->answered);
}

static xmsg_err transmit(xmsg_conn *c, struct send_state *s,
                         const xmsg_message *m)
{
    xmpp_stanza_t *stanza = xmsg_stanza_from_message(c->ctx, m);
    xmsg_err rc;

    if (!stanza)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    xmpp_handler_add(c->conn, on_bounce, NULL, "message", "error", s);
    if (c->sm_offered) {
        xmpp_handler_add(c->conn, on_sm, NS_SM, NULL, NULL, s);
        xmpp_handler_add(c->conn, on_stanza, NULL, NULL, NULL, s);
        xmpp_send_raw_string(c->conn, "<enable xmlns='" NS_SM "'/>");
    }
    xmpp_send(c->conn, stanza);
    xmpp_stanza_release(stanza);
    xmsg_conn_log(c, XMSG_LOG_INFO,
                  "message %s to %s handed to the connection, waiting for "
                  "the server's confirmation",
                  s->id, xmsg_message_get(m, "to"));
    rc = request_confirmation(c, s);
    if (!rc)
        rc = xmsg_conn_wait(c, &s->answered);
    if (!rc && s->sm_failed) {
        s->answered = 0;
        rc = request_confirmation(c, s);
        if (!rc)
            rc = xmsg_conn_wait(c, &s->answered);
    }
    if (!rc && s->overacked)
        return xmsg_status_fail(c->st, XMSG_ERR_PROTOCOL,
                                "the server acknowledged more stanzas than "
                                "were sent: its acknowledgement is worthless");
    /* A write failed on the message itself or before it (libstrophe
     * counts the queue past the element it was writing, and the request
     * follows the message): it never left, so it was not sent. */
    if (rc && c->unsent >= 1)
        return rc;
    if (rc)
        return xmsg_status_recode(c->st, XMSG_ERR_UNCONFIRMED,
                                  "message was sent but not confirmed");
    xmsg_conn_log(c, XMSG_LOG_INFO, "message %s confirmed by the server (%s)",
                  s->id,
                  c->sm_offered && !s->sm_failed ? "XEP-0198 ack"
                                                 : "ping answered after it");
    return XMSG_OK;
}

xmsg_err xmsg_send(const xmsg_params *p, const xmsg_message *m, xmsg_status *st)
{
    struct send_state s = {0};
    xmsg_message *full = NULL;
    char *id = NULL;
    xmsg_conn c;
    xmsg_err rc;

    if (!st)
        return XMSG_ERR_INPUT;
    st->is_send = 1;
    if (!m)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "message: none given");
    rc = xmsg_params_check(p, st);
    if (!rc)
        rc = check_message(m, st);
    if (rc)
        return rc;
    full = with_defaults(m, p->jid);
    if (!full)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    rc = xmsg_conn_open(&c, p, st);
    if (rc)
        goto out;
    if (!xmsg_message_get(full, "id")) {
        id = xmsg_conn_new_id(&c);
        if (!id || xmsg_message_put(full, "id", id)) {
            rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
            goto close;
        }
    }
    s.c = &c;
    s.id = xmsg_message_get(full, "id");
    rc = transmit(&c, &s, full);
close:
    /* A bounce can trail the confirmation (ejabberd routes it apart from
     * the ack): closing reads the stream to its end and catches it. */
    xmsg_conn_close(&c);
    if (!rc && s.bounced)
        rc = xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                              "the server rejected message %s: %s", s.id,
                              s.cond);
    st->delivered = rc == XMSG_OK;
out:
    free(id);
    xmsg_message_free(full);
    return rc;
}
