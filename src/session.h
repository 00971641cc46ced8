/* session.h - one logged-in XMPP stream over libstrophe, driven by xmsg's
 * own event loop under a hard deadline. */
#ifndef XMSG_SESSION_H
#define XMSG_SESSION_H

#include <setjmp.h>
#include <stdint.h>

#include <strophe.h>

#include "arena.h"
#include "internal.h"
#include "watchdog.h"

/* How far the login got; used to name what failed. */
enum xmsg_stage {
    XMSG_STAGE_NONE,
    XMSG_STAGE_TCP,    /* TCP connected, stream opening */
    XMSG_STAGE_TLS,    /* TLS handshake under way or done */
    XMSG_STAGE_AUTH,   /* authentication under way */
    XMSG_STAGE_BOUND,  /* logged in and bound: CONNECT event seen */
    XMSG_STAGE_CLOSING /* our closing of the stream */
};

typedef struct xmsg_conn {
    const xmsg_params *params;
    xmsg_status *st;
    xmsg_arena arena; /* libstrophe's memory */
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    xmpp_log_t log;
    uint64_t deadline; /* monotonic ms */
    enum xmsg_stage stage;
    int bound;               /* CONNECT event seen: logged in */
    int closed;              /* DISCONNECT or FAIL event seen */
    int close_error;         /* its errno-like code */
    int starttls_required;   /* the server's features demand TLS */
    xmsg_strvec handler_ids; /* our id handlers, deleted at close */
    xmpp_handler *handler_fns;
    jmp_buf escape;     /* out of libstrophe, see run_once() */
    int fd;             /* libstrophe's socket, -1 before */
    uint64_t rx_mark;   /* bytes received when the last element ended */
    int in_run;         /* inside xmpp_run_once() */
    int tls_eof;        /* OpenSSL saw the peer vanish */
    int unsent;         /* elements still queued when the connection
                           failed; -1 while it has not */
    int abandoned;      /* libstrophe was left mid-stanza */
    int authenticated;  /* SASL succeeded */
    int pin_checked;    /* the server's key was checked */
    int sm_offered;     /* ... offer XEP-0198 stream management */
    xmsg_err fail_code; /* classified from libstrophe's log */
    char fail_text[XMSG_ERRTEXT_MAX];
    char *domain;         /* the JID's domain (owned) */
    xmsg_watchdog wd;     /* shuts the socket down at the deadline */
    xmsg_sigpipe sigpipe; /* SIGPIPE blocked while the call runs */
} xmsg_conn;

/* Opens ctx and conn, connects, logs in and binds, within the deadline.
 * On failure the error is recorded in st and the conn is cleaned up. */
xmsg_err xmsg_conn_open(xmsg_conn *c, const xmsg_params *p, xmsg_status *st);

/* Runs the event loop until *flag is non-zero, the stream closes, or the
 * deadline passes. Returns XMSG_OK when *flag was set. */
xmsg_err xmsg_conn_wait(xmsg_conn *c, const int *flag);

/* Closes the stream cleanly (bounded by the deadline) and frees all. */
void xmsg_conn_close(xmsg_conn *c);

/* Records the error that ended the stream (closed, or deadline). */
xmsg_err xmsg_conn_fail(xmsg_conn *c, const char *doing);

/* Sends a ping iq to the server; *answered is set to 1 by its answer. */
xmsg_err xmsg_conn_ping(xmsg_conn *c, int *answered);

/* xmpp_id_handler_add, remembered: libstrophe 0.12 leaks id handlers
 * still registered when the connection is released. 0 or -1. */
int xmsg_conn_id_handler_add(xmsg_conn *c, xmpp_handler fn, const char *id,
                             void *userdata);

/* A fresh unique id for a stanza (owned). */
char *xmsg_conn_new_id(xmsg_conn *c);

/* Log through the status, filtered by level and redacted. */
void xmsg_conn_logv(xmsg_conn *c, xmsg_log_level lvl, const char *area,
                    const char *msg);
void xmsg_conn_log(xmsg_conn *c, xmsg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* stanza.c: a new element <name xmlns=ns>text</name> (ns, text may be
 * NULL), or NULL when out of memory. */
xmpp_stanza_t *xmsg_element_new(xmpp_ctx_t *ctx, const char *name,
                                const char *ns, const char *text);
/* Adds child to parent and drops our reference to it; -1 if child is NULL
 * or on failure. */
int xmsg_element_adopt(xmpp_stanza_t *parent, xmpp_stanza_t *child);

/* stanza.c: message <-> stanza mapping. */
xmpp_stanza_t *xmsg_stanza_from_message(xmpp_ctx_t *ctx, const xmsg_message *m);
xmsg_message *xmsg_message_from_stanza(xmpp_stanza_t *stanza);

#endif /* XMSG_SESSION_H */
