/* test_params.c - xmsg_params: defaults, setters, from_json, check. */
#include "unit.h"

#include "model/internal.h"

struct fx {
    xmsg_params *p;
    xmsg_status *st;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->p = xmsg_params_new();
    f->st = xmsg_status_new();
    if (f->p == NULL || f->st == NULL)
        return -1;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    xmsg_params_free(f->p);
    xmsg_status_free(f->st);
    free(f);
    return 0;
}

/* Fresh params and status for one row of a table. */
static void fresh(struct fx *f)
{
    xmsg_params_free(f->p);
    xmsg_status_free(f->st);
    f->p = xmsg_params_new();
    f->st = xmsg_status_new();
    assert_non_null(f->p);
    assert_non_null(f->st);
}

/* Asserts st holds an XMSG_ERR_INPUT failure whose text mentions word
 * (when word is not NULL); reports and counts a mismatch. */
static void expect_input(const char *what, xmsg_err rc, const xmsg_status *st,
                         const char *word, int *bad)
{
    const char *text = xmsg_status_text(st);

    if (rc != XMSG_ERR_INPUT || xmsg_status_code(st) != XMSG_ERR_INPUT ||
        text == NULL || text[0] == '\0' ||
        (word != NULL && !unit_contains(text, word))) {
        fprintf(stderr,
                "%s: want rc=1 code=1 text mentioning %s; got rc=%d "
                "code=%d text=",
                what, word ? word : "(anything)", (int)rc,
                (int)xmsg_status_code(st));
        unit_print_str(text);
        fputc('\n', stderr);
        (*bad)++;
    }
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    const xmsg_params *p = ((struct fx *)*state)->p;

    assert_int_equal(p->port, 5222);
    assert_int_equal(p->timeout, 20);
    assert_int_equal(p->keepalive_timeout, 60);
    assert_int_equal(p->keepalive_interval, 1);
    assert_int_equal(p->log_level, XMSG_LOG_DEBUG);
    assert_int_equal(p->keepalive, 0);
    assert_int_equal(p->disable_tls, 0);
    assert_int_equal(p->mandatory_tls, 1);
    assert_int_equal(p->legacy_tls, 0);
    assert_int_equal(p->trust_tls, 0);
    assert_int_equal(p->legacy_auth, 0);
    assert_null(p->host);
    assert_null(p->jid);
    assert_null(p->password);
    assert_null(p->ca_file);
}

static void test_free_null(void **state)
{
    (void)state;
    xmsg_params_free(NULL);
}

/* ---- setters by JSON name ---- */

enum field {
    F_JID,
    F_PASSWORD,
    F_HOST,
    F_CA_FILE,
    F_PORT,
    F_TIMEOUT,
    F_KA_TIMEOUT,
    F_KA_INTERVAL,
    F_LOG_LEVEL,
    F_KEEPALIVE,
    F_DISABLE_TLS,
    F_MANDATORY_TLS,
    F_LEGACY_TLS,
    F_TRUST_TLS,
    F_LEGACY_AUTH
};

static const char *str_field(const xmsg_params *p, enum field f)
{
    switch (f) {
    case F_JID:
        return p->jid;
    case F_PASSWORD:
        return p->password;
    case F_HOST:
        return p->host;
    case F_CA_FILE:
        return p->ca_file;
    default:
        return NULL;
    }
}

static long num_field(const xmsg_params *p, enum field f)
{
    switch (f) {
    case F_PORT:
        return p->port;
    case F_TIMEOUT:
        return p->timeout;
    case F_KA_TIMEOUT:
        return p->keepalive_timeout;
    case F_KA_INTERVAL:
        return p->keepalive_interval;
    case F_LOG_LEVEL:
        return (long)p->log_level;
    case F_KEEPALIVE:
        return p->keepalive;
    case F_DISABLE_TLS:
        return p->disable_tls;
    case F_MANDATORY_TLS:
        return p->mandatory_tls;
    case F_LEGACY_TLS:
        return p->legacy_tls;
    case F_TRUST_TLS:
        return p->trust_tls;
    case F_LEGACY_AUTH:
        return p->legacy_auth;
    default:
        return -12345;
    }
}

