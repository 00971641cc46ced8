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
    char *domain;           /* the JID's domain (owned) */
    xmsg_watchdog wd;       /* shuts the socket down at the deadline */
    xmsg_sigpipe sigpipe;   /* SIGPIPE blocked while the call runs */
    int entered;            /* between xmsg_conn_enter() and _leave() */
    uint64_t last_rx;       /* when the server last sent something (ms) */
    unsigned long rx_count; /* reads so far (RECV log lines) */
    char id_prefix[17];     /* random, once per session (new_id) */
    unsigned long id_count;
    /* Counting for XEP-0198 (sm.c); xmsg runs it, not libstrophe. */
    int sm_on;            /* <enable/> sent and not refused */
    int overacked;        /* an <a/> acknowledged more than was sent */
    unsigned long out;    /* stanzas sent (xmsg_conn_send) */
    unsigned long in;     /* stanzas received since <enable/> */
    unsigned long queued; /* elements handed to libstrophe's queue */
    unsigned long acked;  /* the server's last h */
    /* Who waits for confirmations: an answer to <r/> (h) or <failed/>. */
    void (*on_ack)(void *userdata, unsigned long h);
    void (*on_sm_failed)(void *userdata);
    void *ack_userdata;
} xmsg_conn;

/* xmpp_initialize(), once per process. */
void xmsg_strophe_init(void);

/* Opens ctx and conn, connects, logs in and binds, within the deadline.
 * On failure the error is recorded in st and the conn is cleaned up. */
xmsg_err xmsg_conn_open(xmsg_conn *c, const xmsg_params *p, xmsg_status *st);

/* Runs the event loop until *flag is non-zero, the stream closes, or the
 * deadline passes. Returns XMSG_OK when *flag was set. */
xmsg_err xmsg_conn_wait(xmsg_conn *c, const int *flag);

/* A call into a session begins and ends: the thread's SIGPIPE is
 * blocked and the deadline (now + timeout) armed between the two;
 * outside, no deadline runs (a session may idle between calls). */
void xmsg_conn_enter(xmsg_conn *c);
void xmsg_conn_leave(xmsg_conn *c);

/* A caller's callback runs between the two: the deadline measures the
 * server, never the caller. _pause stops the watchdog and returns the
 * time; _resume adds the time spent since back to the deadline. Every
 * user callback (batch input and results, collected messages, poll) is
 * called between them. */
uint64_t xmsg_conn_pause(xmsg_conn *c);
void xmsg_conn_resume(xmsg_conn *c, uint64_t paused_at);

/* Moves the deadline to now + the params' timeout: progress was made. */
void xmsg_conn_extend(xmsg_conn *c);
/* Sets the deadline (monotonic ms). */
void xmsg_conn_set_deadline(xmsg_conn *c, uint64_t ms);
/* 1 if id is the id of one of xmsg's own requests (pings). */
int xmsg_conn_owns_id(const xmsg_conn *c, const char *id);

/* One turn of the event loop waiting at most max_ms (0: only what is
 * ready: writes the queue, reads what has arrived). */
void xmsg_conn_run(xmsg_conn *c, unsigned max_ms);

/* Queues a stanza (counted for XEP-0198), n stanzas as text, or a
 * nonza. */
void xmsg_conn_send(xmsg_conn *c, xmpp_stanza_t *stanza);
void xmsg_conn_send_text(xmsg_conn *c, const xmsg_buf *b, unsigned long n);
void xmsg_conn_send_nonza(xmsg_conn *c, const char *xml);

/* Ends the stream now with a failure (from inside a handler too). */
void xmsg_conn_abort(xmsg_conn *c, xmsg_err code, const char *text);

/* sm.c: asks the server to enable XEP-0198 when it offers it (pipelined,
 * no wait), and counts stanzas from now on. */
void xmsg_sm_start(xmsg_conn *c);
/* Asks for an acknowledgement (<r/>); the answer goes to c->on_ack. */
void xmsg_sm_request(xmsg_conn *c);

/* Closes the stream cleanly (bounded by the deadline) and frees all. */
void xmsg_conn_close(xmsg_conn *c);

/* Records the error that ended the stream (closed, or deadline). */
xmsg_err xmsg_conn_fail(xmsg_conn *c, const char *doing);

/* Sends a ping iq to the server; *answered is set to 1 by its answer. */
xmsg_err xmsg_conn_ping(xmsg_conn *c, int *answered);
/* Sends a ping iq with this id; fn gets its answer (result or error).
 * 0, or -1 when out of memory. */
int xmsg_conn_ping_id(xmsg_conn *c, const char *id, xmpp_handler fn,
                      void *userdata);

/* xmpp_id_handler_add, remembered: libstrophe 0.12 leaks id handlers
 * still registered when the connection is released. 0 or -1. */
int xmsg_conn_id_handler_add(xmsg_conn *c, xmpp_handler fn, const char *id,
                             void *userdata);

/* A fresh unique id for a stanza (owned). */
char *xmsg_conn_new_id(xmsg_conn *c);
/* Gives m a fresh "id" when it has none. 0, or -1 out of memory. */
int xmsg_conn_give_id(xmsg_conn *c, xmsg_message *m);

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
/* Appends the stanza for m (its kind: message, presence, iq, or raw XML),
 * as sent, to b; 0, or -1 out of memory. */
int xmsg_message_xml(const xmsg_message *m, xmsg_buf *b);

/* 1 when field name of a stanza of kind (NULL: message) is not one of its
 * attributes: a child (body, thread; a presence's show, status and
 * priority) or what xmsg reads itself (kind, payload, xml). */
int xmsg_field_is_child(const char *kind, const char *name);

/* Copies every attribute of the stanza into m but those xmsg reserves
 * (xmlns, body, ...), xml:lang as "xml:lang". 0, or -1 out of memory. */
int xmsg_stanza_copy_attributes(xmsg_message *m, xmpp_stanza_t *stanza);
/* Appends text escaped for XML character data; 0 or -1. */
int xmsg_xml_escape(xmsg_buf *b, const char *text);
/* incoming.c: any received stanza as an object with "kind" (message,
 * presence, iq), its attributes, known children as fields and the others
 * as XML text in "payload"; NULL for anything else or out of memory. */
xmsg_message *xmsg_object_from_stanza(xmpp_stanza_t *stanza);
xmsg_message *xmsg_message_from_stanza(xmpp_stanza_t *stanza);
/* 1 if the element is a stanza: message, presence or iq. */
int xmsg_is_stanza(xmpp_stanza_t *el);
/* The defined condition of an error stanza (its <error/>'s first child
 * element's name), "undefined-condition" when it has none. */
void xmsg_error_condition(xmpp_stanza_t *stanza, char *buf, size_t len);

#endif /* XMSG_SESSION_H */
