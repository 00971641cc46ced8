/* recvhook.c - see recvhook.h. */
#include "features/recvhook.h"
#include "features/sessobj.h"

/* Set once at load (a constructor of the layer above), read after. */
static xmsg_recv_hook_make maker;

void xmsg_recv_hook_provide(xmsg_recv_hook_make make)
{
    maker = make;
}

xmsg_err xmsg_recv_hook_install(xmsg_session *s)
{
    if (!s->p->omemo || s->rh_ops)
        return XMSG_OK;
    if (!maker)
        return xmsg_status_fail(s->c.st, XMSG_ERR_INPUT,
                                "params.omemo: this program has no OMEMO "
                                "(a build without it, or linked without "
                                "its functions)");
    return maker(s, &s->rh_ops, &s->rh_ud);
}

int xmsg_recv_hook_run(xmsg_session *s, xmsg_message *m)
{
    if (!s || !s->rh_ops || !m)
        return 0;
    return s->rh_ops->message(s, s->rh_ud, m);
}

void xmsg_recv_hook_done(xmsg_session *s)
{
    if (s && s->rh_ops && s->rh_ops->done)
        s->rh_ops->done(s, s->rh_ud);
}

void xmsg_recv_hook_free(xmsg_session *s)
{
    if (!s || !s->rh_ops)
        return;
    if (s->rh_ops->free)
        s->rh_ops->free(s->rh_ud);
    s->rh_ops = NULL;
    s->rh_ud = NULL;
}
