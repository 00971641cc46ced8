/* session.c - opening, driving and closing one XMPP stream. libstrophe does
 * the protocol; xmsg owns the event loop, the deadline and the naming of
 * every failure. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pin.h"
#include "resolve.h"
#include "session.h"

/* libstrophe's certificate and socket callbacks carry no userdata: the
 * session being driven by this thread is found here. */
static _Thread_local xmsg_conn *current;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void delete_id_handlers(xmsg_conn *c);

/* Leaves libstrophe from inside its loop, never to enter it again for this
 * connection (run_once() set the escape). */
static _Noreturn void abandon(xmsg_conn *c)
{
    c->abandoned = 1;
    longjmp(c->escape, 1);
}
static void run_once(xmsg_conn *c, uint64_t now, unsigned max_ms);
static int on_arena_limit(void *userdata);

static void init_strophe(void)
{
    xmpp_initialize();
}

void xmsg_strophe_init(void)
{
    pthread_once(&init_once, init_strophe);
}

/* Texts built from libstrophe's messages get the log's redaction too. */
static void redact_in_place(xmsg_conn *c, char *text, size_t size)
{
    const char *secrets[2] = {c->params->password, c->params->room_password};
    char *clean = xmsg_redact(text, secrets, 2);

    if (clean)
        snprintf(text, size, "%s", clean);
    else
        snprintf(text, size, "(text withheld)");
    free(clean);
}

static void set_failure(xmsg_conn *c, xmsg_err code, const char *fmt,
                        const char *arg)
{
    /* After the deadline, what breaks is the deadline's doing. */
    if (c->fail_code != XMSG_OK || xmsg_watchdog_fired(&c->wd))
        return;
    c->fail_code = code;
    snprintf(c->fail_text, sizeof(c->fail_text), fmt, arg ? arg : "");
    redact_in_place(c, c->fail_text, sizeof(c->fail_text));
}

/* What libstrophe's log lines tell about progress and failures. */
static const struct {
    const char *needle;
    xmsg_err code;
    enum xmsg_stage stage;
    const char *text;
} log_rules[] = {
    {"connection successful", XMSG_OK, XMSG_STAGE_TCP, NULL},
    {"proceeding with TLS", XMSG_OK, XMSG_STAGE_TLS, NULL},
    {"using legacy SSL connection", XMSG_OK, XMSG_STAGE_TLS, NULL},
    {"handle proceedtls called for failure", XMSG_ERR_TLS, 0,
     "the server refused STARTTLS%s"},
    {"TLS is not supported, but set as mandatory", XMSG_ERR_TLS, 0,
     "the server does not offer TLS and mandatoryTLS is set: refusing to "
     "log in over plaintext"},
    {"Couldn't start TLS", XMSG_ERR_TLS, 0, "TLS handshake failed: %s"},
    {"Handshake failed", XMSG_ERR_TLS, 0, "TLS handshake failed: %s"},
    {"Unrecoverable TLS error", XMSG_ERR_TLS, 0, "TLS failed: %s"},
    {"auth failed", XMSG_ERR_AUTH, 0,
     "authentication failed (wrong JID or password?): %s"},
    {"Legacy client authentication failed", XMSG_ERR_AUTH, 0,
     "legacy authentication failed (wrong JID or password?)%s"},
    {"Cannot authenticate", XMSG_ERR_AUTH, 0,
     "no authentication method offered by the server is usable: %s"},
    {"Binding failed", XMSG_ERR_PROTOCOL, 0, "resource binding failed%s"},
    {"Session establishment failed", XMSG_ERR_PROTOCOL, 0,
     "session establishment failed%s"},
    /* Not its text: libstrophe 0.12.2 prints past the end of its buffer. */
    {"parse error", XMSG_ERR_PROTOCOL, 0, "the server sent malformed XML%s"},
};

