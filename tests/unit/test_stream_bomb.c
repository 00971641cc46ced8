/* test_stream_bomb.c - src/xmpp/stream against a server that sends a
 * DOCTYPE (billion laughs, other entity declarations) before its stream
 * header, right after it, or in the middle of a logged-in stream.
 *
 * The bound is on the bytes the stream took, never on a clock: the fake
 * server on loopback writes the bomb 8 bytes at a time, and the next
 * chunk only once the stream has read every byte sent so far (the
 * server's send queue is empty: the client's kernel has them; and the
 * client's socket has nothing unread). So the count of bytes written when
 * the stream fails is the count it read: the refusal must come in the
 * chunk that holds the 'D' of "<!DOCTYPE". The stream's deadline (30 s)
 * ends the test if it never refuses. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xmpp/stream.h"

#define HDR                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "               \
    "xmlns:stream='http://etherx.jabber.org/streams' id='s-1' "                \
    "from='localhost' version='1.0'>"
#define CHUNK 8

typedef struct peer {
    int lfd, cfd;
    char in[16384];
    size_t len;
} peer;

static int peer_listen(peer *p)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->cfd = -1;
    p->len = 0;
    p->in[0] = '\0';
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &alen), 0);
    fcntl(p->lfd, F_SETFL, O_NONBLOCK);
    return ntohs(a.sin_port);
}

/* Accepts, then reads what the client sent (non-blocking). */
static void peer_read(peer *p)
{
    ssize_t r;

    if (p->cfd < 0) {
        p->cfd = accept(p->lfd, NULL, NULL);
        if (p->cfd < 0)
            return;
        fcntl(p->cfd, F_SETFL, O_NONBLOCK);
    }
    while ((r = read(p->cfd, p->in + p->len, sizeof(p->in) - 1 - p->len)) > 0)
        p->len += (size_t)r;
    p->in[p->len] = '\0';
}

static void peer_write(peer *p, const char *d, size_t n)
{
    ssize_t w = write(p->cfd, d, n);

    if (w != (ssize_t)n)
        fprintf(stderr, "write fd %d: %s\n", p->cfd, strerror(errno));
    assert_int_equal(w, (ssize_t)n);
}

static void peer_close(peer *p)
{
    if (p->cfd >= 0)
        close(p->cfd);
    close(p->lfd);
}

/* 1 when the client has read every byte the peer wrote. */
static int settled(const peer *p, const xmsg_stream *s)
{
    int outq = -1, unread = -1, fd = xmsg_stream_fd(s, NULL);

    return fd >= 0 && ioctl(p->cfd, SIOCOUTQ, &outq) == 0 && outq == 0 &&
           ioctl(fd, FIONREAD, &unread) == 0 && unread == 0;
}

/* One turn of the stream: the login's, or after it, run's. */
static xmsg_err turn(xmsg_stream *s, int ready)
{
    int r = 0;

    return ready ? xmsg_stream_run(s, 5) : xmsg_stream_open_step(s, 5, &r);
}

/* Turns the stream until the client has sent `mark` (after *seen). */
static void await(xmsg_stream *s, peer *p, const char *mark, size_t *seen)
{
    char *at = NULL;
    int i;

    for (i = 0; i < 10000 && !at; i++) {
        assert_int_equal(turn(s, 0), XMSG_OK);
        peer_read(p);
        at = strstr(p->in + *seen, mark);
    }
    assert_non_null(at);
    *seen = (size_t)(at - p->in) + strlen(mark);
}

/* Writes data CHUNK bytes at a time, each once the last was read, until
 * the stream fails; returns the bytes written by then. */
static size_t feed(xmsg_stream *s, peer *p, const char *d, size_t len,
                   int ready, xmsg_err *rc)
{
    size_t sent = 0, n;

    *rc = XMSG_OK;
    while (!*rc) {
        if (sent < len && settled(p, s)) {
            n = len - sent < CHUNK ? len - sent : CHUNK;
            peer_write(p, d + sent, n);
            sent += n;
        }
        *rc = turn(s, ready);
        peer_read(p);
    }
    return sent;
}

