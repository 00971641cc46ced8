/* test_stream.c - src/xmpp/stream: the pure parts (features, the stream
 * header, XEP-0198 counters modulo 2^32, the XEP-0078 digest, stream-error
 * conditions), the new params, and the loop against a scripted fake
 * server on loopback (no TLS: STARTTLS stripping refused, stream errors
 * named, legacy auth with digest, pings answered, the deadline). */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xmpp/stream.h"

#include "oom.h"

#define HDR                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "               \
    "xmlns:stream='http://etherx.jabber.org/streams' id='s-1' "                \
    "from='localhost' version='1.0'>"

/* ---- parse one top-level element of a server stream ---- */
static int keep(xmsg_xel *el, void *ud)
{
    xmsg_xel **out = ud;

    xmsg_xel_free(*out);
    *out = el;
    return 0;
}

static xmsg_xel *parse_el(const char *xml)
{
    static const xmsg_xml_handlers h = {NULL, keep, NULL};
    xmsg_xel *el = NULL;
    xmsg_xml_parser *p = xmsg_xml_parser_new(NULL, &h, &el);
    size_t used;

    assert_non_null(p);
    assert_int_equal(xmsg_xml_feed(p, HDR, strlen(HDR), &used), XMSG_OK);
    assert_int_equal(xmsg_xml_feed(p, xml, strlen(xml), &used), XMSG_OK);
    xmsg_xml_parser_free(p);
    assert_non_null(el);
    return el;
}

/* ---- features ---- */
typedef struct feat_row {
    const char *xml;
    xmsg_err rc;
    int starttls, required, has_mechs;
    size_t n_mechs;
    const char *mech0;
    int cb_listed;
    unsigned cb;
    int bind, session, session_opt, sm, iq_auth;
} feat_row;

#define SASL "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
static const feat_row feat_rows[] = {
    {"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
     "<required/></starttls></stream:features>",
     XMSG_OK, 1, 1, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
     "<mechanisms " SASL "><mechanism>SCRAM-SHA-1</mechanism>"
     "<mechanism>PLAIN</mechanism></mechanisms>"
     "<auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>",
     XMSG_OK, 1, 0, 1, 2, "SCRAM-SHA-1", 0, 0, 0, 0, 0, 0, 1},
    {"<stream:features><mechanisms " SASL "/>"
     "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
     "<channel-binding type='tls-exporter'/><channel-binding type='x-y'/>"
     "<channel-binding type='tls-server-end-point'/></sasl-channel-binding>"
     "</stream:features>",
     XMSG_OK, 0, 0, 1, 0, NULL, 1,
     XMSG_CB_TLS_EXPORTER | XMSG_CB_TLS_SERVER_END_POINT, 0, 0, 0, 0, 0},
    {"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
     "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/>"
     "</session><sm xmlns='urn:xmpp:sm:2'/><sm xmlns='urn:xmpp:sm:3'/>"
     "</stream:features>",
     XMSG_OK, 0, 0, 0, 0, NULL, 0, 0, 1, 1, 1, 1, 0},
    {"<stream:features><session "
     "xmlns='urn:ietf:params:xml:ns:xmpp-session'/><sm xmlns='urn:xmpp:sm:2'/>"
     "</stream:features>",
     XMSG_OK, 0, 0, 0, 0, NULL, 0, 0, 0, 1, 0, 0, 0},
    /* a mechanism name with a space, an empty one, one of 65 bytes */
    {"<stream:features><mechanisms " SASL "><mechanism>SCRAM SHA</mechanism>"
     "</mechanisms></stream:features>",
     XMSG_ERR_PROTOCOL, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {"<stream:features><mechanisms " SASL "><mechanism/></mechanisms>"
     "</stream:features>",
     XMSG_ERR_PROTOCOL, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
    {"<stream:features><mechanisms " SASL "><mechanism>"
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "</mechanism></mechanisms></stream:features>",
     XMSG_ERR_PROTOCOL, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0},
};

static void test_features_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(feat_rows); i++) {
        const feat_row *r = &feat_rows[i];
        xmsg_xel *el = parse_el(r->xml);
        xmsg_stream_features f;

        fprintf(stderr, "row %zu\n", i);
        assert_int_equal(xmsg_stream_features_parse(el, &f), r->rc);
        xmsg_xel_free(el);
        if (r->rc) {
            assert_int_equal(f.mechs.n, 0);
            continue;
        }
        assert_int_equal(f.starttls, r->starttls);
        assert_int_equal(f.starttls_required, r->required);
        assert_int_equal(f.has_mechs, r->has_mechs);
        assert_int_equal(f.mechs.n, r->n_mechs);
        if (r->mech0)
            assert_string_equal(f.mechs.v[0], r->mech0);
        assert_int_equal(f.server_cb_listed, r->cb_listed);
        assert_int_equal(f.server_cb, r->cb);
        assert_int_equal(f.bind, r->bind);
        assert_int_equal(f.session, r->session);
        assert_int_equal(f.session_optional, r->session_opt);
        assert_int_equal(f.sm, r->sm);
        assert_int_equal(f.iq_auth, r->iq_auth);
        xmsg_stream_features_clear(&f);
    }
}

