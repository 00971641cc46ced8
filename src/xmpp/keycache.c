/* keycache.c - SCRAM's derived keys on disk (RFC 5802 section 5.1 lets a
 * client keep ClientKey and ServerKey): a repeat login with the same salt
 * and iteration count does no PBKDF2.
 *
 * One file per (server, authcid, hash), named by the SHA-256 of the three
 * (no user name in a directory listing), mode 0600, one line:
 *   xmsg-scram-keys 1 <hash> <iterations> <b64 salt> <b64 ClientKey>
 *   <b64 ServerKey>
 * written to a unique temporary file, fsynced, renamed over the entry. A
 * file that is missing, corrupt, not ours or readable by others is a miss
 * with a log line; the cache never fails a login. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "xmpp/sasl.h"

#define FILE_MAX 1024
#define MAGIC "xmsg-scram-keys 1"

struct xmsg_keycache {
    char *dir;
    int enabled;
    xmsg_sasl_log log;
};

xmsg_keycache *xmsg_keycache_new(const char *dir, int enabled,
                                 const xmsg_sasl_log *log)
{
    xmsg_keycache *kc;

    if (!dir || !*dir)
        return NULL;
    kc = calloc(1, sizeof(*kc));
    if (!kc)
        return NULL;
    kc->dir = xmsg_strdup(dir);
    if (!kc->dir) {
        free(kc);
        return NULL;
    }
    kc->enabled = enabled;
    if (log)
        kc->log = *log;
    return kc;
}

void xmsg_keycache_free(xmsg_keycache *kc)
{
    if (!kc)
        return;
    free(kc->dir);
    free(kc);
}

/* ---- names ---- */

