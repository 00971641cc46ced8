/* session.h - the connection the features use: one xmsg_stream (src/xmpp)
 * driven by one poll loop under one deadline, stanza dispatch to the
 * features (by iq id, by name and type), ids, logging through the status.
 * Everything a feature sends or reads is an xmsg_xel (src/xml). */
#ifndef XMSG_SESSION_H
#define XMSG_SESSION_H

#include <stdint.h>

#include "model/internal.h"
#include "xml/xml.h"
#include "xmpp/stream.h"

typedef struct xmsg_conn xmsg_conn;

/* A feature's handler of received stanzas: el is borrowed (valid during
 * the call). Returns 1 to stay registered, 0 to be removed. */
typedef int (*xmsg_conn_handler)(xmsg_conn *c, const xmsg_xel *el,
                                 void *userdata);

struct xmsg_conn_h; /* session.c */

/* A ping this connection sent, and where its answer is told. */
struct xmsg_conn_ping {
    unsigned n; /* the stream's ping number */
    int *flag;
};

struct xmsg_conn {
    const xmsg_params *params;
    xmsg_status *st;
    xmsg_stream *s;
    uint64_t deadline;  /* monotonic ms; UINT64_MAX: none */
    int bound;          /* logged in */
    int closed;         /* the stream failed, was aborted or closed */
    int entered;        /* between xmsg_conn_enter() and _leave() */
    int no_sm;          /* do not enable XEP-0198 (collection) */
    uint64_t last_rx;   /* when the server last sent something (ms) */
    char id_prefix[17]; /* random, once per connection (new_id) */
    unsigned long id_count;
    unsigned long out;     /* stanzas sent through the connection */
    unsigned acks_seen;    /* the stream's <a/> count, handed to on_ack */
    unsigned pings_sent;   /* pings sent through xmsg_conn_ping* */
    unsigned pongs_seen;   /* their answers, seen */
    unsigned pong_base;    /* the stream's answers before this login */
    struct xmsg_conn_h *h; /* handlers */
    size_t nh, caph;
    struct xmsg_conn_ping *pings;
    size_t npings, cappings;
    /* Who waits for confirmations: an answer to <r/> (h). */
    void (*on_ack)(void *userdata, unsigned long h);
    void (*on_pong)(void *userdata, unsigned n);
    void *ack_userdata;
    /* Encryption of what the batch engine sends (features/seal.h):
     * NULL when params ask for none. */
    xmsg_err (*seal)(void *state, xmsg_conn *c, xmsg_message **m,
                     int *encrypted, char *err, size_t errlen);
    xmsg_err (*seal_check)(void *state, xmsg_conn *c, const xmsg_message *m,
                           char *err, size_t errlen);
    void *seal_state;
    /* Upload files encrypted (XEP-0454, upload_file.c): set by the layer
     * that seals the messages, which sends the aesgcm:// URLs only inside
     * them. */
    int aesgcm;
};

/* Opens the stream, connects, logs in and binds, within the deadline.
 * On failure the error is recorded in st and the conn is cleaned up.
 * With no_sm set in *c before (xmsg_conn_init), XEP-0198 stays off. */
void xmsg_conn_init(xmsg_conn *c);
xmsg_err xmsg_conn_open(xmsg_conn *c, const xmsg_params *p, xmsg_status *st);
/* Logs in again on the same stream object (after a lost connection):
 * XEP-0198 resumption when the stream had it, else a fresh login.
 * *resumed tells which. */
xmsg_err xmsg_conn_reopen(xmsg_conn *c, int *resumed);
/* Points the connection's log and errors at st (one call's status). */
void xmsg_conn_use_status(xmsg_conn *c, xmsg_status *st);

/* Runs the event loop until *flag is non-zero, the stream closes, or the
 * deadline passes. Returns XMSG_OK when *flag was set. */
xmsg_err xmsg_conn_wait(xmsg_conn *c, const int *flag);

/* A call into a session begins and ends: the deadline (now + timeout) is
 * armed between the two; outside, no deadline runs (a session may idle
 * between calls). */
void xmsg_conn_enter(xmsg_conn *c);
void xmsg_conn_leave(xmsg_conn *c);

/* A caller's callback runs between the two: the deadline measures the
 * server, never the caller. _pause notes the time and the call's status;
 * _resume adds the time spent since back to the deadline, and gives the
 * call its status back (a call the callback made, on the same session,
 * used its own). */
typedef struct xmsg_conn_paused {
    uint64_t at;
    xmsg_status *st;
} xmsg_conn_paused;
xmsg_conn_paused xmsg_conn_pause(const xmsg_conn *c);
void xmsg_conn_resume(xmsg_conn *c, xmsg_conn_paused paused);

/* Moves the deadline to now + the params' timeout: progress was made. */
void xmsg_conn_extend(xmsg_conn *c);
/* Sets the deadline (monotonic ms). */
void xmsg_conn_set_deadline(xmsg_conn *c, uint64_t ms);

/* One turn of the event loop waiting at most max_ms (0: only what is
 * ready: writes the queue, reads what has arrived). */
void xmsg_conn_run(xmsg_conn *c, unsigned max_ms);

/* Sends a stanza or n stanzas of text (each one a stanza of its own for
 * the stream's counting: texts[0..n)). */
