/* upload_file.c - xmsg_session_upload(): one file to the account's upload
 * service (XEP-0363). The service from the cache or from discovery, the
 * size checked against its limit before anything is asked or sent, a
 * slot, the PUT. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/rand.h>
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
    if (sent > t->size) /* a sealed upload's tag */
        sent = t->size;
    if (t->c->params->progress && sent != t->told && sent < t->size)
        progress(t, sent);
    xmsg_conn_extend(t->c);
    xmsg_conn_run(t->c, 0);
    return t->c->closed;
}

/* A sealed upload's name for the slot: 32 random hex digits, and the
 * file's extension when it is short and plain (clients pick how to show
 * a file by it). 0, or -1 when the random source fails. */
static int sealed_name(const char *path, char out[48])
{
    const char *dot = strrchr(base_name(path), '.');
    uint8_t r[16];
    size_t i;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return -1;
    for (i = 0; i < sizeof(r); i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    if (dot && strlen(dot) >= 2 && strlen(dot) <= 9 &&
        strspn(dot + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789") == strlen(dot + 1))
        strcat(out, dot);
    return 0;
}

/* The PUT (sealed with k when k) and the URL to send. */
static xmsg_err put_file(xmsg_conn *c, const xmsg_upload_slot *slot, FILE *f,
                         struct put *t, const char *type,
                         const xmsg_aesgcm_key *k, char **url)
{
    const xmsg_params *p = c->params;
    xmsg_err rc;

    if (k)
        rc = xmsg_upload_put_sealed(slot, f, t->size, k, p, tick, t, c->st);
    else
        rc = xmsg_upload_put(slot, f, t->size, type, p, tick, t, c->st);
    xmsg_conn_extend(c);
    if (!rc && p->progress)
        progress(t, t->size);
    if (rc)
        return rc;
    *url = k ? xmsg_aesgcm_url(slot->get_url, k) : xmsg_strdup(slot->get_url);
    if (!*url && k)
        return xmsg_status_fail(c->st, XMSG_ERR_PROTOCOL,
                                "upload: an encrypted file needs an https "
                                "GET URL without fragment");
    return *url ? XMSG_OK
                : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
}

/* The slot and the PUT. */
static xmsg_err send_file(xmsg_conn *c, const xmsg_upload_svc *svc, FILE *f,
                          struct put *t, const char *type, char **url)
{
    xmsg_upload_slot slot;
    xmsg_aesgcm_key k;
    char name[48];
    const int sealed = c->aesgcm;
    xmsg_err rc;

    if (sealed && (xmsg_aesgcm_key_new(&k) || sealed_name(t->path, name)))
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL,
                                "upload: the random source fails");
    rc = xmsg_upload_request_slot(
        c, svc->jid, sealed ? name : base_name(t->path),
        t->size + (sealed ? XMSG_AESGCM_TAG : 0),
        sealed ? "application/octet-stream" : type, &slot);
    if (rc)
        goto out;
    xmsg_conn_log(c, XMSG_LOG_INFO, "upload: PUT %" PRId64 " bytes%s",
                  t->size + (sealed ? XMSG_AESGCM_TAG : 0),
                  sealed ? " (encrypted, XEP-0454)" : "");
    if (c->params->progress)
        progress(t, 0);
    rc = put_file(c, &slot, f, t, type, sealed ? &k : NULL, url);
    xmsg_upload_slot_clear(&slot);
out:
    xmsg_secure_zero(&k, sizeof(k));
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
    if (!rc && svc.max_size >= 0 &&
        t.size + (c->aesgcm ? XMSG_AESGCM_TAG : 0) > svc.max_size)
        rc = xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                              "file %s is %" PRId64 " bytes%s; the server "
                              "takes at most %" PRId64,
                              path, t.size,
                              c->aesgcm ? " (16 more encrypted)" : "",
                              svc.max_size);
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
