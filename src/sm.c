/* sm.c - XEP-0198 stream management, the part a sender needs: counting
 * stanzas both ways, asking the server for its count (<r/>), answering its
 * requests, and noticing a refusal. libstrophe's own implementation stays
 * off (it can re-send stale stanzas); nothing is resumed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define NS_SM "urn:xmpp:sm:3"

static void on_acked(xmsg_conn *c, const char *hs)
{
    char *end;
    unsigned long h = strtoul(hs, &end, 10);

    if (*hs < '0' || *hs > '9' || *end) {
        xmsg_conn_log(c, XMSG_LOG_WARN, "ignored an <a/> without a count");
        return;
    }
    if (h > c->out) {
        /* Acknowledging what never was sent makes every ack worthless. */
        c->overacked = 1;
        xmsg_conn_abort(c, XMSG_ERR_PROTOCOL,
                        "the server acknowledged more stanzas than were "
                        "sent: its acknowledgement is worthless");
        return;
    }
    if (h > c->acked)
        c->acked = h;
    if (c->on_ack)
        c->on_ack(c->ack_userdata, c->acked);
}

static int on_sm(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    xmsg_conn *c = userdata;
    const char *name = xmpp_stanza_get_name(stanza);
    const char *h = xmpp_stanza_get_attribute(stanza, "h");
    char buf[64];

    (void)conn;
    if (!c->sm_on)
        return 1;
    if (strcmp(name, "a") == 0) {
        on_acked(c, h ? h : "");
    } else if (strcmp(name, "r") == 0) {
        snprintf(buf, sizeof(buf), "<a xmlns='" NS_SM "' h='%lu'/>", c->in);
        xmsg_conn_send_nonza(c, buf);
    } else if (strcmp(name, "failed") == 0) {
        c->sm_on = 0;
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "the server refused stream management: confirming "
                      "with pings");
        if (c->on_sm_failed)
            c->on_sm_failed(c->ack_userdata);
    }
    return 1;
}

static int on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    xmsg_conn *c = userdata;
    const char *name = xmpp_stanza_get_name(stanza);

    (void)conn;
    (void)name;
    if (xmsg_is_stanza(stanza))
        c->in++;
    return 1;
}

void xmsg_sm_start(xmsg_conn *c)
{
    if (!c->sm_offered)
        return;
    xmpp_handler_add(c->conn, on_sm, NS_SM, NULL, NULL, c);
    xmpp_handler_add(c->conn, on_stanza, NULL, NULL, NULL, c);
    c->out = c->in = c->acked = 0;
    c->sm_on = 1;
    xmsg_conn_send_nonza(c, "<enable xmlns='" NS_SM "'/>");
}

void xmsg_sm_request(xmsg_conn *c)
{
    xmsg_conn_send_nonza(c, "<r xmlns='" NS_SM "'/>");
}
