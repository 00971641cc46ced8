/* sasl.c - mechanism names, the restriction param, the choice of a
 * mechanism and channel binding, PLAIN, strict base64. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmpp/sasl.h"

static const char *const mech_names[XMSG_MECH_COUNT] = {
    "PLAIN",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "SCRAM-SHA-512",
    "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-256-PLUS",
    "SCRAM-SHA-512-PLUS",
};

const char *xmsg_sasl_mech_name(xmsg_sasl_mech m)
{
    if (m < 0 || m >= XMSG_MECH_COUNT)
        return "?";
    return mech_names[m];
}

static xmsg_sasl_mech mech_lookup(const char *name, size_t len, int nocase)
{
    int i;

    for (i = 0; i < XMSG_MECH_COUNT; i++) {
        if (strlen(mech_names[i]) != len)
            continue;
        if (nocase ? strncasecmp(name, mech_names[i], len) == 0
                   : strncmp(name, mech_names[i], len) == 0)
            return (xmsg_sasl_mech)i;
    }
    return XMSG_MECH_NONE;
}

xmsg_sasl_mech xmsg_sasl_mech_parse(const char *name)
{
    if (!name)
        return XMSG_MECH_NONE;
    return mech_lookup(name, strlen(name), 0);
}

int xmsg_sasl_mech_is_plus(xmsg_sasl_mech m)
{
    return m >= XMSG_MECH_SCRAM_SHA_1_PLUS && m <= XMSG_MECH_SCRAM_SHA_512_PLUS;
}

xmsg_scram_hash xmsg_sasl_mech_hash(xmsg_sasl_mech m)
{
    switch (m) {
    case XMSG_MECH_SCRAM_SHA_256:
    case XMSG_MECH_SCRAM_SHA_256_PLUS:
        return XMSG_HASH_SHA256;
    case XMSG_MECH_SCRAM_SHA_512:
    case XMSG_MECH_SCRAM_SHA_512_PLUS:
        return XMSG_HASH_SHA512;
    default:
        return XMSG_HASH_SHA1;
    }
}

size_t xmsg_scram_hash_len(xmsg_scram_hash h)
{
    static const size_t lens[] = {20, 32, 64};

    return (unsigned)h < 3 ? lens[h] : 0;
}

const char *xmsg_scram_hash_name(xmsg_scram_hash h)
{
    static const char *const names[] = {"sha1", "sha256", "sha512"};

    return (unsigned)h < 3 ? names[h] : "?";
}

static const struct {
    xmsg_sasl_cb cb;
    const char *name;
} cb_names[] = {
    {XMSG_CB_TLS_UNIQUE, "tls-unique"},
    {XMSG_CB_TLS_SERVER_END_POINT, "tls-server-end-point"},
    {XMSG_CB_TLS_EXPORTER, "tls-exporter"},
};

const char *xmsg_sasl_cb_name(xmsg_sasl_cb cb)
{
    size_t i;

    for (i = 0; i < sizeof(cb_names) / sizeof(cb_names[0]); i++) {
        if (cb_names[i].cb == cb)
            return cb_names[i].name;
    }
    return NULL;
}

xmsg_sasl_cb xmsg_sasl_cb_parse(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(cb_names) / sizeof(cb_names[0]); i++) {
        if (strcmp(cb_names[i].name, name) == 0)
            return cb_names[i].cb;
    }
    return XMSG_CB_NONE;
}

void xmsg_sasl_logf(const xmsg_sasl_log *log, xmsg_log_level lvl,
                    const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (!log || !log->fn)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xmsg_utf8_sanitize(buf);
    log->fn(lvl, buf, log->userdata);
}

/* ---- the restriction param ---- */

#define PLUS_MASK                                                              \
    (XMSG_MECH_BIT(XMSG_MECH_SCRAM_SHA_1_PLUS) |                               \
     XMSG_MECH_BIT(XMSG_MECH_SCRAM_SHA_256_PLUS) |                             \
     XMSG_MECH_BIT(XMSG_MECH_SCRAM_SHA_512_PLUS))

struct policy_acc {
    unsigned listed; /* mechanisms named */
    unsigned removed;
};

