/* resolve.c - see net.h: DNS with c-ares, driven by the caller's poll.
 * Phase 1 asks the SRV records of both services in parallel (none with an
 * explicit host), phase 2 the A/AAAA of every chosen target in parallel;
 * the candidates are then the targets' addresses, in the targets' order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/select.h>
#include <sys/time.h>

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include "net/netint.h"

#define ADDRS_PER_TARGET 8

enum phase { PH_SRV, PH_ADDR, PH_DONE, PH_FAILED };

typedef struct rsock {
    ares_socket_t fd;
    int readable, writable;
} rsock;

typedef struct target_addrs {
    struct sockaddr_storage a[ADDRS_PER_TARGET];
    socklen_t len[ADDRS_PER_TARGET];
    int n;
    int status; /* ares status of the lookup */
} target_addrs;

typedef struct qctx {
    struct xmsg_resolver *r;
    int idx; /* SRV: 0 xmpps, 1 xmpp; addresses: the target's index */
} qctx;

struct xmsg_resolver {
    ares_channel ch;
    int ch_ok, freeing;
    char domain[XMSG_NET_NAME_MAX], host[XMSG_NET_NAME_MAX];
    xmsg_net_cfg cfg; /* its strings point into domain and host */
    uint64_t deadline;
    xmsg_net_log_fn log;
    void *log_ctx;
    xmsg_net_rand_fn rnd;
    void *rctx;
    rsock socks[XMSG_NET_POLL_MAX];
    int nsocks, too_many_socks;
    enum phase phase;
    int pending;
    xmsg_srv_answer srv[2];
    qctx srv_q[2];
    xmsg_net_target targets[XMSG_NET_TARGETS_MAX];
    size_t ntargets;
    target_addrs addrs[XMSG_NET_TARGETS_MAX];
    qctx addr_q[XMSG_NET_TARGETS_MAX];
    xmsg_net_cands cands;
    xmsg_net_err err;
};

static const char *const SERVICE[2] = {"_xmpps-client._tcp.",
                                       "_xmpp-client._tcp."};

static void on_sock_state(void *data, ares_socket_t fd, int readable,
                          int writable)
{
    xmsg_resolver *r = data;
    int i;

    for (i = 0; i < r->nsocks && r->socks[i].fd != fd; i++)
        ;
    if (!readable && !writable) {
        if (i < r->nsocks)
            r->socks[i] = r->socks[--r->nsocks];
        return;
    }
    if (i == r->nsocks) {
        if (r->nsocks == XMSG_NET_POLL_MAX) {
            r->too_many_socks = 1;
            return;
        }
        r->nsocks++;
    }
    r->socks[i].fd = fd;
    r->socks[i].readable = readable;
    r->socks[i].writable = writable;
}

/* ---- SRV ---- */

static void srv_from_reply(xmsg_srv_answer *a, const struct ares_srv_reply *s,
                           int direct)
{
    int dots = 0;

    a->n = 0;
    for (; s; s = s->next) {
        if (!s->host[0] || strcmp(s->host, ".") == 0) {
            dots++;
            continue;
        }
        if (a->n == XMSG_NET_SRV_MAX || strlen(s->host) >= XMSG_NET_NAME_MAX)
            continue;
        xmsg_net_target *t = &a->v[a->n++];
        snprintf(t->name, sizeof(t->name), "%s", s->host);
        t->port = s->port;
        t->priority = s->priority;
        t->weight = s->weight;
        t->direct_tls = direct;
    }
    if (a->n > 0)
        a->status = XMSG_SRV_RECORDS;
    else
        a->status = dots ? XMSG_SRV_NOSERVICE : XMSG_SRV_NONE;
}

static void srv_failed(xmsg_srv_answer *a, int status)
{
    a->status = XMSG_SRV_FAILED;
    snprintf(a->why, sizeof(a->why), "%s", ares_strerror(status));
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf,
                   int alen)
{
    qctx *q = arg;
    xmsg_resolver *r = q->r;
    xmsg_srv_answer *a = &r->srv[q->idx];
    struct ares_srv_reply *s = NULL;
    int rc;

    (void)timeouts;
    r->pending--;
    if (r->freeing)
        return;
    if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
        a->status = XMSG_SRV_NONE;
    } else if (status != ARES_SUCCESS) {
        srv_failed(a, status);
    } else if ((rc = ares_parse_srv_reply(abuf, alen, &s)) == ARES_SUCCESS) {
        srv_from_reply(a, s, q->idx == 0);
    } else if (rc == ARES_ENODATA) {
        a->status = XMSG_SRV_NONE;
    } else {
        srv_failed(a, rc);
    }
    if (s)
        ares_free_data(s);
}

