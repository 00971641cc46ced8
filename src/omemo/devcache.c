/* devcache.c - device lists kept for a session (encrypt.h). */
#include <stdlib.h>
#include <string.h>

#include "omemo/encrypt.h"

/* A copy of n ids (owned; NULL when n is 0). 0, or -1 out of memory. */
static int copy_ids(const uint32_t *src, size_t n, uint32_t **out)
{
    *out = n ? malloc(n * sizeof(**out)) : NULL;
    if (n && !*out)
        return -1;
    if (n)
        memcpy(*out, src, n * sizeof(**out));
    return 0;
}

/* Keeps (jid, ids) in dc (ids taken on success). 0, or -1. */
static int keep(xmsg_omemo_devcache *dc, const char *jid, uint32_t *ids,
                size_t n)
{
    size_t cap = dc->cap ? 2 * dc->cap : 8;
    char **j;
    uint32_t **i;
    size_t *c;
    char *name;

    if (dc->n == dc->cap) {
        j = realloc(dc->jids, cap * sizeof(*j));
        if (j)
            dc->jids = j;
        i = j ? realloc(dc->ids, cap * sizeof(*i)) : NULL;
        if (i)
            dc->ids = i;
        c = i ? realloc(dc->ns, cap * sizeof(*c)) : NULL;
        if (!c)
            return -1;
        dc->ns = c;
        dc->cap = cap;
    }
    name = xmsg_strdup(jid);
    if (!name)
        return -1;
    dc->jids[dc->n] = name;
    dc->ids[dc->n] = ids;
    dc->ns[dc->n++] = n;
    return 0;
}

xmsg_err xmsg_omemo_devcache_get(xmsg_conn *c, xmsg_omemo_devcache *dc,
                                 const char *jid, uint32_t **ids, size_t *n)
{
    uint32_t *got = NULL;
    size_t i;
    xmsg_err rc;

    for (i = 0; dc && i < dc->n; i++) {
        if (strcmp(dc->jids[i], jid) == 0) {
            *n = dc->ns[i];
            return copy_ids(dc->ids[i], *n, ids)
                       ? xmsg_status_fail(c->st, XMSG_ERR_INTERNAL,
                                          "out of memory")
                       : XMSG_OK;
        }
    }
    rc = xmsg_omemo_pep_devices(c, jid, ids, n);
    if (rc || !dc)
        return rc;
    if (copy_ids(*ids, *n, &got) || keep(dc, jid, got, *n)) {
        free(got);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    return XMSG_OK;
}

void xmsg_omemo_devcache_clear(xmsg_omemo_devcache *dc)
{
    size_t i;

    for (i = 0; i < dc->n; i++) {
        free(dc->jids[i]);
        free(dc->ids[i]);
    }
    free(dc->jids);
    free(dc->ids);
    free(dc->ns);
    memset(dc, 0, sizeof(*dc));
}
