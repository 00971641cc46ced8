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

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps until the deadline; a deadline moved later while it slept (a
 * session making progress) is honoured when it wakes, without a signal. */
static void *run(void *arg)
{
    xmsg_watchdog *w = arg;
    struct timespec at;

    pthread_mutex_lock(&w->mu);
    while (!w->stop && now_ms() < w->deadline) {
        at = to_timespec(w->deadline);
        pthread_cond_timedwait(&w->cv, &w->mu, &at);
    }
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

void xmsg_watchdog_set_deadline(xmsg_watchdog *w, uint64_t deadline_ms)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->mu);
    if (!w->fired) {
        /* Earlier: wake the thread to sleep less. Later: it sees it. */
        if (deadline_ms < w->deadline)
            pthread_cond_signal(&w->cv);
        w->deadline = deadline_ms;
    }
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
