/* stream.c - the stream object, its transport (plain fd or TLS), the one
 * poll loop and the deadline, logging, sending, and the element dispatch
 * after the login. The login's steps are in login.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xmpp/streamint.h"

/* ---- logging: level filter, redaction, one place ---- */

void xmsg_stream_logs(xmsg_stream *s, xmsg_log_level lvl, const char *area,
                      const char *msg)
{
    const char *secrets[2];
    char *clean, *line;
    size_t n;

    if (lvl < s->p->log_level || !s->st)
        return;
    secrets[0] = s->p->password;
    secrets[1] = s->p->room_password;
    clean = xmsg_redact(msg, secrets, 2);
    if (!clean)
        return;
    xmsg_utf8_sanitize(clean);
    n = strlen(clean);
    if (n > XMSG_LOG_LINE_MAX - 64) {
        size_t cut = XMSG_LOG_LINE_MAX - 96;

        while (cut > 0 && ((unsigned char)clean[cut] & 0xC0) == 0x80)
            cut--; /* on a character boundary */
        snprintf(clean + cut, 64, " ... (%zu bytes)", n);
    }
    n = strlen(clean) + strlen(area) + 16;
    line = malloc(n);
    if (line) {
        snprintf(line, n, "%s %s: %s", xmsg_log_level_name(lvl), area, clean);
        xmsg_status_log_owned(s->st, line);
    }
    free(clean);
}

