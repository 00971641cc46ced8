/* test_net.c - the pure parts of src/net/: RFC 2782 ordering with a fixed
 * random source, the choice of targets (explicit host, legacyTLS, SRV of
 * both services, ".", failures, fallback), helpers; and the resolver on
 * literal addresses (no DNS server is asked). */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/net.h"

/* ---- a scripted random source: returns r[i] in turn, records bounds --- */
typedef struct script {
    uint32_t r[16];
    size_t n, next;
    uint32_t bounds[16];
    size_t nbounds;
} script;

static uint32_t scripted(void *ctx, uint32_t bound)
{
    script *s = ctx;
    uint32_t v = s->next < s->n ? s->r[s->next++] : 0;

    if (s->nbounds < N_ROWS(s->bounds))
        s->bounds[s->nbounds++] = bound;
    return v > bound ? bound : v;
}

/* A deterministic LCG in [0, bound]. */
static uint32_t lcg(void *ctx, uint32_t bound)
{
    uint64_t *x = ctx;

    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((*x >> 33) % ((uint64_t)bound + 1));
}

static xmsg_net_target rec(const char *name, uint16_t port, uint16_t prio,
                           uint16_t weight, int direct)
{
    xmsg_net_target t;

    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "%s", name);
    t.port = port;
    t.priority = prio;
    t.weight = weight;
    t.direct_tls = direct;
    return t;
}

/* The names of v[0..n) joined by ',' */
static const char *names(const xmsg_net_target *v, size_t n)
{
    static char out[512];
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
                                i ? "," : "", v[i].name);
    return out;
}

static void test_srv_priority(void **state)
{
    xmsg_net_target v[] = {rec("c", 1, 30, 0, 0), rec("a", 1, 10, 0, 0),
                           rec("d", 1, 40, 0, 1), rec("b", 1, 20, 0, 0)};
    script s = {.n = 0};

    (void)state;
    assert_int_equal(xmsg_srv_order(v, 4, scripted, &s), 4);
    assert_string_equal(names(v, 4), "a,b,c,d");
    /* Groups of one need no draw. */
    assert_int_equal(s.nbounds, 0);
}

/* One priority, weights A=10 B=20 C=30: each row draws r values and
 * expects an order and the sums drawn from (RFC 2782: the running sum
 * picks the first record whose sum reaches r). */
static void test_srv_weights(void **state)
{
    static const struct {
        uint32_t r[2];
        const char *order;
    } rows[] = {
        {{0, 0}, "A,B,C"},   {{10, 0}, "A,B,C"}, {{11, 0}, "B,A,C"},
        {{30, 0}, "B,A,C"},  {{31, 0}, "C,A,B"}, {{60, 0}, "C,A,B"},
        {{45, 15}, "C,B,A"}, {{5, 21}, "A,C,B"}, {{99, 99}, "C,B,A"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_net_target v[] = {rec("A", 1, 5, 10, 0), rec("B", 1, 5, 20, 0),
                               rec("C", 1, 5, 30, 0)};
        script s = {.r = {rows[i].r[0], rows[i].r[1]}, .n = 2};

        assert_int_equal(xmsg_srv_order(v, 3, scripted, &s), 3);
        if (strcmp(names(v, 3), rows[i].order) != 0)
            fail_msg("row %zu: %s, want %s", i, names(v, 3), rows[i].order);
        assert_int_equal(s.nbounds, 2);
        assert_int_equal(s.bounds[0], 60);
    }
}

/* Weight 0 goes first in the running sum: picked only when 0 is drawn. */
static void test_srv_zero_weight(void **state)
{
    static const struct {
        uint32_t r;
        const char *order;
    } rows[] = {{0, "Z,W"}, {1, "W,Z"}, {10, "W,Z"}};
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_net_target v[] = {rec("W", 1, 0, 10, 0), rec("Z", 1, 0, 0, 0)};
        script s = {.r = {rows[i].r}, .n = 1};

        xmsg_srv_order(v, 2, scripted, &s);
        assert_string_equal(names(v, 2), rows[i].order);
    }
}

/* Over many draws the first pick follows the weights (deterministic
 * source: the counts are fixed, the bounds say what RFC 2782 means). */
