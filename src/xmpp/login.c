/* login.c - the steps of the login (RFC 6120 order): resolution,
 * connection, TLS, features, STARTTLS, [authentication: auth.c], bind,
 * session, XEP-0198 enable or resume; and what the stream consumes after
 * it (<r/>, <a/>, pings). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "xmpp/streamint.h"

/* TLS is used: a pin makes it mandatory whatever disableTLS says. */
static int use_tls(const xmsg_stream *s)
{
    return s->p->pin || !s->p->disable_tls;
}

static int tls_required(const xmsg_stream *s)
{
    return s->p->pin || (!s->p->disable_tls && s->p->mandatory_tls);
}

/* ---- open ---- */

static void net_log(void *ctx, xmsg_log_level lvl, const char *line)
{
    xmsg_stream_logs(ctx, lvl, "net", line);
}

static xmsg_err begin(xmsg_stream *s)
{
    /* No host: SRV for the domain, unless a port other than the default
     * was given (then the domain itself at that port, as before SRV). */
    const int direct = s->p->host || s->p->port != 5222;
    xmsg_net_cfg cfg = {s->domain,
                        s->p->host ? s->p->host
                        : direct   ? s->domain
                                   : NULL,
                        direct ? s->p->port : 0, s->p->legacy_tls};
    xmsg_net_err e = {0};
    uint64_t now = xmsg_now_ms();

    xmsg_stream_drop(s);
    if (s->err)
        xmsg_status_clear_error(s->st);
    s->err = XMSG_OK;
    s->secure = s->tls_version = s->header_sent = s->auth_done = 0;
    s->resumed = s->legacy = s->cache_retried = s->stop_run = 0;
    s->sm_on = 0; /* until <enabled/> or <resumed/> */
    s->mech = XMSG_MECH_NONE;
    s->cb_used = XMSG_CB_NONE;
    s->pause = PAUSE_NONE;
    if (!s->deadline || s->deadline <= now)
        s->deadline = now + (uint64_t)s->p->timeout * 1000u;
    if (s->p->disable_tls && s->p->legacy_tls && !s->p->pin)
        return xmsg_stream_fail(s, XMSG_ERR_INPUT,
                                "disableTLS and legacyTLS contradict");
    if (xmsg_xml_parser_reset(s->parser))
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    xmsg_stream_logf(s, XMSG_LOG_INFO, "connecting to %s%s%s",
                     cfg.host ? cfg.host : s->domain, cfg.host ? "" : " (SRV)",
                     s->sm_id ? ", to resume the session" : "");
    s->res = xmsg_resolver_new(&cfg, s->deadline, net_log, s, &e);
    if (!s->res)
        return xmsg_stream_fail(s, e.code ? e.code : XMSG_ERR_INTERNAL, "%s",
                                e.text[0] ? e.text : "resolver failed");
    s->phase = PH_RESOLVE;
    return XMSG_OK;
}

xmsg_err xmsg_stream_open_step(xmsg_stream *s, int max_ms, int *ready)
{
    *ready = 0;
    if (s->phase == PH_READY) {
        *ready = 1;
        return XMSG_OK;
    }
    if (s->phase <= PH_FAILED && begin(s))
        return s->err;
    if (xmsg_stream_turn(s, max_ms))
        return s->err;
    *ready = s->phase == PH_READY;
    return XMSG_OK;
}

xmsg_err xmsg_stream_open(xmsg_stream *s)
{
    int ready = 0;

    if (!s)
        return XMSG_ERR_INPUT;
    if (s->phase <= PH_FAILED && begin(s))
        return s->err;
    while (!ready) {
        if (xmsg_stream_open_step(s, -1, &ready))
            return s->err;
    }
    return XMSG_OK;
}

xmsg_err xmsg_stream_resolved(xmsg_stream *s)
{
    const xmsg_net_cands *c = xmsg_resolver_cands(s->res);

    s->con = xmsg_connector_new(c, s->deadline, net_log, s);
    xmsg_resolver_free(s->res);
    s->res = NULL;
    if (!s->con)
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    s->phase = PH_CONNECT;
    return XMSG_OK;
}