/* Stream features are the server's, never a peer's text. */
static void note_features(xmsg_conn *c, const char *msg)
{
    const char *tls;

    if (strncmp(msg, "RECV: <features", 15) != 0 &&
        strncmp(msg, "RECV: <stream:features", 22) != 0)
        return;
    tls = strstr(msg, "urn:ietf:params:xml:ns:xmpp-tls");
    c->starttls_required = tls && strstr(tls, "<required/>") != NULL;
    c->sm_offered = strstr(msg, "\"urn:xmpp:sm:3\"") != NULL;
    /* libstrophe 0.12.2 crashes on features without <bind/> after SASL:
     * this stanza must never reach it. Its parser is left behind, and the
     * connection is only released from then on. */
    if (c->authenticated &&
        !strstr(msg, "\"urn:ietf:params:xml:ns:xmpp-bind\"")) {
        set_failure(c, XMSG_ERR_PROTOCOL,
                    "the server offers no resource "
                    "binding after login%s",
                    NULL);
        abandon(c);
    }
}

/* A TLS layer that fails because the connection under it broke (OpenSSL's
 * SSL_ERROR_SYSCALL 5 or SSL_ERROR_ZERO_RETURN 6) is a connection failure;
 * anything else a TLS one (the log rules below). */
static void classify_tls_io(xmsg_conn *c, const char *msg)
{
    int err, tls_err;

    if (sscanf(msg, "Couldn't start TLS! error %d tls_error %d", &err,
               &tls_err) != 2 &&
        sscanf(msg, "Unrecoverable TLS error, %d", &tls_err) != 1)
        return;
    /* OpenSSL 3 reports a peer gone without close_notify as SSL_ERROR_SSL
     * after an "unexpected eof while reading" line. */
    if (tls_err == 5 || tls_err == 6 || (tls_err == 1 && c->tls_eof))
        set_failure(c, XMSG_ERR_CONNECT, "the connection broke under TLS%s",
                    NULL);
}

static void classify(xmsg_conn *c, const char *msg)
{
    size_t i;
    int err;

    if (sscanf(msg, "connection failed, error %d", &err) == 1)
        c->close_error = err;
    if (strstr(msg, "unexpected eof while reading"))
        c->tls_eof = 1;
    /* What is still queued past the element whose write failed never
     * left (libstrophe 0.12.2 does not count the element being written). */
    if (strstr(msg, "Send error occurred") && c->unsent < 0)
        c->unsent = xmpp_conn_send_queue_len(c->conn);
    if (strncmp(msg, "SASL ", 5) == 0 && strstr(msg, " auth successful"))
        c->authenticated = 1;
    classify_tls_io(c, msg);

    for (i = 0; i < sizeof(log_rules) / sizeof(log_rules[0]); i++) {
        if (!strstr(msg, log_rules[i].needle))
            continue;
        if (log_rules[i].code != XMSG_OK && c->fail_code == XMSG_OK) {
            set_failure(c, log_rules[i].code, log_rules[i].text, msg);
            /* libstrophe may go on waiting after it gave up: stop it. */
            xmsg_watchdog_cut(&c->wd);
        } else if (log_rules[i].stage > c->stage && c->stage < XMSG_STAGE_BOUND)
            c->stage = log_rules[i].stage;
        return;
    }
}

/* The first thing received over TLS comes before anything we send over
 * it: the pin is checked there, and a mismatch cuts the connection before
 * a byte of the login leaves. */
static void check_pin(xmsg_conn *c)
{
    xmpp_tlscert_t *cert = xmpp_conn_get_peer_cert(c->conn);
    const char *pem = cert ? xmpp_tlscert_get_pem(cert) : NULL;
    char pin[128];

    c->pin_checked = 1;
    if (!pem || xmsg_pin_of_pem(pem, pin, sizeof(pin)) != 0) {
        set_failure(c, XMSG_ERR_TLS,
                    "cannot read the server's public key "
                    "to check the pin%s",
                    NULL);
        xmsg_watchdog_cut(&c->wd);
    } else if (!xmsg_pins_match(c->params->pin, pin)) {
        set_failure(c, XMSG_ERR_TLS,
                    "the server's public key %s matches "
                    "no pin",
                    pin);
        xmsg_watchdog_cut(&c->wd);
    } else {
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "the server's public key matches "
                      "pin %s",
                      pin);
    }
    if (cert)
        xmpp_tlscert_free(cert);
}