static void test_set_string(void **state)
{
    static const struct {
        const char *name, *value;
        enum field f;
    } rows[] = {
        {"jid", "alice@example.com", F_JID},
        {"jid", "alice@example.com/res", F_JID},
        {"password", "s3cr3t p\xC3\xA4ss", F_PASSWORD},
        {"host", "xmpp.example.net", F_HOST},
        {"host", "127.0.0.1", F_HOST},
        {"caFile", "/etc/ssl/certs/ca.pem", F_CA_FILE},
    };
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_err rc;
        const char *got;

        fresh(f);
        rc = xmsg_params_set_string(f->p, rows[i].name, rows[i].value, f->st);
        got = str_field(f->p, rows[i].f);
        if (rc != XMSG_OK || xmsg_status_code(f->st) != XMSG_OK ||
            got == NULL || strcmp(got, rows[i].value) != 0 ||
            got == rows[i].value) {
            fprintf(stderr, "set_string(%s, %s): rc=%d field=", rows[i].name,
                    rows[i].value, (int)rc);
            unit_print_str(got);
            fputc('\n', stderr);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu set_string cases failed", bad, N_ROWS(rows));
}

/* Setting twice replaces the value (and frees the old one: valgrind). */
static void test_set_string_twice(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xmsg_params_set_string(f->p, "host", "a.example", f->st),
                     XMSG_OK);
    assert_int_equal(xmsg_params_set_string(f->p, "host", "b.example", f->st),
                     XMSG_OK);
    assert_string_equal(f->p->host, "b.example");
    assert_int_equal(xmsg_params_set_string(f->p, "password", "one", f->st),
                     XMSG_OK);
    assert_int_equal(xmsg_params_set_string(f->p, "password", "two", f->st),
                     XMSG_OK);
    assert_string_equal(f->p->password, "two");
}

static void test_set_int(void **state)
{
    static const struct {
        const char *name;
        long value;
        enum field f;
    } rows[] = {
        {"port", 5223, F_PORT},
        {"port", 1, F_PORT},
        {"port", 65535, F_PORT},
        {"timeout", 45, F_TIMEOUT},
        {"timeout", 1, F_TIMEOUT},
        {"timeout", 86400, F_TIMEOUT},
        {"keepAliveTimeout", 90, F_KA_TIMEOUT},
        {"keepAliveTimeout", 1, F_KA_TIMEOUT},
        {"keepAliveTimeout", 86400, F_KA_TIMEOUT},
        {"keepAliveInterval", 7, F_KA_INTERVAL},
        {"keepAliveInterval", 86400, F_KA_INTERVAL},
        {"logLevel", 0, F_LOG_LEVEL},
        {"logLevel", 1, F_LOG_LEVEL},
        {"logLevel", 2, F_LOG_LEVEL},
        {"logLevel", 3, F_LOG_LEVEL},
    };
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_err rc;
        long got;

        fresh(f);
        /* start from another value so a no-op cannot pass */
        f->p->log_level = (xmsg_log_level)((rows[i].value + 1) % 4);
        f->p->keepalive_interval = rows[i].value == 1 ? 2 : 1;
        rc = xmsg_params_set_int(f->p, rows[i].name, rows[i].value, f->st);
        got = num_field(f->p, rows[i].f);
        if (rc != XMSG_OK || xmsg_status_code(f->st) != XMSG_OK ||
            got != rows[i].value) {
            fprintf(stderr, "set_int(%s, %ld): rc=%d field=%ld\n", rows[i].name,
                    rows[i].value, (int)rc, got);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu set_int cases failed", bad, N_ROWS(rows));
}

static void test_set_bool(void **state)
{
    static const struct {
        const char *name;
        enum field f;
    } rows[] = {
        {"keepAlive", F_KEEPALIVE},        {"disableTLS", F_DISABLE_TLS},
        {"mandatoryTLS", F_MANDATORY_TLS}, {"legacyTLS", F_LEGACY_TLS},
        {"trustTLS", F_TRUST_TLS},         {"enableLegacyAuth", F_LEGACY_AUTH},
    };
    struct fx *f = *state;
    size_t i;
    int v, bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        fresh(f);
        /* default of mandatoryTLS is 1, the others 0: flip twice */
        for (v = 0; v < 4; v++) {
            int want = (int)(num_field(f->p, rows[i].f) == 0);
            xmsg_err rc = xmsg_params_set_bool(f->p, rows[i].name, want, f->st);
            long got = num_field(f->p, rows[i].f);
            if (rc != XMSG_OK || got != want) {
                fprintf(stderr, "set_bool(%s, %d): rc=%d field=%ld\n",
                        rows[i].name, want, (int)rc, got);
                bad++;
            }
        }
    }
    if (bad)
        fail_msg("%d set_bool cases failed", bad);
}

