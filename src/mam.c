/* mam.c - see mam.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mam.h"

#define NS_RSM "http://jabber.org/protocol/rsm"
#define NS_FORWARD "urn:xmpp:forward:0"

static xmpp_stanza_t *rsm_set(xmpp_ctx_t *ctx, const char *after, long max,
                              int last_only)
{
    xmpp_stanza_t *set = xmsg_element_new(ctx, "set", NS_RSM, NULL);
    char num[24];

    snprintf(num, sizeof(num), "%ld", last_only ? 1L : max);
    if (!set ||
        xmsg_element_adopt(set, xmsg_element_new(ctx, "max", NULL, num)) ||
        (last_only && xmsg_element_adopt(
                          set, xmsg_element_new(ctx, "before", NULL, NULL))) ||
        (!last_only && after &&
         xmsg_element_adopt(set,
                            xmsg_element_new(ctx, "after", NULL, after)))) {
        if (set)
            xmpp_stanza_release(set);
        return NULL;
    }
    return set;
}

static int on_fin(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    xmsg_mam_page *p = userdata;
    const char *type = xmpp_stanza_get_type(stanza);
    xmpp_stanza_t *fin, *set, *last, *err, *cond;
    char *text;

    (void)conn;
    p->done = 1;
    if (!type || strcmp(type, "result") != 0) {
        p->error = 1;
        err = xmpp_stanza_get_child_by_name(stanza, "error");
        for (cond = err ? xmpp_stanza_get_children(err) : NULL;
             cond && !xmpp_stanza_is_tag(cond);
             cond = xmpp_stanza_get_next(cond))
            ;
        snprintf(p->cond, sizeof(p->cond), "%s",
                 cond ? xmpp_stanza_get_name(cond) : "undefined-condition");
        return 0;
    }
    fin = xmpp_stanza_get_child_by_name_and_ns(stanza, "fin", XMSG_NS_MAM);
    set = fin ? xmpp_stanza_get_child_by_name_and_ns(fin, "set", NS_RSM) : NULL;
    last = set ? xmpp_stanza_get_child_by_name(set, "last") : NULL;
    p->complete =
        fin && xmpp_stanza_get_attribute(fin, "complete") &&
        strcmp(xmpp_stanza_get_attribute(fin, "complete"), "true") == 0;
    text = last ? xmpp_stanza_get_text(last) : NULL;
    free(p->last);
    p->last = xmsg_strdup(text);
    if (text)
        xmpp_free(xmpp_stanza_get_context(stanza), text);
    return 0;
}

xmsg_err xmsg_mam_query(xmsg_conn *c, xmsg_mam_page *page, const char *after,
                        long max, int last_only)
{
    xmpp_stanza_t *iq, *query;
    char *qid;
    int rc;

    xmsg_mam_page_reset(page);
    page->iq_id = xmsg_conn_new_id(c);
    qid = xmsg_conn_new_id(c);
    if (qid)
        snprintf(page->queryid, sizeof(page->queryid), "%s", qid);
    free(qid);
    iq = page->iq_id ? xmpp_iq_new(c->ctx, "set", page->iq_id) : NULL;
    query = xmsg_element_new(c->ctx, "query", XMSG_NS_MAM, NULL);
    rc = !iq || !query ||
         xmpp_stanza_set_attribute(query, "queryid", page->queryid) ||
         xmsg_element_adopt(query, rsm_set(c->ctx, after, max, last_only));
    if (!rc) {
        rc = xmsg_element_adopt(iq, query);
        query = NULL;
    }
    if (!rc)
        rc = xmsg_conn_id_handler_add(c, on_fin, page->iq_id, page);
    if (!rc)
        xmsg_conn_send(c, iq);
    if (query)
        xmpp_stanza_release(query);
    if (iq)
        xmpp_stanza_release(iq);
    return rc ? xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory")
              : XMSG_OK;
}

static int put_stamp(xmsg_message *m, xmpp_stanza_t *fwd)
{
    xmpp_stanza_t *d =
        xmpp_stanza_get_child_by_name_and_ns(fwd, "delay", "urn:xmpp:delay");
    const char *stamp = d ? xmpp_stanza_get_attribute(d, "stamp") : NULL;

    return stamp ? xmsg_message_put(m, "stamp", stamp) : 0;
}

xmsg_message *xmsg_mam_result(xmpp_stanza_t *stanza, const xmsg_mam_page *p,
                              const char *own_bare, int *is_result)
{
    xmpp_stanza_t *res, *fwd, *inner;
    const char *from = xmpp_stanza_get_from(stanza), *qid, *id;
    xmsg_message *m;

    res = xmpp_stanza_get_child_by_name_and_ns(stanza, "result", XMSG_NS_MAM);
    *is_result = res != NULL;
    if (!res)
        return NULL;
    qid = xmpp_stanza_get_attribute(res, "queryid");
    id = xmpp_stanza_get_attribute(res, "id");
    /* Results come from the account itself: anything else is forged. */
    if ((from && !xmsg_jid_bare_is(from, own_bare)) ||
        (from && strchr(from, '/')) || !qid || strcmp(qid, p->queryid) != 0 ||
        !id)
        return NULL;
    fwd = xmpp_stanza_get_child_by_name_and_ns(res, "forwarded", NS_FORWARD);
    inner = fwd ? xmpp_stanza_get_child_by_name(fwd, "message") : NULL;
    m = inner ? xmsg_message_from_stanza(inner) : NULL;
    if (m && (put_stamp(m, fwd) || xmsg_message_put(m, "archiveId", id))) {
        xmsg_message_free(m);
        m = NULL;
    }
    return m;
}

const char *xmsg_stanza_archive_id(xmpp_stanza_t *stanza, const char *own_bare)
{
    xmpp_stanza_t *c;
    const char *by;

    for (c = xmpp_stanza_get_children(stanza); c; c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c) ||
            strcmp(xmpp_stanza_get_name(c), "stanza-id") != 0 ||
            !xmpp_stanza_get_ns(c) ||
            strcmp(xmpp_stanza_get_ns(c), "urn:xmpp:sid:0") != 0)
            continue;
        by = xmpp_stanza_get_attribute(c, "by");
        if (by && !strchr(by, '/') && xmsg_jid_bare_is(by, own_bare))
            return xmpp_stanza_get_attribute(c, "id");
    }
    return NULL;
}

void xmsg_mam_page_reset(xmsg_mam_page *p)
{
    free(p->iq_id);
    free(p->last);
    memset(p, 0, sizeof(*p));
}
