/* scram.c - the SCRAM client (RFC 5802; SHA-256 RFC 7677; SHA-512 and
 * tls-exporter RFC 9266) as a three-step state machine: client-first,
 * client-final from server-first, verification of server-final.
 *
 * SASLprep is not applied: the user name and password go out as the UTF-8
 * they are (checked valid), as the common clients do; docs/design.md. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "xmpp/sasl.h"

#define NONCE_BYTES 24
#define NONCE_MAX 128

enum scram_state { S_NEW, S_FIRST_SENT, S_FINAL_SENT, S_DONE, S_FAILED };

struct xmsg_scram {
    enum scram_state state;
    xmsg_scram_hash h;
    size_t hl;
    char *authcid;  /* escaped */
    char *cache_id; /* authcid and a digest of the password: the entry of
                       another password is never this one's */
    char *password; /* secret */
    char *gs2_header;
    unsigned char *cb_data;
    size_t cb_len;
    xmsg_keycache *cache;
    char *server;
    unsigned max_iter;
    xmsg_sasl_log log;
    char nonce[NONCE_MAX + 1];
    char *client_first_bare;
    /* from server-first */
    unsigned char *salt;
    size_t saltlen;
    unsigned iter;
    xmsg_scram_keys keys; /* secret */
    int from_cache;
    unsigned char server_sig[XMSG_HASH_MAX_LEN];
};

/* ---- construction ---- */

/* authcid with ',' as "=2C" and '=' as "=3D" (RFC 5802 saslname). */
static char *sasl_name(const char *s)
{
    xmsg_buf b = {0};
    int rc = 0;

    for (; *s && rc == 0; s++) {
        if (*s == ',')
            rc = xmsg_buf_str(&b, "=2C");
        else if (*s == '=')
            rc = xmsg_buf_str(&b, "=3D");
        else
            rc = xmsg_buf_put(&b, s, 1);
    }
    if (rc != 0) {
        xmsg_buf_free(&b);
        return NULL;
    }
    return b.d;
}

static xmsg_err check_params(const xmsg_scram_params *p, xmsg_status *st)
{
    if (!p || p->mech <= XMSG_MECH_PLAIN || p->mech >= XMSG_MECH_COUNT)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "scram: not a SCRAM mechanism");
    if (!p->authcid || !*p->authcid || !p->password || !*p->password)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "scram: a user and a password are needed");
    if (!xmsg_text_valid(p->authcid, strlen(p->authcid)) ||
        !xmsg_text_valid(p->password, strlen(p->password)))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "scram: user or password is not valid UTF-8");
    if ((p->gs2_flag == 'p') != (xmsg_sasl_mech_is_plus(p->mech) != 0))
        return xmsg_status_fail(
            st, XMSG_ERR_INPUT, "scram: gs2 flag '%c' does not fit %s",
            p->gs2_flag ? p->gs2_flag : '0', xmsg_sasl_mech_name(p->mech));
    if (p->gs2_flag == 'p' &&
        (!xmsg_sasl_cb_name(p->cb) || !p->cb_data || !p->cb_len))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "scram: -PLUS needs channel-binding data");
    if (p->cache && (!p->server || !*p->server))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "scram: a key cache needs the server's name");
    if (p->gs2_flag != 'p' && p->gs2_flag != 'y' && p->gs2_flag != 'n')
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "scram: bad gs2 flag");
    return XMSG_OK;
}

static char *gs2_header(char flag, xmsg_sasl_cb cb)
{
    xmsg_buf b = {0};

    if (flag == 'p') {
        if (xmsg_buf_str(&b, "p=") || xmsg_buf_str(&b, xmsg_sasl_cb_name(cb)) ||
            xmsg_buf_str(&b, ",,")) {
            xmsg_buf_free(&b);
            return NULL;
        }
        return b.d;
    }
    return xmsg_strdup(flag == 'y' ? "y,," : "n,,");
}

/* authcid "\n" hex SHA-256(authcid NUL password): a cache entry names the
 * password its keys were derived from (a wrong password must miss, not
 * log in with the right one's keys). */
