/* state.c - see state.h. */
#define _DEFAULT_SOURCE /* flock(2) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "features/state.h"

int xmsg_state_make_parents(const char *path)
{
    char *dir = xmsg_strdup(path), *p;
    int rc = 0;

    if (!dir)
        return -1;
    for (p = dir + 1; (p = strchr(p, '/')) != NULL && !rc; p++) {
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    free(dir);
    return rc;
}

char *xmsg_state_default_path(const char *bare_jid)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    size_t n;
    char *path;

    if (!bare_jid || strchr(bare_jid, '/'))
        return NULL;
    if ((!xdg || xdg[0] != '/') && (!home || home[0] != '/'))
        return NULL;
    n = strlen(xdg && xdg[0] == '/' ? xdg : home) + strlen(bare_jid) + 40;
    path = malloc(n);
    if (!path)
        return NULL;
    if (xdg && xdg[0] == '/')
        snprintf(path, n, "%s/xmsg/%s.json", xdg, bare_jid);
    else
        snprintf(path, n, "%s/.local/state/xmsg/%s.json", home, bare_jid);
    return path;
}

char *xmsg_state_sibling_path(const xmsg_params *p, const char *bare_jid,
                              const char *suffix)
{
    char *state = p->state_file ? xmsg_strdup(p->state_file)
                                : xmsg_state_default_path(bare_jid);
    size_t n = state ? strlen(state) : 0, len;
    char *path;

    if (!state)
        return NULL;
    if (n > 5 && strcmp(state + n - 5, ".json") == 0)
        state[n -= 5] = '\0';
    len = n + strlen(suffix) + 1;
    path = malloc(len);
    if (path)
        snprintf(path, len, "%s%s", state, suffix);
    free(state);
    return path;
}

static xmsg_err parse(xmsg_state *s, json_t *root, xmsg_status *st)
{
    json_t *after = json_object_get(root, "after");
    json_t *seen = json_object_get(root, "seen"), *v;
    size_t i;

    if (!json_is_object(root) ||
        (after && !json_is_null(after) && !json_is_string(after)))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "state file %s: not an "
                                "xmsg state",
                                s->path);
    if (json_is_string(after) &&
        xmsg_state_set_after(s, json_string_value(after)))
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    json_array_foreach(seen, i, v)
    {
        if (json_is_string(v) &&
            xmsg_strvec_push(&s->seen, json_string_value(v)))
            return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    }
    s->interrupted = json_is_true(json_object_get(root, "pending"));
    return XMSG_OK;
}

xmsg_err xmsg_state_load(xmsg_state *s, const char *path, xmsg_status *st)
{
    json_error_t jerr;
    json_t *root;
    xmsg_err rc;

    memset(s, 0, sizeof(*s));
    s->path = xmsg_strdup(path);
    if (!s->path)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (access(path, F_OK) != 0 && errno == ENOENT)
            return XMSG_OK;
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "state file %s: %s", path,
                                jerr.text);
    }
    s->exists = 1;
    rc = parse(s, root, st);
    json_decref(root);
    return rc;
}

static json_t *to_json(const xmsg_state *s, int pending)
{
    json_t *seen = json_array(), *o;
    size_t i;

    for (i = 0; seen && i < s->seen.n; i++)
        json_array_append_new(seen, json_string(s->seen.v[i]));
    o = json_pack("{s:i, s:o, s:o, s:b}", "version", 1, "after",
                  s->after ? json_string(s->after) : json_null(), "seen",
                  seen ? seen : json_array(), "pending", pending);
    return o;
}

static int write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

xmsg_err xmsg_state_prepare(xmsg_state *s, int pending, xmsg_status *st)
{
    json_t *o = to_json(s, pending);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    size_t n = strlen(s->path) + 32;
    int fd = -1, bad;

    json_decref(o);
    free(s->tmp);
    s->tmp = malloc(n);
    if (!text || !s->tmp) {
        free(text);
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    }
    /* A name of its own per call (mkstemp): two collections in one
     * process never write one temp file. */
    snprintf(s->tmp, n, "%s.tmp.XXXXXX", s->path);
    if (xmsg_state_make_parents(s->path) == 0)
        fd = mkstemp(s->tmp);
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    bad = fd < 0 || write_all(fd, text, strlen(text)) || fsync(fd);
    if (fd >= 0 && close(fd) != 0)
        bad = 1;
    free(text);
    if (bad) {
        unlink(s->tmp);
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "cannot write state "
                                "file %s: %s",
                                s->tmp, strerror(errno));
    }
    return XMSG_OK;
}

