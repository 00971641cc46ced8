/* test_upload_put.c - the XEP-0363 PUT (libcurl) against a scripted HTTP
 * peer on loopback (a thread of this test, plain HTTP: params disableTLS):
 * the bytes and headers it gets, a non-2xx status named in the error, a
 * connection cut, a peer that stalls (bounded by the timeout). */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "features/upload.h"

enum act { REPLY_201, REPLY_500, CUT, STALL };

struct peer {
    int lfd;
    int port;
    enum act act;
    char head[4096]; /* the request's head */
    size_t body;     /* body bytes received */
    unsigned sum;    /* their byte sum */
    int wake[2];     /* STALL: written when the client gave up */
    uint8_t *keep;   /* when set: the body's first keep_cap bytes */
    size_t keep_cap;
    SSL_CTX *ctx; /* HTTPS when set */
    SSL *ssl;
    pthread_t th;
};

/* Body bytes received: counted, summed, kept when asked. */
static void got_body(struct peer *p, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++, p->body++) {
        p->sum += (unsigned char)b[i];
        if (p->keep && p->body < p->keep_cap)
            p->keep[p->body] = (uint8_t)b[i];
    }
}

static ssize_t rd(struct peer *p, int fd, char *buf, size_t n)
{
    return p->ssl ? SSL_read(p->ssl, buf, (int)n) : read(fd, buf, n);
}

static ssize_t wr(struct peer *p, int fd, const char *buf, size_t n)
{
    return p->ssl ? SSL_write(p->ssl, buf, (int)n) : write(fd, buf, n);
}

/* Reads the head (to the blank line); 0 or -1. Body bytes read past it
 * are counted. */
static int read_head(int fd, struct peer *p)
{
    size_t n = 0;
    ssize_t r;
    char *end;

    while (n < sizeof(p->head) - 1) {
        r = rd(p, fd, p->head + n, sizeof(p->head) - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        p->head[n] = '\0';
        end = strstr(p->head, "\r\n\r\n");
        if (end) {
            got_body(p, end + 4, (size_t)(p->head + n - (end + 4)));
            return 0;
        }
    }
    return -1;
}

static void read_body(int fd, struct peer *p, size_t want)
{
    char buf[65536];
    ssize_t r;

    while (p->body < want && (r = rd(p, fd, buf, sizeof(buf))) > 0)
        got_body(p, buf, (size_t)r);
}

static void *serve(void *arg)
{
    struct peer *p = arg;
    const char *cl;
    int fd = accept(p->lfd, NULL, NULL);
    char reply[128];

    if (fd >= 0 && p->ctx) {
        p->ssl = SSL_new(p->ctx);
        SSL_set_fd(p->ssl, fd);
        if (SSL_accept(p->ssl) != 1) {
            close(fd);
            return NULL;
        }
    }
    if (fd < 0 || read_head(fd, p)) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (p->act == STALL) {
        struct pollfd w = {p->wake[0], POLLIN, 0};

        poll(&w, 1, 30000);
    }
    if (p->act == CUT || p->act == STALL) {
        close(fd);
        return NULL;
    }
    cl = strstr(p->head, "Content-Length: ");
    read_body(fd, p, cl ? strtoul(cl + 16, NULL, 10) : 0);
    snprintf(reply, sizeof(reply),
             "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
             p->act == REPLY_201 ? "201 Created" : "500 Oops");
    if (wr(p, fd, reply, strlen(reply)) < 0)
        p->body = 0;
    close(fd);
    return NULL;
}

/* Where the next peer keeps the body it gets (none: NULL). */
static uint8_t *keep_next;
static size_t keep_next_cap;

static void peer_start_ctx(struct peer *p, enum act act, SSL_CTX *ctx)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    memset(p, 0, sizeof(*p));
    p->keep = keep_next; /* set before the thread starts */
    p->keep_cap = keep_next_cap;
    keep_next = NULL;
    keep_next_cap = 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->act = act;
    p->ctx = ctx;
    assert_int_equal(pipe(p->wake), 0);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->th, NULL, serve, p), 0);
}

