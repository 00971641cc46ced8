/* net.h - the network layer: from a JID's domain (or an explicit host) to
 * a connected, verified TLS byte pipe, never blocking.
 *
 * Three state machines, each driven by the caller's ONE poll loop under
 * ONE deadline (monotonic ms, xmsg_now_ms()):
 *   xmsg_resolver  DNS with c-ares: SRV (_xmpps-client, _xmpp-client) in
 *                  parallel, then A/AAAA of the chosen targets; gives an
 *                  ordered list of candidates.
 *   xmsg_connector non-blocking connect() to each candidate in turn.
 *   xmsg_tls       OpenSSL client over the connected socket: handshake,
 *                  verification, pin, then reads and writes that may
 *                  "would block"; channel-binding data for SASL.
 * Each machine says what it waits for (pollfd entries, and a wake-up time)
 * and is stepped with what poll() returned. A step returns XMSG_NET_AGAIN
 * (poll again), XMSG_NET_DONE, or XMSG_NET_FAIL with the failure (an
 * xmsg_err code and a text) in the machine's err. No threads, no signals.
 *
 * Uses only the model layer (internal.h, pin.h). */
#ifndef XMSG_NET_H
#define XMSG_NET_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "model/internal.h"

#define XMSG_NET_NAME_MAX 256 /* a DNS name and its NUL */
#define XMSG_NET_POLL_MAX 8   /* pollfd entries a machine asks for at most */
#define XMSG_NET_SRV_MAX 32   /* SRV records kept per service */
#define XMSG_NET_TARGETS_MAX 16
#define XMSG_NET_CANDS_MAX 64
#define XMSG_NET_PORT 5222        /* STARTTLS, the A/AAAA fallback */
#define XMSG_NET_DIRECT_PORT 5223 /* direct TLS without SRV (legacyTLS) */

typedef enum xmsg_net_rc {
    XMSG_NET_FAIL = -1,
    XMSG_NET_AGAIN = 0,
    XMSG_NET_DONE = 1
} xmsg_net_rc;

/* A failure: the code for xmsg_status and its text. */
typedef struct xmsg_net_err {
    xmsg_err code;
    char text[XMSG_ERRTEXT_MAX];
} xmsg_net_err;

/* Where log lines go (may be NULL): the stream layer forwards them to
 * its status. */
typedef void (*xmsg_net_log_fn)(void *ctx, xmsg_log_level lvl,
                                const char *line);

/* What a machine waits for: fds for poll() and a wake-up time (0: none;
 * the caller's deadline always applies). */
typedef struct xmsg_net_wait {
    struct pollfd pfd[XMSG_NET_POLL_MAX];
    int n;
    uint64_t wake; /* monotonic ms */
} xmsg_net_wait;

/* The poll() timeout in ms for w, bounded by deadline; 0 if due. */
int xmsg_net_wait_timeout(const xmsg_net_wait *w, uint64_t deadline,
                          uint64_t now);

/* ---- where to connect: pure functions (srv.c) ---- */

/* One SRV record, or one target to resolve. */
typedef struct xmsg_net_target {
    char name[XMSG_NET_NAME_MAX];
    uint16_t port;
    uint16_t priority, weight;
    int direct_tls; /* 1: TLS from the first byte (xmpps), 0: STARTTLS */
} xmsg_net_target;

/* The answer to one SRV query. */
typedef enum xmsg_srv_status {
    XMSG_SRV_NONE = 0,  /* NXDOMAIN or no SRV record: fall back */
    XMSG_SRV_RECORDS,   /* records in v (after "." ones are dropped) */
    XMSG_SRV_NOSERVICE, /* the single target ".": decidedly no service */
    XMSG_SRV_FAILED     /* the resolver failed (SERVFAIL, refused, ...) */
} xmsg_srv_status;

typedef struct xmsg_srv_answer {
    xmsg_srv_status status;
    xmsg_net_target v[XMSG_NET_SRV_MAX];
    size_t n;
    char why[128]; /* XMSG_SRV_FAILED: the resolver's reason */
} xmsg_srv_answer;