static void on_log(void *userdata, xmpp_log_level_t level, const char *area,
                   const char *msg)
{
    xmsg_conn *c = userdata;

    if (c->params->pin && !c->pin_checked && c->stage == XMSG_STAGE_TLS &&
        strncmp(msg, "RECV:", 5) == 0)
        check_pin(c);
    if (strncmp(msg, "RECV:", 5) == 0) {
        c->rx_mark = xmsg_tcp_bytes_received(c->fd);
        c->last_rx = xmsg_now_ms();
        c->rx_count++;
    }
    /* Data lines carry peer text: never read meaning into them. */
    if (strncmp(msg, "SENT:", 5) != 0 && strncmp(msg, "RECV:", 5) != 0)
        classify(c, msg);
    else if (!c->bound)
        note_features(c, msg);
    xmsg_conn_logv(c, (xmsg_log_level)level, area, msg);
}

static int on_certfail(const xmpp_tlscert_t *cert, const char *const errormsg)
{
    (void)cert;
    if (current)
        set_failure(current, XMSG_ERR_TLS, "server certificate not trusted: %s",
                    errormsg);
    return 0;
}

static void set_keepalive(xmsg_conn *c, int fd)
{
    int on = 1, idle = (int)c->params->keepalive_timeout;
    int intvl = (int)c->params->keepalive_interval;
    socklen_t len = sizeof(idle);

    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl))) {
        xmsg_conn_log(c, XMSG_LOG_WARN, "socket: cannot set TCP keepalive: %s",
                      strerror(errno));
        return;
    }
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len);
    len = sizeof(intvl);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &len);
    xmsg_conn_log(c, XMSG_LOG_INFO,
                  "socket: TCP keepalive on (idle %d s, interval %d s)", idle,
                  intvl);
}

static int on_sockopt(xmpp_conn_t *conn, void *sock)
{
    int fd = *(int *)sock, on = 1;

    (void)conn;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (!current)
        return 0;
    current->fd = fd;
    current->rx_mark = 0;
    xmsg_watchdog_watch(&current->wd, fd);
    if (current->params->keepalive)
        set_keepalive(current, fd);
    return 0;
}

static const char *const stream_conditions[] = {"bad-format",
                                                "bad-namespace-prefix",
                                                "conflict",
                                                "connection-timeout",
                                                "host-gone",
                                                "host-unknown",
                                                "improper-addressing",
                                                "internal-server-error",
                                                "invalid-from",
                                                "invalid-id",
                                                "invalid-namespace",
                                                "invalid-xml",
                                                "not-authorized",
                                                "policy-violation",
                                                "remote-connection-failed",
                                                "resource-constraint",
                                                "restricted-xml",
                                                "see-other-host",
                                                "system-shutdown",
                                                "undefined-condition",
                                                "unsupported-encoding",
                                                "unsupported-stanza-type",
                                                "unsupported-version",
                                                "xml-not-well-formed"};

static void on_stream_error(xmsg_conn *c, const xmpp_stream_error_t *se)
{
    const char *cond = "undefined-condition";
    char buf[256];

    if ((size_t)se->type < sizeof(stream_conditions) / sizeof(char *))
        cond = stream_conditions[se->type];
    snprintf(buf, sizeof(buf), "%s%s%s", cond, se->text ? ": " : "",
             se->text ? se->text : "");
    set_failure(c,
                se->type == XMPP_SE_NOT_AUTHORIZED ? XMSG_ERR_AUTH
                                                   : XMSG_ERR_PROTOCOL,
                "server stream error: %s", buf);
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                    xmpp_stream_error_t *stream_error, void *userdata)
{
    xmsg_conn *c = userdata;

    (void)conn;
    if (event == XMPP_CONN_CONNECT) {
        c->stage = XMSG_STAGE_BOUND;
        c->bound = 1;
        c->arena.zero_new = 0; /* the secrets were born before */
        xmsg_conn_log(c, XMSG_LOG_INFO, "logged in as %s",
                      xmpp_conn_get_bound_jid(conn));
        return;
    }
    if (event == XMPP_CONN_RAW_CONNECT)
        return;
    if (stream_error)
        on_stream_error(c, stream_error);
    c->closed = 1;
    if (error)
        c->close_error = error;
}

