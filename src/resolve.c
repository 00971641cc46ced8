/* resolve.c - see resolve.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"
#include "resolve.h"

/* Shared by the caller and the resolving thread; the last one out frees. */
struct job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs, done, gai;
    char *host;
    xmsg_addrs addrs;
};

static void job_release(struct job *j)
{
    int last;

    pthread_mutex_lock(&j->mu);
    last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j->host);
    free(j);
}

static void collect(struct job *j, const struct addrinfo *ai)
{
    const void *a;

    for (; ai && j->addrs.n < XMSG_ADDRS_MAX; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
            a = &((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
        else if (ai->ai_family == AF_INET6)
            a = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        else
            continue;
        if (inet_ntop(ai->ai_family, a, j->addrs.addr[j->addrs.n],
                      XMSG_ADDR_LEN))
            j->addrs.n++;
    }
}

static void *run(void *arg)
{
    struct job *j = arg;
    struct addrinfo hints, *res = NULL;
    int gai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    gai = getaddrinfo(j->host, NULL, &hints, &res);
    pthread_mutex_lock(&j->mu);
    j->gai = gai;
    if (gai == 0)
        collect(j, res);
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (res)
        freeaddrinfo(res);
    job_release(j);
    return NULL;
}

static int numeric(const char *host, xmsg_addrs *out)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, host, buf) != 1 &&
        inet_pton(AF_INET6, host, buf) != 1)
        return 0;
    snprintf(out->addr[0], XMSG_ADDR_LEN, "%s", host);
    out->n = 1;
    return 1;
}

static struct job *job_new(const char *host)
{
    struct job *j = calloc(1, sizeof(*j));
    pthread_condattr_t ca;

    if (!j || !(j->host = xmsg_strdup(host))) {
        free(j);
        return NULL;
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    j->refs = 2;
    return j;
}

/* Waits for the job until deadline; returns its outcome. */
static enum xmsg_resolve_rc wait_job(struct job *j, uint64_t deadline,
                                     xmsg_addrs *out, char *err, size_t len)
{
    struct timespec at = {(time_t)(deadline / 1000u),
                          (long)(deadline % 1000u) * 1000000L};
    enum xmsg_resolve_rc rc;
    int w = 0;

    pthread_mutex_lock(&j->mu);
    while (!j->done && w == 0)
        w = pthread_cond_timedwait(&j->cv, &j->mu, &at);
    if (!j->done) {
        rc = XMSG_RESOLVE_LATE;
    } else if (j->gai != 0 || j->addrs.n == 0) {
        snprintf(err, len, "%s",
                 j->gai ? gai_strerror(j->gai) : "no IPv4 or IPv6 address");
        rc = XMSG_RESOLVE_FAILED;
    } else {
        *out = j->addrs;
        rc = XMSG_RESOLVED;
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

enum xmsg_resolve_rc xmsg_resolve(const char *host, uint64_t deadline,
                                  xmsg_addrs *out, char *err, size_t errlen)
{
    struct job *j;
    pthread_t t;
    pthread_attr_t attr;
    enum xmsg_resolve_rc rc;
    int started;

    memset(out, 0, sizeof(*out));
    if (numeric(host, out))
        return XMSG_RESOLVED;
    j = job_new(host);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return XMSG_RESOLVE_FAILED;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&t, &attr, run, j) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {
        snprintf(err, errlen, "cannot start a resolver thread");
        j->refs = 1;
        job_release(j);
        return XMSG_RESOLVE_FAILED;
    }
    rc = wait_job(j, deadline, out, err, errlen);
    job_release(j);
    return rc;
}