/* TCP keepalive as the params say, read back from the kernel. */
static void keepalive(xmsg_stream *s)
{
    int on = 1, idle = (int)s->p->keepalive_timeout;
    int intvl = (int)s->p->keepalive_interval;
    socklen_t len = sizeof(idle);

    if (!s->p->keepalive)
        return;
    if (setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) ||
        setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
        setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl))) {
        xmsg_stream_logf(s, XMSG_LOG_WARN,
                         "socket: cannot set TCP keepalive: %s",
                         strerror(errno));
        return;
    }
    getsockopt(s->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len);
    len = sizeof(intvl);
    getsockopt(s->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &len);
    xmsg_stream_logf(s, XMSG_LOG_INFO,
                     "socket: TCP keepalive on (idle %d s, interval %d s)",
                     idle, intvl);
}

static xmsg_err send_header(xmsg_stream *s)
{
    xmsg_buf b = {0};
    xmsg_err rc = xmsg_stream_header(&b, s->domain, s->secure ? s->bare : NULL);

    if (!rc)
        rc = xmsg_stream_queue(s, b.d, b.len);
    else
        xmsg_stream_fail(s, rc, "could not write the stream header");
    xmsg_buf_free(&b);
    s->header_sent = 1;
    s->phase = PH_STREAM;
    return rc;
}

xmsg_err xmsg_stream_connected(xmsg_stream *s)
{
    const xmsg_net_cand *c = xmsg_connector_cand(s->con);
    int direct = (c && c->direct_tls) || s->p->legacy_tls;

    s->fd = xmsg_connector_take_fd(s->con);
    xmsg_connector_free(s->con);
    s->con = NULL;
    if (s->fd < 0)
        return xmsg_stream_fail(s, XMSG_ERR_CONNECT, "no connection");
    keepalive(s);
    if (direct && !use_tls(s))
        return xmsg_stream_fail(s, XMSG_ERR_TLS,
                                "the target needs direct TLS and "
                                "disableTLS is set");
    if (direct)
        return xmsg_stream_start_tls(s);
    return send_header(s);
}

xmsg_err xmsg_stream_start_tls(xmsg_stream *s)
{
    xmsg_tls_cfg cfg = {s->domain, s->p->ca_file, s->p->pin, s->p->trust_tls,
                        s->header_sent == 0};
    xmsg_net_err e = {0};

    s->tls = xmsg_tls_new(&cfg, s->fd, s->deadline, net_log, s, &e);
    if (!s->tls)
        return xmsg_stream_fail(s, e.code ? e.code : XMSG_ERR_TLS, "%s",
                                e.text[0] ? e.text : "TLS failed");
    s->phase = PH_TLS;
    return XMSG_OK;
}

xmsg_err xmsg_stream_restart(xmsg_stream *s)
{
    if (xmsg_xml_parser_reset(s->parser))
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    xmsg_stream_features_clear(&s->fe);
    return send_header(s);
}

xmsg_err xmsg_stream_tls_done(xmsg_stream *s)
{
    s->secure = 1;
    s->tls_version = xmsg_tls_version(s->tls);
    xmsg_stream_logf(s, XMSG_LOG_INFO, "TLS %s established",
                     s->tls_version == TLS1_3_VERSION   ? "1.3"
                     : s->tls_version == TLS1_2_VERSION ? "1.2"
                                                        : "(old)");
    return xmsg_stream_restart(s);
}

/* ---- helpers for elements ---- */

/* The first child element's name (a condition), or "undefined-condition".
 */
const char *xmsg_xmpp_condition(const xmsg_xel *el, const char *ns)
{
    const xmsg_xel *c = xmsg_xel_child(el, ns, NULL);

    while (c && xmsg_xel_is(c, ns, "text"))
        c = xmsg_xel_next_el(c, ns, NULL);
    return c ? xmsg_xel_name(c) : "undefined-condition";
}

const char *xmsg_xmpp_iq_condition(const xmsg_xel *iq)
{
    const xmsg_xel *e = xmsg_xel_child(iq, XMSG_NS_CLIENT, "error");

    return e ? xmsg_xmpp_condition(e, XMSG_NS_STANZAS) : "no error element";
}

/* 1 if el is <iq type=T id=ID/> (T: result or error, NULL: either). */
int xmsg_xmpp_is_iq_answer(const xmsg_xel *el, const char *id)
{
    const char *t = xmsg_xel_attr(el, "type"), *i = xmsg_xel_attr(el, "id");

    return xmsg_xel_is(el, XMSG_NS_CLIENT, "iq") && t && i &&
           strcmp(i, id) == 0 &&
           (strcmp(t, "result") == 0 || strcmp(t, "error") == 0);
}

int xmsg_xmpp_is_error(const xmsg_xel *iq)
{
    const char *t = xmsg_xel_attr(iq, "type");

    return t && strcmp(t, "error") == 0;
}