static void test_features_too_many_mechanisms(void **state)
{
    xmsg_buf b = {0};
    xmsg_stream_features f;
    xmsg_xel *el;
    int i;

    (void)state;
    assert_int_equal(xmsg_buf_str(&b, "<stream:features><mechanisms " SASL ">"),
                     0);
    for (i = 0; i <= XMSG_STREAM_MECHS_MAX; i++)
        assert_int_equal(xmsg_buf_str(&b, "<mechanism>X</mechanism>"), 0);
    assert_int_equal(xmsg_buf_str(&b, "</mechanisms></stream:features>"), 0);
    el = parse_el(b.d);
    assert_int_equal(xmsg_stream_features_parse(el, &f), XMSG_ERR_PROTOCOL);
    xmsg_xel_free(el);
    xmsg_buf_free(&b);
}

/* ---- the stream header ---- */
static void test_header(void **state)
{
    xmsg_buf b = {0};

    (void)state;
    assert_int_equal(xmsg_stream_header(&b, "example.org", NULL), XMSG_OK);
    assert_string_equal(b.d, "<?xml version='1.0'?><stream:stream "
                             "xmlns='jabber:client' "
                             "xmlns:stream='http://etherx.jabber.org/streams' "
                             "to='example.org' version='1.0' xml:lang='en'>");
    b.len = 0;
    assert_int_equal(xmsg_stream_header(&b, "a'b&c", "u@a'b&c"), XMSG_OK);
    assert_non_null(strstr(b.d, " to='a&apos;b&amp;c' "
                                "from='u@a&apos;b&amp;c' version"));
    b.len = 0;
    b.d[0] = '\0';
    assert_int_equal(xmsg_stream_header(&b, "bad\x01", NULL), XMSG_ERR_INPUT);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.d, "");
    assert_int_equal(xmsg_stream_header(&b, "", NULL), XMSG_ERR_INPUT);
    xmsg_buf_free(&b);
}

/* ---- XEP-0198 counters ---- */
typedef struct sm_row {
    uint32_t last, h, sent, newly;
    int valid;
} sm_row;

static const sm_row sm_rows[] = {
    {0, 0, 0, 0, 1},           {0, 3, 5, 3, 1},
    {0, 5, 5, 5, 1},           {0, 6, 5, 6, 0}, /* more than sent */
    {3, 2, 5, 0xffffffffu, 0},                  /* h going back */
    {0xfffffffeu, 1, 2, 3, 1},                  /* across 2^32 */
    {0xfffffffeu, 2, 2, 4, 1}, {0xfffffffeu, 3, 2, 5, 0},
    {0xffffffffu, 0, 0, 1, 1}, {0xffffffffu, 0xffffffffu, 5, 0, 1},
    {10, 10, 9, 0, 1}, /* sent < last is itself a wrap: 2^32-1 in flight */
};

