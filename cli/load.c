/* load.c - builds the params and the message: files first, then options,
 * then the password and, for a message without one, the body from stdin.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The exit code of a library result. A failure the library could not
 * record in st (out of memory) is reported here. */
static int lib_rc(xmsg_err err, const xmsg_status *st)
{
    if (err != XMSG_OK && xmsg_status_code(st) == XMSG_OK)
        cli_err("%s", xmsg_strerror(err));
    return cli_exit_code(err);
}

/* Applies the settings for p (when p is not NULL) or for m. */
static xmsg_err apply_setting(const struct cli_setting *s, xmsg_params *p,
                              xmsg_message *m, xmsg_status *st)
{
    if (m && s->kind == CLI_SET_MSG)
        return xmsg_message_set(m, s->name, s->str, st);
    if (m)
        return XMSG_OK;
    switch (s->kind) {
    case CLI_SET_STR:
        return xmsg_params_set_string(p, s->name, s->str, st);
    case CLI_SET_INT:
        return xmsg_params_set_int(p, s->name, s->num, st);
    case CLI_SET_BOOL:
        return xmsg_params_set_bool(p, s->name, (int)s->num, st);
    case CLI_SET_MSG:
        break;
    }
    return XMSG_OK;
}

static int apply_settings(const struct cli_opts *o, xmsg_params *p,
                          xmsg_message *m, xmsg_status *st)
{
    size_t i;
    xmsg_err err = XMSG_OK;

    for (i = 0; i < o->nset && err == XMSG_OK; i++)
        err = apply_setting(&o->set[i], p, m, st);
    return lib_rc(err, st);
}

static int params_file(const char *path, xmsg_params *p, xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    int rc = cli_read_file(path, &b);

    if (rc)
        return rc;
    rc = lib_rc(xmsg_params_from_json(p, b.data, st), st);
    cli_buf_wipe(&b);
    return rc;
}

/* Precedence: --password-file, then XMSG_PASSWORD, then the params file
 * (already applied). The library keeps a copy; ours is wiped. */
static int apply_password(const struct cli_opts *o, xmsg_params *p,
                          xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    const char *env = getenv("XMSG_PASSWORD");
    int rc;

    if (!o->password_file) {
        if (!env || !*env)
            return CLI_EXIT_OK;
        return lib_rc(xmsg_params_set_string(p, "password", env, st), st);
    }
    rc = cli_read_password(o->password_file, &b);
    if (rc)
        return rc;
    rc = lib_rc(xmsg_params_set_string(p, "password", b.data, st), st);
    cli_buf_wipe(&b);
    return rc;
}

int cli_load_params(const struct cli_opts *o, xmsg_params *p, xmsg_status *st)
{
    int rc = CLI_EXIT_OK;

    /* The CLI's defaults, which a params file or an option overrides:
     * quiet (warnings and errors only; the library's own default is
     * debug); listen reconnects, and shares connect's checkpoint, except
     * when a filter leaves messages unprinted: connect must still hand
     * those over. */
    rc = lib_rc(xmsg_params_set_int(p, "logLevel", XMSG_LOG_WARN, st), st);
    if (rc == CLI_EXIT_OK && o->cmd == CLI_CMD_LISTEN)
        rc = lib_rc(xmsg_params_set_bool(p, "reconnect", 1, st), st);
    if (rc == CLI_EXIT_OK && o->cmd == CLI_CMD_LISTEN && !o->only_from &&
        (!o->only_kind || !strcmp(o->only_kind, "message")))
        rc = lib_rc(xmsg_params_set_bool(p, "checkpoint", 1, st), st);
    if (rc == CLI_EXIT_OK && o->params_file)
        rc = params_file(o->params_file, p, st);
    if (rc == CLI_EXIT_OK)
        rc = apply_settings(o, p, NULL, st);
    if (rc == CLI_EXIT_OK)
        rc = apply_password(o, p, st);
    /* A room's password is a secret too: never a flag. */
    if (rc == CLI_EXIT_OK && getenv("XMSG_ROOM_PASSWORD") &&
        *getenv("XMSG_ROOM_PASSWORD"))
        rc = lib_rc(xmsg_params_set_string(p, "roomPassword",
                                           getenv("XMSG_ROOM_PASSWORD"), st),
                    st);
    /* Now, before a body is awaited on standard input. */
    if (rc == CLI_EXIT_OK)
        rc = lib_rc(xmsg_params_check(p, st), st);
    return rc;
}

static int message_file(const char *path, xmsg_message *m, xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    int rc = cli_read_file(path, &b);

    if (rc)
        return rc;
    rc = lib_rc(xmsg_message_from_json(m, b.data, st), st);
    cli_buf_wipe(&b);
    return rc;
}

/* Names the option that already took standard input, or NULL. */
static const char *stdin_taken_by(const struct cli_opts *o)
{
    if (o->params_file && strcmp(o->params_file, "-") == 0)
        return "--params";
    if (o->message_file && strcmp(o->message_file, "-") == 0)
        return "--message";
    if (o->password_file && strcmp(o->password_file, "-") == 0)
        return "--password-file";
    return NULL;
}

/* The body is all of stdin, less one trailing newline; never empty. */
static int body_from_stdin(const struct cli_opts *o, xmsg_message *m,
                           xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    const char *taken = stdin_taken_by(o);
    int rc;

    if (taken) {
        cli_err("no message body: give --body or a \"body\" in the message "
                "file (standard input is taken by %s)",
                taken);
        return CLI_EXIT_INPUT;
    }
    if (isatty(STDIN_FILENO))
        cli_err("reading the message body from the terminal; end it with "
                "Ctrl-D");
    rc = cli_read_file("-", &b);
    if (rc)
        return rc;
    if (b.len > 0 && b.data[b.len - 1] == '\n')
        b.data[--b.len] = '\0';
    if (b.len == 0) {
        cli_err("empty message body on standard input");
        rc = CLI_EXIT_INPUT;
    } else {
        rc = lib_rc(xmsg_message_set(m, "body", b.data, st), st);
    }
    cli_buf_wipe(&b);
    return rc;
}

/* send --raw: the stanza is the text of --message FILE or of stdin. */
static int raw_stanza(const struct cli_opts *o, xmsg_message *m,
                      xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    int rc = cli_read_file(o->message_file ? o->message_file : "-", &b);

    if (rc)
        return rc;
    rc = lib_rc(xmsg_message_set(m, "kind", "raw", st), st);
    if (rc == CLI_EXIT_OK)
        rc = lib_rc(xmsg_message_set(m, "xml", b.data, st), st);
    cli_buf_wipe(&b);
    return rc;
}

/* Only a <message/> without a payload takes its body from stdin. */
static int wants_body(const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");

    return (!kind || strcmp(kind, "message") == 0) &&
           !xmsg_message_get(m, "body") && !xmsg_message_get(m, "payload");
}

int cli_load_message(const struct cli_opts *o, xmsg_message *m, xmsg_status *st)
{
    int rc = CLI_EXIT_OK;

    if (o->raw)
        return raw_stanza(o, m, st);
    if (o->message_file)
        rc = message_file(o->message_file, m, st);
    if (rc == CLI_EXIT_OK)
        rc = apply_settings(o, NULL, m, st);
    if (rc == CLI_EXIT_OK && wants_body(m))
        rc = body_from_stdin(o, m, st);
    return rc;
}

int cli_load_defaults(const struct cli_opts *o, xmsg_message *m,
                      xmsg_status *st)
{
    return apply_settings(o, NULL, m, st);
}
