/* stream.h - the XMPP client stream: one non-blocking event loop that
 * resolves, connects, secures (direct TLS or STARTTLS), authenticates
 * (SASL, or XEP-0078 when allowed), binds, opens a legacy session when the
 * server requires one, enables stream management (XEP-0198, with
 * resumption), and then exchanges top-level elements.
 *
 * Uses the layers below it only: the model (internal.h), src/xml (xml.h),
 * src/net (net.h) and SASL (sasl.h). One deadline (monotonic ms,
 * xmsg_now_ms) bounds every wait for the server; the time spent in the
 * caller's handler is added to it (only the server's time counts). No
 * threads, no signals, no text read back: every failure is an xmsg_err
 * recorded in the stream's xmsg_status with its text. Distinct streams
 * share nothing. */
#ifndef XMSG_XMPP_STREAM_H
#define XMSG_XMPP_STREAM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "model/internal.h"
#include "net/net.h"
#include "xml/xml.h"
#include "xmpp/sasl.h"

#define XMSG_NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define XMSG_NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define XMSG_NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define XMSG_NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define XMSG_NS_SM "urn:xmpp:sm:3"
#define XMSG_NS_PING "urn:xmpp:ping"
#define XMSG_NS_IQAUTH "jabber:iq:auth"
#define XMSG_NS_IQAUTH_FEATURE "http://jabber.org/features/iq-auth"
#define XMSG_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XMSG_NS_STREAM_ERR "urn:ietf:params:xml:ns:xmpp-streams"
#define XMSG_NS_SASL_CB "urn:xmpp:sasl-cb:0"

/* ---- pure helpers (unit-tested) ---- */

#define XMSG_STREAM_MECHS_MAX 32

/* What a <stream:features/> offers. */
typedef struct xmsg_stream_features {
    int starttls;          /* <starttls/> offered */
    int starttls_required; /* ... with <required/> */
    int has_mechs;         /* a <mechanisms/> element */
    xmsg_strvec mechs;     /* its mechanism names (owned) */
    int server_cb_listed;  /* XEP-0440 <sasl-channel-binding/> */
    unsigned server_cb;    /* XMSG_CB_* bits listed there */
    int bind;              /* resource binding */
    int session;           /* RFC 3921 session ... */
    int session_optional;  /* ... marked <optional/> (then not sent) */
    int sm;                /* XEP-0198 urn:xmpp:sm:3 */
    int iq_auth;           /* XEP-0078 feature advertised */
} xmsg_stream_features;

/* Parses features (a <stream:features/> element) into *out (cleared
 * first). Unknown children are ignored; more than XMSG_STREAM_MECHS_MAX
 * mechanisms, or a mechanism name that is not printable ASCII of at most
 * 64 bytes, is XMSG_ERR_PROTOCOL. XMSG_ERR_INTERNAL when out of memory. */
xmsg_err xmsg_stream_features_parse(const xmsg_xel *features,
                                    xmsg_stream_features *out);
void xmsg_stream_features_clear(xmsg_stream_features *f);

/* Appends the client's stream header: the XML declaration and an open
 * <stream:stream> to domain (from: the bare JID when not NULL, sent only
 * under TLS), version 1.0, xml:lang en. Values are escaped.
 * @return XMSG_OK, XMSG_ERR_INPUT (not text XML allows), XMSG_ERR_INTERNAL
 * (memory). */
xmsg_err xmsg_stream_header(xmsg_buf *out, const char *domain,
                            const char *from);

/* XEP-0198 counters are modulo 2^32. Stanzas an <a h/> acknowledges beyond
 * the last acknowledgement last: h - last (mod 2^32). An answer is valid
 * when that is at most the stanzas sent since last (sent - last, mod
 * 2^32): 1 valid, 0 not (the server acknowledges what was never sent). */
uint32_t xmsg_sm_newly_acked(uint32_t last, uint32_t h);
int xmsg_sm_ack_valid(uint32_t last, uint32_t h, uint32_t sent);

/* XEP-0078 digest: lowercase hex of SHA1(stream_id ‖ password), 40
 * characters and a NUL into out. 0 ok, -1 on failure. */
int xmsg_legacy_digest(const char *stream_id, const char *password,
                       char out[41]);

/* The name of a <stream:error/>'s condition (its first child in the
 * streams-error namespace), "undefined-condition" when none; borrowed. */
const char *xmsg_stream_error_condition(const xmsg_xel *err);

/* ---- the stream ---- */

typedef struct xmsg_stream xmsg_stream;

/* Receives each top-level element after the login (stanzas, and anything
 * the stream layer does not consume itself: it answers pings and <r/>,
 * and counts <a/>). The callee owns el (xmsg_xel_free) and may keep it.
 * Return 0 to go on; non-zero makes xmsg_stream_run return after this
 * element (the rest of what was read is parsed at the next turn). The time
 * spent here does not count against the deadline. Set it before
 * xmsg_stream_open to get stanzas that arrive between bind and ready. */
typedef int (*xmsg_stream_handler)(xmsg_stream *s, xmsg_xel *el,
                                   void *userdata);

/* A stream for the params (copied) that logs to st and records its
 * failures there (st borrowed: it must outlive the stream). Nothing
 * happens on the network yet. NULL when out of memory or when the params
 * do not fit (a bad saslMechanisms, no JID domain: recorded in st as
 * XMSG_ERR_INPUT). The key cache lives in $XDG_STATE_HOME/xmsg/keys (else
 * ~/.local/state/xmsg/keys) unless params saslKeyCache is false. */
xmsg_stream *xmsg_stream_new(const xmsg_params *p, xmsg_status *st);
/* Closes (as xmsg_stream_close) and frees. NULL-safe. */
void xmsg_stream_free(xmsg_stream *s);

