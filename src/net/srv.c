/* srv.c - see net.h: where to connect, as pure functions (RFC 2782
 * ordering, XEP-0368 and RFC 6120 section 3.2 target choice). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/netint.h"

static int is_no_target(const xmsg_net_target *t)
{
    return t->name[0] == '\0' || strcmp(t->name, ".") == 0;
}

static int same_target(const xmsg_net_target *a, const xmsg_net_target *b)
{
    return a->port == b->port && a->direct_tls == b->direct_tls &&
           strcasecmp(a->name, b->name) == 0;
}

/* Drops "." targets and duplicates, keeping the first; the new count. */
static size_t drop_unusable(xmsg_net_target *v, size_t n)
{
    size_t i, j, kept = 0;
    int dup;

    for (i = 0; i < n; i++) {
        dup = is_no_target(&v[i]);
        for (j = 0; !dup && j < kept; j++)
            dup = same_target(&v[j], &v[i]);
        if (!dup)
            v[kept++] = v[i];
    }
    return kept;
}

/* Stable insertion sort by priority: the lists are short. */
static void sort_by_priority(xmsg_net_target *v, size_t n)
{
    size_t i, j;
    xmsg_net_target t;

    for (i = 1; i < n; i++) {
        t = v[i];
        for (j = i; j > 0 && v[j - 1].priority > t.priority; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
}

/* Moves v[from] to v[to] (to <= from), shifting the ones between. */
static void move_to(xmsg_net_target *v, size_t to, size_t from)
{
    xmsg_net_target t = v[from];

    memmove(&v[to + 1], &v[to], (from - to) * sizeof(*v));
    v[to] = t;
}

/* RFC 2782's selection within one priority: v[0..n). */
static void order_group(xmsg_net_target *v, size_t n, xmsg_net_rand_fn rnd,
                        void *rctx)
{
    size_t k, m, zeros;
    uint32_t sum, r, run;

    for (k = 0; k + 1 < n; k++) {
        /* Weight-0 records first among those not yet ordered. */
        for (m = k, zeros = k; m < n; m++) {
            if (v[m].weight == 0)
                move_to(v, zeros++, m);
        }
        for (m = k, sum = 0; m < n; m++)
            sum += v[m].weight;
        r = rnd(rctx, sum);
        if (r > sum)
            r = sum;
        for (m = k, run = 0; m < n; m++) {
            run += v[m].weight;
            if (run >= r)
                break;
        }
        move_to(v, k, m < n ? m : n - 1);
    }
}

size_t xmsg_srv_order(xmsg_net_target *v, size_t n, xmsg_net_rand_fn rnd,
                      void *rctx)
{
    size_t i, j;

    n = drop_unusable(v, n);
    sort_by_priority(v, n);
    for (i = 0; i < n; i = j) {
        for (j = i; j < n && v[j].priority == v[i].priority; j++)
            ;
        order_group(&v[i], j - i, rnd ? rnd : xmsg_net_rand, rctx);
    }
    return n;
}

int xmsg_net_wants_srv(const xmsg_net_cfg *cfg)
{
    return !cfg->host || !cfg->host[0];
}

int xmsg_net_wants_starttls_srv(const xmsg_net_cfg *cfg)
{
    return xmsg_net_wants_srv(cfg) && !cfg->legacy_tls;
}

static uint16_t default_port(const xmsg_net_cfg *cfg)
{
    if (cfg->port > 0 && cfg->port <= 65535)
        return (uint16_t)cfg->port;
    return cfg->legacy_tls ? XMSG_NET_DIRECT_PORT : XMSG_NET_PORT;
}

static xmsg_net_rc one_target(const char *name, const xmsg_net_cfg *cfg,
                              xmsg_net_target *out, size_t *n,
                              xmsg_net_err *err)
{
    if (!name || !name[0] || strlen(name) >= sizeof(out->name))
        return xmsg_net_fail(err, XMSG_ERR_INPUT, "bad host name '%.64s'",
                             name ? name : "");
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->port = default_port(cfg);
    out->direct_tls = cfg->legacy_tls != 0;
    *n = 1;
    return XMSG_NET_DONE;
}

static size_t take_records(const xmsg_srv_answer *a, xmsg_net_target *out,
                           size_t n, size_t cap)
{
    size_t i;

    if (!a || a->status != XMSG_SRV_RECORDS)
        return n;
    for (i = 0; i < a->n && n < cap; i++)
        out[n++] = a->v[i];
    return n;
}

static int failed(const xmsg_srv_answer *a)
{
    return a && a->status == XMSG_SRV_FAILED;
}

xmsg_net_rc xmsg_net_targets(const xmsg_net_cfg *cfg,
                             const xmsg_srv_answer *xmpps,
                             const xmsg_srv_answer *xmpp, xmsg_net_rand_fn rnd,
                             void *rctx, xmsg_net_target *out, size_t *n,
                             xmsg_net_err *err)
{
    /* The service that decides: STARTTLS's, or direct TLS's alone. */
    const xmsg_srv_answer *decides = xmpp ? xmpp : xmpps;
    xmsg_net_target all[2 * XMSG_NET_SRV_MAX];
    size_t k = 0;

    *n = 0;
    if (!xmsg_net_wants_srv(cfg))
        return one_target(cfg->host, cfg, out, n, err);
    k = take_records(xmpps, all, k, 2 * XMSG_NET_SRV_MAX);
    k = take_records(xmpp, all, k, 2 * XMSG_NET_SRV_MAX);
    k = xmsg_srv_order(all, k, rnd, rctx);
    if (k > 0) {
        *n = k < XMSG_NET_TARGETS_MAX ? k : XMSG_NET_TARGETS_MAX;
        memcpy(out, all, *n * sizeof(*out));
        return XMSG_NET_DONE;
    }
    if (decides && decides->status == XMSG_SRV_NOSERVICE)
        return xmsg_net_fail(err, XMSG_ERR_CONNECT,
                             "%s offers no XMPP service (SRV target \".\")",
                             cfg->domain);
    if (failed(xmpps) || failed(xmpp))
        return xmsg_net_fail(err, XMSG_ERR_CONNECT,
                             "DNS lookup of the SRV records of %s failed: %s",
                             cfg->domain,
                             failed(xmpp) ? xmpp->why : xmpps->why);
    return one_target(cfg->domain, cfg, out, n, err);
}
