/* sigpipe.c - a write to a connection the peer closed must fail with
 * EPIPE, not kill the host process. The stream writes plaintext with
 * send(MSG_NOSIGNAL), but OpenSSL's socket BIO writes with write(): around
 * each TLS write (net/tls.c) SIGPIPE is blocked in the calling thread, and
 * a SIGPIPE raised meanwhile is consumed before the mask is restored (as
 * libpq does). */
#include <signal.h>
#include <time.h>

#include "model/internal.h"

void xmsg_sigpipe_block(xmsg_sigpipe *sp)
{
    sigset_t pipe, pending;

    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    sp->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &sp->old_mask);
}

void xmsg_sigpipe_restore(xmsg_sigpipe *sp)
{
    static const struct timespec zero = {0, 0};
    sigset_t pipe, pending;

    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    if (!sp->was_pending && sigismember(&pending, SIGPIPE))
        sigtimedwait(&pipe, NULL, &zero);
    pthread_sigmask(SIG_SETMASK, &sp->old_mask, NULL);
}
