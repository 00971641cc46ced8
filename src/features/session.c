/* session.c - the connection of the features: one xmsg_stream, its loop
 * and deadline, the dispatch of received stanzas, pings, ids. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "features/session.h"

struct xmsg_conn_h {
    xmsg_conn_handler fn;
    void *ud;
    char *id;      /* an id handler's iq id (owned), else NULL */
    char name[16]; /* "" any */
    char type[16]; /* "" any */
};

static uint64_t stream_deadline(uint64_t ms)
{
    return ms >= UINT64_MAX / 4 ? 0 : ms;
}

/* ---- handlers ---- */

static int push_handler(xmsg_conn *c, const struct xmsg_conn_h *h)
{
    struct xmsg_conn_h *n;

    if (c->nh == c->caph) {
        n = realloc(c->h, (c->caph ? c->caph * 2 : 8) * sizeof(*n));
        if (!n)
            return -1;
        c->h = n;
        c->caph = c->caph ? c->caph * 2 : 8;
    }
    c->h[c->nh++] = *h;
    return 0;
}

int xmsg_conn_handler_add(xmsg_conn *c, xmsg_conn_handler fn, const char *name,
                          const char *type, void *userdata)
{
    struct xmsg_conn_h h = {fn, userdata, NULL, "", ""};

    snprintf(h.name, sizeof(h.name), "%s", name ? name : "");
    snprintf(h.type, sizeof(h.type), "%s", type ? type : "");
    return push_handler(c, &h);
}

int xmsg_conn_id_handler_add(xmsg_conn *c, xmsg_conn_handler fn, const char *id,
                             void *userdata)
{
    struct xmsg_conn_h h = {fn, userdata, xmsg_strdup(id), "", ""};

    if (!h.id || push_handler(c, &h)) {
        free(h.id);
        return -1;
    }
    return 0;
}

static void drop_handler(struct xmsg_conn_h *h)
{
    free(h->id);
    h->id = NULL;
    h->fn = NULL;
}

void xmsg_conn_handler_delete(xmsg_conn *c, xmsg_conn_handler fn)
{
    size_t i;

    for (i = 0; i < c->nh; i++) {
        if (c->h[i].fn == fn)
            drop_handler(&c->h[i]);
    }
}

void xmsg_conn_handler_forget(xmsg_conn *c, const void *userdata)
{
    size_t i;

    for (i = 0; i < c->nh; i++) {
        if (c->h[i].ud == userdata)
            drop_handler(&c->h[i]);
    }
}

/* Removed handlers leave their slots (a dispatch may be running). */
static void compact(xmsg_conn *c)
{
    size_t i, k = 0;

    for (i = 0; i < c->nh; i++) {
        if (c->h[i].fn)
            c->h[k++] = c->h[i];
    }
    c->nh = k;
}

static int matches(const struct xmsg_conn_h *h, const xmsg_xel *el)
{
    const char *type = xmsg_xel_attr(el, "type");
    const char *id = xmsg_xel_attr(el, "id");

    if (h->id)
        return xmsg_xel_is(el, XMSG_NS_CLIENT, "iq") && id && type &&
               (!strcmp(type, "result") || !strcmp(type, "error")) &&
               strcmp(id, h->id) == 0;
    return (!h->name[0] || strcmp(h->name, xmsg_xel_name(el)) == 0) &&
           (!h->type[0] || (type && strcmp(h->type, type) == 0));
}

/* Id handlers first: an answer one of them awaited is its alone. Else
 * every other handler that matches. Those added meanwhile wait for the
 * next stanza. */
static void dispatch(xmsg_conn *c, const xmsg_xel *el)
{
    const size_t n = c->nh;
    size_t i;
    int pass, taken = 0;

    for (pass = 0; pass < 2 && !taken; pass++) {
        for (i = 0; i < n && i < c->nh; i++) {
            struct xmsg_conn_h *h = &c->h[i];

            if (!h->fn || (pass == 0) != (h->id != NULL) || !matches(h, el))
                continue;
            taken = pass == 0;
            if (!h->fn(c, el, h->ud))
                drop_handler(&c->h[i]);
        }
    }
    compact(c);
}

static int on_element(xmsg_stream *s, xmsg_xel *el, void *userdata)
{
    xmsg_conn *c = userdata;

    (void)s;
    c->last_rx = xmsg_now_ms();
    if (xmsg_is_stanza(el))
        dispatch(c, el);
    xmsg_xel_free(el);
    return c->closed;
}

/* ---- after each turn: acknowledgements and pings ---- */

