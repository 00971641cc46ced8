/* test_sasl.c - mechanism names, the restriction param, the choice table
 * (offered x binding available x restriction -> mechanism, binding type
 * and gs2 flag, or the error), downgrade warning, PLAIN, strict base64. */
#include "unit.h"

#include "xmpp/sasl.h"

#define B(m) XMSG_MECH_BIT(XMSG_MECH_##m)

static void test_names(void **state)
{
    int m;

    (void)state;
    for (m = 0; m < XMSG_MECH_COUNT; m++)
        assert_int_equal(xmsg_sasl_mech_parse(xmsg_sasl_mech_name(m)), m);
    assert_int_equal(xmsg_sasl_mech_parse("scram-sha-1"), XMSG_MECH_NONE);
    assert_int_equal(xmsg_sasl_mech_parse("SCRAM-SHA-1-PLUSX"), XMSG_MECH_NONE);
    assert_int_equal(xmsg_sasl_mech_parse(NULL), XMSG_MECH_NONE);
    assert_string_equal(xmsg_sasl_mech_name(XMSG_MECH_NONE), "?");
    assert_int_equal(xmsg_sasl_cb_parse("tls-exporter"), XMSG_CB_TLS_EXPORTER);
    assert_int_equal(xmsg_sasl_cb_parse("tls-server-end-point"),
                     XMSG_CB_TLS_SERVER_END_POINT);
    assert_int_equal(xmsg_sasl_cb_parse("tls-unique"), XMSG_CB_TLS_UNIQUE);
    assert_int_equal(xmsg_sasl_cb_parse("tls-uniq"), XMSG_CB_NONE);
    assert_null(xmsg_sasl_cb_name(XMSG_CB_NONE));
    assert_int_equal(xmsg_sasl_mech_hash(XMSG_MECH_SCRAM_SHA_512_PLUS),
                     XMSG_HASH_SHA512);
    assert_int_equal(xmsg_scram_hash_len(XMSG_HASH_SHA256), 32);
}

