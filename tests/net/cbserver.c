/* cbserver.c - a scripted XMPP server for channel binding (RFC 9266
 * tls-exporter, RFC 5802/7677 SCRAM-*-PLUS, XEP-0440), which neither lab
 * server offers on TLS 1.3. One client connection, then it exits.
 *
 *   cbserver --cert F --key F --password P [options]
 *     --direct          TLS from the first byte (XEP-0368), else STARTTLS
 *     --mechs LIST      mechanisms offered, comma-separated
 *                       (default SCRAM-SHA-256-PLUS,SCRAM-SHA-256)
 *     --no-cb-list      no XEP-0440 <sasl-channel-binding/>
 *     --mode M          ok (default); flip (one byte of our own exporter
 *                       value flipped before comparing: the client's
 *                       binding no longer matches); forge (a wrong server
 *                       signature); fail (<failure/> after a valid proof);
 *                       cbrefuse (server-final e=channel-bindings-dont-match);
 *                       stall (the TLS handshake never answered); stall-mid
 *                       (half of the server's first flight, then nothing)
 *
 * The SCRAM server side is its own: PBKDF2 (PKCS5_PBKDF2_HMAC), HMAC and
 * the digest over OpenSSL 3, from a salt of its own and 4096 iterations;
 * it keeps StoredKey and ServerKey only. The client's gs2 header and cbind
 * data are checked against SSL_export_keying_material("EXPORTER-Channel-
 * Binding", no context, 32 bytes). After success it binds a resource,
 * enables stream management and acknowledges what it is sent.
 *
 * stdout: "PORT n" once listening, then one line when the client is gone:
 * "RESULT key=value ..." (mech, gs2, cbind, proof, tls, user, bound,
 * stanzas, acks, after_hello, end). Every wait on the client is bounded
 * (30 s): the server never hangs a test. Exit 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define ITERATIONS 4096
#define BUF_MAX 65536

typedef struct opts {
    const char *cert, *key, *password, *mechs, *mode;
    int direct, no_cb_list;
} opts;

typedef struct conn {
    int fd;
    SSL *ssl;
    char in[BUF_MAX];
    size_t len;
} conn;

/* What happened, printed at the end. */
typedef struct result {
    char mech[64], gs2[64], cbind[16], proof[8], user[64], bound[256];
    char end[32];
    unsigned stanzas, acks;
    long after_hello; /* bytes the client sent after its ClientHello */
} result;

/* The SCRAM exchange's state. */
typedef struct scram {
    const EVP_MD *md;
    size_t hlen;
    unsigned char salt[16], stored[64], server_key[64];
    char first_bare[512], server_first[512], gs2[64];
} scram;

static result res;

/* ---- bytes in and out ---- */

static int put(conn *c, const char *s)
{
    size_t n = strlen(s);

    if (c->ssl)
        return SSL_write(c->ssl, s, (int)n) == (int)n ? 0 : -1;
    return write(c->fd, s, n) == (ssize_t)n ? 0 : -1;
}

static int more(conn *c)
{
    int r;

    if (c->len + 1 >= sizeof(c->in))
        return -1;
    if (c->ssl)
        r = SSL_read(c->ssl, c->in + c->len, (int)(sizeof(c->in) - 1 - c->len));
    else
        r = (int)read(c->fd, c->in + c->len, sizeof(c->in) - 1 - c->len);
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    c->in[c->len] = '\0';
    return 0;
}

/* Reads until `mark` is in the buffer; returns the offset just past it,
 * or -1 (the client closed, timed out, or sent too much). */
static long wait_for(conn *c, const char *mark)
{
    char *at;

    while (!(at = strstr(c->in, mark)))
        if (more(c))
            return -1;
    return (long)(at - c->in) + (long)strlen(mark);
}

/* Drops the first n bytes of the buffer. */
static void eat(conn *c, long n)
{
    memmove(c->in, c->in + n, c->len - (size_t)n + 1);
    c->len -= (size_t)n;
}