static void notice(xmsg_conn *c)
{
    const unsigned acks = xmsg_stream_acks(c->s);
    const unsigned pongs = xmsg_stream_pings_answered(c->s) - c->pong_base;
    size_t i, k = 0;

    if (acks != c->acks_seen || pongs != c->pongs_seen)
        c->last_rx = xmsg_now_ms();
    while (c->acks_seen != acks) {
        c->acks_seen++;
        if (c->on_ack)
            c->on_ack(c->ack_userdata, xmsg_stream_sm_acked(c->s));
    }
    if (pongs == c->pongs_seen)
        return;
    c->pongs_seen = pongs;
    for (i = 0; i < c->npings; i++) {
        if (c->pings[i].n <= pongs)
            *c->pings[i].flag = 1;
        else
            c->pings[k++] = c->pings[i];
    }
    c->npings = k;
    if (c->on_pong)
        c->on_pong(c->ack_userdata, pongs);
}

/* ---- open and close ---- */

void xmsg_conn_init(xmsg_conn *c)
{
    memset(c, 0, sizeof(*c));
}

static void on_ready(xmsg_conn *c)
{
    c->bound = 1;
    c->closed = 0;
    c->acks_seen = xmsg_stream_acks(c->s);
    c->pong_base = xmsg_stream_pings_answered(c->s);
    c->pongs_seen = c->pings_sent = 0;
    c->npings = 0;
    c->last_rx = xmsg_now_ms();
}

xmsg_err xmsg_conn_open(xmsg_conn *c, const xmsg_params *p, xmsg_status *st)
{
    const int no_sm = c->no_sm;
    xmsg_err rc;

    xmsg_conn_init(c);
    c->no_sm = no_sm;
    c->params = p;
    c->st = st;
    c->entered = 1;
    c->deadline = xmsg_now_ms() + (uint64_t)p->timeout * 1000u;
    /* Where to is the stream's line ("connecting to ..."), once a login. */
    xmsg_conn_log(c, XMSG_LOG_INFO, "logging in as %s", p->jid);
    xmsg_conn_log(c, XMSG_LOG_DEBUG,
                  "timeout %ld s, TLS %s, SASL mechanisms %s, key cache %s",
                  p->timeout,
                  p->disable_tls     ? "off"
                  : p->mandatory_tls ? "required"
                                     : "when offered",
                  p->sasl_mechanisms ? p->sasl_mechanisms : "any",
                  p->sasl_key_cache ? "on" : "off");
    c->s = xmsg_stream_new(p, st);
    if (!c->s)
        return xmsg_status_code(st) ? xmsg_status_code(st) : XMSG_ERR_INTERNAL;
    xmsg_stream_set_sm(c->s, !no_sm);
    xmsg_stream_set_handler(c->s, on_element, c);
    xmsg_stream_set_deadline(c->s, c->deadline);
    rc = xmsg_stream_open(c->s);
    if (rc) {
        rc = xmsg_conn_fail(c, NULL);
        xmsg_conn_close(c);
        return rc;
    }
    on_ready(c);
    return XMSG_OK;
}

xmsg_err xmsg_conn_reopen(xmsg_conn *c, int *resumed)
{
    xmsg_err rc;

    *resumed = 0;
    if (!c->s)
        return xmsg_status_fail(c->st, XMSG_ERR_CONNECT, "no connection");
    xmsg_stream_close(c->s);
    c->closed = 1;
    c->bound = 0;
    c->deadline = xmsg_now_ms() + (uint64_t)c->params->timeout * 1000u;
    xmsg_stream_set_deadline(c->s, c->deadline);
    rc = xmsg_stream_open(c->s);
    if (rc)
        return xmsg_conn_fail(c, NULL);
    on_ready(c);
    *resumed = xmsg_stream_resumed(c->s);
    return XMSG_OK;
}

void xmsg_conn_use_status(xmsg_conn *c, xmsg_status *st)
{
    c->st = st;
    if (c->s)
        xmsg_stream_set_status(c->s, st);
}

void xmsg_conn_close(xmsg_conn *c)
{
    size_t i;

    if (c->s)
        xmsg_stream_free(c->s); /* closes: </stream:stream> */
    c->s = NULL;
    c->closed = 1;
    c->bound = 0;
    for (i = 0; i < c->nh; i++)
        free(c->h[i].id);
    free(c->h);
    free(c->pings);
    c->h = NULL;
    c->pings = NULL;
    c->nh = c->caph = c->npings = c->cappings = 0;
    c->entered = 0;
}

