/* net_probe.c - the test driver of src/net/: runs the resolver, the
 * connector and the TLS client in one poll loop under one deadline, as the
 * stream layer will, and prints what happened as key=value lines for
 * net_test.sh. Two peers of its own live in the same loop:
 *   --silent           a TCP listener that accepts and never answers;
 *   --cb-server C K    an OpenSSL server (certificate C, key K) whose
 *                      channel-binding values are compared with the
 *                      client's (exit 1 on a mismatch).
 * Exit status: 0 when the run went as the options said (the result itself
 * is printed, the script judges it), 2 on a usage or setup error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/net.h"

#define TRIES_MAX 8

typedef struct opts {
    xmsg_net_cfg net;
    xmsg_tls_cfg tls;
    const char *tries[TRIES_MAX];
    int ntries;
    long timeout_ms;
    const char *send;
    int no_tls, silent, resolve_only, hang;
    const char *cb_cert, *cb_key;
    int cb_max; /* TLS1_2_VERSION or TLS1_3_VERSION */
} opts;

/* ---- the in-loop peers ---- */
typedef struct peer {
    int lfd, fd;
    uint16_t port;
    SSL_CTX *ctx;
    SSL *ssl;
    short want;
    int done; /* handshake finished (cb server) */
} peer;

static int listen_loopback(peer *p)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(p->lfd, 4) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    p->port = ntohs(a.sin_port);
    p->fd = -1;
    return 0;
}