/* Waits for an element <name ...>...</name> (or <name .../>); copies its
 * text content into text (cap bytes) and its attribute attr into av. */
static int element(conn *c, const char *name, char *text, size_t cap,
                   const char *attr, char *av, size_t avcap)
{
    char open[64], close[64], *s, *gt, *a;
    long end;
    size_t n;

    snprintf(open, sizeof(open), "<%s", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if (wait_for(c, open) < 0)
        return -1;
    while (!(s = strstr(c->in, open)) || !(gt = strchr(s, '>')))
        if (more(c))
            return -1;
    if (av && avcap) {
        char key[40];

        av[0] = '\0';
        snprintf(key, sizeof(key), " %s='", attr);
        a = strstr(s, key);
        if (a && a < gt)
            snprintf(av, avcap, "%.*s", (int)strcspn(a + strlen(key), "'"),
                     a + strlen(key));
    }
    if (gt[-1] == '/') {
        if (text && cap)
            text[0] = '\0';
        eat(c, gt + 1 - c->in);
        return 0;
    }
    if ((end = wait_for(c, close)) < 0)
        return -1;
    s = strstr(c->in, open);
    gt = strchr(s, '>');
    n = (size_t)(c->in + end - (long)strlen(close) - (gt + 1));
    if (text && cap)
        snprintf(text, cap, "%.*s", (int)n, gt + 1);
    eat(c, end);
    return 0;
}

/* ---- base64 and SCRAM ---- */

static void b64(const unsigned char *d, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, d, (int)n);
}

/* Decodes base64 text into out (cap bytes); returns the length or -1. */
static int unb64(const char *t, unsigned char *out, size_t cap)
{
    size_t n = strlen(t);
    int len;

    if (n % 4 || n / 4 * 3 > cap)
        return -1;
    len = EVP_DecodeBlock(out, (const unsigned char *)t, (int)n);
    if (len < 0)
        return -1;
    if (n && t[n - 1] == '=')
        len--;
    if (n > 1 && t[n - 2] == '=')
        len--;
    return len;
}

static const EVP_MD *mech_md(const char *mech)
{
    if (strncmp(mech, "SCRAM-SHA-1", 11) == 0)
        return EVP_sha1();
    if (strncmp(mech, "SCRAM-SHA-256", 13) == 0)
        return EVP_sha256();
    if (strncmp(mech, "SCRAM-SHA-512", 13) == 0)
        return EVP_sha512();
    return NULL;
}

static void hmac(const scram *sc, const unsigned char *key, const char *msg,
                 unsigned char *out)
{
    unsigned int n = 0;

    HMAC(sc->md, key, (int)sc->hlen, (const unsigned char *)msg, strlen(msg),
         out, &n);
}

/* The credentials the server keeps: StoredKey and ServerKey. */
static int scram_keys(scram *sc, const char *password)
{
    unsigned char salted[64], ck[64];
    unsigned int n = 0;

    sc->hlen = (size_t)EVP_MD_get_size(sc->md);
    if (RAND_bytes(sc->salt, sizeof(sc->salt)) != 1 ||
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), sc->salt,
                          sizeof(sc->salt), ITERATIONS, sc->md, (int)sc->hlen,
                          salted) != 1)
        return -1;
    hmac(sc, salted, "Client Key", ck);
    hmac(sc, salted, "Server Key", sc->server_key);
    return EVP_Digest(ck, sc->hlen, sc->stored, &n, sc->md, NULL) == 1 ? 0 : -1;
}

/* client-first: gs2 header (kept), then n=user,r=nonce. Writes the
 * server-first message into sc. */
