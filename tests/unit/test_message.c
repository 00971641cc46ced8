/* test_message.c - xmsg_message: fields, validation, JSON in and out. */
#include "unit.h"

#include <jansson.h>

#include "model/internal.h"

struct fx {
    xmsg_message *m;
    xmsg_status *st;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->m = xmsg_message_new();
    f->st = xmsg_status_new();
    if (f->m == NULL || f->st == NULL)
        return -1;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    xmsg_message_free(f->m);
    xmsg_status_free(f->st);
    free(f);
    return 0;
}

static void fresh(struct fx *f)
{
    xmsg_message_free(f->m);
    xmsg_status_free(f->st);
    f->m = xmsg_message_new();
    f->st = xmsg_status_new();
    assert_non_null(f->m);
    assert_non_null(f->st);
}

/* Asserts the fields of m are exactly names[i] = values[i], in order. */
static void assert_fields(const xmsg_message *m, const char *const *names,
                          const char *const *values, size_t n)
{
    size_t i;

    assert_int_equal(xmsg_message_field_count(m), n);
    for (i = 0; i < n; i++) {
        assert_non_null(xmsg_message_field_name(m, i));
        assert_non_null(xmsg_message_field_value(m, i));
        assert_string_equal(xmsg_message_field_name(m, i), names[i]);
        assert_string_equal(xmsg_message_field_value(m, i), values[i]);
    }
    assert_null(xmsg_message_field_name(m, n));
    assert_null(xmsg_message_field_value(m, n));
}

static void test_new_is_empty(void **state)
{
    const xmsg_message *m = ((struct fx *)*state)->m;

    assert_int_equal(xmsg_message_field_count(m), 0);
    assert_null(xmsg_message_field_name(m, 0));
    assert_null(xmsg_message_field_value(m, 0));
    assert_null(xmsg_message_get(m, "body"));
    xmsg_message_free(NULL);
}

static const char *const known_names[] = {
    "body", "to",     "type",    "ns",  "from", "xml:lang",
    "id",   "x-prio", "foo_bar", "a.b", "Z9",
};
static const char *const known_values[] = {
    "Hello, Bob",
    "bob@example.com",
    "chat",
    "jabber:client",
    "alice@example.com/desk",
    "en",
    "m-0001",
    "high",
    "1",
    "dotted",
    "prefixed",
};

static void test_set_get(void **state)
{
    struct fx *f = *state;
    size_t i, n = N_ROWS(known_names);

    for (i = 0; i < n; i++) {
        char buf[64];

        /* set from a buffer we then overwrite: the value must be copied */
        snprintf(buf, sizeof(buf), "%s", known_values[i]);
        assert_int_equal(xmsg_message_set(f->m, known_names[i], buf, f->st),
                         XMSG_OK);
        memset(buf, 'X', sizeof(buf) - 1);
    }
    assert_int_equal(xmsg_status_code(f->st), XMSG_OK);
    for (i = 0; i < n; i++) {
        const char *got = xmsg_message_get(f->m, known_names[i]);
        assert_non_null(got);
        assert_string_equal(got, known_values[i]);
    }
    assert_null(xmsg_message_get(f->m, "subject"));
    assert_null(xmsg_message_get(f->m, "Body"));
    assert_fields(f->m, known_names, known_values, n);
}

static void test_order_replace_remove(void **state)
{
    struct fx *f = *state;
    xmsg_message *m = f->m;

    assert_int_equal(xmsg_message_set(m, "x-prio", "high", f->st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "body", "one", f->st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "to", "bob@example.com", f->st),
                     XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "id", "42", f->st), XMSG_OK);
    {
        const char *n[] = {"x-prio", "body", "to", "id"};
        const char *v[] = {"high", "one", "bob@example.com", "42"};
        assert_fields(m, n, v, 4);
    }
    /* replacing keeps the position */
    assert_int_equal(xmsg_message_set(m, "body", "two", f->st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "x-prio", "low", f->st), XMSG_OK);
    {
        const char *n[] = {"x-prio", "body", "to", "id"};
        const char *v[] = {"low", "two", "bob@example.com", "42"};
        assert_fields(m, n, v, 4);
    }
    /* NULL removes, the others keep their order */
    assert_int_equal(xmsg_message_set(m, "body", NULL, f->st), XMSG_OK);
    assert_null(xmsg_message_get(m, "body"));
    {
        const char *n[] = {"x-prio", "to", "id"};
        const char *v[] = {"low", "bob@example.com", "42"};
        assert_fields(m, n, v, 3);
    }
    assert_int_equal(xmsg_message_set(m, "x-prio", NULL, f->st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "id", NULL, f->st), XMSG_OK);
    {
        const char *n[] = {"to"};
        const char *v[] = {"bob@example.com"};
        assert_fields(m, n, v, 1);
    }
    /* set again after removal: appended at the end */
    assert_int_equal(xmsg_message_set(m, "body", "three", f->st), XMSG_OK);
    {
        const char *n[] = {"to", "body"};
        const char *v[] = {"bob@example.com", "three"};
        assert_fields(m, n, v, 2);
    }
    assert_int_equal(xmsg_status_code(f->st), XMSG_OK);
}