static void test_srv_distribution(void **state)
{
    uint64_t x = 42;
    int first[3] = {0, 0, 0}, i;

    (void)state;
    for (i = 0; i < 6000; i++) {
        xmsg_net_target v[] = {rec("0", 1, 1, 10, 0), rec("1", 1, 1, 20, 0),
                               rec("2", 1, 1, 30, 0)};
        xmsg_srv_order(v, 3, lcg, &x);
        first[v[0].name[0] - '0']++;
    }
    assert_in_range(first[0], 850, 1150);  /* 1/6 of 6000 */
    assert_in_range(first[1], 1800, 2200); /* 2/6 */
    assert_in_range(first[2], 2800, 3200); /* 3/6 */
}

static void test_srv_dot_and_duplicates(void **state)
{
    xmsg_net_target dot[] = {rec(".", 5222, 0, 0, 0)};
    xmsg_net_target empty[] = {rec("", 5222, 0, 0, 0)};
    xmsg_net_target dups[] = {
        rec("x.test", 5222, 1, 0, 0), rec("X.TEST", 5222, 2, 0, 0),
        rec("x.test", 5223, 3, 0, 0), rec("x.test", 5222, 4, 0, 1),
        rec(".", 1, 0, 0, 0),         rec("x.test", 5222, 0, 0, 0),
    };
    script s = {.n = 0};

    (void)state;
    assert_int_equal(xmsg_srv_order(dot, 1, scripted, &s), 0);
    assert_int_equal(xmsg_srv_order(empty, 1, scripted, &s), 0);
    /* The first of a duplicate is kept, whatever its priority. */
    assert_int_equal(xmsg_srv_order(dups, 6, scripted, &s), 3);
    assert_int_equal(dups[0].port, 5222);
    assert_int_equal(dups[0].priority, 1);
    assert_int_equal(dups[0].direct_tls, 0);
    assert_int_equal(dups[1].port, 5223);
    assert_int_equal(dups[2].direct_tls, 1);
}

/* ---- the choice of targets ---- */

typedef struct answer_spec {
    xmsg_srv_status status;
    const char *recs; /* "name:port:prio;..." */
} answer_spec;

static void make_answer(xmsg_srv_answer *a, const answer_spec *sp, int direct)
{
    char buf[256], *save = NULL, *tok;

    memset(a, 0, sizeof(*a));
    a->status = sp->status;
    snprintf(a->why, sizeof(a->why), "Server failure");
    if (!sp->recs)
        return;
    snprintf(buf, sizeof(buf), "%s", sp->recs);
    for (tok = strtok_r(buf, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        char name[64];
        unsigned port, prio;

        assert_int_equal(sscanf(tok, "%63[^:]:%u:%u", name, &port, &prio), 3);
        a->v[a->n++] = rec(name, (uint16_t)port, (uint16_t)prio, 0, direct);
    }
}

/* "name:port:S|D,..." of v[0..n) */
static const char *plan(const xmsg_net_target *v, size_t n)
{
    static char out[512];
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s:%u:%c",
                                i ? "," : "", v[i].name, v[i].port,
                                v[i].direct_tls ? 'D' : 'S');
    return out;
}