void xmsg_stream_logf(xmsg_stream *s, xmsg_log_level lvl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (lvl < s->p->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xmsg_stream_logs(s, lvl, "xmpp", buf);
}

static void sasl_log(xmsg_log_level lvl, const char *line, void *userdata)
{
    xmsg_stream_logs(userdata, lvl, "sasl", line);
}

/* Records the failure (first wins) and stops the stream. */
xmsg_err xmsg_stream_fail(xmsg_stream *s, xmsg_err code, const char *fmt, ...)
{
    char buf[XMSG_ERRTEXT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (!s->err) {
        s->err = code;
        xmsg_status_fail(s->st, code, "%s", buf);
        xmsg_stream_logs(s, XMSG_LOG_ERROR, "xmpp", buf);
    }
    if (s->phase != PH_FAILED)
        s->fail_phase = s->phase;
    s->phase = PH_FAILED;
    return s->err;
}

static xmsg_err fail_net(xmsg_stream *s, const xmsg_net_err *e)
{
    return xmsg_stream_fail(s, e && e->code ? e->code : XMSG_ERR_CONNECT, "%s",
                            e && e->text[0] ? e->text : "connection failed");
}

/* ---- creation ---- */

static char *key_dir(void)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    xmsg_buf b = {0};

    if (xdg && xdg[0] == '/') {
        if (xmsg_buf_str(&b, xdg) || xmsg_buf_str(&b, "/xmsg/keys"))
            goto fail;
    } else if (home && home[0] == '/') {
        if (xmsg_buf_str(&b, home) ||
            xmsg_buf_str(&b, "/.local/state/xmsg/keys"))
            goto fail;
    } else
        return NULL;
    return b.d;
fail:
    xmsg_buf_free(&b);
    return NULL;
}

static xmsg_err split_jid(xmsg_stream *s)
{
    const char *jid = s->p->jid, *at, *slash;

    if (!jid || !xmsg_jid_valid(jid))
        return xmsg_status_fail(s->st, XMSG_ERR_INPUT, "params.jid: invalid");
    slash = strchr(jid, '/');
    at = strchr(jid, '@');
    if (at && slash && at > slash)
        at = NULL;
    s->bare = xmsg_jid_bare(jid);
    s->local = at ? xmsg_strndup(jid, (size_t)(at - jid)) : xmsg_strdup("");
    s->domain =
        at ? xmsg_strndup(
                 at + 1,
                 (size_t)((slash ? slash : at + 1 + strlen(at + 1)) - (at + 1)))
           : xmsg_strndup(jid, slash ? (size_t)(slash - jid) : strlen(jid));
    s->resource = slash ? xmsg_strdup(slash + 1) : NULL;
    if (!s->bare || !s->local || !s->domain || (slash && !s->resource))
        return xmsg_status_fail(s->st, XMSG_ERR_INTERNAL, "out of memory");
    return XMSG_OK;
}

static int on_open(const xmsg_xel *root, const char *default_ns, void *ud)
{
    xmsg_stream *s = ud;
    const char *id = xmsg_xel_attr(root, "id");

    (void)default_ns;
    free(s->stream_id);
    s->stream_id = id ? xmsg_strdup(id) : NULL;
    if (id && !s->stream_id) {
        xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
        return 1;
    }
    xmsg_stream_logf(s, XMSG_LOG_DEBUG, "RECV: stream header (id %s)",
                     id ? "set" : "none");
    return 0;
}

static int on_element(xmsg_xel *el, void *ud)
{
    xmsg_stream *s = ud;

    xmsg_stream_dispatch(s, el);
    return s->pause != PAUSE_NONE || s->phase == PH_FAILED || s->stop_run;
}

static int on_close(void *ud)
{
    xmsg_stream *s = ud;

    xmsg_stream_fail(s, XMSG_ERR_CONNECT, "the server closed the stream");
    return 1;
}

xmsg_stream *xmsg_stream_new(const xmsg_params *p, xmsg_status *st)
{
    static const xmsg_xml_handlers h = {on_open, on_element, on_close};
    xmsg_stream *s = calloc(1, sizeof(*s));
    char *dir = NULL;

    if (!s || !p) {
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        free(s);
        return NULL;
    }
    s->st = st;
    s->fd = -1;
    s->p = xmsg_params_dup(p);
    if (!s->p)
        goto fail;
    s->sasl_log.fn = sasl_log;
    s->sasl_log.userdata = s;
    if (split_jid(s))
        goto fail_quiet;
    if (xmsg_sasl_policy_parse(s->p->sasl_mechanisms, &s->allowed, st))
        goto fail_quiet;
    s->parser = xmsg_xml_parser_new(NULL, &h, s);
    if (!s->parser)
        goto fail;
    dir = key_dir();
    if (dir)
        s->kc = xmsg_keycache_new(dir, s->p->sasl_key_cache, &s->sasl_log);
    free(dir);
    return s;
fail:
    xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
fail_quiet:
    xmsg_stream_free(s);
    return NULL;
}

/* Drops the connection (socket, TLS, machines), keeps the SM state. */
void xmsg_stream_drop(xmsg_stream *s)
{
    xmsg_tls_free(s->tls);
    s->tls = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    xmsg_resolver_free(s->res);
    s->res = NULL;
    xmsg_connector_free(s->con);
    s->con = NULL;
    /* What was never written is gone with the connection. */
    s->tx_written = s->tx_queued;
    xmsg_buf_free(&s->out);
    s->out_off = 0;
    xmsg_buf_free(&s->rx_pending);
    xmsg_scram_free(s->scram);
    s->scram = NULL;
    xmsg_stream_features_clear(&s->fe);
}

void xmsg_stream_free(xmsg_stream *s)
{
    if (!s)
        return;
    xmsg_stream_close(s);
    xmsg_stream_drop(s);
    xmsg_xml_parser_free(s->parser);
    xmsg_keycache_free(s->kc);
    xmsg_strvec_clear(&s->unacked);
    free(s->stream_id);
    free(s->bound);
    free(s->sm_id);
    free(s->sm_location);
    free(s->bare);
    free(s->local);
    free(s->domain);
    free(s->resource);
    xmsg_params_free(s->p);
    free(s);
}

void xmsg_stream_set_handler(xmsg_stream *s, xmsg_stream_handler fn,
                             void *userdata)
{
    s->handler = fn;
    s->handler_ud = userdata;
}

void xmsg_stream_set_deadline(xmsg_stream *s, uint64_t deadline_ms)
{
    s->deadline = deadline_ms;
}

void xmsg_stream_extend(xmsg_stream *s, uint64_t ms)
{
    s->deadline = xmsg_now_ms() + ms;
}

uint64_t xmsg_stream_deadline(const xmsg_stream *s)
{
    return s->deadline;
}

/* ---- writing ---- */

xmsg_err xmsg_stream_queue(xmsg_stream *s, const char *xml, size_t len)
{
    if (s->p->log_level == XMSG_LOG_DEBUG) {
        char *copy = xmsg_strndup(xml, len);

        if (copy) {
            char *line = malloc(len + 8);

            if (line) {
                snprintf(line, len + 8, "SENT: %s", copy);
                xmsg_stream_logs(s, XMSG_LOG_DEBUG, "xmpp", line);
                free(line);
            }
            free(copy);
        }
    }
    if (xmsg_buf_put(&s->out, xml, len))
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    s->tx_queued += len;
    return XMSG_OK;
}

xmsg_err xmsg_stream_queue_el(xmsg_stream *s, const xmsg_xel *el)
{
    xmsg_buf b = {0};
    xmsg_err rc = xmsg_xel_write(el, XMSG_NS_CLIENT, &b);

    if (rc)
        rc = xmsg_stream_fail(s, rc, "could not serialise an element");
    else
        rc = xmsg_stream_queue(s, b.d, b.len);
    xmsg_buf_free(&b);
    return rc;
}

/* Moves queued bytes to the socket until it would block. */
static xmsg_err flush(xmsg_stream *s)
{
    while (s->out_off < s->out.len) {
        const char *d = s->out.d + s->out_off;
        size_t n = s->out.len - s->out_off, done = 0;

        if (s->tls) {
            xmsg_net_rc rc = xmsg_tls_write(s->tls, d, n, &done);

            if (rc == XMSG_NET_FAIL)
                return fail_net(s, xmsg_tls_err(s->tls));
            if (rc == XMSG_NET_AGAIN && done == 0)
                return XMSG_OK;
        } else {
            ssize_t w = send(s->fd, d, n, MSG_NOSIGNAL);

            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return XMSG_OK;
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return xmsg_stream_fail(s, XMSG_ERR_CONNECT,
                                        "connection lost while writing: %s",
                                        strerror(errno));
            done = (size_t)w;
        }
        s->out_off += done;
        s->tx_written += done;
    }
    s->out.len = s->out_off = 0;
    if (s->out.d)
        s->out.d[0] = '\0';
    return XMSG_OK;
}

/* ---- reading and parsing ---- */

static xmsg_err feed(xmsg_stream *s, const char *d, size_t n)
{
    size_t off = 0, used;

    while (off < n && s->phase != PH_FAILED) {
        xmsg_err rc = xmsg_xml_feed(s->parser, d + off, n - off, &used);

        if (rc)
            return xmsg_stream_fail(s, rc, "%s",
                                    xmsg_xml_parser_error(s->parser));
        off += used;
        if (s->pause == PAUSE_TLS) {
            s->pause = PAUSE_NONE;
            if (off < n)
                return xmsg_stream_fail(s, XMSG_ERR_TLS,
                                        "the server sent cleartext after "
                                        "<proceed/>: refused");
            return xmsg_stream_start_tls(s);
        }
        if (s->pause == PAUSE_RESTART) {
            s->pause = PAUSE_NONE;
            if (xmsg_stream_restart(s))
                return s->err;
        }
        if (s->stop_run)
            break;
    }
    if (off < n && s->phase != PH_FAILED &&
        xmsg_buf_put(&s->rx_pending, d + off, n - off))
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    return s->err;
}

/* Feeds what a stopping handler left unparsed, before any new read. */
static xmsg_err feed_pending(xmsg_stream *s)
{
    xmsg_buf rest = s->rx_pending;
    xmsg_err rc;

    memset(&s->rx_pending, 0, sizeof(s->rx_pending));
    rc = feed(s, rest.d, rest.len);
    xmsg_buf_free(&rest);
    return rc;
}

/* Reads what is there (TLS: what OpenSSL holds too) and feeds it. */
static xmsg_err read_some(xmsg_stream *s)
{
    char buf[16384];
    size_t done = 0;

    for (;;) {
        if (s->tls) {
            xmsg_net_rc rc = xmsg_tls_read(s->tls, buf, sizeof(buf), &done);

            if (rc == XMSG_NET_FAIL)
                return fail_net(s, xmsg_tls_err(s->tls));
            if (done == 0)
                return XMSG_OK;
        } else {
            ssize_t r = recv(s->fd, buf, sizeof(buf), 0);

            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return XMSG_OK;
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return xmsg_stream_fail(
                    s, XMSG_ERR_CONNECT, "connection lost: %s",
                    r == 0 ? "closed by the server" : strerror(errno));
            done = (size_t)r;
        }
        s->rx_bytes += done;
        if (feed(s, buf, done) || s->tls == NULL || s->stop_run ||
            s->phase == PH_TLS)
            return s->err;
    }
}

/* ---- the loop ---- */

static int poll_ms(const xmsg_stream *s, int max_ms, uint64_t wake,
                   uint64_t now)
{
    uint64_t until = s->deadline;

    if (wake && (!until || wake < until))
        until = wake;
    if (!until)
        return max_ms;
    if (until <= now)
        return 0;
    if (max_ms >= 0 && (uint64_t)max_ms < until - now)
        return max_ms;
    return (int)(until - now);
}

static xmsg_err check_deadline(xmsg_stream *s)
{
    if (s->deadline && xmsg_now_ms() >= s->deadline)
        return xmsg_stream_fail(s, XMSG_ERR_TIMEOUT,
                                s->phase == PH_READY
                                    ? "timed out waiting for the server"
                                    : "timed out before the login completed");
    return XMSG_OK;
}

/* The wait of the machine of the current phase. */
static void machine_wait(xmsg_stream *s, xmsg_net_wait *w)
{
    memset(w, 0, sizeof(*w));
    if (s->phase == PH_RESOLVE)
        xmsg_resolver_wait(s->res, w);
    else if (s->phase == PH_CONNECT)
        xmsg_connector_wait(s->con, w);
    else if (s->phase == PH_TLS)
        xmsg_tls_wait(s->tls, w);
    else if (s->fd >= 0) {
        if (s->tls)
            xmsg_tls_wait(s->tls, w);
        else {
            w->pfd[0].fd = s->fd;
            w->pfd[0].events = POLLIN;
            w->n = 1;
        }
        if (s->out_off < s->out.len)
            w->pfd[0].events |= POLLOUT;
    }
}

static xmsg_err machine_step(xmsg_stream *s, const struct pollfd *pfd, int n)
{
    uint64_t now = xmsg_now_ms();
    xmsg_net_rc rc;

    switch (s->phase) {
    case PH_RESOLVE:
        rc = xmsg_resolver_step(s->res, pfd, n, now);
        if (rc == XMSG_NET_FAIL)
            return fail_net(s, xmsg_resolver_err(s->res));
        return rc == XMSG_NET_DONE ? xmsg_stream_resolved(s) : XMSG_OK;
    case PH_CONNECT:
        rc = xmsg_connector_step(s->con, pfd, n, now);
        if (rc == XMSG_NET_FAIL)
            return fail_net(s, xmsg_connector_err(s->con));
        return rc == XMSG_NET_DONE ? xmsg_stream_connected(s) : XMSG_OK;
    case PH_TLS:
        rc = xmsg_tls_step(s->tls, pfd, n, now);
        if (rc == XMSG_NET_FAIL)
            return fail_net(s, xmsg_tls_err(s->tls));
        return rc == XMSG_NET_DONE ? xmsg_stream_tls_done(s) : XMSG_OK;
    default:
        if (n > 0 && (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) &&
            flush(s))
            return s->err;
        /* TLS may read on POLLOUT too (a read that wanted to write). */
        if (n > 0 && (pfd[0].revents & (POLLIN | POLLERR | POLLHUP) ||
                      (s->tls && pfd[0].revents)))
            return read_some(s);
        return XMSG_OK;
    }
}

/* Acknowledges what arrives at once instead of after the kernel's
 * delayed-ACK timer (~40 ms on Linux): a server whose socket runs Nagle's
 * algorithm holds its next small write (Prosody's stream features after
 * its TLS 1.3 session tickets) until our ACK. Not sticky: set before each
 * wait. */
static void quick_ack(const xmsg_stream *s)
{
#ifdef TCP_QUICKACK
    int one = 1;

    if (s->fd >= 0)
        setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
    (void)s;
#endif
}

xmsg_err xmsg_stream_turn(xmsg_stream *s, int max_ms)
{
    xmsg_net_wait w;
    int n, ms;

    s->stop_run = 0;
    if (s->phase == PH_FAILED)
        return s->err;
    if (s->phase < PH_RESOLVE)
        return xmsg_status_fail(s->st, XMSG_ERR_INPUT,
                                "the stream is not open");
    if (s->phase >= PH_STREAM && (flush(s) || check_deadline(s)))
        return s->err;
    if (s->rx_pending.len > 0 && s->phase >= PH_STREAM)
        return feed_pending(s);
    if (s->tls && s->phase >= PH_STREAM && xmsg_tls_pending(s->tls) > 0)
        return read_some(s);
    machine_wait(s, &w);
    ms = poll_ms(s, max_ms, w.wake, xmsg_now_ms());
    quick_ack(s);
    n = poll(w.pfd, (nfds_t)w.n, ms);
    if (n < 0 && errno != EINTR)
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "poll: %s",
                                strerror(errno));
    if (n < 0)
        return XMSG_OK;
    if (machine_step(s, w.pfd, w.n))
        return s->err;
    return check_deadline(s);
}

