/* seal.c - see seal.h. */
#include "features/seal.h"
#include "features/sessobj.h"

static const xmsg_sealer_ops *registered;

void xmsg_sealer_register(const xmsg_sealer_ops *ops)
{
    registered = ops;
}

const xmsg_sealer_ops *xmsg_sealer_registered(void)
{
    return registered;
}

xmsg_err xmsg_seal_start(xmsg_session *s)
{
    const xmsg_sealer_ops *ops = registered;

    if (s->p->omemo == XMSG_OMEMO_OFF || s->seal_ops)
        return XMSG_OK;
    if (!ops && s->p->omemo == XMSG_OMEMO_REQUIRED)
        return xmsg_status_fail(s->c.st, XMSG_ERR_INPUT,
                                "params.omemo: no OMEMO in this program "
                                "(a build without it, or a static link "
                                "without xmsg_omemo_init())");
    if (!ops) {
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "params omemo optional: no OMEMO in this program, "
                      "messages go out in clear");
        return XMSG_OK;
    }
    s->seal_state = ops->open(s);
    if (!s->seal_state)
        return xmsg_status_code(s->c.st)
                   ? xmsg_status_code(s->c.st)
                   : xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL,
                                      "OMEMO: cannot start");
    s->seal_ops = ops;
    s->c.seal = ops->seal;
    s->c.seal_check = ops->check;
    s->c.seal_state = s->seal_state;
    return XMSG_OK;
}

void xmsg_seal_stop(xmsg_session *s)
{
    if (s->seal_ops)
        s->seal_ops->close(s->seal_state);
    s->seal_ops = NULL;
    s->seal_state = NULL;
    s->c.seal = NULL;
    s->c.seal_check = NULL;
    s->c.seal_state = NULL;
}