static void test_sm_counters(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(sm_rows); i++) {
        const sm_row *r = &sm_rows[i];

        fprintf(stderr, "row %zu\n", i);
        assert_int_equal(xmsg_sm_newly_acked(r->last, r->h), r->newly);
        assert_int_equal(xmsg_sm_ack_valid(r->last, r->h, r->sent), r->valid);
    }
}

/* ---- XEP-0078 digest: the example of XEP-0078 section 3.2 ---- */
static void test_legacy_digest(void **state)
{
    char out[41];

    (void)state;
    assert_int_equal(xmsg_legacy_digest("3EE948B0", "Calli0pe", out), 0);
    assert_string_equal(out, "48fc78be9ec8f86d8ce1c39c320c97c21d62334d");
    assert_int_equal(xmsg_legacy_digest(NULL, "x", out), -1);
}

static void test_error_condition(void **state)
{
    xmsg_xel *el = parse_el(
        "<stream:error><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
        "x</text><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        "</stream:error>");

    (void)state;
    assert_string_equal(xmsg_stream_error_condition(el), "conflict");
    xmsg_xel_free(el);
    el = parse_el("<stream:error/>");
    assert_string_equal(xmsg_stream_error_condition(el), "undefined-condition");
    xmsg_xel_free(el);
}

/* ---- params ---- */
static void test_params(void **state)
{
    xmsg_params *p = xmsg_params_new(), *d;
    xmsg_status *st = xmsg_status_new();

    (void)state;
    assert_int_equal(p->sasl_key_cache, 1);
    assert_null(p->sasl_mechanisms);
    assert_int_equal(
        xmsg_params_from_json(
            p, "{\"saslMechanisms\":\"no-plain\",\"saslKeyCache\":false}", st),
        XMSG_OK);
    assert_string_equal(p->sasl_mechanisms, "no-plain");
    assert_int_equal(p->sasl_key_cache, 0);
    d = xmsg_params_dup(p);
    assert_non_null(d);
    assert_string_equal(d->sasl_mechanisms, "no-plain");
    assert_ptr_not_equal(d->sasl_mechanisms, p->sasl_mechanisms);
    assert_int_equal(xmsg_params_from_json(p, "{\"saslKeyCache\":\"yes\"}", st),
                     XMSG_ERR_INPUT);
    xmsg_params_free(d);
    xmsg_params_free(p);
    xmsg_status_free(st);
}

static xmsg_params *params(const char *extra_json)
{
    xmsg_params *p = xmsg_params_new();

    assert_non_null(p);
    assert_int_equal(
        xmsg_params_from_json(p,
                              "{\"jid\":\"alice@localhost\",\"password\":"
                              "\"s3cret-pw\",\"host\":\"127.0.0.1\","
                              "\"saslKeyCache\":false,\"logLevel\":\"debug\"}",
                              NULL),
        XMSG_OK);
    if (extra_json)
        assert_int_equal(xmsg_params_from_json(p, extra_json, NULL), XMSG_OK);
    return p;
}

static void test_new_refuses_bad_restriction(void **state)
{
    xmsg_params *p = params("{\"saslMechanisms\":\"SCRAM-MD5\"}");
    xmsg_status *st = xmsg_status_new();

    (void)state;
    assert_null(xmsg_stream_new(p, st));
    assert_int_equal(xmsg_status_code(st), XMSG_ERR_INPUT);
    assert_non_null(strstr(xmsg_status_text(st), "SCRAM-MD5"));
    xmsg_status_free(st);
    xmsg_params_free(p);
}

/* ---- a scripted fake server on loopback ---- */
typedef struct step {
    const char *expect; /* wait until the client sent this (NULL: at once) */
    const char *reply;  /* then send this (NULL: nothing) */
} step;

typedef struct fake {
    int lfd, cfd;
    char in[65536];
    size_t len, seen;
    const step *steps;
    size_t n, next;
} fake;

static int fake_listen(fake *f)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    f->cfd = -1;
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    fcntl(f->lfd, F_SETFL, O_NONBLOCK);
    return ntohs(a.sin_port);
}

