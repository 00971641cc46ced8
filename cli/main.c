/* main.c - xmsg: send an XMPP message, or collect the waiting ones.
 *
 * parse options -> load params and message -> call the library -> print
 * the status as one JSON line -> exit with the code of its error.
 * connect prints each collected message as one JSON line first, as it
 * comes: a batch is flushed before the library moves its checkpoint.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#ifdef XMSG_HAVE_OMEMO
#include "xmsg_omemo.h"
#endif

/* Builds the library's inputs; *m is created for send. */
static int load(const struct cli_opts *o, xmsg_params *p, xmsg_message **m,
                xmsg_status *st)
{
    int rc = cli_load_params(o, p, st);

    if (rc != CLI_EXIT_OK || o->batch || o->multi ||
        (o->cmd != CLI_CMD_SEND && o->cmd != CLI_CMD_REQUEST))
        return rc;
    *m = xmsg_message_new();
    if (!*m)
        return cli_oom();
    return cli_load_message(o, *m, st);
}

/* A batch of collected messages, as JSON lines, written out at once. */
struct batch {
    const xmsg_params *p; /* the account's: its OMEMO store */
    char *buf;
    size_t len, cap;
    xmsg_status *st; /* where a failure to hand over is recorded */
    struct cli_progress pr;
};

static int batch_append(struct batch *b, const char *json)
{
    size_t n = strlen(json) + 1;
    char *nb;

    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        nb = realloc(b->buf, b->cap);
        if (!nb)
            return -1;
        b->buf = nb;
    }
    memcpy(b->buf + b->len, json, n - 1);
    b->buf[b->len + n - 1] = '\n';
    b->len += n;
    return 0;
}

/* Stops the collection as an internal error (not a cancellation): the
 * output or the memory failed. */
static int print_failed(struct batch *b, const char *what)
{
    xmsg_status_set_error(b->st, XMSG_ERR_INTERNAL, what);
    return -1;
}

/* Hands a collected message over: one JSON line. NULL ends a batch: it is
 * written with one write(2), so that a kill leaves it whole or absent,
 * before the library records the checkpoint past it. */
static int print_message(const xmsg_message *m, void *userdata)
{
    struct batch *b = userdata;
    char *json;
    int rc;

    if (m) {
        json = cli_message_json(b->p, m);
        rc = json ? batch_append(b, json) : -1;
        xmsg_free(json);
        if (!rc)
            cli_progress_message(&b->pr);
        return rc ? print_failed(b, "out of memory") : 0;
    }
    rc = cli_write_stdout(b->buf, b->len);
    b->len = 0;
    cli_progress_page(&b->pr);
    return rc == CLI_EXIT_OK
               ? 0
               : print_failed(b, "cannot write to standard output");
}

static int call(const struct cli_opts *o, xmsg_params *p, const xmsg_message *m,
                xmsg_status *st)
{
    struct batch b = {p, NULL, 0, 0, st, {0}};
    xmsg_err err;

    if (o->batch || o->multi)
        return cli_send_batch(o, p, st);
    if (o->cmd == CLI_CMD_LISTEN)
        return cli_listen(o, p, st);
    if (o->cmd == CLI_CMD_REQUEST)
        return cli_request(p, m, st);
#ifdef XMSG_HAVE_OMEMO
    if (o->cmd == CLI_CMD_OMEMO)
        return cli_omemo(o, p, st);
#endif
    cli_progress_init(&b.pr, o);
    if (o->cmd == CLI_CMD_SEND)
        err = xmsg_send(p, m, st);
    else
        err = xmsg_connect_each(p, print_message, &b, st);
    cli_progress_end(&b.pr);
    free(b.buf);
    return cli_exit_code(err);
}

/* send: the progress of uploads shown around the call. */
static int call_send(const struct cli_opts *o, xmsg_params *p,
                     const xmsg_message *m, xmsg_status *st)
{
    struct cli_progress up;
    int rc;

    if (o->cmd != CLI_CMD_SEND)
        return call(o, p, m, st);
    cli_upload_progress(&up, o, p);
    rc = call(o, p, m, st);
    cli_upload_progress_end(&up);
    return rc;
}

/* One JSON line on stdout, the error (if any) on stderr. Returns rc, or
 * CLI_EXIT_INTERNAL when the status cannot be written. */
static int print_status(const xmsg_status *st, int rc)
{
    char *json = xmsg_status_to_json(st);
    int wrc;

    if (!json)
        return cli_oom();
    fputs(json, stdout);
    fputc('\n', stdout);
    xmsg_free(json);
    wrc = cli_flush_stdout();
    cli_err_status(st);
    return wrc != CLI_EXIT_OK ? wrc : rc;
}

static int run(const struct cli_opts *o)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p = xmsg_params_new();
    xmsg_message *m = NULL;
    int rc;

    if (!st || !p) {
        rc = cli_oom();
        goto out;
    }
    rc = load(o, p, &m, st);
    if (rc == CLI_EXIT_OK)
        rc = call_send(o, p, m, st);
    else if (xmsg_status_code(st) == XMSG_OK)
        goto out; /* failed before the library saw it; reported */
    rc = print_status(st, rc);
out:
    xmsg_message_free(m);
    xmsg_params_free(p);
    xmsg_status_free(st);
    return rc;
}

/* The password is in this process's memory: no core file may hold it. */
static void no_core_dumps(void)
{
    const struct rlimit zero = {0, 0};

    setrlimit(RLIMIT_CORE, &zero);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    struct cli_opts o;
    int rc;

    no_core_dumps();
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef XMSG_HAVE_OMEMO
    xmsg_omemo_init(); /* params omemo on the send path (static link) */
#endif
    rc = cli_parse(argc, argv, &o);
    if (rc == CLI_RUN && o.cmd == CLI_CMD_CONFIG)
        rc = cli_config_show(&o);
    else if (rc == CLI_RUN)
        rc = run(&o);
    cli_opts_free(&o);
    return rc;
}
