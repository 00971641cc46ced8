/* ask.c - see session.h: one iq asked, its answer awaited. */
#include <stdlib.h>

#include "features/session.h"

struct ask {
    int done;
    xmsg_xel *answer; /* owned: a copy made by re-parsing */
};

static int on_answer(xmsg_conn *c, const xmsg_xel *stanza, void *userdata)
{
    struct ask *a = userdata;
    xmsg_buf b = {0};

    (void)c;
    a->done = 1;
    if (xmsg_xel_write(stanza, NULL, &b) == XMSG_OK)
        a->answer = xmsg_xml_parse_fragment(b.d);
    xmsg_buf_free(&b);
    return 0;
}

xmsg_err xmsg_conn_ask(xmsg_conn *c, xmsg_xel *iq, const char *to,
                       xmsg_xel **wrap, const xmsg_xel **answer)
{
    struct ask a = {0, NULL};
    char *id = xmsg_conn_new_id(c);
    xmsg_err rc;

    *wrap = NULL;
    *answer = NULL;
    if (!id || xmsg_xel_set_attr(iq, "id", id) ||
        (to && xmsg_xel_set_attr(iq, "to", to)) ||
        xmsg_conn_id_handler_add(c, on_answer, id, &a)) {
        free(id);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    xmsg_conn_send(c, iq);
    rc = xmsg_conn_wait(c, &a.done);
    xmsg_conn_handler_forget(c, &a);
    free(id);
    if (rc)
        return rc;
    xmsg_conn_extend(c); /* an answer: the next wait is its own */
    if (!a.answer)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    *wrap = a.answer;
    *answer = xmsg_xel_child(a.answer, NULL, "iq");
    return *answer ? XMSG_OK
                   : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "lost answer");
}
