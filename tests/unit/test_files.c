/* test_files.c - a message's files: the typed API, the JSON "files"
 * member (every malformed form an input error), copies, the message of
 * one file (its body and its jabber:x:oob element, built as a stanza),
 * the status's "files". */
#include "unit.h"

#include <jansson.h>

#include "features/upload.h"
#include "model/internal.h"

/* message JSON -> the code and, for XMSG_OK, the files read. */
struct json_row {
    const char *json;
    xmsg_err code;
    size_t nfiles;
    const char *text; /* in the error's text (NULL: not checked) */
};

static const struct json_row json_rows[] = {
    {"{\"to\":\"a@b\",\"files\":[\"/tmp/a.png\"]}", XMSG_OK, 1, NULL},
    {"{\"files\":[\"a\",{\"path\":\"b\",\"contentType\":\"text/plain\"}]}",
     XMSG_OK, 2, NULL},
    {"{\"files\":[{\"path\":\"b\"}]}", XMSG_OK, 1, NULL},
    {"{\"files\":\"a.png\"}", XMSG_ERR_INPUT, 0, "array"},
    {"{\"files\":{\"path\":\"a\"}}", XMSG_ERR_INPUT, 0, "array"},
    {"{\"files\":[]}", XMSG_ERR_INPUT, 0, "non-empty"},
    {"{\"files\":null}", XMSG_ERR_INPUT, 0, "array"},
    {"{\"files\":[1]}", XMSG_ERR_INPUT, 0, "files[0]"},
    {"{\"files\":[\"a\",true]}", XMSG_ERR_INPUT, 0, "files[1]"},
    {"{\"files\":[[\"a\"]]}", XMSG_ERR_INPUT, 0, "files[0]"},
    {"{\"files\":[\"\"]}", XMSG_ERR_INPUT, 0, "empty"},
    {"{\"files\":[\"a\\u0000b\"]}", XMSG_ERR_INPUT, 0, NULL},
    {"{\"files\":[{\"path\":\"\"}]}", XMSG_ERR_INPUT, 0, "empty"},
    {"{\"files\":[{}]}", XMSG_ERR_INPUT, 0, "no path"},
    {"{\"files\":[{\"contentType\":\"text/plain\"}]}", XMSG_ERR_INPUT, 0,
     "no path"},
    {"{\"files\":[{\"path\":1}]}", XMSG_ERR_INPUT, 0, "files[0].path"},
    {"{\"files\":[{\"path\":\"a\",\"size\":\"1\"}]}", XMSG_ERR_INPUT, 0,
     "files[0].size"},
    {"{\"files\":[{\"path\":\"a\",\"contentType\":\"text\"}]}", XMSG_ERR_INPUT,
     0, "type/subtype"},
    {"{\"files\":[{\"path\":\"a\",\"contentType\":\"text/plain\\r\\nX: "
     "y\"}]}",
     XMSG_ERR_INPUT, 0, "type/subtype"},
};

static void test_json_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(json_rows); i++) {
        const struct json_row *r = &json_rows[i];
        xmsg_message *m = xmsg_message_new();
        xmsg_status *st = xmsg_status_new();
        const xmsg_err rc = xmsg_message_from_json(m, r->json, st);

        if (rc != r->code || xmsg_message_file_count(m) != r->nfiles ||
            (r->text && !strstr(xmsg_status_text(st), r->text))) {
            fprintf(stderr, "row %zu %s: code %s files %zu text ", i, r->json,
                    xmsg_err_name(rc), xmsg_message_file_count(m));
            unit_print_str(xmsg_status_text(st));
            fputc('\n', stderr);
            fail();
        }
        xmsg_message_free(m);
        xmsg_status_free(st);
    }
}

static void test_too_many(void **state)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_status *st = xmsg_status_new();
    int i;

    (void)state;
    for (i = 0; i < XMSG_MESSAGE_FILES_MAX; i++)
        assert_int_equal(xmsg_message_add_file(m, "f", NULL, st), XMSG_OK);
    assert_int_equal(xmsg_message_add_file(m, "f", NULL, st), XMSG_ERR_INPUT);
    assert_non_null(strstr(xmsg_status_text(st), "more than 64"));
    xmsg_message_free(m);
    xmsg_status_free(st);
}

