/* seal.h - the send path's hook for end-to-end encryption (params omemo).
 *
 * The features cannot call the layer that encrypts (src/omemo comes after
 * them). That layer registers its operations once per process
 * (xmsg_sealer_register, from a constructor); a session whose params ask
 * for encryption opens a sealer with them, and the batch engine hands it
 * every message about to become a stanza (c->seal). */
#ifndef XMSG_SEAL_H
#define XMSG_SEAL_H

#include "features/session.h"

typedef struct xmsg_session xmsg_session;

typedef struct xmsg_sealer_ops {
    /* The sealer of session s (logged in; its params ask for
     * encryption): its state, or NULL with the failure in s->c.st. */
    void *(*open)(xmsg_session *s);
    /* *m (prepared: id, defaults) about to go out: replaced by the
     * message that goes out instead (*encrypted 1) or left as it is (0:
     * nothing to encrypt, or sent in clear as params allow; logged).
     * Else that message's failure (err says why; *m left as it was,
     * for its result). */
    xmsg_err (*seal)(void *state, xmsg_conn *c, xmsg_message **m,
                     int *encrypted, char *err, size_t errlen);
    /* Before the files of m are uploaded: XMSG_OK when m can be sealed
     * or may go in clear; else m's failure (err says why) and nothing
     * of it is uploaded. */
    xmsg_err (*check)(void *state, xmsg_conn *c, const xmsg_message *m,
                      char *err, size_t errlen);
    /* Frees the state (NULL-safe). */
    void (*close)(void *state);
} xmsg_sealer_ops;

/* The operations of a build that encrypts (one per process; NULL
 * unregisters). */
void xmsg_sealer_register(const xmsg_sealer_ops *ops);
const xmsg_sealer_ops *xmsg_sealer_registered(void);

/* Session start: the sealer its params ask for, on its connection. A
 * build (or a static link) without one: params omemo true is an input
 * error, "optional" is logged and sends in clear. */
xmsg_err xmsg_seal_start(xmsg_session *s);
/* Session close: the sealer freed. */
void xmsg_seal_stop(xmsg_session *s);

#endif
