/* netint.h - helpers shared by the files of src/net/ only. */
#ifndef XMSG_NETINT_H
#define XMSG_NETINT_H

#include "net/net.h"

/* Sets err (code and formatted text); returns XMSG_NET_FAIL. */
xmsg_net_rc xmsg_net_fail(xmsg_net_err *err, xmsg_err code, const char *fmt,
                          ...) __attribute__((format(printf, 3, 4)));

/* Formats a line and hands it to log (NULL: nothing). */
void xmsg_net_log(xmsg_net_log_fn log, void *ctx, xmsg_log_level lvl,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The revents poll() gave fd among pfd[0..n), 0 if none. */
short xmsg_net_revents(const struct pollfd *pfd, int n, int fd);

#endif
