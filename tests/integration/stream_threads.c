/* stream_threads.c - distinct streams of the connection layer of our own
 * (src/xmpp/stream over src/net and src/xml) on distinct threads share
 * nothing: 8 threads at once, each with a sender (s01..s08) and a
 * receiver (s09..s16) of its own. The receiver logs in and sends a
 * presence; the sender logs in, sends two messages to it and waits for
 * their acknowledgement (XEP-0198); the receiver runs until it has both.
 * Every login resolves (c-ares), connects, does STARTTLS (OpenSSL), SCRAM
 * with PBKDF2 and the key cache (one directory for all threads), binds and
 * enables stream management: the layers' one-time initialisations race
 * here. Built under ThreadSanitizer by tsan_threads_prosody; today's
 * counterpart of threads.c, which needs the commands ported.
 *
 *   stream_threads     (XMSG_LAB_ENV names the lab's env file)
 * Exit 0 when every thread got both messages acknowledged and received. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "xmpp/stream.h"

#define THREADS 8
#define MESSAGES 2

typedef struct worker {
    int idx;
    char from[8], to[8], to_jid[128], token[64];
    int received;
    xmsg_err rc;
    char step[32], text[512];
} worker;

static xmsg_err note(worker *w, const char *step, xmsg_err rc,
                     const xmsg_status *st)
{
    if (rc && !w->rc) {
        w->rc = rc;
        snprintf(w->step, sizeof(w->step), "%s", step);
        snprintf(w->text, sizeof(w->text), "%s",
                 st && xmsg_status_text(st) ? xmsg_status_text(st) : "");
    }
    return rc;
}

static int on_el(xmsg_stream *s, xmsg_xel *el, void *ud)
{
    worker *w = ud;
    char *text = xmsg_xel_is(el, XMSG_NS_CLIENT, "message")
                     ? xmsg_xel_text(xmsg_xel_child(el, NULL, "body"))
                     : NULL;

    (void)s;
    if (text && strstr(text, w->token))
        w->received++;
    free(text);
    xmsg_xel_free(el);
    return 0;
}

static xmsg_stream *open_as(worker *w, const char *user, xmsg_status *st)
{
    xmsg_params *p = xmsg_params_new();
    xmsg_stream *s = NULL;
    char jid[128], password[64];

    snprintf(password, sizeof(password), "pw-%s-Zq8", user);
    snprintf(jid, sizeof(jid), "%s@%s", user, lab("DOMAIN"));
    if (p && !xmsg_params_set_string(p, "jid", jid, st) &&
        !xmsg_params_set_string(p, "password", password, st) &&
        !xmsg_params_set_string(p, "host", lab("HOST"), st) &&
        !xmsg_params_set_int(p, "port", atol(lab("PORT")), st) &&
        !xmsg_params_set_string(p, "caFile", lab("CA"), st) &&
        !xmsg_params_set_string(p, "logLevel", "error", st) &&
        !xmsg_params_set_int(p, "timeout", 60, st))
        s = xmsg_stream_new(p, st);
    xmsg_params_free(p);
    if (!s) {
        note(w, "new", XMSG_ERR_INTERNAL, st);
        return NULL;
    }
    xmsg_stream_set_handler(s, on_el, w);
    if (note(w, "open", xmsg_stream_open(s), st)) {
        xmsg_stream_free(s);
        return NULL;
    }
    return s;
}

static xmsg_err send_one(const worker *w, xmsg_stream *s, const char *name,
                         int k)
{
    xmsg_xel *el = xmsg_xel_new(XMSG_NS_CLIENT, name);
    xmsg_xel *b = el && k >= 0 ? xmsg_xel_add_new(el, NULL, "body") : NULL;
    char body[128];
    xmsg_err rc = XMSG_ERR_INTERNAL;

    snprintf(body, sizeof(body), "stream threads %s %d", w->token, k);
    if (el && (k < 0 || (b && !xmsg_xel_set_attr(el, "to", w->to_jid) &&
                         !xmsg_xel_set_attr(el, "type", "chat") &&
                         !xmsg_xel_add_text(b, body, strlen(body)))))
        rc = xmsg_stream_send(s, el);
    xmsg_xel_free(el);
    return rc;
}

/* Runs s until done(w, s) or a failure; the stream's deadline bounds it. */
static xmsg_err run_until(xmsg_stream *s, worker *w,
                          int (*done)(const worker *, const xmsg_stream *))
{
    xmsg_err rc = XMSG_OK;

    while (!rc && !done(w, s))
        rc = xmsg_stream_run(s, 200);
    return rc;
}