void xmsg_conn_send(xmsg_conn *c, const xmsg_xel *el);
void xmsg_conn_send_xml(xmsg_conn *c, const char *xml, size_t len);
/* Stanzas sent so far, as the server's <a h/> counts them when stream
 * management is on (else xmsg's own count). */
unsigned long xmsg_conn_sent(const xmsg_conn *c);
int xmsg_conn_sm_on(const xmsg_conn *c);
/* 1 if the server acknowledged more stanzas than were sent. */
int xmsg_conn_overacked(const xmsg_conn *c);
/* Bytes queued for the socket so far, and bytes it took. */
uint64_t xmsg_conn_tx_queued(const xmsg_conn *c);
uint64_t xmsg_conn_tx_written(const xmsg_conn *c);
/* Asks for an acknowledgement (<r/>); the answer goes to c->on_ack. */
void xmsg_conn_request_ack(xmsg_conn *c);

/* Ends the stream now with a failure (from inside a handler too). */
void xmsg_conn_abort(xmsg_conn *c, xmsg_err code, const char *text);

/* Closes the stream cleanly and frees all. */
void xmsg_conn_close(xmsg_conn *c);
/* The bound JID (borrowed), NULL when not logged in. */
const char *xmsg_conn_jid(const xmsg_conn *c);

/* Records the error that ended the stream (closed, or deadline). */
xmsg_err xmsg_conn_fail(xmsg_conn *c, const char *doing);

/* Sends a ping iq to the server; *answered is set to 1 by its answer.
 * *n (when not NULL) gets its number for c->on_pong. */
xmsg_err xmsg_conn_ping(xmsg_conn *c, int *answered);
xmsg_err xmsg_conn_ping_n(xmsg_conn *c, unsigned *n);

/* A handler for stanzas named name (NULL: any stanza) of type type (NULL:
 * any); an id handler for the answer to an iq (result or error) with this
 * id. Handlers added during a dispatch see the next stanza first. 0 or -1
 * (memory). _delete removes every registration of fn. */
int xmsg_conn_handler_add(xmsg_conn *c, xmsg_conn_handler fn, const char *name,
                          const char *type, void *userdata);
int xmsg_conn_id_handler_add(xmsg_conn *c, xmsg_conn_handler fn, const char *id,
                             void *userdata);
void xmsg_conn_handler_delete(xmsg_conn *c, xmsg_conn_handler fn);
/* Removes every handler registered with this userdata. */
void xmsg_conn_handler_forget(xmsg_conn *c, const void *userdata);

/* Sends iq (its id set here; "to" set when to is not NULL: NULL for our
 * own account) and waits for its answer (result or error) within the
 * deadline, which then moves on. *answer: the <iq/>, borrowed from *wrap
 * (owned, a copy). The connection's errors; XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_conn_ask(xmsg_conn *c, xmsg_xel *iq, const char *to,
                       xmsg_xel **wrap, const xmsg_xel **answer);

/* A fresh unique id for a stanza (owned). */
char *xmsg_conn_new_id(xmsg_conn *c);
/* Gives m a fresh "id" when it has none. 0, or -1 out of memory. */
int xmsg_conn_give_id(xmsg_conn *c, xmsg_message *m);

/* Log through the status, filtered by level and redacted. */
void xmsg_conn_logv(xmsg_conn *c, xmsg_log_level lvl, const char *area,
                    const char *msg);
void xmsg_conn_log(xmsg_conn *c, xmsg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* stanza.c: building elements. <name xmlns=ns>text</name> under parent
 * (ns NULL: the parent's), borrowed; NULL on failure. */
xmsg_xel *xmsg_el_add(xmsg_xel *parent, const char *ns, const char *name,
                      const char *text);
/* Attribute value or NULL (borrowed); "" stays "". */
const char *xmsg_el_attr(const xmsg_xel *el, const char *name);
/* The first child element named name in any namespace, or in ns. */
xmsg_xel *xmsg_el_child(const xmsg_xel *el, const char *name);
/* Parses xml (one or more elements, in jabber:client unless they say
 * otherwise) into a wrapper element whose children they are; NULL when
 * not well-formed (or memory). */
xmsg_xel *xmsg_xml_parse_fragment(const char *xml);

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
int xmsg_stanza_copy_attributes(xmsg_message *m, const xmsg_xel *stanza);
/* Appends text escaped for XML character data; 0 or -1. */
int xmsg_xml_escape(xmsg_buf *b, const char *text);
/* incoming.c: any received stanza as an object with "kind" (message,
 * presence, iq), its attributes, known children as fields and the others
 * as XML text in "payload"; NULL for anything else or out of memory. */
xmsg_message *xmsg_object_from_stanza(const xmsg_xel *stanza);
xmsg_message *xmsg_message_from_stanza(const xmsg_xel *stanza);
/* incoming.c: the URL of the stanza's first out-of-band data element
 * (XEP-0066, jabber:x:oob) with a non-empty <url> into the field "url"
 * (trimmed; the others stay in "payload"). 0, or -1 out of memory. */
int xmsg_take_oob(xmsg_message *m, const xmsg_xel *stanza);
/* 1 if the element is a stanza: message, presence or iq (any
 * namespace). */
int xmsg_is_stanza(const xmsg_xel *el);
/* The defined condition of an error stanza (its <error/>'s first child
 * element's name), "undefined-condition" when it has none. */
void xmsg_error_condition(const xmsg_xel *stanza, char *buf, size_t len);

#endif /* XMSG_SESSION_H */
