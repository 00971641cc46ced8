/* download.c - see download.h: a received file fetched with libcurl
 * into downloadDir (a temp name, renamed once complete). */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "features/aesgcm.h"
#include "features/download.h"
#include "features/http.h"

/* Temp names tried before giving up (they are random). */
#define TMP_TRIES 16

/* Where the body goes. */
struct sink {
    int fd;
    int64_t got, max; /* bytes written to fd, at most */
    int too_big;      /* the body grew past max */
    int failed;       /* a write failed: errno in err */
    int err;
    /* An aesgcm:// file: the body decrypted on its way to fd; its last 16
     * bytes (the tag) held back until the body ends. */
    xmsg_aesgcm *dec;
    uint8_t hold[XMSG_AESGCM_TAG];
    size_t nhold;
    int cipher_failed;
};

/* want bytes of buf to s->fd. 0, or -1 (s->failed set). */
static int write_all(struct sink *s, const uint8_t *buf, size_t want)
{
    size_t done = 0;
    ssize_t w;

    if (s->got + (int64_t)want > s->max) {
        s->too_big = 1;
        return -1;
    }
    while (done < want) {
        w = write(s->fd, buf + done, want - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->failed = 1;
            s->err = w < 0 ? errno : ENOSPC;
            return -1;
        }
        done += (size_t)w;
    }
    s->got += (int64_t)want;
    return 0;
}

/* Ciphertext decrypted to s->fd, through a piece of memory of its own. */
static int decrypt_out(struct sink *s, const uint8_t *in, size_t n)
{
    uint8_t piece[16384];
    size_t step;

    for (; n > 0; in += step, n -= step) {
        step = n < sizeof(piece) ? n : sizeof(piece);
        if (xmsg_aesgcm_update(s->dec, in, step, piece)) {
            s->cipher_failed = 1;
            return -1;
        }
        if (write_all(s, piece, step))
            return -1;
    }
    return 0;
}

/* Sealed: all but the last 16 bytes seen so far are decrypted; those
 * are held back (they may be the tag). */
static int sealed_write(struct sink *s, const uint8_t *buf, size_t n)
{
    const size_t total = s->nhold + n;
    size_t out, from_hold;

    if (total <= XMSG_AESGCM_TAG) {
        memcpy(s->hold + s->nhold, buf, n);
        s->nhold = total;
        return 0;
    }
    out = total - XMSG_AESGCM_TAG;
    from_hold = out < s->nhold ? out : s->nhold;
    if (decrypt_out(s, s->hold, from_hold) ||
        decrypt_out(s, buf, out - from_hold))
        return -1;
    /* what stays: the rest of hold, then the end of buf */
    memmove(s->hold, s->hold + from_hold, s->nhold - from_hold);
    s->nhold -= from_hold;
    memcpy(s->hold + s->nhold, buf + (out - from_hold), n - (out - from_hold));
    s->nhold = XMSG_AESGCM_TAG;
    return 0;
}

static size_t on_write(char *buf, size_t size, size_t n, void *userdata)
{
    struct sink *s = userdata;
    const size_t want = size * n;

    if (s->dec ? sealed_write(s, (const uint8_t *)buf, want)
               : write_all(s, (const uint8_t *)buf, want))
        return 0;
    return want;
}

