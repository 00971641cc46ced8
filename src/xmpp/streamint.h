/* streamint.h - private to src/xmpp/stream.c, login.c and auth.c: the
 * stream's structure and the functions its files share. */
#ifndef XMSG_XMPP_STREAMINT_H
#define XMSG_XMPP_STREAMINT_H

#include "xmpp/stream.h"

/* In order: a phase >= PH_STREAM has a socket and speaks XML. */
typedef enum xmsg_phase {
    PH_IDLE = 0,
    PH_CLOSED,
    PH_FAILED,
    PH_RESOLVE,
    PH_CONNECT,
    PH_TLS,      /* handshake (direct TLS or after <proceed/>) */
    PH_STREAM,   /* header sent, waiting for the features */
    PH_STARTTLS, /* <starttls/> sent */
    PH_SASL,     /* <auth/> sent */
    PH_LEGACY,   /* XEP-0078 */
    PH_BIND,
    PH_SESSION,
    PH_RESUME,
    PH_ENABLE,
    PH_READY
} xmsg_phase;

typedef enum { PAUSE_NONE = 0, PAUSE_TLS, PAUSE_RESTART } xmsg_pause;

struct xmsg_stream {
    xmsg_params *p; /* a copy */
    xmsg_status *st;
    char *bare, *local, *domain, *resource; /* of params jid */
    xmsg_phase phase;
    xmsg_phase fail_phase; /* the phase a failure ended */
    xmsg_err err;
    uint64_t deadline;
    /* transport */
    xmsg_resolver *res;
    xmsg_connector *con;
    xmsg_tls *tls;
    int fd;
    int secure; /* under TLS */
    int tls_version;
    int header_sent;
    xmsg_buf out;
    size_t out_off;
    uint64_t tx_queued, tx_written;
    uint64_t rx_bytes;
    /* parsing */
    xmsg_xml_parser *parser;
    xmsg_pause pause;
    int stop_run;
    xmsg_buf rx_pending; /* bytes read but not parsed: a handler stopped */
    char *stream_id;
    xmsg_stream_features fe;
    /* login */
    unsigned allowed;
    xmsg_keycache *kc;
    xmsg_sasl_log sasl_log;
    xmsg_scram *scram;
    int sasl_step; /* 0 auth sent, 1 final sent, 2 verified */
    int cache_retried;
    unsigned pbkdf2_runs;
    xmsg_sasl_mech mech;
    xmsg_sasl_cb cb_used;
    int legacy, legacy_step;
    int auth_done;
    char *bound;
    /* XEP-0198 */
    int sm_on, resumed, sm_off;
    unsigned acks;
    int overacked; /* an <a/> acknowledged more than was sent */
    char *sm_id, *sm_location;
    uint32_t sm_in, sm_out, sm_acked;
    xmsg_strvec unacked; /* texts from unacked_head on */
    size_t unacked_head;
    /* XEP-0199 and the caller */
    unsigned pings_sent, pings_answered;
    xmsg_stream_handler handler;
    void *handler_ud;
};

void xmsg_stream_logs(xmsg_stream *s, xmsg_log_level lvl, const char *area,
                      const char *msg);
void xmsg_stream_logf(xmsg_stream *s, xmsg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
xmsg_err xmsg_stream_fail(xmsg_stream *s, xmsg_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xmsg_stream_drop(xmsg_stream *s);
xmsg_err xmsg_stream_queue(xmsg_stream *s, const char *xml, size_t len);
xmsg_err xmsg_stream_queue_el(xmsg_stream *s, const xmsg_xel *el);
xmsg_err xmsg_stream_turn(xmsg_stream *s, int max_ms);
void xmsg_stream_deliver(xmsg_stream *s, xmsg_xel *el);

/* login.c */
void xmsg_stream_dispatch(xmsg_stream *s, xmsg_xel *el);
xmsg_err xmsg_stream_resolved(xmsg_stream *s);
xmsg_err xmsg_stream_connected(xmsg_stream *s);
xmsg_err xmsg_stream_start_tls(xmsg_stream *s);
xmsg_err xmsg_stream_tls_done(xmsg_stream *s);
xmsg_err xmsg_stream_restart(xmsg_stream *s);

/* login.c: helpers for elements */
/* The first child element's name in ns (a condition), or
 * "undefined-condition"; borrowed. */
const char *xmsg_xmpp_condition(const xmsg_xel *el, const char *ns);
const char *xmsg_xmpp_iq_condition(const xmsg_xel *iq);
/* 1 if el is <iq type=result|error id=id/>. */
int xmsg_xmpp_is_iq_answer(const xmsg_xel *el, const char *id);
int xmsg_xmpp_is_error(const xmsg_xel *iq);
/* <iq type id [to]><name xmlns=ns/></iq>, *child its payload; NULL when
 * out of memory. */
xmsg_xel *xmsg_xmpp_iq_new(const char *type, const char *id, const char *to,
                           const char *ns, const char *name, xmsg_xel **child);
/* Appends <name>text</name>; 0 ok. */
int xmsg_xmpp_add_text_child(xmsg_xel *parent, const char *name,
                             const char *text);
/* Queues el and frees it (NULL: out of memory, recorded). */
xmsg_err xmsg_stream_queue_tree(xmsg_stream *s, xmsg_xel *el);
/* The login is complete: phase ready, one info line. */
void xmsg_stream_ready_now(xmsg_stream *s);

/* auth.c */
xmsg_err xmsg_stream_begin_auth(xmsg_stream *s);
xmsg_err xmsg_stream_on_sasl(xmsg_stream *s, const xmsg_xel *el);
xmsg_err xmsg_stream_on_legacy(xmsg_stream *s, const xmsg_xel *el);

#endif /* XMSG_XMPP_STREAMINT_H */