static long conn_flags(const xmsg_params *p)
{
    long f = XMPP_CONN_FLAG_DISABLE_SM;

    if (p->disable_tls)
        f |= XMPP_CONN_FLAG_DISABLE_TLS;
    else if (p->mandatory_tls || p->pin) /* a pin needs TLS */
        f |= XMPP_CONN_FLAG_MANDATORY_TLS;
    if (p->legacy_tls)
        f |= XMPP_CONN_FLAG_LEGACY_SSL;
    if (p->trust_tls)
        f |= XMPP_CONN_FLAG_TRUST_TLS;
    if (p->legacy_auth)
        f |= XMPP_CONN_FLAG_LEGACY_AUTH;
    return f;
}

static xmsg_err check_ca_file(xmsg_conn *c)
{
    const char *f = c->params->ca_file;

    if (f && access(f, R_OK) != 0)
        return xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                                "params.caFile: cannot read %s: %s", f,
                                strerror(errno));
    return XMSG_OK;
}

/* Legacy auth (XEP-0078) cannot log in without a resource: give a bare
 * JID one. Returns 0 or -1. */
static int set_jid(xmsg_conn *c)
{
    const char *jid = c->params->jid;
    char *uuid, *full;
    size_t n;
    int rc;

    if (!c->params->legacy_auth || strchr(jid, '/')) {
        xmpp_conn_set_jid(c->conn, jid);
        return 0;
    }
    uuid = xmpp_uuid_gen(c->ctx);
    n = strlen(jid) + 16;
    full = uuid ? malloc(n) : NULL;
    if (full) {
        snprintf(full, n, "%s/xmsg-%.8s", jid, uuid);
        xmpp_conn_set_jid(c->conn, full);
    }
    rc = full ? 0 : -1;
    if (uuid)
        xmpp_free(c->ctx, uuid);
    free(full);
    return rc;
}

static xmsg_err setup(xmsg_conn *c)
{
    const xmsg_params *p = c->params;

    c->log.handler = on_log;
    c->log.userdata = c;
    xmsg_arena_init(&c->arena);
    c->arena.on_limit = on_arena_limit;
    c->arena.limit_userdata = c;
    c->arena.deadline = c->deadline;
    c->ctx = xmpp_ctx_new(&c->arena.mem, &c->log);
    c->conn = c->ctx ? xmpp_conn_new(c->ctx) : NULL;
    c->domain = xmpp_jid_domain(c->ctx, p->jid);
    if (!c->conn || !c->domain)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    /* The whole flag word, once: 0.12.2 loses bits on read-modify-write. */
    xmpp_conn_set_flags(c->conn, conn_flags(p));
    if (set_jid(c))
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    xmpp_conn_set_pass(c->conn, p->password);
    if (p->ca_file)
        xmpp_conn_set_cafile(c->conn, p->ca_file);
    xmpp_conn_set_certfail_handler(c->conn, on_certfail);
    xmpp_conn_set_sockopt_callback(c->conn, on_sockopt);
    if (p->trust_tls && !p->disable_tls)
        xmsg_conn_log(c, XMSG_LOG_WARN,
                      "TLS certificate verification is "
                      "off (trustTLS): the server is not "
                      "authenticated");
    return XMSG_OK;
}

/* The arena's limit: libstrophe holds too much of what the server sent
 * (an element nested or attributed past reason). Inside libstrophe's loop
 * this leaves it at once, as run_once() explains. */
static int on_arena_limit(void *userdata)
{
    xmsg_conn *c = userdata;

    if (!c->in_run)
        return 0;
    /* Past the deadline, the timeout is the failure (xmsg_conn_fail). */
    if (xmsg_now_ms() < c->deadline)
        set_failure(c, XMSG_ERR_PROTOCOL,
                    "the server sent more than a "
                    "client holds at once (elements, attributes or text)%s",
                    NULL);
    abandon(c);
}

/* libstrophe keeps a stanza in memory until its end tag: one that grows
 * past XMSG_STANZA_MAX ends the connection. */