static int scram_first(scram *sc, const char *msg)
{
    const char *c1 = strchr(msg, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    unsigned char rnd[18];
    char snonce[32], salt[32];
    const char *r;

    if (!c2 || strncmp(c2 + 1, "n=", 2) != 0)
        return -1;
    snprintf(sc->gs2, sizeof(sc->gs2), "%.*s", (int)(c2 + 1 - msg), msg);
    snprintf(res.gs2, sizeof(res.gs2), "%s", sc->gs2);
    snprintf(sc->first_bare, sizeof(sc->first_bare), "%s", c2 + 1);
    snprintf(res.user, sizeof(res.user), "%.*s", (int)strcspn(c2 + 3, ","),
             c2 + 3);
    r = strstr(sc->first_bare, ",r=");
    if (!r || RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    b64(rnd, sizeof(rnd), snonce);
    b64(sc->salt, sizeof(sc->salt), salt);
    snprintf(sc->server_first, sizeof(sc->server_first), "r=%.*s%s,s=%s,i=%d",
             (int)strcspn(r + 3, ","), r + 3, snonce, salt, ITERATIONS);
    return 0;
}

/* The cbind data the client must send: gs2 header + our binding data. */
static size_t expected_cbind(const scram *sc, SSL *ssl, const char *mode,
                             unsigned char *out)
{
    size_t n = strlen(sc->gs2);

    memcpy(out, sc->gs2, n);
    if (strncmp(sc->gs2, "p=tls-exporter,", 15) != 0)
        return n;
    if (SSL_export_keying_material(ssl, out + n, 32, "EXPORTER-Channel-Binding",
                                   24, NULL, 0, 0) != 1)
        return 0;
    if (strcmp(mode, "flip") == 0)
        out[n + 7] ^= 0x01;
    return n + 32;
}

/* client-final "c=..,r=..,p=..": 0 when the binding and the proof hold
 * (res says which did not); the server signature into sig. */
static int scram_final(scram *sc, SSL *ssl, const char *mode, const char *msg,
                       unsigned char *sig)
{
    unsigned char want[128], got[128], proof[72], csig[64], ck[64], h[64];
    char auth_msg[2048], c64[256];
    const char *p = strstr(msg, ",p=");
    size_t wlen = expected_cbind(sc, ssl, mode, want), i;
    int glen;
    unsigned int n = 0;

    if (!p || strncmp(msg, "c=", 2) != 0 || !wlen)
        return -1;
    snprintf(c64, sizeof(c64), "%.*s", (int)strcspn(msg + 2, ","), msg + 2);
    glen = unb64(c64, got, sizeof(got));
    snprintf(res.cbind, sizeof(res.cbind), "%s",
             sc->gs2[0] != 'p'                               ? "none"
             : glen == (int)wlen && !memcmp(got, want, wlen) ? "match"
                                                             : "mismatch");
    if (glen != (int)wlen || memcmp(got, want, wlen) != 0)
        return -1;
    snprintf(auth_msg, sizeof(auth_msg), "%s,%s,%.*s", sc->first_bare,
             sc->server_first, (int)(p - msg), msg);
    if (unb64(p + 3, proof, sizeof(proof)) != (int)sc->hlen)
        return -1;
    hmac(sc, sc->stored, auth_msg, csig);
    for (i = 0; i < sc->hlen; i++)
        ck[i] = proof[i] ^ csig[i];
    EVP_Digest(ck, sc->hlen, h, &n, sc->md, NULL);
    snprintf(res.proof, sizeof(res.proof), "%s",
             memcmp(h, sc->stored, sc->hlen) ? "bad" : "ok");
    hmac(sc, sc->server_key, auth_msg, sig);
    return strcmp(res.proof, "ok") == 0 ? 0 : -1;
}

/* ---- the stream ---- */

/* Waits for the client's stream header (the XML declaration and the open
 * <stream:stream ...>), drops it and answers with ours. */
static int header(conn *c, int id)
{
    char h[512], *gt;
    long at = wait_for(c, "<stream:stream");

    if (at < 0)
        return -1;
    while (!(gt = strchr(c->in + at, '>')))
        if (more(c))
            return -1;
    eat(c, gt + 1 - c->in);
    snprintf(h, sizeof(h),
             "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams' id='cb%d' "
             "from='localhost' version='1.0'>",
             id);
    return put(c, h);
}

static int features_sasl(conn *c, const opts *o)
{
    char buf[2048], *save = NULL, *m, list[512];
    size_t n;

    snprintf(list, sizeof(list), "%s", o->mechs);
    n = (size_t)snprintf(buf, sizeof(buf),
                         "<stream:features><mechanisms xmlns='" NS_SASL "'>");
    for (m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
        n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                              "<mechanism>%s</mechanism>", m);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "</mechanisms>");
    if (!o->no_cb_list)
        n +=
            (size_t)snprintf(buf + n, sizeof(buf) - n,
                             "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
                             "<channel-binding type='tls-exporter'/>"
                             "</sasl-channel-binding>");
    snprintf(buf + n, sizeof(buf) - n, "</stream:features>");
    return put(c, buf);
}

static int sasl_reply(conn *c, const char *name, const char *data)
{
    char buf[1536], enc[1024];

    b64((const unsigned char *)data, strlen(data), enc);
    snprintf(buf, sizeof(buf), "<%s xmlns='" NS_SASL "'>%s</%s>", name, enc,
             name);
    return put(c, buf);
}

static int sasl_failure(conn *c, const char *cond)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "<failure xmlns='" NS_SASL "'><%s/></failure>",
             cond);
    return put(c, buf);
}