/* ---- wrong type, unknown name, out of range ---- */

enum setter { S_STR, S_INT, S_BOOL };

struct bad_set {
    enum setter kind;
    const char *name;
    const char *s; /* S_STR */
    long n;        /* S_INT, S_BOOL */
    const char *mention;
};

static xmsg_err apply(xmsg_params *p, const struct bad_set *r, xmsg_status *st)
{
    switch (r->kind) {
    case S_STR:
        return xmsg_params_set_string(p, r->name, r->s, st);
    case S_INT:
        return xmsg_params_set_int(p, r->name, r->n, st);
    default:
        return xmsg_params_set_bool(p, r->name, (int)r->n, st);
    }
}

static void run_bad_sets(struct fx *f, const struct bad_set *rows, size_t n)
{
    static const char *kinds[] = {"set_string", "set_int", "set_bool"};
    size_t i;
    int bad = 0;

    for (i = 0; i < n; i++) {
        struct xmsg_params before;
        char what[160];
        xmsg_err rc;

        fresh(f);
        before = *f->p;
        rc = apply(f->p, &rows[i], f->st);
        snprintf(what, sizeof(what), "%s(%s, %s/%ld)", kinds[rows[i].kind],
                 rows[i].name, rows[i].s ? rows[i].s : "-", rows[i].n);
        expect_input(what, rc, f->st, rows[i].mention, &bad);
        /* a refused value changes nothing */
        if (f->p->port != before.port || f->p->timeout != before.timeout ||
            f->p->keepalive_timeout != before.keepalive_timeout ||
            f->p->keepalive_interval != before.keepalive_interval ||
            f->p->log_level != before.log_level ||
            f->p->keepalive != before.keepalive || f->p->jid != NULL ||
            f->p->host != NULL) {
            fprintf(stderr, "%s: a refused value changed the params\n", what);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu refused-setter cases failed", bad, n);
}

static void test_wrong_type(void **state)
{
    static const struct bad_set rows[] = {
        {S_INT, "jid", NULL, 5, "jid"},
        {S_BOOL, "timeout", NULL, 1, "timeout"},
        {S_BOOL, "jid", NULL, 1, "jid"},
        {S_INT, "password", NULL, 1, "password"},
        {S_INT, "host", NULL, 1, "host"},
        {S_BOOL, "caFile", NULL, 1, "caFile"},
        {S_STR, "port", "5222", 0, "port"},
        {S_STR, "timeout", "20", 0, "timeout"},
        {S_STR, "keepAlive", "true", 0, "keepAlive"},
        {S_INT, "keepAlive", NULL, 1, "keepAlive"},
        {S_BOOL, "port", NULL, 1, "port"},
        {S_BOOL, "logLevel", NULL, 1, "logLevel"},
        {S_STR, "mandatoryTLS", "false", 0, "mandatoryTLS"},
    };

    run_bad_sets(*state, rows, N_ROWS(rows));
}

static void test_unknown_name(void **state)
{
    static const struct bad_set rows[] = {
        {S_STR, "bogusName", "x", 0, "bogusName"},
        {S_INT, "bogusName", NULL, 1, "bogusName"},
        {S_BOOL, "bogusName", NULL, 1, "bogusName"},
        {S_STR, "", "x", 0, NULL},
        {S_INT, "ports", NULL, 5222, "ports"},
        {S_BOOL, "keepalive", NULL, 1, "keepalive"}, /* case matters */
        {S_STR, "ca_file", "/x", 0, "ca_file"},
    };

    run_bad_sets(*state, rows, N_ROWS(rows));
}

static void test_out_of_range(void **state)
{
    static const struct bad_set rows[] = {
        {S_INT, "port", NULL, 0, NULL},
        {S_INT, "port", NULL, 65536, NULL},
        {S_INT, "port", NULL, -1, NULL},
        {S_INT, "timeout", NULL, 0, NULL},
        {S_INT, "timeout", NULL, -20, NULL},
        {S_INT, "timeout", NULL, 86401, NULL},
        {S_INT, "keepAliveTimeout", NULL, 0, NULL},
        {S_INT, "keepAliveTimeout", NULL, 86401, NULL},
        {S_INT, "keepAliveInterval", NULL, 0, NULL},
        {S_INT, "keepAliveInterval", NULL, 86401, NULL},
        {S_INT, "logLevel", NULL, 4, NULL},
        {S_INT, "logLevel", NULL, -1, NULL},
        {S_STR, "logLevel", "verbose", 0, NULL},
        {S_STR, "logLevel", "4", 0, NULL},
        {S_STR, "logLevel", "-1", 0, NULL},
        {S_STR, "logLevel", "", 0, NULL},
        {S_STR, "logLevel", "debugx", 0, NULL},
        {S_STR, "logLevel", "00", 0, NULL},
    };

    run_bad_sets(*state, rows, N_ROWS(rows));
}

static void test_log_level_strings(void **state)
{
    static const struct {
        const char *s;
        xmsg_log_level want;
    } rows[] = {
        {"debug", XMSG_LOG_DEBUG}, {"INFO", XMSG_LOG_INFO},
        {"warn", XMSG_LOG_WARN},   {"error", XMSG_LOG_ERROR},
        {"Debug", XMSG_LOG_DEBUG}, {"info", XMSG_LOG_INFO},
        {"WARN", XMSG_LOG_WARN},   {"ERROR", XMSG_LOG_ERROR},
        {"0", XMSG_LOG_DEBUG},     {"1", XMSG_LOG_INFO},
        {"2", XMSG_LOG_WARN},      {"3", XMSG_LOG_ERROR},
    };
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_err rc;

        fresh(f);
        f->p->log_level = (xmsg_log_level)((rows[i].want + 1) % 4);
        rc = xmsg_params_set_string(f->p, "logLevel", rows[i].s, f->st);
        if (rc != XMSG_OK || f->p->log_level != rows[i].want) {
            fprintf(stderr,
                    "logLevel \"%s\": want rc=0 level=%d, got rc=%d "
                    "level=%d\n",
                    rows[i].s, (int)rows[i].want, (int)rc,
                    (int)f->p->log_level);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu logLevel cases failed", bad, N_ROWS(rows));
}

/* st is optional in every setter. */
static void test_null_status(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xmsg_params_set_int(f->p, "port", 0, NULL),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_params_set_int(f->p, "port", 5223, NULL), XMSG_OK);
    assert_int_equal(f->p->port, 5223);
    assert_int_equal(xmsg_params_set_string(f->p, "bogusName", "x", NULL),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_params_set_bool(f->p, "timeout", 1, NULL),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_params_from_json(f->p, "{", NULL), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_params_check(f->p, NULL), XMSG_ERR_INPUT);
}

/* ---- xmsg_params_from_json ---- */

static void test_from_json_full(void **state)
{
    static const char json[] = "{\"jid\":\"alice@example.com/desk\","
                               "\"password\":\"p\\u00e4ss w\\\"rd\","
                               "\"host\":\"xmpp.example.net\","
                               "\"caFile\":\"/etc/ssl/ca.pem\","
                               "\"port\":5223,"
                               "\"timeout\":45,"
                               "\"keepAlive\":true,"
                               "\"keepAliveTimeout\":90,"
                               "\"keepAliveInterval\":7,"
                               "\"logLevel\":\"error\","
                               "\"disableTLS\":false,"
                               "\"mandatoryTLS\":false,"
                               "\"legacyTLS\":true,"
                               "\"trustTLS\":true,"
                               "\"enableLegacyAuth\":true}";
    struct fx *f = *state;
    xmsg_params *p = f->p;

    /* start from the opposite of every value in the JSON */
    p->keepalive = 0;
    p->disable_tls = 1;
    p->mandatory_tls = 1;
    p->legacy_tls = 0;
    p->trust_tls = 0;
    p->legacy_auth = 0;
    p->log_level = XMSG_LOG_DEBUG;
    assert_int_equal(xmsg_params_from_json(p, json, f->st), XMSG_OK);
    assert_int_equal(xmsg_status_code(f->st), XMSG_OK);
    assert_null(xmsg_status_text(f->st));
    assert_string_equal(p->jid, "alice@example.com/desk");
    assert_string_equal(p->password, "p\xC3\xA4ss w\"rd");
    assert_string_equal(p->host, "xmpp.example.net");
    assert_string_equal(p->ca_file, "/etc/ssl/ca.pem");
    assert_int_equal(p->port, 5223);
    assert_int_equal(p->timeout, 45);
    assert_int_equal(p->keepalive, 1);
    assert_int_equal(p->keepalive_timeout, 90);
    assert_int_equal(p->keepalive_interval, 7);
    assert_int_equal(p->log_level, XMSG_LOG_ERROR);
    assert_int_equal(p->disable_tls, 0);
    assert_int_equal(p->mandatory_tls, 0);
    assert_int_equal(p->legacy_tls, 1);
    assert_int_equal(p->trust_tls, 1);
    assert_int_equal(p->legacy_auth, 1);
}

/* Keys not in the object keep their value. */
static void test_from_json_on_top(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xmsg_params_set_int(f->p, "port", 1234, f->st), XMSG_OK);
    assert_int_equal(xmsg_params_from_json(f->p, "{\"timeout\":5}", f->st),
                     XMSG_OK);
    assert_int_equal(f->p->port, 1234);
    assert_int_equal(f->p->timeout, 5);
    assert_int_equal(xmsg_params_from_json(f->p, "{}", f->st), XMSG_OK);
    assert_int_equal(f->p->port, 1234);
    assert_int_equal(f->p->timeout, 5);
    assert_int_equal(f->p->mandatory_tls, 1);
}

static void test_from_json_log_level(void **state)
{
    static const struct {
        const char *json;
        xmsg_log_level want;
    } rows[] = {
        {"{\"logLevel\":\"INFO\"}", XMSG_LOG_INFO},
        {"{\"logLevel\":\"warn\"}", XMSG_LOG_WARN},
        {"{\"logLevel\":\"3\"}", XMSG_LOG_ERROR},
        {"{\"logLevel\":2}", XMSG_LOG_WARN},
        {"{\"logLevel\":0}", XMSG_LOG_DEBUG},
    };
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_err rc;

        fresh(f);
        f->p->log_level = (xmsg_log_level)((rows[i].want + 1) % 4);
        rc = xmsg_params_from_json(f->p, rows[i].json, f->st);
        if (rc != XMSG_OK || f->p->log_level != rows[i].want) {
            fprintf(stderr, "%s: want rc=0 level=%d, got rc=%d level=%d\n",
                    rows[i].json, (int)rows[i].want, (int)rc,
                    (int)f->p->log_level);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu JSON logLevel cases failed", bad, N_ROWS(rows));
}

struct bad_json {
    const char *json;
    const char *mention;
};

static void run_bad_json(struct fx *f, const struct bad_json *rows, size_t n)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < n; i++) {
        char what[96];
        xmsg_err rc;

        fresh(f);
        snprintf(what, sizeof(what), "from_json(%.60s%s)", rows[i].json,
                 strlen(rows[i].json) > 60 ? "..." : "");
        rc = xmsg_params_from_json(f->p, rows[i].json, f->st);
        expect_input(what, rc, f->st, rows[i].mention, &bad);
    }
    if (bad)
        fail_msg("%d of %zu bad JSON cases failed", bad, n);
}

