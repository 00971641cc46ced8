/* mam.c - see mam.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/mam.h"

#define NS_RSM "http://jabber.org/protocol/rsm"
#define NS_FORWARD "urn:xmpp:forward:0"

static int rsm_set(xmsg_xel *query, const char *after, long max, int last_only)
{
    xmsg_xel *set = xmsg_xel_add_new(query, NS_RSM, "set");
    char num[24];

    snprintf(num, sizeof(num), "%ld", last_only ? 1L : max);
    return !set || !xmsg_el_add(set, NULL, "max", num) ||
           (last_only && !xmsg_el_add(set, NULL, "before", NULL)) ||
           (!last_only && after && !xmsg_el_add(set, NULL, "after", after));
}

static int on_fin(xmsg_conn *c, const xmsg_xel *stanza, void *userdata)
{
    xmsg_mam_page *p = userdata;
    const char *type = xmsg_xel_attr(stanza, "type");
    const xmsg_xel *fin, *set, *last;
    const char *complete;

    (void)c;
    p->done = 1;
    if (!type || strcmp(type, "result") != 0) {
        p->error = 1;
        xmsg_error_condition(stanza, p->cond, sizeof(p->cond));
        return 0;
    }
    fin = xmsg_xel_child(stanza, XMSG_NS_MAM, "fin");
    set = fin ? xmsg_xel_child(fin, NS_RSM, "set") : NULL;
    last = set ? xmsg_el_child(set, "last") : NULL;
    complete = fin ? xmsg_xel_attr(fin, "complete") : NULL;
    p->complete = complete && strcmp(complete, "true") == 0;
    free(p->last);
    p->last = last ? xmsg_xel_text(last) : NULL;
    return 0;
}

xmsg_err xmsg_mam_query(xmsg_conn *c, xmsg_mam_page *page, const char *after,
                        long max, int last_only)
{
    xmsg_xel *iq, *query = NULL;
    char *qid;
    int rc;

    xmsg_mam_page_reset(page);
    page->c = c;
    page->iq_id = xmsg_conn_new_id(c);
    qid = xmsg_conn_new_id(c);
    if (qid)
        snprintf(page->queryid, sizeof(page->queryid), "%s", qid);
    free(qid);
    iq = page->iq_id ? xmsg_xel_new(XMSG_NS_CLIENT, "iq") : NULL;
    if (iq)
        query = xmsg_xel_add_new(iq, XMSG_NS_MAM, "query");
    rc = !query || xmsg_xel_set_attr(iq, "type", "set") ||
         xmsg_xel_set_attr(iq, "id", page->iq_id) ||
         xmsg_xel_set_attr(query, "queryid", page->queryid) ||
         rsm_set(query, after, max, last_only);
    if (!rc)
        rc = xmsg_conn_id_handler_add(c, on_fin, page->iq_id, page);
    if (!rc)
        xmsg_conn_send(c, iq);
    xmsg_xel_free(iq);
    return rc ? xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory")
              : XMSG_OK;
}

static int put_stamp(xmsg_message *m, const xmsg_xel *fwd)
{
    const xmsg_xel *d = xmsg_xel_child(fwd, "urn:xmpp:delay", "delay");
    const char *stamp = d ? xmsg_xel_attr(d, "stamp") : NULL;

    return stamp ? xmsg_message_put(m, "stamp", stamp) : 0;
}

xmsg_message *xmsg_mam_result(const xmsg_xel *stanza, const xmsg_mam_page *p,
                              const char *own_bare, int *is_result)
{
    const xmsg_xel *res, *fwd, *inner;
    const char *from = xmsg_xel_attr(stanza, "from"), *qid, *id;
    xmsg_message *m;

    res = xmsg_xel_child(stanza, XMSG_NS_MAM, "result");
    *is_result = res != NULL;
    if (!res)
        return NULL;
    qid = xmsg_xel_attr(res, "queryid");
    id = xmsg_xel_attr(res, "id");
    /* Results come from the account itself: anything else is forged. */
    if ((from && !xmsg_jid_bare_is(from, own_bare)) ||
        (from && strchr(from, '/')) || !qid || strcmp(qid, p->queryid) != 0 ||
        !id)
        return NULL;
    fwd = xmsg_xel_child(res, NS_FORWARD, "forwarded");
    inner = fwd ? xmsg_el_child(fwd, "message") : NULL;
    m = inner ? xmsg_message_from_stanza(inner) : NULL;
    if (m && (put_stamp(m, fwd) || xmsg_message_put(m, "archiveId", id))) {
        xmsg_message_free(m);
        m = NULL;
    }
    return m;
}

const char *xmsg_stanza_archive_id(const xmsg_xel *stanza, const char *own_bare)
{
    const xmsg_xel *c;
    const char *by;

    for (c = xmsg_xel_child(stanza, "urn:xmpp:sid:0", "stanza-id"); c;
         c = xmsg_xel_next_el(c, "urn:xmpp:sid:0", "stanza-id")) {
        by = xmsg_xel_attr(c, "by");
        if (by && !strchr(by, '/') && xmsg_jid_bare_is(by, own_bare))
            return xmsg_xel_attr(c, "id");
    }
    return NULL;
}

void xmsg_mam_page_reset(xmsg_mam_page *p)
{
    /* An answer that never came must not land in a page gone. */
    if (p->c && p->iq_id)
        xmsg_conn_handler_forget(p->c, p);
    free(p->iq_id);
    free(p->last);
    memset(p, 0, sizeof(*p));
}