static void log_srv(xmsg_resolver *r, int i)
{
    static const char *const what[] = {"no record", "records",
                                       "no service (target \".\")", "failed"};
    const xmsg_srv_answer *a = &r->srv[i];

    xmsg_net_log(r->log, r->log_ctx, XMSG_LOG_DEBUG, "DNS: SRV %s%s: %s%s%s",
                 SERVICE[i], r->domain, what[a->status],
                 a->status == XMSG_SRV_FAILED ? ": " : "", a->why);
}

static int srv_asked(const xmsg_resolver *r, int i)
{
    return i == 0 || xmsg_net_wants_starttls_srv(&r->cfg);
}

static void start_srv(xmsg_resolver *r)
{
    char name[XMSG_NET_NAME_MAX + 32];
    int i;

    for (i = 0; i < 2; i++) {
        if (!srv_asked(r, i))
            continue;
        snprintf(name, sizeof(name), "%s%s", SERVICE[i], r->domain);
        r->srv_q[i].r = r;
        r->srv_q[i].idx = i;
        r->pending++;
        ares_query(r->ch, name, ns_c_in, ns_t_srv, on_srv, &r->srv_q[i]);
    }
}

/* ---- addresses ---- */

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
    else if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons(port);
}

static void on_addrinfo(void *arg, int status, int timeouts,
                        struct ares_addrinfo *res)
{
    qctx *q = arg;
    xmsg_resolver *r = q->r;
    target_addrs *ta = &r->addrs[q->idx];
    const struct ares_addrinfo_node *n;

    (void)timeouts;
    r->pending--;
    ta->status = status;
    for (n = res ? res->nodes : NULL; n && !r->freeing; n = n->ai_next) {
        if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
            n->ai_addrlen > sizeof(ta->a[0]) || ta->n == ADDRS_PER_TARGET)
            continue;
        memset(&ta->a[ta->n], 0, sizeof(ta->a[0]));
        memcpy(&ta->a[ta->n], n->ai_addr, n->ai_addrlen);
        ta->len[ta->n] = n->ai_addrlen;
        set_port(&ta->a[ta->n], r->targets[q->idx].port);
        ta->n++;
    }
    if (res)
        ares_freeaddrinfo(res);
}

/* A literal address needs no DNS: c-ares 1.18 asks the DNS for it all the
 * same (A and AAAA), so a silent DNS server would hold an explicit
 * "127.0.0.1" until the deadline. 1 when name was a literal. */