static void test_from_json_malformed(void **state)
{
    static const struct bad_json rows[] = {
        {"", NULL},
        {" ", NULL},
        {"{", NULL},
        {"}", NULL},
        {"{\"port\":}", NULL},
        {"{\"port\":5222,}", NULL},
        {"{port:5222}", NULL},
        {"{'port':5222}", NULL},
        {"{\"port\":5222} x", NULL},
        {"{\"port\":5222}{}", NULL},
        {"{\"jid\":\"a@b}", NULL},
        {"{\"jid\":\"a\\x@b\"}", NULL},
        {"{\"jid\":\"\xC3\"}", NULL}, /* invalid UTF-8 */
        {"nul", NULL},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_not_object(void **state)
{
    static const struct bad_json rows[] = {
        {"[]", NULL},      {"[{\"port\":5222}]", NULL},
        {"\"str\"", NULL}, {"42", NULL},
        {"true", NULL},    {"null", NULL},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_unknown_key(void **state)
{
    static const struct bad_json rows[] = {
        {"{\"prot\":5222}", "prot"},
        {"{\"jid\":\"a@b\",\"passwrd\":\"x\"}", "passwrd"},
        {"{\"Port\":5222}", "Port"},
        {"{\"\":1}", NULL},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_wrong_type(void **state)
{
    static const struct bad_json rows[] = {
        /* bool for a string */
        {"{\"jid\":true}", "jid"},
        {"{\"password\":false}", "password"},
        {"{\"host\":true}", "host"},
        {"{\"caFile\":true}", "caFile"},
        {"{\"logLevel\":true}", "logLevel"},
        /* other non-strings for a string */
        {"{\"jid\":123}", "jid"},
        {"{\"host\":[\"a\"]}", "host"},
        {"{\"password\":{}}", "password"},
        /* float for an int */
        {"{\"port\":5222.0}", "port"},
        {"{\"port\":5222.5}", "port"},
        {"{\"timeout\":1.5}", "timeout"},
        {"{\"keepAliveTimeout\":60.0}", "keepAliveTimeout"},
        {"{\"keepAliveInterval\":1e0}", "keepAliveInterval"},
        {"{\"logLevel\":1.0}", "logLevel"},
        /* string for an int */
        {"{\"port\":\"5222\"}", "port"},
        /* string for a bool */
        {"{\"keepAlive\":\"true\"}", "keepAlive"},
        {"{\"disableTLS\":\"false\"}", "disableTLS"},
        {"{\"mandatoryTLS\":\"true\"}", "mandatoryTLS"},
        {"{\"legacyTLS\":\"true\"}", "legacyTLS"},
        {"{\"trustTLS\":\"yes\"}", "trustTLS"},
        {"{\"enableLegacyAuth\":\"true\"}", "enableLegacyAuth"},
        /* invalid values of the right type */
        {"{\"port\":0}", "port"},
        {"{\"port\":65536}", "port"},
        {"{\"timeout\":0}", "timeout"},
        {"{\"logLevel\":4}", "logLevel"},
        {"{\"logLevel\":\"verbose\"}", "logLevel"},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_duplicate_keys(void **state)
{
    static const struct bad_json rows[] = {
        {"{\"port\":5222,\"port\":5223}", NULL},
        {"{\"jid\":\"a@b\",\"jid\":\"c@d\"}", NULL},
        {"{\"keepAlive\":true,\"timeout\":3,\"keepAlive\":false}", NULL},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

/* Builds {"port":<port>} padded with spaces to exactly total bytes. */
static char *padded_object(size_t total, int port)
{
    char head[32];
    size_t hl = (size_t)snprintf(head, sizeof(head), "{\"port\":%d", port);
    char *s = unit_repeat(' ', total);

    memcpy(s, head, hl);
    s[total - 1] = '}';
    return s;
}

static void test_from_json_size_limit(void **state)
{
    struct fx *f = *state;
    char *over = padded_object(XMSG_JSON_MAX + 1, 5224);
    char *limit = padded_object(XMSG_JSON_MAX, 5225);
    char *huge = unit_repeat(' ', 8 * XMSG_JSON_MAX);
    xmsg_err rc;

    huge[0] = '{';
    huge[8 * XMSG_JSON_MAX - 1] = '}';
    rc = xmsg_params_from_json(f->p, over, f->st);
    assert_int_equal(rc, XMSG_ERR_INPUT);
    assert_int_equal(xmsg_status_code(f->st), XMSG_ERR_INPUT);
    assert_non_null(xmsg_status_text(f->st));
    assert_int_equal(f->p->port, 5222);
    fresh(f);
    assert_int_equal(xmsg_params_from_json(f->p, huge, f->st), XMSG_ERR_INPUT);
    fresh(f);
    rc = xmsg_params_from_json(f->p, limit, f->st);
    assert_int_equal(rc, XMSG_OK);
    assert_int_equal(f->p->port, 5225);
    free(over);
    free(limit);
    free(huge);
}

static void test_from_json_deep_nesting(void **state)
{
    struct fx *f = *state;
    char *open = unit_repeat('[', 10000);
    char *close = unit_repeat(']', 10000);
    char *balanced = unit_cat3(open, close, "");
    char *in_value = unit_cat3("{\"host\":", open, "");
    char *in_value_closed = unit_cat3(in_value, close, "}");
    char *objs = malloc(10000 * 5 + 1);
    size_t i;
    struct bad_json rows[5];

    assert_non_null(objs);
    for (i = 0; i < 10000; i++)
        memcpy(objs + 5 * i, "{\"a\":", 5);
    objs[10000 * 5] = '\0';
    rows[0].json = open;
    rows[1].json = balanced;
    rows[2].json = in_value;
    rows[3].json = in_value_closed;
    rows[4].json = objs;
    for (i = 0; i < N_ROWS(rows); i++)
        rows[i].mention = NULL;
    run_bad_json(f, rows, N_ROWS(rows));
    free(open);
    free(close);
    free(balanced);
    free(in_value);
    free(in_value_closed);
    free(objs);
}

static void test_from_json_null(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xmsg_params_from_json(f->p, NULL, f->st), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_status_code(f->st), XMSG_ERR_INPUT);
    assert_non_null(xmsg_status_text(f->st));
}

/* ---- xmsg_params_check ---- */

static void test_check(void **state)
{
    static const struct {
        const char *jid, *password;
        xmsg_err want;
    } rows[] = {
        {NULL, "pw", XMSG_ERR_INPUT},
        {"example.com", "pw", XMSG_ERR_INPUT},
        {"example.com/res", "pw", XMSG_ERR_INPUT},
        {"a b@c", "pw", XMSG_ERR_INPUT},
        {"@example.com", "pw", XMSG_ERR_INPUT},
        {"alice@", "pw", XMSG_ERR_INPUT},
        {"", "pw", XMSG_ERR_INPUT},
        {"alice@example.com", NULL, XMSG_ERR_INPUT},
        {"alice@example.com", "", XMSG_ERR_INPUT},
        {NULL, NULL, XMSG_ERR_INPUT},
        {"alice@example.com", "pw", XMSG_OK},
        {"alice@example.com/res", "pw", XMSG_OK},
        {"j\xC3\xBCrgen@example.de", "p\xC3\xA4ss", XMSG_OK},
    };
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_err rc;
        const char *text;

        fresh(f);
        /* set the fields directly: the setters may validate already */
        f->p->jid = rows[i].jid ? xmsg_strdup(rows[i].jid) : NULL;
        f->p->password =
            rows[i].password ? xmsg_strdup(rows[i].password) : NULL;
        rc = xmsg_params_check(f->p, f->st);
        text = xmsg_status_text(f->st);
        if (rc != rows[i].want || xmsg_status_code(f->st) != rows[i].want ||
            (rows[i].want == XMSG_OK) != (text == NULL)) {
            fputs("check jid=", stderr);
            unit_print_str(rows[i].jid);
            fputs(" password=", stderr);
            unit_print_str(rows[i].password);
            fprintf(stderr,
                    ": want %d, got rc=%d code=%d text=", (int)rows[i].want,
                    (int)rc, (int)xmsg_status_code(f->st));
            unit_print_str(text);
            fputc('\n', stderr);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu check cases failed", bad, N_ROWS(rows));
}

/* The same through the public setters. */
static void test_check_after_json(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xmsg_params_check(f->p, f->st), XMSG_ERR_INPUT);
    fresh(f);
    assert_int_equal(
        xmsg_params_from_json(
            f->p, "{\"jid\":\"alice@example.com\",\"password\":\"pw\"}", f->st),
        XMSG_OK);
    assert_int_equal(xmsg_params_check(f->p, f->st), XMSG_OK);
    assert_int_equal(xmsg_status_code(f->st), XMSG_OK);
}

/* A pin makes TLS mandatory: it is refused with anything that lets the
 * login go out without TLS. */
static void test_check_pin(void **state)
{
#define ACCOUNT "\"jid\":\"alice@example.com\",\"password\":\"pw\","
#define PIN "\"pin\":\"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
    static const struct {
        const char *json;
        xmsg_err want;
    } rows[] = {
        {"{" ACCOUNT PIN "}", XMSG_OK},
        {"{" ACCOUNT PIN ",\"trustTLS\":true}", XMSG_OK},
        {"{" ACCOUNT PIN ",\"legacyTLS\":true}", XMSG_OK},
        {"{" ACCOUNT PIN ",\"mandatoryTLS\":true}", XMSG_OK},
        {"{" ACCOUNT PIN ",\"disableTLS\":true}", XMSG_ERR_INPUT},
        {"{" ACCOUNT PIN ",\"mandatoryTLS\":false}", XMSG_ERR_INPUT},
        {"{" ACCOUNT PIN ",\"mandatoryTLS\":false,\"legacyTLS\":true}",
         XMSG_ERR_INPUT},
        {"{" ACCOUNT "\"mandatoryTLS\":false}", XMSG_OK},
    };
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < N_ROWS(rows); i++) {
        fresh(f);
        assert_int_equal(xmsg_params_from_json(f->p, rows[i].json, f->st),
                         XMSG_OK);
        if (xmsg_params_check(f->p, f->st) != rows[i].want)
            fail_msg("row %zu: %s: want %d, got %d (%s)", i, rows[i].json,
                     (int)rows[i].want, (int)xmsg_status_code(f->st),
                     xmsg_status_text(f->st) ? xmsg_status_text(f->st) : "");
        if (rows[i].want)
            assert_non_null(strstr(xmsg_status_text(f->st), "pin"));
    }
#undef PIN
#undef ACCOUNT
}

/* params omemo: a boolean or "optional" (JSON and text); anything else
 * is input; a build without OMEMO refuses it at the check. */
static void test_omemo(void **state)
{
    static const struct {
        const char *json;
        int want; /* -1: refused */
    } rows[] = {
        {"{\"omemo\":true}", 1},           {"{\"omemo\":false}", 0},
        {"{\"omemo\":\"optional\"}", 2},   {"{\"omemo\":\"true\"}", 1},
        {"{\"omemo\":\"sometimes\"}", -1}, {"{\"omemo\":1}", -1},
    };
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < N_ROWS(rows); i++) {
        fresh(f);
        xmsg_err rc = xmsg_params_from_json(f->p, rows[i].json, f->st);
        if (rows[i].want < 0) {
            assert_int_equal(rc, XMSG_ERR_INPUT);
            assert_true(unit_contains(xmsg_status_text(f->st), "omemo"));
            continue;
        }
        assert_int_equal(rc, XMSG_OK);
        assert_int_equal(f->p->omemo, rows[i].want);
    }
    fresh(f);
    assert_int_equal(xmsg_params_set_text(f->p, "omemo", "optional", f->st),
                     XMSG_OK);
    assert_int_equal(f->p->omemo, 2);
    assert_int_equal(xmsg_params_set_text(f->p, "omemo", "off", f->st),
                     XMSG_OK);
    assert_int_equal(f->p->omemo, 0);
    assert_int_equal(xmsg_params_set_bool(f->p, "omemo", 1, f->st), XMSG_OK);
    assert_int_equal(xmsg_params_set_string(f->p, "jid", "a@b", f->st),
                     XMSG_OK);
    assert_int_equal(xmsg_params_set_string(f->p, "password", "x", f->st),
                     XMSG_OK);
#ifdef XMSG_HAVE_OMEMO
    assert_int_equal(xmsg_params_check(f->p, f->st), XMSG_OK);
#else
    assert_int_equal(xmsg_params_check(f->p, f->st), XMSG_ERR_INPUT);
#endif
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_free_null),
        T(test_set_string),
        T(test_set_string_twice),
        T(test_set_int),
        T(test_set_bool),
        T(test_wrong_type),
        T(test_unknown_name),
        T(test_out_of_range),
        T(test_log_level_strings),
        T(test_null_status),
        T(test_from_json_full),
        T(test_from_json_on_top),
        T(test_from_json_log_level),
        T(test_from_json_malformed),
        T(test_from_json_not_object),
        T(test_from_json_unknown_key),
        T(test_from_json_wrong_type),
        T(test_from_json_duplicate_keys),
        T(test_from_json_size_limit),
        T(test_from_json_deep_nesting),
        T(test_from_json_null),
        T(test_check),
        T(test_check_after_json),
        T(test_check_pin),
        T(test_omemo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