xmsg_err xmsg_stream_run(xmsg_stream *s, int max_ms)
{
    if (s->phase != PH_READY)
        return s->phase == PH_FAILED
                   ? s->err
                   : xmsg_status_fail(s->st, XMSG_ERR_INPUT,
                                      "the stream is not logged in");
    return xmsg_stream_turn(s, max_ms);
}

/* ---- after the login: what the layer consumes itself ---- */

/* Calls the handler; its time does not count against the deadline. */
void xmsg_stream_deliver(xmsg_stream *s, xmsg_xel *el)
{
    uint64_t t0;

    if (!s->handler) {
        xmsg_xel_free(el);
        return;
    }
    t0 = xmsg_now_ms();
    if (s->handler(s, el, s->handler_ud))
        s->stop_run = 1;
    if (s->deadline)
        s->deadline += xmsg_now_ms() - t0;
}

xmsg_err xmsg_stream_send(xmsg_stream *s, const xmsg_xel *el)
{
    xmsg_buf b = {0};
    xmsg_err rc;

    if (!s || !el)
        return XMSG_ERR_INPUT;
    rc = xmsg_xel_write(el, XMSG_NS_CLIENT, &b);
    if (!rc)
        rc = xmsg_stream_send_raw(s, b.d, b.len);
    xmsg_buf_free(&b);
    return rc;
}

