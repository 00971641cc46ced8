/* upload_cache.c - see upload.h: the upload service cached for a day in
 * a small JSON file next to the checkpoint:
 * {"version":1,"domain":D,"service":JID|null,"maxFileSize":N,"time":T}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "features/state.h"
#include "features/upload.h"

char *xmsg_upload_cache_path(const xmsg_params *p, const char *bare_jid)
{
    return xmsg_state_sibling_path(p, bare_jid, ".upload.json");
}

/* The cached service's jid: 0 (a string, or null: none), -1 otherwise. */
static int cached_jid(const json_t *v, const char **jid)
{
    *jid = json_is_string(v) ? json_string_value(v) : NULL;
    return json_is_string(v) || json_is_null(v) ? 0 : -1;
}

int xmsg_upload_cache_load(const char *path, const char *domain, time_t now,
                           xmsg_upload_svc *svc)
{
    json_t *o = path ? json_load_file(path, 0, NULL) : NULL, *service = NULL;
    const char *d = NULL, *jid = NULL;
    json_int_t t = 0, max = -1;
    int hit;

    svc->jid = NULL;
    svc->max_size = -1;
    hit = o &&
          json_unpack(o, "{s:s, s:o, s:I, s:I}", "domain", &d, "service",
                      &service, "maxFileSize", &max, "time", &t) == 0 &&
          cached_jid(service, &jid) == 0 && strcmp(d, domain) == 0 &&
          t <= (json_int_t)now &&
          (json_int_t)now - t <= XMSG_UPLOAD_CACHE_TTL && max >= -1;
    if (hit && jid) {
        svc->jid = xmsg_strdup(jid);
        hit = svc->jid != NULL;
    }
    if (hit)
        svc->max_size = max;
    json_decref(o);
    return hit;
}

int xmsg_upload_cache_save(const char *path, const char *domain, time_t now,
                           const xmsg_upload_svc *svc)
{
    json_t *o;
    char *tmp;
    size_t n;
    int rc = -1;

    if (!path)
        return -1;
    o = json_pack("{s:i, s:s, s:s?, s:I, s:I}", "version", 1, "domain", domain,
                  "service", svc->jid, "maxFileSize", (json_int_t)svc->max_size,
                  "time", (json_int_t)now);
    n = strlen(path) + 8;
    tmp = o ? malloc(n) : NULL;
    if (tmp && xmsg_state_make_parents(path) == 0) {
        snprintf(tmp, n, "%s.tmp", path);
        rc = json_dump_file(o, tmp, JSON_COMPACT);
        if (rc == 0)
            rc = rename(tmp, path);
        if (rc)
            unlink(tmp);
    }
    free(tmp);
    json_decref(o);
    return rc;
}