/* The SCRAM exchange: 0 authenticated, -1 not. */
static int authenticate(conn *c, const opts *o)
{
    char text[2048], mech[64], server_final[256], s64[128];
    unsigned char dec[1536], sig[64];
    scram sc = {0};
    int n;

    if (element(c, "auth", text, sizeof(text), "mechanism", mech,
                sizeof(mech)) < 0)
        return -1;
    snprintf(res.mech, sizeof(res.mech), "%s", mech);
    sc.md = mech_md(mech);
    n = unb64(text, dec, sizeof(dec) - 1);
    if (!sc.md || n < 0 || scram_keys(&sc, o->password))
        return sasl_failure(c, "invalid-mechanism"), -1;
    dec[n] = '\0';
    if (scram_first(&sc, (char *)dec) ||
        sasl_reply(c, "challenge", sc.server_first))
        return sasl_failure(c, "malformed-request"), -1;
    if (element(c, "response", text, sizeof(text), NULL, NULL, 0) < 0 ||
        (n = unb64(text, dec, sizeof(dec) - 1)) < 0)
        return -1;
    dec[n] = '\0';
    if (strcmp(o->mode, "cbrefuse") == 0)
        return sasl_reply(c, "challenge", "e=channel-bindings-dont-match"), -1;
    if (scram_final(&sc, c->ssl, o->mode, (char *)dec, sig))
        return sasl_failure(c, "not-authorized"), -1;
    if (strcmp(o->mode, "fail") == 0)
        return sasl_failure(c, "account-disabled"), -1;
    if (strcmp(o->mode, "forge") == 0)
        sig[0] ^= 0x80;
    b64(sig, sc.hlen, s64);
    snprintf(server_final, sizeof(server_final), "v=%s", s64);
    return sasl_reply(c, "success", server_final);
}

static int bind_resource(conn *c)
{
    char text[512], id[64], res_name[128], buf[640];
    char *r, *e;

    if (put(c, "<stream:features><bind "
               "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
               "<sm xmlns='urn:xmpp:sm:3'/></stream:features>") ||
        element(c, "iq", text, sizeof(text), "id", id, sizeof(id)) < 0)
        return -1;
    r = strstr(text, "<resource>");
    e = r ? strstr(r, "</resource>") : NULL;
    snprintf(res_name, sizeof(res_name), "%.*s", e ? (int)(e - r - 10) : 2,
             e ? r + 10 : "cb");
    snprintf(res.bound, sizeof(res.bound), "%s@localhost/%s", res.user,
             res_name);
    snprintf(buf, sizeof(buf),
             "<iq type='result' id='%s'><bind "
             "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid></bind>"
             "</iq>",
             id, res.bound);
    return put(c, buf);
}

