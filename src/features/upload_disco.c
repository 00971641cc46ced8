/* upload_disco.c - see upload.h: the iqs of XEP-0363 over the connection
 * (disco#items, disco#info, the slot request). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/upload.h"

/* A query iq of namespace ns to `to`; the answer as in ask(). */
static xmsg_err disco(xmsg_conn *c, const char *ns, const char *to,
                      xmsg_xel **wrap, const xmsg_xel **answer)
{
    xmsg_xel *iq = xmsg_xel_new(XMSG_NS_CLIENT, "iq");
    xmsg_err rc;

    if (!iq || xmsg_xel_set_attr(iq, "type", "get") ||
        !xmsg_xel_add_new(iq, ns, "query")) {
        xmsg_xel_free(iq);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    rc = xmsg_conn_ask(c, iq, to, wrap, answer);
    xmsg_xel_free(iq);
    return rc;
}

/* disco#info on jid: 1 and svc filled when it is the upload service. */
static xmsg_err try_info(xmsg_conn *c, const char *jid, xmsg_upload_svc *svc)
{
    xmsg_xel *wrap;
    const xmsg_xel *iq;
    xmsg_err rc = disco(c, XMSG_NS_DISCO_INFO, jid, &wrap, &iq);
    int64_t max;
    int found;

    if (rc)
        return rc;
    found = xmsg_upload_parse_info(iq, &max);
    if (found < 0)
        xmsg_conn_log(c, XMSG_LOG_WARN,
                      "upload: %s has a max-file-size that is no number", jid);
    if (found > 0) {
        svc->jid = xmsg_strdup(jid);
        svc->max_size = max;
        if (!svc->jid)
            rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    xmsg_xel_free(wrap);
    return rc;
}

/* The jids of a disco#items answer, at most XMSG_UPLOAD_MAX_ITEMS. */
static int item_jids(const xmsg_xel *iq, xmsg_strvec *out)
{
    const xmsg_xel *q = xmsg_xel_child(iq, XMSG_NS_DISCO_ITEMS, "query");
    const xmsg_xel *it;
    const char *jid, *type = xmsg_xel_attr(iq, "type");

    if (!q || !type || strcmp(type, "result") != 0)
        return 0;
    for (it = xmsg_xel_child(q, XMSG_NS_DISCO_ITEMS, "item");
         it && out->n < XMSG_UPLOAD_MAX_ITEMS;
         it = xmsg_xel_next_el(it, XMSG_NS_DISCO_ITEMS, "item")) {
        jid = xmsg_xel_attr(it, "jid");
        if (jid && *jid && !xmsg_xel_attr(it, "node") &&
            xmsg_strvec_push(out, jid))
            return -1;
    }
    return 0;
}

xmsg_err xmsg_upload_discover(xmsg_conn *c, const char *domain,
                              xmsg_upload_svc *svc)
{
    xmsg_strvec items = {0};
    xmsg_xel *wrap = NULL;
    const xmsg_xel *iq;
    xmsg_err rc;
    size_t i;

    svc->jid = NULL;
    svc->max_size = -1;
    rc = disco(c, XMSG_NS_DISCO_ITEMS, domain, &wrap, &iq);
    if (rc)
        goto out;
    if (item_jids(iq, &items)) {
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (i = 0; i < items.n && !rc && !svc->jid; i++)
        rc = try_info(c, items.v[i], svc);
    if (!rc && !svc->jid)
        rc = try_info(c, domain, svc);
    if (!rc && svc->jid)
        xmsg_conn_log(c, XMSG_LOG_INFO, "upload: service %s, max %" PRId64,
                      svc->jid, svc->max_size);
out:
    xmsg_xel_free(wrap);
    xmsg_strvec_clear(&items);
    return rc;
}

static xmsg_xel *slot_iq(const char *filename, int64_t size,
                         const char *content_type)
{
    xmsg_xel *iq = xmsg_xel_new(XMSG_NS_CLIENT, "iq"), *r;
    char num[24];

    snprintf(num, sizeof(num), "%" PRId64, size);
    r = iq ? xmsg_xel_add_new(iq, XMSG_NS_UPLOAD, "request") : NULL;
    if (!r || xmsg_xel_set_attr(iq, "type", "get") ||
        xmsg_xel_set_attr(r, "filename", filename) ||
        xmsg_xel_set_attr(r, "size", num) ||
        (content_type && xmsg_xel_set_attr(r, "content-type", content_type))) {
        xmsg_xel_free(iq);
        return NULL;
    }
    return iq;
}

xmsg_err xmsg_upload_request_slot(xmsg_conn *c, const char *svc_jid,
                                  const char *filename, int64_t size,
                                  const char *content_type,
                                  xmsg_upload_slot *slot)
{
    xmsg_xel *iq = slot_iq(filename, size, content_type), *wrap = NULL;
    const xmsg_xel *answer;
    char err[160];
    xmsg_err rc;

    memset(slot, 0, sizeof(*slot));
    if (!iq)
        return xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                                "the file name cannot be sent in XML");
    rc = xmsg_conn_ask(c, iq, svc_jid, &wrap, &answer);
    if (!rc)
        rc = xmsg_upload_parse_slot(answer, c->params->disable_tls, slot, err,
                                    sizeof(err));
    if (rc && wrap)
        xmsg_status_fail(c->st, rc, "%s", err);
    xmsg_xel_free(wrap);
    xmsg_xel_free(iq);
    return rc;
}