static void check_size(xmsg_conn *c)
{
    uint64_t rx = xmsg_tcp_bytes_received(c->fd);

    if (c->closed || rx < c->rx_mark || rx - c->rx_mark <= XMSG_STANZA_MAX)
        return;
    set_failure(c, XMSG_ERR_PROTOCOL,
                "the server sent an element larger "
                "than %s: refused",
                "2 MiB");
    xmsg_watchdog_cut(&c->wd);
    c->abandoned = 1;
    c->closed = 1;
}

/* One turn of libstrophe's loop, at most max_ms and never past the
 * deadline. A stanza that would crash libstrophe makes the log handler jump
 * back here: the connection is then abandoned (closed, only released). */
/* One xmpp_run_once(), its escape armed; 1 when it read something. */
static int turn(xmsg_conn *c, unsigned long wait)
{
    const unsigned long before = c->rx_count;

    c->in_run = 1;
    if (setjmp(c->escape) == 0)
        xmpp_run_once(c->ctx, wait);
    else
        c->closed = 1;
    c->in_run = 0;
    return c->rx_count != before;
}

static void run_once(xmsg_conn *c, uint64_t now, unsigned max_ms)
{
    const uint64_t left = c->deadline > now ? c->deadline - now : 0;
    const unsigned long wait = left < max_ms ? (unsigned long)left : max_ms;
    int on = 1;

    if (c->abandoned) {
        c->closed = 1;
        return;
    }
    /* ACK what arrives at once: a server whose small writes wait for our
     * ACK (Nagle) would otherwise stall ~40 ms on each round trip. */
    if (c->fd >= 0)
        setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
    /* libstrophe 0.12.2 waits on the socket before it looks at what
     * OpenSSL already decrypted: a turn without waiting first takes that,
     * and the wait happens only when it found nothing. */
    if (!turn(c, 0) && !c->closed && !c->abandoned && wait)
        turn(c, wait);
    if (xmpp_conn_is_disconnected(c->conn))
        c->closed = 1;
    check_size(c);
}

/* Runs the loop until the TCP connection is up, the attempt failed, or
 * the deadline passed. */
static void wait_tcp(xmsg_conn *c)
{
    uint64_t now;

    while (c->stage == XMSG_STAGE_NONE && !c->closed &&
           (now = xmsg_now_ms()) < c->deadline)
        run_once(c, now, 100);
}

/* Resolves host under the deadline and tries its addresses in turn until
 * one takes the TCP connection (an unreachable IPv6 address must not hide
 * a reachable IPv4 one). */
static xmsg_err connect_any(xmsg_conn *c, const char *host)
{
    const unsigned short port = (unsigned short)c->params->port;
    xmsg_addrs a;
    char err[128];
    int i;

    switch (xmsg_resolve(host, c->deadline, &a, err, sizeof(err))) {
    case XMSG_RESOLVE_LATE:
        return xmsg_status_fail(c->st, XMSG_ERR_TIMEOUT,
                                "timed out after "
                                "%ld s while resolving %s",
                                c->params->timeout, host);
    case XMSG_RESOLVE_FAILED:
        return xmsg_status_fail(c->st, XMSG_ERR_CONNECT,
                                "cannot resolve "
                                "%s: %s",
                                host, err);
    case XMSG_RESOLVED:
        break;
    }
    for (i = 0; i < a.n; i++) {
        c->closed = 0;
        c->close_error = 0;
        xmsg_conn_log(c, XMSG_LOG_DEBUG, "trying %s port %u", a.addr[i], port);
        if (xmpp_connect_client(c->conn, a.addr[i], port, on_conn, c) !=
            XMPP_EOK)
            continue;
        wait_tcp(c);
        if (c->stage != XMSG_STAGE_NONE || !c->closed || i + 1 == a.n)
            break;
        xmsg_conn_log(c, XMSG_LOG_INFO, "cannot connect to %s: %s", a.addr[i],
                      c->close_error ? strerror(c->close_error) : "failed");
    }
    return xmsg_conn_wait(c, &c->bound);
}