/* The bytes the stream may take before it must refuse: through the chunk
 * that holds the byte after "<!" (the 'D'). */
static size_t refusal_bound(const char *d)
{
    size_t at = (size_t)(strstr(d, "<!") - d) + 2;

    return (at / CHUNK + 1) * CHUNK;
}

static void billion_laughs(xmsg_buf *b, const char *before, const char *after)
{
    char line[256];
    size_t i;

    xmsg_buf_str(b, before);
    xmsg_buf_str(b, "<!DOCTYPE lolz [<!ENTITY lol0 'lol'>");
    for (i = 1; i < 10; i++) {
        snprintf(line, sizeof(line),
                 "<!ENTITY lol%zu '&lol%zu;&lol%zu;&lol%zu;&lol%zu;&lol%zu;"
                 "&lol%zu;&lol%zu;&lol%zu;&lol%zu;&lol%zu;'>",
                 i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                 i - 1, i - 1);
        xmsg_buf_str(b, line);
    }
    xmsg_buf_str(b, "]>");
    xmsg_buf_str(b, after);
    for (i = 0; i < 2000; i++)
        xmsg_buf_str(b, "&lol9;");
}

static xmsg_stream *new_stream(peer *p, xmsg_status *st)
{
    char json[512];
    xmsg_params *par = xmsg_params_new();
    xmsg_stream *s;

    snprintf(json, sizeof(json),
             "{\"jid\":\"alice@localhost\",\"password\":\"s3cret-pw\","
             "\"host\":\"127.0.0.1\",\"port\":%d,\"mandatoryTLS\":false,"
             "\"enableLegacyAuth\":true,\"saslKeyCache\":false,"
             "\"logLevel\":\"debug\"}",
             peer_listen(p));
    assert_non_null(par);
    assert_int_equal(xmsg_params_from_json(par, json, NULL), XMSG_OK);
    s = xmsg_stream_new(par, st);
    xmsg_params_free(par);
    assert_non_null(s);
    xmsg_stream_extend(s, 30000);
    return s;
}

typedef struct bomb_row {
    const char *name;
    const char *before; /* what the server sends before the DOCTYPE */
    const char *after;  /* and after it (then 2,000 &lol9;) */
} bomb_row;

static const bomb_row bomb_rows[] = {
    {"declaration, then DOCTYPE (billion laughs)", "<?xml version='1.0'?>",
     HDR "<m>"},
    {"DOCTYPE first", "", HDR "<m>"},
    {"DOCTYPE after the stream header", HDR, "<m>"},
    {"DOCTYPE after features", HDR "<stream:features/>", "<m>"},
};

/* Before the login: the answer to the client's stream header. */
static void test_bomb_before_login(void **state)
{
    size_t i, seen, sent, bound;
    xmsg_err rc;

    (void)state;
    for (i = 0; i < N_ROWS(bomb_rows); i++) {
        xmsg_status *st = xmsg_status_new();
        xmsg_buf b = {NULL, 0, 0};
        peer p;
        xmsg_stream *s = new_stream(&p, st);

        billion_laughs(&b, bomb_rows[i].before, bomb_rows[i].after);
        seen = 0;
        await(s, &p, "<stream:stream", &seen);
        sent = feed(s, &p, b.d, b.len, 0, &rc);
        bound = refusal_bound(b.d);
        print_message("%s: refused after %zu of %zu bytes (bound %zu)\n",
                      bomb_rows[i].name, sent, b.len, bound);
        assert_int_equal(rc, XMSG_ERR_PROTOCOL);
        assert_non_null(strstr(xmsg_status_text(st), "DOCTYPE refused"));
        assert_true(sent <= bound);
        assert_true(b.len > 12000);
        xmsg_stream_free(s);
        peer_close(&p);
        xmsg_buf_free(&b);
        xmsg_status_free(st);
    }
}