static int all_acked(const worker *w, const xmsg_stream *s)
{
    (void)w;
    return xmsg_stream_unacked(s) == 0;
}

static int all_received(const worker *w, const xmsg_stream *s)
{
    (void)s;
    return w->received >= MESSAGES;
}

static void exchange(worker *w, xmsg_stream *rx, xmsg_stream *tx,
                     xmsg_status *st)
{
    int k;

    /* the presence makes the receiver available; acknowledged first */
    if (note(w, "presence", send_one(w, rx, "presence", -1), st) ||
        note(w, "presence ack", xmsg_stream_request_ack(rx), st) ||
        note(w, "presence ack", run_until(rx, w, all_acked), st))
        return;
    for (k = 0; k < MESSAGES; k++)
        if (note(w, "send", send_one(w, tx, "message", k), st))
            return;
    if (note(w, "ack", xmsg_stream_request_ack(tx), st) ||
        note(w, "ack", run_until(tx, w, all_acked), st))
        return;
    xmsg_stream_extend(rx, 30000);
    note(w, "receive", run_until(rx, w, all_received), st);
}

static void *run(void *arg)
{
    worker *w = arg;
    xmsg_status *st_rx = xmsg_status_new(), *st_tx = xmsg_status_new();
    xmsg_stream *rx = st_rx ? open_as(w, w->to, st_rx) : NULL;
    xmsg_stream *tx = rx && st_tx ? open_as(w, w->from, st_tx) : NULL;

    if (tx)
        exchange(w, rx, tx, st_tx);
    xmsg_stream_free(tx);
    xmsg_stream_free(rx);
    xmsg_status_free(st_tx);
    xmsg_status_free(st_rx);
    return NULL;
}

int main(void)
{
    static worker ws[THREADS];
    pthread_t th[THREADS];
    int i, started = 0, ok = 1;

    if (lab_load_env("XMSG_LAB_ENV"))
        return 1;
    for (i = 0; i < THREADS; i++) {
        worker *w = &ws[i];

        w->idx = i;
        snprintf(w->from, sizeof(w->from), "s%02d", 1 + i);
        snprintf(w->to, sizeof(w->to), "s%02d", 1 + THREADS + i);
        snprintf(w->to_jid, sizeof(w->to_jid), "%s@%s", w->to, lab("DOMAIN"));
        snprintf(w->token, sizeof(w->token), "run-%ld-%d-t%d", (long)time(NULL),
                 (int)getpid(), i);
    }
    for (i = 0; i < THREADS && pthread_create(&th[i], NULL, run, &ws[i]) == 0;
         i++)
        started++;
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < THREADS; i++) {
        const worker *w = &ws[i];
        int good = i < started && !w->rc && w->received == MESSAGES;

        printf("%s thread %d (%s -> %s): received %d/%d%s%s%s%s\n",
               good ? "ok  " : "FAIL", i, w->from, w->to, w->received, MESSAGES,
               w->rc ? "; " : "", w->rc ? w->step : "", w->rc ? ": " : "",
               w->rc ? w->text : "");
        ok &= good;
    }
    printf("%s\n", ok ? "all passed" : "FAILED");
    return ok ? 0 : 1;
}