xmsg_err xmsg_conn_open(xmsg_conn *c, const xmsg_params *p, xmsg_status *st)
{
    const char *host;
    xmsg_err rc;

    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->unsent = -1;
    c->params = p;
    c->st = st;
    c->deadline = xmsg_now_ms() + (uint64_t)p->timeout * 1000u;
    xmsg_strophe_init();
    current = c;
    c->entered = 1;
    xmsg_sigpipe_block(&c->sigpipe);
    if (xmsg_watchdog_start(&c->wd, c->deadline)) {
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                              "cannot start the "
                              "deadline watchdog thread");
        goto fail;
    }
    rc = check_ca_file(c);
    if (!rc)
        rc = setup(c);
    if (rc)
        goto fail;
    host = p->host ? p->host : c->domain;
    xmsg_conn_log(c, XMSG_LOG_INFO, "connecting to %s port %ld as %s", host,
                  p->port, p->jid);
    rc = connect_any(c, host);
    if (rc)
        goto fail;
    rc = xmsg_conn_wait(c, &c->bound);
    if (rc)
        goto fail;
    return XMSG_OK;
fail:
    xmsg_conn_close(c);
    return rc;
}

static const char *stage_doing(enum xmsg_stage s)
{
    static const char *const doing[] = {
        "connecting", "opening the stream",    "setting up TLS",
        "logging in", "talking to the server", "closing the stream"};

    return doing[s];
}

xmsg_err xmsg_conn_fail(xmsg_conn *c, const char *doing)
{
    const xmsg_params *p = c->params;
    const char *host = p->host ? p->host : c->domain;

    if (!doing)
        doing = stage_doing(c->stage);
    if (p->disable_tls && c->starttls_required && !c->bound)
        return xmsg_status_fail(c->st, XMSG_ERR_TLS,
                                "the server requires TLS and disableTLS is "
                                "set");
    /* A failure seen before the deadline is the cause, not the wait. */
    if (c->fail_code != XMSG_OK)
        return xmsg_status_fail(c->st, c->fail_code, "%s", c->fail_text);
    if (xmsg_watchdog_fired(&c->wd) || xmsg_now_ms() >= c->deadline)
        return xmsg_status_fail(c->st, XMSG_ERR_TIMEOUT,
                                "timed out after %ld s while %s", p->timeout,
                                doing);
    if (c->stage == XMSG_STAGE_NONE)
        return xmsg_status_fail(
            c->st, XMSG_ERR_CONNECT, "cannot connect to %s port %ld: %s", host,
            p->port,
            c->close_error ? strerror(c->close_error) : "connection failed");
    if (c->stage == XMSG_STAGE_TLS && !c->bound &&
        !xmpp_conn_is_secured(c->conn))
        return xmsg_status_fail(c->st, XMSG_ERR_TLS,
                                "TLS handshake with %s port %ld failed", host,
                                p->port);
    return xmsg_status_fail(c->st, XMSG_ERR_CONNECT,
                            "the server closed the connection while %s%s%s",
                            doing, c->close_error ? ": " : "",
                            c->close_error ? strerror(c->close_error) : "");
}

xmsg_err xmsg_conn_wait(xmsg_conn *c, const int *flag)
{
    uint64_t now;

    while (!*flag) {
        if (c->closed)
            return xmsg_conn_fail(c, NULL);
        now = xmsg_now_ms();
        if (now >= c->deadline)
            return xmsg_conn_fail(c, NULL);
        run_once(c, now, 100);
    }
    return XMSG_OK;
}