/* The length of the top-level element at the start of the buffer (read
 * until complete), or -1. */
static long top_len(conn *c)
{
    char name[32], close[40], *gt;

    while (!(gt = strchr(c->in, '>')))
        if (more(c))
            return -1;
    if (gt[-1] == '/' || c->in[1] == '/')
        return gt + 1 - c->in;
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(c->in + 1, " />"),
             c->in + 1);
    snprintf(close, sizeof(close), "</%s>", name);
    return wait_for(c, close);
}

/* Answers one top-level element after bind; 1 at the end of the stream. */
static int serve_one(conn *c)
{
    char name[32], id[64], buf[256], el[4096];
    long n;

    while (c->len && c->in[0] != '<')
        eat(c, 1);
    if ((n = top_len(c)) < 0)
        return -1;
    snprintf(el, sizeof(el), "%.*s", (int)n, c->in);
    eat(c, n);
    if (strncmp(el, "</stream:stream>", 16) == 0)
        return 1;
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(el + 1, " />"), el + 1);
    if (strcmp(name, "enable") == 0)
        return put(c, "<enabled xmlns='urn:xmpp:sm:3'/>");
    if (strcmp(name, "r") == 0) {
        snprintf(buf, sizeof(buf), "<a xmlns='urn:xmpp:sm:3' h='%u'/>",
                 res.stanzas);
        res.acks++;
        return put(c, buf);
    }
    if (strcmp(name, "message") && strcmp(name, "presence") &&
        strcmp(name, "iq"))
        return 0;
    res.stanzas++;
    if (strcmp(name, "iq") || !strstr(el, "urn:xmpp:ping"))
        return 0;
    snprintf(id, sizeof(id), "%.*s",
             strstr(el, " id='") ? (int)strcspn(strstr(el, " id='") + 5, "'")
                                 : 0,
             strstr(el, " id='") ? strstr(el, " id='") + 5 : "");
    snprintf(buf, sizeof(buf), "<iq type='result' id='%s'/>", id);
    return put(c, buf);
}

static void serve(conn *c)
{
    int rc;

    while ((rc = serve_one(c)) == 0)
        ;
    snprintf(res.end, sizeof(res.end), "%s", rc == 1 ? "close" : "eof");
}

/* ---- TLS ---- */

static SSL_CTX *server_ctx(const opts *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Reads what the client sends until it closes: counts it. */
static void drain(conn *c, long *count)
{
    char b[4096];
    ssize_t r;

    while ((r = read(c->fd, b, sizeof(b))) > 0)
        *count += r;
}

/* A TLS record's length from its 5-byte header, or -1. */
static long record_len(const unsigned char *h)
{
    return h[0] == 0x16 ? 5 + ((long)h[3] << 8 | h[4]) : -1;
}

/* stall / stall-mid: reads the ClientHello record; stall-mid answers half
 * of the server's first flight (made through memory BIOs); then counts
 * what else the client sends until it gives up. */
static void stall(conn *c, SSL_CTX *ctx, const char *mode)
{
    unsigned char hello[16384], out[16384];
    long n = 0, want = -1;
    ssize_t r;
    SSL *ssl;
    BIO *rb, *wb;
    int olen;

    while (want < 0 || n < want) {
        r = read(c->fd, hello + n, sizeof(hello) - (size_t)n);
        if (r <= 0)
            break;
        n += r;
        if (n >= 5)
            want = record_len(hello);
    }
    snprintf(res.end, sizeof(res.end), "%s",
             want > 0 && n >= want ? "hello" : "no-hello");
    if (strcmp(mode, "stall-mid") == 0 && want > 0) {
        ssl = SSL_new(ctx);
        rb = BIO_new(BIO_s_mem());
        wb = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, rb, wb);
        BIO_write(rb, hello, (int)want);
        SSL_accept(ssl); /* wants the client's next flight */
        olen = BIO_read(wb, out, sizeof(out));
        if (olen > 1 && write(c->fd, out, (size_t)olen / 2) > 0)
            snprintf(res.end, sizeof(res.end), "hello+half");
        SSL_free(ssl);
    }
    res.after_hello = n - want;
    drain(c, &res.after_hello);
}