static char *cache_id(const xmsg_scram *sc)
{
    unsigned char d[32];
    char hex[65];
    xmsg_buf b = {0};
    size_t i;

    if (xmsg_buf_put(&b, sc->authcid, strlen(sc->authcid) + 1) ||
        xmsg_buf_str(&b, sc->password)) {
        xmsg_sasl_free_secret(b.d, b.cap);
        return NULL;
    }
    xmsg_scram_digest(XMSG_HASH_SHA256, (const unsigned char *)b.d, b.len, d);
    xmsg_sasl_free_secret(b.d, b.cap);
    for (i = 0; i < sizeof(d); i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    b = (xmsg_buf){0};
    if (xmsg_buf_str(&b, sc->authcid) || xmsg_buf_str(&b, "\n") ||
        xmsg_buf_str(&b, hex)) {
        xmsg_buf_free(&b);
        return NULL;
    }
    return b.d;
}

static int copy_params(xmsg_scram *sc, const xmsg_scram_params *p)
{
    sc->h = xmsg_sasl_mech_hash(p->mech);
    sc->hl = xmsg_scram_hash_len(sc->h);
    sc->authcid = sasl_name(p->authcid);
    sc->password = xmsg_strdup(p->password);
    sc->cache_id = sc->authcid && sc->password ? cache_id(sc) : NULL;
    sc->gs2_header = gs2_header(p->gs2_flag, p->cb);
    sc->cache = p->cache;
    sc->server = xmsg_strdup(p->server ? p->server : "");
    sc->max_iter = p->max_iter ? p->max_iter : XMSG_SCRAM_MAX_ITER;
    sc->log = p->log;
    if (p->gs2_flag == 'p') {
        sc->cb_data = malloc(p->cb_len);
        if (sc->cb_data)
            memcpy(sc->cb_data, p->cb_data, p->cb_len);
        sc->cb_len = p->cb_len;
    }
    return sc->authcid && sc->cache_id && sc->password && sc->gs2_header &&
                   sc->server && (p->gs2_flag != 'p' || sc->cb_data)
               ? 0
               : -1;
}

xmsg_scram *xmsg_scram_new(const xmsg_scram_params *p, xmsg_status *st)
{
    xmsg_scram *sc;

    if (check_params(p, st) != XMSG_OK)
        return NULL;
    sc = calloc(1, sizeof(*sc));
    if (!sc || copy_params(sc, p) != 0) {
        xmsg_scram_free(sc);
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    return sc;
}

void xmsg_scram_free(xmsg_scram *sc)
{
    if (!sc)
        return;
    free(sc->authcid);
    free(sc->cache_id);
    xmsg_free_secret(sc->password);
    free(sc->gs2_header);
    xmsg_sasl_free_secret(sc->cb_data, sc->cb_len);
    free(sc->server);
    free(sc->client_first_bare);
    free(sc->salt);
    xmsg_secure_zero(sc, sizeof(*sc));
    free(sc);
}

static int nonce_char_ok(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != ',';
}

int xmsg_scram_set_nonce(xmsg_scram *sc, const char *nonce)
{
    size_t i, n;

    if (!sc || !nonce || sc->state != S_NEW)
        return -1;
    n = strlen(nonce);
    if (n == 0 || n > NONCE_MAX)
        return -1;
    for (i = 0; i < n; i++) {
        if (!nonce_char_ok((unsigned char)nonce[i]))
            return -1;
    }
    memcpy(sc->nonce, nonce, n + 1);
    return 0;
}

void xmsg_scram_forget_cache(const xmsg_scram *sc)
{
    if (sc && sc->cache)
        xmsg_keycache_forget(sc->cache, sc->server, sc->cache_id, sc->h);
}

int xmsg_scram_used_cache(const xmsg_scram *sc)
{
    return sc && sc->from_cache;
}

/* ---- client-first ---- */

static int make_nonce(xmsg_scram *sc)
{
    unsigned char raw[NONCE_BYTES];
    char *b64;

    if (sc->nonce[0])
        return 0;
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    b64 = xmsg_base64(raw, sizeof(raw));
    if (!b64)
        return -1;
    memcpy(sc->nonce, b64, strlen(b64) + 1); /* 32 characters */
    free(b64);
    return 0;
}

xmsg_err xmsg_scram_client_first(xmsg_scram *sc, char **out, xmsg_status *st)
{
    xmsg_buf bare = {0}, msg = {0};
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (!sc || !out || sc->state != S_NEW)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "scram: client-first out of order");
    *out = NULL;
    if (make_nonce(sc) != 0) {
        xmsg_status_fail(st, rc, "scram: no random nonce");
        goto out;
    }
    if (xmsg_buf_str(&bare, "n=") || xmsg_buf_str(&bare, sc->authcid) ||
        xmsg_buf_str(&bare, ",r=") || xmsg_buf_str(&bare, sc->nonce) ||
        xmsg_buf_str(&msg, sc->gs2_header) ||
        xmsg_buf_put(&msg, bare.d, bare.len)) {
        xmsg_status_fail(st, rc, "out of memory");
        goto out;
    }
    sc->client_first_bare = bare.d;
    bare.d = NULL;
    *out = msg.d;
    msg.d = NULL;
    sc->state = S_FIRST_SENT;
    rc = XMSG_OK;
out:
    xmsg_buf_free(&bare);
    xmsg_buf_free(&msg);
    return rc;
}

/* ---- server-first ---- */

/* If s starts with "<a>=", sets [*v, *vlen) to the value up to ',' or the
 * end and returns 1; else 0. */
static int attr(const char *s, char a, const char **v, size_t *vlen)
{
    if (s[0] != a || s[1] != '=')
        return 0;
    *v = s + 2;
    *vlen = strcspn(*v, ",");
    return 1;
}

/* The character after an attribute value: must be ',' (more) or end. */
static const char *next_attr(const char *v, size_t vlen)
{
    return v[vlen] == ',' ? v + vlen + 1 : v + vlen;
}

static xmsg_err parse_nonce(xmsg_scram *sc, const char *v, size_t n,
                            xmsg_status *st)
{
    size_t i, ours = strlen(sc->nonce);

    for (i = 0; i < n; i++) {
        if (!nonce_char_ok((unsigned char)v[i]))
            return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                    "scram: bad character in server nonce");
    }
    if (n <= ours || memcmp(v, sc->nonce, ours) != 0)
        return xmsg_status_fail(st, XMSG_ERR_AUTH,
                                "scram: the server nonce does not extend "
                                "ours (replay or broken server)");
    return XMSG_OK;
}