/* dir "/" hex(SHA-256(parts joined by NUL)) suffix: new string. */
static char *entry_path(const xmsg_keycache *kc, const char *const *parts,
                        size_t n, const char *suffix)
{
    unsigned char d[32];
    char hex[65], *path;
    xmsg_buf b = {0};
    size_t i;

    for (i = 0; i < n; i++) {
        if (xmsg_buf_put(&b, parts[i], strlen(parts[i]) + 1) != 0) {
            xmsg_buf_free(&b);
            return NULL;
        }
    }
    xmsg_scram_digest(XMSG_HASH_SHA256, (const unsigned char *)b.d, b.len, d);
    xmsg_buf_free(&b);
    for (i = 0; i < sizeof(d); i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    i = strlen(kc->dir) + strlen(hex) + strlen(suffix) + 2;
    path = malloc(i);
    if (path)
        snprintf(path, i, "%s/%s%s", kc->dir, hex, suffix);
    return path;
}

char *xmsg_keycache_path(const xmsg_keycache *kc, const char *server,
                         const char *authcid, xmsg_scram_hash h)
{
    const char *parts[3];

    if (!kc || !server || !*server || !authcid)
        return NULL;
    parts[0] = server;
    parts[1] = authcid;
    parts[2] = xmsg_scram_hash_name(h);
    return entry_path(kc, parts, 3, ".key");
}

static char *plus_path(const xmsg_keycache *kc, const char *server)
{
    const char *parts[2] = {"plus", server};

    if (!kc || !server || !*server)
        return NULL;
    return entry_path(kc, parts, 2, ".plus");
}

/* ---- reading ---- */

/* Reads a file of ours, 0600 or stricter, at most FILE_MAX bytes, into buf
 * (NUL-terminated). 0 ok; -1 missing; -2 unsafe or unreadable (why set). */
static int read_private(const char *path, char *buf, size_t size,
                        const char **why)
{
    struct stat sb;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -2;

    *why = "unreadable";
    if (fd < 0)
        return errno == ENOENT ? -1 : -2;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        goto out;
    *why = "not owned by us or readable by others";
    if (sb.st_uid != geteuid() || (sb.st_mode & 077))
        goto out;
    *why = "too large";
    if (sb.st_size >= (off_t)size)
        goto out;
    *why = "unreadable";
    n = read(fd, buf, size - 1);
    if (n < 0)
        goto out;
    buf[n] = '\0';
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Splits s on single spaces into at most max fields (s is modified).
 * Returns the number of fields. */
static size_t split(char *s, char **f, size_t max)
{
    size_t n = 0;

    for (;;) {
        if (n == max)
            return max + 1;
        f[n++] = s;
        s = strchr(s, ' ');
        if (!s)
            return n;
        *s++ = '\0';
    }
}

/* Decodes field into exactly want bytes at out. 0 ok. */
static int field_bytes(const char *field, unsigned char *out, size_t want)
{
    unsigned char *d;
    size_t len;
    int ok;

    if (xmsg_sasl_b64_decode(field, strlen(field), &d, &len) != 0)
        return -1;
    ok = len == want;
    if (ok)
        memcpy(out, d, want);
    xmsg_sasl_free_secret(d, len);
    return ok ? 0 : -1;
}

struct lookup_key {
    xmsg_scram_hash h;
    const unsigned char *salt;
    size_t saltlen;
    unsigned iter;
};

/* Parses an entry: 1 hit, 0 other salt/count, -1 corrupt. */
static int parse_entry(char *text, const struct lookup_key *k,
                       xmsg_scram_keys *keys)
{
    char *f[8], *nl = strchr(text, '\n'), iter[16];
    size_t hl = xmsg_scram_hash_len(k->h);
    unsigned char *salt;
    size_t saltlen;
    int same;

    if (!nl || nl[1] != '\0' || strncmp(text, MAGIC " ", 18) != 0)
        return -1;
    *nl = '\0';
    if (split(text + 18, f, 5) != 5 ||
        strcmp(f[0], xmsg_scram_hash_name(k->h)) != 0)
        return -1;
    snprintf(iter, sizeof(iter), "%u", k->iter);
    if (xmsg_sasl_b64_decode(f[2], strlen(f[2]), &salt, &saltlen) != 0)
        return -1;
    same = strcmp(f[1], iter) == 0 && saltlen == k->saltlen &&
           memcmp(salt, k->salt, saltlen) == 0;
    free(salt);
    if (!same)
        return 0;
    keys->len = hl;
    if (field_bytes(f[3], keys->client_key, hl) != 0 ||
        field_bytes(f[4], keys->server_key, hl) != 0)
        return -1;
    return 1;
}

int xmsg_keycache_lookup(xmsg_keycache *kc, const char *server,
                         const char *authcid, xmsg_scram_hash h,
                         const unsigned char *salt, size_t saltlen,
                         unsigned iter, xmsg_scram_keys *keys)
{
    const struct lookup_key k = {h, salt, saltlen, iter};
    char buf[FILE_MAX], *path;
    const char *why = NULL;
    int rc = 0, r;

    if (!kc || !kc->enabled || !keys)
        return 0;
    path = xmsg_keycache_path(kc, server, authcid, h);
    if (!path)
        return 0;
    r = read_private(path, buf, sizeof(buf), &why);
    if (r == -1) {
        xmsg_sasl_logf(&kc->log, XMSG_LOG_DEBUG, "keycache: no entry (%s)",
                       path);
        goto out;
    }
    if (r != 0) {
        xmsg_sasl_logf(&kc->log, XMSG_LOG_WARN, "keycache: %s: %s, ignored",
                       path, why);
        goto out;
    }
    rc = parse_entry(buf, &k, keys);
    if (rc == 1)
        xmsg_sasl_logf(&kc->log, XMSG_LOG_DEBUG,
                       "keycache: derived keys from the cache (no PBKDF2)");
    else if (rc == 0)
        xmsg_sasl_logf(&kc->log, XMSG_LOG_INFO,
                       "keycache: salt or iteration count changed: "
                       "deriving again");
    else
        xmsg_sasl_logf(&kc->log, XMSG_LOG_WARN,
                       "keycache: %s is corrupt, ignored", path);
out:
    if (rc != 1)
        xmsg_secure_zero(keys, sizeof(*keys));
    xmsg_secure_zero(buf, sizeof(buf));
    free(path);
    return rc == 1;
}

/* ---- writing ---- */

/* mkdir -p dir, each missing level 0700. 0 ok. */
static int make_dirs(const char *dir)
{
    char *p = xmsg_strdup(dir), *s;
    int rc = -1;

    if (!p)
        return -1;
    for (s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            goto out;
        *s = c;
        if (c == '\0')
            break;
    }
    rc = 0;
out:
    free(p);
    return rc;
}

static int write_all(int fd, const char *d, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, d, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        d += w;
        n -= (size_t)w;
    }
    return 0;
}

/* path ".tmp." pid "." 16 random hex digits: a new string. */
static char *temp_name(const char *path)
{
    unsigned char r[8];
    size_t n = strlen(path) + 48;
    char *t;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return NULL;
    t = malloc(n);
    if (t)
        snprintf(t, n, "%s.tmp.%ld.%02x%02x%02x%02x%02x%02x%02x%02x", path,
                 (long)getpid(), r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                 r[7]);
    return t;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return;
    fsync(fd);
    close(fd);
}

/* Writes text to path atomically, mode 0600. 0 ok. */
static int write_atomic(const xmsg_keycache *kc, const char *path,
                        const char *text, size_t len)
{
    char *tmp = NULL;
    int fd = -1, rc = -1;

    if (make_dirs(kc->dir) != 0)
        goto out;
    tmp = temp_name(path);
    if (!tmp)
        goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 ||
        fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    sync_dir(kc->dir);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* The entry's line into b. 0 ok. */
static int entry_text(xmsg_scram_hash h, const unsigned char *salt,
                      size_t saltlen, unsigned iter,
                      const xmsg_scram_keys *keys, xmsg_buf *b)
{
    char *s64 = xmsg_base64(salt, saltlen);
    char *c64 = xmsg_base64(keys->client_key, keys->len);
    char *k64 = xmsg_base64(keys->server_key, keys->len);
    char head[64];
    int rc = -1;

    snprintf(head, sizeof(head), MAGIC " %s %u ", xmsg_scram_hash_name(h),
             iter);
    if (s64 && c64 && k64 && !xmsg_buf_str(b, head) && !xmsg_buf_str(b, s64) &&
        !xmsg_buf_str(b, " ") && !xmsg_buf_str(b, c64) &&
        !xmsg_buf_str(b, " ") && !xmsg_buf_str(b, k64) &&
        !xmsg_buf_str(b, "\n"))
        rc = 0;
    free(s64);
    xmsg_free_secret(c64);
    xmsg_free_secret(k64);
    return rc;
}

int xmsg_keycache_store(xmsg_keycache *kc, const char *server,
                        const char *authcid, xmsg_scram_hash h,
                        const unsigned char *salt, size_t saltlen,
                        unsigned iter, const xmsg_scram_keys *keys)
{
    xmsg_buf b = {0};
    char *path;
    int rc = -1;

    if (!kc || !kc->enabled)
        return 0;
    path = xmsg_keycache_path(kc, server, authcid, h);
    if (!path || !keys || keys->len != xmsg_scram_hash_len(h) ||
        entry_text(h, salt, saltlen, iter, keys, &b) != 0)
        goto out;
    rc = write_atomic(kc, path, b.d, b.len);
out:
    if (rc != 0)
        xmsg_sasl_logf(&kc->log, XMSG_LOG_WARN,
                       "keycache: cannot write an entry in %s", kc->dir);
    if (b.d)
        xmsg_sasl_free_secret(b.d, b.cap);
    free(path);
    return rc;
}

void xmsg_keycache_forget(xmsg_keycache *kc, const char *server,
                          const char *authcid, xmsg_scram_hash h)
{
    char *path = xmsg_keycache_path(kc, server, authcid, h);

    if (path && unlink(path) != 0 && errno != ENOENT)
        xmsg_sasl_logf(&kc->log, XMSG_LOG_WARN, "keycache: cannot remove %s",
                       path);
    free(path);
}

int xmsg_keycache_plus_seen(xmsg_keycache *kc, const char *server)
{
    char buf[16], *path;
    const char *why;
    int seen;

    if (!kc || !kc->enabled)
        return 0;
    path = plus_path(kc, server);
    if (!path)
        return 0;
    seen = read_private(path, buf, sizeof(buf), &why) == 0 &&
           strcmp(buf, "1\n") == 0;
    free(path);
    return seen;
}

int xmsg_keycache_plus_note(xmsg_keycache *kc, const char *server)
{
    char *path;
    int rc;

    if (!kc || !kc->enabled)
        return 0;
    path = plus_path(kc, server);
    rc = path ? write_atomic(kc, path, "1\n", 2) : -1;
    free(path);
    return rc;
}
