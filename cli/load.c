/* load.c - builds the params and the message: files first, then options,
 * then the password and, for a message without one, the body from stdin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Applies the params file, read once into pf. */
static int params_file(const struct cli_buf *pf, xmsg_params *p,
                       xmsg_status *st)
{
    return lib_rc(xmsg_params_from_json(p, pf->data, st), st);
}

/* The jid the params file sets, owned, or NULL. */
static char *params_file_jid(const struct cli_buf *pf)
{
    xmsg_params *scratch = xmsg_params_new();
    xmsg_status *st = xmsg_status_new();
    char *jid = NULL;

    if (scratch && st && !xmsg_params_from_json(scratch, pf->data, st))
        jid = xmsg_params_get_text(scratch, "jid");
    xmsg_params_free(scratch);
    xmsg_status_free(st);
    return jid;
}

/* The value of the last --jid, or NULL. */
static const char *flag_jid(const struct cli_opts *o)
{
    const char *jid = NULL;
    size_t i;

    for (i = 0; i < o->nset; i++) {
        if (o->set[i].kind == CLI_SET_STR && !strcmp(o->set[i].name, "jid"))
            jid = o->set[i].str;
    }
    return jid;
}

/* The default account is for when the caller does not say who logs in:
 * a --jid or a params file's jid other than the account's sets it
 * aside (-a never is). */
static void set_aside_default(const struct cli_opts *o, struct cli_config *c,
                              const struct cli_buf *pf)
{
    const struct cli_cfg_entry *e;
    char *file_jid;
    const char *jid;

    if (!c->account || c->explicit_account)
        return;
    e = cli_config_get(c, c->account, "jid");
    file_jid = pf->data ? params_file_jid(pf) : NULL;
    jid = flag_jid(o) ? flag_jid(o) : file_jid;
    if (e && jid && strcmp(jid, e->value) != 0) {
        free(c->account);
        c->account = NULL;
    }
    xmsg_free(file_jid);
}

/* value with a leading "~/" made the home directory. Owned or NULL. */
static char *expand_home(const char *value)
{
    const char *home = getenv("HOME");

    if (strncmp(value, "~/", 2) || !home || !*home)
        return strdup(value);
    return cli_join(home, "/", value + 2);
}

static int is_path_key(const char *key)
{
    return !strcmp(key, "caFile") || !strcmp(key, "stateFile") ||
           !strcmp(key, "passwordFile") || !strcmp(key, "downloadDir");
}

/* "PATH:LINE", with " [account NAME]" in an account. Owned or NULL. */
static char *entry_source(const struct cli_config *c,
                          const struct cli_cfg_entry *e)
{
    char line[32];
    char *where, *all;

    snprintf(line, sizeof(line), ":%zu", e->line);
    where = cli_join(c->path ? c->path : "config", line, "");
    if (!where || !e->section)
        return where;
    all = cli_join(where, " [account ", e->section);
    free(where);
    where = all ? cli_join(all, "]", "") : NULL;
    free(all);
    return where;
}

static int trace_entry(struct cli_trace *tr, const struct cli_config *c,
                       const struct cli_cfg_entry *e, const xmsg_params *p)
{
    char *src;

    if (!tr)
        return CLI_EXIT_OK;
    src = entry_source(c, e);
    if (!src)
        return cli_oom();
    cli_trace_step(tr, p, src);
    free(src);
    return CLI_EXIT_OK;
}

/* One entry of the config into p (not a password source). */
static int apply_entry(const struct cli_config *c,
                       const struct cli_cfg_entry *e, xmsg_params *p,
                       xmsg_status *st, struct cli_trace *tr)
{
    char *value;
    xmsg_err err;

    value = is_path_key(e->key) ? expand_home(e->value) : strdup(e->value);
    if (!value)
        return cli_oom();
    err = xmsg_params_set_text(p, e->key, value, st);
    free(value);
    if (err)
        return lib_rc(err, st);
    return trace_entry(tr, c, e, p);
}

/* The entries of section (NULL: the defaults), password sources aside. */
static int apply_section(const struct cli_config *c, const char *section,
                         xmsg_params *p, xmsg_status *st, struct cli_trace *tr)
{
    size_t i;
    int rc = CLI_EXIT_OK;

    for (i = 0; i < c->n && rc == CLI_EXIT_OK; i++) {
        const struct cli_cfg_entry *e = &c->e[i];
        const int here =
            section ? e->section && !strcmp(e->section, section) : !e->section;

        if (here && *e->key && strcmp(e->key, "default") &&
            !cli_config_is_password_key(e->key))
            rc = apply_entry(c, e, p, st, tr);
    }
    return rc;
}

/* The params' timeout, for a passwordCommand. */
static long params_timeout(const xmsg_params *p)
{
    char *t = xmsg_params_get_text(p, "timeout");
    long v = 20;

    if (!t || cli_parse_long(t, &v))
        v = 20;
    xmsg_free(t);
    return v;
}

