/* test_download.c - received files: the name a URL gives (traversal,
 * encodings, controls, length), the names tried when it is taken, and the
 * fetch against a scripted HTTP peer on loopback (a thread, plain HTTP
 * with plaintext allowed): the bytes in DIR, a second file never over the
 * first, a size over downloadMax refused (announced, or growing) with
 * nothing left, an HTTP error, a URL that is not http(s), a peer that
 * stalls (timeout). */
#include "unit.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "features/download.h"

/* ---- the url field ---- */

#define OOB(u) "<x xmlns='jabber:x:oob'><url>" u "</url></x>"

static const struct {
    const char *children; /* of <message from= to=> */
    const char *url;      /* NULL: no url field */
} url_rows[] = {
    {"<body>b</body>" OOB("https://u.example/a.png"),
     "https://u.example/a.png"},
    /* trimmed; the first of several; an empty one skipped */
    {"<body>b</body>" OOB("") OOB(" \n https://u/1 ") OOB("https://u/2"),
     "https://u/1"},
    {"<body>b</body><x xmlns='jabber:x:oob'><desc>d</desc></x>", NULL},
    /* another namespace is not out-of-band data */
    {"<body>b</body><x xmlns='urn:other'><url>https://u/x</url></x>", NULL},
    /* a url attribute or mirrored attribute cannot forge the field */
    {"<body>b</body><attributes xmlns='urn:xmsg:attributes:0'><attribute "
     "name='url'>https://forged/</attribute><attribute "
     "name='file'>/etc/passwd</attribute></attributes>",
     NULL},
};

static xmsg_message *received(const char *children, int object)
{
    char xml[1024];
    xmsg_xel *wrap, *st;
    xmsg_message *m;

    snprintf(xml, sizeof(xml),
             "<message xmlns='jabber:client' from='a@h/r' to='b@h' "
             "url='https://attr/' file='/x' downloadError='e'>%s</message>",
             children);
    wrap = xmsg_xml_parse_fragment(xml);
    assert_non_null(wrap);
    st = xmsg_xel_child(wrap, NULL, "message");
    m = object ? xmsg_object_from_stanza(st) : xmsg_message_from_stanza(st);
    xmsg_xel_free(wrap);
    assert_non_null(m);
    return m;
}

static void test_url_field(void **state)
{
    xmsg_message *m;
    size_t i;
    int object;

    (void)state;
    for (i = 0; i < N_ROWS(url_rows); i++) {
        for (object = 0; object < 2; object++) {
            m = received(url_rows[i].children, object);
            if (url_rows[i].url)
                assert_string_equal(xmsg_message_get(m, "url"),
                                    url_rows[i].url);
            else
                assert_null(xmsg_message_get(m, "url"));
            assert_null(xmsg_message_get(m, "file"));
            assert_null(xmsg_message_get(m, "downloadError"));
            xmsg_message_free(m);
        }
    }
    /* listen: a message without body has it too, and the element stays in
     * payload (nothing dropped) */
    m = received(OOB("https://u/nobody"), 1);
    assert_string_equal(xmsg_message_get(m, "url"), "https://u/nobody");
    assert_non_null(strstr(xmsg_message_get(m, "payload"), "jabber:x:oob"));
    xmsg_message_free(m);
}

/* ---- names ---- */

static const struct {
    const char *url;
    const char *name;
} name_rows[] = {
    {"https://h.example/a/report.pdf", "report.pdf"},
    {"https://h.example/a/b.png?sig=x/y#frag/z", "b.png"},
    {"https://h.example/a/..", "download"},
    {"https://h.example/a/.", "download"},
    {"https://h.example/%2e%2e", "download"},
    {"https://h.example/%2e%2e%2f", "_"},
    {"https://h.example/%2e%2e%2fetc%2fpasswd", "_etc_passwd"},
    {"https://h.example/a/../../b", "b"},
    {"https://h.example/a%2f..%2f..%2fb", "a_.._.._b"},
    {"https://h.example/x/%2Fetc%2Fpasswd", "_etc_passwd"},
    {"https://h.example/..%5c..%5cwin.ini", "_.._win.ini"},
    {"https://h.example/a%00b.txt", "a_b.txt"},
    {"https://h.example/%00", "_"},
    {"https://h.example/a%0a%0d%09%7fb", "a____b"},
    {"https://h.example/a%c2%85b", "a_b"},
    {"https://h.example/%C3%A9t%C3%A9.png", "\xc3\xa9t\xc3\xa9.png"},
    {"https://h.example/\xe6\x97\xa5\xe6\x9c\xac.txt",
     "\xe6\x97\xa5\xe6\x9c\xac.txt"},
    {"https://h.example/%ff%fe.txt", "__.txt"},
    {"https://h.example/%c0%af", "__"},
    {"https://h.example/%ed%a0%80x", "___x"},
    {"https://h.example/%E2%80%AEgpj.exe", "_gpj.exe"},
    {"https://h.example/", "download"},
    {"https://h.example", "download"},
    {"https://h.example/?x=/a.txt", "download"},
    {"https://h.example/.bashrc", "bashrc"},
    {"https://h.example/...x", "x"},
    {"https://h.example/%20%20.x", "x"},
    {"https://h.example/%zz%4", "%zz%4"},
    {"", "download"},
};