static void test_policy_parse(void **state)
{
    static const struct {
        const char *spec;
        xmsg_err code;
        unsigned allowed;
    } rows[] = {
        {NULL, XMSG_OK, XMSG_MECH_ALL},
        {"", XMSG_OK, XMSG_MECH_ALL},
        {"SCRAM-SHA-256-PLUS,SCRAM-SHA-1", XMSG_OK,
         B(SCRAM_SHA_256_PLUS) | B(SCRAM_SHA_1)},
        {" scram-sha-1 , PLAIN ", XMSG_OK, B(SCRAM_SHA_1) | B(PLAIN)},
        {"no-plain", XMSG_OK, XMSG_MECH_ALL & ~B(PLAIN)},
        {"NO-PLAIN", XMSG_OK, XMSG_MECH_ALL & ~B(PLAIN)},
        {"plus-only", XMSG_OK,
         B(SCRAM_SHA_1_PLUS) | B(SCRAM_SHA_256_PLUS) | B(SCRAM_SHA_512_PLUS)},
        {"plus-only,no-plain", XMSG_OK,
         B(SCRAM_SHA_1_PLUS) | B(SCRAM_SHA_256_PLUS) | B(SCRAM_SHA_512_PLUS)},
        {"SCRAM-SHA-1,SCRAM-SHA-1-PLUS,plus-only", XMSG_OK,
         B(SCRAM_SHA_1_PLUS)},
        {"PLAIN,SCRAM-SHA-1,no-plain", XMSG_OK, B(SCRAM_SHA_1)},
        {"PLAIN,no-plain", XMSG_ERR_INPUT, 0},
        {"SCRAM-SHA-1,plus-only", XMSG_ERR_INPUT, 0},
        {"SCRAM-SHA-384", XMSG_ERR_INPUT, 0},
        {"DIGEST-MD5", XMSG_ERR_INPUT, 0},
        {"SCRAM-SHA-1,", XMSG_ERR_INPUT, 0},
        {",SCRAM-SHA-1", XMSG_ERR_INPUT, 0},
        {"SCRAM-SHA-1,,PLAIN", XMSG_ERR_INPUT, 0},
        {" ", XMSG_ERR_INPUT, 0},
        {"SCRAM-SHA-1 PLAIN", XMSG_ERR_INPUT, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_status *st = xmsg_status_new();
        unsigned allowed = 12345;
        xmsg_err rc = xmsg_sasl_policy_parse(rows[i].spec, &allowed, st);
        if (rc != rows[i].code || xmsg_status_code(st) != rows[i].code)
            fail_msg("row %zu (%s): %d", i, rows[i].spec ? rows[i].spec : "-",
                     rc);
        if (rc == XMSG_OK && allowed != rows[i].allowed)
            fail_msg("row %zu: allowed %#x, want %#x", i, allowed,
                     rows[i].allowed);
        if (rc != XMSG_OK &&
            !unit_contains(xmsg_status_text(st), "saslMechanisms"))
            fail_msg("row %zu: text %s", i, xmsg_status_text(st));
        xmsg_status_free(st);
    }
}

/* Connections of the table. */
enum conn_kind {
    NO_TLS,
    TLS12,           /* tls-unique data available */
    TLS13,           /* tls-exporter data available */
    TLS13_NO_DATA,   /* the TLS layer gives no binding data */
    TLS13_LIST_SEP,  /* XEP-0440 lists tls-server-end-point only */
    TLS12_LIST_ALL,  /* XEP-0440 lists the three types */
    TLS13_LIST_NONE, /* XEP-0440 list is empty */
    TLS12_ALL_DATA,  /* TLS 1.2, data of every type available */
    TLS13_UNIQUE     /* TLS 1.3, only tls-unique data (undefined there) */
};

#define U XMSG_CB_TLS_UNIQUE
#define E XMSG_CB_TLS_EXPORTER
#define S XMSG_CB_TLS_SERVER_END_POINT

/* tls, tls13, cb_have, server_cb_listed, server_cb */
static const xmsg_sasl_conn conns[] = {
    [NO_TLS] = {0, 0, 0, 0, 0, 0},
    [TLS12] = {1, 0, U | S, 0, 0, 0},
    [TLS13] = {1, 1, E | S, 0, 0, 0},
    [TLS13_NO_DATA] = {1, 1, 0, 0, 0, 0},
    [TLS13_LIST_SEP] = {1, 1, E | S, 1, S, 0},
    [TLS12_LIST_ALL] = {1, 0, U | S, 1, U | E | S, 0},
    [TLS13_LIST_NONE] = {1, 1, E | S, 1, 0, 0},
    [TLS12_ALL_DATA] = {1, 0, U | E | S, 0, 0, 0},
    [TLS13_UNIQUE] = {1, 1, U, 0, 0, 0},
};

/* Splits a comma list into v (pointers into buf). */
static size_t split_list(char *buf, const char **v, size_t max)
{
    size_t n = 0;
    char *p;

    for (p = strtok(buf, ","); p && n < max; p = strtok(NULL, ","))
        v[n++] = p;
    return n;
}

static void test_choose_table(void **state)
{
    static const char all[] = "PLAIN,SCRAM-SHA-1,SCRAM-SHA-256,SCRAM-SHA-512,"
                              "SCRAM-SHA-1-PLUS,SCRAM-SHA-256-PLUS,"
                              "SCRAM-SHA-512-PLUS";
    static const struct {
        const char *offered;
        enum conn_kind conn;
        const char *policy;
        xmsg_err code;
        xmsg_sasl_mech mech;
        xmsg_sasl_cb cb;
        char flag;
    } rows[] = {
        /* strongest first */
        {all, TLS13, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512_PLUS,
         XMSG_CB_TLS_EXPORTER, 'p'},
        {all, TLS12, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512_PLUS,
         XMSG_CB_TLS_UNIQUE, 'p'},
        {"SCRAM-SHA-1,SCRAM-SHA-256-PLUS,SCRAM-SHA-512", TLS13, NULL, XMSG_OK,
         XMSG_MECH_SCRAM_SHA_256_PLUS, XMSG_CB_TLS_EXPORTER, 'p'},
        {"SCRAM-SHA-1-PLUS,SCRAM-SHA-512", TLS13, NULL, XMSG_OK,
         XMSG_MECH_SCRAM_SHA_1_PLUS, XMSG_CB_TLS_EXPORTER, 'p'},
        /* tls-exporter is TLS 1.3's, tls-unique TLS 1.2's */
        {all, TLS12_ALL_DATA, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512_PLUS,
         XMSG_CB_TLS_UNIQUE, 'p'},
        {all, TLS13_UNIQUE, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512,
         XMSG_CB_NONE, 'n'},
        /* cannot bind: strongest without -PLUS, flag n (server has -PLUS) */
        {all, NO_TLS, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512, XMSG_CB_NONE,
         'n'},
        {all, TLS13_NO_DATA, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512,
         XMSG_CB_NONE, 'n'},
        /* we can bind, the server offers no -PLUS: y (downgrade guard) */
        {"PLAIN,SCRAM-SHA-1", TLS13, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_1,
         XMSG_CB_NONE, 'y'},
        {"SCRAM-SHA-256,SCRAM-SHA-1", TLS12, NULL, XMSG_OK,
         XMSG_MECH_SCRAM_SHA_256, XMSG_CB_NONE, 'y'},
        {"SCRAM-SHA-1", NO_TLS, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_1,
         XMSG_CB_NONE, 'n'},
        /* policy keeps us off -PLUS the server has: n, not y */
        {all, TLS13, "SCRAM-SHA-256", XMSG_OK, XMSG_MECH_SCRAM_SHA_256,
         XMSG_CB_NONE, 'n'},
        {all, TLS13, "SCRAM-SHA-256-PLUS,SCRAM-SHA-1", XMSG_OK,
         XMSG_MECH_SCRAM_SHA_256_PLUS, XMSG_CB_TLS_EXPORTER, 'p'},
        {all, TLS13_NO_DATA, "SCRAM-SHA-256-PLUS,SCRAM-SHA-1", XMSG_OK,
         XMSG_MECH_SCRAM_SHA_1, XMSG_CB_NONE, 'n'},
        /* XEP-0440 list */
        {all, TLS13_LIST_SEP, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512_PLUS,
         XMSG_CB_TLS_SERVER_END_POINT, 'p'},
        {all, TLS12_LIST_ALL, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512_PLUS,
         XMSG_CB_TLS_UNIQUE, 'p'},
        {all, TLS13_LIST_NONE, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_512,
         XMSG_CB_NONE, 'n'},
        {"SCRAM-SHA-1", TLS13_LIST_NONE, NULL, XMSG_OK, XMSG_MECH_SCRAM_SHA_1,
         XMSG_CB_NONE, 'n'},
        /* PLAIN: only over TLS, and not when the policy says no */
        {"PLAIN", TLS12, NULL, XMSG_OK, XMSG_MECH_PLAIN, XMSG_CB_NONE, '\0'},
        {"PLAIN,X-OAUTH2", TLS13, NULL, XMSG_OK, XMSG_MECH_PLAIN, XMSG_CB_NONE,
         '\0'},
        {"PLAIN", NO_TLS, NULL, XMSG_ERR_TLS, XMSG_MECH_NONE, XMSG_CB_NONE, 0},
        {"PLAIN", TLS12, "no-plain", XMSG_ERR_AUTH, XMSG_MECH_NONE,
         XMSG_CB_NONE, 0},
        {"PLAIN,SCRAM-SHA-1", TLS12, "no-plain", XMSG_OK, XMSG_MECH_SCRAM_SHA_1,
         XMSG_CB_NONE, 'y'},
        /* plus-only */
        {"SCRAM-SHA-1,SCRAM-SHA-256", TLS13, "plus-only", XMSG_ERR_AUTH,
         XMSG_MECH_NONE, XMSG_CB_NONE, 0},
        {all, NO_TLS, "plus-only", XMSG_ERR_AUTH, XMSG_MECH_NONE, XMSG_CB_NONE,
         0},
        {all, TLS13_NO_DATA, "plus-only", XMSG_ERR_AUTH, XMSG_MECH_NONE,
         XMSG_CB_NONE, 0},
        {all, TLS12, "plus-only", XMSG_OK, XMSG_MECH_SCRAM_SHA_512_PLUS,
         XMSG_CB_TLS_UNIQUE, 'p'},
        /* nothing known */
        {"DIGEST-MD5,X-OAUTH2", TLS13, NULL, XMSG_ERR_AUTH, XMSG_MECH_NONE,
         XMSG_CB_NONE, 0},
        {"", TLS13, NULL, XMSG_ERR_AUTH, XMSG_MECH_NONE, XMSG_CB_NONE, 0},
        {"scram-sha-1", TLS13, NULL, XMSG_ERR_AUTH, XMSG_MECH_NONE,
         XMSG_CB_NONE, 0},
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_sasl_conn conn = conns[rows[i].conn];
        xmsg_status *st = xmsg_status_new();
        xmsg_sasl_choice ch;
        const char *v[16];
        unsigned allowed;
        char buf[256];
        xmsg_err rc;

        snprintf(buf, sizeof(buf), "%s", rows[i].offered);
        n = split_list(buf, v, 16);
        assert_int_equal(xmsg_sasl_policy_parse(rows[i].policy, &allowed, NULL),
                         XMSG_OK);
        rc = xmsg_sasl_choose(v, n, &conn, allowed, NULL, &ch, st);
        if (rc != rows[i].code || ch.mech != rows[i].mech ||
            (rc == XMSG_OK &&
             (ch.cb != rows[i].cb || ch.gs2_flag != rows[i].flag)))
            fail_msg("row %zu (%s, conn %d, %s): rc %d mech %s cb %d flag %c "
                     "(%s)",
                     i, rows[i].offered, rows[i].conn,
                     rows[i].policy ? rows[i].policy : "-", rc,
                     xmsg_sasl_mech_name(ch.mech), ch.cb,
                     ch.gs2_flag ? ch.gs2_flag : '0', xmsg_status_text(st));
        if (rc != XMSG_OK && !unit_contains(xmsg_status_text(st), "offered"))
            fail_msg("row %zu: text %s", i, xmsg_status_text(st));
        xmsg_status_free(st);
    }
}

struct log_rec {
    int n;
    xmsg_log_level lvl;
    char line[512];
};

static void log_keep(xmsg_log_level lvl, const char *line, void *ud)
{
    struct log_rec *r = ud;

    r->n++;
    r->lvl = lvl;
    snprintf(r->line, sizeof(r->line), "%s", line);
}

static void test_downgrade(void **state)
{
    const char *plus[] = {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"};
    const char *plain[] = {"SCRAM-SHA-1"};
    struct log_rec rec = {0};
    xmsg_sasl_log log = {log_keep, &rec};
    xmsg_sasl_conn conn = conns[TLS13];
    xmsg_sasl_choice ch;

    (void)state;
    conn.plus_seen_before = 1;
    assert_int_equal(
        xmsg_sasl_choose(plus, 2, &conn, XMSG_MECH_ALL, &log, &ch, NULL),
        XMSG_OK);
    assert_int_equal(rec.n, 0);
    assert_false(ch.downgrade);
    assert_true(ch.plus_offered);
    assert_int_equal(
        xmsg_sasl_choose(plain, 1, &conn, XMSG_MECH_ALL, &log, &ch, NULL),
        XMSG_OK);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.lvl, XMSG_LOG_WARN);
    assert_true(unit_contains(rec.line, "downgrade"));
    assert_true(ch.downgrade);
    assert_int_equal(ch.gs2_flag, 'y');
    /* never seen: no warning */
    conn.plus_seen_before = 0;
    assert_int_equal(
        xmsg_sasl_choose(plain, 1, &conn, XMSG_MECH_ALL, &log, &ch, NULL),
        XMSG_OK);
    assert_int_equal(rec.n, 1);
    assert_false(ch.downgrade);
    assert_int_equal(
        xmsg_sasl_choose(plain, 1, NULL, XMSG_MECH_ALL, &log, &ch, NULL),
        XMSG_ERR_INTERNAL);
}

static void test_plain(void **state)
{
    xmsg_status *st = xmsg_status_new();
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(xmsg_sasl_plain("alice", "s3cret", 1, &out, &len, st),
                     XMSG_OK);
    assert_int_equal(len, 13);
    assert_memory_equal(out, "\0alice\0s3cret", 13);
    xmsg_sasl_free_secret(out, len);
    assert_int_equal(xmsg_sasl_plain("alice", "s3cret", 0, &out, &len, st),
                     XMSG_ERR_TLS);
    assert_null(out);
    xmsg_status_free(st);
    st = xmsg_status_new();
    assert_int_equal(xmsg_sasl_plain("", "s3cret", 1, &out, &len, st),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_sasl_plain("alice", NULL, 1, &out, &len, NULL),
                     XMSG_ERR_INPUT);
    xmsg_status_free(st);
}

static void test_b64_decode(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *out;
    } rows[] = {
        {"", 0, ""},
        {"Zg==", 0, "f"},
        {"Zm8=", 0, "fo"},
        {"Zm9v", 0, "foo"},
        {"Zm9vYmFy", 0, "foobar"},
        {"Zg=", -1, NULL},
        {"Zg", -1, NULL},
        {"Zh==", -1, NULL}, /* bits under the padding */
        {"Zm9=", -1, NULL},
        {"Z===", -1, NULL},
        {"====", -1, NULL},
        {"Zg==Zg==", -1, NULL}, /* padding inside */
        {"Zm9v\n", -1, NULL},
        {"Zm 9", -1, NULL},
        {"Zm-v", -1, NULL},
        {"Zm=v", -1, NULL},
    };
    unsigned char *out;
    size_t i, len;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        int rc =
            xmsg_sasl_b64_decode(rows[i].in, strlen(rows[i].in), &out, &len);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s): %d", i, rows[i].in, rc);
        if (rc == 0) {
            assert_int_equal(len, strlen(rows[i].out));
            assert_memory_equal(out, rows[i].out, len);
        } else {
            assert_null(out);
        }
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_choose_table),
        cmocka_unit_test(test_downgrade),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_b64_decode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