/* "files" is no field: a string there is refused, never an attribute. */
static void test_not_a_field(void **state)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_status *st = xmsg_status_new();

    (void)state;
    assert_int_equal(xmsg_message_set(m, "files", "a.png", st), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_field_count(m), 0);
    assert_int_equal(xmsg_message_add_file(m, "", NULL, st), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_add_file(m, NULL, NULL, st), XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_add_file(m, "\xff", NULL, st),
                     XMSG_ERR_INPUT);
    assert_int_equal(xmsg_message_file_count(m), 0);
    xmsg_message_free(m);
    xmsg_status_free(st);
}

static void test_content_types(void **state)
{
    static const struct {
        const char *type;
        int ok;
    } rows[] = {
        {"image/png", 1},
        {"application/vnd.oasis.opendocument.text", 1},
        {"text/plain; charset=utf-8", 1},
        {"text", 0},
        {"/plain", 0},
        {"text/", 0},
        {"text plain", 0},
        {"text/plain\r\nX-Evil: 1", 0},
        {"text/pl\x01"
         "ain",
         0},
        {"", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        if (xmsg_content_type_valid(rows[i].type) != rows[i].ok) {
            fprintf(stderr, "row %zu: ", i);
            unit_print_str(rows[i].type);
            fputc('\n', stderr);
            fail();
        }
    }
}

/* Read back, copied, written as JSON: the same files. */
static void test_round_trip(void **state)
{
    xmsg_message *m = xmsg_message_new(), *c;
    xmsg_status *st = xmsg_status_new();
    const char *type;
    char *json;

    (void)state;
    assert_int_equal(xmsg_message_set(m, "body", "see", st), XMSG_OK);
    assert_int_equal(xmsg_message_add_file(m, "/a/x.png", NULL, st), XMSG_OK);
    assert_int_equal(xmsg_message_add_file(m, "y", "text/csv", st), XMSG_OK);
    assert_string_equal(xmsg_message_file(m, 0, &type), "/a/x.png");
    assert_null(type);
    assert_string_equal(xmsg_message_file(m, 1, &type), "y");
    assert_string_equal(type, "text/csv");
    assert_null(xmsg_message_file(m, 2, &type));
    c = xmsg_message_copy(m);
    assert_int_equal(xmsg_message_file_count(c), 2);
    json = xmsg_message_to_json(c);
    assert_string_equal(json,
                        "{\"body\":\"see\",\"files\":[\"/a/x.png\","
                        "{\"path\":\"y\",\"contentType\":\"text/csv\"}]}");
    xmsg_message_free(c);
    c = xmsg_message_new();
    assert_int_equal(xmsg_message_from_json(c, json, st), XMSG_OK);
    assert_int_equal(xmsg_message_file_count(c), 2);
    free(json);
    xmsg_message_free(c);
    xmsg_message_free(m);
    xmsg_status_free(st);
}

/* The stanza of file i of m, parsed back: the <message/> element. */
static xmsg_xel *file_stanza(const xmsg_message *m, size_t i, const char *url,
                             xmsg_xel **wrap)
{
    xmsg_message *one = xmsg_file_message(m, i, url);
    xmsg_buf b = {0};

    assert_non_null(one);
    assert_int_equal(xmsg_message_file_count(one), 0);
    assert_int_equal(xmsg_message_xml(one, &b), 0);
    *wrap = xmsg_xml_parse_fragment(b.d);
    assert_non_null(*wrap);
    xmsg_buf_free(&b);
    xmsg_message_free(one);
    return xmsg_xel_child(*wrap, NULL, "message");
}

static char *child_text(const xmsg_xel *el, const char *ns, const char *name)
{
    const xmsg_xel *c = xmsg_xel_child(el, ns, name);

    return c ? xmsg_xel_text(c) : NULL;
}

/* The first file's message: the caption, a newline, the URL as body; the
 * URL in <x xmlns='jabber:x:oob'><url/></x> (escaped by the writer); the
 * other fields; its own id (the last file keeps the message's). */
static void test_file_stanzas(void **state)
{
    const char *url = "https://up.example/a&b/<x>.png";
    xmsg_message *m = xmsg_message_new();
    xmsg_status *st = xmsg_status_new();
    xmsg_xel *wrap, *msg;
    const xmsg_xel *x;
    char *t;

    (void)state;
    assert_int_equal(xmsg_message_set(m, "to", "a@b.example", st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "body", "the graph", st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "id", "m1", st), XMSG_OK);
    assert_int_equal(xmsg_message_set(m, "payload", "<p xmlns='urn:p'/>", st),
                     XMSG_OK);
    assert_int_equal(xmsg_message_add_file(m, "g.png", NULL, st), XMSG_OK);
    assert_int_equal(xmsg_message_add_file(m, "h.png", NULL, st), XMSG_OK);

    msg = file_stanza(m, 0, url, &wrap);
    assert_non_null(msg);
    assert_string_equal(xmsg_xel_attr(msg, "to"), "a@b.example");
    assert_null(xmsg_xel_attr(msg, "id")); /* prepare gives it one */
    t = child_text(msg, NULL, "body");
    assert_string_equal(t, "the graph\nhttps://up.example/a&b/<x>.png");
    free(t);
    x = xmsg_xel_child(msg, "jabber:x:oob", "x");
    assert_non_null(x);
    t = child_text(x, "jabber:x:oob", "url");
    assert_string_equal(t, url);
    free(t);
    assert_non_null(xmsg_xel_child(msg, "urn:p", "p"));
    xmsg_xel_free(wrap);

    msg = file_stanza(m, 1, "https://up.example/h.png", &wrap);
    assert_string_equal(xmsg_xel_attr(msg, "id"), "m1");
    t = child_text(msg, NULL, "body");
    assert_string_equal(t, "https://up.example/h.png");
    free(t);
    assert_non_null(xmsg_xel_child(msg, "jabber:x:oob", "x"));
    xmsg_xel_free(wrap);
    xmsg_message_free(m);
    xmsg_status_free(st);
}

/* A message without files has no OOB element. */
static void test_no_oob(void **state)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_status *st = xmsg_status_new();
    xmsg_buf b = {0};

    (void)state;
    assert_int_equal(xmsg_message_set(m, "body", "hi", st), XMSG_OK);
    assert_int_equal(xmsg_message_xml(m, &b), 0);
    assert_null(strstr(b.d, "jabber:x:oob"));
    xmsg_buf_free(&b);
    xmsg_message_free(m);
    xmsg_status_free(st);
}