/* Accepts, reads what came, plays the steps that are due. */
static void fake_turn(fake *f)
{
    ssize_t r;

    if (f->cfd < 0) {
        f->cfd = accept(f->lfd, NULL, NULL);
        if (f->cfd < 0)
            return;
        fcntl(f->cfd, F_SETFL, O_NONBLOCK);
    }
    while ((r = read(f->cfd, f->in + f->len, sizeof(f->in) - 1 - f->len)) > 0)
        f->len += (size_t)r;
    f->in[f->len] = '\0';
    while (f->next < f->n) {
        const step *s = &f->steps[f->next];
        char *at = s->expect ? strstr(f->in + f->seen, s->expect) : NULL;

        if (s->expect && !at)
            return;
        if (at)
            f->seen = (size_t)(at - f->in) + strlen(s->expect);
        if (s->reply)
            assert_int_equal(write(f->cfd, s->reply, strlen(s->reply)),
                             (ssize_t)strlen(s->reply));
        f->next++;
    }
}

static void fake_close(fake *f)
{
    if (f->cfd >= 0)
        close(f->cfd);
    close(f->lfd);
}

typedef struct run_result {
    xmsg_err rc;
    int ready;
} run_result;

/* Drives the login and the fake in turns (each at most 20 ms of poll). */
static run_result drive(xmsg_stream *s, fake *f, int turns)
{
    run_result r = {XMSG_OK, 0};

    while (turns-- > 0 && !r.ready && !r.rc) {
        r.rc = xmsg_stream_open_step(s, 20, &r.ready);
        fake_turn(f);
    }
    return r;
}

static xmsg_stream *fake_stream(fake *f, const char *json, xmsg_status *st)
{
    char buf[256];
    xmsg_params *p;
    xmsg_stream *s;

    snprintf(buf, sizeof(buf), "{\"port\":%d%s%s}", fake_listen(f),
             json ? "," : "", json ? json : "");
    p = params(buf);
    s = xmsg_stream_new(p, st);
    xmsg_params_free(p);
    assert_non_null(s);
    xmsg_stream_extend(s, 30000);
    return s;
}

/* fake_stream for the allocation tests: NULL is a result, not a failure
 * (params are made before the count starts). */
static xmsg_stream *fake_stream_oom(fake *f, xmsg_status *st)
{
    char buf[256];
    long at = oom_at;
    xmsg_params *p;
    xmsg_stream *s;

    oom_at = 0;
    snprintf(buf, sizeof(buf),
             "{\"port\":%d,\"mandatoryTLS\":false,"
             "\"enableLegacyAuth\":true}",
             fake_listen(f));
    p = params(buf);
    oom_arm(at);
    s = xmsg_stream_new(p, st);
    if (s)
        xmsg_stream_extend(s, 30000);
    at = oom_at;
    oom_at = 0;
    xmsg_params_free(p);
    oom_at = at;
    return s;
}

static const step strip_steps[] = {
    {"<stream:stream", HDR "<stream:features><mechanisms " SASL
                           "><mechanism>PLAIN</mechanism></mechanisms>"
                           "</stream:features>"},
};

/* A server that offers no STARTTLS while TLS is mandatory: tls, and not a
 * byte of a login is sent. */
static void test_starttls_stripped(void **state)
{
    xmsg_status *st = xmsg_status_new();
    fake f = {0};
    xmsg_stream *s = fake_stream(&f, NULL, st);
    run_result r;

    (void)state;
    f.steps = strip_steps;
    f.n = N_ROWS(strip_steps);
    r = drive(s, &f, 500);
    assert_int_equal(r.rc, XMSG_ERR_TLS);
    assert_non_null(strstr(xmsg_status_text(st), "STARTTLS"));
    fake_turn(&f);
    assert_null(strstr(f.in, "<auth"));
    xmsg_stream_free(s);
    fake_close(&f);
    xmsg_status_free(st);
}