static xmsg_err parse_iter(xmsg_scram *sc, const char *v, size_t n,
                           xmsg_status *st)
{
    unsigned long long x = 0;
    size_t i;

    if (n == 0 || n > 10)
        return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                "scram: bad iteration count");
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                    "scram: bad iteration count");
        x = x * 10 + (unsigned long long)(v[i] - '0');
    }
    if (x < XMSG_SCRAM_MIN_ITER)
        return xmsg_status_fail(st, XMSG_ERR_AUTH,
                                "scram: iteration count %llu is below %u: too "
                                "weak, refused",
                                x, XMSG_SCRAM_MIN_ITER);
    if (x > sc->max_iter)
        return xmsg_status_fail(st, XMSG_ERR_AUTH,
                                "scram: iteration count %llu is above %u: "
                                "refused (it would burn CPU for long)",
                                x, sc->max_iter);
    sc->iter = (unsigned)x;
    return XMSG_OK;
}

static xmsg_err parse_salt(xmsg_scram *sc, const char *v, size_t n,
                           xmsg_status *st)
{
    int rc = xmsg_sasl_b64_decode(v, n, &sc->salt, &sc->saltlen);

    if (rc == -2)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    if (rc != 0 || sc->saltlen == 0)
        return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                "scram: salt is not base64");
    return XMSG_OK;
}

static xmsg_err missing(xmsg_status *st, const char *what)
{
    return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                            "scram: server-first-message lacks %s", what);
}

/* r=, s=, i= in this order, extensions after (RFC 5802 section 7). Sets
 * [*rn, *rnlen) to the server nonce. */
static xmsg_err parse_server_first(xmsg_scram *sc, const char *s,
                                   const char **rn, size_t *rnlen,
                                   xmsg_status *st)
{
    const char *v;
    size_t n;
    xmsg_err rc;

    if (s[0] == 'm' && s[1] == '=')
        return xmsg_status_fail(st, XMSG_ERR_AUTH,
                                "scram: the server requires an extension "
                                "(m=) we do not know");
    if (!attr(s, 'r', &v, &n))
        return missing(st, "the nonce (r=)");
    rc = parse_nonce(sc, v, n, st);
    if (rc)
        return rc;
    *rn = v;
    *rnlen = n;
    s = next_attr(v, n);
    if (!attr(s, 's', &v, &n))
        return missing(st, "the salt (s=)");
    rc = parse_salt(sc, v, n, st);
    if (rc)
        return rc;
    s = next_attr(v, n);
    if (!attr(s, 'i', &v, &n))
        return missing(st, "the iteration count (i=)");
    return parse_iter(sc, v, n, st);
}