void xmsg_conn_close(xmsg_conn *c)
{
    uint64_t now;

    if (!c->entered && c->params) {
        xmsg_conn_extend(c); /* not the last call's deadline, long passed */
        xmsg_conn_enter(c);
    }
    /* Our closing tag is written; the server's is not awaited: everything
     * xmsg needed from the stream was confirmed before (and ejabberd takes
     * ~100 ms to answer it, most of a one-shot send). */
    if (c->conn && c->bound && !c->closed) {
        c->stage = XMSG_STAGE_CLOSING;
        xmpp_disconnect(c->conn);
        do
            run_once(c, xmsg_now_ms(), 10);
        while (!c->closed && xmpp_conn_send_queue_len(c->conn) > 0 &&
               (now = xmsg_now_ms()) < c->deadline);
        /* libstrophe's TLS shutdown then waits up to 100 ms for the
         * server's close_notify: ours still goes out, its wait ends. */
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RD);
    }
    xmsg_watchdog_stop(&c->wd);
    delete_id_handlers(c);
    if (c->domain)
        xmpp_free(c->ctx, c->domain);
    if (c->conn)
        xmpp_conn_release(c->conn);
    if (c->ctx)
        xmpp_ctx_free(c->ctx);
    if (xmsg_arena_release(&c->arena))
        xmsg_conn_log(c, XMSG_LOG_DEBUG, "freed what libstrophe left behind");
    c->domain = NULL;
    c->conn = NULL;
    c->ctx = NULL;
    if (current == c)
        current = NULL;
    if (c->entered)
        xmsg_sigpipe_restore(&c->sigpipe);
    c->entered = 0;
}

void xmsg_conn_enter(xmsg_conn *c)
{
    /* A released connection (lost, reconnecting) has nothing to guard. */
    if (c->entered || !c->conn)
        return;
    c->entered = 1;
    current = c;
    xmsg_sigpipe_block(&c->sigpipe);
    xmsg_watchdog_set_deadline(&c->wd, c->deadline);
}

void xmsg_conn_leave(xmsg_conn *c)
{
    if (!c->entered)
        return;
    xmsg_watchdog_set_deadline(&c->wd, UINT64_MAX);
    xmsg_sigpipe_restore(&c->sigpipe);
    if (current == c)
        current = NULL;
    c->entered = 0;
}

void xmsg_conn_set_deadline(xmsg_conn *c, uint64_t ms)
{
    c->deadline = ms;
    c->arena.deadline = ms;
    if (c->entered)
        xmsg_watchdog_set_deadline(&c->wd, ms);
}

uint64_t xmsg_conn_pause(xmsg_conn *c)
{
    if (c->entered)
        xmsg_watchdog_set_deadline(&c->wd, UINT64_MAX);
    return xmsg_now_ms();
}

void xmsg_conn_resume(xmsg_conn *c, uint64_t paused_at)
{
    const uint64_t now = xmsg_now_ms();
    const uint64_t spent = now > paused_at ? now - paused_at : 0;

    xmsg_conn_set_deadline(
        c, c->deadline < UINT64_MAX - spent ? c->deadline + spent : UINT64_MAX);
}

void xmsg_conn_extend(xmsg_conn *c)
{
    xmsg_conn_set_deadline(c, xmsg_now_ms() +
                                  (uint64_t)c->params->timeout * 1000u);
}

int xmsg_conn_owns_id(const xmsg_conn *c, const char *id)
{
    size_t i;

    for (i = 0; i < c->handler_ids.n; i++) {
        if (strcmp(c->handler_ids.v[i], id) == 0)
            return 1;
    }
    return 0;
}

void xmsg_conn_run(xmsg_conn *c, unsigned max_ms)
{
    uint64_t now = xmsg_now_ms();

    if (c->closed)
        return;
    if (now >= c->deadline) {
        c->closed = 1;
        return;
    }
    run_once(c, now, max_ms);
}

void xmsg_conn_send(xmsg_conn *c, xmpp_stanza_t *stanza)
{
    xmpp_send(c->conn, stanza);
    c->out++;
    c->queued++;
}

void xmsg_conn_send_text(xmsg_conn *c, const xmsg_buf *b, unsigned long n)
{
    xmpp_send_raw(c->conn, b->d, b->len);
    c->out += n;
    c->queued++;
}

void xmsg_conn_send_nonza(xmsg_conn *c, const char *xml)
{
    xmpp_send_raw(c->conn, xml, strlen(xml));
    c->queued++;
}

void xmsg_conn_abort(xmsg_conn *c, xmsg_err code, const char *text)
{
    set_failure(c, code, "%s", text);
    xmsg_watchdog_cut(&c->wd);
    c->closed = 1;
    /* Inside a handler libstrophe still holds the stanza: only release
     * the connection from now on. */
    c->abandoned = 1;
}

