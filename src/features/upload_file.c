/* upload_file.c - xmsg_session_upload(): one file to the account's upload
 * service (XEP-0363). The service from the cache or from discovery, the
 * size checked against its limit before anything is asked or sent, a
 * slot, the PUT. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "features/sessobj.h"
#include "features/upload.h"

/* A content type from the file name's extension. */
static const char *guess_type(const char *name)
{
    static const char *const map[][2] = {
        {"png", "image/png"},         {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
        {"webp", "image/webp"},       {"svg", "image/svg+xml"},
        {"txt", "text/plain"},        {"log", "text/plain"},
        {"csv", "text/csv"},          {"html", "text/html"},
        {"json", "application/json"}, {"pdf", "application/pdf"},
        {"zip", "application/zip"},   {"gz", "application/gzip"},
        {"mp4", "video/mp4"},         {"webm", "video/webm"},
        {"ogg", "audio/ogg"},         {"mp3", "audio/mpeg"},
    };
    const char *dot = strrchr(name, '.');
    size_t i;

    for (i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcasecmp(dot + 1, map[i][0]) == 0)
            return map[i][1];
    }
    return "application/octet-stream";
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* The account's upload service: cached, else discovered (and cached). */
static xmsg_err find_service(xmsg_conn *c, xmsg_upload_svc *svc)
{
    char *bare = xmsg_jid_bare_norm(c->params->jid);
    const char *domain = bare ? strchr(bare, '@') : NULL;
    char *path = NULL;
    xmsg_err rc = XMSG_OK;

    if (!bare)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    domain = domain ? domain + 1 : bare;
    path = xmsg_upload_cache_path(c->params, bare);
    if (!xmsg_upload_cache_load(path, domain, time(NULL), svc)) {
        rc = xmsg_upload_discover(c, domain, svc);
        if (!rc && xmsg_upload_cache_save(path, domain, time(NULL), svc))
            xmsg_conn_log(c, XMSG_LOG_WARN,
                          "upload: the service cannot be cached in %s",
                          path ? path : "(no state dir)");
    }
    free(path);
    free(bare);
    if (!rc && !svc->jid)
        rc = xmsg_status_fail(c->st, XMSG_ERR_PROTOCOL,
                              "the server offers no HTTP upload (XEP-0363)");
    return rc;
}

static xmsg_err open_file(const char *path, FILE **f, int64_t *size,
                          xmsg_status *st)
{
    struct stat sb;

    *f = fopen(path, "rb");
    if (!*f)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "file %s: %s", path,
                                strerror(errno));
    if (fstat(fileno(*f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(*f);
        *f = NULL;
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "file %s: not a regular file", path);
    }
    *size = (int64_t)sb.st_size;
    return XMSG_OK;
}

/* One PUT: the stream it serves, the progress it tells. */
struct put {
    xmsg_conn *c;
    const char *path;
    int64_t size;
    int64_t told; /* the bytes last told */
};

static void progress(struct put *t, int64_t sent)
{
    const xmsg_params *p = t->c->params;
    const xmsg_conn_paused paused = xmsg_conn_pause(t->c);

    t->told = sent;
    /* The caller's time is not the server's. */
    p->progress(t->path, sent, t->size, p->progress_ud);
    xmsg_conn_resume(t->c, paused);
}

/* During the PUT: the XMPP stream's ready input is handled (pings, <r/>,
 * messages kept for poll), and its deadline moves along (libcurl bounds
 * the PUT's own waits by the same timeout). 1 when the stream is lost. */
static int tick(void *userdata, int64_t sent)
{
    struct put *t = userdata;

    /* Whole is told once, when the server took it (send_file). */
    if (t->c->params->progress && sent != t->told && sent < t->size)
        progress(t, sent);
    xmsg_conn_extend(t->c);
    xmsg_conn_run(t->c, 0);
    return t->c->closed;
}

/* The slot and the PUT. */
static xmsg_err send_file(xmsg_conn *c, const xmsg_upload_svc *svc, FILE *f,
                          struct put *t, const char *type, char **url)
{
    xmsg_upload_slot slot;
    xmsg_err rc;

    rc = xmsg_upload_request_slot(c, svc->jid, base_name(t->path), t->size,
                                  type, &slot);
    if (rc)
        return rc;
    xmsg_conn_log(c, XMSG_LOG_INFO, "upload: PUT %" PRId64 " bytes", t->size);
    if (c->params->progress)
        progress(t, 0);
    rc = xmsg_upload_put(&slot, f, t->size, type, c->params, tick, t, c->st);
    xmsg_conn_extend(c);
    if (!rc && c->params->progress)
        progress(t, t->size);
    if (!rc) {
        *url = xmsg_strdup(slot.get_url);
        if (!*url)
            rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    xmsg_upload_slot_clear(&slot);
    return rc;
}

xmsg_err xmsg_upload_file(xmsg_conn *c, const char *path,
                          const char *content_type, char **url, int64_t *size)
{
    xmsg_upload_svc svc = {NULL, -1};
    struct put t = {c, path, 0, -1};
    FILE *f = NULL;
    xmsg_err rc;

    *url = NULL;
    rc = open_file(path, &f, &t.size, c->st);
    if (!rc)
        rc = find_service(c, &svc);
    if (!rc && svc.max_size >= 0 && t.size > svc.max_size)
        rc = xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                              "file %s is %" PRId64 " bytes; the server "
                              "takes at most %" PRId64,
                              path, t.size, svc.max_size);
    if (!rc)
        rc = send_file(c, &svc, f, &t,
                       content_type ? content_type : guess_type(path), url);
    if (f)
        fclose(f);
    xmsg_upload_svc_clear(&svc);
    *size = t.size;
    return rc;
}

xmsg_err xmsg_session_upload(xmsg_session *s, const char *path,
                             const char *content_type, char **url,
                             xmsg_status *st)
{
    int64_t size;
    xmsg_err rc;

    if (url)
        *url = NULL;
    if (!s || !path || !url)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "upload: session, path and url required");
    if (content_type && !xmsg_content_type_valid(content_type))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "upload: content type '%.64s' is not "
                                "type/subtype",
                                content_type);
    if (!xmsg_session_begin(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_session_alive(s);
    if (!rc)
        rc = xmsg_upload_file(&s->c, path, content_type, url, &size);
    xmsg_session_end(s);
    return rc;
}
