/* watchdog.h - enforces a call's deadline on code that blocks inside
 * libstrophe (its TLS handshake waits on the socket without a timeout):
 * at the deadline the socket is shut down, which ends any wait on it. */
#ifndef XMSG_WATCHDOG_H
#define XMSG_WATCHDOG_H

#include <pthread.h>
#include <stdint.h>

typedef struct xmsg_watchdog {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t deadline; /* CLOCK_MONOTONIC ms */
    int fd;            /* our own dup of the socket, or -1 */
    int stop;
    int fired;
    int running;
} xmsg_watchdog;

/* Starts the watchdog thread. Returns 0, or -1 (then nothing to stop). */
int xmsg_watchdog_start(xmsg_watchdog *w, uint64_t deadline_ms);
/* Watches socket fd (duplicated; the previous one is released). */
void xmsg_watchdog_watch(xmsg_watchdog *w, int fd);
/* Moves the deadline (a session making progress, or a new operation);
 * no effect once it fired. */
void xmsg_watchdog_set_deadline(xmsg_watchdog *w, uint64_t deadline_ms);
/* 1 once the deadline passed and the socket was shut down. */
int xmsg_watchdog_fired(xmsg_watchdog *w);
/* Shuts the socket down now (a check failed mid-stream). */
void xmsg_watchdog_cut(xmsg_watchdog *w);
/* Stops and joins the thread, releases the socket. Idempotent. */
void xmsg_watchdog_stop(xmsg_watchdog *w);

#endif
