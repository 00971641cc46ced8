/* download.h - received files (XEP-0066 out-of-band URLs) fetched into
 * params downloadDir with libcurl: size-capped, named from the URL but
 * sanitised, created inside the directory only, never over a file. */
#ifndef XMSG_DOWNLOAD_H
#define XMSG_DOWNLOAD_H

#include <stddef.h>

#include "features/session.h"

/* Bytes of a sanitised name at most (a collision suffix " (N)" comes on
 * top, within NAME_MAX). */
#define XMSG_DOWNLOAD_NAME_MAX 200
/* The name given when the URL names nothing usable. */
#define XMSG_DOWNLOAD_DEFAULT_NAME "download"
/* Names tried for one file: name, "name (1)" ... "name (999)". */
#define XMSG_DOWNLOAD_TRIES 1000

/* The file name for url into out (len > XMSG_DOWNLOAD_NAME_MAX): its
 * last path segment (before any query or fragment), percent-decoded, then
 * sanitised: '/', '\', control characters (C0, DEL, C1), bidi controls
 * and bytes that are not UTF-8 become '_', leading dots and blanks go,
 * the length is capped (keeping a short extension, on a character
 * boundary). Never empty, never "." or "..": XMSG_DOWNLOAD_DEFAULT_NAME
 * when nothing is left. */
void xmsg_download_name(const char *url, char *out, size_t len);

/* The n-th name to try for name: n 0 is name itself, else "stem (n).ext"
 * (the extension from the last dot). 0, or -1 when out is too small. */
int xmsg_download_candidate(const char *name, unsigned n, char *out,
                            size_t len);

/* Fetches url (https; http too when plaintext_ok) with the params' TLS
 * policy and timeout (each wait, not the whole transfer) into a new file
 * of dir: at most max bytes (a larger Content-Length is refused before
 * the body is read; a body that grows past it is aborted), written to a
 * temp name and renamed to the sanitised name once complete, never over
 * an existing file. *path (owned) is the file's path. On failure err
 * (len bytes) says why, nothing is left in dir, and the code is
 * XMSG_ERR_INPUT (bad URL, too large, the directory), XMSG_ERR_TLS,
 * XMSG_ERR_CONNECT, XMSG_ERR_TIMEOUT, XMSG_ERR_PROTOCOL (an HTTP status
 * other than 2xx) or XMSG_ERR_INTERNAL. */
xmsg_err xmsg_download_fetch(const char *url, const char *dir,
                             const xmsg_params *p, char **path, char *err,
                             size_t len);

/* When c's params have a downloadDir and m a "url": fetches it (the
 * deadline should be paused: this is the caller's time) and adds "file"
 * or, on failure, "downloadError" ("code: text", also logged at warn
 * level). 0, or -1 out of memory. */
int xmsg_download_message(xmsg_conn *c, xmsg_message *m);

#endif