static int peer_cb_setup(peer *p, const opts *o)
{
    p->ctx = SSL_CTX_new(TLS_server_method());
    if (!p->ctx ||
        SSL_CTX_use_certificate_file(p->ctx, o->cb_cert, SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_use_PrivateKey_file(p->ctx, o->cb_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_set_max_proto_version(p->ctx, o->cb_max) != 1)
        return -1;
    return 0;
}

static int peer_fds(const peer *p, struct pollfd *pfd)
{
    int n = 0;

    if (p->lfd >= 0 && p->fd < 0) {
        pfd[n].fd = p->lfd;
        pfd[n++].events = POLLIN;
    }
    if (p->fd >= 0 && p->ssl && !p->done) {
        pfd[n].fd = p->fd;
        pfd[n++].events = p->want ? p->want : POLLIN;
    }
    return n;
}

static void peer_step(peer *p)
{
    int r;

    if (p->lfd >= 0 && p->fd < 0) {
        p->fd = accept(p->lfd, NULL, NULL);
        if (p->fd >= 0 && p->ctx) {
            fcntl(p->fd, F_SETFL, O_NONBLOCK);
            p->ssl = SSL_new(p->ctx);
            SSL_set_fd(p->ssl, p->fd);
            SSL_set_accept_state(p->ssl);
        }
    }
    if (!p->ssl || p->done)
        return;
    r = SSL_accept(p->ssl);
    if (r == 1) {
        p->done = 1;
        return;
    }
    r = SSL_get_error(p->ssl, r);
    if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE) {
        p->want = r == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return;
    }
    fprintf(stderr, "cb server: handshake failed (%d)\n", r);
    p->done = -1;
}

static void peer_free(peer *p)
{
    SSL_free(p->ssl);
    SSL_CTX_free(p->ctx);
    if (p->fd >= 0)
        close(p->fd);
    if (p->lfd >= 0)
        close(p->lfd);
}

/* A listener whose accept queue is full (backlog 0, one connection made
 * and never accepted): a connect() to it gets no answer at all. */
typedef struct hang {
    int lfd, filler;
    uint16_t port;
} hang;

static int hang_setup(hang *h)
{
    peer p = {.lfd = -1, .fd = -1};
    struct sockaddr_in a;
    struct pollfd pfd;

    if (listen_loopback(&p) != 0 || listen(p.lfd, 0) != 0)
        return -1;
    h->lfd = p.lfd;
    h->port = p.port;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(h->port);
    h->filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (h->filler < 0 ||
        (connect(h->filler, (struct sockaddr *)&a, sizeof(a)) != 0 &&
         errno != EINPROGRESS))
        return -1;
    pfd.fd = h->filler;
    pfd.events = POLLOUT;
    return poll(&pfd, 1, 5000) == 1 ? 0 : -1;
}

static void hang_free(hang *h)
{
    if (h->filler >= 0)
        close(h->filler);
    if (h->lfd >= 0)
        close(h->lfd);
}

/* A DNS server that reads every query and never answers, on ADDR:53,
 * until killed. */
static int udp_sink(const char *addr)
{
    struct sockaddr_in a;
    char buf[512];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    if (fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("udp sink");
        return 2;
    }
    printf("listening\n");
    for (;;) {
        if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
            return 2;
    }
}

/* ---- the loop ---- */
typedef struct machine {
    void (*wait)(void *m, xmsg_net_wait *w);
    xmsg_net_rc (*step)(void *m, const struct pollfd *pfd, int n, uint64_t now);
    void *m;
} machine;

static void w_res(void *m, xmsg_net_wait *w)
{
    xmsg_resolver_wait(m, w);
}
static xmsg_net_rc s_res(void *m, const struct pollfd *p, int n, uint64_t t)
{
    return xmsg_resolver_step(m, p, n, t);
}
static void w_con(void *m, xmsg_net_wait *w)
{
    xmsg_connector_wait(m, w);
}
static xmsg_net_rc s_con(void *m, const struct pollfd *p, int n, uint64_t t)
{
    return xmsg_connector_step(m, p, n, t);
}
static void w_tls(void *m, xmsg_net_wait *w)
{
    xmsg_tls_wait(m, w);
}
static xmsg_net_rc s_tls(void *m, const struct pollfd *p, int n, uint64_t t)
{
    return xmsg_tls_step(m, p, n, t);
}

/* Runs mc (and the peer) until mc is done or failed. */
static xmsg_net_rc run(const machine *mc, peer *p, uint64_t deadline)
{
    xmsg_net_rc rc = XMSG_NET_AGAIN;
    xmsg_net_wait w;
    struct pollfd all[XMSG_NET_POLL_MAX + 2];
    int n, k;

    while (rc == XMSG_NET_AGAIN) {
        mc->wait(mc->m, &w);
        memcpy(all, w.pfd, sizeof(w.pfd[0]) * (size_t)w.n);
        k = p ? peer_fds(p, all + w.n) : 0;
        n = poll(all, (nfds_t)(w.n + k),
                 xmsg_net_wait_timeout(&w, deadline, xmsg_now_ms()));
        if (n < 0 && errno != EINTR)
            return XMSG_NET_FAIL;
        if (p && k)
            peer_step(p);
        rc = mc->step(mc->m, all, w.n, xmsg_now_ms());
    }
    return rc;
}

/* Lets the cb server finish its side of the handshake. */
static void finish_peer(peer *p, uint64_t deadline)
{
    struct pollfd pfd[2];
    int k;

    while (p->done == 0 && xmsg_now_ms() < deadline) {
        k = peer_fds(p, pfd);
        poll(pfd, (nfds_t)k, 100);
        peer_step(p);
    }
}

static void on_log(void *ctx, xmsg_log_level lvl, const char *line)
{
    (void)ctx;
    fprintf(stderr, "log[%s]: %s\n", xmsg_log_level_name(lvl), line);
    printf("log=%s\n", line);
}

static void print_fail(const char *stage, const xmsg_net_err *e, uint64_t t0)
{
    printf("result=fail\nstage=%s\ncode=%s\ntext=%s\nelapsed_ms=%llu\n", stage,
           xmsg_err_name(e->code), e->text,
           (unsigned long long)(xmsg_now_ms() - t0));
}

static void print_cands(const xmsg_net_cands *c)
{
    char addr[80];
    size_t i;

    printf("cands=");
    for (i = 0; i < c->n; i++) {
        xmsg_net_addr_str(&c->v[i].addr, addr, sizeof(addr));
        printf("%s%s@%s/%c", i ? "," : "", c->v[i].target, addr,
               c->v[i].direct_tls ? 'D' : 'S');
    }
    printf("\n");
}

/* --try 127.0.0.1:PORT entries as candidates. */
static int tries_to_cands(const opts *o, xmsg_net_cands *c)
{
    int i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < o->ntries; i++) {
        struct sockaddr_in *a = (struct sockaddr_in *)&c->v[i].addr;
        char host[64];
        unsigned port;

        if (sscanf(o->tries[i], "%63[^:]:%u", host, &port) != 2 ||
            inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -1;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        c->v[i].addrlen = sizeof(*a);
        c->v[i].direct_tls = 1;
        snprintf(c->v[i].target, sizeof(c->v[i].target), "%s", o->tries[i]);
    }
    c->n = (size_t)o->ntries;
    return 0;
}

static void hex(const char *key, const unsigned char *b, int n)
{
    int i;

    printf("%s=", key);
    for (i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
}

/* Compares the client's channel bindings with the cb server's. */
static int compare_cb(xmsg_tls *t, peer *p)
{
    unsigned char c[64], s[64];
    int nc, ns, bad = 0;
    unsigned int len = 0;

    nc = xmsg_tls_cb_unique(t, c, sizeof(c));
    if (xmsg_tls_version(t) == TLS1_2_VERSION) {
        ns = (int)SSL_get_peer_finished(p->ssl, s, sizeof(s));
        hex("cb_unique_client", c, nc);
        hex("cb_unique_server", s, ns);
        bad |= nc <= 0 || nc != ns || memcmp(c, s, (size_t)nc) != 0;
        bad |= xmsg_tls_cb_exporter(t, c, sizeof(c)) != -1;
    } else {
        bad |= nc != -1;
        nc = xmsg_tls_cb_exporter(t, c, sizeof(c));
        ns = SSL_export_keying_material(p->ssl, s, 32,
                                        "EXPORTER-Channel-Binding", 24,
                                        (const unsigned char *)"", 0, 1)
                 ? 32
                 : -1;
        hex("cb_exporter_client", c, nc);
        hex("cb_exporter_server", s, ns);
        bad |= nc != 32 || ns != 32 || memcmp(c, s, 32) != 0;
    }
    nc = xmsg_tls_cb_endpoint(t, c, sizeof(c));
    X509_digest(SSL_get_certificate(p->ssl), EVP_sha256(), s, &len);
    hex("cb_endpoint_client", c, nc);
    hex("cb_endpoint_server", s, (int)len);
    bad |= nc != (int)len || memcmp(c, s, len) != 0;
    printf("cb_sni=%s\n",
           SSL_get_servername(p->ssl, TLSEXT_NAMETYPE_host_name)
               ? SSL_get_servername(p->ssl, TLSEXT_NAMETYPE_host_name)
               : "(none)");
    printf("cb=%s\n", bad ? "mismatch" : "match");
    return bad;
}

static int parse(int argc, char **argv, opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->timeout_ms = 60000; /* generous: ASan on a loaded machine */
    o->cb_max = TLS1_3_VERSION;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
        if (ARG("--domain"))
            o->net.domain = o->tls.domain = v;
        else if (ARG("--host"))
            o->net.host = v;
        else if (ARG("--port"))
            o->net.port = atol(v);
        else if (ARG("--ca"))
            o->tls.ca_file = v;
        else if (ARG("--pin"))
            o->tls.pins = v;
        else if (ARG("--timeout-ms"))
            o->timeout_ms = atol(v);
        else if (ARG("--send"))
            o->send = v;
        else if (ARG("--try") && o->ntries < TRIES_MAX)
            o->tries[o->ntries++] = v;
        else if (ARG("--cb-cert"))
            o->cb_cert = v;
        else if (ARG("--cb-key"))
            o->cb_key = v;
        else if (ARG("--cb-max"))
            o->cb_max = strcmp(v, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
        else if (strcmp(a, "--legacy") == 0)
            o->net.legacy_tls = 1;
        else if (strcmp(a, "--trust") == 0)
            o->tls.trust = 1;
        else if (strcmp(a, "--no-tls") == 0)
            o->no_tls = 1;
        else if (strcmp(a, "--silent") == 0)
            o->silent = 1;
        else if (strcmp(a, "--hang") == 0)
            o->hang = 1;
        else if (strcmp(a, "--resolve-only") == 0)
            o->resolve_only = 1;
        else
            return -1;
#undef ARG
    }
    return o->net.domain ? 0 : -1;
}

/* The resolver, or the --try list, or the in-loop peer. */
static void add_loopback(xmsg_net_cands *c, uint16_t port, const char *name)
{
    struct sockaddr_in *a = (struct sockaddr_in *)&c->v[c->n].addr;

    memset(&c->v[c->n], 0, sizeof(c->v[0]));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    c->v[c->n].addrlen = sizeof(*a);
    c->v[c->n].direct_tls = 1;
    snprintf(c->v[c->n].target, sizeof(c->v[0].target), "%s", name);
    c->n++;
}

static int candidates(const opts *o, peer *p, const hang *h, uint64_t deadline,
                      xmsg_net_cands *c, uint64_t t0)
{
    xmsg_net_err err = {0};
    xmsg_resolver *r;
    machine m = {w_res, s_res, NULL};
    int rc = -1;

    if (o->ntries || p->lfd >= 0 || h->lfd >= 0) {
        xmsg_net_cands t;
        size_t i;

        if (tries_to_cands(o, &t) != 0)
            return -1;
        c->n = 0;
        if (h->lfd >= 0)
            add_loopback(c, h->port, "hang");
        for (i = 0; i < t.n; i++)
            c->v[c->n++] = t.v[i];
        if (p->lfd >= 0)
            add_loopback(c, p->port, "peer");
        print_cands(c);
        return 0;
    }
    r = xmsg_resolver_new(&o->net, deadline, on_log, NULL, &err);
    if (!r) {
        print_fail("resolve", &err, t0);
        return 1;
    }
    m.m = r;
    if (run(&m, NULL, deadline) == XMSG_NET_DONE) {
        *c = *xmsg_resolver_cands(r);
        print_cands(c);
        rc = 0;
    } else {
        print_fail("resolve", xmsg_resolver_err(r), t0);
        rc = 1;
    }
    xmsg_resolver_free(r);
    return rc;
}

/* The cb server writes a line and closes (close_notify); the client reads
 * through xmsg_tls_read until the end, which must be "closed". */
static void read_until_closed(xmsg_tls *t, peer *p, uint64_t deadline)
{
    static const char line[] = "PONG-XMSG";
    char buf[256];
    size_t len = 0, got;
    xmsg_net_rc rc = XMSG_NET_AGAIN;
    xmsg_net_wait w;

    if (SSL_write(p->ssl, line, sizeof(line) - 1) != (int)sizeof(line) - 1)
        return;
    SSL_shutdown(p->ssl);
    while (rc != XMSG_NET_FAIL && xmsg_now_ms() < deadline) {
        rc = xmsg_tls_read(t, buf + len, sizeof(buf) - 1 - len, &got);
        len += got;
        if (rc == XMSG_NET_AGAIN) {
            xmsg_tls_wait(t, &w);
            poll(w.pfd, (nfds_t)w.n, 1000);
        }
    }
    buf[len] = '\0';
    printf("read=%s\nread_end=%s\n", buf, xmsg_err_name(xmsg_tls_err(t)->code));
}

static int do_tls(const opts *o, int fd, int direct, peer *p, uint64_t deadline,
                  uint64_t t0)
{
    xmsg_net_err err = {0};
    xmsg_tls_cfg cfg = o->tls;
    xmsg_tls *t;
    machine m = {w_tls, s_tls, NULL};
    size_t done = 0;
    int bad = 0;

    cfg.direct = direct;
    t = xmsg_tls_new(&cfg, fd, deadline, on_log, NULL, &err);
    if (!t) {
        print_fail("tls", &err, t0);
        return 0;
    }
    m.m = t;
    if (run(&m, p, deadline) != XMSG_NET_DONE) {
        print_fail("tls", xmsg_tls_err(t), t0);
        xmsg_tls_free(t);
        return 0;
    }
    printf("tls_version=%s\n",
           xmsg_tls_version(t) == TLS1_3_VERSION ? "1.3" : "1.2");
    if (o->send &&
        xmsg_tls_write(t, o->send, strlen(o->send), &done) != XMSG_NET_DONE)
        printf("send=failed\n");
    if (p->ctx) {
        finish_peer(p, deadline);
        bad = p->done != 1 || compare_cb(t, p);
        if (!bad)
            read_until_closed(t, p, deadline);
    }
    printf("result=ok\nelapsed_ms=%llu\n",
           (unsigned long long)(xmsg_now_ms() - t0));
    xmsg_tls_free(t);
    return bad;
}

int main(int argc, char **argv)
{
    opts o;
    peer p = {.lfd = -1, .fd = -1};
    hang h = {.lfd = -1, .filler = -1};
    xmsg_net_cands cands;
    xmsg_connector *c = NULL;
    machine m = {w_con, s_con, NULL};
    uint64_t t0 = xmsg_now_ms(), deadline;
    int fd = -1, rc = 2;

    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--udp-sink") == 0)
        return udp_sink(argv[2]);
    if (argc == 2 && strcmp(argv[1], "--free-port") == 0) {
        /* A port nothing listens on now (for the script's servers). */
        rc = listen_loopback(&p) == 0 ? 0 : 2;
        if (rc == 0)
            printf("%u\n", p.port);
        goto out;
    }
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: net_probe --domain D [options]\n");
        return 2;
    }
    deadline = t0 + (uint64_t)o.timeout_ms;
    if ((o.silent || o.cb_cert) && listen_loopback(&p) != 0)
        goto out;
    if (o.cb_cert && peer_cb_setup(&p, &o) != 0)
        goto out;
    if (o.hang && hang_setup(&h) != 0)
        goto out;
    rc = candidates(&o, &p, &h, deadline, &cands, t0);
    if (rc != 0 || o.resolve_only) {
        if (rc == 0)
            printf("result=ok\n");
        rc = rc == 1 ? 0 : rc < 0 ? 2 : rc;
        goto out;
    }
    c = xmsg_connector_new(&cands, deadline, on_log, NULL);
    m.m = c;
    if (!c || run(&m, &p, deadline) != XMSG_NET_DONE) {
        if (c)
            print_fail("connect", xmsg_connector_err(c), t0);
        rc = c ? 0 : 2;
        goto out;
    }
    printf("connected=%s\n", xmsg_connector_cand(c)->target);
    fd = xmsg_connector_take_fd(c);
    if (o.no_tls)
        printf("result=ok\nelapsed_ms=%llu\n",
               (unsigned long long)(xmsg_now_ms() - t0));
    else
        rc = do_tls(&o, fd, xmsg_connector_cand(c)->direct_tls, &p, deadline,
                    t0);
out:
    if (fd >= 0)
        close(fd);
    xmsg_connector_free(c);
    peer_free(&p);
    hang_free(&h);
    return rc;
}
