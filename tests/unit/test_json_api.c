/* test_json_api.c - xmsg_send_message_json and xmsg_connect_json refuse
 * bad input before any connection is made.
 *
 * The params point at a loopback listener owned by the test; after each
 * call the listener must have no pending connection, so a call that tried
 * to connect is caught even if it then reported "input". */
#include "unit.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xmsg.h"

struct fx {
    int listener;
    char params_ok[256];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    if (f == NULL)
        return -1;
    f->listener = socket(AF_INET, SOCK_STREAM, 0);
    if (f->listener < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(f->listener, 8) != 0 ||
        getsockname(f->listener, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    snprintf(f->params_ok, sizeof(f->params_ok),
             "{\"jid\":\"alice@localhost\",\"password\":\"pw\","
             "\"host\":\"127.0.0.1\",\"port\":%u,\"timeout\":2}",
             (unsigned)ntohs(sa.sin_port));
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    close(f->listener);
    free(f);
    return 0;
}

/* 1 if someone connected to the listener (the connection is dropped). */
static int connection_attempted(struct fx *f)
{
    struct pollfd pfd = {.fd = f->listener, .events = POLLIN};
    int n = poll(&pfd, 1, 0);

    if (n > 0) {
        int c = accept(f->listener, NULL, NULL);
        if (c >= 0)
            close(c);
        return 1;
    }
    return 0;
}

/* Checks one status JSON text: an object with error.code "input", a
 * non-empty error.text and, for a send, "delivered": false. Frees out. */
static int check_input_status(const char *what, char *out, int is_send)
{
    json_t *root, *error, *delivered;
    const char *code = NULL, *text = NULL;
    int ok;

    if (out == NULL) {
        fprintf(stderr, "%s: returned NULL\n", what);
        return 0;
    }
    root = json_loads(out, 0, NULL);
    error = json_object_get(root, "error");
    code = json_string_value(json_object_get(error, "code"));
    text = json_string_value(json_object_get(error, "text"));
    delivered = json_object_get(root, "delivered");
    ok = json_is_object(root) && code != NULL && strcmp(code, "input") == 0 &&
         text != NULL && text[0] != '\0' &&
         json_is_array(json_object_get(root, "log"));
    if (is_send)
        ok = ok && json_is_false(delivered);
    if (!ok)
        fprintf(stderr, "%s: want error.code \"input\"%s; got %s\n", what,
                is_send ? ", delivered false" : "", out);
    json_decref(root);
    xmsg_free(out);
    return ok;
}

static const char msg_ok[] = "{\"body\":\"hello\",\"to\":\"bob@localhost\"}";

/* params == NULL in a row means "use the fixture's valid params"; the
 * NULL-pointer rows use the flags. */
struct send_case {
    const char *what;
    const char *params;
    const char *message;
    int null_params, null_message;
};

static const struct send_case send_cases[] = {
    {"malformed params", "{\"jid\":", msg_ok, 0, 0},
    {"params not an object", "[]", msg_ok, 0, 0},
    {"params missing jid", "{\"password\":\"pw\"}", msg_ok, 0, 0},
    {"params jid without local part",
     "{\"jid\":\"localhost\",\"password\":\"pw\"}", msg_ok, 0, 0},
    {"params missing password", "{\"jid\":\"alice@localhost\"}", msg_ok, 0, 0},
    {"params empty password", "{\"jid\":\"alice@localhost\",\"password\":\"\"}",
     msg_ok, 0, 0},
    {"params unknown key",
     "{\"jid\":\"alice@localhost\",\"password\":\"pw\",\"prot\":1}", msg_ok, 0,
     0},
    {"message missing body", NULL, "{\"to\":\"bob@localhost\"}", 0, 0},
    {"message missing to", NULL, "{\"body\":\"hello\"}", 0, 0},
    {"message empty object", NULL, "{}", 0, 0},
    {"message non-string value", NULL,
     "{\"body\":\"hello\",\"to\":\"bob@localhost\",\"x-prio\":5}", 0, 0},
    {"message null value", NULL,
     "{\"body\":\"hello\",\"to\":\"bob@localhost\",\"id\":null}", 0, 0},
    {"message invalid JID in to", NULL,
     "{\"body\":\"hello\",\"to\":\"bob smith@localhost\"}", 0, 0},
    {"message body with \\u0001", NULL,
     "{\"body\":\"a\\u0001b\",\"to\":\"bob@localhost\"}", 0, 0},
    {"message bad attribute name", NULL,
     "{\"body\":\"hello\",\"to\":\"bob@localhost\",\"xmlns\":\"urn:x\"}", 0, 0},
    {"message malformed", NULL, "{\"body\":\"hello\"", 0, 0},
    {"message not an object", NULL, "[\"hello\"]", 0, 0},
    {"NULL params", NULL, msg_ok, 1, 0},
    {"NULL message", NULL, NULL, 0, 1},
    {"both NULL", NULL, NULL, 1, 1},
};

static void test_send_bad_input(void **state)
{
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(send_cases); i++) {
        const struct send_case *c = &send_cases[i];
        const char *params = c->null_params ? NULL
                             : c->params    ? c->params
                                            : f->params_ok;
        const char *message = c->null_message ? NULL : c->message;
        char *out = xmsg_send_message_json(params, message);

        if (!check_input_status(c->what, out, 1))
            bad++;
        if (connection_attempted(f)) {
            fprintf(stderr, "%s: a connection was attempted\n", c->what);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d failures in %zu send cases", bad, N_ROWS(send_cases));
}

static void test_connect_bad_input(void **state)
{
    static const struct {
        const char *what, *params;
    } rows[] = {
        {"malformed params", "{\"jid\":"},
        {"params not an object", "\"alice@localhost\""},
        {"params missing jid", "{\"password\":\"pw\"}"},
        {"params missing password", "{\"jid\":\"alice@localhost\"}"},
        {"params empty password",
         "{\"jid\":\"alice@localhost\",\"password\":\"\"}"},
        {"params invalid jid",
         "{\"jid\":\"a b@localhost\",\"password\":\"pw\"}"},
        {"params bad port",
         "{\"jid\":\"alice@localhost\",\"password\":\"pw\",\"port\":0}"},
        {"NULL params", NULL},
    };
    struct fx *f = *state;
    size_t i;
    int bad = 0;

    for (i = 0; i < N_ROWS(rows); i++) {
        char *out = xmsg_connect_json(rows[i].params);

        if (!check_input_status(rows[i].what, out, 0))
            bad++;
        if (connection_attempted(f)) {
            fprintf(stderr, "%s: a connection was attempted\n", rows[i].what);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d failures in %zu connect cases", bad, N_ROWS(rows));
}

/* The fixture itself must be able to see a connection, or the checks
 * above prove nothing. */
static void test_listener_sees_connections(void **state)
{
    struct fx *f = *state;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int c = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(c >= 0);
    assert_int_equal(getsockname(f->listener, (struct sockaddr *)&sa, &len), 0);
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(connection_attempted(f), 1);
    close(c);
    assert_int_equal(connection_attempted(f), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

/* jansson quotes the input near a syntax error: never the password. */
static void test_error_text_never_quotes_input(void **state)
{
    char *out;

    (void)state;
    out = xmsg_connect_json("{\"jid\":\"a@b\",\"password\":\"hunter2\\u00");
    assert_non_null(out);
    assert_null(strstr(out, "hunter2"));
    assert_non_null(strstr(out, "\"input\""));
    xmsg_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_listener_sees_connections),
        T(test_send_bad_input),
        T(test_connect_bad_input),
        cmocka_unit_test(test_error_text_never_quotes_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