static int is_stanza_text(const char *xml, size_t len)
{
    static const char *const names[] = {"<message", "<presence", "<iq"};
    size_t i, k;

    for (i = 0; i < 3; i++) {
        k = strlen(names[i]);
        if (len > k && strncmp(xml, names[i], k) == 0 &&
            (xml[k] == ' ' || xml[k] == '>' || xml[k] == '/'))
            return 1;
    }
    return 0;
}

xmsg_err xmsg_stream_send_raw(xmsg_stream *s, const char *xml, size_t len)
{
    if (!s || !xml)
        return XMSG_ERR_INPUT;
    if (s->phase != PH_READY)
        return s->phase == PH_FAILED
                   ? s->err
                   : xmsg_status_fail(s->st, XMSG_ERR_INPUT,
                                      "the stream is not logged in");
    if (s->sm_on && is_stanza_text(xml, len)) {
        char *copy = xmsg_strndup(xml, len);

        /* the push frees copy when it fails */
        if (!copy || xmsg_strvec_push_owned(&s->unacked, copy))
            return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
        s->sm_out++;
    }
    return xmsg_stream_queue(s, xml, len);
}

xmsg_err xmsg_stream_request_ack(xmsg_stream *s)
{
    static const char r[] = "<r xmlns='" XMSG_NS_SM "'/>";

    if (s->phase != PH_READY || !s->sm_on)
        return s->phase == PH_FAILED ? s->err : XMSG_OK;
    return xmsg_stream_queue(s, r, sizeof(r) - 1);
}

