/* resolve.h - name resolution under a deadline. getaddrinfo() cannot be
 * interrupted, so it runs in a thread of its own; a caller whose deadline
 * passes goes on without it, and the thread cleans up after itself. */
#ifndef XMSG_RESOLVE_H
#define XMSG_RESOLVE_H

#include <netinet/in.h>
#include <stdint.h>

#define XMSG_ADDRS_MAX 8
#define XMSG_ADDR_LEN 64 /* INET6_ADDRSTRLEN and then some */

typedef struct xmsg_addrs {
    char addr[XMSG_ADDRS_MAX][XMSG_ADDR_LEN]; /* numeric addresses */
    int n;
} xmsg_addrs;

enum xmsg_resolve_rc { XMSG_RESOLVED, XMSG_RESOLVE_FAILED, XMSG_RESOLVE_LATE };

/* Resolves host to numeric addresses (a numeric host is taken as is), in
 * the order getaddrinfo() gives them, before deadline (monotonic ms).
 * On XMSG_RESOLVE_FAILED, err holds the reason. */
enum xmsg_resolve_rc xmsg_resolve(const char *host, uint64_t deadline,
                                  xmsg_addrs *out, char *err, size_t errlen);

#endif