static void test_names(void **state)
{
    char out[XMSG_DOWNLOAD_NAME_MAX + 1];
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(name_rows); i++) {
        xmsg_download_name(name_rows[i].url, out, sizeof(out));
        if (strcmp(out, name_rows[i].name) != 0) {
            fprintf(stderr, "row %zu: ", i);
            unit_print_escaped(out, strlen(out));
            fputc('\n', stderr);
        }
        assert_string_equal(out, name_rows[i].name);
    }
    xmsg_download_name(NULL, out, sizeof(out));
    assert_string_equal(out, "download");
}

/* Valid UTF-8 (the capped name cut on a character boundary). */
static int utf8_whole(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    while (*p) {
        n = *p < 0x80             ? 1
            : (*p & 0xe0) == 0xc0 ? 2
            : (*p & 0xf0) == 0xe0 ? 3
                                  : 4;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        }
        p += n;
    }
    return 1;
}

static void test_long_names(void **state)
{
    char url[4096], out[XMSG_DOWNLOAD_NAME_MAX + 1];
    size_t n;

    (void)state;
    n = (size_t)snprintf(url, sizeof(url), "https://h/");
    memset(url + n, 'a', 3000);
    strcpy(url + n + 3000, ".txt");
    xmsg_download_name(url, out, sizeof(out));
    assert_int_equal(strlen(out), XMSG_DOWNLOAD_NAME_MAX);
    assert_string_equal(out + XMSG_DOWNLOAD_NAME_MAX - 4, ".txt");
    /* two-byte characters: cut on a boundary, the extension kept */
    n = (size_t)snprintf(url, sizeof(url), "https://h/");
    for (int i = 0; i < 301; i++)
        n += (size_t)snprintf(url + n, sizeof(url) - n, "%%C3%%A9");
    strcpy(url + n, ".png");
    xmsg_download_name(url, out, sizeof(out));
    assert_true(strlen(out) <= XMSG_DOWNLOAD_NAME_MAX);
    assert_true(strlen(out) >= XMSG_DOWNLOAD_NAME_MAX - 1);
    assert_true(utf8_whole(out));
    assert_string_equal(out + strlen(out) - 4, ".png");
    /* an extension too long to keep is cut with the rest */
    n = (size_t)snprintf(url, sizeof(url), "https://h/");
    memset(url + n, 'a', 300);
    url[n + 300] = '.';
    memset(url + n + 301, 'b', 40);
    url[n + 341] = '\0';
    xmsg_download_name(url, out, sizeof(out));
    assert_int_equal(strlen(out), XMSG_DOWNLOAD_NAME_MAX);
    assert_null(strchr(out, 'b'));
}

static void test_candidates(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(xmsg_download_candidate("a.txt", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "a.txt");
    assert_int_equal(xmsg_download_candidate("a.txt", 1, out, sizeof(out)), 0);
    assert_string_equal(out, "a (1).txt");
    assert_int_equal(xmsg_download_candidate("a", 2, out, sizeof(out)), 0);
    assert_string_equal(out, "a (2)");
    assert_int_equal(xmsg_download_candidate("a.tar.gz", 3, out, sizeof(out)),
                     0);
    assert_string_equal(out, "a.tar (3).gz");
    assert_int_equal(xmsg_download_candidate("_.x", 999, out, sizeof(out)), 0);
    assert_string_equal(out, "_ (999).x");
    assert_int_equal(xmsg_download_candidate("abcdef", 1, out, 8), -1);
}

/* ---- the fetch, against a scripted peer ---- */

struct peer {
    int lfd, port;
    char head[256]; /* the answer's status line and headers */
    size_t body;    /* bytes of body sent after them */
    int stall;      /* then wait (sending nothing) until the client leaves */
    pthread_t th;
};

static void *serve(void *arg)
{
    struct peer *p = arg;
    char buf[4096];
    size_t sent = 0, n = 0;
    ssize_t r;
    int fd = accept(p->lfd, NULL, NULL);

    if (fd < 0)
        return NULL;
    while (n < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
        r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
    }
    send(fd, p->head, strlen(p->head), MSG_NOSIGNAL);
    memset(buf, 'x', sizeof(buf));
    while (sent < p->body) {
        n = p->body - sent < sizeof(buf) ? p->body - sent : sizeof(buf);
        r = send(fd, buf, n, MSG_NOSIGNAL);
        if (r <= 0)
            break;
        sent += (size_t)r;
    }
    while (p->stall && read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    return NULL;
}

/* A peer answering one GET with head, then body bytes of 'x' (then, with
 * stall, nothing until the client leaves). */
static void peer_start(struct peer *p, const char *head, size_t body, int stall)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);

    snprintf(p->head, sizeof(p->head), "%s", head);
    p->body = body;
    p->stall = stall;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->th, NULL, serve, p), 0);
}