static void sync_dir(const char *path)
{
    char *dir = xmsg_strdup(path), *slash;
    int fd;

    slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
        *slash = '\0';
        fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    free(dir);
}

xmsg_err xmsg_state_commit(xmsg_state *s, xmsg_status *st)
{
    if (!s->tmp)
        return XMSG_OK;
    if (rename(s->tmp, s->path) != 0) {
        unlink(s->tmp);
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "cannot replace state "
                                "file %s: %s",
                                s->path, strerror(errno));
    }
    free(s->tmp);
    s->tmp = NULL;
    s->exists = 1;
    sync_dir(s->path);
    return XMSG_OK;
}

xmsg_err xmsg_state_write_file(const char *path, const char *text,
                               xmsg_status *st)
{
    const size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    int fd = -1, bad;

    if (!tmp)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    if (xmsg_state_make_parents(path) == 0)
        fd = mkstemp(tmp); /* 0600 */
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    bad = fd < 0 || write_all(fd, text, strlen(text)) || fsync(fd);
    if (fd >= 0 && close(fd) != 0)
        bad = 1;
    if (!bad && rename(tmp, path) != 0)
        bad = 1;
    if (bad) {
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "cannot write %s: %s", path,
                         strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    } else {
        sync_dir(path);
    }
    free(tmp);
    return bad ? XMSG_ERR_INTERNAL : XMSG_OK;
}

int xmsg_state_set_after(xmsg_state *s, const char *after)
{
    char *copy = xmsg_strdup(after);

    if (after && !copy)
        return -1;
    free(s->after);
    s->after = copy;
    return 0;
}

int xmsg_state_seen(const xmsg_state *s, const char *id)
{
    size_t i;

    for (i = 0; id && i < s->seen.n; i++) {
        if (strcmp(s->seen.v[i], id) == 0)
            return 1;
    }
    return 0;
}

void xmsg_state_clear(xmsg_state *s)
{
    if (s->tmp)
        unlink(s->tmp);
    free(s->tmp);
    free(s->path);
    free(s->after);
    xmsg_strvec_clear(&s->seen);
    memset(s, 0, sizeof(*s));
}

void xmsg_state_remove(xmsg_state *s)
{
    if (s->path)
        unlink(s->path);
    s->exists = 0;
}

/* The lock file: path + ".lock", never renamed (the state file is
 * replaced by rename, and a lock on a replaced inode guards nothing). */
static char *lock_path(const char *path)
{
    size_t n = strlen(path) + sizeof(".lock");
    char *lp = malloc(n);

    if (lp)
        snprintf(lp, n, "%s.lock", path);
    return lp;
}

xmsg_err xmsg_state_lock(const char *path, long wait_ms, int *fd,
                         xmsg_status *st)
{
    char *lp = lock_path(path);
    const uint64_t end = xmsg_now_ms() + (uint64_t)(wait_ms > 0 ? wait_ms : 0);
    xmsg_err rc = XMSG_OK;

    *fd = -1;
    if (!lp)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    if (xmsg_state_make_parents(path) == 0)
        *fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                              "cannot open lock file %s: %s", lp,
                              strerror(errno));
        goto out;
    }
    while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "cannot lock %s: %s",
                                  lp, strerror(errno));
            break;
        }
        if (xmsg_now_ms() >= end) {
            rc = xmsg_status_fail(st, XMSG_ERR_TIMEOUT,
                                  "state file %s is locked by another "
                                  "collector (waited %ld s)",
                                  path, wait_ms / 1000);
            break;
        }
        xmsg_sleep_ms(20);
    }
out:
    if (rc)
        xmsg_state_unlock(fd);
    free(lp);
    return rc;
}

void xmsg_state_unlock(int *fd)
{
    if (*fd >= 0)
        close(*fd); /* releases the lock */
    *fd = -1;
}