const char *xmsg_conn_jid(const xmsg_conn *c)
{
    return c->s && c->bound ? xmsg_stream_jid(c->s) : NULL;
}

/* ---- failures ---- */

xmsg_err xmsg_conn_fail(xmsg_conn *c, const char *doing)
{
    xmsg_err code = xmsg_status_code(c->st);
    const int late = xmsg_now_ms() >= c->deadline;

    if (!doing)
        doing = c->s ? xmsg_stream_doing(c->s) : "connecting";
    /* The deadline's text names what was waited for. */
    if (code == XMSG_ERR_TIMEOUT || (code == XMSG_OK && late)) {
        xmsg_status_clear_error(c->st);
        return xmsg_status_fail(c->st, XMSG_ERR_TIMEOUT,
                                "timed out after %ld s while %s",
                                c->params->timeout, doing);
    }
    if (code != XMSG_OK)
        return code;
    return xmsg_status_fail(c->st, XMSG_ERR_CONNECT,
                            "the server closed the connection while %s", doing);
}

void xmsg_conn_abort(xmsg_conn *c, xmsg_err code, const char *text)
{
    xmsg_status_fail(c->st, code, "%s", text);
    c->closed = 1;
    c->bound = 0;
}

/* ---- the loop and the deadline ---- */

void xmsg_conn_run(xmsg_conn *c, unsigned max_ms)
{
    if (c->closed || !c->s)
        return;
    if (xmsg_now_ms() >= c->deadline) {
        c->closed = 1;
        return;
    }
    xmsg_stream_set_deadline(c->s, stream_deadline(c->deadline));
    if (xmsg_stream_run(c->s, (int)max_ms) != XMSG_OK)
        c->closed = 1;
    if (xmsg_stream_deadline(c->s) && c->deadline < UINT64_MAX / 4)
        c->deadline = xmsg_stream_deadline(c->s);
    if (!c->closed)
        notice(c);
    if (c->closed) {
        c->bound = 0;
        if (xmsg_stream_ready(c->s))
            xmsg_stream_close(c->s); /* aborted: the stream is still up */
    }
}

xmsg_err xmsg_conn_wait(xmsg_conn *c, const int *flag)
{
    while (!*flag) {
        if (c->closed || xmsg_now_ms() >= c->deadline)
            return xmsg_conn_fail(c, NULL);
        xmsg_conn_run(c, 100);
    }
    return XMSG_OK;
}

void xmsg_conn_enter(xmsg_conn *c)
{
    c->entered = 1;
}

void xmsg_conn_leave(xmsg_conn *c)
{
    c->entered = 0;
    c->deadline = UINT64_MAX;
}

void xmsg_conn_set_deadline(xmsg_conn *c, uint64_t ms)
{
    c->deadline = ms;
    if (c->s)
        xmsg_stream_set_deadline(c->s, stream_deadline(ms));
}

xmsg_conn_paused xmsg_conn_pause(const xmsg_conn *c)
{
    const xmsg_conn_paused p = {xmsg_now_ms(), c->st};

    return p;
}

void xmsg_conn_resume(xmsg_conn *c, xmsg_conn_paused paused)
{
    const uint64_t now = xmsg_now_ms();
    const uint64_t spent = now > paused.at ? now - paused.at : 0;

    if (c->st != paused.st)
        xmsg_conn_use_status(c, paused.st);
    xmsg_conn_set_deadline(
        c, c->deadline < UINT64_MAX - spent ? c->deadline + spent : UINT64_MAX);
}

void xmsg_conn_extend(xmsg_conn *c)
{
    xmsg_conn_set_deadline(c, xmsg_now_ms() +
                                  (uint64_t)c->params->timeout * 1000u);
}

/* ---- sending ---- */

void xmsg_conn_send(xmsg_conn *c, const xmsg_xel *el)
{
    if (c->closed || !c->s)
        return;
    if (xmsg_stream_send(c->s, el))
        c->closed = 1;
    else if (xmsg_is_stanza(el))
        c->out++;
}

void xmsg_conn_send_xml(xmsg_conn *c, const char *xml, size_t len)
{
    if (c->closed || !c->s)
        return;
    if (xmsg_stream_send_raw(c->s, xml, len))
        c->closed = 1;
    else
        c->out++;
}

unsigned long xmsg_conn_sent(const xmsg_conn *c)
{
    return c->s && xmsg_stream_sm_on(c->s) ? xmsg_stream_sm_sent(c->s) : c->out;
}