static void peer_start(struct peer *p, enum act act)
{
    peer_start_ctx(p, act, NULL);
}

static void peer_stop(struct peer *p)
{
    if (write(p->wake[1], "x", 1) != 1)
        fail();
    shutdown(p->lfd, SHUT_RDWR); /* wakes an accept() nobody answers */
    pthread_join(p->th, NULL);
    close(p->lfd);
    close(p->wake[0]);
    close(p->wake[1]);
    SSL_free(p->ssl);
    SSL_CTX_free(p->ctx);
}

/* A temp file of n bytes (i * 7 mod 251); *sum gets their byte sum. */
static FILE *data_file(size_t n, unsigned *sum)
{
    FILE *f = tmpfile();
    size_t i;

    assert_non_null(f);
    *sum = 0;
    for (i = 0; i < n; i++) {
        fputc((int)(i * 7 % 251), f);
        *sum += (unsigned)(i * 7 % 251);
    }
    rewind(f);
    return f;
}

/* Counts its calls; says stop from call number stop_at (0: never). */
struct ticks {
    int n, stop_at;
    int64_t sent; /* the largest count of bytes sent told */
};

static int on_tick(void *userdata, int64_t sent)
{
    struct ticks *t = userdata;

    t->n++;
    if (sent > t->sent)
        t->sent = sent;
    return t->stop_at && t->n >= t->stop_at;
}

static struct ticks ticks;

/* The PUT over https (p->ctx) or http; ca_file and trust as params. */
static xmsg_err put_tls(struct peer *p, FILE *f, size_t n, long timeout,
                        const char *ca_file, int trust, xmsg_status *st)
{
    char url[64], name[] = "Authorization", value[] = "Bearer t0k";
    xmsg_upload_slot slot;
    xmsg_params *params = xmsg_params_new();
    xmsg_err rc;

    memset(&slot, 0, sizeof(slot));
    snprintf(url, sizeof(url), "%s://%s:%d/put/f.bin",
             p->ctx ? "https" : "http", p->ctx ? "localhost" : "127.0.0.1",
             p->port);
    slot.put_url = url;
    slot.hname[0] = name;
    slot.hvalue[0] = value;
    slot.nh = 1;
    assert_int_equal(xmsg_params_set_bool(params,
                                          p->ctx ? "trustTLS" : "disableTLS",
                                          p->ctx ? trust : 1, NULL),
                     XMSG_OK);
    if (ca_file)
        assert_int_equal(
            xmsg_params_set_string(params, "caFile", ca_file, NULL), XMSG_OK);
    assert_int_equal(xmsg_params_set_int(params, "timeout", timeout, NULL),
                     XMSG_OK);
    rc = xmsg_upload_put(&slot, f, (int64_t)n, "image/png", params, on_tick,
                         &ticks, st);
    xmsg_params_free(params);
    return rc;
}

static xmsg_err put(struct peer *p, FILE *f, size_t n, long timeout,
                    xmsg_status *st)
{
    return put_tls(p, f, n, timeout, NULL, 0, st);
}

/* 3 MB arrive whole, with the slot's header and the content type. */
static void test_put_ok(void **state)
{
    const size_t n = 3 * 1000 * 1000;
    struct peer p;
    unsigned sum;
    FILE *f = data_file(n, &sum);
    xmsg_status *st = xmsg_status_new();

    (void)state;
    memset(&ticks, 0, sizeof(ticks));
    peer_start(&p, REPLY_201);
    assert_int_equal(put(&p, f, n, 20, st), XMSG_OK);
    peer_stop(&p);
    assert_true(ticks.n > 0); /* the caller's stream was served */
    /* and told the bytes sent, never more than the file's */
    assert_true(ticks.sent > 0 && ticks.sent <= 3 * 1000 * 1000);
    assert_non_null(strstr(p.head, "PUT /put/f.bin HTTP/1.1\r\n"));
    assert_non_null(strstr(p.head, "\r\nAuthorization: Bearer t0k\r\n"));
    assert_non_null(strstr(p.head, "\r\nContent-Type: image/png\r\n"));
    assert_non_null(strstr(p.head, "\r\nContent-Length: 3000000\r\n"));
    assert_null(strstr(p.head, "Expect:"));
    assert_int_equal(p.body, n);
    assert_int_equal(p.sum, sum);
    fclose(f);
    xmsg_status_free(st);
}

