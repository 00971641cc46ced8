/* tls.c - see net.h: an OpenSSL 3 client over a connected non-blocking
 * socket. Every OpenSSL call of the network layer is here. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/netint.h"
#include "model/pin.h"

#define ALPN_XMPP "\x0bxmpp-client"
#define CB_EXPORTER_LABEL "EXPORTER-Channel-Binding"
#define CB_EXPORTER_LEN 32

enum tls_state { T_START, T_HANDSHAKE, T_OPEN, T_FAILED };

struct xmsg_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    enum tls_state state;
    short want; /* POLLIN or POLLOUT: what OpenSSL waits for */
    int trust;
    char *pins;
    char domain[XMSG_NET_NAME_MAX];
    uint64_t deadline;
    xmsg_net_log_fn log;
    void *log_ctx;
    xmsg_net_err err;
};

/* The first error of OpenSSL's queue, as text. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();

    if (!e)
        return "unknown error";
    ERR_error_string_n(e, buf, len);
    return buf;
}

/* 1 if dir holds OpenSSL hash links (8 hex digits, ".0"). */
static int hashed_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        found = strlen(e->d_name) == 10 &&
                strspn(e->d_name, "0123456789abcdef") == 8 &&
                strcmp(e->d_name + 8, ".0") == 0;
    }
    closedir(d);
    return found;
}

/* 1 if a and b name the same file (after links). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The system's trust, looked up lazily in the hashed directory (only
 * the certificates a chain needs are read). The bundle file is parsed (~140
 * certificates, most of the CPU of a connection) only when there is no hashed
 * directory, or when SSL_CERT_FILE names another file than the system's bundle
 * (a choice of the user's, kept). */
static int load_system_store(SSL_CTX *ctx)
{
    const char *dir = getenv(X509_get_default_cert_dir_env());
    const char *file = getenv(X509_get_default_cert_file_env());
    const char *bundle = X509_get_default_cert_file();

    if (!dir || !dir[0])
        dir = X509_get_default_cert_dir();
    if (file && file[0] && strcmp(file, "/dev/null") != 0 &&
        !same_file(file, bundle) && SSL_CTX_load_verify_file(ctx, file) != 1)
        return -1;
    if (strchr(dir, ':') || hashed_dir(dir))
        return SSL_CTX_load_verify_dir(ctx, dir) == 1 ? 0 : -1;
    return SSL_CTX_load_verify_file(ctx, bundle) == 1 ? 0 : -1;
}

static int new_ctx(xmsg_tls *t, const xmsg_tls_cfg *cfg, xmsg_net_err *err)
{
    char why[256];

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx || SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1) {
        xmsg_net_fail(err, XMSG_ERR_INTERNAL, "TLS: no context: %s",
                      ssl_reason(why, sizeof(why)));
        return -1;
    }
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(t->ctx, cfg->trust ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       NULL);
    if (cfg->trust)
        return 0;
    if (load_system_store(t->ctx) != 0)
        xmsg_net_log(t->log, t->log_ctx, XMSG_LOG_WARN,
                     "TLS: the system's CA store did not load: %s",
                     ssl_reason(why, sizeof(why)));
    ERR_clear_error();
    if (cfg->ca_file && SSL_CTX_load_verify_file(t->ctx, cfg->ca_file) != 1) {
        xmsg_net_fail(err, XMSG_ERR_INPUT, "TLS: caFile %s does not load: %s",
                      cfg->ca_file, ssl_reason(why, sizeof(why)));
        return -1;
    }
    return 0;
}

static int is_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* SNI, the name verified, ALPN. */
static int setup_ssl(xmsg_tls *t, const xmsg_tls_cfg *cfg)
{
    const int ip = is_ip_literal(cfg->domain);

    t->ssl = SSL_new(t->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
        return -1;
    if (!ip && SSL_set_tlsext_host_name(t->ssl, cfg->domain) != 1)
        return -1;
    if (!cfg->trust && !ip && SSL_set1_host(t->ssl, cfg->domain) != 1)
        return -1;
    if (!cfg->trust && ip &&
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), cfg->domain) != 1)
        return -1;
    /* SSL_set_alpn_protos returns 0 on success. */
    if (cfg->direct &&
        SSL_set_alpn_protos(t->ssl, (const unsigned char *)ALPN_XMPP,
                            sizeof(ALPN_XMPP) - 1) != 0)
        return -1;
    SSL_set_connect_state(t->ssl);
    return 0;
}

