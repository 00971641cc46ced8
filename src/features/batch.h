/* batch.h - pipelined sending over one session (batch.c). */
#ifndef XMSG_BATCH_H
#define XMSG_BATCH_H

#include "features/session.h"

struct xmsg_batch_io {
    xmsg_next_cb next;
    xmsg_result_cb done;
    void *userdata;
    int keep_deadline; /* the call's deadline is fixed (xmsg_send) */
    int single;        /* one message: log it as such, no summary */
};

/* Sends every input over c; results go to io->done in input order.
 * Returns XMSG_OK when every input was delivered, else the worst code;
 * a session failure is recorded in c->st. */
xmsg_err xmsg_batch_run(xmsg_conn *c, const struct xmsg_batch_io *io);

/* Reads every remaining input and reports each as not sent (code, text),
 * or as invalid; *index counts the inputs, *count those reported.
 * Returns the worst code reported. */
xmsg_err xmsg_batch_refuse(const struct xmsg_batch_io *io, size_t *index,
                           xmsg_err code, const char *text, size_t *count);

/* send.c: m (taken) made the message as it is sent (checked, defaults
 * added, an id given), or NULL (m freed) with the reason in err. */
xmsg_message *xmsg_message_prepare(xmsg_conn *c, xmsg_message *m, char *err,
                                   size_t errlen);

#endif