/* passwordFile or passwordCommand of the config into b. */
static int config_secret(const struct cli_config *c,
                         const struct cli_cfg_entry *e, const xmsg_params *p,
                         struct cli_buf *b, xmsg_status *st)
{
    char *path;
    int rc;

    if (!strcmp(e->key, "passwordCommand"))
        return cli_password_command(e->value, e->shell, params_timeout(p), b,
                                    st);
    path = expand_home(e->value);
    if (!path)
        return cli_oom();
    rc = cli_read_password(path, b);
    free(path);
    if (rc != CLI_EXIT_OK)
        return cli_config_fail(c, e->line, st,
                               "passwordFile: no password read from it");
    return rc;
}

/* The config's password source: the account's, else the defaults'. */
static int config_password(const struct cli_config *c, xmsg_params *p,
                           xmsg_status *st, struct cli_trace *tr)
{
    const struct cli_cfg_entry *e = NULL;
    struct cli_buf b = {NULL, 0};
    int rc;

    if (c->account)
        e = cli_config_password(c, c->account);
    if (!e)
        e = cli_config_password(c, NULL);
    if (!e)
        return CLI_EXIT_OK;
    if (!strcmp(e->key, "password")) {
        rc = lib_rc(xmsg_params_set_string(p, "password", e->value, st), st);
        return rc ? rc : trace_entry(tr, c, e, p);
    }
    if (tr) { /* xmsg config: tell, do not run */
        tr->password_note = entry_source(c, e);
        tr->password_key =
            strcmp(e->key, "passwordFile") ? "passwordCommand" : "passwordFile";
        return tr->password_note ? CLI_EXIT_OK : cli_oom();
    }
    rc = config_secret(c, e, p, &b, st);
    if (rc == CLI_EXIT_OK)
        rc = lib_rc(xmsg_params_set_string(p, "password", b.data, st), st);
    cli_buf_wipe(&b);
    return rc;
}

/* Precedence: --password-file, then XMSG_PASSWORD, then the params file
 * (already applied), then the config's. The library keeps a copy; ours
 * is wiped. */
static int apply_password(const struct cli_opts *o, const struct cli_config *c,
                          int in_params_file, xmsg_params *p, xmsg_status *st,
                          struct cli_trace *tr)
{
    struct cli_buf b = {NULL, 0};
    const char *env = getenv("XMSG_PASSWORD");
    int rc;

    if (o->password_file) {
        rc = cli_read_password(o->password_file, &b);
        if (rc)
            return rc;
        rc = lib_rc(xmsg_params_set_string(p, "password", b.data, st), st);
        cli_buf_wipe(&b);
        cli_trace_step(tr, p, "--password-file");
        return rc;
    }
    if (env && *env) {
        rc = lib_rc(xmsg_params_set_string(p, "password", env, st), st);
        cli_trace_step(tr, p, "XMSG_PASSWORD");
        return rc;
    }
    return in_params_file ? CLI_EXIT_OK : config_password(c, p, st, tr);
}

/* The CLI's defaults, which the config, a params file or an option
 * overrides: quiet (warnings and errors only; the library's own default
 * is debug); listen reconnects, and shares connect's checkpoint, except
 * when a filter leaves messages unprinted: connect must still hand those
 * over. */
static int cli_defaults(const struct cli_opts *o, xmsg_params *p,
                        xmsg_status *st)
{
    int rc = lib_rc(xmsg_params_set_int(p, "logLevel", XMSG_LOG_WARN, st), st);

    if (rc == CLI_EXIT_OK && o->cmd == CLI_CMD_LISTEN)
        rc = lib_rc(xmsg_params_set_bool(p, "reconnect", 1, st), st);
    if (rc == CLI_EXIT_OK && o->cmd == CLI_CMD_LISTEN && !o->only_from &&
        (!o->only_kind || !strcmp(o->only_kind, "message")))
        rc = lib_rc(xmsg_params_set_bool(p, "checkpoint", 1, st), st);
    return rc;
}

/* 1 when the password differs from before (owned; wiped and freed). */
static int changed(char *before, const xmsg_params *p)
{
    char *after = xmsg_params_get_text(p, "password");
    const int diff =
        (before || after) && (!before || !after || strcmp(before, after) != 0);

    if (before)
        cli_wipe(before, strlen(before));
    if (after)
        cli_wipe(after, strlen(after));
    xmsg_free(before);
    xmsg_free(after);
    return diff;
}

/* The params file, then the options; *pw_set when the file set the
 * password. */