/* ---- keys and proof ---- */

static xmsg_err derive_keys(xmsg_scram *sc, xmsg_status *st)
{
    static const char ck[] = "Client Key", sk[] = "Server Key";
    unsigned char salted[XMSG_HASH_MAX_LEN];
    xmsg_err rc = XMSG_OK;

    if (xmsg_keycache_lookup(sc->cache, sc->server, sc->cache_id, sc->h,
                             sc->salt, sc->saltlen, sc->iter, &sc->keys)) {
        sc->from_cache = 1;
        return XMSG_OK;
    }
    sc->keys.len = sc->hl;
    if (xmsg_pbkdf2(sc->h, (const unsigned char *)sc->password,
                    strlen(sc->password), sc->salt, sc->saltlen, sc->iter,
                    salted) != 0 ||
        xmsg_scram_hmac(sc->h, salted, sc->hl, (const unsigned char *)ck,
                        strlen(ck), sc->keys.client_key) != 0 ||
        xmsg_scram_hmac(sc->h, salted, sc->hl, (const unsigned char *)sk,
                        strlen(sk), sc->keys.server_key) != 0)
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "scram: hash failed");
    xmsg_secure_zero(salted, sizeof(salted));
    return rc;
}

/* "c=<b64(gs2 header + cb data)>,r=<nonce>": client-final without proof. */
static int final_bare(const xmsg_scram *sc, const char *rn, size_t rnlen,
                      xmsg_buf *b)
{
    xmsg_buf cbind = {0};
    char *c64 = NULL;
    int rc = -1;

    if (xmsg_buf_str(&cbind, sc->gs2_header) ||
        (sc->cb_len &&
         xmsg_buf_put(&cbind, (const char *)sc->cb_data, sc->cb_len)))
        goto out;
    c64 = xmsg_base64((const unsigned char *)cbind.d, cbind.len);
    if (!c64 || xmsg_buf_str(b, "c=") || xmsg_buf_str(b, c64) ||
        xmsg_buf_str(b, ",r=") || xmsg_buf_put(b, rn, rnlen))
        goto out;
    rc = 0;
out:
    free(c64);
    xmsg_buf_free(&cbind);
    return rc;
}

/* Appends ",p=<b64 proof>" to fin and keeps the expected server signature;
 * auth = client-first-bare "," server-first "," client-final-without-proof.
 */
static int add_proof(xmsg_scram *sc, const xmsg_buf *auth, xmsg_buf *fin)
{
    unsigned char stored[XMSG_HASH_MAX_LEN], sig[XMSG_HASH_MAX_LEN];
    const unsigned char *am = (const unsigned char *)auth->d;
    char *p64 = NULL;
    size_t i;
    int rc = -1;

    if (xmsg_scram_digest(sc->h, sc->keys.client_key, sc->hl, stored) ||
        xmsg_scram_hmac(sc->h, stored, sc->hl, am, auth->len, sig) ||
        xmsg_scram_hmac(sc->h, sc->keys.server_key, sc->hl, am, auth->len,
                        sc->server_sig))
        goto out;
    for (i = 0; i < sc->hl; i++)
        sig[i] ^= sc->keys.client_key[i];
    p64 = xmsg_base64(sig, sc->hl);
    if (!p64 || xmsg_buf_str(fin, ",p=") || xmsg_buf_str(fin, p64))
        goto out;
    rc = 0;
out:
    if (p64)
        xmsg_free_secret(p64);
    xmsg_secure_zero(sig, sizeof(sig));
    xmsg_secure_zero(stored, sizeof(stored));
    return rc;
}