static void test_status_files(void **state)
{
    xmsg_status *st = xmsg_status_new();
    const char *url;
    int64_t size;
    char *json;

    (void)state;
    json = xmsg_status_to_json(st);
    assert_null(strstr(json, "files"));
    free(json);
    assert_int_equal(xmsg_status_add_file(st, "/a/x.png", "https://u/x", 5), 0);
    assert_int_equal(xmsg_status_file_count(st), 1);
    assert_string_equal(xmsg_status_file(st, 0, &url, &size), "/a/x.png");
    assert_string_equal(url, "https://u/x");
    assert_int_equal(size, 5);
    assert_null(xmsg_status_file(st, 1, &url, &size));
    assert_null(url);
    json = xmsg_status_to_json(st);
    assert_non_null(strstr(json, "\"files\":[{\"path\":\"/a/x.png\","
                                 "\"url\":\"https://u/x\",\"size\":5}]"));
    free(json);
    xmsg_status_free(st);
}

/* Files on a presence, an iq or a raw stanza: refused before connecting
 * (the params name a server nobody runs). */
static void test_send_checks(void **state)
{
    static const char *const kinds[] = {"presence", "iq", "raw"};
    xmsg_params *p = xmsg_params_new();
    size_t i;

    (void)state;
    assert_int_equal(xmsg_params_set_string(p, "jid", "a@127.0.0.1", NULL),
                     XMSG_OK);
    assert_int_equal(xmsg_params_set_string(p, "password", "x", NULL), XMSG_OK);
    assert_int_equal(xmsg_params_set_int(p, "port", 1, NULL), XMSG_OK);
    for (i = 0; i < N_ROWS(kinds); i++) {
        xmsg_message *m = xmsg_message_new();
        xmsg_status *st = xmsg_status_new();

        assert_int_equal(xmsg_message_set(m, "kind", kinds[i], st), XMSG_OK);
        if (!strcmp(kinds[i], "iq"))
            assert_int_equal(xmsg_message_set(m, "type", "get", NULL), XMSG_OK);
        assert_int_equal(xmsg_message_add_file(m, "f", NULL, st), XMSG_OK);
        assert_int_equal(xmsg_send(p, m, st), XMSG_ERR_INPUT);
        assert_non_null(strstr(xmsg_status_text(st), "files"));
        assert_int_equal(xmsg_status_delivered(st), 0);
        xmsg_message_free(m);
        xmsg_status_free(st);
    }
    xmsg_params_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_rows),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_not_a_field),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_file_stanzas),
        cmocka_unit_test(test_no_oob),
        cmocka_unit_test(test_status_files),
        cmocka_unit_test(test_send_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