static void test_targets(void **state)
{
    static const struct {
        const char *host;
        long port;
        int legacy;
        answer_spec xmpps, xmpp; /* xmpp unused with legacy */
        xmsg_err code;           /* XMSG_OK: want */
        const char *want;
    } rows[] = {
        /* An explicit host skips SRV: its port, 5222, or 5223 (legacy). */
        {"h.test", 0, 0, {0}, {0}, XMSG_OK, "h.test:5222:S"},
        {"h.test", 5300, 0, {0}, {0}, XMSG_OK, "h.test:5300:S"},
        {"h.test", 0, 1, {0}, {0}, XMSG_OK, "h.test:5223:D"},
        {"127.0.0.1", 443, 1, {0}, {0}, XMSG_OK, "127.0.0.1:443:D"},
        /* No SRV at all: the domain's A/AAAA. */
        {NULL,
         0,
         0,
         {XMSG_SRV_NONE, 0},
         {XMSG_SRV_NONE, 0},
         XMSG_OK,
         "d.test:5222:S"},
        {"",
         0,
         0,
         {XMSG_SRV_NONE, 0},
         {XMSG_SRV_NONE, 0},
         XMSG_OK,
         "d.test:5222:S"},
        {NULL, 0, 1, {XMSG_SRV_NONE, 0}, {0}, XMSG_OK, "d.test:5223:D"},
        /* Both services, ordered together by priority. */
        {NULL,
         0,
         0,
         {XMSG_SRV_RECORDS, "a.test:5223:0"},
         {XMSG_SRV_RECORDS, "b.test:5222:10"},
         XMSG_OK,
         "a.test:5223:D,b.test:5222:S"},
        {NULL,
         0,
         0,
         {XMSG_SRV_RECORDS, "a.test:5223:10"},
         {XMSG_SRV_RECORDS, "b.test:5222:5;c.test:5222:20"},
         XMSG_OK,
         "b.test:5222:S,a.test:5223:D,c.test:5222:S"},
        {NULL,
         0,
         1,
         {XMSG_SRV_RECORDS, "a.test:5223:10"},
         {0},
         XMSG_OK,
         "a.test:5223:D"},
        /* ".": no service, no fallback; xmpps's "." alone is no verdict. */
        {NULL,
         0,
         0,
         {XMSG_SRV_NONE, 0},
         {XMSG_SRV_NOSERVICE, 0},
         XMSG_ERR_CONNECT,
         NULL},
        {NULL, 0, 1, {XMSG_SRV_NOSERVICE, 0}, {0}, XMSG_ERR_CONNECT, NULL},
        {NULL,
         0,
         0,
         {XMSG_SRV_NOSERVICE, 0},
         {XMSG_SRV_NONE, 0},
         XMSG_OK,
         "d.test:5222:S"},
        {NULL,
         0,
         0,
         {XMSG_SRV_RECORDS, "a.test:5223:0"},
         {XMSG_SRV_NOSERVICE, 0},
         XMSG_OK,
         "a.test:5223:D"},
        /* A failed query with no record anywhere: an error. */
        {NULL,
         0,
         0,
         {XMSG_SRV_FAILED, 0},
         {XMSG_SRV_FAILED, 0},
         XMSG_ERR_CONNECT,
         NULL},
        {NULL,
         0,
         0,
         {XMSG_SRV_FAILED, 0},
         {XMSG_SRV_NONE, 0},
         XMSG_ERR_CONNECT,
         NULL},
        {NULL,
         0,
         0,
         {XMSG_SRV_FAILED, 0},
         {XMSG_SRV_RECORDS, "b.test:5222:0"},
         XMSG_OK,
         "b.test:5222:S"},
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_net_cfg cfg = {"d.test", rows[i].host, rows[i].port,
                            rows[i].legacy};
        xmsg_srv_answer xmpps, xmpp;
        xmsg_net_target out[XMSG_NET_TARGETS_MAX];
        xmsg_net_err err = {0};
        script s = {.n = 0};
        xmsg_net_rc rc;

        make_answer(&xmpps, &rows[i].xmpps, 1);
        make_answer(&xmpp, &rows[i].xmpp, 0);
        rc = xmsg_net_targets(&cfg, &xmpps, rows[i].legacy ? NULL : &xmpp,
                              scripted, &s, out, &n, &err);
        if (rows[i].code != XMSG_OK) {
            if (rc != XMSG_NET_FAIL || err.code != rows[i].code)
                fail_msg("row %zu: rc %d code %d", i, rc, err.code);
            assert_true(strstr(err.text, "d.test") != NULL);
            continue;
        }
        if (rc != XMSG_NET_DONE || strcmp(plan(out, n), rows[i].want) != 0)
            fail_msg("row %zu: rc %d '%s' (%s), want '%s'", i, rc, plan(out, n),
                     err.text, rows[i].want);
    }
}

static void test_wants_srv(void **state)
{
    xmsg_net_cfg c = {"d.test", NULL, 0, 0};

    (void)state;
    assert_true(xmsg_net_wants_srv(&c));
    assert_true(xmsg_net_wants_starttls_srv(&c));
    c.legacy_tls = 1;
    assert_true(xmsg_net_wants_srv(&c));
    assert_false(xmsg_net_wants_starttls_srv(&c));
    c.host = "h";
    assert_false(xmsg_net_wants_srv(&c));
}

static void test_helpers(void **state)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    xmsg_net_wait w = {.n = 0};
    char out[80];

    (void)state;
    memset(&ss, 0, sizeof(ss));
    s4->sin_family = AF_INET;
    s4->sin_port = htons(5222);
    inet_pton(AF_INET, "127.0.0.1", &s4->sin_addr);
    xmsg_net_addr_str(&ss, out, sizeof(out));
    assert_string_equal(out, "127.0.0.1:5222");
    memset(&ss, 0, sizeof(ss));
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(5223);
    inet_pton(AF_INET6, "::1", &s6->sin6_addr);
    xmsg_net_addr_str(&ss, out, sizeof(out));
    assert_string_equal(out, "[::1]:5223");
    /* The poll timeout: the earlier of wake and deadline, 0 when due. */
    assert_int_equal(xmsg_net_wait_timeout(&w, 1500, 1000), 500);
    w.wake = 1200;
    assert_int_equal(xmsg_net_wait_timeout(&w, 1500, 1000), 200);
    w.wake = 1;
    assert_int_equal(xmsg_net_wait_timeout(&w, 1500, 1000), 0);
    w.wake = 0;
    assert_int_equal(xmsg_net_wait_timeout(&w, 900, 1000), 0);
}