/* A random number in [0, bound] (bound inclusive); ctx is the caller's. */
typedef uint32_t (*xmsg_net_rand_fn)(void *ctx, uint32_t bound);
/* The default source (OpenSSL's RAND_bytes; ctx unused). */
uint32_t xmsg_net_rand(void *ctx, uint32_t bound);

/* Orders v[0..n) in place as RFC 2782 says: ascending priority, and
 * among equal priorities a weighted random order (weight 0 first in the
 * running sum, so it is picked only when its sum is drawn). Drops "."
 * targets (an empty name too) and duplicates (same name, port and TLS
 * mode; the first kept). Returns the new count. */
size_t xmsg_srv_order(xmsg_net_target *v, size_t n, xmsg_net_rand_fn rnd,
                      void *rctx);

/* What the connection asks for (from xmsg_params). */
typedef struct xmsg_net_cfg {
    const char *domain; /* the JID's domain: SRV, fallback, TLS name */
    const char *host;   /* explicit host (skips SRV), or NULL */
    long port;          /* explicit port, or 0 for the default */
    int legacy_tls;     /* direct TLS everywhere */
} xmsg_net_cfg;

/* 1 if SRV is asked for cfg (no explicit host); which services: */
int xmsg_net_wants_srv(const xmsg_net_cfg *cfg);
int xmsg_net_wants_starttls_srv(const xmsg_net_cfg *cfg);

/* The targets to resolve, in order, into out[0..*n) (out holds
 * XMSG_NET_TARGETS_MAX; more SRV records are cut after ordering):
 *  - an explicit host: it alone, on its port, else 5222 (5223 with
 *    legacyTLS), direct TLS with legacyTLS;
 *  - else the SRV records of both services together (xmpps: direct TLS,
 *    xmpp: STARTTLS), ordered by xmsg_srv_order;
 *  - else the domain's A/AAAA on 5222 (5223 with legacyTLS; cfg->port
 *    when set).
 * Errors (XMSG_ERR_CONNECT, no fallback): "." on _xmpp-client (on
 * _xmpps-client when it is the only one asked) and no record elsewhere;
 * a failed query and no record anywhere (a SERVFAIL may hide records).
 * xmpp is NULL when not asked (legacyTLS asks xmpps only). */
xmsg_net_rc xmsg_net_targets(const xmsg_net_cfg *cfg,
                             const xmsg_srv_answer *xmpps,
                             const xmsg_srv_answer *xmpp, xmsg_net_rand_fn rnd,
                             void *rctx, xmsg_net_target *out, size_t *n,
                             xmsg_net_err *err);

/* ---- the candidates: an address to connect to ---- */
typedef struct xmsg_net_cand {
    struct sockaddr_storage addr; /* port set */
    socklen_t addrlen;
    int direct_tls;
    char target[XMSG_NET_NAME_MAX]; /* the name it came from */
} xmsg_net_cand;

typedef struct xmsg_net_cands {
    xmsg_net_cand v[XMSG_NET_CANDS_MAX];
    size_t n;
} xmsg_net_cands;

/* "[::1]:5222" or "127.0.0.1:5222" into out. */
void xmsg_net_addr_str(const struct sockaddr_storage *a, char *out,
                       size_t outlen);

/* ---- resolver (resolve.c) ---- */
typedef struct xmsg_resolver xmsg_resolver;

/* Starts resolving for cfg before deadline; NULL when out of memory or
 * c-ares fails to start (err says which). log may be NULL. The
 * servers are the system's (/etc/resolv.conf). */
xmsg_resolver *xmsg_resolver_new(const xmsg_net_cfg *cfg, uint64_t deadline,
                                 xmsg_net_log_fn log, void *log_ctx,
                                 xmsg_net_err *err);
/* Replaces the random source of SRV ordering (tests). */
void xmsg_resolver_set_rand(xmsg_resolver *r, xmsg_net_rand_fn rnd, void *rctx);
void xmsg_resolver_wait(xmsg_resolver *r, xmsg_net_wait *w);
/* pfd/n: what poll() returned for the entries of the last wait. */
xmsg_net_rc xmsg_resolver_step(xmsg_resolver *r, const struct pollfd *pfd,
                               int n, uint64_t now);
