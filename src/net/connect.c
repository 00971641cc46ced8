/* connect.c - see net.h: a non-blocking connect() to each candidate in
 * turn. An attempt that fails or is refused moves on to the next at once;
 * one that hangs gets a fair share of the time left (the time left divided
 * by the candidates left, at least ATTEMPT_MIN_MS), so that one silent
 * address cannot eat the whole deadline while others wait. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/netint.h"

#define ATTEMPT_MIN_MS 3000

struct xmsg_connector {
    xmsg_net_cands cands;
    size_t next; /* the candidate to try next */
    int fd;      /* the attempt in flight, or the connected socket */
    size_t cur;  /* its candidate */
    int done;
    uint64_t attempt_end, deadline;
    xmsg_net_log_fn log;
    void *log_ctx;
    char last_why[512]; /* why the last attempt failed (targets: 255) */
    xmsg_net_err err;
};

xmsg_connector *xmsg_connector_new(const xmsg_net_cands *cands,
                                   uint64_t deadline, xmsg_net_log_fn log,
                                   void *log_ctx)
{
    xmsg_connector *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->cands = *cands;
    c->fd = -1;
    c->deadline = deadline;
    c->log = log;
    c->log_ctx = log_ctx;
    snprintf(c->last_why, sizeof(c->last_why), "no address to try");
    return c;
}

static void close_attempt(xmsg_connector *c, const char *why)
{
    char addr[80];

    xmsg_net_addr_str(&c->cands.v[c->cur].addr, addr, sizeof(addr));
    snprintf(c->last_why, sizeof(c->last_why), "%s %s: %s",
             c->cands.v[c->cur].target, addr, why);
    xmsg_net_log(c->log, c->log_ctx, XMSG_LOG_INFO, "connect: %s", c->last_why);
    close(c->fd);
    c->fd = -1;
}

static int new_socket(int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void connected(xmsg_connector *c)
{
    const xmsg_net_cand *k = &c->cands.v[c->cur];
    char addr[80];

    xmsg_net_addr_str(&k->addr, addr, sizeof(addr));
    xmsg_net_log(c->log, c->log_ctx, XMSG_LOG_INFO,
                 "connected to %s at %s (%s)", k->target, addr,
                 k->direct_tls ? "direct TLS" : "STARTTLS");
    c->done = 1;
}

/* Starts the next attempt; 1 if one is in flight (or connected). */
static int start_next(xmsg_connector *c, uint64_t now)
{
    uint64_t left, share;
    size_t remaining;

    while (c->fd < 0 && c->next < c->cands.n) {
        c->cur = c->next++;
        c->fd = new_socket(c->cands.v[c->cur].addr.ss_family);
        if (c->fd < 0) {
            snprintf(c->last_why, sizeof(c->last_why), "socket: %s",
                     strerror(errno));
            continue;
        }
        if (connect(c->fd, (const struct sockaddr *)&c->cands.v[c->cur].addr,
                    c->cands.v[c->cur].addrlen) == 0) {
            connected(c);
            return 1;
        }
        if (errno != EINPROGRESS) {
            close_attempt(c, strerror(errno));
            continue;
        }
        left = c->deadline > now ? c->deadline - now : 0;
        remaining = c->cands.n - c->cur;
        share = left / remaining;
        if (share < ATTEMPT_MIN_MS)
            share = left < ATTEMPT_MIN_MS ? left : ATTEMPT_MIN_MS;
        c->attempt_end = now + share;
    }
    return c->fd >= 0;
}

void xmsg_connector_wait(xmsg_connector *c, xmsg_net_wait *w)
{
    memset(w, 0, sizeof(*w));
    if (c->done)
        return;
    if (c->fd < 0) {
        w->wake = 1; /* the first step starts the first attempt */
        return;
    }
    w->pfd[0].fd = c->fd;
    w->pfd[0].events = POLLOUT;
    w->n = 1;
    w->wake = c->attempt_end;
}

/* The attempt in flight: 1 connected, 0 still going, -1 failed. */
static int check_attempt(xmsg_connector *c, short ev, uint64_t now)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (ev & (POLLOUT | POLLERR | POLLHUP)) {
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr == 0) {
            connected(c);
            return 1;
        }
        close_attempt(c, strerror(soerr));
        return -1;
    }
    if (now >= c->attempt_end && c->next < c->cands.n) {
        close_attempt(c, "no answer in its share of the time");
        return -1;
    }
    return 0;
}

xmsg_net_rc xmsg_connector_step(xmsg_connector *c, const struct pollfd *pfd,
                                int n, uint64_t now)
{
    if (c->done)
        return XMSG_NET_DONE;
    if (c->fd >= 0 &&
        check_attempt(c, xmsg_net_revents(pfd, n, c->fd), now) == 1)
        return XMSG_NET_DONE;
    if (now >= c->deadline) {
        if (c->fd >= 0)
            close_attempt(c, "no answer before the deadline");
        return xmsg_net_fail(&c->err, XMSG_ERR_TIMEOUT,
                             "connect: no connection before the deadline "
                             "(last: %s)",
                             c->last_why);
    }
    if (c->fd < 0 && !start_next(c, now))
        return xmsg_net_fail(&c->err, XMSG_ERR_CONNECT,
                             "connect: every address failed (last: %s)",
                             c->last_why);
    return c->done ? XMSG_NET_DONE : XMSG_NET_AGAIN;
}

int xmsg_connector_take_fd(xmsg_connector *c)
{
    int fd = c->done ? c->fd : -1;

    if (c->done)
        c->fd = -1;
    return fd;
}

const xmsg_net_cand *xmsg_connector_cand(const xmsg_connector *c)
{
    return c->done ? &c->cands.v[c->cur] : NULL;
}

const xmsg_net_err *xmsg_connector_err(const xmsg_connector *c)
{
    return &c->err;
}

void xmsg_connector_free(xmsg_connector *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}
