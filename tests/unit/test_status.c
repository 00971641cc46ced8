/* test_status.c - xmsg_status, error names, status JSON. */
#include "unit.h"

#include <expat.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "model/internal.h"

/* Parses the status JSON of st; fails the test when it is not an object. */
static json_t *status_json(const xmsg_status *st)
{
    char *text = xmsg_status_to_json(st);
    json_error_t err;
    json_t *root;

    assert_non_null(text);
    root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        fail_msg("status JSON does not parse (%s): %s", err.text, text);
    xmsg_free(text);
    assert_true(json_is_object(root));
    return root;
}

static void test_new_status(void **state)
{
    xmsg_status *st = xmsg_status_new();

    (void)state;
    assert_non_null(st);
    assert_int_equal(xmsg_status_code(st), XMSG_OK);
    assert_null(xmsg_status_text(st));
    assert_int_equal(xmsg_status_log_count(st), 0);
    assert_null(xmsg_status_log_line(st, 0));
    assert_int_equal(xmsg_status_message_count(st), 0);
    assert_null(xmsg_status_message(st, 0));
    assert_int_equal(xmsg_status_delivered(st), 0);
    xmsg_status_free(st);
}

static void test_fresh_json(void **state)
{
    xmsg_status *st = xmsg_status_new();
    json_t *root, *log;

    (void)state;
    assert_non_null(st);
    root = status_json(st);
    log = json_object_get(root, "log");
    assert_non_null(log);
    assert_true(json_is_array(log));
    assert_int_equal(json_array_size(log), 0);
    assert_null(json_object_get(root, "error"));
    /* neither a send nor a connect: no "delivered", no "messages" */
    assert_null(json_object_get(root, "delivered"));
    assert_null(json_object_get(root, "messages"));
    json_decref(root);
    xmsg_status_free(st);
}

static void test_failure_json(void **state)
{
    xmsg_params *p = xmsg_params_new();
    xmsg_status *st = xmsg_status_new();
    json_t *root, *error, *code, *text;

    (void)state;
    assert_non_null(p);
    assert_non_null(st);
    assert_int_equal(xmsg_params_set_int(p, "port", 0, st), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_status_code(st), XMSG_ERR_INPUT);
    assert_non_null(xmsg_status_text(st));
    assert_true(strlen(xmsg_status_text(st)) > 0);

    root = status_json(st);
    error = json_object_get(root, "error");
    assert_true(json_is_object(error));
    code = json_object_get(error, "code");
    text = json_object_get(error, "text");
    assert_true(json_is_string(code));
    assert_string_equal(json_string_value(code), "input");
    assert_true(json_is_string(text));
    assert_string_equal(json_string_value(text), xmsg_status_text(st));
    assert_true(json_is_array(json_object_get(root, "log")));
    json_decref(root);
    xmsg_params_free(p);
    xmsg_status_free(st);
}

/* The first failure recorded is the one reported. */
static void test_first_failure_kept(void **state)
{
    xmsg_params *p = xmsg_params_new();
    xmsg_status *st = xmsg_status_new();
    char *first;

    (void)state;
    assert_int_equal(xmsg_params_set_int(p, "port", 0, st), XMSG_ERR_INPUT);
    first = xmsg_strdup(xmsg_status_text(st));
    assert_non_null(first);
    assert_int_equal(xmsg_params_set_string(p, "bogusName", "x", st),
                     XMSG_ERR_INPUT);
    assert_string_equal(xmsg_status_text(st), first);
    xmsg_free(first);
    xmsg_params_free(p);
    xmsg_status_free(st);
}

static void test_log_lines(void **state)
{
    xmsg_status *st = xmsg_status_new();
    json_t *root, *log;

    (void)state;
    assert_int_equal(xmsg_status_log(st, "first line"), 0);
    assert_int_equal(xmsg_status_log(st, "second \xC3\xA9 \"line\""), 0);
    assert_int_equal(xmsg_status_log_count(st), 2);
    assert_string_equal(xmsg_status_log_line(st, 0), "first line");
    assert_string_equal(xmsg_status_log_line(st, 1),
                        "second \xC3\xA9 \"line\"");
    assert_null(xmsg_status_log_line(st, 2));
    root = status_json(st);
    log = json_object_get(root, "log");
    assert_true(json_is_array(log));
    assert_int_equal(json_array_size(log), 2);
    assert_string_equal(json_string_value(json_array_get(log, 0)),
                        "first line");
    assert_string_equal(json_string_value(json_array_get(log, 1)),
                        "second \xC3\xA9 \"line\"");
    json_decref(root);
    xmsg_status_free(st);
}