static int apply_file_and_flags(const struct cli_opts *o,
                                const struct cli_buf *pf, xmsg_params *p,
                                xmsg_status *st, struct cli_trace *tr,
                                int *pw_set)
{
    int rc = CLI_EXIT_OK;

    if (pf->data) {
        char *before = xmsg_params_get_text(p, "password");

        rc = params_file(pf, p, st);
        *pw_set = changed(before, p);
        cli_trace_step(tr, p, "--params file");
    }
    if (rc == CLI_EXIT_OK)
        rc = apply_settings(o, p, NULL, st);
    cli_trace_step(tr, p, "command line");
    return rc;
}

static int room_password(xmsg_params *p, xmsg_status *st, struct cli_trace *tr)
{
    const char *env = getenv("XMSG_ROOM_PASSWORD");
    int rc;

    /* A room's password is a secret too: never a flag. */
    if (!env || !*env)
        return CLI_EXIT_OK;
    rc = lib_rc(xmsg_params_set_string(p, "roomPassword", env, st), st);
    cli_trace_step(tr, p, "XMSG_ROOM_PASSWORD");
    return rc;
}

/* Precedence, lowest first: the CLI's defaults, the config's defaults,
 * the account, the params file, the options; the password apart. */
int cli_load_params_traced(const struct cli_opts *o, xmsg_params *p,
                           xmsg_status *st, struct cli_trace *tr)
{
    struct cli_config c;
    struct cli_buf pf = {NULL, 0};
    int rc, pw_set = 0;

    cli_trace_step(tr, p, "default");
    rc = cli_config_load(o->account, &c, st);
    if (rc == CLI_EXIT_OK)
        rc = cli_defaults(o, p, st);
    cli_trace_step(tr, p, "default of the command line");
    if (rc == CLI_EXIT_OK && o->params_file)
        rc = cli_read_file(o->params_file, &pf);
    if (rc == CLI_EXIT_OK)
        set_aside_default(o, &c, &pf);
    if (rc == CLI_EXIT_OK)
        rc = apply_section(&c, NULL, p, st, tr);
    if (rc == CLI_EXIT_OK && c.account)
        rc = apply_section(&c, c.account, p, st, tr);
    if (rc == CLI_EXIT_OK)
        rc = apply_file_and_flags(o, &pf, p, st, tr, &pw_set);
    if (rc == CLI_EXIT_OK)
        rc = apply_password(o, &c, pw_set, p, st, tr);
    if (rc == CLI_EXIT_OK)
        rc = room_password(p, st, tr);
    if (tr && c.path)
        tr->config = strdup(c.path);
    if (tr && c.account)
        tr->account = strdup(c.account);
    cli_buf_wipe(&pf);
    cli_config_free(&c);
    return rc;
}

/* --download DIR is a directory before the login, rather than a
 * downloadError on every message the server hands over. */
static int download_dir_ok(const xmsg_params *p, xmsg_status *st)
{
    char *dir = xmsg_params_get_text(p, "downloadDir");
    const char *why = NULL;
    char text[1024];
    struct stat sb;

    if (dir && stat(dir, &sb) != 0)
        why = strerror(errno);
    else if (dir && !S_ISDIR(sb.st_mode))
        why = "not a directory";
    if (why) {
        snprintf(text, sizeof(text), "params.downloadDir: %s: %s", dir, why);
        xmsg_status_set_error(st, XMSG_ERR_INPUT, text);
    }
    xmsg_free(dir);
    return why ? cli_exit_code(XMSG_ERR_INPUT) : CLI_EXIT_OK;
}

/* The omemo actions that read or write the store alone: no login, so no
 * password (the store checks the jid). */
static int store_only(const struct cli_opts *o)
{
    static const char *const actions[] = {"fingerprint", "trust", "untrust"};
    size_t i;

    if (o->cmd != CLI_CMD_OMEMO || !o->omemo_action)
        return 0;
    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(o->omemo_action, actions[i]) == 0)
            return 1;
    return 0;
}

int cli_load_params(const struct cli_opts *o, xmsg_params *p, xmsg_status *st)
{
    int rc = cli_load_params_traced(o, p, st, NULL);

    /* Now, before a body is awaited on standard input. */
    if (rc == CLI_EXIT_OK && !store_only(o))
        rc = lib_rc(xmsg_params_check(p, st), st);
    if (rc == CLI_EXIT_OK)
        rc = download_dir_ok(p, st);
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
    if (o->recipients_file && strcmp(o->recipients_file, "-") == 0)
        return "--recipients";
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
           !xmsg_message_get(m, "body") && !xmsg_message_get(m, "payload") &&
           !xmsg_message_file_count(m);
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
    if (rc == CLI_EXIT_OK)
        rc = cli_message_files(o, m, st);
    if (rc == CLI_EXIT_OK && wants_body(m))
        rc = body_from_stdin(o, m, st);
    return rc;
}

int cli_load_defaults(const struct cli_opts *o, xmsg_message *m,
                      xmsg_status *st)
{
    int rc = apply_settings(o, NULL, m, st);

    return rc == CLI_EXIT_OK ? cli_message_files(o, m, st) : rc;
}