static void peer_stop(struct peer *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
}

UNIT_TEMP_DIR("download")

/* Entries of dir (but . and ..). */
static int entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static xmsg_params *params(long max)
{
    xmsg_params *p = xmsg_params_new();

    assert_non_null(p);
    p->mandatory_tls = 0; /* plaintext allowed: http:// */
    p->timeout = 30;
    p->download_max = max;
    return p;
}

/* GETs path from a peer answering head + body. */
static xmsg_err fetch(const char *head, size_t body, const char *path, long max,
                      char **out, char *err, size_t len)
{
    struct peer peer;
    xmsg_params *p = params(max);
    char url[512];
    xmsg_err rc;

    peer_start(&peer, head, body, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", peer.port, path);
    rc = xmsg_download_fetch(url, dir, p, out, err, len);
    peer_stop(&peer);
    xmsg_params_free(p);
    return rc;
}

#define OK_1000 "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"

static void expect_file(const char *path, const char *name, off_t size)
{
    struct stat sb;
    char want[512];

    snprintf(want, sizeof(want), "%s/%s", dir, name);
    assert_non_null(path);
    assert_string_equal(path, want);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, size);
}

static void test_fetch_names(void **state)
{
    char err[512] = "", *path = NULL, first[512];
    struct stat sb;

    (void)state;
    assert_int_equal(fetch(OK_1000, 1000, "/up/r%C3%A9port.bin", 4096, &path,
                           err, sizeof(err)),
                     XMSG_OK);
    expect_file(path, "r\xc3\xa9port.bin", 1000);
    snprintf(first, sizeof(first), "%s", path);
    free(path);
    /* the same name again: a new file beside it, the first untouched */
    assert_int_equal(fetch("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 10,
                           "/up/r%C3%A9port.bin", 4096, &path, err,
                           sizeof(err)),
                     XMSG_OK);
    expect_file(path, "r\xc3\xa9port (1).bin", 10);
    free(path);
    assert_int_equal(stat(first, &sb), 0);
    assert_int_equal(sb.st_size, 1000);
    /* a traversal stays in dir */
    assert_int_equal(fetch(OK_1000, 1000, "/%2e%2e%2f%2e%2e%2fescape", 4096,
                           &path, err, sizeof(err)),
                     XMSG_OK);
    expect_file(path, "_.._escape", 1000);
    free(path);
    assert_int_equal(entries(), 3);
}

static void expect_refused(xmsg_err rc, xmsg_err want, const char *err,
                           const char *text, int left)
{
    if (rc != want || !strstr(err, text))
        fprintf(stderr, "rc %d, err \"%s\"\n", rc, err);
    assert_int_equal(rc, want);
    assert_non_null(strstr(err, text));
    assert_int_equal(entries(), left);
}

