/* xmppc_redirect.c - LD_PRELOAD shim for xmppc, which has no host or port
 * option (it resolves the JID's domain: SRV, then port 5222). It makes
 * xmpp_connect_client() dial BENCH_XMPP_HOST:BENCH_XMPP_PORT instead; the
 * TLS name checked stays the JID's domain. Nothing else is changed.
 *
 *   LD_PRELOAD=bench/xmppc_redirect.so BENCH_XMPP_HOST=127.0.0.1 \
 *       BENCH_XMPP_PORT=5222 xmppc ... */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include <strophe.h>

typedef int (*connect_fn)(xmpp_conn_t *, const char *, unsigned short,
                          xmpp_conn_handler, void *);

int xmpp_connect_client(xmpp_conn_t *conn, const char *altdomain,
                        unsigned short altport, xmpp_conn_handler callback,
                        void *userdata)
{
    connect_fn real = (connect_fn)dlsym(RTLD_NEXT, "xmpp_connect_client");
    const char *host = getenv("BENCH_XMPP_HOST");
    const char *port = getenv("BENCH_XMPP_PORT");

    if (!real)
        return XMPP_EINT;
    if (host && *host)
        altdomain = host;
    if (port && *port)
        altport = (unsigned short)atoi(port);
    return real(conn, altdomain, altport, callback, userdata);
}