/* ---- refused values ---- */

struct bad_set {
    const char *name, *value;
};

static void run_bad_sets(struct fx *f, const struct bad_set *rows, size_t n)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < n; i++) {
        const char *text;
        xmsg_err rc;

        fresh(f);
        /* a field set before must survive a refused value */
        assert_int_equal(xmsg_message_set(f->m, "id", "keep", f->st), XMSG_OK);
        rc = xmsg_message_set(f->m, rows[i].name, rows[i].value, f->st);
        text = xmsg_status_text(f->st);
        if (rc != XMSG_ERR_INPUT || xmsg_status_code(f->st) != XMSG_ERR_INPUT ||
            text == NULL || text[0] == '\0' ||
            xmsg_message_field_count(f->m) != 1 ||
            xmsg_message_get(f->m, "id") == NULL ||
            strcmp(xmsg_message_get(f->m, "id"), "keep") != 0) {
            fputs("set(", stderr);
            unit_print_str(rows[i].name);
            fputs(", ", stderr);
            unit_print_str(rows[i].value);
            fprintf(stderr,
                    "): want rc=1 code=1 text, 1 field; got rc=%d "
                    "code=%d fields=%zu text=",
                    (int)rc, (int)xmsg_status_code(f->st),
                    xmsg_message_field_count(f->m));
            unit_print_str(text);
            fputc('\n', stderr);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu refused-value cases failed", bad, n);
}

static void test_bad_jid(void **state)
{
    static const struct bad_set rows[] = {
        {"to", "a b@c"},
        {"to", "@example.com"},
        {"to", "bob@"},
        {"to", "bob@example.com/"},
        {"to", ""},
        {"to", "bob<x>@example.com"},
        {"to", "\xC3@example.com"},
        {"from", "a b@c"},
        {"from", "alice@"},
        {"from", ""},
    };

    run_bad_sets(*state, rows, N_ROWS(rows));
}

static void test_bad_text(void **state)
{
    static const struct bad_set rows[] = {
        {"body", "\xC3"},
        {"body", "caf\xC3"},
        {"body", "\xC0\xAF"},
        {"body", "\xED\xA0\x80"},
        {"body", "\xF4\x90\x80\x80"},
        {"body", "\xEF\xBF\xBF"},
        {"body", "\x80"},
        {"body", "a\x01"
                 "b"},
        {"body", "\x1B[31mred"},
        {"body", "bell\x07"},
        {"body", "\x0C"},
        {"type", "chat\x01"},
        {"id", "\xFF"},
        {"xml:lang", "e\x02n"},
        {"x-prio", "\x01"},
        {"x-prio", "\xC3("},
    };

    run_bad_sets(*state, rows, N_ROWS(rows));
}

static void test_bad_attr_name(void **state)
{
    static const struct bad_set rows[] = {
        {"", "v"},    {"1abc", "v"},  {"-a", "v"},    {":a", "v"},
        {"a:", "v"},  {"a:b:c", "v"}, {"xmlns", "v"}, {"xmlns:foo", "v"},
        {"a b", "v"}, {"a\"b", "v"},  {"a>b", "v"},   {"caf\xC3\xA9", "v"},
    };

    run_bad_sets(*state, rows, N_ROWS(rows));
}

static void test_good_text(void **state)
{
    static const char body[] =
        "line1\nline2\ttab\r\n"
        "h\xC3\xA9llo \xF0\x9F\x98\x80 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D "
        "e\xCC\x81 <&>\"'";
    struct fx *f = *state;

    assert_int_equal(xmsg_message_set(f->m, "body", body, f->st), XMSG_OK);
    assert_string_equal(xmsg_message_get(f->m, "body"), body);
    assert_int_equal(xmsg_message_set(f->m, "to",
                                      "j\xC3\xBCrgen@example.de/\xE2\x82\xAC",
                                      f->st),
                     XMSG_OK);
    assert_string_equal(xmsg_message_get(f->m, "to"),
                        "j\xC3\xBCrgen@example.de/\xE2\x82\xAC");
    assert_int_equal(xmsg_message_set(f->m, "to", "example.com", f->st),
                     XMSG_OK);
    assert_int_equal(xmsg_status_code(f->st), XMSG_OK);
}

/* ---- xmsg_message_from_json ---- */

static void test_from_json_all(void **state)
{
    static const char json[] = "{\"body\":\"Hi \\u00e9\\ud83d\\ude00\\n\","
                               "\"to\":\"bob@example.com\","
                               "\"type\":\"normal\","
                               "\"ns\":\"jabber:client\","
                               "\"from\":\"alice@example.com/desk\","
                               "\"xml:lang\":\"fr\","
                               "\"id\":\"abc-1\","
                               "\"x-prio\":\"high\"}";
    struct fx *f = *state;

    assert_int_equal(xmsg_message_from_json(f->m, json, f->st), XMSG_OK);
    assert_int_equal(xmsg_status_code(f->st), XMSG_OK);
    assert_int_equal(xmsg_message_field_count(f->m), 8);
    assert_string_equal(xmsg_message_get(f->m, "body"),
                        "Hi \xC3\xA9\xF0\x9F\x98\x80\n");
    assert_string_equal(xmsg_message_get(f->m, "to"), "bob@example.com");
    assert_string_equal(xmsg_message_get(f->m, "type"), "normal");
    assert_string_equal(xmsg_message_get(f->m, "ns"), "jabber:client");
    assert_string_equal(xmsg_message_get(f->m, "from"),
                        "alice@example.com/desk");
    assert_string_equal(xmsg_message_get(f->m, "xml:lang"), "fr");
    assert_string_equal(xmsg_message_get(f->m, "id"), "abc-1");
    assert_string_equal(xmsg_message_get(f->m, "x-prio"), "high");
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
        const char *text;
        xmsg_err rc;

        fresh(f);
        rc = xmsg_message_from_json(f->m, rows[i].json, f->st);
        text = xmsg_status_text(f->st);
        if (rc != XMSG_ERR_INPUT || xmsg_status_code(f->st) != XMSG_ERR_INPUT ||
            text == NULL || text[0] == '\0' ||
            (rows[i].mention && !unit_contains(text, rows[i].mention))) {
            fprintf(stderr,
                    "from_json(%.60s): want rc=1 code=1 text "
                    "mentioning %s; got rc=%d code=%d text=",
                    rows[i].json ? rows[i].json : "NULL",
                    rows[i].mention ? rows[i].mention : "(anything)", (int)rc,
                    (int)xmsg_status_code(f->st));
            unit_print_str(text);
            fputc('\n', stderr);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu bad message JSON cases failed", bad, n);
}

static void test_from_json_non_string(void **state)
{
    static const struct bad_json rows[] = {
        {"{\"body\":42}", "body"},
        {"{\"body\":4.5}", "body"},
        {"{\"x-prio\":true}", "x-prio"},
        {"{\"x-prio\":false}", "x-prio"},
        {"{\"xml:lang\":null}", "xml:lang"},
        {"{\"body\":{}}", "body"},
        {"{\"body\":{\"a\":\"b\"}}", "body"},
        {"{\"x-prio\":[]}", "x-prio"},
        {"{\"x-prio\":[\"a\"]}", "x-prio"},
        {"{\"body\":\"ok\",\"to\":\"bob@example.com\",\"x-prio\":1}", "x-prio"},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_bad_values(void **state)
{
    static const struct bad_json rows[] = {
        {"{\"to\":\"a b@c\"}", NULL},
        {"{\"from\":\"@example.com\"}", NULL},
        {"{\"body\":\"\\u0001\"}", NULL},
        {"{\"body\":\"a\\u001bb\"}", NULL},
        {"{\"body\":\"\\u0000\"}", NULL},
        {"{\"body\":\"\\ud800\"}", NULL}, /* lone surrogate */
        {"{\"body\":\"\\uffff\"}", NULL},
        {"{\"1abc\":\"v\"}", NULL},
        {"{\"xmlns\":\"urn:x\"}", NULL},
        {"{\"xmlns:foo\":\"urn:x\"}", NULL},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_malformed(void **state)
{
    static const struct bad_json rows[] = {
        {"", NULL},
        {"{", NULL},
        {"{\"body\":\"hi\"", NULL},
        {"{\"body\":\"hi\",}", NULL},
        {"{body:\"hi\"}", NULL},
        {"{\"body\":\"hi\"} trailing", NULL},
        {"{\"body\":\"\xC3\"}", NULL},
        {"[]", NULL},
        {"[\"body\",\"hi\"]", NULL},
        {"\"body\"", NULL},
        {"1", NULL},
        {"true", NULL},
        {"null", NULL},
        {NULL, NULL},
    };

    run_bad_json(*state, rows, N_ROWS(rows));
}

static void test_from_json_too_large(void **state)
{
    struct fx *f = *state;
    char *big = unit_repeat('a', XMSG_JSON_MAX + 16);

    memcpy(big, "{\"body\":\"", 9);
    memcpy(big + XMSG_JSON_MAX + 14, "\"}", 2);
    assert_int_equal(xmsg_message_from_json(f->m, big, f->st), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_status_code(f->st), XMSG_ERR_INPUT);
    free(big);
}

/* st is optional. */
static void test_null_status(void **state)
{
    struct fx *f = *state;

    assert_int_equal(xmsg_message_set(f->m, "to", "a b@c", NULL),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_set(f->m, "1abc", "v", NULL), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_set(f->m, "body", "ok", NULL), XMSG_OK);
    assert_int_equal(xmsg_message_from_json(f->m, "{", NULL), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_from_json(f->m, "{\"body\":1}", NULL),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_from_json(f->m, NULL, NULL), XMSG_ERR_INPUT);
    assert_string_equal(xmsg_message_get(f->m, "body"), "ok");
}

/* ---- xmsg_message_to_json ---- */

static void test_to_json_empty(void **state)
{
    struct fx *f = *state;
    char *out = xmsg_message_to_json(f->m);
    json_error_t err;
    json_t *root;

    assert_non_null(out);
    root = json_loads(out, 0, &err);
    assert_non_null(root);
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 0);
    json_decref(root);
    xmsg_free(out);
}

static void test_to_json_round_trip(void **state)
{
    static const char *const names[] = {
        "body", "to", "from", "type", "ns", "xml:lang", "id", "x-prio", "Z9",
    };
    static const char *const values[] = {
        "h\xC3\xA9llo \xF0\x9F\x98\x80 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D "
        "e\xCC\x81 \"quoted\" back\\slash\nnew\tline\r",
        "\xE5\xBC\xA0\xE4\xB8\x89@example.cn",
        "alice@example.com/\xE2\x82\xAC",
        "chat",
        "jabber:client",
        "he",
        "\xF0\x9F\x86\x94",
        "</x>",
        "&amp;",
    };
    struct fx *f = *state;
    size_t i, n = N_ROWS(names);
    xmsg_message *back;
    json_error_t err;
    json_t *root;
    char *out;

    for (i = 0; i < n; i++)
        assert_int_equal(xmsg_message_set(f->m, names[i], values[i], f->st),
                         XMSG_OK);
    out = xmsg_message_to_json(f->m);
    assert_non_null(out);
    root = json_loads(out, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        fail_msg("to_json output does not parse: %s: %s", err.text, out);
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), n);
    for (i = 0; i < n; i++) {
        json_t *v = json_object_get(root, names[i]);
        if (!json_is_string(v))
            fail_msg("property %s missing or not a string", names[i]);
        assert_int_equal(json_string_length(v), strlen(values[i]));
        assert_string_equal(json_string_value(v), values[i]);
    }
    json_decref(root);

    /* and back into a message */
    back = xmsg_message_new();
    assert_non_null(back);
    assert_int_equal(xmsg_message_from_json(back, out, f->st), XMSG_OK);
    assert_int_equal(xmsg_message_field_count(back), n);
    for (i = 0; i < n; i++) {
        assert_non_null(xmsg_message_get(back, names[i]));
        assert_string_equal(xmsg_message_get(back, names[i]), values[i]);
    }
    xmsg_message_free(back);
    xmsg_free(out);
}

/* Removed fields do not appear in the JSON. */
static void test_to_json_after_remove(void **state)
{
    struct fx *f = *state;
    json_t *root;
    char *out;

    assert_int_equal(xmsg_message_set(f->m, "body", "hi", f->st), XMSG_OK);
    assert_int_equal(xmsg_message_set(f->m, "id", "1", f->st), XMSG_OK);
    assert_int_equal(xmsg_message_set(f->m, "body", NULL, f->st), XMSG_OK);
    out = xmsg_message_to_json(f->m);
    assert_non_null(out);
    root = json_loads(out, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), 1);
    assert_string_equal(json_string_value(json_object_get(root, "id")), "1");
    assert_null(json_object_get(root, "body"));
    json_decref(root);
    xmsg_free(out);
}

/* Names a received message fills itself are refused, never sent to be
 * lost on arrival. */
static void test_reserved_names(void **state)
{
    static const char *const names[] = {
        "lang",         "stamp",         "archiveId",   "url",
        "file",         "downloadError", "files",       "encrypted",
        "senderDevice", "fingerprint",   "decryptError"};
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < N_ROWS(names); i++) {
        fresh(f);
        if (xmsg_message_set(f->m, names[i], "x", f->st) != XMSG_ERR_INPUT)
            fail_msg("%s: accepted", names[i]);
        assert_non_null(strstr(xmsg_status_text(f->st), names[i]));
        assert_null(xmsg_message_get(f->m, names[i]));
    }
    fresh(f);
    assert_int_equal(xmsg_message_set(f->m, "urls", "x", f->st), XMSG_OK);
}

/* Nothing is dropped silently: a field that cannot travel with its kind
 * is refused as input before connecting; one that can is sent (here: the
 * connection to a closed port fails). */
static void test_fields_travel_or_are_refused(void **state)
{
#define IQ "\"kind\":\"iq\",\"type\":\"get\",\"to\":\"x\","
#define XML "\"xml\":\"<message to='b@x'><body>b</body></message>\""
    static const struct {
        const char *json;
        xmsg_err want;
    } rows[] = {
        {"{\"to\":\"b@x\",\"body\":\"x\",\"priority\":\"high\","
         "\"show\":\"away\",\"status\":\"s\"}",
         XMSG_ERR_CONNECT},
        {"{\"kind\":\"presence\",\"show\":\"away\",\"x-a\":\"1\"}",
         XMSG_ERR_CONNECT},
        {"{" IQ "\"payload\":\"<q xmlns='u'/>\",\"priority\":\"1\"}",
         XMSG_ERR_CONNECT},
        {"{\"kind\":\"raw\"," XML "}", XMSG_ERR_CONNECT},
        {"{\"kind\":\"presence\",\"body\":\"x\"}", XMSG_ERR_INPUT},
        {"{\"kind\":\"presence\",\"thread\":\"t\"}", XMSG_ERR_INPUT},
        {"{" IQ "\"payload\":\"<q xmlns='u'/>\",\"body\":\"x\"}",
         XMSG_ERR_INPUT},
        {"{" IQ "\"payload\":\"<q xmlns='u'/>\",\"thread\":\"t\"}",
         XMSG_ERR_INPUT},
        {"{\"kind\":\"raw\"," XML ",\"to\":\"b@x\"}", XMSG_ERR_INPUT},
        {"{\"kind\":\"raw\"," XML ",\"x-a\":\"1\"}", XMSG_ERR_INPUT},
        {"{\"kind\":\"raw\"," XML ",\"id\":\"i\"}", XMSG_ERR_INPUT},
        {"{\"to\":\"b@x\",\"body\":\"x\"," XML "}", XMSG_ERR_INPUT},
        {"{\"kind\":\"presence\"," XML "}", XMSG_ERR_INPUT},
    };
    xmsg_params *p = xmsg_params_new();
    struct fx *f = *state;
    size_t i;

    assert_non_null(p);
    assert_int_equal(
        xmsg_params_from_json(p,
                              "{\"jid\":\"a@localhost\",\"password\":\"pw\","
                              "\"host\":\"127.0.0.1\",\"port\":1,"
                              "\"timeout\":5}",
                              NULL),
        XMSG_OK);
    for (i = 0; i < N_ROWS(rows); i++) {
        fresh(f);
        assert_int_equal(xmsg_message_from_json(f->m, rows[i].json, f->st),
                         XMSG_OK);
        if (xmsg_send(p, f->m, f->st) != rows[i].want)
            fail_msg("row %zu: %s: want %s, got %s (%s)", i, rows[i].json,
                     xmsg_err_name(rows[i].want),
                     xmsg_err_name(xmsg_status_code(f->st)),
                     xmsg_status_text(f->st) ? xmsg_status_text(f->st) : "");
        if (rows[i].want == XMSG_ERR_INPUT)
            assert_int_equal(xmsg_status_log_count(f->st), 0);
    }
    xmsg_params_free(p);
#undef XML
#undef IQ
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_is_empty),
        T(test_set_get),
        T(test_order_replace_remove),
        T(test_bad_jid),
        T(test_bad_text),
        T(test_bad_attr_name),
        T(test_reserved_names),
        T(test_good_text),
        T(test_from_json_all),
        T(test_from_json_non_string),
        T(test_from_json_bad_values),
        T(test_from_json_malformed),
        T(test_from_json_too_large),
        T(test_null_status),
        T(test_to_json_empty),
        T(test_to_json_round_trip),
        T(test_to_json_after_remove),
        T(test_fields_travel_or_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