static const step error_steps[] = {
    {"<stream:stream",
     HDR "<stream:error><host-unknown "
         "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
         "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>EVIL &lt;b&gt;</text>"
         "</stream:error>"},
};

static void test_stream_error_named(void **state)
{
    xmsg_status *st = xmsg_status_new();
    fake f = {0};
    xmsg_stream *s = fake_stream(&f, NULL, st);
    run_result r;

    (void)state;
    f.steps = error_steps;
    f.n = N_ROWS(error_steps);
    r = drive(s, &f, 500);
    assert_int_equal(r.rc, XMSG_ERR_PROTOCOL);
    assert_string_equal(xmsg_status_text(st), "stream error: host-unknown");
    xmsg_stream_free(s);
    fake_close(&f);
    xmsg_status_free(st);
}

/* The digest of "s-1" and "s3cret-pw". */
static char digest_expect[64];
static step legacy_steps[] = {
    {"<stream:stream",
     HDR "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/>"
         "</stream:features>"},
    {"<username>alice</username></query></iq>",
     "<iq type='result' id='xmsg-auth1'><query xmlns='jabber:iq:auth'>"
     "<username/><password/><digest/><resource/></query></iq>"},
    {digest_expect, "<iq type='result' id='xmsg-auth2'/>"},
};

static int on_el(xmsg_stream *s, xmsg_xel *el, void *ud)
{
    int *n = ud;

    (void)s;
    assert_true(xmsg_xel_is(el, XMSG_NS_CLIENT, "message"));
    (*n)++;
    xmsg_xel_free(el);
    return 1;
}

static const char server_says[] =
    "<iq type='get' id='p1' from='localhost'><ping xmlns='urn:xmpp:ping'/>"
    "</iq><message from='bob@localhost'><body>hi</body></message>"
    "<message from='bob@localhost'><body>two</body></message>";

static const char server_more[] =
    "<message from='bob@localhost'><body>three</body></message>";

/* XEP-0078 in clear with a digest (allowed: the password never travels),
 * a resource for a bare JID; then a ping from the server is answered and
 * messages reach the handler, one a turn when it asks; the password is in no
 * log line. */
static void test_legacy_digest_login(void **state)
{
    xmsg_status *st = xmsg_status_new();
    fake f = {0};
    xmsg_stream *s =
        fake_stream(&f, "\"mandatoryTLS\":false,\"enableLegacyAuth\":true", st);
    char d[41];
    run_result r;
    int got = 0, i;
    size_t k;

    (void)state;
    assert_int_equal(xmsg_legacy_digest("s-1", "s3cret-pw", d), 0);
    snprintf(digest_expect, sizeof(digest_expect), "<digest>%s</digest>", d);
    f.steps = legacy_steps;
    f.n = N_ROWS(legacy_steps);
    r = drive(s, &f, 500);
    assert_int_equal(r.rc, XMSG_OK);
    assert_true(r.ready);
    assert_true(xmsg_stream_legacy_auth(s));
    assert_non_null(strstr(xmsg_stream_jid(s), "alice@localhost/xmsg-"));
    assert_null(strstr(f.in, "s3cret-pw"));
    xmsg_stream_set_handler(s, on_el, &got);
    k = strlen(server_says);
    assert_int_equal(write(f.cfd, server_says, k), (ssize_t)k);
    for (i = 0; i < 200 && !got; i++)
        assert_int_equal(xmsg_stream_run(s, 20), XMSG_OK);
    /* The handler stopped after the first message; the second, read in
     * the same chunk, comes with the next turn, without new bytes. */
    assert_int_equal(got, 1);
    assert_int_equal(xmsg_stream_run(s, 0), XMSG_OK);
    assert_int_equal(got, 2);
    k = strlen(server_more);
    assert_int_equal(write(f.cfd, server_more, k), (ssize_t)k);
    for (i = 0; i < 200 && got == 2; i++)
        assert_int_equal(xmsg_stream_run(s, 20), XMSG_OK);
    assert_int_equal(got, 3);
    for (i = 0; i < 50 && !strstr(f.in, "id='p1'"); i++) {
        xmsg_stream_run(s, 10);
        fake_turn(&f);
    }
    assert_non_null(strstr(f.in, "<iq type='result' id='p1' to='localhost'/>"));
    for (k = 0; k < xmsg_status_log_count(st); k++)
        assert_null(strstr(xmsg_status_log_line(st, k), "s3cret-pw"));
    xmsg_stream_free(s);
    fake_close(&f);
    xmsg_status_free(st);
}

