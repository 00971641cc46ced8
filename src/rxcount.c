/* rxcount.c - bytes the kernel has received on a TCP socket (Linux
 * TCP_INFO), so that one stanza cannot grow without bound inside
 * libstrophe, which has no size limit of its own. Counts what left the
 * kernel's receive queue, i.e. what the application has read. Kept apart: the
 * kernel's tcp_info header does not mix with libc's netinet/tcp.h. */
#include <linux/tcp.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "internal.h"

uint64_t xmsg_tcp_bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int unread = 0;

    /* The queue first: what arrives between the two calls then only makes
     * the count larger, never wraps it below zero. */
    if (fd < 0 || ioctl(fd, SIOCINQ, &unread) != 0 || unread < 0)
        unread = 0;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) +
                  sizeof(ti.tcpi_bytes_received) ||
        ti.tcpi_bytes_received < (uint64_t)unread)
        return 0;
    return ti.tcpi_bytes_received - (uint64_t)unread;
}
