/* mam.h - XEP-0313 message archive queries with XEP-0059 paging. */
#ifndef XMSG_MAM_H
#define XMSG_MAM_H

#include "features/session.h"

#define XMSG_NS_MAM "urn:xmpp:mam:2"

/* One page query's answer. */
typedef struct xmsg_mam_page {
    xmsg_conn *c; /* where the answer's handler waits */
    char *iq_id;  /* owned */
    char queryid[40];
    int done;      /* the iq was answered */
    int error;     /* ... with an error */
    char cond[64]; /* its condition */
    int complete;  /* fin complete='true' */
    char *last;    /* RSM last (owned) or NULL */
} xmsg_mam_page;

/* Sends a query for up to max results after id `after` (NULL: from the
 * start), or, with last_only, the archive's last result. The answer lands
 * in page; results arrive as messages (see xmsg_mam_result). */
xmsg_err xmsg_mam_query(xmsg_conn *c, xmsg_mam_page *page, const char *after,
                        long max, int last_only);

/* If stanza is a result of page's query sent by own_bare (or by the
 * account itself: no from), returns the forwarded message with "stamp"
 * and "archiveId" set (owned; NULL for a result without body).
 * *is_result says whether it was a result at all (forged ones count). */
xmsg_message *xmsg_mam_result(const xmsg_xel *stanza, const xmsg_mam_page *p,
                              const char *own_bare, int *is_result);

/* The archive id the server gave a message it stored for own_bare
 * (XEP-0359 <stanza-id by=own_bare/>), or NULL. Borrowed. */
const char *xmsg_stanza_archive_id(const xmsg_xel *stanza,
                                   const char *own_bare);

void xmsg_mam_page_reset(xmsg_mam_page *p);

#endif