/* A hidden temp file in dir: its name in tmp. The fd, or -1. */
static int open_temp(int dfd, char *tmp, size_t len)
{
    static atomic_uint counter; /* sessions may run in threads */
    struct timespec ts;
    int i, fd = -1;

    for (i = 0; i < TMP_TRIES && fd < 0; i++) {
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(tmp, len, ".xmsg-%ld-%lx-%u.part", (long)getpid(),
                 (unsigned long)ts.tv_nsec, atomic_fetch_add(&counter, 1));
        fd = openat(dfd, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return -1;
    }
    return fd;
}

/* tmp renamed to the first free candidate of name (never replacing a
 * file); the name used in out. 0, or -1 (errno). */
static int publish(int dfd, const char *tmp, const char *name, char *out,
                   size_t len)
{
    unsigned n;
    int r;

    for (n = 0; n < XMSG_DOWNLOAD_TRIES; n++) {
        if (xmsg_download_candidate(name, n, out, len))
            return -1;
        r = renameat2(dfd, tmp, dfd, out, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* A file system without RENAME_NOREPLACE: link, unlink. */
            r = linkat(dfd, tmp, dfd, out, 0);
            if (r == 0)
                unlinkat(dfd, tmp, 0);
        }
        if (r == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int scheme_ok(const char *url, int plaintext_ok)
{
    return strncasecmp(url, "https://", 8) == 0 ||
           (plaintext_ok && strncasecmp(url, "http://", 7) == 0);
}

/* A sealed body, once whole: its tag checked. */
static xmsg_err sealed_end(struct sink *s, char *err, size_t len)
{
    if (s->nhold < XMSG_AESGCM_TAG) {
        snprintf(err, len,
                 "the encrypted file is shorter than its tag "
                 "(%zu bytes)",
                 s->nhold);
        return XMSG_ERR_PROTOCOL;
    }
    if (xmsg_aesgcm_verify(s->dec, s->hold)) {
        snprintf(err, len,
                 "the encrypted file does not authenticate "
                 "(altered, or another key): not kept");
        return XMSG_ERR_PROTOCOL;
    }
    return XMSG_OK;
}

/* The transfer's outcome as an error (err: why). */
static xmsg_err outcome(CURL *curl, CURLcode rc, struct sink *s,
                        const char *cerr, char *err, size_t len)
{
    long status = 0;

    if (s->cipher_failed) {
        snprintf(err, len, "the file cannot be decrypted (OpenSSL)");
        return XMSG_ERR_INTERNAL;
    }
    if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, len, "the file is over downloadMax (%" PRId64 " bytes)",
                 s->max);
        return XMSG_ERR_INPUT;
    }
    if (s->failed) {
        snprintf(err, len, "cannot write: %s", strerror(s->err));
        return XMSG_ERR_INPUT;
    }
    if (rc) {
        snprintf(err, len, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
        /* The URL is the peer's input, not the network's failure. */
        if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
            return XMSG_ERR_INPUT;
        return xmsg_http_err(rc);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, len, "the server answered the GET with HTTP status %ld",
                 status);
        return XMSG_ERR_PROTOCOL;
    }
    return s->dec ? sealed_end(s, err, len) : XMSG_OK;
}

/* GETs url into s->fd. */
static xmsg_err get(const char *url, const xmsg_params *p, struct sink *s,
                    char *err, size_t len)
{
    char cerr[CURL_ERROR_SIZE] = "";
    CURL *curl = xmsg_http_init() ? NULL : curl_easy_init();
    xmsg_err rc;

    if (!curl) {
        snprintf(err, len, "libcurl does not start");
        return XMSG_ERR_INTERNAL;
    }
    if (curl_easy_setopt(curl, CURLOPT_URL, url) ||
        xmsg_http_policy(curl, p, p->disable_tls || !p->mandatory_tls) ||
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L) ||
        curl_easy_setopt(
            curl, CURLOPT_MAXFILESIZE_LARGE,
            (curl_off_t)(s->max + (s->dec ? XMSG_AESGCM_TAG : 0))) ||
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write) ||
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, s) ||
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr)) {
        snprintf(err, len, "out of memory");
        rc = XMSG_ERR_INTERNAL;
    } else {
        rc = outcome(curl, curl_easy_perform(curl), s, cerr, err, len);
    }
    curl_easy_cleanup(curl);
    return rc;
}

/* dir + "/" + name, owned. */
static char *join(const char *dir, const char *name)
{
    xmsg_buf b = {NULL, 0, 0};

    if (xmsg_buf_str(&b, dir) || xmsg_buf_str(&b, "/") ||
        xmsg_buf_str(&b, name)) {
        xmsg_buf_free(&b);
        return NULL;
    }
    return b.d;
}

/* The body fetched into a temp file of dfd (decrypted with k when k),
 * then published. */
static xmsg_err fetch_into(int dfd, const char *url, const char *dir,
                           const xmsg_params *p, const xmsg_aesgcm_key *k,
                           char **path, char *err, size_t len)
{
    struct sink s;
    char tmp[64], name[XMSG_DOWNLOAD_NAME_MAX + 1], final[256];
    xmsg_err rc;

    memset(&s, 0, sizeof(s));
    s.max = p->download_max;
    s.dec = k ? xmsg_aesgcm_new(k, 0) : NULL;
    if (k && !s.dec) {
        snprintf(err, len, "the cipher does not start");
        return XMSG_ERR_INTERNAL;
    }
    s.fd = open_temp(dfd, tmp, sizeof(tmp));
    if (s.fd < 0) {
        snprintf(err, len, "cannot create a file in %s: %s", dir,
                 strerror(errno));
        xmsg_aesgcm_free(s.dec);
        return XMSG_ERR_INPUT;
    }
    rc = get(url, p, &s, err, len);
    if (!rc && fsync(s.fd) != 0) {
        snprintf(err, len, "cannot write: %s", strerror(errno));
        rc = XMSG_ERR_INPUT;
    }
    close(s.fd);
    xmsg_download_name(url, name, sizeof(name));
    if (!rc && publish(dfd, tmp, name, final, sizeof(final))) {
        snprintf(err, len, "cannot name the file %s in %s: %s", name, dir,
                 strerror(errno));
        rc = XMSG_ERR_INPUT;
    }
    if (!rc && !(*path = join(dir, final))) {
        snprintf(err, len, "out of memory");
        rc = XMSG_ERR_INTERNAL;
    }
    if (rc)
        unlinkat(dfd, tmp, 0); /* the partial file, or one not named */
    xmsg_aesgcm_free(s.dec);
    return rc;
}

