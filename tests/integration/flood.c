/* flood.c - test tool: sends N numbered messages over one connection (to
 * fill an offline store and archive quickly), then waits until the server
 * answered a ping sent after them. Written on libstrophe directly: it
 * prepares a test, it is not what is tested.
 *   flood JID PASSWORD HOST PORT CAFILE TO N PREFIX */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>

struct run {
    const char *to, *prefix;
    long n;
    int done, ok;
};

static int on_pong(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct run *r = ud;

    (void)conn;
    r->ok = strcmp(xmpp_stanza_get_type(st), "result") == 0;
    r->done = 1;
    return 0;
}

static void send_all(xmpp_conn_t *conn, struct run *r)
{
    xmpp_ctx_t *ctx = xmpp_conn_get_context(conn);
    char id[32], body[128];
    xmpp_stanza_t *m, *iq, *ping;
    long i;

    for (i = 0; i < r->n; i++) {
        snprintf(id, sizeof(id), "flood-%ld", i);
        snprintf(body, sizeof(body), "%s-%05ld", r->prefix, i);
        m = xmpp_message_new(ctx, "chat", r->to, id);
        xmpp_message_set_body(m, body);
        xmpp_send(conn, m);
        xmpp_stanza_release(m);
    }
    iq = xmpp_iq_new(ctx, "get", "flood-ping");
    ping = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
    xmpp_stanza_add_child(iq, ping);
    xmpp_stanza_release(ping);
    xmpp_id_handler_add(conn, on_pong, "flood-ping", r);
    xmpp_send(conn, iq);
    xmpp_stanza_release(iq);
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err,
                    xmpp_stream_error_t *se, void *ud)
{
    struct run *r = ud;

    (void)err;
    (void)se;
    if (ev == XMPP_CONN_CONNECT)
        send_all(conn, r);
    else
        r->done = 1;
}

int main(int argc, char **argv)
{
    struct run r = {0};
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    int spins = 0;

    if (argc != 9) {
        fprintf(stderr, "usage: flood JID PASSWORD HOST PORT CAFILE TO N "
                        "PREFIX\n");
        return 2;
    }
    r.to = argv[6];
    r.n = atol(argv[7]);
    r.prefix = argv[8];
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    conn = xmpp_conn_new(ctx);
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_SM |
                                  XMPP_CONN_FLAG_MANDATORY_TLS);
    xmpp_conn_set_jid(conn, argv[1]);
    xmpp_conn_set_pass(conn, argv[2]);
    xmpp_conn_set_cafile(conn, argv[5]);
    if (xmpp_connect_client(conn, argv[3], (unsigned short)atoi(argv[4]),
                            on_conn, &r) != XMPP_EOK)
        return 1;
    while (!r.done && spins++ < 1200) /* 120 s at most */
        xmpp_run_once(ctx, 100);
    xmpp_disconnect(conn);
    for (spins = 0; spins < 30 && xmpp_conn_is_connected(conn); spins++)
        xmpp_run_once(ctx, 100);
    xmpp_conn_release(conn);
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    if (!r.ok)
        fprintf(stderr, "flood: the server did not confirm\n");
    return r.ok ? 0 : 1;
}