int xmsg_conn_id_handler_add(xmsg_conn *c, xmpp_handler fn, const char *id,
                             void *userdata)
{
    xmpp_handler *nf;

    if (c->handler_ids.n == c->handler_ids.cap || !c->handler_fns) {
        nf = realloc(c->handler_fns,
                     (c->handler_ids.cap ? c->handler_ids.cap * 2 : 8) *
                         sizeof(*nf));
        if (!nf)
            return -1;
        c->handler_fns = nf;
    }
    if (xmsg_strvec_push(&c->handler_ids, id))
        return -1;
    c->handler_fns[c->handler_ids.n - 1] = fn;
    xmpp_id_handler_add(c->conn, fn, id, userdata);
    return 0;
}

static void delete_id_handlers(xmsg_conn *c)
{
    size_t i;

    for (i = 0; c->conn && i < c->handler_ids.n; i++)
        xmpp_id_handler_delete(c->conn, c->handler_fns[i], c->handler_ids.v[i]);
    xmsg_strvec_clear(&c->handler_ids);
    free(c->handler_fns);
    c->handler_fns = NULL;
}

/* Ids unique for the session's life and beyond it: 64 random bits drawn
 * once per session (libstrophe's generator, one getrandom), then a count,
 * shaped as a UUID. A UUID per stanza cost a system call each in a
 * batch. */
char *xmsg_conn_new_id(xmsg_conn *c)
{
    char hex[33], buf[40], *u;
    size_t i, n = 0;

    if (!c->id_prefix[0]) {
        u = xmpp_uuid_gen(c->ctx);
        if (!u)
            return NULL;
        /* The UUID's hex digits, dashes left out: 16 of them. */
        for (i = 0; u[i] && n < 16; i++) {
            if (u[i] != '-')
                c->id_prefix[n++] = u[i];
        }
        c->id_prefix[n] = '\0';
        xmpp_free(c->ctx, u);
    }
    /* 16 random hex digits and a 16-digit count, shaped as a UUID. */
    snprintf(hex, sizeof(hex), "%s%016lx", c->id_prefix, ++c->id_count);
    snprintf(buf, sizeof(buf), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
    return xmsg_strdup(buf);
}

int xmsg_conn_give_id(xmsg_conn *c, xmsg_message *m)
{
    char *id;
    int rc;

    if (xmsg_message_get(m, "id"))
        return 0;
    id = xmsg_conn_new_id(c);
    rc = !id || xmsg_message_put(m, "id", id);
    free(id);
    return rc ? -1 : 0;
}

static int on_ping_answer(xmpp_conn_t *conn, xmpp_stanza_t *stanza,
                          void *userdata)
{
    (void)conn;
    (void)stanza;
    *(int *)userdata = 1;
    return 0;
}

int xmsg_conn_ping_id(xmsg_conn *c, const char *id, xmpp_handler fn,
                      void *userdata)
{
    xmpp_stanza_t *iq, *ping = NULL;
    int rc = -1;

    iq = xmpp_iq_new(c->ctx, "get", id);
    ping = iq ? xmpp_stanza_new(c->ctx) : NULL;
    if (!ping || xmpp_stanza_set_name(ping, "ping") ||
        xmpp_stanza_set_ns(ping, "urn:xmpp:ping") ||
        xmpp_stanza_set_to(iq, c->domain) || xmpp_stanza_add_child(iq, ping))
        goto out;
    if (xmsg_conn_id_handler_add(c, fn, id, userdata))
        goto out;
    xmsg_conn_send(c, iq);
    rc = 0;
out:
    if (ping)
        xmpp_stanza_release(ping);
    if (iq)
        xmpp_stanza_release(iq);
    return rc;
}

xmsg_err xmsg_conn_ping(xmsg_conn *c, int *answered)
{
    char *id = xmsg_conn_new_id(c);
    int rc = id ? xmsg_conn_ping_id(c, id, on_ping_answer, answered) : -1;

    free(id);
    if (rc)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    return XMSG_OK;
}