static void test_fetch_refused(void **state)
{
    char err[512] = "", *path = (char *)"x";
    const int left = entries();
    xmsg_params *p = params(100);
    xmsg_err rc;

    (void)state;
    /* announced over the cap: refused before the body */
    rc = fetch(OK_1000, 1000, "/big.bin", 999, &path, err, sizeof(err));
    assert_null(path);
    expect_refused(rc, XMSG_ERR_INPUT, err, "over downloadMax (999 bytes)",
                   left);
    /* no length announced, the body grows past the cap */
    rc = fetch("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 300000,
               "/grow.bin", 100000, &path, err, sizeof(err));
    expect_refused(rc, XMSG_ERR_INPUT, err, "over downloadMax", left);
    /* exactly the cap is taken */
    rc = fetch(OK_1000, 1000, "/cap.bin", 1000, &path, err, sizeof(err));
    assert_int_equal(rc, XMSG_OK);
    assert_int_equal(unlink(path), 0);
    free(path);
    /* an HTTP error */
    rc = fetch("HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\n", 5,
               "/gone.bin", 4096, &path, err, sizeof(err));
    expect_refused(rc, XMSG_ERR_PROTOCOL, err, "HTTP status 404", left);
    /* not http(s); http without plaintext allowed */
    rc = xmsg_download_fetch("ftp://127.0.0.1/a", dir, p, &path, err,
                             sizeof(err));
    expect_refused(rc, XMSG_ERR_INPUT, err, "not an https URL", left);
    p->mandatory_tls = 1;
    rc = xmsg_download_fetch("http://127.0.0.1:9/a", dir, p, &path, err,
                             sizeof(err));
    expect_refused(rc, XMSG_ERR_INPUT, err, "not an https URL", left);
    /* a URL curl cannot parse (a space in the host) is input */
    p->mandatory_tls = 0;
    rc = xmsg_download_fetch("http://a b/x", dir, p, &path, err, sizeof(err));
    expect_refused(rc, XMSG_ERR_INPUT, err, "URL", left);
    p->mandatory_tls = 1;
    /* a directory that is not there */
    rc = xmsg_download_fetch("https://127.0.0.1:9/a", "/nonexistent/xmsg", p,
                             &path, err, sizeof(err));
    expect_refused(rc, XMSG_ERR_INPUT, err, "downloadDir /nonexistent/xmsg",
                   left);
    xmsg_params_free(p);
}

/* A peer that stops sending: the transfer ends in timeout (libcurl: no
 * byte for the timeout, averaged over up to 5 s more), nothing left. */
static void test_fetch_stall(void **state)
{
    struct peer peer;
    xmsg_params *p = params(4096);
    char url[256], err[512] = "", *path = NULL;
    const int left = entries();
    xmsg_err rc;

    (void)state;
    p->timeout = 2;
    peer_start(&peer, OK_1000, 10, 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/stall.bin", peer.port);
    rc = xmsg_download_fetch(url, dir, p, &path, err, sizeof(err));
    peer_stop(&peer);
    expect_refused(rc, XMSG_ERR_TIMEOUT, err, "", left);
    assert_null(path);
    xmsg_params_free(p);
}

/* The public call: a copy with file (or downloadError, st still ok), the
 * original untouched; without url a plain copy; bad arguments. */
static void test_message_download(void **state)
{
    struct peer peer;
    xmsg_params *p = params(4096);
    xmsg_status *st = xmsg_status_new();
    xmsg_message *m = xmsg_message_new(), *got;
    char url[256], want[512];

    (void)state;
    peer_start(&peer, OK_1000, 1000, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/d/pub.bin", peer.port);
    assert_int_equal(xmsg_message_put(m, "body", "b"), 0);
    got = xmsg_message_download(p, dir, m, st);
    assert_non_null(got);
    assert_null(xmsg_message_get(got, "file"));
    xmsg_message_free(got);
    assert_int_equal(xmsg_message_put(m, "url", url), 0);
    got = xmsg_message_download(p, dir, m, st);
    peer_stop(&peer);
    assert_non_null(got);
    snprintf(want, sizeof(want), "%s/pub.bin", dir);
    assert_string_equal(xmsg_message_get(got, "file"), want);
    assert_null(xmsg_message_get(m, "file"));
    xmsg_message_free(got);
    assert_int_equal(unlink(want), 0);
    /* a failure is the copy's downloadError, logged, not the call's */
    p->mandatory_tls = 1;
    p->log_level = XMSG_LOG_WARN;
    got = xmsg_message_download(p, dir, m, st);
    assert_non_null(got);
    assert_non_null(strstr(xmsg_message_get(got, "downloadError"),
                           "input: not an https URL"));
    assert_int_equal(xmsg_status_code(st), XMSG_OK);
    /* the first download's info line, then this one's warn */
    assert_int_equal(xmsg_status_log_count(st), 2);
    assert_non_null(strstr(xmsg_status_log_line(st, 0), "info xmsg: download"));
    assert_non_null(
        strstr(xmsg_status_log_line(st, 1), "warn xmsg: download of"));
    xmsg_message_free(got);
    assert_null(xmsg_message_download(p, NULL, m, st));
    assert_int_equal(xmsg_status_code(st), XMSG_ERR_INPUT);
    xmsg_status_free(st);
    xmsg_message_free(m);
    xmsg_params_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_field),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_fetch_names),
        cmocka_unit_test(test_fetch_refused),
        cmocka_unit_test(test_fetch_stall),
        cmocka_unit_test(test_message_download),
    };

    return cmocka_run_group_tests(tests, unit_dir_make, unit_dir_remove);
}