/* A server that never answers: the deadline, as a value. */
static void test_deadline(void **state)
{
    xmsg_status *st = xmsg_status_new();
    fake f = {0};
    xmsg_stream *s = fake_stream(&f, NULL, st);
    run_result r;

    (void)state;
    xmsg_stream_extend(s, 200);
    r = drive(s, &f, 1000);
    assert_int_equal(r.rc, XMSG_ERR_TIMEOUT);
    assert_true(f.len > 0); /* the header went out; nothing came back */
    xmsg_stream_free(s);
    fake_close(&f);
    xmsg_status_free(st);
}

/* Features under a failing allocator: each failure is XMSG_ERR_INTERNAL
 * and leaves nothing allocated (ASan / valgrind see leaks). */
static void test_oom_features(void **state)
{
    xmsg_xel *el = parse_el(feat_rows[1].xml);
    xmsg_stream_features f;
    xmsg_err rc;
    long at;
    int hit;

    (void)state;
    for (at = 1; at < 1000; at++) {
        oom_arm(at);
        rc = xmsg_stream_features_parse(el, &f);
        hit = oom_disarm();
        if (!hit) {
            assert_int_equal(rc, XMSG_OK);
            assert_int_equal(f.mechs.n, 2);
            xmsg_stream_features_clear(&f);
            break;
        }
        assert_int_equal(rc, XMSG_ERR_INTERNAL);
        assert_int_equal(f.mechs.n, 0);
    }
    assert_true(at > 2 && at < 1000);
    xmsg_xel_free(el);
}

/* The whole XEP-0078 login against the fake server with the at-th
 * allocation failing, for every at: a value each time (internal, or a
 * login that went on because only a log line was lost), never a crash
 * or a leak. */
static void test_oom_login(void **state)
{
    long at;
    int hit = 1;

    (void)state;
    for (at = 1; hit && at < 5000; at++) {
        xmsg_status *st = xmsg_status_new();
        fake f = {0};
        xmsg_stream *s;
        run_result r = {XMSG_OK, 0};
        char d[41];

        assert_int_equal(xmsg_legacy_digest("s-1", "s3cret-pw", d), 0);
        snprintf(digest_expect, sizeof(digest_expect), "<digest>%s</digest>",
                 d);
        f.steps = legacy_steps;
        f.n = N_ROWS(legacy_steps);
        oom_arm(at);
        s = fake_stream_oom(&f, st);
        if (s)
            r = drive(s, &f, 300);
        hit = oom_disarm();
        if (!s)
            assert_int_equal(xmsg_status_code(st), XMSG_ERR_INTERNAL);
        else if (r.rc != XMSG_OK && r.rc != XMSG_ERR_INTERNAL)
            fail_msg("allocation %ld: %d %s", at, r.rc, xmsg_status_text(st));
        else if (r.rc == XMSG_OK && !r.ready)
            fail_msg("allocation %ld: a stall (%zu bytes from the client)", at,
                     f.len);
        xmsg_stream_free(s);
        fake_close(&f);
        xmsg_status_free(st);
    }
    assert_true(at > 50 && at < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_table),
        cmocka_unit_test(test_features_too_many_mechanisms),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_sm_counters),
        cmocka_unit_test(test_legacy_digest),
        cmocka_unit_test(test_error_condition),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_new_refuses_bad_restriction),
        cmocka_unit_test(test_starttls_stripped),
        cmocka_unit_test(test_stream_error_named),
        cmocka_unit_test(test_legacy_digest_login),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_oom_features),
        cmocka_unit_test(test_oom_login),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