/* Logs in with XEP-0078 (digest, in clear) against the peer. */
static void legacy_login(xmsg_stream *s, peer *p)
{
    static const char r1[] =
        "<iq type='result' id='xmsg-auth1'><query xmlns='jabber:iq:auth'>"
        "<username/><digest/><resource/></query></iq>";
    static const char r2[] = "<iq type='result' id='xmsg-auth2'/>";
    static const char feat[] =
        HDR "<stream:features><auth "
            "xmlns='http://jabber.org/features/iq-auth'/></stream:features>";
    size_t seen = 0;
    int ready = 0, i;

    await(s, p, "<stream:stream", &seen);
    peer_write(p, feat, strlen(feat));
    await(s, p, "</iq>", &seen);
    peer_write(p, r1, strlen(r1));
    await(s, p, "<digest>", &seen);
    peer_write(p, r2, strlen(r2));
    for (i = 0; i < 10000 && !ready; i++)
        assert_int_equal(xmsg_stream_open_step(s, 5, &ready), XMSG_OK);
    assert_true(ready);
}

static int count_el(xmsg_stream *s, xmsg_xel *el, void *ud)
{
    (void)s;
    (*(int *)ud)++;
    xmsg_xel_free(el);
    return 0;
}

/* After the login: a message, then a DOCTYPE in the stream. The message
 * is handed over; the DOCTYPE is refused at its first bytes. */
static void test_bomb_after_login(void **state)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_buf b = {NULL, 0, 0};
    peer p;
    xmsg_stream *s = new_stream(&p, st);
    size_t sent, bound;
    int got = 0;
    xmsg_err rc;

    (void)state;
    legacy_login(s, &p);
    xmsg_stream_set_handler(s, count_el, &got);
    billion_laughs(&b,
                   "<message from='bob@localhost'><body>hi</body>"
                   "</message>",
                   "<message><body>");
    sent = feed(s, &p, b.d, b.len, 1, &rc);
    bound = refusal_bound(b.d);
    print_message("after login: refused after %zu of %zu bytes (bound %zu)\n",
                  sent, b.len, bound);
    assert_int_equal(rc, XMSG_ERR_PROTOCOL);
    assert_non_null(strstr(xmsg_status_text(st), "DOCTYPE refused"));
    assert_true(sent <= bound);
    assert_int_equal(got, 1);
    xmsg_stream_free(s);
    peer_close(&p);
    xmsg_buf_free(&b);
    xmsg_status_free(st);
}

/* The whole bomb in one write, and an entity reference without any
 * declaration (an undefined entity: not well-formed): refused too. */
static void test_bomb_at_once(void **state)
{
    static const char undefined[] = HDR "<m>&lol9;</m>";
    xmsg_buf b = {NULL, 0, 0};
    size_t i, seen;
    xmsg_err rc = XMSG_OK;

    (void)state;
    billion_laughs(&b, "<?xml version='1.0'?>", HDR "<m>");
    for (i = 0; i < 2; i++) {
        xmsg_status *st = xmsg_status_new();
        peer p;
        xmsg_stream *s = new_stream(&p, st);
        int k;

        seen = 0;
        await(s, &p, "<stream:stream", &seen);
        if (i == 0)
            peer_write(&p, b.d, b.len);
        else
            peer_write(&p, undefined, strlen(undefined));
        for (k = 0, rc = XMSG_OK; k < 10000 && !rc; k++)
            rc = turn(s, 0);
        assert_int_equal(rc, XMSG_ERR_PROTOCOL);
        assert_non_null(strstr(xmsg_status_text(st),
                               i == 0 ? "DOCTYPE refused" : "undefined"));
        xmsg_stream_free(s);
        peer_close(&p);
        xmsg_status_free(st);
    }
    xmsg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bomb_before_login),
        cmocka_unit_test(test_bomb_after_login),
        cmocka_unit_test(test_bomb_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