/* Queues an element tree built by f (NULL: out of memory). */
xmsg_err xmsg_stream_queue_tree(xmsg_stream *s, xmsg_xel *el)
{
    xmsg_err rc;

    if (!el)
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    rc = xmsg_stream_queue_el(s, el);
    xmsg_xel_free(el);
    return rc;
}

/* <iq type=type id=id [to=to]><name xmlns=ns/></iq>; *child the payload. */
xmsg_xel *xmsg_xmpp_iq_new(const char *type, const char *id, const char *to,
                           const char *ns, const char *name, xmsg_xel **child)
{
    xmsg_xel *iq = xmsg_xel_new(XMSG_NS_CLIENT, "iq");

    *child = NULL;
    if (!iq || xmsg_xel_set_attr(iq, "type", type) ||
        xmsg_xel_set_attr(iq, "id", id) ||
        (to && xmsg_xel_set_attr(iq, "to", to)))
        goto fail;
    *child = xmsg_xel_add_new(iq, ns, name);
    if (!*child)
        goto fail;
    return iq;
fail:
    xmsg_xel_free(iq);
    return NULL;
}

int xmsg_xmpp_add_text_child(xmsg_xel *parent, const char *name,
                             const char *text)
{
    xmsg_xel *c = xmsg_xel_add_new(parent, NULL, name);

    return !c || (text && *text && xmsg_xel_add_text(c, text, strlen(text)));
}

/* ---- ready ---- */

void xmsg_stream_ready_now(xmsg_stream *s)
{
    s->phase = PH_READY;
    xmsg_stream_logf(
        s, XMSG_LOG_INFO, "logged in as %s (%s, %s%s%s)%s%s",
        s->bound ? s->bound : s->bare,
        s->tls_version == TLS1_3_VERSION   ? "TLS 1.3"
        : s->tls_version == TLS1_2_VERSION ? "TLS 1.2"
                                           : "no TLS",
        s->legacy ? "XEP-0078" : xmsg_sasl_mech_name(s->mech),
        s->cb_used ? " " : "", s->cb_used ? xmsg_sasl_cb_name(s->cb_used) : "",
        s->sm_on ? ", stream management" : "", s->resumed ? ", resumed" : "");
}

/* Re-sends what was not acknowledged; count: they get new numbers (a
 * fresh SM session) or not (a resumed one: already counted). */
static xmsg_err resend(xmsg_stream *s, int count)
{
    size_t i;

    for (i = s->unacked_head; i < s->unacked.n; i++) {
        if (xmsg_stream_queue(s, s->unacked.v[i], strlen(s->unacked.v[i])))
            return s->err;
        if (count)
            s->sm_out++;
    }
    if (i > s->unacked_head)
        xmsg_stream_logf(s, XMSG_LOG_INFO, "re-sent %zu unacknowledged",
                         i - s->unacked_head);
    return XMSG_OK;
}

/* A fresh session (no resumption) takes the old one's messages only: an
 * iq's answer, a presence's meaning, belonged to the session that is
 * gone (whoever waited for the answer gave up with it; the session layer
 * sends its presence again itself). */
static void keep_messages(xmsg_stream *s)
{
    static const char msg[] = "<message";
    size_t i, k = 0, dropped = 0;

    for (i = s->unacked_head; i < s->unacked.n; i++) {
        char *x = s->unacked.v[i];

        s->unacked.v[i] = NULL;
        if (strncmp(x, msg, sizeof(msg) - 1) == 0 &&
            (x[sizeof(msg) - 1] == ' ' || x[sizeof(msg) - 1] == '>' ||
             x[sizeof(msg) - 1] == '/')) {
            s->unacked.v[k++] = x;
        } else {
            free(x);
            dropped++;
        }
    }
    s->unacked.n = k; /* the slots before the head were empty already */
    s->unacked_head = 0;
    if (dropped)
        xmsg_stream_logf(s, XMSG_LOG_DEBUG,
                         "%zu unacknowledged iq/presence of the old session "
                         "not sent again",
                         dropped);
}

static void drop_unacked(xmsg_stream *s, uint32_t k)
{
    while (k-- > 0 && s->unacked_head < s->unacked.n) {
        free(s->unacked.v[s->unacked_head]);
        s->unacked.v[s->unacked_head++] = NULL;
    }
    if (s->unacked_head == s->unacked.n) {
        xmsg_strvec_clear(&s->unacked);
        s->unacked_head = 0;
    }
}