xmsg_err xmsg_stream_ping(xmsg_stream *s)
{
    char buf[512];
    int n;

    if (s->phase != PH_READY)
        return s->phase == PH_FAILED ? s->err : XMSG_ERR_INPUT;
    n = snprintf(buf, sizeof(buf),
                 "<iq type='get' id='xmsg-ping-%u'><ping xmlns='" XMSG_NS_PING
                 "'/></iq>",
                 ++s->pings_sent);
    return xmsg_stream_send_raw(s, buf, (size_t)n);
}

void xmsg_stream_close(xmsg_stream *s)
{
    static const char end[] = "</stream:stream>";

    if (!s || s->fd < 0)
        return;
    if (s->header_sent && s->phase != PH_FAILED && s->phase != PH_TLS) {
        /* What was received is acknowledged: a server that kept it for a
         * resumption would otherwise store or bounce it again. */
        if (s->phase == PH_READY && s->sm_on) {
            char a[64];
            int n = snprintf(a, sizeof(a), "<a xmlns='" XMSG_NS_SM "' h='%u'/>",
                             s->sm_in);

            xmsg_stream_queue(s, a, (size_t)n);
        }
        xmsg_stream_queue(s, end, sizeof(end) - 1);
        flush(s);
    }
    xmsg_stream_drop(s);
    if (s->phase != PH_FAILED)
        s->phase = PH_CLOSED;
}

