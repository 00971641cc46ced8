/* http.h - what every libcurl transfer of xmsg shares (the upload's PUT,
 * the download's GET): libcurl started once, the params' TLS policy and
 * timeouts, libcurl's failures as xmsg's errors. */
#ifndef XMSG_HTTP_H
#define XMSG_HTTP_H

#include <curl/curl.h>

#include "model/internal.h"

/* curl_global_init, once per process (thread-safe). 0, or -1 when
 * libcurl does not start. */
int xmsg_http_init(void);

/* Sets on curl the policy of the XMPP connection: https only (http too
 * when plaintext_ok), no signals, verification against the system store
 * plus caFile unless trustTLS, connecting bounded by timeout and a stall
 * (under 1 byte/s for timeout seconds) ending the transfer. 0, or
 * non-zero when an option cannot be set. */
int xmsg_http_policy(CURL *curl, const xmsg_params *p, int plaintext_ok);

/* A libcurl failure as xmsg's error (timeout, tls, internal, else
 * connection). */
xmsg_err xmsg_http_err(CURLcode rc);

#endif