static int parse_u32(const char *v, uint32_t *out)
{
    unsigned long long x = 0;
    size_t i;

    if (!v || !*v || strlen(v) > 10)
        return -1;
    for (i = 0; v[i]; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (unsigned)(v[i] - '0');
    }
    if (x > 0xffffffffull)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static xmsg_err ack(xmsg_stream *s, const xmsg_xel *el)
{
    uint32_t h;

    if (parse_u32(xmsg_xel_attr(el, "h"), &h))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "stream management: an ack without a valid h");
    if (!xmsg_sm_ack_valid(s->sm_acked, h, s->sm_out) && ++s->overacked)
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "stream management: the server acknowledged "
                                "%u stanzas, %u were sent",
                                h, s->sm_out);
    drop_unacked(s, xmsg_sm_newly_acked(s->sm_acked, h));
    s->sm_acked = h;
    s->acks++;
    return XMSG_OK;
}

/* ---- SM enable and resume ---- */

static xmsg_err enable_sm(xmsg_stream *s)
{
    static const char en[] = "<enable xmlns='" XMSG_NS_SM "' resume='true'/>";

    keep_messages(s);
    if (!s->fe.sm || s->sm_off) {
        xmsg_stream_ready_now(s);
        resend(s, 0);
        drop_unacked(s, (uint32_t)-1);
        return s->err;
    }
    s->phase = PH_ENABLE;
    return xmsg_stream_queue(s, en, sizeof(en) - 1);
}