/* After DONE: the ordered candidates (owned by r). */
const xmsg_net_cands *xmsg_resolver_cands(const xmsg_resolver *r);
const xmsg_net_err *xmsg_resolver_err(const xmsg_resolver *r);
void xmsg_resolver_free(xmsg_resolver *r);

/* ---- connector (connect.c) ---- */
typedef struct xmsg_connector xmsg_connector;

/* Connects to cands (copied) in turn before deadline. */
xmsg_connector *xmsg_connector_new(const xmsg_net_cands *cands,
                                   uint64_t deadline, xmsg_net_log_fn log,
                                   void *log_ctx);
void xmsg_connector_wait(xmsg_connector *c, xmsg_net_wait *w);
xmsg_net_rc xmsg_connector_step(xmsg_connector *c, const struct pollfd *pfd,
                                int n, uint64_t now);
/* After DONE: the connected socket, now the caller's (non-blocking,
 * TCP_NODELAY), and the candidate it reached. -1 before. */
int xmsg_connector_take_fd(xmsg_connector *c);
const xmsg_net_cand *xmsg_connector_cand(const xmsg_connector *c);
const xmsg_net_err *xmsg_connector_err(const xmsg_connector *c);
void xmsg_connector_free(xmsg_connector *c);

/* ---- TLS (tls.c) ---- */
typedef struct xmsg_tls xmsg_tls;

typedef struct xmsg_tls_cfg {
    const char *domain;  /* the JID's domain: SNI and the name checked */
    const char *ca_file; /* added to the system store, or NULL */
    const char *pins;    /* "sha256//..;.." (pin.h), or NULL */
    int trust;           /* trustTLS: no verification (the pin still) */
    int direct;          /* direct TLS: ALPN "xmpp-client" */
} xmsg_tls_cfg;

/* A client over fd (connected, non-blocking; not owned). NULL with err
 * set on failure (a CA file that does not load: XMSG_ERR_INPUT). */
xmsg_tls *xmsg_tls_new(const xmsg_tls_cfg *cfg, int fd, uint64_t deadline,
                       xmsg_net_log_fn log, void *log_ctx, xmsg_net_err *err);
/* The handshake: AGAIN until it is done and the certificate and the pin
 * were checked; then DONE, and only then may bytes be written. After the
 * handshake, the wait is what the last read or write needs (POLLIN by
 * default); the caller adds POLLOUT while it has bytes to write. */
void xmsg_tls_wait(xmsg_tls *t, xmsg_net_wait *w);
xmsg_net_rc xmsg_tls_step(xmsg_tls *t, const struct pollfd *pfd, int n,
                          uint64_t now);
const xmsg_net_err *xmsg_tls_err(const xmsg_tls *t);

/* After the handshake. *done gets the bytes moved; AGAIN (0 bytes: poll
 * on xmsg_tls_wait's entries), DONE, or FAIL (the peer's close is
 * XMSG_ERR_CONNECT "closed"). */
xmsg_net_rc xmsg_tls_read(xmsg_tls *t, void *buf, size_t len, size_t *done);
xmsg_net_rc xmsg_tls_write(xmsg_tls *t, const void *buf, size_t len,
                           size_t *done);
/* Bytes OpenSSL holds already decrypted: read them before polling. */
size_t xmsg_tls_pending(const xmsg_tls *t);

/* TLS1_2_VERSION, TLS1_3_VERSION, ... (0 before the handshake). */
int xmsg_tls_version(const xmsg_tls *t);
/* Channel bindings (RFC 5929, RFC 9266) into out (cap bytes): the length
 * on success, -1 when not available for this connection (tls-unique is
 * TLS 1.2 only, tls-exporter TLS 1.3 only). */
int xmsg_tls_cb_unique(const xmsg_tls *t, unsigned char *out, size_t cap);
int xmsg_tls_cb_exporter(const xmsg_tls *t, unsigned char *out, size_t cap);
int xmsg_tls_cb_endpoint(const xmsg_tls *t, unsigned char *out, size_t cap);

/* Sends close_notify without waiting for the peer's, frees; the fd stays
 * open (the caller's). NULL-safe. */
void xmsg_tls_free(xmsg_tls *t);

#endif /* XMSG_NET_H */