static xmsg_err build_final(xmsg_scram *sc, const char *sfirst, const char *rn,
                            size_t rnlen, char **out, xmsg_status *st)
{
    xmsg_buf fin = {0}, auth = {0};
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (final_bare(sc, rn, rnlen, &fin) ||
        xmsg_buf_str(&auth, sc->client_first_bare) ||
        xmsg_buf_str(&auth, ",") || xmsg_buf_str(&auth, sfirst) ||
        xmsg_buf_str(&auth, ",") || xmsg_buf_put(&auth, fin.d, fin.len) ||
        add_proof(sc, &auth, &fin) != 0) {
        xmsg_status_fail(st, rc, "scram: out of memory or hash failure");
        goto out;
    }
    *out = fin.d;
    fin.d = NULL;
    rc = XMSG_OK;
out:
    if (fin.d)
        xmsg_sasl_free_secret(fin.d, fin.cap);
    xmsg_buf_free(&auth);
    return rc;
}

/* *out = a NUL-terminated copy of a server message; fails when it holds a
 * NUL or memory runs out. */
static xmsg_err server_text(const char *s, size_t len, char **out,
                            xmsg_status *st)
{
    *out = NULL;
    if (!s || memchr(s, '\0', len))
        return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                "scram: server message holds NUL");
    *out = xmsg_strndup(s, len);
    if (!*out)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    return XMSG_OK;
}

xmsg_err xmsg_scram_client_final(xmsg_scram *sc, const char *server_first,
                                 size_t len, char **out, xmsg_status *st)
{
    const char *rn = NULL;
    size_t rnlen = 0;
    char *sfirst;
    xmsg_err rc;

    if (!sc || !out || sc->state != S_FIRST_SENT)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "scram: client-final out of order");
    *out = NULL;
    sc->state = S_FAILED;
    rc = server_text(server_first, len, &sfirst, st);
    if (rc == XMSG_OK)
        rc = parse_server_first(sc, sfirst, &rn, &rnlen, st);
    if (rc == XMSG_OK)
        rc = derive_keys(sc, st);
    if (rc == XMSG_OK)
        rc = build_final(sc, sfirst, rn, rnlen, out, st);
    if (rc == XMSG_OK)
        sc->state = S_FINAL_SENT;
    free(sfirst);
    return rc;
}

/* ---- server-final ---- */

/* The server's e= value, made printable and short, for the error text. */
static void error_name(const char *v, size_t n, char *buf, size_t size)
{
    size_t i;

    if (n >= size)
        n = size - 1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    buf[n] = '\0';
}

static xmsg_err check_signature(xmsg_scram *sc, const char *v, size_t n,
                                xmsg_status *st)
{
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int rc = xmsg_sasl_b64_decode(v, n, &sig, &siglen);
    xmsg_err err = XMSG_OK;

    if (rc == -2)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    if (rc != 0 || siglen != sc->hl)
        err = xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                               "scram: server signature is not %zu bytes "
                               "of base64",
                               sc->hl);
    else if (CRYPTO_memcmp(sig, sc->server_sig, sc->hl) != 0)
        err = xmsg_status_fail(st, XMSG_ERR_AUTH,
                               "scram: wrong server signature: the server "
                               "does not know the password%s",
                               sc->from_cache ? " (keys from the cache)" : "");
    free(sig);
    return err;
}

static xmsg_err parse_server_final(xmsg_scram *sc, const char *s,
                                   xmsg_status *st)
{
    char name[65];
    const char *v;
    size_t n;

    if (attr(s, 'e', &v, &n)) {
        error_name(v, n, name, sizeof(name));
        return xmsg_status_fail(st, XMSG_ERR_AUTH,
                                "scram: the server refused: %s", name);
    }
    if (!attr(s, 'v', &v, &n))
        return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                "scram: server-final-message lacks v=");
    return check_signature(sc, v, n, st);
}

xmsg_err xmsg_scram_verify(xmsg_scram *sc, const char *server_final, size_t len,
                           xmsg_status *st)
{
    char *sfinal;
    xmsg_err rc;

    if (!sc || sc->state != S_FINAL_SENT)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "scram: verify out of order");
    sc->state = S_FAILED;
    rc = server_text(server_final, len, &sfinal, st);
    if (rc == XMSG_OK)
        rc = parse_server_final(sc, sfinal, st);
    free(sfinal);
    if (rc != XMSG_OK)
        return rc;
    sc->state = S_DONE;
    if (!sc->from_cache)
        xmsg_keycache_store(sc->cache, sc->server, sc->cache_id, sc->h,
                            sc->salt, sc->saltlen, sc->iter, &sc->keys);
    return XMSG_OK;
}