static void test_err_names(void **state)
{
    static const struct {
        xmsg_err code;
        const char *name;
    } rows[] = {
        {XMSG_OK, "ok"},
        {XMSG_ERR_INPUT, "input"},
        {XMSG_ERR_CONNECT, "connection"},
        {XMSG_ERR_TLS, "tls"},
        {XMSG_ERR_AUTH, "auth"},
        {XMSG_ERR_TIMEOUT, "timeout"},
        {XMSG_ERR_UNCONFIRMED, "unconfirmed"},
        {XMSG_ERR_PROTOCOL, "protocol"},
        {XMSG_ERR_INTERNAL, "internal"},
        {XMSG_ERR_CANCELLED, "cancelled"},
    };
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        const char *got = xmsg_err_name(rows[i].code);
        if (got == NULL || strcmp(got, rows[i].name) != 0) {
            fprintf(stderr, "xmsg_err_name(%d): want \"%s\", got ",
                    (int)rows[i].code, rows[i].name);
            unit_print_str(got);
            fputc('\n', stderr);
            bad++;
        }
    }
    /* the numbers are part of the API */
    assert_int_equal(XMSG_OK, 0);
    assert_int_equal(XMSG_ERR_INPUT, 1);
    assert_int_equal(XMSG_ERR_INTERNAL, 8);
    assert_int_equal(XMSG_ERR_CANCELLED, 9);
    assert_non_null(xmsg_err_name((xmsg_err)10));
    assert_non_null(xmsg_err_name((xmsg_err)99));
    assert_non_null(xmsg_err_name((xmsg_err)-1));
    if (bad)
        fail_msg("%d of %zu error names wrong", bad, N_ROWS(rows));
}

static void test_strerror(void **state)
{
    static const int codes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99, -1};
    size_t i, j;

    (void)state;
    for (i = 0; i < N_ROWS(codes); i++) {
        const char *s = xmsg_strerror((xmsg_err)codes[i]);
        if (s == NULL || s[0] == '\0')
            fail_msg("xmsg_strerror(%d) is NULL or empty", codes[i]);
    }
    /* each known code has its own text */
    for (i = 0; i <= XMSG_ERR_CANCELLED; i++)
        for (j = i + 1; j <= XMSG_ERR_CANCELLED; j++)
            assert_string_not_equal(xmsg_strerror((xmsg_err)i),
                                    xmsg_strerror((xmsg_err)j));
    assert_string_not_equal(xmsg_strerror(XMSG_ERR_CANCELLED),
                            xmsg_strerror((xmsg_err)99));
}

/* A stop asked for by the caller is neither the worst outcome nor the
 * mildest: below every failure of the server, above bad input. */
static void test_cancelled_rank(void **state)
{
    (void)state;
    assert_true(xmsg_err_rank(XMSG_ERR_CANCELLED) >
                xmsg_err_rank(XMSG_ERR_INPUT));
    assert_true(xmsg_err_rank(XMSG_ERR_CANCELLED) <
                xmsg_err_rank(XMSG_ERR_PROTOCOL));
}

/* A cancelled status says so in its JSON. */
static void test_cancelled_json(void **state)
{
    xmsg_status *st = xmsg_status_new();
    json_t *root;

    (void)state;
    assert_int_equal(xmsg_status_set_error(st, XMSG_ERR_CANCELLED, "stop"),
                     XMSG_ERR_CANCELLED);
    root = status_json(st);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "error"), "code")),
                        "cancelled");
    json_decref(root);
    xmsg_status_free(st);
}

/* s has prefix followed by a version MAJOR.MINOR.PATCH. */
static int has_full_version(const char *s, const char *prefix)
{
    unsigned a, b, c;
    const char *at = strstr(s, prefix);

    return at && sscanf(at + strlen(prefix), "%u.%u.%u", &a, &b, &c) == 3;
}

static void test_version(void **state)
{
    const char *v = xmsg_version();

    (void)state;
    assert_non_null(v);
    assert_int_equal(
        strncmp(v, XMSG_VERSION_STRING, strlen(XMSG_VERSION_STRING)), 0);
    /* The versions of the libraries it runs with, in full. */
    if (!strstr(v, jansson_version_str()))
        fail_msg("%s: lacks jansson %s", v, jansson_version_str());
    if (!strstr(v, OpenSSL_version(OPENSSL_VERSION)))
        fail_msg("%s: lacks %s", v, OpenSSL_version(OPENSSL_VERSION));
    if (!has_full_version(v, "c-ares "))
        fail_msg("%s: no c-ares MAJOR.MINOR.PATCH", v);
    if (!strstr(v, XML_ExpatVersion()))
        fail_msg("%s: lacks %s", v, XML_ExpatVersion());
}

static void test_free_null(void **state)
{
    (void)state;
    xmsg_status_free(NULL);
    xmsg_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_status),
        cmocka_unit_test(test_fresh_json),
        cmocka_unit_test(test_failure_json),
        cmocka_unit_test(test_first_failure_kept),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_cancelled_rank),
        cmocka_unit_test(test_cancelled_json),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_free_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