static xmsg_err on_enable(xmsg_stream *s, const xmsg_xel *el)
{
    const char *res = xmsg_xel_attr(el, "resume"),
               *id = xmsg_xel_attr(el, "id");

    if (xmsg_xel_is(el, XMSG_NS_SM, "failed")) {
        xmsg_stream_logf(s, XMSG_LOG_WARN,
                         "stream management refused (%s): no "
                         "acknowledgements",
                         xmsg_xmpp_condition(el, XMSG_NS_STANZAS));
        xmsg_stream_ready_now(s);
        resend(s, 0);
        drop_unacked(s, (uint32_t)-1);
        return s->err;
    }
    if (!xmsg_xel_is(el, XMSG_NS_SM, "enabled"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected <enabled/> or <failed/>");
    s->sm_on = 1;
    s->sm_in = s->sm_out = s->sm_acked = 0;
    free(s->sm_id);
    free(s->sm_location);
    s->sm_id = s->sm_location = NULL;
    if (id && res && (strcmp(res, "true") == 0 || strcmp(res, "1") == 0)) {
        s->sm_id = xmsg_strdup(id);
        if (xmsg_xel_attr(el, "location"))
            s->sm_location = xmsg_strdup(xmsg_xel_attr(el, "location"));
    }
    xmsg_stream_ready_now(s);
    return resend(s, 1);
}

static xmsg_err do_bind(xmsg_stream *s);

static xmsg_err on_resume(xmsg_stream *s, const xmsg_xel *el)
{
    if (xmsg_xel_is(el, XMSG_NS_SM, "failed")) {
        xmsg_stream_logf(s, XMSG_LOG_WARN,
                         "the server could not resume the session (%s): "
                         "a fresh login",
                         xmsg_xmpp_condition(el, XMSG_NS_STANZAS));
        free(s->sm_id);
        s->sm_id = NULL;
        s->sm_on = 0;
        return do_bind(s);
    }
    if (!xmsg_xel_is(el, XMSG_NS_SM, "resumed"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected <resumed/> or <failed/>");
    if (ack(s, el))
        return s->err;
    s->sm_on = s->resumed = 1;
    xmsg_stream_ready_now(s);
    return resend(s, 0);
}

static xmsg_err resume(xmsg_stream *s)
{
    char h[16];
    xmsg_xel *el = xmsg_xel_new(XMSG_NS_SM, "resume");

    snprintf(h, sizeof(h), "%u", s->sm_in);
    if (el && (xmsg_xel_set_attr(el, "previd", s->sm_id) ||
               xmsg_xel_set_attr(el, "h", h))) {
        xmsg_xel_free(el);
        el = NULL;
    }
    s->phase = PH_RESUME;
    return xmsg_stream_queue_tree(s, el);
}

/* ---- bind and session ---- */

static xmsg_err do_bind(xmsg_stream *s)
{
    xmsg_xel *b, *iq = xmsg_xmpp_iq_new("set", "xmsg-bind", NULL, XMSG_NS_BIND,
                                        "bind", &b);

    if (iq && s->resource &&
        xmsg_xmpp_add_text_child(b, "resource", s->resource)) {
        xmsg_xel_free(iq);
        iq = NULL;
    }
    s->phase = PH_BIND;
    return xmsg_stream_queue_tree(s, iq);
}

static xmsg_err on_bind(xmsg_stream *s, const xmsg_xel *el)
{
    const xmsg_xel *b = xmsg_xel_child(el, XMSG_NS_BIND, "bind");
    char *jid;

    if (!xmsg_xmpp_is_iq_answer(el, "xmsg-bind"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected the answer to resource binding");
    if (xmsg_xmpp_is_error(el))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "resource binding refused (%s)",
                                xmsg_xmpp_iq_condition(el));
    jid = b ? xmsg_xel_text(xmsg_xel_child(b, XMSG_NS_BIND, "jid")) : NULL;
    if (!jid || !xmsg_jid_valid(jid) || !xmsg_jid_bare_is(jid, s->bare)) {
        free(jid);
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "resource binding gave no valid JID of ours");
    }
    free(s->bound);
    s->bound = jid;
    xmsg_stream_logf(s, XMSG_LOG_DEBUG, "resource bound: %s", jid);
    if (s->fe.session && !s->fe.session_optional) {
        xmsg_xel *c, *iq = xmsg_xmpp_iq_new("set", "xmsg-sess", NULL,
                                            XMSG_NS_SESSION, "session", &c);

        s->phase = PH_SESSION;
        return xmsg_stream_queue_tree(s, iq);
    }
    return enable_sm(s);
}

static xmsg_err on_session(xmsg_stream *s, const xmsg_xel *el)
{
    if (!xmsg_xmpp_is_iq_answer(el, "xmsg-sess"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected the answer to the session");
    if (xmsg_xmpp_is_error(el))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL, "session refused (%s)",
                                xmsg_xmpp_iq_condition(el));
    return enable_sm(s);
}

/* ---- features ---- */

static xmsg_err on_features(xmsg_stream *s, const xmsg_xel *el)
{
    static const char tls[] = "<starttls xmlns='" XMSG_NS_TLS "'/>";
    xmsg_err rc = xmsg_stream_features_parse(el, &s->fe);

    if (rc)
        return xmsg_stream_fail(s, rc, "malformed stream features");
    if (!s->secure && !s->auth_done) {
        if (s->fe.starttls && use_tls(s)) {
            s->phase = PH_STARTTLS;
            return xmsg_stream_queue(s, tls, sizeof(tls) - 1);
        }
        if (tls_required(s))
            return xmsg_stream_fail(s, XMSG_ERR_TLS,
                                    "TLS is required (mandatoryTLS) but the "
                                    "server does not offer STARTTLS");
        if (s->fe.starttls_required)
            return xmsg_stream_fail(s, XMSG_ERR_TLS,
                                    "the server requires TLS and disableTLS "
                                    "is set");
        xmsg_stream_logf(s, XMSG_LOG_WARN, "logging in without TLS");
    }
    if (!s->auth_done)
        return xmsg_stream_begin_auth(s);
    if (s->sm_id && s->fe.sm)
        return resume(s);
    if (s->sm_id) {
        xmsg_stream_logf(s, XMSG_LOG_WARN,
                         "no stream management any more: "
                         "a fresh login");
        free(s->sm_id);
        s->sm_id = NULL;
        s->sm_on = 0;
    }
    if (!s->fe.bind)
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "the server offers no resource binding");
    return do_bind(s);
}

/* ---- after the login ---- */

static int is_stanza(const xmsg_xel *el)
{
    return xmsg_xel_is(el, XMSG_NS_CLIENT, "message") ||
           xmsg_xel_is(el, XMSG_NS_CLIENT, "presence") ||
           xmsg_xel_is(el, XMSG_NS_CLIENT, "iq");
}

static int ping_answer(xmsg_stream *s, const xmsg_xel *el)
{
    const char *id = xmsg_xel_attr(el, "id");

    if (!is_stanza(el) || !id || strncmp(id, "xmsg-ping-", 10) != 0)
        return 0;
    if (!xmsg_xmpp_is_iq_answer(el, id))
        return 0;
    s->pings_answered++;
    return 1;
}

/* An iq get with <ping/>: answered here. 1 if it was one. */
static int ping_request(xmsg_stream *s, const xmsg_xel *el)
{
    const char *t = xmsg_xel_attr(el, "type"), *id = xmsg_xel_attr(el, "id");
    const char *from = xmsg_xel_attr(el, "from");
    xmsg_xel *iq;
    xmsg_buf b = {0};

    if (!xmsg_xel_is(el, XMSG_NS_CLIENT, "iq") || !t || strcmp(t, "get") ||
        !id || !xmsg_xel_child(el, XMSG_NS_PING, "ping"))
        return 0;
    iq = xmsg_xel_new(XMSG_NS_CLIENT, "iq");
    if (!iq || xmsg_xel_set_attr(iq, "type", "result") ||
        xmsg_xel_set_attr(iq, "id", id) ||
        (from && xmsg_xel_set_attr(iq, "to", from)) ||
        xmsg_xel_write(iq, XMSG_NS_CLIENT, &b))
        xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    else
        xmsg_stream_send_raw(s, b.d, b.len);
    xmsg_buf_free(&b);
    xmsg_xel_free(iq);
    return 1;
}

/* Takes el. */
static void on_ready(xmsg_stream *s, xmsg_xel *el)
{
    char a[64];

    if (xmsg_xel_is(el, XMSG_NS_SM, "r")) {
        int n = snprintf(a, sizeof(a), "<a xmlns='" XMSG_NS_SM "' h='%u'/>",
                         s->sm_in);
        xmsg_stream_queue(s, a, (size_t)n);
    } else if (xmsg_xel_is(el, XMSG_NS_SM, "a"))
        ack(s, el);
    else {
        if (is_stanza(el) && s->sm_on)
            s->sm_in++;
        if (!ping_answer(s, el) && !ping_request(s, el)) {
            xmsg_stream_deliver(s, el);
            return;
        }
    }
    xmsg_xel_free(el);
}

static void log_recv(xmsg_stream *s, const xmsg_xel *el)
{
    xmsg_buf b = {0};

    if (s->p->log_level != XMSG_LOG_DEBUG)
        return;
    if (!xmsg_buf_str(&b, "RECV: ") && !xmsg_xel_write(el, XMSG_NS_CLIENT, &b))
        xmsg_stream_logs(s, XMSG_LOG_DEBUG, "xmpp", b.d);
    xmsg_buf_free(&b);
}

static void step(xmsg_stream *s, const xmsg_xel *el)
{
    switch (s->phase) {
    case PH_STREAM:
        if (!xmsg_xel_is(el, XMSG_NS_STREAMS, "features"))
            xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                             "expected the stream features");
        else
            on_features(s, el);
        break;
    case PH_STARTTLS:
        if (xmsg_xel_is(el, XMSG_NS_TLS, "proceed"))
            s->pause = PAUSE_TLS;
        else
            xmsg_stream_fail(s, XMSG_ERR_TLS, "the server refused STARTTLS");
        break;
    case PH_SASL:
        xmsg_stream_on_sasl(s, el);
        break;
    case PH_LEGACY:
        xmsg_stream_on_legacy(s, el);
        break;
    case PH_BIND:
        on_bind(s, el);
        break;
    case PH_SESSION:
        on_session(s, el);
        break;
    case PH_RESUME:
        on_resume(s, el);
        break;
    case PH_ENABLE:
        on_enable(s, el);
        break;
    default:
        xmsg_stream_fail(s, XMSG_ERR_PROTOCOL, "an unexpected element");
    }
}

/* A stanza between bind and ready (a message to the new full JID) that is
 * not the answer we wait for: it goes to the handler, not counted (SM is
 * not on yet). */
static int early_stanza(const xmsg_stream *s, const xmsg_xel *el)
{
    if (s->phase < PH_BIND || s->phase > PH_ENABLE || !is_stanza(el))
        return 0;
    if (s->phase == PH_BIND)
        return !xmsg_xmpp_is_iq_answer(el, "xmsg-bind");
    if (s->phase == PH_SESSION)
        return !xmsg_xmpp_is_iq_answer(el, "xmsg-sess");
    return 1;
}

void xmsg_stream_dispatch(xmsg_stream *s, xmsg_xel *el)
{
    log_recv(s, el);
    if (xmsg_xel_is(el, XMSG_NS_STREAMS, "error")) {
        xmsg_stream_fail(s, XMSG_ERR_PROTOCOL, "stream error: %s",
                         xmsg_stream_error_condition(el));
        xmsg_xel_free(el);
        return;
    }
    if (s->phase == PH_READY) {
        on_ready(s, el);
        return;
    }
    if (early_stanza(s, el)) {
        xmsg_stream_deliver(s, el);
        return;
    }
    step(s, el);
    xmsg_xel_free(el);
}
