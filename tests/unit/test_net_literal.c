/* test_net_literal.c - an explicit literal address (host "127.0.0.1",
 * "::1") is resolved without asking the DNS: no socket in any wait, done
 * at once. (c-ares 1.18 sends A and AAAA queries for a literal; behind a
 * silent DNS server the resolver then timed out on "127.0.0.1".) */
#include "unit.h"

#include <poll.h>

#include "net/net.h"

typedef struct lit_row {
    const char *host;
    long port;
    int legacy;
    const char *want;
} lit_row;

static const lit_row lit_rows[] = {
    {"127.0.0.1", 5300, 0, "127.0.0.1:5300"},
    {"127.0.0.2", 0, 0, "127.0.0.2:5222"},
    {"::1", 0, 1, "[::1]:5223"},
    {"2001:db8::7", 5999, 0, "[2001:db8::7]:5999"},
};

static void test_literal_no_dns(void **state)
{
    size_t k;

    (void)state;
    for (k = 0; k < N_ROWS(lit_rows); k++) {
        const lit_row *row = &lit_rows[k];
        xmsg_net_cfg cfg = {"d.test", row->host, row->port, row->legacy};
        xmsg_net_err err = {0};
        uint64_t deadline = xmsg_now_ms() + 30000;
        xmsg_resolver *r = xmsg_resolver_new(&cfg, deadline, NULL, NULL, &err);
        xmsg_net_rc rc = XMSG_NET_AGAIN;
        xmsg_net_wait w;
        char addr[80];
        int i, sockets = 0;

        assert_non_null(r);
        for (i = 0; i < 10 && rc == XMSG_NET_AGAIN; i++) {
            xmsg_resolver_wait(r, &w);
            sockets += w.n;
            rc = xmsg_resolver_step(r, w.pfd, w.n, xmsg_now_ms());
        }
        print_message("%s: %d step(s), %d socket(s) waited on\n", row->host, i,
                      sockets);
        assert_int_equal(rc, XMSG_NET_DONE);
        assert_int_equal(sockets, 0);
        assert_int_equal(xmsg_resolver_cands(r)->n, 1);
        xmsg_net_addr_str(&xmsg_resolver_cands(r)->v[0].addr, addr,
                          sizeof(addr));
        assert_string_equal(addr, row->want);
        xmsg_resolver_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_no_dns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
