/* flood.c - test tool: sends N numbered messages over one connection (to
 * fill an offline store and archive quickly), then waits until the server
 * answered a ping sent after them. Written on the library's stream layer
 * directly (src/xmpp): it prepares a test, it is not what is tested.
 *   flood JID PASSWORD HOST PORT CAFILE TO N PREFIX */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "xml/xml.h"
#include "xmpp/stream.h"

static xmsg_xel *message(const char *to, long i, const char *prefix)
{
    xmsg_xel *m = xmsg_xel_new(XMSG_NS_CLIENT, "message"), *b;
    char id[32], body[128];

    snprintf(id, sizeof(id), "flood-%ld", i);
    snprintf(body, sizeof(body), "%s-%05ld", prefix, i);
    b = m ? xmsg_xel_add_new(m, NULL, "body") : NULL;
    if (!b || xmsg_xel_set_attr(m, "type", "chat") ||
        xmsg_xel_set_attr(m, "to", to) || xmsg_xel_set_attr(m, "id", id) ||
        xmsg_xel_add_text(b, body, strlen(body))) {
        xmsg_xel_free(m);
        return NULL;
    }
    return m;
}

static int send_all(xmsg_stream *s, const char *to, long n, const char *prefix)
{
    xmsg_xel *m;
    long i;

    for (i = 0; i < n; i++) {
        m = message(to, i, prefix);
        if (!m || xmsg_stream_send(s, m)) {
            xmsg_xel_free(m);
            return -1;
        }
        xmsg_xel_free(m);
        /* Written as they go: the queue stays small. */
        if (i % 100 == 99 && xmsg_stream_run(s, 0))
            return -1;
    }
    return xmsg_stream_ping(s) ? -1 : 0;
}

int main(int argc, char **argv)
{
    xmsg_params *p = xmsg_params_new();
    xmsg_status *st = xmsg_status_new();
    xmsg_stream *s = NULL;
    int ok = 0;

    if (argc != 9) {
        fprintf(stderr, "usage: flood JID PASSWORD HOST PORT CAFILE TO N "
                        "PREFIX\n");
        return 2;
    }
    if (!p || !st || xmsg_params_set_string(p, "jid", argv[1], st) ||
        xmsg_params_set_string(p, "password", argv[2], st) ||
        xmsg_params_set_string(p, "host", argv[3], st) ||
        xmsg_params_set_int(p, "port", atol(argv[4]), st) ||
        xmsg_params_set_string(p, "caFile", argv[5], st) ||
        xmsg_params_set_bool(p, "mandatoryTLS", 1, st) ||
        xmsg_params_set_int(p, "timeout", 120, st) ||
        xmsg_params_set_string(p, "logLevel", "warn", st))
        goto out;
    s = xmsg_stream_new(p, st);
    if (s)
        xmsg_stream_set_sm(s, 0);
    if (!s || xmsg_stream_open(s) ||
        send_all(s, argv[6], atol(argv[7]), argv[8]))
        goto out;
    /* 120 s at most (the deadline), the login's included. */
    while (xmsg_stream_pings_answered(s) < 1)
        if (xmsg_stream_run(s, 100))
            goto out;
    ok = 1;
out:
    if (!ok)
        fprintf(stderr, "flood: the server did not confirm: %s\n",
                st && xmsg_status_text(st) ? xmsg_status_text(st) : "?");
    xmsg_stream_free(s);
    xmsg_status_free(st);
    xmsg_params_free(p);
    return ok ? 0 : 1;
}