static int literal_addr(xmsg_resolver *r, size_t i)
{
    target_addrs *ta = &r->addrs[i];
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ta->a[0];
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ta->a[0];
    const char *name = r->targets[i].name;

    memset(&ta->a[0], 0, sizeof(ta->a[0]));
    if (inet_pton(AF_INET, name, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        ta->len[0] = sizeof(*a4);
    } else if (inet_pton(AF_INET6, name, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        ta->len[0] = sizeof(*a6);
    } else {
        return 0;
    }
    set_port(&ta->a[0], r->targets[i].port);
    ta->n = 1;
    ta->status = ARES_SUCCESS;
    return 1;
}

static void start_addrs(xmsg_resolver *r)
{
    struct ares_addrinfo_hints hints;
    size_t i;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r->phase = PH_ADDR;
    for (i = 0; i < r->ntargets; i++) {
        if (literal_addr(r, i))
            continue;
        r->addr_q[i].r = r;
        r->addr_q[i].idx = (int)i;
        r->pending++;
        /* The callback may run at once (a literal address, /etc/hosts). */
        ares_getaddrinfo(r->ch, r->targets[i].name, NULL, &hints, on_addrinfo,
                         &r->addr_q[i]);
    }
}

static void log_targets(xmsg_resolver *r)
{
    char line[XMSG_LOG_LINE_MAX] = "";
    size_t i, len = 0;

    for (i = 0; i < r->ntargets && len < sizeof(line); i++) {
        const xmsg_net_target *t = &r->targets[i];
        int w = snprintf(line + len, sizeof(line) - len, "%s%s:%u (%s)",
                         i ? ", " : "", t->name, t->port,
                         t->direct_tls ? "direct TLS" : "STARTTLS");
        if (w < 0)
            break;
        len += (size_t)w;
    }
    xmsg_net_log(r->log, r->log_ctx, XMSG_LOG_INFO, "DNS: targets for %s: %s",
                 r->domain, line);
}

static xmsg_net_rc srv_done(xmsg_resolver *r)
{
    const xmsg_srv_answer *xmpp = NULL;
    int i;

    if (xmsg_net_wants_srv(&r->cfg)) {
        for (i = 0; i < 2; i++) {
            if (srv_asked(r, i))
                log_srv(r, i);
        }
        xmpp = srv_asked(r, 1) ? &r->srv[1] : NULL;
    }
    if (xmsg_net_targets(&r->cfg, &r->srv[0], xmpp, r->rnd, r->rctx, r->targets,
                         &r->ntargets, &r->err) != XMSG_NET_DONE)
        return XMSG_NET_FAIL;
    log_targets(r);
    start_addrs(r);
    return XMSG_NET_AGAIN;
}

static void add_cands(xmsg_resolver *r, size_t i)
{
    const target_addrs *ta = &r->addrs[i];
    int k;

    for (k = 0; k < ta->n && r->cands.n < XMSG_NET_CANDS_MAX; k++) {
        xmsg_net_cand *c = &r->cands.v[r->cands.n++];
        c->addr = ta->a[k];
        c->addrlen = ta->len[k];
        c->direct_tls = r->targets[i].direct_tls;
        snprintf(c->target, sizeof(c->target), "%s", r->targets[i].name);
    }
}

static xmsg_net_rc addrs_done(xmsg_resolver *r)
{
    size_t i;

    for (i = 0; i < r->ntargets; i++) {
        if (r->addrs[i].n == 0)
            xmsg_net_log(r->log, r->log_ctx, XMSG_LOG_INFO,
                         "DNS: no address for %s: %s", r->targets[i].name,
                         ares_strerror(r->addrs[i].status));
        add_cands(r, i);
    }
    if (r->cands.n > 0)
        return XMSG_NET_DONE;
    return xmsg_net_fail(&r->err, XMSG_ERR_CONNECT,
                         "DNS: no address for %s%s (%s)", r->targets[0].name,
                         r->ntargets > 1 ? " nor the other SRV targets" : "",
                         ares_strerror(r->addrs[0].status));
}

/* Moves on when the phase's queries have all answered. */
static xmsg_net_rc advance(xmsg_resolver *r)
{
    xmsg_net_rc rc = XMSG_NET_AGAIN;

    if (r->too_many_socks)
        rc = xmsg_net_fail(&r->err, XMSG_ERR_INTERNAL,
                           "DNS: more resolver sockets than polled");
    else if (r->phase == PH_SRV && r->pending == 0)
        rc = srv_done(r);
    if (rc == XMSG_NET_AGAIN && r->phase == PH_ADDR && r->pending == 0)
        rc = addrs_done(r);
    if (rc == XMSG_NET_DONE)
        r->phase = PH_DONE;
    else if (rc == XMSG_NET_FAIL)
        r->phase = PH_FAILED;
    return rc;
}

static int copy_cfg(xmsg_resolver *r, const xmsg_net_cfg *cfg,
                    xmsg_net_err *err)
{
    if (!cfg->domain || !cfg->domain[0] ||
        strlen(cfg->domain) >= sizeof(r->domain) - 32 ||
        (cfg->host && strlen(cfg->host) >= sizeof(r->host))) {
        xmsg_net_fail(err, XMSG_ERR_INPUT, "DNS: bad domain or host");
        return -1;
    }
    snprintf(r->domain, sizeof(r->domain), "%s", cfg->domain);
    snprintf(r->host, sizeof(r->host), "%s", cfg->host ? cfg->host : "");
    r->cfg = *cfg;
    r->cfg.domain = r->domain;
    r->cfg.host = r->host[0] ? r->host : NULL;
    return 0;
}

/* c-ares 1.18's ares_library_init/_cleanup count their callers in a plain
 * int: not thread-safe, while resolvers of distinct streams may start on
 * distinct threads. Initialised once per process, never cleaned up (on
 * Linux it holds nothing to release). */
static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_rc = ARES_ENOTINITIALIZED;

static void ares_init_once(void)
{
    ares_init_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

static int start_channel(xmsg_resolver *r, xmsg_net_err *err)
{
    struct ares_options o;
    int rc;

    pthread_once(&ares_once, ares_init_once);
    rc = ares_init_rc;
    if (rc != ARES_SUCCESS)
        goto fail;
    memset(&o, 0, sizeof(o));
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = r;
    rc = ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB);
    if (rc != ARES_SUCCESS)
        goto fail;
    r->ch_ok = 1;
    return 0;
fail:
    xmsg_net_fail(err, rc == ARES_ENOMEM ? XMSG_ERR_INTERNAL : XMSG_ERR_CONNECT,
                  "DNS: cannot start the resolver: %s", ares_strerror(rc));
    return -1;
}

xmsg_resolver *xmsg_resolver_new(const xmsg_net_cfg *cfg, uint64_t deadline,
                                 xmsg_net_log_fn log, void *log_ctx,
                                 xmsg_net_err *err)
{
    xmsg_resolver *r = calloc(1, sizeof(*r));

    if (!r) {
        xmsg_net_fail(err, XMSG_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    r->deadline = deadline;
    r->log = log;
    r->log_ctx = log_ctx;
    r->rnd = xmsg_net_rand;
    if (copy_cfg(r, cfg, err) != 0 || start_channel(r, err) != 0) {
        xmsg_resolver_free(r);
        return NULL;
    }
    r->phase = PH_SRV;
    if (xmsg_net_wants_srv(&r->cfg))
        start_srv(r);
    return r;
}

void xmsg_resolver_set_rand(xmsg_resolver *r, xmsg_net_rand_fn rnd, void *rctx)
{
    r->rnd = rnd ? rnd : xmsg_net_rand;
    r->rctx = rctx;
}

void xmsg_resolver_wait(xmsg_resolver *r, xmsg_net_wait *w)
{
    struct timeval tv;
    int i;

    memset(w, 0, sizeof(*w));
    if (r->phase == PH_DONE || r->phase == PH_FAILED)
        return;
    if (r->pending == 0 || r->too_many_socks) {
        w->wake = 1; /* ready now: a step moves on */
        return;
    }
    for (i = 0; i < r->nsocks; i++) {
        w->pfd[i].fd = r->socks[i].fd;
        w->pfd[i].events = (short)((r->socks[i].readable ? POLLIN : 0) |
                                   (r->socks[i].writable ? POLLOUT : 0));
    }
    w->n = r->nsocks;
    if (ares_timeout(r->ch, NULL, &tv))
        w->wake = xmsg_now_ms() + (uint64_t)tv.tv_sec * 1000 +
                  (uint64_t)tv.tv_usec / 1000;
}

static void process(xmsg_resolver *r, const struct pollfd *pfd, int n)
{
    rsock copy[XMSG_NET_POLL_MAX];
    int i, k = r->nsocks;
    short ev;

    /* Callbacks change the table: walk a copy. */
    memcpy(copy, r->socks, sizeof(copy));
    for (i = 0; i < k; i++) {
        ev = xmsg_net_revents(pfd, n, copy[i].fd);
        if (!ev)
            continue;
        ares_process_fd(r->ch,
                        ev & (POLLIN | POLLERR | POLLHUP) ? copy[i].fd
                                                          : ARES_SOCKET_BAD,
                        ev & POLLOUT ? copy[i].fd : ARES_SOCKET_BAD);
    }
    /* Timeouts and retries. */
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

xmsg_net_rc xmsg_resolver_step(xmsg_resolver *r, const struct pollfd *pfd,
                               int n, uint64_t now)
{
    xmsg_net_rc rc;

    if (r->phase == PH_DONE)
        return XMSG_NET_DONE;
    if (r->phase == PH_FAILED)
        return XMSG_NET_FAIL;
    if (r->pending > 0)
        process(r, pfd, n);
    rc = advance(r);
    if (rc != XMSG_NET_AGAIN || now < r->deadline)
        return rc;
    r->phase = PH_FAILED;
    return xmsg_net_fail(&r->err, XMSG_ERR_TIMEOUT,
                         "DNS: no answer for %s before the deadline",
                         r->cfg.host ? r->cfg.host : r->domain);
}

const xmsg_net_cands *xmsg_resolver_cands(const xmsg_resolver *r)
{
    return &r->cands;
}

const xmsg_net_err *xmsg_resolver_err(const xmsg_resolver *r)
{
    return &r->err;
}

void xmsg_resolver_free(xmsg_resolver *r)
{
    if (!r)
        return;
    r->freeing = 1; /* callbacks with ARES_EDESTRUCTION touch nothing */
    if (r->ch_ok)
        ares_destroy(r->ch);
    free(r);
}
