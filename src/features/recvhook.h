/* recvhook.h - the receive hook: a layer above this one (OMEMO) acts on
 * each received message before it is handed over (collect.c, poll.c),
 * without this layer knowing it. The layer registers a maker once
 * (xmsg_recv_hook_provide, at load); a session whose params ask for it
 * (params omemo) gets its own hook state from the maker. */
#ifndef XMSG_RECVHOOK_H
#define XMSG_RECVHOOK_H

#include "features/session.h"

/* OMEMO's namespace (legacy): a bodiless message with its <encrypted/>
 * is a key transport, for the hook. */
#define XMSG_NS_OMEMO "eu.siacs.conversations.axolotl"

/* What the hook does, on its state ud (the maker's). */
typedef struct xmsg_recv_hook_ops {
    /* m was received and is about to be handed over: it may change it.
     * 0: hand it over; 1: taken (not handed over); -1: out of memory. */
    int (*message)(xmsg_session *s, void *ud, xmsg_message *m);
    /* A call's hand-over is over and went well (connect's end, each
     * poll that handed something over): the connection is still up. */
    void (*done)(xmsg_session *s, void *ud);
    void (*free)(void *ud);
} xmsg_recv_hook_ops;

/* Makes the hook state for s: XMSG_OK with *ops and *ud set, or an
 * error recorded in s's status. */
typedef xmsg_err (*xmsg_recv_hook_make)(xmsg_session *s,
                                        const xmsg_recv_hook_ops **ops,
                                        void **ud);

/* Registers the maker (the OMEMO layer, at load). */
void xmsg_recv_hook_provide(xmsg_recv_hook_make make);

/* Gives s its hook when its params ask for one (omemo): XMSG_OK (also
 * when none is asked for), XMSG_ERR_INPUT (this build or program has no
 * maker), or the maker's error. */
xmsg_err xmsg_recv_hook_install(xmsg_session *s);

/* Runs s's hook on m (none: 0). 0 hand over, 1 taken, -1 out of memory. */
int xmsg_recv_hook_run(xmsg_session *s, xmsg_message *m);
/* The call's hand-over is over. */
void xmsg_recv_hook_done(xmsg_session *s);
/* Frees s's hook state (NULL-safe). */
void xmsg_recv_hook_free(xmsg_session *s);

#endif
