/* threads.c - distinct sessions on distinct threads share nothing: 8
 * threads at once, each with two lab accounts of its own (a sender
 * s01..s08 and a receiver s09..s16), through the public API only (xmsg.h):
 *   1. two xmsg_send one-shots from the sender to the receiver (offline);
 *   2. a collection as the receiver (xmsg_connect_each, a state file of
 *      its own) that must hand over exactly those two;
 *   3. a receiver session made available (a presence), a sender session
 *      sending two confirmed messages to it, and the receiver's
 *      xmsg_session_poll() until it has exactly those two.
 * Bodies carry a token of this run and thread: leftovers of other runs
 * are not counted. Built under ThreadSanitizer by tsan_threads_prosody
 * (tests/integration/CMakeLists.txt), whose TSAN_OPTIONS make any report
 * fail the run.
 *
 *   threads [--serial]   (XMSG_LAB_ENV names the lab's env file)
 * --serial runs the threads one after the other (a control). Exit 0 when
 * every thread did all of it. (Over libstrophe 0.12.2, before the
 * library's own stream, two SCRAM-SHA-1 logins at once in one process
 * computed wrong proofs: its SHA-1 worked in a static buffer.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "xmsg.h"

#define THREADS 8
#define PER_STEP 2

typedef struct worker {
    int idx;
    char from[8], to[8], to_jid[128], token[64], state[256];
    int got_oneshot, got_session;
    xmsg_err rc;
    char step[32], text[512];
} worker;

/* Counts the messages whose body carries this worker's token and step. */
typedef struct count_ctx {
    const worker *w;
    const char *step;
    int n;
} count_ctx;

static int count_cb(const xmsg_message *m, void *ud)
{
    count_ctx *c = ud;
    const char *body = m ? xmsg_message_get(m, "body") : NULL;

    if (body && strstr(body, c->w->token) && strstr(body, c->step))
        c->n++;
    return 0;
}

static xmsg_params *params_for(const worker *w, const char *user)
{
    xmsg_params *p = xmsg_params_new();
    char jid[128], password[64];

    /* as lab_password(), whose static buffer threads would share */
    snprintf(password, sizeof(password), "pw-%s-Zq8", user);
    snprintf(jid, sizeof(jid), "%s@%s", user, lab("DOMAIN"));
    if (!p || xmsg_params_set_string(p, "jid", jid, NULL) ||
        xmsg_params_set_string(p, "password", password, NULL) ||
        xmsg_params_set_string(p, "host", lab("HOST"), NULL) ||
        xmsg_params_set_int(p, "port", atol(lab("PORT")), NULL) ||
        xmsg_params_set_string(p, "caFile", lab("CA"), NULL) ||
        xmsg_params_set_string(p, "stateFile", w->state, NULL) ||
        xmsg_params_set_string(p, "logLevel",
                               getenv("XMSG_THREADS_LOG") ? "debug" : "error",
                               NULL) ||
        xmsg_params_set_int(p, "timeout", 60, NULL)) {
        xmsg_params_free(p);
        return NULL;
    }
    return p;
}

static xmsg_message *message_for(const worker *w, const char *step, int k)
{
    xmsg_message *m = xmsg_message_new();
    char body[192];

    snprintf(body, sizeof(body), "threads %s %s %d", w->token, step, k);
    if (!m || xmsg_message_set(m, "to", w->to_jid, NULL) ||
        xmsg_message_set(m, "body", body, NULL)) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}

/* Records the first failure: the step and the status' text. */
static xmsg_err note(worker *w, const char *step, xmsg_err rc,
                     const xmsg_status *st)
{
    if (rc && !w->rc) {
        w->rc = rc;
        snprintf(w->step, sizeof(w->step), "%s", step);
        snprintf(w->text, sizeof(w->text), "%s",
                 st && xmsg_status_text(st) ? xmsg_status_text(st) : "");
        for (size_t i = 0;
             st && getenv("XMSG_THREADS_LOG") && i < xmsg_status_log_count(st);
             i++)
            fprintf(stderr, "t%d %s: %s\n", w->idx, step,
                    xmsg_status_log_line(st, i));
    }
    return rc;
}

static xmsg_err one_shots(worker *w, const xmsg_params *p)
{
    xmsg_err rc = XMSG_OK;
    int k;

    for (k = 0; k < PER_STEP && !rc; k++) {
        xmsg_message *m = message_for(w, "one-shot", k);
        xmsg_status *st = xmsg_status_new();

        rc = m && st ? xmsg_send(p, m, st) : XMSG_ERR_INTERNAL;
        note(w, "send", rc, st);
        xmsg_status_free(st);
        xmsg_message_free(m);
    }
    return rc;
}

static xmsg_err collect(worker *w, const xmsg_params *p)
{
    count_ctx c = {w, "one-shot", 0};
    xmsg_status *st = xmsg_status_new();
    xmsg_err rc =
        st ? xmsg_connect_each(p, count_cb, &c, st) : XMSG_ERR_INTERNAL;

    note(w, "connect", rc, st);
    xmsg_status_free(st);
    w->got_oneshot = c.n;
    return rc;
}