static int start_tls(conn *c, SSL_CTX *ctx, const opts *o)
{
    if (strncmp(o->mode, "stall", 5) == 0) {
        stall(c, ctx, o->mode);
        return -1;
    }
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_accept(c->ssl) != 1) {
        snprintf(res.end, sizeof(res.end), "tls-failed");
        return -1;
    }
    return 0;
}

/* ---- one connection ---- */

static int starttls(conn *c, SSL_CTX *ctx, const opts *o)
{
    if (header(c, 0) ||
        put(c, "<stream:features><starttls "
               "xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
               "</starttls></stream:features>") ||
        element(c, "starttls", NULL, 0, NULL, NULL, 0) ||
        put(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
        return -1;
    c->len = 0;
    c->in[0] = '\0';
    return start_tls(c, ctx, o);
}

static void session(conn *c, SSL_CTX *ctx, const opts *o)
{
    int rc = o->direct ? start_tls(c, ctx, o) : starttls(c, ctx, o);

    if (rc || header(c, 1) || features_sasl(c, o))
        return;
    if (authenticate(c, o)) {
        long ignored = 0;

        snprintf(res.end, sizeof(res.end), "auth-refused");
        drain(c, &ignored);
        return;
    }
    if (header(c, 2) || bind_resource(c))
        return;
    serve(c);
}

static int listen_loopback(void)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
        getsockname(fd, (struct sockaddr *)&a, &alen))
        return -1;
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static int parse_args(int argc, char **argv, opts *o)
{
    int i;

    o->mechs = "SCRAM-SHA-256-PLUS,SCRAM-SHA-256";
    o->mode = "ok";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--direct") == 0)
            o->direct = 1;
        else if (strcmp(a, "--no-cb-list") == 0)
            o->no_cb_list = 1;
        else if (v && strcmp(a, "--cert") == 0 && ++i)
            o->cert = v;
        else if (v && strcmp(a, "--key") == 0 && ++i)
            o->key = v;
        else if (v && strcmp(a, "--password") == 0 && ++i)
            o->password = v;
        else if (v && strcmp(a, "--mechs") == 0 && ++i)
            o->mechs = v;
        else if (v && strcmp(a, "--mode") == 0 && ++i)
            o->mode = v;
        else
            return -1;
    }
    return o->cert && o->key && o->password ? 0 : -1;
}

static void print_result(const conn *c)
{
    printf("RESULT mech=%s gs2=%s cbind=%s proof=%s tls=%s user=%s bound=%s "
           "stanzas=%u acks=%u after_hello=%ld end=%s\n",
           res.mech[0] ? res.mech : "-", res.gs2[0] ? res.gs2 : "-",
           res.cbind[0] ? res.cbind : "-", res.proof[0] ? res.proof : "-",
           c->ssl ? SSL_get_version(c->ssl) : "-", res.user[0] ? res.user : "-",
           res.bound[0] ? res.bound : "-", res.stanzas, res.acks,
           res.after_hello, res.end[0] ? res.end : "-");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static conn c;
    struct timeval tv = {30, 0};
    opts o = {0};
    SSL_CTX *ctx;
    int lfd;

    if (parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: cbserver --cert F --key F --password P "
                        "[--direct] [--mechs L] [--no-cb-list] [--mode M]\n");
        return 2;
    }
    ctx = server_ctx(&o);
    lfd = ctx ? listen_loopback() : -1;
    if (lfd < 0)
        return 1;
    c.fd = accept(lfd, NULL, NULL);
    if (c.fd >= 0) {
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        session(&c, ctx, &o);
        print_result(&c);
        SSL_free(c.ssl);
        close(c.fd);
    }
    close(lfd);
    SSL_CTX_free(ctx);
    return 0;
}