int xmsg_conn_overacked(const xmsg_conn *c)
{
    return c->s && xmsg_stream_overacked(c->s);
}

int xmsg_conn_sm_on(const xmsg_conn *c)
{
    return c->s && xmsg_stream_sm_on(c->s);
}

uint64_t xmsg_conn_tx_queued(const xmsg_conn *c)
{
    return c->s ? xmsg_stream_tx_queued(c->s) : 0;
}

uint64_t xmsg_conn_tx_written(const xmsg_conn *c)
{
    return c->s ? xmsg_stream_tx_written(c->s) : 0;
}

void xmsg_conn_request_ack(xmsg_conn *c)
{
    if (!c->closed && c->s && xmsg_stream_request_ack(c->s))
        c->closed = 1;
}

/* ---- pings ---- */

xmsg_err xmsg_conn_ping_n(xmsg_conn *c, unsigned *n)
{
    if (c->closed || !c->s)
        return xmsg_conn_fail(c, NULL);
    if (xmsg_stream_ping(c->s)) {
        c->closed = 1;
        return xmsg_conn_fail(c, NULL);
    }
    c->out++;
    *n = ++c->pings_sent;
    return XMSG_OK;
}

xmsg_err xmsg_conn_ping(xmsg_conn *c, int *answered)
{
    struct xmsg_conn_ping *np;
    unsigned n = 0; /* set when rc is 0 (gcc -O3 cannot tell) */
    xmsg_err rc;

    if (c->npings == c->cappings) {
        np = realloc(c->pings,
                     (c->cappings ? c->cappings * 2 : 4) * sizeof(*np));
        if (!np)
            return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
        c->pings = np;
        c->cappings = c->cappings ? c->cappings * 2 : 4;
    }
    rc = xmsg_conn_ping_n(c, &n);
    if (rc)
        return rc;
    c->pings[c->npings].n = n;
    c->pings[c->npings++].flag = answered;
    return XMSG_OK;
}

/* ---- ids ---- */

/* Ids unique for the session's life and beyond it: 64 random bits drawn
 * once per connection, then a count, shaped as a UUID. */
char *xmsg_conn_new_id(xmsg_conn *c)
{
    unsigned char r[8];
    char hex[33], buf[40];
    size_t i;

    if (!c->id_prefix[0]) {
        if (RAND_bytes(r, sizeof(r)) != 1)
            return NULL;
        for (i = 0; i < sizeof(r); i++)
            snprintf(c->id_prefix + 2 * i, 3, "%02x", r[i]);
    }
    snprintf(hex, sizeof(hex), "%s%016lx", c->id_prefix, ++c->id_count);
    snprintf(buf, sizeof(buf), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
    return xmsg_strdup(buf);
}

int xmsg_conn_give_id(xmsg_conn *c, xmsg_message *m)
{
    char *id;
    int rc;

    if (xmsg_message_get(m, "id"))
        return 0;
    id = xmsg_conn_new_id(c);
    rc = !id || xmsg_message_put(m, "id", id);
    free(id);
    return rc ? -1 : 0;
}

/* ---- logging through the status ---- */

/* A log line is at most XMSG_LOG_LINE_MAX bytes: the log's memory stays
 * bounded (a batch's data lines hold many messages). Cut on a character
 * boundary, with the length it had. */
static void shorten(char *s)
{
    size_t len = strlen(s), cut = XMSG_LOG_LINE_MAX - 48;

    if (len <= XMSG_LOG_LINE_MAX)
        return;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    snprintf(s + cut, len - cut + 1, " ... (%zu bytes in all)", len);
}

void xmsg_conn_logv(xmsg_conn *c, xmsg_log_level lvl, const char *area,
                    const char *msg)
{
    const char *secrets[2];
    char *clean, *line;
    size_t n;

    if (lvl < c->params->log_level)
        return;
    secrets[0] = c->params->password;
    secrets[1] = c->params->room_password;
    clean = xmsg_redact(msg, secrets, 2);
    if (!clean)
        return;
    xmsg_utf8_sanitize(clean);
    shorten(clean);
    n = strlen(clean) + strlen(area) + 16;
    line = malloc(n);
    if (line) {
        snprintf(line, n, "%s %s: %s", xmsg_log_level_name(lvl), area, clean);
        xmsg_status_log_owned(c->st, line);
    }
    free(clean);
}

void xmsg_conn_log(xmsg_conn *c, xmsg_log_level lvl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (lvl < c->params->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xmsg_conn_logv(c, lvl, "xmsg", buf);
}
