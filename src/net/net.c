/* net.c - see net.h: what the machines of src/net/ share. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "net/netint.h"

xmsg_net_rc xmsg_net_fail(xmsg_net_err *err, xmsg_err code, const char *fmt,
                          ...)
{
    va_list ap;

    if (!err)
        return XMSG_NET_FAIL;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return XMSG_NET_FAIL;
}

void xmsg_net_log(xmsg_net_log_fn log, void *ctx, xmsg_log_level lvl,
                  const char *fmt, ...)
{
    char line[XMSG_LOG_LINE_MAX];
    va_list ap;

    if (!log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log(ctx, lvl, line);
}

short xmsg_net_revents(const struct pollfd *pfd, int n, int fd)
{
    int i;

    for (i = 0; pfd && i < n; i++) {
        if (pfd[i].fd == fd)
            return pfd[i].revents;
    }
    return 0;
}

int xmsg_net_wait_timeout(const xmsg_net_wait *w, uint64_t deadline,
                          uint64_t now)
{
    uint64_t until = deadline;

    if (w->wake && w->wake < until)
        until = w->wake;
    if (until <= now)
        return 0;
    if (until - now > 24u * 3600 * 1000)
        return 24 * 3600 * 1000;
    return (int)(until - now);
}

uint32_t xmsg_net_rand(void *ctx, uint32_t bound)
{
    uint64_t r = 0;

    (void)ctx;
    if (bound == 0)
        return 0;
    /* 64 random bits: the modulo bias on a 32-bit bound is negligible. */
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        return 0;
    return (uint32_t)(r % ((uint64_t)bound + 1));
}

void xmsg_net_addr_str(const struct sockaddr_storage *a, char *out,
                       size_t outlen)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%u", host, ntohs(s6->sin6_port));
        return;
    }
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%u", host, ntohs(s4->sin_port));
        return;
    }
    snprintf(out, outlen, "(family %d)", a->ss_family);
}
