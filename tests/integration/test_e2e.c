/* test_e2e.c - the two calls against a real Prosody or ejabberd on
 * loopback, started by tests/lab. Run as: test_e2e main|plain|legacyauth
 * with XMSG_LAB_ENV naming the server's env file. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab.h"
#include "xmsg.h"

static char *jid_of(const char *user)
{
    static char buf[4][256];
    static int next;
    char *b = buf[next++ % 4];

    snprintf(b, 256, "%s@%s", user, lab("DOMAIN"));
    return b;
}

static json_t *collect_ok(const char *user)
{
    json_t *p = lab_params(user), *st = lab_connect(p);

    json_decref(p);
    if (strcmp(lab_code(st), "ok") != 0)
        fail_msg("connect failed: %s", lab_dump(st));
    assert_true(json_is_array(json_object_get(st, "messages")));
    return st;
}

static const char *field(const json_t *msg, const char *name)
{
    const char *v = json_string_value(json_object_get(msg, name));

    return v ? v : "(absent)";
}

static void expect_code(json_t *st, const char *code)
{
    if (strcmp(lab_code(st), code) != 0)
        fail_msg("expected error %s, got: %s", code, lab_dump(st));
}

/* ---- send then collect: every field, defaults, order, unicode ---- */

static void test_every_field_round_trip(void **state)
{
    json_t *p = lab_params("alice"), *m, *st, *msgs, *got;

    (void)state;
    m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "to", jid_of("t01"),
                  "body", "every field <&>\"'", "type", "normal", "id",
                  "xmsg-e2e-id-1", "xml:lang", "fr", "x-prio", "high",
                  "data-ref", "a&b<c>\"'");
    st = lab_send(p, m);
    expect_code(st, "ok");
    assert_true(json_is_true(json_object_get(st, "delivered")));
    json_decref(st);

    st = collect_ok("t01");
    msgs = json_object_get(st, "messages");
    assert_int_equal(json_array_size(msgs), 1);
    got = json_array_get(msgs, 0);
    assert_string_equal(field(got, "body"), "every field <&>\"'");
    assert_string_equal(field(got, "to"), jid_of("t01"));
    assert_string_equal(field(got, "type"), "normal");
    assert_string_equal(field(got, "id"), "xmsg-e2e-id-1");
    assert_string_equal(field(got, "xml:lang"), "fr");
    assert_string_equal(field(got, "ns"), "jabber:client");
    assert_string_equal(field(got, "x-prio"), "high");
    assert_string_equal(field(got, "data-ref"), "a&b<c>\"'");
    assert_int_equal(
        strncmp(field(got, "from"), jid_of("alice"), strlen(jid_of("alice"))),
        0);
    json_decref(st);

    /* Collected once: the server does not hand them over again. */
    st = collect_ok("t01");
    assert_int_equal(json_array_size(json_object_get(st, "messages")), 0);
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

/* Custom attributes named like a presence's children travel on a message
 * (on the wire as attributes) and are collected back as the same fields,
 * from the attributes or, where the server dropped them, the mirror. */