/* The resolver on a literal address: no DNS server is asked. */
static void resolve_literal(const char *host, long port, int legacy,
                            const char *want, int direct)
{
    xmsg_net_cfg cfg = {"d.test", host, port, legacy};
    xmsg_net_err err = {0};
    uint64_t deadline = xmsg_now_ms() + 30000;
    xmsg_resolver *r = xmsg_resolver_new(&cfg, deadline, NULL, NULL, &err);
    xmsg_net_rc rc = XMSG_NET_AGAIN;
    xmsg_net_wait w;
    const xmsg_net_cands *c;
    char addr[80];
    int i;

    assert_non_null(r);
    for (i = 0; i < 1000 && rc == XMSG_NET_AGAIN; i++) {
        xmsg_resolver_wait(r, &w);
        poll(w.pfd, (nfds_t)w.n,
             xmsg_net_wait_timeout(&w, deadline, xmsg_now_ms()));
        rc = xmsg_resolver_step(r, w.pfd, w.n, xmsg_now_ms());
    }
    assert_int_equal(rc, XMSG_NET_DONE);
    c = xmsg_resolver_cands(r);
    assert_int_equal(c->n, 1);
    xmsg_net_addr_str(&c->v[0].addr, addr, sizeof(addr));
    assert_string_equal(addr, want);
    assert_int_equal(c->v[0].direct_tls, direct);
    assert_string_equal(c->v[0].target, host);
    xmsg_resolver_free(r);
}

static void test_resolver_literal(void **state)
{
    (void)state;
    resolve_literal("127.0.0.1", 0, 0, "127.0.0.1:5222", 0);
    resolve_literal("::1", 5300, 0, "[::1]:5300", 0);
    resolve_literal("127.0.0.2", 0, 1, "127.0.0.2:5223", 1);
}

/* A resolver whose deadline has passed fails with a timeout. */
static void test_resolver_deadline(void **state)
{
    xmsg_net_cfg cfg = {"d.test", NULL, 0, 0};
    xmsg_net_err err = {0};
    xmsg_resolver *r = xmsg_resolver_new(&cfg, 1, NULL, NULL, &err);

    (void)state;
    assert_non_null(r);
    assert_int_equal(xmsg_resolver_step(r, NULL, 0, xmsg_now_ms()),
                     XMSG_NET_FAIL);
    assert_int_equal(xmsg_resolver_err(r)->code, XMSG_ERR_TIMEOUT);
    xmsg_resolver_free(r);
}

/* No candidate: the connector fails at once with a connection error. */
static void test_connector_empty(void **state)
{
    xmsg_net_cands none = {.n = 0};
    xmsg_connector *c =
        xmsg_connector_new(&none, xmsg_now_ms() + 1000, NULL, NULL);

    (void)state;
    assert_non_null(c);
    assert_int_equal(xmsg_connector_step(c, NULL, 0, xmsg_now_ms()),
                     XMSG_NET_FAIL);
    assert_int_equal(xmsg_connector_err(c)->code, XMSG_ERR_CONNECT);
    assert_int_equal(xmsg_connector_take_fd(c), -1);
    xmsg_connector_free(c);
}

/* A caFile that does not load is the caller's input error. */
static void test_tls_bad_ca_file(void **state)
{
    xmsg_tls_cfg cfg = {"d.test", "/nonexistent/ca.pem", NULL, 0, 0};
    xmsg_net_err err = {0};

    (void)state;
    assert_null(xmsg_tls_new(&cfg, 0, 1, NULL, NULL, &err));
    assert_int_equal(err.code, XMSG_ERR_INPUT);
    assert_non_null(strstr(err.text, "/nonexistent/ca.pem"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv_priority),
        cmocka_unit_test(test_srv_weights),
        cmocka_unit_test(test_srv_zero_weight),
        cmocka_unit_test(test_srv_distribution),
        cmocka_unit_test(test_srv_dot_and_duplicates),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_wants_srv),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_resolver_literal),
        cmocka_unit_test(test_resolver_deadline),
        cmocka_unit_test(test_connector_empty),
        cmocka_unit_test(test_tls_bad_ca_file),
    };

    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
