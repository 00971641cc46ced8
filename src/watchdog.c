/* watchdog.c - see watchdog.h. */
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "watchdog.h"

static struct timespec to_timespec(uint64_t ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    return ts;
}

static void *run(void *arg)
{
    xmsg_watchdog *w = arg;
    struct timespec at = to_timespec(w->deadline);
    int rc = 0;

    pthread_mutex_lock(&w->mu);
    while (!w->stop && rc == 0)
        rc = pthread_cond_timedwait(&w->cv, &w->mu, &at);
    if (!w->stop) {
        w->fired = 1;
        if (w->fd >= 0)
            shutdown(w->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int xmsg_watchdog_start(xmsg_watchdog *w, uint64_t deadline_ms)
{
    pthread_condattr_t ca;

    w->deadline = deadline_ms;
    w->fd = -1;
    w->stop = w->fired = w->running = 0;
    if (pthread_condattr_init(&ca))
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    if (pthread_create(&w->thread, NULL, run, w)) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return -1;
    }
    w->running = 1;
    return 0;
}

void xmsg_watchdog_watch(xmsg_watchdog *w, int fd)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->fd >= 0)
        close(w->fd);
    /* Our own descriptor: its number is never reused under us. */
    w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (w->fired && w->fd >= 0)
        shutdown(w->fd, SHUT_RDWR);
    pthread_mutex_unlock(&w->mu);
}

int xmsg_watchdog_fired(xmsg_watchdog *w)
{
    int fired;

    if (!w->running)
        return 0;
    pthread_mutex_lock(&w->mu);
    fired = w->fired;
    pthread_mutex_unlock(&w->mu);
    return fired;
}

void xmsg_watchdog_stop(xmsg_watchdog *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->running = 0;
}

void xmsg_watchdog_cut(xmsg_watchdog *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->fd >= 0)
        shutdown(w->fd, SHUT_RDWR);
    pthread_mutex_unlock(&w->mu);
}