/* An aesgcm:// URL: its https URL fetched and decrypted. */
static xmsg_err fetch_sealed(int dfd, const char *url, const char *dir,
                             const xmsg_params *p, char **path, char *err,
                             size_t len)
{
    xmsg_aesgcm_key k;
    char *https = NULL;
    xmsg_err rc;

    if (xmsg_aesgcm_parse_url(url, &https, &k, err, len))
        return strcmp(err, "out of memory") ? XMSG_ERR_INPUT
                                            : XMSG_ERR_INTERNAL;
    rc = fetch_into(dfd, https, dir, p, &k, path, err, len);
    xmsg_secure_zero(&k, sizeof(k));
    free(https);
    return rc;
}

xmsg_err xmsg_download_fetch(const char *url, const char *dir,
                             const xmsg_params *p, char **path, char *err,
                             size_t len)
{
    const int sealed = xmsg_aesgcm_is_url(url);
    int dfd;
    xmsg_err rc;

    *path = NULL;
    if (!sealed && !scheme_ok(url, p->disable_tls || !p->mandatory_tls)) {
        snprintf(err, len,
                 "not an https URL (http only with plaintext "
                 "allowed)");
        return XMSG_ERR_INPUT;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(err, len, "downloadDir %s: %s", dir, strerror(errno));
        return XMSG_ERR_INPUT;
    }
    rc = sealed ? fetch_sealed(dfd, url, dir, p, path, err, len)
                : fetch_into(dfd, url, dir, p, NULL, path, err, len);
    close(dfd);
    return rc;
}

/* Fetches m's url into dir: "file" or "downloadError" put in m, what to
 * log in line at *lvl. 0, or -1 out of memory. */
static int annotate(const xmsg_params *p, const char *dir, xmsg_message *m,
                    xmsg_log_level *lvl, char *line, size_t len)
{
    const char *url = xmsg_message_get(m, "url");
    char err[CURL_ERROR_SIZE + 256] = "", text[CURL_ERROR_SIZE + 300];
    char *path = NULL;
    xmsg_err rc;
    int r;

    rc = xmsg_download_fetch(url, dir, p, &path, err, sizeof(err));
    if (!rc) {
        *lvl = XMSG_LOG_INFO;
        snprintf(line, len, "download: %s", path);
        r = xmsg_message_put(m, "file", path);
        free(path);
        return r;
    }
    *lvl = XMSG_LOG_WARN;
    snprintf(text, sizeof(text), "%s: %s", xmsg_err_name(rc), err);
    /* an aesgcm:// URL's fragment is its key: not logged */
    snprintf(line, len, "download of %.*s failed: %s",
             (int)(xmsg_aesgcm_is_url(url) ? strcspn(url, "#") : strlen(url)),
             url, text);
    return xmsg_message_put(m, "downloadError", text);
}

int xmsg_download_message(xmsg_conn *c, xmsg_message *m)
{
    const xmsg_params *p = c->params;
    char line[LINE_MAX];
    xmsg_log_level lvl;
    int rc;

    if (!p || !p->download_dir || !xmsg_message_get(m, "url"))
        return 0;
    rc = annotate(p, p->download_dir, m, &lvl, line, sizeof(line));
    if (!rc)
        xmsg_conn_log(c, lvl, "%s", line);
    return rc;
}

/* "LEVEL xmsg: line" into st's log, as the connection logs. */
static void log_line(xmsg_status *st, xmsg_log_level lvl, const char *line)
{
    xmsg_buf b = {NULL, 0, 0};

    if (xmsg_buf_str(&b, xmsg_log_level_name(lvl)) ||
        xmsg_buf_str(&b, " xmsg: ") || xmsg_buf_str(&b, line) ||
        xmsg_status_log_owned(st, b.d))
        xmsg_buf_free(&b);
}

xmsg_message *xmsg_message_download(const xmsg_params *p, const char *dir,
                                    const xmsg_message *m, xmsg_status *st)
{
    xmsg_message *copy;
    char line[LINE_MAX];
    xmsg_log_level lvl = XMSG_LOG_DEBUG;

    if (!p || !dir || !*dir || !m) {
        xmsg_status_fail(st, XMSG_ERR_INPUT,
                         "download: params, a directory and a message are "
                         "required");
        return NULL;
    }
    copy = xmsg_message_copy(m);
    line[0] = '\0';
    if (!copy || (xmsg_message_get(copy, "url") &&
                  annotate(p, dir, copy, &lvl, line, sizeof(line)))) {
        xmsg_message_free(copy);
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (st && line[0] && lvl >= p->log_level)
        log_line(st, lvl, line);
    return copy;
}