/* ---- accessors ---- */

const char *xmsg_stream_doing(const xmsg_stream *s)
{
    switch (s->phase == PH_FAILED ? s->fail_phase : s->phase) {
    case PH_RESOLVE:
        return "resolving";
    case PH_CONNECT:
        return "connecting";
    case PH_TLS:
    case PH_STARTTLS:
        return "setting up TLS";
    case PH_STREAM:
        return s->secure || s->auth_done ? "logging in" : "opening the stream";
    case PH_READY:
        return "talking to the server";
    default:
        return "logging in";
    }
}

int xmsg_stream_ready(const xmsg_stream *s)
{
    return s->phase == PH_READY;
}
const char *xmsg_stream_jid(const xmsg_stream *s)
{
    return s->bound;
}
int xmsg_stream_sm_on(const xmsg_stream *s)
{
    return s->sm_on;
}
int xmsg_stream_resumable(const xmsg_stream *s)
{
    return s->sm_id != NULL;
}
int xmsg_stream_resumed(const xmsg_stream *s)
{
    return s->resumed;
}
uint32_t xmsg_stream_sm_sent(const xmsg_stream *s)
{
    return s->sm_out;
}
uint32_t xmsg_stream_sm_acked(const xmsg_stream *s)
{
    return s->sm_acked;
}
uint32_t xmsg_stream_sm_received(const xmsg_stream *s)
{
    return s->sm_in;
}
size_t xmsg_stream_unacked(const xmsg_stream *s)
{
    return s->unacked.n - s->unacked_head;
}
unsigned xmsg_stream_pings_answered(const xmsg_stream *s)
{
    return s->pings_answered;
}
unsigned xmsg_stream_acks(const xmsg_stream *s)
{
    return s->acks;
}
int xmsg_stream_overacked(const xmsg_stream *s)
{
    return s->overacked;
}
uint64_t xmsg_stream_tx_queued(const xmsg_stream *s)
{
    return s->tx_queued;
}
uint64_t xmsg_stream_tx_written(const xmsg_stream *s)
{
    return s->tx_written;
}
uint64_t xmsg_stream_rx_bytes(const xmsg_stream *s)
{
    return s->rx_bytes;
}
void xmsg_stream_set_status(xmsg_stream *s, xmsg_status *st)
{
    s->st = st;
}
void xmsg_stream_set_sm(xmsg_stream *s, int on)
{
    s->sm_off = !on;
}
int xmsg_stream_fd(const xmsg_stream *s, short *events)
{
    if (events)
        *events = (short)(POLLIN | (s->out_off < s->out.len ? POLLOUT : 0));
    return s->fd;
}
int xmsg_stream_tls_version(const xmsg_stream *s)
{
    return s->tls_version;
}
xmsg_sasl_mech xmsg_stream_mech(const xmsg_stream *s)
{
    return s->mech;
}
xmsg_sasl_cb xmsg_stream_cb(const xmsg_stream *s)
{
    return s->cb_used;
}
int xmsg_stream_legacy_auth(const xmsg_stream *s)
{
    return s->legacy;
}
unsigned xmsg_stream_pbkdf2_runs(const xmsg_stream *s)
{
    return s->pbkdf2_runs;
}