/* Sealed (XEP-0454): n + 16 bytes as application/octet-stream, the file
 * encrypted then its tag: decrypted with the key, the file; an empty file
 * is its tag alone. */
static void sealed_case(size_t n)
{
    char url[64];
    uint8_t *body = malloc(n + 16 + 1);
    xmsg_upload_slot slot;
    xmsg_params *params = xmsg_params_new();
    xmsg_status *st = xmsg_status_new();
    xmsg_aesgcm_key k;
    xmsg_aesgcm *g;
    struct peer p;
    unsigned sum;
    FILE *f = data_file(n, &sum);
    size_t i;

    assert_non_null(body);
    memset(&slot, 0, sizeof(slot));
    memset(&ticks, 0, sizeof(ticks));
    keep_next = body;
    keep_next_cap = n + 16 + 1;
    peer_start(&p, REPLY_201);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/put/s", p.port);
    slot.put_url = url;
    assert_int_equal(xmsg_params_set_bool(params, "disableTLS", 1, NULL), 0);
    assert_int_equal(xmsg_aesgcm_key_new(&k), 0);
    assert_int_equal(xmsg_upload_put_sealed(&slot, f, (int64_t)n, &k, params,
                                            on_tick, &ticks, st),
                     XMSG_OK);
    peer_stop(&p);
    snprintf(url, sizeof(url), "\r\nContent-Length: %zu\r\n", n + 16);
    assert_non_null(strstr(p.head, url));
    assert_non_null(
        strstr(p.head, "\r\nContent-Type: application/octet-stream\r\n"));
    assert_int_equal(p.body, n + 16);
    for (i = 0; i < n && body[i] == (uint8_t)(i * 7 % 251); i++)
        ;
    assert_true(n == 0 || i < n); /* not the file in clear */
    g = xmsg_aesgcm_new(&k, 0);
    assert_int_equal(xmsg_aesgcm_update(g, body, n, body), 0);
    assert_int_equal(xmsg_aesgcm_verify(g, body + n), 0);
    xmsg_aesgcm_free(g);
    for (i = 0; i < n; i++)
        assert_int_equal(body[i], (uint8_t)(i * 7 % 251));
    fclose(f);
    free(body);
    xmsg_params_free(params);
    xmsg_status_free(st);
}

static void test_put_sealed(void **state)
{
    (void)state;
    sealed_case(1000 * 1000 + 3);
    sealed_case(0);
}

/* A caller whose stream is lost stops the PUT: a connection error. */
static void test_put_tick_aborts(void **state)
{
    const size_t n = 3 * 1000 * 1000;
    struct peer p;
    unsigned sum;
    FILE *f = data_file(n, &sum);
    xmsg_status *st = xmsg_status_new();

    (void)state;
    ticks.n = 0;
    ticks.stop_at = 1;
    peer_start(&p, REPLY_201);
    assert_int_equal(put(&p, f, n, 20, st), XMSG_ERR_CONNECT);
    peer_stop(&p);
    ticks.stop_at = 0;
    assert_non_null(strstr(xmsg_status_text(st), "connection was lost"));
    assert_true(p.body < n);
    fclose(f);
    xmsg_status_free(st);
}

/* A PUT of a file of size bytes announced as announced, against a peer in
 * mode, with timeout seconds: it fails with want. The status (owned) is
 * the caller's to look at and free. */