xmsg_tls *xmsg_tls_new(const xmsg_tls_cfg *cfg, int fd, uint64_t deadline,
                       xmsg_net_log_fn log, void *log_ctx, xmsg_net_err *err)
{
    xmsg_tls *t = calloc(1, sizeof(*t));
    char why[256];

    if (!t) {
        xmsg_net_fail(err, XMSG_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    t->fd = fd;
    t->trust = cfg->trust;
    t->deadline = deadline;
    t->log = log;
    t->log_ctx = log_ctx;
    if (!cfg->domain || strlen(cfg->domain) >= sizeof(t->domain)) {
        xmsg_net_fail(err, XMSG_ERR_INPUT, "TLS: bad domain");
        goto fail;
    }
    snprintf(t->domain, sizeof(t->domain), "%s", cfg->domain);
    if (cfg->pins && !(t->pins = xmsg_strdup(cfg->pins))) {
        xmsg_net_fail(err, XMSG_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    ERR_clear_error();
    if (new_ctx(t, cfg, err) != 0)
        goto fail;
    if (setup_ssl(t, cfg) != 0) {
        xmsg_net_fail(err, XMSG_ERR_INTERNAL, "TLS: setup failed: %s",
                      ssl_reason(why, sizeof(why)));
        goto fail;
    }
    if (cfg->trust)
        xmsg_net_log(log, log_ctx, XMSG_LOG_WARN,
                     "TLS certificate verification is off (trustTLS): the "
                     "server is not authenticated");
    return t;
fail:
    xmsg_tls_free(t);
    return NULL;
}

void xmsg_tls_wait(xmsg_tls *t, xmsg_net_wait *w)
{
    memset(w, 0, sizeof(*w));
    if (t->state == T_START) {
        w->wake = 1; /* the first step starts the handshake */
        return;
    }
    if (t->state == T_FAILED)
        return;
    w->pfd[0].fd = t->fd;
    w->pfd[0].events = t->want ? t->want : POLLIN;
    w->n = 1;
}

/* The pin (pin.h), on the certificate the server showed. */
static xmsg_net_rc check_pin(xmsg_tls *t)
{
    X509 *x = SSL_get1_peer_certificate(t->ssl);
    BIO *bio = x ? BIO_new(BIO_s_mem()) : NULL;
    char *pem = NULL, pin[128];
    long len = 0;
    xmsg_net_rc rc;

    if (bio && PEM_write_bio_X509(bio, x) == 1)
        len = BIO_get_mem_data(bio, &pem);
    /* The memory BIO's data is not NUL-terminated: write one. */
    if (len > 0 && BIO_write(bio, "", 1) == 1)
        len = BIO_get_mem_data(bio, &pem);
    if (len <= 0 || !pem || xmsg_pin_of_pem(pem, pin, sizeof(pin)) != 0)
        rc = xmsg_net_fail(&t->err, XMSG_ERR_TLS,
                           "TLS: cannot read the server's public key to "
                           "check the pin");
    else if (!xmsg_pins_match(t->pins, pin))
        rc = xmsg_net_fail(&t->err, XMSG_ERR_TLS,
                           "TLS: the server's public key %s matches no pin",
                           pin);
    else
        rc = XMSG_NET_DONE;
    if (rc == XMSG_NET_DONE)
        xmsg_net_log(t->log, t->log_ctx, XMSG_LOG_INFO,
                     "the server's public key matches pin %s", pin);
    BIO_free(bio);
    X509_free(x);
    return rc;
}

static void log_session(xmsg_tls *t)
{
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;

    SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
    xmsg_net_log(t->log, t->log_ctx, XMSG_LOG_INFO,
                 "TLS: %s, %s with %s%s%.*s%s", SSL_get_version(t->ssl),
                 SSL_get_cipher_name(t->ssl), t->domain,
                 alpn_len ? " (ALPN " : "", (int)alpn_len,
                 alpn ? (const char *)alpn : "", alpn_len ? ")" : "");
}

static xmsg_net_rc handshake_failed(xmsg_tls *t, int e)
{
    const long vr = SSL_get_verify_result(t->ssl);
    char why[256];

    if (e == SSL_ERROR_SSL && !t->trust && vr != X509_V_OK)
        return xmsg_net_fail(&t->err, XMSG_ERR_TLS,
                             "TLS: the certificate of %s is not trusted: %s",
                             t->domain, X509_verify_cert_error_string(vr));
    if (e == SSL_ERROR_SSL &&
        ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return xmsg_net_fail(&t->err, XMSG_ERR_CONNECT,
                             "TLS: %s closed the connection during the "
                             "handshake",
                             t->domain);
    if (e == SSL_ERROR_SSL)
        return xmsg_net_fail(&t->err, XMSG_ERR_TLS,
                             "TLS: handshake with %s failed: %s", t->domain,
                             ssl_reason(why, sizeof(why)));
    /* The peer vanishing (a reset, an EOF without an alert) is a lost
     * connection wherever it happens: retrying may work. */
    if (e == SSL_ERROR_SYSCALL && errno && ERR_peek_error() == 0)
        return xmsg_net_fail(&t->err, XMSG_ERR_CONNECT,
                             "TLS: connection lost during the handshake "
                             "with %s: %s",
                             t->domain, strerror(errno));
    return xmsg_net_fail(&t->err, XMSG_ERR_CONNECT,
                         "TLS: %s closed the connection during the handshake",
                         t->domain);
}

/* 1 if e is "wait for the socket" (t->want set). */
static int would_block(xmsg_tls *t, int e)
{
    if (e == SSL_ERROR_WANT_READ)
        t->want = POLLIN;
    else if (e == SSL_ERROR_WANT_WRITE)
        t->want = POLLOUT;
    else
        return 0;
    return 1;
}

static xmsg_net_rc handshake(xmsg_tls *t)
{
    xmsg_sigpipe sp;
    int r, e;

    errno = 0;
    ERR_clear_error();
    xmsg_sigpipe_block(&sp);
    r = SSL_connect(t->ssl);
    e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
    xmsg_sigpipe_restore(&sp);
    if (r == 1) {
        log_session(t);
        t->want = POLLIN;
        return t->pins ? check_pin(t) : XMSG_NET_DONE;
    }
    if (would_block(t, e))
        return XMSG_NET_AGAIN;
    return handshake_failed(t, e);
}

xmsg_net_rc xmsg_tls_step(xmsg_tls *t, const struct pollfd *pfd, int n,
                          uint64_t now)
{
    xmsg_net_rc rc;

    (void)pfd;
    (void)n;
    if (t->state == T_OPEN)
        return XMSG_NET_DONE;
    if (t->state == T_FAILED)
        return XMSG_NET_FAIL;
    t->state = T_HANDSHAKE;
    rc = handshake(t);
    if (rc == XMSG_NET_AGAIN && now >= t->deadline)
        rc = xmsg_net_fail(&t->err, XMSG_ERR_TIMEOUT,
                           "TLS: the handshake with %s did not finish "
                           "before the deadline",
                           t->domain);
    if (rc != XMSG_NET_AGAIN)
        t->state = rc == XMSG_NET_DONE ? T_OPEN : T_FAILED;
    return rc;
}

const xmsg_net_err *xmsg_tls_err(const xmsg_tls *t)
{
    return &t->err;
}

/* After a read or write that did not move bytes. */
static xmsg_net_rc io_failed(xmsg_tls *t, int e)
{
    char why[256];

    if (would_block(t, e))
        return XMSG_NET_AGAIN;
    t->state = T_FAILED;
    if (e == SSL_ERROR_ZERO_RETURN)
        return xmsg_net_fail(&t->err, XMSG_ERR_CONNECT,
                             "TLS: %s closed the connection", t->domain);
    if (e == SSL_ERROR_SSL)
        return xmsg_net_fail(&t->err, XMSG_ERR_CONNECT, "TLS: %s: %s",
                             t->domain, ssl_reason(why, sizeof(why)));
    return xmsg_net_fail(&t->err, XMSG_ERR_CONNECT,
                         "TLS: connection to %s lost: %s", t->domain,
                         errno ? strerror(errno) : "closed");
}

typedef int (*io_fn)(SSL *ssl, void *buf, size_t len, size_t *done);

static int read_ex(SSL *ssl, void *buf, size_t len, size_t *done)
{
    return SSL_read_ex(ssl, buf, len, done);
}

static int write_ex(SSL *ssl, void *buf, size_t len, size_t *done)
{
    return SSL_write_ex(ssl, buf, len, done);
}

static xmsg_net_rc io(xmsg_tls *t, io_fn fn, void *buf, size_t len,
                      size_t *done)
{
    xmsg_sigpipe sp;
    int r, e;

    *done = 0;
    if (t->state != T_OPEN)
        return xmsg_net_fail(&t->err, XMSG_ERR_INTERNAL,
                             "TLS: no open connection");
    if (len == 0)
        return XMSG_NET_DONE;
    errno = 0;
    ERR_clear_error();
    xmsg_sigpipe_block(&sp);
    r = fn(t->ssl, buf, len, done);
    e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
    xmsg_sigpipe_restore(&sp);
    if (r == 1)
        return XMSG_NET_DONE;
    return io_failed(t, e);
}

xmsg_net_rc xmsg_tls_read(xmsg_tls *t, void *buf, size_t len, size_t *done)
{
    return io(t, read_ex, buf, len, done);
}

xmsg_net_rc xmsg_tls_write(xmsg_tls *t, const void *buf, size_t len,
                           size_t *done)
{
    /* OpenSSL does not write into buf; io_fn is shared with reads. */
    return io(t, write_ex, (void *)(uintptr_t)buf, len, done);
}

size_t xmsg_tls_pending(const xmsg_tls *t)
{
    return t->state == T_OPEN ? (size_t)SSL_pending(t->ssl) : 0;
}

int xmsg_tls_version(const xmsg_tls *t)
{
    return t->state == T_OPEN ? SSL_version(t->ssl) : 0;
}

int xmsg_tls_cb_unique(const xmsg_tls *t, unsigned char *out, size_t cap)
{
    size_t n;

    if (xmsg_tls_version(t) != TLS1_2_VERSION)
        return -1;
    /* The first Finished of the handshake: ours in a full handshake, the
     * server's in a resumed one (RFC 5929 section 3.1). */
    if (SSL_session_reused(t->ssl))
        n = SSL_get_peer_finished(t->ssl, out, cap);
    else
        n = SSL_get_finished(t->ssl, out, cap);
    return n > 0 && n <= cap ? (int)n : -1;
}

int xmsg_tls_cb_exporter(const xmsg_tls *t, unsigned char *out, size_t cap)
{
    if (xmsg_tls_version(t) != TLS1_3_VERSION || cap < CB_EXPORTER_LEN)
        return -1;
    if (SSL_export_keying_material(
            t->ssl, out, CB_EXPORTER_LEN, CB_EXPORTER_LABEL,
            sizeof(CB_EXPORTER_LABEL) - 1, NULL, 0, 0) != 1)
        return -1;
    return CB_EXPORTER_LEN;
}

int xmsg_tls_cb_endpoint(const xmsg_tls *t, unsigned char *out, size_t cap)
{
    X509 *x = t->state == T_OPEN ? SSL_get0_peer_certificate(t->ssl) : NULL;
    const EVP_MD *md;
    unsigned int len = 0;
    int mdnid = NID_undef;

    if (!x || X509_get_signature_info(x, &mdnid, NULL, NULL, NULL) != 1)
        return -1;
    /* RFC 5929 section 4.1: MD5 and SHA-1 become SHA-256. */
    if (mdnid == NID_md5 || mdnid == NID_sha1)
        mdnid = NID_sha256;
    md = EVP_get_digestbynid(mdnid);
    if (!md || (size_t)EVP_MD_get_size(md) > cap ||
        X509_digest(x, md, out, &len) != 1)
        return -1;
    return (int)len;
}

void xmsg_tls_free(xmsg_tls *t)
{
    xmsg_sigpipe sp;

    if (!t)
        return;
    if (t->ssl && t->state == T_OPEN) {
        /* close_notify, once; the peer's is not awaited. */
        xmsg_sigpipe_block(&sp);
        SSL_shutdown(t->ssl);
        xmsg_sigpipe_restore(&sp);
    }
    ERR_clear_error();
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    xmsg_free_secret(t->pins);
    free(t);
}
