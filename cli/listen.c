/* listen.c - xmsg listen (every stanza that arrives, as JSON lines, until
 * a count, an idle time, the timeout or a signal) and xmsg request (send,
 * print the reply). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* SIGINT and SIGTERM end the listening cleanly (no SA_RESTART: the wait
 * in the library returns at once). */
static void catch_stop_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct listening {
    const struct cli_opts *o;
    const xmsg_params *p;
    char *dir; /* --download: fetched here, after the filters */
    xmsg_status *st;
    long printed;
    int failed; /* stdout lost */
};

/* m as JSON: with --download and a url, the copy carrying its file (or
 * downloadError). Owned, or NULL out of memory. */
static char *stanza_json(const struct listening *l, const xmsg_message *m)
{
    xmsg_message *got;
    char *json;

    if (!l->dir || !xmsg_message_get(m, "url"))
        return cli_message_json(l->p, m);
    got = xmsg_message_download(l->p, l->dir, m, l->st);
    json = got ? cli_message_json(l->p, got) : NULL;
    xmsg_message_free(got);
    return json;
}

static int print_stanza(const xmsg_message *m, void *userdata)
{
    struct listening *l = userdata;
    const char *kind = xmsg_message_get(m, "kind");
    char *json;

    if (l->o->only_kind && (!kind || strcmp(kind, l->o->only_kind) != 0))
        return 0;
    if (l->o->only_from &&
        !xmsg_jid_matches(xmsg_message_get(m, "from"), l->o->only_from))
        return 0;
    json = stanza_json(l, m);
    if (!json || fprintf(stdout, "%s\n", json) < 0 ||
        cli_flush_stdout() != CLI_EXIT_OK)
        l->failed = 1;
    xmsg_free(json);
    if (l->failed)
        return -1; /* not handed over */
    l->printed++;
    /* At the count, the rest stays unprinted (and unfetched). */
    return l->o->count && l->printed >= l->o->count;
}

/* Available presence, confirmed; its own status keeps "delivered" out
 * of listen's. */
static xmsg_err send_presence(xmsg_session *s, xmsg_status *st)
{
    xmsg_message *pres = xmsg_message_new();
    xmsg_status *own = xmsg_status_new();
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (pres && own && !xmsg_message_set(pres, "kind", "presence", st))
        rc = xmsg_session_send(s, pres, own);
    if (rc && own)
        xmsg_status_set_error(st, rc, xmsg_status_text(own));
    xmsg_status_free(own);
    xmsg_message_free(pres);
    return rc;
}

/* How long the next wait may take, in ms; 0 when listening is over. */
static int next_wait(const struct cli_opts *o, long long end, long long last,
                     const struct listening *l)
{
    long long now = now_ms(), left = 250;

    if (stop_signal || l->failed || (o->count && l->printed >= o->count))
        return 0;
    if (end && end - now < left)
        left = end - now;
    if (o->idle && last + o->idle * 1000 - now < left)
        left = last + o->idle * 1000 - now;
    return left > 0 ? (int)left : 0;
}

static xmsg_err listen_loop(const struct cli_opts *o, const xmsg_params *p,
                            char *dir, xmsg_session *s, xmsg_status *st)
{
    struct listening l = {o, p, dir, st, 0, 0};
    const long long start = now_ms();
    long long last = start, end = o->duration ? start + o->duration * 1000 : 0;
    long before;
    xmsg_err rc = XMSG_OK;
    int wait;

    while (!rc && (wait = next_wait(o, end, last, &l)) > 0) {
        before = l.printed;
        rc = xmsg_session_poll(s, wait, print_stanza, &l, st);
        if (l.printed != before)
            last = now_ms();
    }
    if (stop_signal)
        fprintf(stderr, "xmsg: listen: stopped by signal %d\n",
                (int)stop_signal);
    if (l.failed)
        return XMSG_ERR_INTERNAL;
    /* Ended while offline (reconnecting): the failure that keeps it so. */
    return rc ? rc : xmsg_status_code(st);
}

int cli_listen(const struct cli_opts *o, xmsg_params *p, xmsg_status *st)
{
    /* --download: fetched by print_stanza after --from and --type, never
     * for a stanza they leave out, so not by the session. */
    char *dir = xmsg_params_get_text(p, "downloadDir");
    xmsg_session *s = NULL;
    xmsg_err rc = XMSG_OK;

    if (dir)
        rc = xmsg_params_set_string(p, "downloadDir", NULL, st);
    /* The timeout is the server's (the login, pings): listening for
     * stanzas the server does not owe is bounded by --duration. */
    catch_stop_signals();
    if (!rc)
        rc = xmsg_session_open(p, &s, st);
    if (!rc && !o->no_presence)
        rc = send_presence(s, st);
    if (!rc)
        rc = listen_loop(o, p, dir, s, st);
    xmsg_session_close(s, st);
    xmsg_free(dir);
    return cli_exit_code(rc);
}

int cli_request(const xmsg_params *p, const xmsg_message *m, xmsg_status *st)
{
    xmsg_session *s = NULL;
    xmsg_message *reply = NULL;
    xmsg_err rc;
    char *json;

    /* A failed open leaves no session: its failure is the exit code. */
    rc = xmsg_session_open(p, &s, st);
    if (!rc)
        rc = xmsg_session_request(s, m, &reply, st);
    if (reply) {
        json = xmsg_message_to_json(reply);
        if (!json || fprintf(stdout, "%s\n", json) < 0)
            rc = XMSG_ERR_INTERNAL;
        xmsg_free(json);
        xmsg_message_free(reply);
    }
    xmsg_session_close(s, st);
    return cli_exit_code(rc);
}