/* Applies one word [w, w+len) to acc. 0 ok, -1 unknown. */
static int policy_word(const char *w, size_t len, struct policy_acc *acc)
{
    xmsg_sasl_mech m;

    if (len == 8 && strncasecmp(w, "no-plain", len) == 0) {
        acc->removed |= XMSG_MECH_BIT(XMSG_MECH_PLAIN);
        return 0;
    }
    if (len == 9 && strncasecmp(w, "plus-only", len) == 0) {
        acc->removed |= XMSG_MECH_ALL & ~PLUS_MASK;
        return 0;
    }
    m = mech_lookup(w, len, 1);
    if (m == XMSG_MECH_NONE)
        return -1;
    acc->listed |= XMSG_MECH_BIT(m);
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

xmsg_err xmsg_sasl_policy_parse(const char *spec, unsigned *allowed,
                                xmsg_status *st)
{
    struct policy_acc acc = {0, 0};
    const char *p = spec, *end;
    size_t len;

    if (!allowed)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "sasl: no output");
    *allowed = XMSG_MECH_ALL;
    if (!spec || !*spec)
        return XMSG_OK;
    for (;;) {
        while (is_space(*p))
            p++;
        end = p + strcspn(p, ",");
        len = (size_t)(end - p);
        while (len > 0 && is_space(p[len - 1]))
            len--;
        if (len == 0)
            return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                    "saslMechanisms: empty word in \"%.100s\"",
                                    spec);
        if (policy_word(p, len, &acc) != 0)
            return xmsg_status_fail(
                st, XMSG_ERR_INPUT,
                "saslMechanisms: unknown word \"%.*s\" (a mechanism name, "
                "no-plain or plus-only)",
                (int)(len > 64 ? 64 : len), p);
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *allowed = (acc.listed ? acc.listed : XMSG_MECH_ALL) & ~acc.removed;
    if (*allowed == 0)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "saslMechanisms: \"%.100s\" allows no "
                                "mechanism",
                                spec);
    return XMSG_OK;
}

/* ---- choice ---- */

/* 1 when the connection can bind with cb: the TLS layer has its data and,
 * when the server lists types (XEP-0440), the server has it too. */
static int cb_usable(const xmsg_sasl_conn *conn, xmsg_sasl_cb cb)
{
    if (!(conn->cb_have & (unsigned)cb))
        return 0;
    return !conn->server_cb_listed || (conn->server_cb & (unsigned)cb);
}

xmsg_sasl_cb xmsg_sasl_cb_choose(const xmsg_sasl_conn *conn)
{
    if (!conn || !conn->tls)
        return XMSG_CB_NONE;
    if (conn->tls13 && cb_usable(conn, XMSG_CB_TLS_EXPORTER))
        return XMSG_CB_TLS_EXPORTER;
    if (!conn->tls13 && cb_usable(conn, XMSG_CB_TLS_UNIQUE))
        return XMSG_CB_TLS_UNIQUE;
    /* tls-server-end-point only where the server says it supports it */
    if (conn->server_cb_listed && cb_usable(conn, XMSG_CB_TLS_SERVER_END_POINT))
        return XMSG_CB_TLS_SERVER_END_POINT;
    return XMSG_CB_NONE;
}

static unsigned offered_mask(const char *const *offered, size_t n)
{
    unsigned mask = 0;
    xmsg_sasl_mech m;
    size_t i;

    for (i = 0; i < n; i++) {
        m = xmsg_sasl_mech_parse(offered[i]);
        if (m != XMSG_MECH_NONE)
            mask |= XMSG_MECH_BIT(m);
    }
    return mask;
}

/* Writes the names of mask into buf ("A,B" or "none"). */
static void mask_names(unsigned mask, char *buf, size_t size)
{
    size_t used = 0;
    int m;

    buf[0] = '\0';
    for (m = XMSG_MECH_COUNT - 1; m >= 0 && used < size; m--) {
        if (mask & XMSG_MECH_BIT(m))
            used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                     used ? "," : "", mech_names[m]);
    }
    if (!buf[0])
        snprintf(buf, size, "none");
}

static xmsg_err choose_fail(unsigned offered, unsigned allowed,
                            const xmsg_sasl_conn *conn, xmsg_status *st)
{
    char o[160], a[160];

    mask_names(offered, o, sizeof(o));
    mask_names(allowed, a, sizeof(a));
    if ((offered & allowed & XMSG_MECH_BIT(XMSG_MECH_PLAIN)) && !conn->tls &&
        !conn->plain_in_clear)
        return xmsg_status_fail(st, XMSG_ERR_TLS,
                                "sasl: only PLAIN is left and TLS is off "
                                "(offered: %s)",
                                o);
    return xmsg_status_fail(st, XMSG_ERR_AUTH,
                            "sasl: no acceptable mechanism (offered: %s; "
                            "allowed: %s; channel binding: %s)",
                            o, a,
                            xmsg_sasl_cb_name(xmsg_sasl_cb_choose(conn))
                                ? xmsg_sasl_cb_name(xmsg_sasl_cb_choose(conn))
                                : "none");
}

/* The mask of what this connection supports at all. */
static unsigned conn_mask(const xmsg_sasl_conn *conn, xmsg_sasl_cb cb)
{
    unsigned mask = XMSG_MECH_ALL;

    if (cb == XMSG_CB_NONE)
        mask &= ~PLUS_MASK;
    if (!conn->tls && !conn->plain_in_clear)
        mask &= ~XMSG_MECH_BIT(XMSG_MECH_PLAIN);
    return mask;
}