static void test_presence_names_round_trip(void **state)
{
    static const char *const names[] = {"priority", "show", "status"};
    json_t *p = lab_params("alice"), *m, *st, *msgs, *got;
    size_t i;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    m = json_pack("{s:s, s:s, s:s, s:s, s:s}", "to", jid_of("t28"), "body", "x",
                  "priority", "high", "show", "away", "status", "busy");
    st = lab_send(p, m);
    expect_code(st, "ok");
    assert_true(json_is_true(json_object_get(st, "delivered")));
    assert_true(lab_log_has(st, "priority='high'"));
    assert_true(lab_log_has(st, "show='away'"));
    json_decref(st);

    st = collect_ok("t28");
    msgs = json_object_get(st, "messages");
    assert_int_equal(json_array_size(msgs), 1);
    got = json_array_get(msgs, 0);
    for (i = 0; i < 3; i++)
        assert_string_equal(field(got, names[i]),
                            json_string_value(json_object_get(m, names[i])));
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

/* A presence with a custom attribute: sent with it, not dropped. */
static void test_presence_custom_attribute(void **state)
{
    json_t *p = lab_params("alice"), *m, *st;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    m = json_pack("{s:s, s:s, s:s, s:s}", "kind", "presence", "to",
                  jid_of("t29"), "show", "away", "x-custom", "kept");
    st = lab_send(p, m);
    expect_code(st, "ok");
    assert_true(lab_log_has(st, "x-custom='kept'"));
    assert_true(lab_log_has(st, "<show>away</show>"));
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

static void test_defaults(void **state)
{
    json_t *p = lab_params("alice"), *m, *st, *got;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    m = json_pack("{s:s, s:s}", "to", jid_of("t02"), "body", "defaults");
    st = lab_send(p, m);
    expect_code(st, "ok");
    /* from defaults to the jid: it is on the wire. */
    assert_true(lab_log_has(st, "from='alice@"));
    json_decref(st);

    st = collect_ok("t02");
    assert_int_equal(json_array_size(json_object_get(st, "messages")), 1);
    got = json_array_get(json_object_get(st, "messages"), 0);
    assert_string_equal(field(got, "type"), "chat");
    assert_string_equal(field(got, "xml:lang"), "en");
    assert_string_equal(field(got, "ns"), "jabber:client");
    /* A fresh UUID: 36 characters, 8-4-4-4-12. */
    assert_int_equal(strlen(field(got, "id")), 36);
    assert_int_equal(field(got, "id")[8], '-');
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

static void test_explicit_from_on_the_wire(void **state)
{
    json_t *p = lab_params("alice"), *m, *st;
    char jid[300];

    (void)state;
    /* Logged in with a resource, sent from the bare JID: both servers
     * accept that, and the default would have been the full JID. */
    snprintf(jid, sizeof(jid), "%s/xmsg-e2e", jid_of("alice"));
    json_object_set_new(p, "jid", json_string(jid));
    json_object_set_new(p, "logLevel", json_string("debug"));
    m = json_pack("{s:s, s:s, s:s}", "to", jid_of("t03"), "body", "from",
                  "from", jid_of("alice"));
    st = lab_send(p, m);
    expect_code(st, "ok");
    assert_true(lab_log_has(st, "from='alice@localhost'"));
    assert_false(lab_log_has(st, "from='alice@localhost/xmsg-e2e'"));
    json_decref(st);
    /* A from that is not the sender's own is on the wire too: the server
     * rejects it (Prosody rewrites it, ejabberd closes the stream). */
    json_decref(m);
    json_decref(p);
}

/* ns is the stanza's namespace: a foreign one makes it no message at all,
 * and the server says so (both servers close the stream). */
static void test_ns_on_the_wire(void **state)
{
    json_t *p = lab_params("alice"), *m, *st;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    m = json_pack("{s:s, s:s, s:s}", "to", jid_of("t17"), "body", "ns", "ns",
                  "urn:example:not-a-stanza");
    st = lab_send(p, m);
    assert_true(lab_log_has(st, "xmlns='urn:example:not-a-stanza'"));
    assert_string_not_equal(lab_code(st), "ok");
    assert_false(json_is_true(json_object_get(st, "delivered")));
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

static void test_order_kept(void **state)
{
    json_t *st, *msgs;
    char body[32];
    size_t i;

    (void)state;
    for (i = 0; i < 5; i++) {
        snprintf(body, sizeof(body), "order %zu", i);
        lab_send_ok("alice", "t04", body);
    }
    st = collect_ok("t04");
    msgs = json_object_get(st, "messages");
    assert_int_equal(json_array_size(msgs), 5);
    for (i = 0; i < 5; i++) {
        snprintf(body, sizeof(body), "order %zu", i);
        assert_string_equal(field(json_array_get(msgs, i), "body"), body);
    }
    json_decref(st);
}

static void test_unicode_bodies(void **state)
{
    static const char *const bodies[] = {
        "emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
        "rtl \xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 "
        "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D",
        "combining e\xCC\x81 a\xCC\x8A n\xCC\x83\xCC\x8A",
        "cjk \xE4\xBD\xA0\xE5\xA5\xBD, tab\tand\nnewline"};
    size_t n = sizeof(bodies) / sizeof(*bodies), i;
    char *big = malloc(64 * 1024 + 1);
    json_t *st, *msgs;

    (void)state;
    assert_non_null(big);
    for (i = 0; i < 64 * 1024; i++)
        big[i] = (char)('a' + i % 26);
    memcpy(big, "\xF0\x9F\x98\x80", 4);
    big[64 * 1024] = '\0';
    for (i = 0; i < n; i++)
        lab_send_ok("alice", "t05", bodies[i]);
    lab_send_ok("alice", "t05", big);
    st = collect_ok("t05");
    msgs = json_object_get(st, "messages");
    assert_int_equal(json_array_size(msgs), n + 1);
    for (i = 0; i < n; i++)
        assert_string_equal(field(json_array_get(msgs, i), "body"), bodies[i]);
    assert_string_equal(field(json_array_get(msgs, n), "body"), big);
    json_decref(st);
    free(big);
}

/* ---- failures: each named by its own code ---- */

static void test_wrong_password(void **state)
{
    json_t *p = lab_params("t06"), *st;

    (void)state;
    json_object_set_new(p, "password", json_string("not-the-password"));
    st = lab_connect(p);
    expect_code(st, "auth");
    json_decref(st);
    json_decref(p);
}

static void test_unknown_recipient_is_rejected(void **state)
{
    json_t *p = lab_params("alice"), *m, *st;

    (void)state;
    m = json_pack("{s:s, s:s}", "to", jid_of("nobody-here"), "body", "x");
    st = lab_send(p, m);
    expect_code(st, "protocol");
    assert_false(json_is_true(json_object_get(st, "delivered")));
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

static void test_wrong_ca_then_trust(void **state)
{
    json_t *p = lab_params("t07"), *st;

    (void)state;
    json_object_set_new(p, "caFile", json_string(lab("OTHER_CA")));
    st = lab_connect(p);
    expect_code(st, "tls");
    json_decref(st);
    /* No caFile: the system store does not know the lab CA either. */
    json_object_del(p, "caFile");
    st = lab_connect(p);
    expect_code(st, "tls");
    json_decref(st);
    json_object_set_new(p, "trustTLS", json_true());
    json_object_set_new(p, "logLevel", json_string("warn"));
    st = lab_connect(p);
    expect_code(st, "ok");
    assert_true(lab_log_has(st, "verification is off"));
    json_decref(st);
    json_decref(p);
}

/* Pinning: only a server key with one of the pins is accepted, also with
 * trustTLS; nothing of the login is sent to another. */
static void test_pin(void **state)
{
    const char *bad = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    json_t *p = lab_params("t33"), *st;
    char both[256];

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    json_object_set_new(p, "pin", json_string(lab("PIN")));
    st = lab_connect(p);
    expect_code(st, "ok");
    assert_true(lab_log_has(st, "matches pin"));
    json_decref(st);
    snprintf(both, sizeof(both), "%s;%s", bad, lab("PIN"));
    json_object_set_new(p, "pin", json_string(both));
    st = lab_connect(p);
    expect_code(st, "ok");
    json_decref(st);
    json_object_set_new(p, "pin", json_string(bad));
    json_object_set_new(p, "trustTLS", json_true());
    st = lab_connect(p);
    expect_code(st, "tls");
    assert_non_null(strstr(lab_dump(st), "matches no pin"));
    assert_false(lab_log_has(st, "SENT: <auth"));
    json_decref(st);
    json_object_set_new(p, "pin", json_string("sha256//short"));
    st = lab_connect(p);
    expect_code(st, "input");
    json_decref(st);
    json_decref(p);
}

static void test_disable_tls_refused(void **state)
{
    json_t *p = lab_params("t08"), *st;

    (void)state;
    json_object_del(p, "caFile");
    json_object_set_new(p, "disableTLS", json_true());
    st = lab_connect(p);
    expect_code(st, "tls");
    assert_non_null(strstr(lab_dump(st), "requires TLS"));
    json_decref(st);
    json_decref(p);
}

static void test_legacy_tls(void **state)
{
    json_t *p = lab_params("t09"), *st;

    (void)state;
    if (!*lab("TLS_PORT"))
        skip();
    json_object_set_new(p, "port", json_integer(atol(lab("TLS_PORT"))));
    /* Without legacyTLS the direct-TLS port does not speak plain XMPP. */
    json_object_set_new(p, "timeout", json_integer(5));
    st = lab_connect(p);
    assert_string_not_equal(lab_code(st), "ok");
    json_decref(st);
    json_object_set_new(p, "legacyTLS", json_true());
    st = lab_connect(p);
    expect_code(st, "ok");
    json_decref(st);
    /* And legacyTLS against the STARTTLS port fails as TLS. */
    json_object_set_new(p, "port", json_integer(atol(lab("PORT"))));
    st = lab_connect(p);
    expect_code(st, "tls");
    json_decref(st);
    json_decref(p);
}

static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_closed_port(void **state)
{
    json_t *p = lab_params("t10"), *st;

    (void)state;
    json_object_set_new(p, "port", json_integer(closed_port()));
    st = lab_connect(p);
    expect_code(st, "connection");
    json_decref(st);
    json_decref(p);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A listener that accepts (in the kernel's backlog) and never speaks:
 * neither the stream nor a direct TLS handshake may outlive the timeout. */
static void test_silent_server_times_out(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), legacy;
    json_t *p = lab_params("t11"), *st;
    double t0;

    (void)state;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    json_object_set_new(p, "port", json_integer(ntohs(a.sin_port)));
    json_object_set_new(p, "timeout", json_integer(2));
    for (legacy = 0; legacy <= 1; legacy++) {
        json_object_set_new(p, "legacyTLS", json_boolean(legacy));
        t0 = now_s();
        st = lab_connect(p);
        expect_code(st, "timeout");
        /* A hang would be minutes; the bound is loose on purpose. */
        assert_true(now_s() - t0 < 2 + 8);
        json_decref(st);
    }
    json_decref(p);
    close(fd);
}

static void test_host_defaults_to_domain(void **state)
{
    json_t *p = lab_params("t12"), *st;

    (void)state;
    json_object_del(p, "host");
    st = lab_connect(p);
    expect_code(st, "ok");
    json_decref(st);
    /* And the host param is used: a wrong one fails. */
    json_object_set_new(p, "host", json_string("127.0.0.254"));
    json_object_set_new(p, "port", json_integer(closed_port()));
    st = lab_connect(p);
    expect_code(st, "connection");
    assert_non_null(strstr(lab_dump(st), "127.0.0.254"));
    json_decref(st);
    json_decref(p);
}

static void test_log_levels(void **state)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    json_t *p = lab_params("t13"), *st;
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        json_object_set_new(p, "logLevel", json_string(levels[i]));
        st = lab_connect(p);
        expect_code(st, "ok");
        assert_int_equal(lab_log_has(st, "debug "), i == 0);
        assert_int_equal(lab_log_has(st, "info xmpp: logged in"), i <= 1);
        if (i >= 2)
            assert_int_equal(json_array_size(json_object_get(st, "log")), 0);
        json_decref(st);
    }
    /* Numbers work as names do. */
    json_object_set_new(p, "logLevel", json_integer(1));
    st = lab_connect(p);
    assert_true(lab_log_has(st, "info xmpp: logged in"));
    assert_false(lab_log_has(st, "debug "));
    json_decref(st);
    json_decref(p);
}

static void test_keepalive(void **state)
{
    json_t *p = lab_params("t14"), *st;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("info"));
    st = lab_connect(p);
    assert_false(lab_log_has(st, "keepalive on"));
    json_decref(st);
    json_object_set_new(p, "keepAlive", json_true());
    json_object_set_new(p, "keepAliveTimeout", json_integer(37));
    json_object_set_new(p, "keepAliveInterval", json_integer(5));
    st = lab_connect(p);
    expect_code(st, "ok");
    /* The values are read back from the kernel after being set. */
    assert_true(lab_log_has(st, "TCP keepalive on (idle 37 s, interval 5 s)"));
    json_decref(st);
    json_decref(p);
}

static int contains_secret(const char *text, const char *secret)
{
    return strstr(text, secret) != NULL;
}

/* The SCRAM client proof travels in <response>: every one must be
 * redacted whole (and there must be one, or this proves nothing). */
static void assert_responses_redacted(const json_t *st)
{
    const json_t *line;
    size_t i, seen = 0;

    json_array_foreach(json_object_get(st, "log"), i, line)
    {
        const char *l = json_string_value(line), *r = strstr(l, "<response");

        if (!r || strstr(l, "SENT:") == NULL)
            continue;
        seen++;
        if (!strstr(r, ">[redacted]</response>"))
            fail_msg("unredacted SASL response: %s", l);
    }
    assert_true(seen > 0);
}

static void test_no_password_in_output(void **state)
{
    json_t *p = lab_params("t15"), *m, *st;
    const char *pw = lab_password("t15");

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    m = json_pack("{s:s, s:s}", "to", jid_of("t16"), "body", "secret test");
    st = lab_send(p, m);
    expect_code(st, "ok");
    assert_true(lab_log_has(st, "[redacted]"));
    assert_responses_redacted(st);
    assert_false(contains_secret(lab_dump(st), pw));
    /* base64("pw-t15-Zq8") */
    assert_false(contains_secret(lab_dump(st), "cHctdDE1LVpxOA"));
    json_decref(st);
    st = lab_connect(p);
    assert_false(contains_secret(lab_dump(st), pw));
    json_decref(st);
    json_object_set_new(p, "password", json_string("Wrong-Zebra-7781"));
    st = lab_connect(p);
    expect_code(st, "auth");
    assert_false(contains_secret(lab_dump(st), "Wrong-Zebra-7781"));
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

/* ---- a server that offers no TLS (Prosody, mode plain) ---- */

static void test_mandatory_tls_refuses_plaintext(void **state)
{
    json_t *p = lab_params("t20"), *st;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    st = lab_connect(p);
    expect_code(st, "tls");
    assert_false(lab_log_has(st, "<auth"));
    json_decref(st);
    json_object_set_new(p, "mandatoryTLS", json_false());
    st = lab_connect(p);
    expect_code(st, "ok");
    json_decref(st);
    json_decref(p);
}

/* A pin makes TLS mandatory: with a plaintext fallback it is refused
 * before connecting, and without one a server offering no TLS gets
 * nothing of the login. */
static void test_pin_needs_tls(void **state)
{
    json_t *p = lab_params("t23"), *st;

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    json_object_set_new(
        p, "pin",
        json_string("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    json_object_set_new(p, "mandatoryTLS", json_false());
    st = lab_connect(p);
    expect_code(st, "input");
    assert_false(lab_log_has(st, "connecting"));
    assert_false(lab_log_has(st, "<auth"));
    json_decref(st);
    json_object_del(p, "mandatoryTLS");
    st = lab_connect(p);
    expect_code(st, "tls");
    assert_false(lab_log_has(st, "<auth"));
    json_decref(st);
    json_decref(p);
}

static void test_disable_tls_plaintext_round_trip(void **state)
{
    json_t *p = lab_params("t21"), *m, *st;

    (void)state;
    json_object_del(p, "caFile");
    json_object_set_new(p, "disableTLS", json_true());
    m = json_pack("{s:s, s:s}", "to", jid_of("t22"), "body", "plain");
    st = lab_send(p, m);
    expect_code(st, "ok");
    json_decref(st);
    json_decref(p);
    p = lab_params("t22");
    json_object_del(p, "caFile");
    json_object_set_new(p, "disableTLS", json_true());
    st = lab_connect(p);
    expect_code(st, "ok");
    assert_int_equal(json_array_size(json_object_get(st, "messages")), 1);
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

/* ---- a server with only XEP-0078 legacy auth ---- */

static void test_legacy_auth(void **state)
{
    json_t *p = lab_params("t30"), *st;
    const char *pw = lab_password("t30");

    (void)state;
    json_object_set_new(p, "logLevel", json_string("debug"));
    json_object_set_new(p, "mandatoryTLS", json_false());
    st = lab_connect(p);
    expect_code(st, "auth");
    json_decref(st);
    json_object_set_new(p, "enableLegacyAuth", json_true());
    st = lab_connect(p);
    expect_code(st, "ok");
    assert_true(lab_log_has(st, "jabber:iq:auth"));
    assert_false(contains_secret(lab_dump(st), pw));
    json_decref(st);
    json_decref(p);
}

/* The legacyauth server has no message archive: collection falls back to
 * offline storage (at most once) and keeps no state file. */
static void test_no_archive_offline_storage(void **state)
{
    json_t *p = lab_params("t31"), *m, *st;
    char path[512];

    (void)state;
    json_object_set_new(p, "enableLegacyAuth", json_true());
    m = json_pack("{s:s, s:s}", "to", jid_of("t32"), "body", "old server");
    st = lab_send(p, m);
    expect_code(st, "ok");
    json_decref(st);
    json_decref(p);
    p = lab_params("t32");
    json_object_set_new(p, "enableLegacyAuth", json_true());
    json_object_set_new(p, "logLevel", json_string("info"));
    st = lab_connect(p);
    expect_code(st, "ok");
    assert_int_equal(json_array_size(json_object_get(st, "messages")), 1);
    assert_true(lab_log_has(st, "no message archive"));
    json_decref(st);
    snprintf(path, sizeof(path), "%s/xmsg/t32@%s.json", lab_state_dir(),
             lab("DOMAIN"));
    assert_int_equal(access(path, F_OK), -1);
    st = lab_connect(p);
    assert_int_equal(json_array_size(json_object_get(st, "messages")), 0);
    json_decref(st);
    json_decref(m);
    json_decref(p);
}

/* ---- sessions: open once, send many (typed API) ---- */

struct feed {
    int i, n;
    size_t results;
    xmsg_err codes[8];
};

static xmsg_next feed_next(void *userdata, int may_block, xmsg_message **m,
                           char *err, size_t errlen)
{
    struct feed *f = userdata;
    char body[32];

    (void)may_block;
    if (f->i == f->n)
        return XMSG_NEXT_END;
    if (f->i++ == 2) {
        snprintf(err, errlen, "the caller's own bad input");
        return XMSG_NEXT_INVALID;
    }
    snprintf(body, sizeof(body), "batch %d", f->i - 1);
    *m = xmsg_message_new();
    assert_non_null(*m);
    assert_int_equal(xmsg_message_set(*m, "to", jid_of("t34"), NULL), 0);
    assert_int_equal(xmsg_message_set(*m, "body", body, NULL), 0);
    return XMSG_NEXT_MESSAGE;
}

static int feed_done(void *userdata, size_t index, const xmsg_message *m,
                     xmsg_err code, const char *text)
{
    struct feed *f = userdata;

    assert_int_equal(index, f->results);
    assert_true(code == XMSG_OK ? text == NULL && m != NULL : text != NULL);
    f->codes[f->results++] = code;
    return 0;
}

static xmsg_params *typed_params(const char *user, long timeout)
{
    json_t *p = lab_params(user);
    char *text;
    xmsg_params *tp = xmsg_params_new();

    json_object_set_new(p, "timeout", json_integer(timeout));
    text = json_dumps(p, JSON_COMPACT);
    assert_int_equal(xmsg_params_from_json(tp, text, NULL), XMSG_OK);
    free(text);
    json_decref(p);
    return tp;
}

static void send_in_session(xmsg_session *s, const char *body)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_status *st = xmsg_status_new();

    assert_int_equal(xmsg_message_set(m, "to", jid_of("t34"), NULL), 0);
    assert_int_equal(xmsg_message_set(m, "body", body, NULL), 0);
    assert_int_equal(xmsg_session_send(s, m, st), XMSG_OK);
    assert_true(xmsg_status_delivered(st));
    xmsg_status_free(st);
    xmsg_message_free(m);
}

static void test_session_send_many(void **state)
{
    /* The timeout is long enough for a loaded machine under ASan (a
     * session call races nothing); the idle outlasts it all the same. */
    xmsg_params *p = typed_params("t59", 10);
    xmsg_status *st = xmsg_status_new();
    struct feed f = {0, 5, 0, {0}};
    const struct timespec idle = {11, 0};
    xmsg_session *s = NULL;
    json_t *got, *msgs;
    static const char *const want[] = {"one",     "two",     "batch 0",
                                       "batch 1", "batch 3", "batch 4"};
    size_t i;

    (void)state;
    assert_int_equal(xmsg_session_open(p, &s, st), XMSG_OK);
    send_in_session(s, "one");
    /* Idle past the timeout: no deadline runs between calls. */
    nanosleep(&idle, NULL);
    send_in_session(s, "two");
    assert_int_equal(xmsg_session_send_batch(s, feed_next, feed_done, &f, st),
                     XMSG_ERR_INPUT);
    assert_int_equal(f.results, 5);
    for (i = 0; i < 5; i++)
        assert_int_equal(f.codes[i], i == 2 ? XMSG_ERR_INPUT : XMSG_OK);
    xmsg_session_close(s, st);
    got = collect_ok("t34");
    msgs = json_object_get(got, "messages");
    assert_int_equal(json_array_size(msgs), 6);
    for (i = 0; i < 6; i++)
        assert_string_equal(field(json_array_get(msgs, i), "body"), want[i]);
    json_decref(got);
    xmsg_status_free(st);
    xmsg_params_free(p);
}

/* ---- a callback that asks to stop: cancelled, not internal ---- */

static int stop_at_first(const xmsg_message *m, void *userdata)
{
    int *calls = userdata;

    (void)m;
    (*calls)++;
    return 1;
}

static void assert_cancelled(const xmsg_status *st)
{
    char *json = xmsg_status_to_json(st);

    assert_int_equal(xmsg_status_code(st), XMSG_ERR_CANCELLED);
    assert_non_null(json);
    if (!strstr(json, "\"code\":\"cancelled\""))
        fail_msg("status JSON lacks code cancelled: %s", json);
    xmsg_free(json);
}

/* Collection: the caller stops at the first message; the checkpoint stays
 * before it, so the next collection hands it over. */
static void test_collect_stop_is_cancelled(void **state)
{
    xmsg_params *p = typed_params("t49", 20);
    xmsg_status *st = xmsg_status_new();
    json_t *got;
    int calls = 0;

    (void)state;
    lab_send_ok("alice", "t49", "stop here");
    assert_int_equal(xmsg_connect_each(p, stop_at_first, &calls, st),
                     XMSG_ERR_CANCELLED);
    assert_int_equal(calls, 1);
    assert_cancelled(st);
    got = collect_ok("t49");
    assert_int_equal(json_array_size(json_object_get(got, "messages")), 1);
    assert_string_equal(
        field(json_array_get(json_object_get(got, "messages"), 0), "body"),
        "stop here");
    json_decref(got);
    xmsg_status_free(st);
    xmsg_params_free(p);
}

static int stop_done(void *userdata, size_t index, const xmsg_message *m,
                     xmsg_err code, const char *text)
{
    struct feed *f = userdata;

    (void)index;
    (void)m;
    (void)text;
    f->codes[f->results++] = code;
    return 1;
}

static xmsg_next plain_next(void *userdata, int may_block, xmsg_message **m,
                            char *err, size_t errlen)
{
    struct feed *f = userdata;

    (void)may_block;
    (void)err;
    (void)errlen;
    if (f->i == f->n)
        return XMSG_NEXT_END;
    f->i++;
    *m = xmsg_message_new();
    assert_non_null(*m);
    assert_int_equal(xmsg_message_set(*m, "to", jid_of("t50"), NULL), 0);
    assert_int_equal(xmsg_message_set(*m, "body", "batch", NULL), 0);
    return XMSG_NEXT_MESSAGE;
}

/* A batch whose done() stops it at the first result: what is in flight
 * is still confirmed and reported, nothing more is read, and the batch is
 * cancelled. */
static void test_batch_stop_is_cancelled(void **state)
{
    xmsg_params *p = typed_params("alice", 20);
    xmsg_status *st = xmsg_status_new();
    struct feed f = {0, 3, 0, {0}};
    size_t i;

    (void)state;
    assert_int_equal(xmsg_send_batch(p, plain_next, stop_done, &f, st),
                     XMSG_ERR_CANCELLED);
    assert_true(f.results >= 1 && f.results <= 3);
    for (i = 0; i < f.results; i++)
        assert_int_equal(f.codes[i], XMSG_OK);
    assert_cancelled(st);
    xmsg_status_free(st);
    xmsg_params_free(p);
}

/* ---- the caller's time is not the server's ---- */

static void sleep_s(time_t s)
{
    const struct timespec ts = {s, 0};

    nanosleep(&ts, NULL);
}

#define SLOW_TIMEOUT_S 5
#define SLOW_CALLBACK_S (SLOW_TIMEOUT_S + 1)

struct slow {
    int given;
    size_t results;
    xmsg_err codes[2];
};

/* Sleeps past the 2 s timeout before the first input, and gives the
 * second only once the first result was reported (which sleeps too). */
static xmsg_next slow_next(void *userdata, int may_block, xmsg_message **m,
                           char *err, size_t errlen)
{
    struct slow *f = userdata;
    char body[32];

    (void)err;
    (void)errlen;
    if (f->given == 2 || (f->given == 1 && !f->results && may_block))
        return XMSG_NEXT_END;
    if (f->given == 1 && !f->results)
        return XMSG_NEXT_LATER;
    if (f->given == 0)
        sleep_s(SLOW_CALLBACK_S);
    snprintf(body, sizeof(body), "slow %d", f->given++);
    *m = xmsg_message_new();
    assert_non_null(*m);
    assert_int_equal(xmsg_message_set(*m, "to", jid_of("t61"), NULL), 0);
    assert_int_equal(xmsg_message_set(*m, "body", body, NULL), 0);
    return XMSG_NEXT_MESSAGE;
}

static int slow_done(void *userdata, size_t index, const xmsg_message *m,
                     xmsg_err code, const char *text)
{
    struct slow *f = userdata;

    (void)m;
    (void)text;
    assert_int_equal(index, f->results);
    f->codes[f->results++] = code;
    if (f->results == 1)
        sleep_s(SLOW_CALLBACK_S);
    return 0;
}

static int slow_collected(const xmsg_message *m, void *userdata)
{
    int *n = userdata;

    if (m && (*n)++ == 0)
        sleep_s(SLOW_CALLBACK_S);
    return 0;
}

/* Callbacks slower than the timeout (5 s: a login under ASan on a loaded
 * machine fits in it): the batch's input and results, and the collected
 * messages; the server is as quick as ever, so every
 * call succeeds. */
static void test_slow_callbacks(void **state)
{
    xmsg_params *p = typed_params("t50", SLOW_TIMEOUT_S);
    xmsg_params *q = typed_params("t61", SLOW_TIMEOUT_S);
    xmsg_status *st = xmsg_status_new();
    struct slow f = {0, 0, {XMSG_ERR_INTERNAL, XMSG_ERR_INTERNAL}};
    xmsg_session *s = NULL;
    int n = 0;

    (void)state;
    json_decref(collect_ok("t61")); /* the checkpoint at the archive end */
    assert_int_equal(xmsg_session_open(p, &s, st), XMSG_OK);
    if (xmsg_session_send_batch(s, slow_next, slow_done, &f, st) != XMSG_OK)
        fail_msg("slow batch: %s", xmsg_status_text(st));
    assert_int_equal(f.results, 2);
    assert_int_equal(f.codes[0], XMSG_OK);
    assert_int_equal(f.codes[1], XMSG_OK);
    xmsg_session_close(s, st);
    xmsg_status_free(st);
    st = xmsg_status_new();
    if (xmsg_connect_each(q, slow_collected, &n, st) != XMSG_OK)
        fail_msg("slow collection: %s", xmsg_status_text(st));
    assert_int_equal(n, 2);
    xmsg_status_free(st);
    xmsg_params_free(q);
    xmsg_params_free(p);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest main_tests[] = {
        cmocka_unit_test(test_every_field_round_trip),
        cmocka_unit_test(test_presence_names_round_trip),
        cmocka_unit_test(test_presence_custom_attribute),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_explicit_from_on_the_wire),
        cmocka_unit_test(test_ns_on_the_wire),
        cmocka_unit_test(test_order_kept),
        cmocka_unit_test(test_unicode_bodies),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_recipient_is_rejected),
        cmocka_unit_test(test_wrong_ca_then_trust),
        cmocka_unit_test(test_pin),
        cmocka_unit_test(test_disable_tls_refused),
        cmocka_unit_test(test_legacy_tls),
        cmocka_unit_test(test_closed_port),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_host_defaults_to_domain),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_no_password_in_output),
        cmocka_unit_test(test_session_send_many),
        cmocka_unit_test(test_collect_stop_is_cancelled),
        cmocka_unit_test(test_batch_stop_is_cancelled),
        cmocka_unit_test(test_slow_callbacks),
    };
    const struct CMUnitTest plain_tests[] = {
        cmocka_unit_test(test_mandatory_tls_refuses_plaintext),
        cmocka_unit_test(test_pin_needs_tls),
        cmocka_unit_test(test_disable_tls_plaintext_round_trip),
    };
    const struct CMUnitTest legacy_tests[] = {
        cmocka_unit_test(test_legacy_auth),
        cmocka_unit_test(test_no_archive_offline_storage),
    };
    const char *group = argc > 1 ? argv[1] : "main";

    if (lab_load_env("XMSG_LAB_ENV"))
        return 1;
    if (strcmp(group, "plain") == 0)
        return cmocka_run_group_tests_name("plain", plain_tests, NULL, NULL);
    if (strcmp(group, "legacyauth") == 0)
        return cmocka_run_group_tests_name("legacyauth", legacy_tests, NULL,
                                           NULL);
    return cmocka_run_group_tests_name(lab("SERVER"), main_tests, NULL, NULL);
}
