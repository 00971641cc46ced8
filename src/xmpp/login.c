/* login.c - the steps of the login (RFC 6120 order): resolution,
 * connection, TLS, features, STARTTLS, SASL or XEP-0078, bind, session,
 * XEP-0198 enable or resume; and what the stream consumes after it (<r/>,
 * <a/>, pings). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/rand.h>
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

/* A failure already recorded in st (by the SASL module). */
static xmsg_err failed(xmsg_stream *s, xmsg_err rc)
{
    const char *text = s->st && s->st->text ? s->st->text : "login failed";

    return xmsg_stream_fail(s, rc, "%s", text);
}

/* ---- open ---- */

static void net_log(void *ctx, xmsg_log_level lvl, const char *line)
{
    xmsg_stream_logs(ctx, lvl, "net", line);
}

static xmsg_err begin(xmsg_stream *s)
{
    xmsg_net_cfg cfg = {s->domain, s->p->host, s->p->host ? s->p->port : 0,
                        s->p->legacy_tls};
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
                     s->p->host ? s->p->host : s->domain,
                     s->p->host ? "" : " (SRV)",
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

static void keepalive(xmsg_stream *s)
{
    int on = 1, idle = (int)s->p->keepalive_timeout;
    int intvl = (int)s->p->keepalive_interval;

    if (!s->p->keepalive)
        return;
    setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(s->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
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
static const char *condition(const xmsg_xel *el, const char *ns)
{
    const xmsg_xel *c = xmsg_xel_child(el, ns, NULL);

    while (c && xmsg_xel_is(c, ns, "text"))
        c = xmsg_xel_next_el(c, ns, NULL);
    return c ? xmsg_xel_name(c) : "undefined-condition";
}

static const char *iq_condition(const xmsg_xel *iq)
{
    const xmsg_xel *e = xmsg_xel_child(iq, XMSG_NS_CLIENT, "error");

    return e ? condition(e, XMSG_NS_STANZAS) : "no error element";
}

/* 1 if el is <iq type=T id=ID/> (T: result or error, NULL: either). */
static int is_iq_answer(const xmsg_xel *el, const char *id)
{
    const char *t = xmsg_xel_attr(el, "type"), *i = xmsg_xel_attr(el, "id");

    return xmsg_xel_is(el, XMSG_NS_CLIENT, "iq") && t && i &&
           strcmp(i, id) == 0 &&
           (strcmp(t, "result") == 0 || strcmp(t, "error") == 0);
}

static int is_error(const xmsg_xel *iq)
{
    const char *t = xmsg_xel_attr(iq, "type");

    return t && strcmp(t, "error") == 0;
}

/* Queues an element tree built by f (NULL: out of memory). */
static xmsg_err queue_tree(xmsg_stream *s, xmsg_xel *el)
{
    xmsg_err rc;

    if (!el)
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    rc = xmsg_stream_queue_el(s, el);
    xmsg_xel_free(el);
    return rc;
}

/* <iq type=type id=id [to=to]><name xmlns=ns/></iq>; *child the payload. */
static xmsg_xel *iq_new(const char *type, const char *id, const char *to,
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

static int add_text_child(xmsg_xel *parent, const char *name, const char *text)
{
    xmsg_xel *c = xmsg_xel_add_new(parent, NULL, name);

    return !c || (text && *text && xmsg_xel_add_text(c, text, strlen(text)));
}

/* ---- ready ---- */

static void ready(xmsg_stream *s)
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
    if (!xmsg_sm_ack_valid(s->sm_acked, h, s->sm_out))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "stream management: the server acknowledged "
                                "%u stanzas, %u were sent",
                                h, s->sm_out);
    drop_unacked(s, xmsg_sm_newly_acked(s->sm_acked, h));
    s->sm_acked = h;
    return XMSG_OK;
}

/* ---- SM enable and resume ---- */

static xmsg_err enable_sm(xmsg_stream *s)
{
    static const char en[] = "<enable xmlns='" XMSG_NS_SM "' resume='true'/>";

    if (!s->fe.sm) {
        ready(s);
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
                         condition(el, XMSG_NS_STANZAS));
        ready(s);
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
    ready(s);
    return resend(s, 1);
}

static xmsg_err do_bind(xmsg_stream *s);

static xmsg_err on_resume(xmsg_stream *s, const xmsg_xel *el)
{
    if (xmsg_xel_is(el, XMSG_NS_SM, "failed")) {
        xmsg_stream_logf(s, XMSG_LOG_WARN,
                         "the server could not resume the session (%s): "
                         "a fresh login",
                         condition(el, XMSG_NS_STANZAS));
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
    ready(s);
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
    return queue_tree(s, el);
}

/* ---- bind and session ---- */

static xmsg_err do_bind(xmsg_stream *s)
{
    xmsg_xel *b,
        *iq = iq_new("set", "xmsg-bind", NULL, XMSG_NS_BIND, "bind", &b);

    if (iq && s->resource && add_text_child(b, "resource", s->resource)) {
        xmsg_xel_free(iq);
        iq = NULL;
    }
    s->phase = PH_BIND;
    return queue_tree(s, iq);
}

static xmsg_err on_bind(xmsg_stream *s, const xmsg_xel *el)
{
    const xmsg_xel *b = xmsg_xel_child(el, XMSG_NS_BIND, "bind");
    char *jid;

    if (!is_iq_answer(el, "xmsg-bind"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected the answer to resource binding");
    if (is_error(el))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "resource binding refused (%s)",
                                iq_condition(el));
    jid = b ? xmsg_xel_text(xmsg_xel_child(b, XMSG_NS_BIND, "jid")) : NULL;
    if (!jid || !xmsg_jid_valid(jid) || !xmsg_jid_bare_is(jid, s->bare)) {
        free(jid);
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "resource binding gave no valid JID of ours");
    }
    free(s->bound);
    s->bound = jid;
    if (s->fe.session && !s->fe.session_optional) {
        xmsg_xel *c, *iq = iq_new("set", "xmsg-sess", NULL, XMSG_NS_SESSION,
                                  "session", &c);

        s->phase = PH_SESSION;
        return queue_tree(s, iq);
    }
    return enable_sm(s);
}

static xmsg_err on_session(xmsg_stream *s, const xmsg_xel *el)
{
    if (!is_iq_answer(el, "xmsg-sess"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected the answer to the session");
    if (is_error(el))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL, "session refused (%s)",
                                iq_condition(el));
    return enable_sm(s);
}

/* ---- XEP-0078 ---- */

static xmsg_err legacy_begin(xmsg_stream *s)
{
    xmsg_xel *q, *iq = iq_new("get", "xmsg-auth1", s->domain, XMSG_NS_IQAUTH,
                              "query", &q);

    if (iq && add_text_child(q, "username", s->local)) {
        xmsg_xel_free(iq);
        iq = NULL;
    }
    s->legacy = 1;
    s->legacy_step = 0;
    s->phase = PH_LEGACY;
    xmsg_stream_logf(s, XMSG_LOG_INFO, "legacy authentication (XEP-0078)");
    return queue_tree(s, iq);
}

static char *legacy_resource(xmsg_stream *s)
{
    unsigned char r[6];
    char buf[32];

    if (s->resource)
        return xmsg_strdup(s->resource);
    if (RAND_bytes(r, sizeof(r)) != 1)
        return NULL;
    snprintf(buf, sizeof(buf), "xmsg-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5]);
    return xmsg_strdup(buf);
}

/* The credential child: the digest when offered, else the password (only
 * under TLS). */
static xmsg_err legacy_secret(xmsg_stream *s, const xmsg_xel *fields,
                              xmsg_xel *q)
{
    char digest[41];

    if (xmsg_xel_child(fields, XMSG_NS_IQAUTH, "digest") && s->stream_id) {
        if (xmsg_legacy_digest(s->stream_id, s->p->password, digest))
            return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "SHA-1 failed");
        int bad = add_text_child(q, "digest", digest);
        xmsg_secure_zero(digest, sizeof(digest));
        return bad ? xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory")
                   : XMSG_OK;
    }
    if (!xmsg_xel_child(fields, XMSG_NS_IQAUTH, "password"))
        return xmsg_stream_fail(s, XMSG_ERR_AUTH,
                                "legacy authentication offers neither "
                                "digest nor password");
    if (!s->secure)
        return xmsg_stream_fail(s, XMSG_ERR_TLS,
                                "legacy authentication would send the "
                                "password without TLS");
    return add_text_child(q, "password", s->p->password)
               ? xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory")
               : XMSG_OK;
}

static xmsg_err legacy_set(xmsg_stream *s, const xmsg_xel *el)
{
    const xmsg_xel *fields = xmsg_xel_child(el, XMSG_NS_IQAUTH, "query");
    char *res = legacy_resource(s);
    xmsg_xel *q, *iq = iq_new("set", "xmsg-auth2", s->domain, XMSG_NS_IQAUTH,
                              "query", &q);
    xmsg_err rc = XMSG_OK;

    if (!iq || !res || add_text_child(q, "username", s->local) ||
        add_text_child(q, "resource", res)) {
        rc = xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (legacy_secret(s, fields, q))
        goto out;
    free(s->bound);
    s->bound = malloc(strlen(s->bare) + strlen(res) + 2);
    if (!s->bound) {
        rc = xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
        goto out;
    }
    sprintf(s->bound, "%s/%s", s->bare, res);
    s->legacy_step = 1;
    rc = xmsg_stream_queue_el(s, iq);
out:
    xmsg_xel_free(iq);
    free(res);
    return s->err ? s->err : rc;
}

static xmsg_err on_legacy(xmsg_stream *s, const xmsg_xel *el)
{
    const char *id = s->legacy_step ? "xmsg-auth2" : "xmsg-auth1";

    if (!is_iq_answer(el, id))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected the answer to legacy "
                                "authentication");
    if (is_error(el)) {
        free(s->bound);
        s->bound = NULL;
        return xmsg_stream_fail(s, XMSG_ERR_AUTH,
                                "authentication failed: legacy "
                                "authentication refused (%s)",
                                iq_condition(el));
    }
    if (s->legacy_step == 0)
        return legacy_set(s, el);
    s->auth_done = 1;
    ready(s);
    return XMSG_OK;
}

/* ---- SASL ---- */

static unsigned cb_have(xmsg_stream *s)
{
    unsigned char b[128];
    unsigned have = 0;

    if (!s->tls)
        return 0;
    if (xmsg_tls_cb_unique(s->tls, b, sizeof(b)) > 0)
        have |= XMSG_CB_TLS_UNIQUE;
    if (xmsg_tls_cb_exporter(s->tls, b, sizeof(b)) > 0)
        have |= XMSG_CB_TLS_EXPORTER;
    if (xmsg_tls_cb_endpoint(s->tls, b, sizeof(b)) > 0)
        have |= XMSG_CB_TLS_SERVER_END_POINT;
    return have;
}

static int cb_data(xmsg_stream *s, xmsg_sasl_cb cb, unsigned char *b,
                   size_t cap)
{
    if (cb == XMSG_CB_TLS_UNIQUE)
        return xmsg_tls_cb_unique(s->tls, b, cap);
    if (cb == XMSG_CB_TLS_EXPORTER)
        return xmsg_tls_cb_exporter(s->tls, b, cap);
    if (cb == XMSG_CB_TLS_SERVER_END_POINT)
        return xmsg_tls_cb_endpoint(s->tls, b, cap);
    return -1;
}

/* <name xmlns=sasl [mechanism=m]>base64(data)</name> queued. */
static xmsg_err send_sasl(xmsg_stream *s, const char *name, const char *mech,
                          const char *data, size_t len)
{
    char *b64 = len ? xmsg_base64((const unsigned char *)data, len) : NULL;
    xmsg_xel *el = xmsg_xel_new(XMSG_NS_SASL, name);
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (!el || (len && !b64) ||
        (mech && xmsg_xel_set_attr(el, "mechanism", mech)) ||
        (b64 && xmsg_xel_add_text(el, b64, strlen(b64))))
        goto out;
    if (!b64 && strcmp(name, "auth") == 0 && xmsg_xel_add_text(el, "=", 1))
        goto out;
    rc = xmsg_stream_queue_el(s, el);
out:
    if (b64)
        xmsg_sasl_free_secret(b64, strlen(b64));
    xmsg_xel_free(el);
    return rc == XMSG_ERR_INTERNAL && !s->err
               ? xmsg_stream_fail(s, rc, "out of memory")
               : rc;
}

static xmsg_err scram_begin(xmsg_stream *s, const xmsg_sasl_choice *ch,
                            int use_cache)
{
    unsigned char cb[128];
    int cblen = ch->gs2_flag == 'p' ? cb_data(s, ch->cb, cb, sizeof(cb)) : 0;
    xmsg_scram_params sp = {0};
    char *first = NULL;
    xmsg_err rc;

    if (cblen < 0)
        return xmsg_stream_fail(s, XMSG_ERR_TLS, "no channel-binding data");
    sp.mech = ch->mech;
    sp.authcid = s->local;
    sp.password = s->p->password;
    sp.gs2_flag = ch->gs2_flag;
    sp.cb = ch->cb;
    sp.cb_data = cblen > 0 ? cb : NULL;
    sp.cb_len = (size_t)cblen;
    sp.cache = use_cache ? s->kc : NULL;
    sp.server = s->domain;
    sp.log = s->sasl_log;
    s->scram = xmsg_scram_new(&sp, s->st);
    if (!s->scram)
        return failed(s,
                      s->st && s->st->code ? s->st->code : XMSG_ERR_INTERNAL);
    rc = xmsg_scram_client_first(s->scram, &first, s->st);
    if (rc)
        return failed(s, rc);
    rc = send_sasl(s, "auth", xmsg_sasl_mech_name(ch->mech), first,
                   strlen(first));
    free(first);
    return rc;
}

static xmsg_err plain_begin(xmsg_stream *s)
{
    char *buf = NULL;
    size_t len = 0;
    xmsg_err rc =
        xmsg_sasl_plain(s->local, s->p->password, s->secure, &buf, &len, s->st);

    if (rc)
        return failed(s, rc);
    rc = send_sasl(s, "auth", "PLAIN", buf, len);
    xmsg_sasl_free_secret(buf, len);
    return rc;
}

static xmsg_err sasl_begin(xmsg_stream *s, int use_cache)
{
    xmsg_sasl_conn conn = {0};
    xmsg_sasl_choice ch;
    xmsg_err rc;

    conn.tls = s->secure;
    conn.tls13 = s->tls_version == TLS1_3_VERSION;
    conn.cb_have = cb_have(s);
    conn.server_cb_listed = s->fe.server_cb_listed;
    conn.server_cb = s->fe.server_cb;
    /* TLS 1.3 binds with tls-exporter only, and a server that does not say
     * (XEP-0440) may offer -PLUS for tls-unique alone (ejabberd 23.01),
     * which TLS 1.3 does not define: then no binding. */
    if (conn.tls13 && !conn.server_cb_listed) {
        conn.server_cb_listed = 1;
        conn.server_cb = 0;
        xmsg_stream_logf(s, XMSG_LOG_INFO,
                         "TLS 1.3 and no channel-binding types listed "
                         "(XEP-0440): no -PLUS");
    }
    conn.plus_seen_before = xmsg_keycache_plus_seen(s->kc, s->domain);
    rc = xmsg_sasl_choose((const char *const *)s->fe.mechs.v, s->fe.mechs.n,
                          &conn, s->allowed, &s->sasl_log, &ch, s->st);
    if (rc)
        return failed(s, rc);
    if (ch.plus_offered)
        xmsg_keycache_plus_note(s->kc, s->domain);
    s->mech = ch.mech;
    s->cb_used = ch.cb;
    s->sasl_step = 0;
    s->phase = PH_SASL;
    xmsg_stream_logf(s, XMSG_LOG_INFO, "authenticating with %s%s%s",
                     xmsg_sasl_mech_name(ch.mech), ch.cb ? " over " : "",
                     ch.cb ? xmsg_sasl_cb_name(ch.cb) : "");
    if (ch.mech == XMSG_MECH_PLAIN)
        return plain_begin(s);
    return scram_begin(s, &ch, use_cache);
}

/* The base64 text of el decoded into *data (new, *len bytes). */
static xmsg_err sasl_data(xmsg_stream *s, const xmsg_xel *el,
                          unsigned char **data, size_t *len)
{
    char *t = xmsg_xel_text(el);
    int rc;

    *data = NULL;
    *len = 0;
    if (!t)
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    rc =
        xmsg_sasl_b64_decode(t, strcmp(t, "=") == 0 ? 0 : strlen(t), data, len);
    free(t);
    if (rc == -2)
        return xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory");
    if (rc)
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "the server's SASL data is not base64");
    return XMSG_OK;
}

static xmsg_err on_challenge(xmsg_stream *s, const unsigned char *d, size_t len)
{
    char *final = NULL;
    xmsg_err rc;

    if (!s->scram || s->sasl_step > 1)
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "an unexpected SASL challenge");
    if (s->sasl_step == 1) {
        rc = xmsg_scram_verify(s->scram, (const char *)d, len, s->st);
        if (rc)
            return failed(s, rc);
        s->sasl_step = 2;
        return send_sasl(s, "response", NULL, NULL, 0);
    }
    rc = xmsg_scram_client_final(s->scram, (const char *)d, len, &final, s->st);
    if (rc)
        return failed(s, rc);
    s->sasl_step = 1;
    rc = send_sasl(s, "response", NULL, final, strlen(final));
    xmsg_sasl_free_secret(final, strlen(final));
    return rc;
}

static xmsg_err on_success(xmsg_stream *s, const unsigned char *d, size_t len)
{
    if (s->scram && s->sasl_step == 1) {
        xmsg_err rc =
            len ? xmsg_scram_verify(s->scram, (const char *)d, len, s->st)
                : XMSG_ERR_AUTH;

        if (rc == XMSG_ERR_AUTH && !len)
            return xmsg_stream_fail(s, rc,
                                    "authentication failed: the server did "
                                    "not prove it knows the password");
        if (rc)
            return failed(s, rc);
        s->sasl_step = 2;
    }
    if (s->scram && s->sasl_step != 2)
        return xmsg_stream_fail(s, XMSG_ERR_AUTH,
                                "authentication failed: success before the "
                                "exchange completed");
    if (s->scram && !xmsg_scram_used_cache(s->scram))
        s->pbkdf2_runs++;
    xmsg_scram_free(s->scram);
    s->scram = NULL;
    s->auth_done = 1;
    s->pause = PAUSE_RESTART;
    xmsg_stream_logf(s, XMSG_LOG_INFO, "authenticated with %s",
                     xmsg_sasl_mech_name(s->mech));
    return XMSG_OK;
}

static xmsg_err on_failure(xmsg_stream *s, const xmsg_xel *el)
{
    const char *cond = condition(el, XMSG_NS_SASL);

    if (s->scram && xmsg_scram_used_cache(s->scram) && !s->cache_retried) {
        s->cache_retried = 1;
        xmsg_keycache_forget(s->kc, s->domain, s->local,
                             xmsg_sasl_mech_hash(s->mech));
        xmsg_stream_logf(s, XMSG_LOG_INFO,
                         "the server refused the cached keys (%s): "
                         "forgotten, trying again with the password",
                         cond);
        xmsg_scram_free(s->scram);
        s->scram = NULL;
        return sasl_begin(s, 1); /* the entry is gone: a miss */
    }
    return xmsg_stream_fail(s, XMSG_ERR_AUTH, "authentication failed (%s)",
                            cond);
}

static xmsg_err on_sasl(xmsg_stream *s, const xmsg_xel *el)
{
    unsigned char *d = NULL;
    size_t len = 0;
    xmsg_err rc;

    if (xmsg_xel_is(el, XMSG_NS_SASL, "failure"))
        return on_failure(s, el);
    if (!xmsg_xel_is(el, XMSG_NS_SASL, "challenge") &&
        !xmsg_xel_is(el, XMSG_NS_SASL, "success"))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected a SASL challenge, success or "
                                "failure");
    if (sasl_data(s, el, &d, &len))
        return s->err;
    if (xmsg_xel_is(el, XMSG_NS_SASL, "challenge"))
        rc = on_challenge(s, d, len);
    else
        rc = on_success(s, d, len);
    xmsg_sasl_free_secret(d, len);
    return rc;
}

/* ---- features ---- */

static xmsg_err begin_auth(xmsg_stream *s)
{
    if (s->p->legacy_auth && s->fe.mechs.n == 0)
        return legacy_begin(s);
    if (s->fe.mechs.n == 0)
        return xmsg_stream_fail(s, XMSG_ERR_AUTH,
                                "authentication failed: the server offers no "
                                "SASL mechanism%s",
                                s->fe.iq_auth ? " (only legacy authentication, "
                                                "see enableLegacyAuth)"
                                              : "");
    return sasl_begin(s, 1);
}

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
        return begin_auth(s);
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
    if (!is_iq_answer(el, id))
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
        on_sasl(s, el);
        break;
    case PH_LEGACY:
        on_legacy(s, el);
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
        return !is_iq_answer(el, "xmsg-bind");
    if (s->phase == PH_SESSION)
        return !is_iq_answer(el, "xmsg-sess");
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
