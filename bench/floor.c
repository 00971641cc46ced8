/* floor.c - the least a libstrophe client can do to deliver one message:
 * connect, STARTTLS (verified against --ca-file and the system store), SASL,
 * bind, one <message/>, one XEP-0199 ping whose result confirms the message
 * (a server handles a stream's stanzas in order), disconnect. No presence,
 * roster, disco or stream management. TCP_NODELAY is set, as any careful
 * client does. It is the yardstick of bench/run's one-shot figure.
 *
 *   FLOOR_PASSWORD=pw floor JID HOST PORT CAFILE TO BODY
 *
 * Exit 0 when the ping was answered, 1 otherwise. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <strophe.h>

struct floor_state {
    const char *to, *body;
    int confirmed;
};

static int on_sockopt(xmpp_conn_t *conn, void *sock)
{
    int fd = *(int *)sock, on = 1;

    (void)conn;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int on_pong(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct floor_state *s = userdata;
    const char *type = xmpp_stanza_get_type(stanza);

    s->confirmed = type && strcmp(type, "result") == 0;
    xmpp_disconnect(conn);
    return 0;
}

static void send_message_and_ping(xmpp_conn_t *conn, struct floor_state *s)
{
    xmpp_ctx_t *ctx = xmpp_conn_get_context(conn);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "chat", s->to, "m1");
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", "p1");
    xmpp_stanza_t *ping = xmpp_stanza_new(ctx);

    xmpp_message_set_body(msg, s->body);
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
    xmpp_stanza_add_child(iq, ping);
    xmpp_stanza_release(ping);
    xmpp_id_handler_add(conn, on_pong, "p1", s);
    xmpp_send(conn, msg);
    xmpp_send(conn, iq);
    xmpp_stanza_release(msg);
    xmpp_stanza_release(iq);
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                    xmpp_stream_error_t *stream_error, void *userdata)
{
    (void)error;
    (void)stream_error;
    if (status == XMPP_CONN_CONNECT)
        send_message_and_ping(conn, userdata);
    else
        xmpp_stop(xmpp_conn_get_context(conn));
}

int main(int argc, char **argv)
{
    struct floor_state s = {0};
    const char *pass = getenv("FLOOR_PASSWORD");
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;

    if (argc != 7 || !pass) {
        fprintf(stderr, "usage: FLOOR_PASSWORD=pw %s JID HOST PORT CAFILE TO "
                        "BODY\n",
                argv[0]);
        return 2;
    }
    s.to = argv[5];
    s.body = argv[6];
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    conn = xmpp_conn_new(ctx);
    xmpp_conn_set_flags(conn,
                        XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    xmpp_conn_set_jid(conn, argv[1]);
    xmpp_conn_set_pass(conn, pass);
    xmpp_conn_set_cafile(conn, argv[4]);
    xmpp_conn_set_sockopt_callback(conn, on_sockopt);
    if (xmpp_connect_client(conn, argv[2], (unsigned short)atoi(argv[3]),
                            on_conn, &s) == XMPP_EOK)
        xmpp_run(ctx);
    xmpp_conn_release(conn);
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return s.confirmed ? 0 : 1;
}
