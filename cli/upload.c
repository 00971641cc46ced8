/* upload.c - xmsg send --file: the files go into the message (the library
 * uploads each, then sends its URL: see xmsg_message_add_file), and their
 * progress is shown on a terminal. */
#include <stdio.h>

#include "cli.h"

int cli_message_files(const struct cli_opts *o, xmsg_message *m,
                      xmsg_status *st)
{
    xmsg_err err = XMSG_OK;
    size_t i;

    for (i = 0; i < o->nfiles && !err; i++)
        err = xmsg_message_add_file(m, o->files[i], o->content_type, st);
    if (err && xmsg_status_code(st) == XMSG_OK)
        cli_err("%s", xmsg_strerror(err));
    return cli_exit_code(err);
}

static void on_progress(const char *path, int64_t sent, int64_t total,
                        void *userdata)
{
    cli_progress_upload(userdata, path, sent, total);
}

void cli_upload_progress(struct cli_progress *pr, const struct cli_opts *o,
                         xmsg_params *p)
{
    cli_progress_init(pr, o);
    if (pr->on)
        xmsg_params_set_progress(p, on_progress, pr);
}

void cli_upload_progress_end(struct cli_progress *pr)
{
    /* A file left unfinished: its line ends before the status. */
    if (pr->drawn)
        fputc('\n', stderr);
}