static xmsg_status *put_fails(enum act mode, size_t size, size_t announced,
                              long timeout, xmsg_err want)
{
    struct peer p;
    unsigned sum;
    FILE *f = data_file(size, &sum);
    xmsg_status *st = xmsg_status_new();

    peer_start(&p, mode);
    assert_int_equal(put(&p, f, announced, timeout, st), want);
    peer_stop(&p);
    fclose(f);
    return st;
}

/* A 500: a protocol error naming the status. */
static void test_put_500(void **state)
{
    xmsg_status *st = put_fails(REPLY_500, 1000, 1000, 20, XMSG_ERR_PROTOCOL);

    (void)state;
    assert_non_null(strstr(xmsg_status_text(st), "HTTP status 500"));
    xmsg_status_free(st);
}

/* The peer closes after the head: a connection error. */
static void test_put_cut(void **state)
{
    (void)state;
    xmsg_status_free(put_fails(CUT, 2000000, 2000000, 20, XMSG_ERR_CONNECT));
}

/* A file shorter than announced (it shrank): an input error, not a hang. */
static void test_put_short_file(void **state)
{
    (void)state;
    xmsg_status_free(put_fails(CUT, 1000, 5000, 20, XMSG_ERR_INPUT));
}

/* A peer that reads nothing more and answers nothing: the timeout (1 s)
 * bounds the stall (libcurl averages the speed over up to 5 s, so it
 * notices within about timeout + 5 s); the peer gives up after 30 s, so
 * a hang would end as a connection error, and fail. More than the socket
 * buffers are sent. */
static void test_put_stall(void **state)
{
    const size_t n = 8 * 1000 * 1000;

    (void)state;
    xmsg_status_free(put_fails(STALL, n, n, 1, XMSG_ERR_TIMEOUT));
}

static char dir[] = "/tmp/xmsg-test-put-XXXXXX";

/* A CA and a certificate for localhost signed by it (openssl(1)). */
static int make_pki(void **state)
{
    char cmd[2048];

    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && exec >log 2>&1 && printf "
             "'subjectAltName=DNS:localhost\\n' >ext && "
             "openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
             "-days 2 -subj /CN=xmsg-test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -keyout srv.key -out srv.csr -subj /CN=localhost && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -out srv.pem -days 2 -extfile ext",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_pki(void **state)
{
    (void)state;
    return unit_rmdir_tree(dir);
}

static void tls_peer(struct peer *p)
{
    char crt[128], key[128];

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    snprintf(crt, sizeof(crt), "%s/srv.pem", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM),
                     1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM),
                     1);
    peer_start_ctx(p, REPLY_201, ctx);
}

/* https: verified with caFile (added to the system store); without it the
 * certificate is refused (tls) and nothing is sent; trustTLS takes it. */
static void test_put_tls(void **state)
{
    struct peer p;
    unsigned sum;
    FILE *f = data_file(1000, &sum);
    xmsg_status *st = xmsg_status_new();
    char ca[128];

    (void)state;
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    tls_peer(&p);
    assert_int_equal(put_tls(&p, f, 1000, 20, ca, 0, st), XMSG_OK);
    peer_stop(&p);
    assert_int_equal(p.body, 1000);
    rewind(f);
    tls_peer(&p);
    assert_int_equal(put_tls(&p, f, 1000, 20, NULL, 0, st), XMSG_ERR_TLS);
    peer_stop(&p);
    assert_int_equal(p.body, 0);
    rewind(f);
    tls_peer(&p);
    assert_int_equal(put_tls(&p, f, 1000, 20, NULL, 1, st), XMSG_OK);
    peer_stop(&p);
    assert_int_equal(p.body, 1000);
    fclose(f);
    xmsg_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_ok),
        cmocka_unit_test(test_put_sealed),
        cmocka_unit_test(test_put_tick_aborts),
        cmocka_unit_test(test_put_500),
        cmocka_unit_test(test_put_cut),
        cmocka_unit_test(test_put_short_file),
        cmocka_unit_test(test_put_stall),
        cmocka_unit_test(test_put_tls),
    };

    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