static char gs2_flag_of(xmsg_sasl_mech m, xmsg_sasl_cb cb, int plus_offered)
{
    if (m == XMSG_MECH_PLAIN)
        return '\0';
    if (xmsg_sasl_mech_is_plus(m))
        return 'p';
    /* 'y' tells a server that offered -PLUS that we were stripped of it;
     * when it did offer -PLUS and we do not bind (policy, no data), 'n'. */
    return (cb != XMSG_CB_NONE && !plus_offered) ? 'y' : 'n';
}

xmsg_err xmsg_sasl_choose(const char *const *offered, size_t n,
                          const xmsg_sasl_conn *conn, unsigned allowed,
                          const xmsg_sasl_log *log, xmsg_sasl_choice *out,
                          xmsg_status *st)
{
    unsigned off, usable;
    xmsg_sasl_cb cb;
    int m;

    if (!conn || !out || (n && !offered))
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "sasl: bad arguments");
    memset(out, 0, sizeof(*out));
    out->mech = XMSG_MECH_NONE;
    off = offered_mask(offered, n);
    cb = xmsg_sasl_cb_choose(conn);
    out->plus_offered = (off & PLUS_MASK) != 0;
    out->downgrade = conn->plus_seen_before && !out->plus_offered;
    if (out->downgrade)
        xmsg_sasl_logf(log, XMSG_LOG_WARN,
                       "the server offered channel binding (-PLUS) to "
                       "an earlier login and does not now: possible "
                       "downgrade");
    usable = off & allowed & conn_mask(conn, cb);
    for (m = XMSG_MECH_COUNT - 1; m >= 0; m--) {
        if (usable & XMSG_MECH_BIT(m))
            break;
    }
    if (m < 0)
        return choose_fail(off, allowed, conn, st);
    out->mech = (xmsg_sasl_mech)m;
    out->cb = xmsg_sasl_mech_is_plus(out->mech) ? cb : XMSG_CB_NONE;
    out->gs2_flag = gs2_flag_of(out->mech, cb, out->plus_offered);
    return XMSG_OK;
}

/* ---- PLAIN ---- */

void xmsg_sasl_free_secret(void *p, size_t len)
{
    if (!p)
        return;
    xmsg_secure_zero(p, len);
    free(p);
}

xmsg_err xmsg_sasl_plain(const char *authcid, const char *password, int tls,
                         char **out, size_t *len, xmsg_status *st)
{
    size_t la, lp;
    char *b;

    if (!out || !len)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "sasl: no output");
    *out = NULL;
    *len = 0;
    if (!tls)
        return xmsg_status_fail(st, XMSG_ERR_TLS,
                                "sasl: PLAIN refused without TLS");
    if (!authcid || !*authcid || !password || !*password)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "sasl: PLAIN needs a user and a password");
    la = strlen(authcid);
    lp = strlen(password);
    b = malloc(la + lp + 3);
    if (!b)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    b[0] = '\0';
    memcpy(b + 1, authcid, la);
    b[1 + la] = '\0';
    memcpy(b + 2 + la, password, lp + 1);
    *out = b;
    *len = la + lp + 2;
    return XMSG_OK;
}

/* ---- strict base64 ---- */

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes one quantum q[0..4) into o; returns the bytes written, -1 bad.
 * Padding is allowed only in the last quantum (last). */
static int b64_quantum(const char *q, int last, unsigned char *o)
{
    int v[4], i, pad = 0;

    for (i = 0; i < 4; i++) {
        if (q[i] == '=' && last && i >= 2) {
            pad++;
            v[i] = 0;
            continue;
        }
        v[i] = b64_val((unsigned char)q[i]);
        if (v[i] < 0 || pad)
            return -1;
    }
    o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
    o[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
    o[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    /* non-canonical: bits set under the padding */
    if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
        return -1;
    return 3 - pad;
}

int xmsg_sasl_b64_decode(const char *s, size_t slen, unsigned char **out,
                         size_t *len)
{
    unsigned char *b;
    size_t i, n = 0;
    int k;

    *out = NULL;
    *len = 0;
    if (!s || slen % 4)
        return -1;
    b = malloc(slen / 4 * 3 + 1);
    if (!b)
        return -2;
    for (i = 0; i < slen; i += 4) {
        k = b64_quantum(s + i, i + 4 == slen, b + n);
        if (k < 0) {
            xmsg_sasl_free_secret(b, slen / 4 * 3 + 1);
            return -1;
        }
        n += (size_t)k;
    }
    b[n] = '\0';
    *out = b;
    *len = n;
    return 0;
}
