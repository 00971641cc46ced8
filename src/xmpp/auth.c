/* auth.c - the login's authentication: SASL (mechanism choice with the
 * connection's TLS and binding data, SCRAM through sasl.h with the key
 * cache and its one retry, PLAIN) and XEP-0078 legacy authentication. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "xmpp/streamint.h"

/* A failure already recorded in st (by the SASL module). */
static xmsg_err failed(xmsg_stream *s, xmsg_err rc)
{
    const char *text = s->st && s->st->text ? s->st->text : "login failed";

    return xmsg_stream_fail(s, rc, "%s", text);
}

/* ---- XEP-0078 ---- */

static xmsg_err legacy_begin(xmsg_stream *s)
{
    xmsg_xel *q, *iq = xmsg_xmpp_iq_new("get", "xmsg-auth1", s->domain,
                                        XMSG_NS_IQAUTH, "query", &q);

    if (iq && xmsg_xmpp_add_text_child(q, "username", s->local)) {
        xmsg_xel_free(iq);
        iq = NULL;
    }
    s->legacy = 1;
    s->legacy_step = 0;
    s->phase = PH_LEGACY;
    xmsg_stream_logf(s, XMSG_LOG_INFO, "legacy authentication (XEP-0078)");
    return xmsg_stream_queue_tree(s, iq);
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
        int bad = xmsg_xmpp_add_text_child(q, "digest", digest);
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
    return xmsg_xmpp_add_text_child(q, "password", s->p->password)
               ? xmsg_stream_fail(s, XMSG_ERR_INTERNAL, "out of memory")
               : XMSG_OK;
}

static xmsg_err legacy_set(xmsg_stream *s, const xmsg_xel *el)
{
    const xmsg_xel *fields = xmsg_xel_child(el, XMSG_NS_IQAUTH, "query");
    char *res = legacy_resource(s);
    xmsg_xel *q, *iq = xmsg_xmpp_iq_new("set", "xmsg-auth2", s->domain,
                                        XMSG_NS_IQAUTH, "query", &q);
    xmsg_err rc = XMSG_OK;

    if (!iq || !res || xmsg_xmpp_add_text_child(q, "username", s->local) ||
        xmsg_xmpp_add_text_child(q, "resource", res)) {
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

xmsg_err xmsg_stream_on_legacy(xmsg_stream *s, const xmsg_xel *el)
{
    const char *id = s->legacy_step ? "xmsg-auth2" : "xmsg-auth1";

    if (!xmsg_xmpp_is_iq_answer(el, id))
        return xmsg_stream_fail(s, XMSG_ERR_PROTOCOL,
                                "expected the answer to legacy "
                                "authentication");
    if (xmsg_xmpp_is_error(el)) {
        free(s->bound);
        s->bound = NULL;
        return xmsg_stream_fail(s, XMSG_ERR_AUTH,
                                "authentication failed: legacy "
                                "authentication refused (%s)",
                                xmsg_xmpp_iq_condition(el));
    }
    if (s->legacy_step == 0)
        return legacy_set(s, el);
    s->auth_done = 1;
    xmsg_stream_ready_now(s);
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

/* PLAIN without TLS: only when the user allowed a login without TLS
 * (mandatoryTLS false or disableTLS, no pin) and the server offers no
 * SCRAM (then no password goes out in the clear). */
static int plain_in_clear(const xmsg_stream *s)
{
    size_t i;

    if (s->secure || s->p->pin || (!s->p->disable_tls && s->p->mandatory_tls))
        return s->secure;
    for (i = 0; i < s->fe.mechs.n; i++) {
        if (strncmp(s->fe.mechs.v[i], "SCRAM-", 6) == 0)
            return 0;
    }
    return 1;
}

static xmsg_err plain_begin(xmsg_stream *s)
{
    char *buf = NULL;
    size_t len = 0;
    xmsg_err rc = xmsg_sasl_plain(s->local, s->p->password, plain_in_clear(s),
                                  &buf, &len, s->st);

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
    conn.plain_in_clear = plain_in_clear(s);
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
    const char *cond = xmsg_xmpp_condition(el, XMSG_NS_SASL);

    if (s->scram && xmsg_scram_used_cache(s->scram) && !s->cache_retried) {
        s->cache_retried = 1;
        xmsg_scram_forget_cache(s->scram);
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

xmsg_err xmsg_stream_on_sasl(xmsg_stream *s, const xmsg_xel *el)
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

xmsg_err xmsg_stream_begin_auth(xmsg_stream *s)
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