void xmsg_stream_set_handler(xmsg_stream *s, xmsg_stream_handler fn,
                             void *userdata);
/* The deadline (monotonic ms; 0: none). xmsg_stream_open sets it to now +
 * params timeout when none is set. extend: now + ms. */
void xmsg_stream_set_deadline(xmsg_stream *s, uint64_t deadline_ms);
void xmsg_stream_extend(xmsg_stream *s, uint64_t ms);
uint64_t xmsg_stream_deadline(const xmsg_stream *s);

/* Logs in: drives every step until the stream is ready for stanzas, or
 * fails. After a lost connection with resumption on, it connects again
 * and resumes (re-sending what was not acknowledged); a refused resume
 * falls back to a fresh login (and re-sends too).
 * @return XMSG_OK; XMSG_ERR_CONNECT (resolution, connection, lost);
 * XMSG_ERR_TLS (certificate, pin, TLS required but not offered);
 * XMSG_ERR_AUTH (refused, wrong server signature, no acceptable
 * mechanism); XMSG_ERR_TIMEOUT; XMSG_ERR_PROTOCOL (stream error: its
 * condition is named; malformed XML); XMSG_ERR_INPUT (a CA file that does
 * not load); XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_stream_open(xmsg_stream *s);
/* Non-blocking form: one loop turn of the login, at most max_ms.
 * XMSG_OK with *ready 0 (call again), 1 (logged in); else the failure. */
xmsg_err xmsg_stream_open_step(xmsg_stream *s, int max_ms, int *ready);

/* One loop turn after the login: waits at most max_ms (bounded by the
 * deadline) for the socket, writes what is queued, reads, parses and
 * dispatches. XMSG_OK, or the failure (a lost connection is
 * XMSG_ERR_CONNECT; the deadline XMSG_ERR_TIMEOUT). */
xmsg_err xmsg_stream_run(xmsg_stream *s, int max_ms);

/* Queues el (a top-level element in jabber:client) serialised by the one
 * writer; a message, presence or iq counts for stream management.
 * @return XMSG_OK, XMSG_ERR_INPUT (not ready), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_stream_send(xmsg_stream *s, const xmsg_xel *el);
/* The same for pre-serialised stanza text (the caller checked it). */
xmsg_err xmsg_stream_send_raw(xmsg_stream *s, const char *xml, size_t len);
/* Sends <r/> (when stream management is on; else nothing). */
xmsg_err xmsg_stream_request_ack(xmsg_stream *s);
/* Sends an XEP-0199 ping to the server; its answer is counted
 * (xmsg_stream_pings_answered), not handed to the handler. */
xmsg_err xmsg_stream_ping(xmsg_stream *s);
/* Sends </stream:stream> and close_notify without waiting for the
 * server's; closes the socket. Resumption state is kept. NULL-safe. */
void xmsg_stream_close(xmsg_stream *s);

/* Points the stream's log and failures at st (borrowed), from now on. */
void xmsg_stream_set_status(xmsg_stream *s, xmsg_status *st);
/* XEP-0198 off (on by default): <enable/> is never sent. */
void xmsg_stream_set_sm(xmsg_stream *s, int on);

/* ---- what the features need ---- */
/* What the stream was doing (for a failure's text): "resolving",
 * "connecting", "setting up TLS", "logging in", "talking to the server". */
const char *xmsg_stream_doing(const xmsg_stream *s);
int xmsg_stream_ready(const xmsg_stream *s);
const char *xmsg_stream_jid(const xmsg_stream *s); /* bound; borrowed */
int xmsg_stream_sm_on(const xmsg_stream *s);
int xmsg_stream_resumable(const xmsg_stream *s);
int xmsg_stream_resumed(const xmsg_stream *s); /* the last open resumed */
uint32_t xmsg_stream_sm_sent(const xmsg_stream *s);
uint32_t xmsg_stream_sm_acked(const xmsg_stream *s);
uint32_t xmsg_stream_sm_received(const xmsg_stream *s);
size_t xmsg_stream_unacked(const xmsg_stream *s);
unsigned xmsg_stream_pings_answered(const xmsg_stream *s);
/* <a/> answers received so far (each one counted once); 1 once one
 * acknowledged more than was sent (the stream failed: protocol). */
unsigned xmsg_stream_acks(const xmsg_stream *s);
int xmsg_stream_overacked(const xmsg_stream *s);
/* Bytes queued for the peer since the stream object was made, and bytes
 * the socket (or TLS) took of them: a stanza queued beyond tx_written when
 * the connection fails never left. Bytes received so far. */
uint64_t xmsg_stream_tx_queued(const xmsg_stream *s);
uint64_t xmsg_stream_tx_written(const xmsg_stream *s);
uint64_t xmsg_stream_rx_bytes(const xmsg_stream *s);
/* The socket and the events to poll for (an outer loop); -1 before. */
int xmsg_stream_fd(const xmsg_stream *s, short *events);
/* TLS1_2_VERSION, TLS1_3_VERSION; 0 without TLS. */
int xmsg_stream_tls_version(const xmsg_stream *s);
xmsg_sasl_mech xmsg_stream_mech(const xmsg_stream *s); /* NONE: legacy */
xmsg_sasl_cb xmsg_stream_cb(const xmsg_stream *s);
int xmsg_stream_legacy_auth(const xmsg_stream *s); /* 1: XEP-0078 used */
/* PBKDF2 runs of this stream's logins (0 after a cache hit). */
unsigned xmsg_stream_pbkdf2_runs(const xmsg_stream *s);

#endif /* XMSG_XMPP_STREAM_H */