/* Opens a session; with `available`, sends an initial presence. */
static xmsg_session *open_session(worker *w, const xmsg_params *p,
                                  int available, xmsg_status *st)
{
    xmsg_session *s = NULL;
    xmsg_message *pres = NULL;
    xmsg_err rc = xmsg_session_open(p, &s, st);

    if (!note(w, "session open", rc, st) && available) {
        pres = xmsg_message_new();
        rc = pres && !xmsg_message_set(pres, "kind", "presence", NULL)
                 ? xmsg_session_send(s, pres, st)
                 : XMSG_ERR_INTERNAL;
        note(w, "presence", rc, st);
    }
    xmsg_message_free(pres);
    if (rc) {
        xmsg_session_close(s, NULL);
        return NULL;
    }
    return s;
}

static xmsg_err send_in(worker *w, xmsg_session *tx, xmsg_status *st)
{
    xmsg_err rc = XMSG_OK;
    int k;

    for (k = 0; k < PER_STEP && !rc; k++) {
        xmsg_message *m = message_for(w, "session", k);

        rc = m ? xmsg_session_send(tx, m, st) : XMSG_ERR_INTERNAL;
        note(w, "session send", rc, st);
        xmsg_message_free(m);
    }
    return rc;
}

/* The receiver polls (1 s at a time, at most 60 polls) until it has the
 * sender's two messages. */
static void in_sessions(worker *w, const xmsg_params *tx_p,
                        const xmsg_params *rx_p)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_session *rx = st ? open_session(w, rx_p, 1, st) : NULL;
    xmsg_session *tx = rx ? open_session(w, tx_p, 0, st) : NULL;
    count_ctx c = {w, "session", 0};
    int i;

    if (tx && !send_in(w, tx, st)) {
        for (i = 0; i < 60 && c.n < PER_STEP; i++)
            if (note(w, "poll", xmsg_session_poll(rx, 1000, count_cb, &c, st),
                     st))
                break;
    }
    w->got_session = c.n;
    xmsg_session_close(tx, NULL);
    xmsg_session_close(rx, NULL);
    xmsg_status_free(st);
}

static void *run(void *arg)
{
    worker *w = arg;
    xmsg_params *tx = params_for(w, w->from), *rx = params_for(w, w->to);

    if (!tx || !rx)
        note(w, "params", XMSG_ERR_INTERNAL, NULL);
    else if (!one_shots(w, tx) && !collect(w, rx))
        in_sessions(w, tx, rx);
    xmsg_params_free(tx);
    xmsg_params_free(rx);
    return NULL;
}

static int report(const worker *w)
{
    int ok = w->rc == XMSG_OK && w->got_oneshot == PER_STEP &&
             w->got_session == PER_STEP;

    printf("%s thread %d (%s -> %s): one-shots collected %d/%d, session's "
           "polled %d/%d%s%s%s%s\n",
           ok ? "ok  " : "FAIL", w->idx, w->from, w->to, w->got_oneshot,
           PER_STEP, w->got_session, PER_STEP, w->rc ? "; " : "",
           w->rc ? w->step : "", w->rc ? ": " : "", w->rc ? w->text : "");
    return ok;
}

static void setup(worker *ws, const char *dir)
{
    int i;

    for (i = 0; i < THREADS; i++) {
        worker *w = &ws[i];

        w->idx = i;
        snprintf(w->from, sizeof(w->from), "s%02d", 1 + i);
        snprintf(w->to, sizeof(w->to), "s%02d", 1 + THREADS + i);
        snprintf(w->to_jid, sizeof(w->to_jid), "%s@%s", w->to, lab("DOMAIN"));
        snprintf(w->token, sizeof(w->token), "run-%ld-%d-t%d", (long)time(NULL),
                 (int)getpid(), i);
        snprintf(w->state, sizeof(w->state), "%s/%s.json", dir, w->to);
    }
}

/* Reports every worker and removes its state file: 1 when all passed. */
static int finish(const worker *ws, int started, const char *dir)
{
    int i, ok = 1;

    for (i = 0; i < THREADS; i++) {
        char lock[300];

        ok &= i < started && report(&ws[i]);
        snprintf(lock, sizeof(lock), "%s.lock", ws[i].state);
        unlink(ws[i].state);
        unlink(lock);
    }
    rmdir(dir);
    printf("%s\n", ok ? "all passed" : "FAILED");
    return ok;
}

int main(int argc, char **argv)
{
    static worker ws[THREADS];
    pthread_t th[THREADS];
    char dir[] = "/tmp/xmsg-threads.XXXXXX";
    int i, started = 0, serial = argc > 1 && strcmp(argv[1], "--serial") == 0;

    if (lab_load_env("XMSG_LAB_ENV") || !mkdtemp(dir))
        return 1;
    setup(ws, dir);
    for (i = 0; i < THREADS; i++) {
        if (pthread_create(&th[i], NULL, run, &ws[i]) != 0)
            break;
        started++;
        if (serial)
            pthread_join(th[i], NULL); /* one at a time: a control */
    }
    for (i = 0; i < started && !serial; i++)
        pthread_join(th[i], NULL);
    return finish(ws, started, dir) ? 0 : 1;
}
