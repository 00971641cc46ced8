/* opts.c - the option table and the command line parser.
 *
 * One static table lists every option of every command; getopt_long's
 * table, the short option string and the --help text are all derived from
 * it. Options are recorded as settings and applied after the files.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SEND CLI_CMD_BIT(CLI_CMD_SEND)
#define CONNECT CLI_CMD_BIT(CLI_CMD_CONNECT)
#define LISTEN CLI_CMD_BIT(CLI_CMD_LISTEN)
#define REQUEST CLI_CMD_BIT(CLI_CMD_REQUEST)
#define MSG (SEND | REQUEST)
#define BOTH CLI_CMDS_ALL
#define REQ required_argument

/* Values of the options without a short letter. */
enum {
    OPT_PARAMS = 256,
    OPT_MESSAGE,
    OPT_PASSWORD_FILE,
    OPT_CA_FILE,
    OPT_INSECURE,
    OPT_NO_TLS,
    OPT_LEGACY_TLS,
    OPT_ALLOW_PLAINTEXT,
    OPT_LEGACY_AUTH,
    OPT_KEEPALIVE,
    OPT_TYPE,
    OPT_ID,
    OPT_FROM,
    OPT_LANG,
    OPT_ATTR,
    OPT_STATE_FILE,
    OPT_PAGE_SIZE,
    OPT_NO_MAM,
    OPT_DOWNLOAD,
    OPT_DOWNLOAD_MAX,
    OPT_PIN,
    OPT_BATCH,
    OPT_WINDOW,
    OPT_RAW,
    OPT_KIND,
    OPT_PAYLOAD,
    OPT_THREAD,
    OPT_SHOW,
    OPT_STATUS,
    OPT_COUNT,
    OPT_IDLE,
    OPT_DURATION,
    OPT_ONLY_TYPE,
    OPT_ONLY_FROM,
    OPT_NO_PRESENCE,
    OPT_ROOM,
    OPT_NICK,
    OPT_NO_RECONNECT,
    OPT_SUBJECT,
    OPT_RECIPIENTS,
    OPT_NO_PROGRESS,
    OPT_FILE,
    OPT_CONTENT_TYPE,
    OPT_OMEMO,
    OPT_OMEMO_RECV
};

const struct cli_optdef cli_optdefs[] = {
    {"help", 'h', no_argument, BOTH, CLI_ACT_HELP, NULL, NULL,
     "show this help and exit"},
    {"params", OPT_PARAMS, REQ, BOTH, CLI_ACT_PARAMS_FILE, NULL, "FILE",
     "params as a JSON object in FILE ('-': stdin)"},
    {"account", 'a', REQ, BOTH, CLI_ACT_ACCOUNT, NULL, "NAME",
     "use account NAME of the config file (see xmsg-config(5))"},
    {"jid", 'j', REQ, BOTH, CLI_ACT_PARAM_STR, "jid", "JID",
     "account to log in as, user@domain[/resource]"},
    {"password-file", OPT_PASSWORD_FILE, REQ, BOTH, CLI_ACT_PASSWORD_FILE, NULL,
     "FILE", "read the password from the first line of FILE"},
    {"host", 'H', REQ, BOTH, CLI_ACT_PARAM_STR, "host", "HOST",
     "server to connect to (default: the JID's domain)"},
    {"port", 'P', REQ, BOTH, CLI_ACT_PARAM_INT, "port", "N",
     "server port (default 5222)"},
    {"timeout", 'T', REQ, BOTH, CLI_ACT_PARAM_INT, "timeout", "S",
     "the server's time: give up when it has not delivered what it owes "
     "within S seconds of the start or of its last delivery (default 20)"},
    {"ca-file", OPT_CA_FILE, REQ, BOTH, CLI_ACT_PARAM_STR, "caFile", "F",
     "CA certificates (PEM) to verify the server with"},
    {"pin", OPT_PIN, REQ, BOTH, CLI_ACT_PARAM_STR, "pin", "sha256//B64[;...]",
     "accept only a server key with one of these SHA-256 pins"},
    {"insecure", OPT_INSECURE, no_argument, BOTH, CLI_ACT_PARAM_TRUE,
     "trustTLS", NULL, "do not verify the server's certificate"},
    {"no-tls", OPT_NO_TLS, no_argument, BOTH, CLI_ACT_PARAM_TRUE, "disableTLS",
     NULL, "never use TLS: send everything in clear text"},
    {"legacy-tls", OPT_LEGACY_TLS, no_argument, BOTH, CLI_ACT_PARAM_TRUE,
     "legacyTLS", NULL, "TLS from the first byte (port 5223 servers)"},
    {"allow-plaintext", OPT_ALLOW_PLAINTEXT, no_argument, BOTH,
     CLI_ACT_PARAM_FALSE, "mandatoryTLS", NULL,
     "go on unencrypted when the server offers no TLS"},
    {"legacy-auth", OPT_LEGACY_AUTH, no_argument, BOTH, CLI_ACT_PARAM_TRUE,
     "enableLegacyAuth", NULL, "allow legacy (XEP-0078) authentication"},
    {"keepalive", OPT_KEEPALIVE, optional_argument, BOTH, CLI_ACT_KEEPALIVE,
     NULL, "[=IDLE[,INTERVAL]]", "TCP keepalive (default 60,1 seconds)"},
    {"log-level", 'l', REQ, BOTH, CLI_ACT_LOG_LEVEL, "logLevel", "L",
     "debug, info, warn, error or 0-3 (default warn)"},
    {"verbose", 'v', no_argument, BOTH, CLI_ACT_VERBOSE, "logLevel", NULL,
     "log more: -v info, -vv debug (raw XML, secrets redacted)"},
    {"quiet", 'q', no_argument, BOTH, CLI_ACT_QUIET, "logLevel", NULL,
     "no progress line, and only errors in the log"},
    {"no-progress", OPT_NO_PROGRESS, no_argument, BOTH, CLI_ACT_NO_PROGRESS,
     NULL, NULL, "no progress line on a terminal's stderr (connect, batches)"},
    {"state-file", OPT_STATE_FILE, REQ, CONNECT | LISTEN, CLI_ACT_PARAM_STR,
     "stateFile", "F",
     "checkpoint file (default $XDG_STATE_HOME/xmsg/JID.json)"},
    {"page-size", OPT_PAGE_SIZE, REQ, CONNECT, CLI_ACT_PARAM_INT, "pageSize",
     "N", "archive messages per page and checkpoint (default 100)"},
    {"no-mam", OPT_NO_MAM, no_argument, CONNECT | LISTEN, CLI_ACT_PARAM_FALSE,
     "mam", NULL,
     "drain offline storage only (at most once); listen: share no "
     "checkpoint"},
    {"download", OPT_DOWNLOAD, REQ, CONNECT | LISTEN, CLI_ACT_PARAM_STR,
     "downloadDir", "DIR",
     "fetch each received file (its url) into DIR, never over a file; "
     "the message gets file, or downloadError"},
    {"download-max", OPT_DOWNLOAD_MAX, REQ, CONNECT | LISTEN, CLI_ACT_PARAM_INT,
     "downloadMax", "BYTES",
     "--download: a larger file is refused (default 104857600, 100 MiB)"},
    {"message", OPT_MESSAGE, REQ, MSG, CLI_ACT_MESSAGE_FILE, NULL, "FILE",
     "the message as a JSON object in FILE ('-': stdin); with --batch, "
     "a JSON array of them"},
    {"batch", OPT_BATCH, no_argument, SEND, CLI_ACT_BATCH, NULL, NULL,
     "send every message object of standard input (JSON Lines) over one "
     "connection; message options fill in what a line lacks"},
    {"raw", OPT_RAW, no_argument, SEND, CLI_ACT_RAW, NULL, NULL,
     "send one XML stanza (message, presence or iq) read from --message "
     "FILE or standard input"},
    {"window", OPT_WINDOW, REQ, SEND, CLI_ACT_PARAM_INT, "window", "N",
     "--batch: messages awaiting the server's ack at most (default 64)"},
    {"to", 't', REQ, MSG, CLI_ACT_MSG, "to", "JID",
     "recipient (required; send: repeatable, one login, one result line "
     "each)"},
    {"recipients", OPT_RECIPIENTS, REQ, SEND, CLI_ACT_RECIPIENTS, NULL, "FILE",
     "send to every JID of FILE too (one a line, # comments; '-': stdin)"},
    {"subject", OPT_SUBJECT, REQ, MSG, CLI_ACT_MSG, "subject", "TEXT",
     "the message's subject"},
    {"body", 'm', REQ, MSG, CLI_ACT_MSG, "body", "TEXT",
     "message text (default: all of standard input; with --file, the "
     "caption)"},
    {"file", OPT_FILE, REQ, SEND, CLI_ACT_FILE, NULL, "PATH",
     "upload PATH (HTTP File Upload) and send its URL (repeatable: a message "
     "per file)"},
    {"content-type", OPT_CONTENT_TYPE, REQ, SEND, CLI_ACT_CONTENT_TYPE, NULL,
     "TYPE", "--file: the files' content type (default: from the name)"},
#ifdef XMSG_HAVE_OMEMO
    {"omemo", OPT_OMEMO, optional_argument, SEND, CLI_ACT_OMEMO, "omemo",
     "[=MODE]",
     "encrypt each body with OMEMO to every device of its recipient (with "
     "--room: of every member of a members-only, non-anonymous room): "
     "required (default: never in clear) or optional (in clear to a "
     "recipient without OMEMO, said in its result); --file: encrypted files "
     "(aesgcm://)"},
    {"omemo", OPT_OMEMO_RECV, no_argument, CONNECT | LISTEN, CLI_ACT_PARAM_TRUE,
     "omemo", NULL,
     "decrypt OMEMO messages (params omemo): the text as body, "
     "\"encrypted\": \"omemo\", senderDevice, fingerprint; or "
     "decryptError"},
#endif
    {"type", OPT_TYPE, REQ, MSG, CLI_ACT_MSG, "type", "T",
     "message type: chat (default), normal, headline (notifications: "
     "never stored offline), groupchat"},
    {"id", OPT_ID, REQ, MSG, CLI_ACT_MSG, "id", "ID",
     "stanza id (default: a fresh UUID)"},
    {"from", OPT_FROM, REQ, MSG, CLI_ACT_MSG, "from", "JID",
     "sender address (default: the JID)"},
    {"lang", OPT_LANG, REQ, MSG, CLI_ACT_MSG, "xml:lang", "L",
     "language of the body, xml:lang (default en)"},
    {"attr", OPT_ATTR, REQ, MSG, CLI_ACT_ATTR, NULL, "NAME=VALUE",
     "add attribute NAME to <message/> (repeatable)"},
    {"kind", OPT_KIND, REQ, MSG, CLI_ACT_MSG, "kind", "K",
     "message (default), presence or iq"},
    {"payload", OPT_PAYLOAD, REQ, MSG, CLI_ACT_MSG, "payload", "XML",
     "child elements to add (an iq's query)"},
    {"thread", OPT_THREAD, REQ, MSG, CLI_ACT_MSG, "thread", "T",
     "the message's thread"},
    {"show", OPT_SHOW, REQ, MSG, CLI_ACT_MSG, "show", "S",
     "presence: away, chat, dnd or xa"},
    {"status", OPT_STATUS, REQ, MSG, CLI_ACT_MSG, "status", "TEXT",
     "presence: the status text"},
    {"count", OPT_COUNT, REQ, LISTEN, CLI_ACT_COUNT, NULL, "N",
     "stop after N stanzas"},
    {"until-idle", OPT_IDLE, REQ, LISTEN, CLI_ACT_IDLE, NULL, "S",
     "stop after S seconds without a stanza"},
    {"duration", OPT_DURATION, REQ, LISTEN, CLI_ACT_DURATION, NULL, "S",
     "stop after listening S seconds"},
    {"type", OPT_ONLY_TYPE, REQ, LISTEN, CLI_ACT_FILTER_TYPE, NULL, "KIND",
     "print (and --count) only message, presence or iq stanzas, or all "
     "(default message)"},
    {"from", OPT_ONLY_FROM, REQ, LISTEN, CLI_ACT_FILTER_FROM, NULL, "JID",
     "print only stanzas from JID (bare: any of its resources)"},
    {"room", OPT_ROOM, REQ, SEND | LISTEN, CLI_ACT_PARAM_STR, "room", "ROOM",
     "group chat: join room@service, send or listen there, leave "
     "(password: XMSG_ROOM_PASSWORD or roomPassword)"},
    {"nick", OPT_NICK, REQ, SEND | LISTEN, CLI_ACT_PARAM_STR, "nick", "NICK",
     "our nick in the room (default: the JID's local part)"},
    {"no-reconnect", OPT_NO_RECONNECT, no_argument, LISTEN, CLI_ACT_PARAM_FALSE,
     "reconnect", NULL,
     "end (exit 3) when the connection is lost, instead of logging in "
     "again and catching up from the archive"},
    {"no-presence", OPT_NO_PRESENCE, no_argument, LISTEN, CLI_ACT_NO_PRESENCE,
     NULL, NULL,
     "do not send presence (messages to the bare JID then go offline)"},
};

#define OPTDEF_COUNT (sizeof(cli_optdefs) / sizeof(cli_optdefs[0]))
#define OPTDEF_MAX 56
_Static_assert(OPTDEF_COUNT <= OPTDEF_MAX, "raise OPTDEF_MAX");

const size_t cli_optdef_count = OPTDEF_COUNT;

/* ---- settings ---- */

/* Appends a zeroed setting; NULL when out of memory. */
static struct cli_setting *push_setting(struct cli_opts *o)
{
    struct cli_setting *n;
    size_t ncap;

    if (o->nset == o->capset) {
        ncap = o->capset ? o->capset * 2 : 8;
        n = realloc(o->set, ncap * sizeof(*n));
        if (!n)
            return NULL;
        o->set = n;
        o->capset = ncap;
    }
    n = &o->set[o->nset++];
    memset(n, 0, sizeof(*n));
    return n;
}

static int add_setting(struct cli_opts *o, enum cli_set_kind kind,
                       const char *name, const char *str, long num)
{
    struct cli_setting *s = push_setting(o);

    if (!s)
        return cli_oom();
    s->kind = kind;
    s->name = name;
    s->str = str;
    s->num = num;
    return CLI_RUN;
}

void cli_opts_free(struct cli_opts *o)
{
    size_t i;

    for (i = 0; i < o->nset; i++)
        free(o->set[i].owned);
    free(o->set);
    o->set = NULL;
    free(o->files);
    o->files = NULL;
    o->nfiles = 0;
    o->nset = o->capset = 0;
}

/* send --file PATH (borrowed from argv). */
static int add_file(struct cli_opts *o, const char *path)
{
    const char **v = realloc(o->files, (o->nfiles + 1) * sizeof(*v));

    if (!v)
        return cli_oom();
    v[o->nfiles++] = path;
    o->files = v;
    return CLI_RUN;
}

/* ---- numbers ---- */

/* Parses a decimal long at the start of s; *end gets what follows. */
static int parse_long_prefix(const char *s, long *out, const char **end)
{
    const int sign = (s[0] == '-' || s[0] == '+');
    char *e;
    long v;

    if (!isdigit((unsigned char)s[sign]))
        return -1;
    errno = 0;
    v = strtol(s, &e, 10);
    if (errno)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

int cli_parse_long(const char *s, long *out)
{
    const char *end;
    long v;

    if (parse_long_prefix(s, &v, &end) || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int bad_value(const struct cli_optdef *d, const char *arg)
{
    cli_err("invalid value '%s' for --%s", arg, d->name);
    return cli_usage_hint();
}

/* ---- one option each ---- */

static int add_number(struct cli_opts *o, const struct cli_optdef *d,
                      const char *arg)
{
    long v;

    if (cli_parse_long(arg, &v))
        return bad_value(d, arg);
    return add_setting(o, CLI_SET_INT, d->key, NULL, v);
}

/* A number goes to the int setter, a name to the string setter. */
static int add_log_level(struct cli_opts *o, const struct cli_optdef *d,
                         const char *arg)
{
    if (isdigit((unsigned char)arg[0]) || arg[0] == '-' || arg[0] == '+')
        return add_number(o, d, arg);
    return add_setting(o, CLI_SET_STR, d->key, arg, 0);
}

/* -v: info, -vv (and more): debug. Recorded like -l, so that the last of
 * -l and -v given wins. */
static int add_verbose(struct cli_opts *o, const struct cli_optdef *d)
{
    const long level = ++o->verbose >= 2 ? XMSG_LOG_DEBUG : XMSG_LOG_INFO;

    return add_setting(o, CLI_SET_INT, d->key, NULL, level);
}

/* --keepalive[=IDLE[,INTERVAL]] */
static int add_keepalive(struct cli_opts *o, const struct cli_optdef *d,
                         const char *arg)
{
    const char *end;
    long idle, interval;
    int rc = add_setting(o, CLI_SET_BOOL, "keepAlive", NULL, 1);

    if (rc != CLI_RUN || !arg)
        return rc;
    if (parse_long_prefix(arg, &idle, &end) || (*end && *end != ','))
        return bad_value(d, arg);
    rc = add_setting(o, CLI_SET_INT, "keepAliveTimeout", NULL, idle);
    if (rc != CLI_RUN || *end == '\0')
        return rc;
    if (cli_parse_long(end + 1, &interval))
        return bad_value(d, arg);
    return add_setting(o, CLI_SET_INT, "keepAliveInterval", NULL, interval);
}

/* --attr NAME=VALUE: the setting owns a copy split at the '='. */
static int add_attr(struct cli_opts *o, const struct cli_optdef *d,
                    const char *arg)
{
    const char *eq = strchr(arg, '=');
    struct cli_setting *s;
    char *copy;

    if (!eq)
        return bad_value(d, arg);
    copy = strdup(arg);
    if (!copy)
        return cli_oom();
    s = push_setting(o);
    if (!s) {
        free(copy);
        return cli_oom();
    }
    copy[eq - arg] = '\0';
    s->kind = CLI_SET_MSG;
    s->name = copy;
    s->str = copy + (eq - arg) + 1;
    s->owned = copy;
    return CLI_RUN;
}

static int positive(const struct cli_optdef *d, const char *arg, long *out)
{
    if (cli_parse_long(arg, out) || *out < 1)
        return bad_value(d, arg);
    return CLI_RUN;
}

static int apply_listen_option(struct cli_opts *o, const struct cli_optdef *d,
                               const char *arg)
{
    switch (d->act) {
    case CLI_ACT_RAW:
        o->raw = 1;
        return CLI_RUN;
    case CLI_ACT_COUNT:
        return positive(d, arg, &o->count);
    case CLI_ACT_IDLE:
        return positive(d, arg, &o->idle);
    case CLI_ACT_DURATION:
        return positive(d, arg, &o->duration);
    case CLI_ACT_FILTER_TYPE:
        o->only_kind = NULL;
        if (strcmp(arg, "all") == 0)
            return CLI_RUN;
        if (strcmp(arg, "message") && strcmp(arg, "presence") &&
            strcmp(arg, "iq"))
            return bad_value(d, arg);
        o->only_kind = arg;
        return CLI_RUN;
    case CLI_ACT_FILTER_FROM:
        o->only_from = arg;
        return CLI_RUN;
    case CLI_ACT_NO_PRESENCE:
        o->no_presence = 1;
        return CLI_RUN;
    default:
        break;
    }
    cli_err("internal error: option --%s has no action", d->name);
    return CLI_EXIT_INTERNAL;
}

static int apply_option(struct cli_opts *o, const struct cli_optdef *d,
                        const char *arg)
{
    switch (d->act) {
    case CLI_ACT_HELP:
        return cli_help_command(o->cmd);
    case CLI_ACT_PARAMS_FILE:
        o->params_file = arg;
        return CLI_RUN;
    case CLI_ACT_MESSAGE_FILE:
        o->message_file = arg;
        return CLI_RUN;
    case CLI_ACT_PASSWORD_FILE:
        o->password_file = arg;
        return CLI_RUN;
    case CLI_ACT_ACCOUNT:
        o->account = arg;
        return CLI_RUN;
    case CLI_ACT_RECIPIENTS:
        o->recipients_file = arg;
        return CLI_RUN;
    case CLI_ACT_FILE:
        return add_file(o, arg);
    case CLI_ACT_CONTENT_TYPE:
        o->content_type = arg;
        return CLI_RUN;
    case CLI_ACT_OMEMO:
        if (arg && strcmp(arg, "required") != 0 && strcmp(arg, "optional")) {
            cli_err("--omemo=%s: required or optional", arg);
            return cli_usage_hint();
        }
        o->omemo = 1;
        return add_setting(o, CLI_SET_STR, d->key, arg ? arg : "required", 0);
    case CLI_ACT_NO_PROGRESS:
        o->no_progress = 1;
        return CLI_RUN;
    case CLI_ACT_QUIET:
        o->no_progress = 1;
        return add_setting(o, CLI_SET_INT, d->key, NULL, XMSG_LOG_ERROR);
    case CLI_ACT_PARAM_STR:
        return add_setting(o, CLI_SET_STR, d->key, arg, 0);
    case CLI_ACT_PARAM_INT:
        return add_number(o, d, arg);
    case CLI_ACT_PARAM_TRUE:
    case CLI_ACT_PARAM_FALSE:
        return add_setting(o, CLI_SET_BOOL, d->key, NULL,
                           d->act == CLI_ACT_PARAM_TRUE);
    case CLI_ACT_LOG_LEVEL:
        return add_log_level(o, d, arg);
    case CLI_ACT_VERBOSE:
        return add_verbose(o, d);
    case CLI_ACT_KEEPALIVE:
        return add_keepalive(o, d, arg);
    case CLI_ACT_MSG:
        return add_setting(o, CLI_SET_MSG, d->key, arg, 0);
    case CLI_ACT_ATTR:
        return add_attr(o, d, arg);
    case CLI_ACT_BATCH:
        o->batch = 1;
        return CLI_RUN;
    default:
        return apply_listen_option(o, d, arg);
    }
    cli_err("internal error: option --%s has no action", d->name);
    return CLI_EXIT_INTERNAL;
}

/* ---- getopt ---- */

/* Fills getopt_long's table and short string with cmd's options. */
static void build_tables(enum cli_cmd cmd, struct option *lo, char *shorts)
{
    size_t i, n = 0;

    *shorts++ = ':';
    for (i = 0; i < OPTDEF_COUNT; i++) {
        const struct cli_optdef *d = &cli_optdefs[i];

        if (!(d->cmds & CLI_CMD_BIT(cmd)))
            continue;
        lo[n].name = d->name;
        lo[n].has_arg = d->has_arg;
        lo[n].flag = NULL;
        lo[n++].val = d->val;
        if (d->val < 256) {
            *shorts++ = (char)d->val;
            if (d->has_arg == REQ)
                *shorts++ = ':';
        }
    }
    memset(&lo[n], 0, sizeof(lo[n]));
    *shorts = '\0';
}

static const struct cli_optdef *find_optdef(int val)
{
    size_t i;

    for (i = 0; i < OPTDEF_COUNT; i++) {
        if (cli_optdefs[i].val == val)
            return &cli_optdefs[i];
    }
    return NULL;
}

/* Reports the option getopt_long just refused (c is '?' or ':'). */
static int bad_option(char **argv, int c)
{
    const char *tok = argv[optind - 1];
    const int is_short =
        optopt > 0 && optopt < 256 && strncmp(tok, "--", 2) != 0;

    if (c == ':' && is_short)
        cli_err("option '-%c' requires an argument", optopt);
    else if (c == ':')
        cli_err("option '%s' requires an argument", tok);
    else if (is_short)
        cli_err("unknown option '-%c'", optopt);
    else
        cli_err("unknown or invalid option '%s'", tok);
    return cli_usage_hint();
}

/* A batch gives each message its own id. */
static int check_batch(const struct cli_opts *o)
{
    size_t i;

    for (i = 0; o->raw && i < o->nset; i++) {
        if (o->set[i].kind == CLI_SET_MSG || o->batch) {
            cli_err("--raw takes the whole stanza: it goes with neither "
                    "message options nor --batch");
            return cli_usage_hint();
        }
    }
    if (o->raw && o->batch) {
        cli_err("--raw goes with neither message options nor --batch");
        return cli_usage_hint();
    }
    for (i = 0; o->batch && i < o->nset; i++) {
        if (o->set[i].kind == CLI_SET_MSG && !strcmp(o->set[i].name, "id")) {
            cli_err("--id cannot go with --batch: each message needs its "
                    "own id (put \"id\" in the message objects)");
            return cli_usage_hint();
        }
    }
    return CLI_RUN;
}

/* Several -t or --recipients: copies of one message, as a batch. */
static int check_multi(struct cli_opts *o)
{
    size_t i, n = 0;

    for (i = 0; i < o->nset; i++)
        n += o->set[i].kind == CLI_SET_MSG && !strcmp(o->set[i].name, "to");
    o->multi = n > 1 || o->recipients_file;
    if ((o->nfiles || o->content_type) && (o->raw || !o->nfiles)) {
        cli_err("--file does not go with --raw; --content-type needs "
                "--file");
        return cli_usage_hint();
    }
    if (o->omemo && o->raw) {
        cli_err("--omemo does not go with --raw");
        return cli_usage_hint();
    }
    if (o->omemo && cli_opts_has(o, "room") && cli_opts_has(o, "to")) {
        cli_err("--omemo --room sends to the room's members: no -t");
        return cli_usage_hint();
    }
    if (!o->multi)
        return CLI_RUN;
    if (o->batch || o->raw || cli_opts_has(o, "room")) {
        cli_err("several recipients (-t, --recipients) go with neither "
                "--batch, --raw nor --room");
        return cli_usage_hint();
    }
    if (cli_opts_has(o, "id")) {
        cli_err("--id cannot go with several recipients: each message "
                "needs its own id");
        return cli_usage_hint();
    }
    return CLI_RUN;
}

/* At most one input can be standard input. */
static int check_stdin(struct cli_opts *o)
{
    const char *const files[] = {o->params_file, o->message_file,
                                 o->password_file, o->recipients_file};
    size_t i, n = (o->batch || o->raw) && !o->message_file;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        n += files[i] && strcmp(files[i], "-") == 0;
    if (n <= 1 && check_batch(o) == CLI_RUN)
        return check_multi(o);
    if (n <= 1)
        return CLI_EXIT_INPUT;
    cli_err("only one of --params, --message, --password-file, --recipients "
            "and --batch can read standard input");
    return cli_usage_hint();
}

/* argv[0] is the command's name. */
static int parse_command(int argc, char **argv, struct cli_opts *o)
{
    struct option lo[OPTDEF_MAX + 1];
    char shorts[2 + 2 * OPTDEF_MAX];
    int c, rc;

    /* omemo takes the options of connect (an account, its connection). */
    build_tables(o->cmd == CLI_CMD_OMEMO ? CLI_CMD_CONNECT : o->cmd, lo,
                 shorts);
    /* listen prints messages unless --type says otherwise. */
    if (o->cmd == CLI_CMD_LISTEN)
        o->only_kind = "message";
    optind = 0; /* glibc: start afresh on this argv, at argv[1] */
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const struct cli_optdef *d = find_optdef(c);

        if (c == '?' || c == ':' || !d)
            return bad_option(argv, c);
        rc = apply_option(o, d, optarg);
        if (rc != CLI_RUN)
            return rc;
    }
#ifdef XMSG_HAVE_OMEMO
    if (o->cmd == CLI_CMD_OMEMO) {
        rc = cli_omemo_args(o, argc - optind, argv + optind);
        return rc == CLI_RUN ? check_stdin(o) : rc;
    }
#endif
    if (optind < argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        return cli_usage_hint();
    }
    return check_stdin(o);
}

static enum cli_cmd find_command(const char *name)
{
    if (strcmp(name, "send") == 0)
        return CLI_CMD_SEND;
    if (strcmp(name, "connect") == 0)
        return CLI_CMD_CONNECT;
    if (strcmp(name, "listen") == 0)
        return CLI_CMD_LISTEN;
    if (strcmp(name, "request") == 0)
        return CLI_CMD_REQUEST;
    if (strcmp(name, "config") == 0)
        return CLI_CMD_CONFIG;
#ifdef XMSG_HAVE_OMEMO
    if (strcmp(name, "omemo") == 0)
        return CLI_CMD_OMEMO;
#endif
    return CLI_CMD_NONE;
}

/* Options before the command: --help, --version. Sets *cmd_at. */
static int parse_global(int argc, char **argv, int *cmd_at)
{
    static const struct option global[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", global, NULL)) != -1) {
        if (c == 'h')
            return cli_help_main();
        if (c == 'V')
            return cli_version();
        return bad_option(argv, c);
    }
    if (optind >= argc) {
        cli_err("missing command: send, connect, listen, request or config");
        return cli_usage_hint();
    }
    *cmd_at = optind;
    return CLI_RUN;
}

int cli_parse(int argc, char **argv, struct cli_opts *o)
{
    int at = 0;
    int rc;

    memset(o, 0, sizeof(*o));
    rc = parse_global(argc, argv, &at);
    if (rc != CLI_RUN)
        return rc;
    o->cmd = find_command(argv[at]);
    if (o->cmd == CLI_CMD_NONE) {
        cli_err("unknown command '%s'", argv[at]);
        return cli_usage_hint();
    }
    return parse_command(argc - at, argv + at, o);
}

int cli_opts_has(const struct cli_opts *o, const char *name)
{
    size_t i;

    for (i = 0; i < o->nset; i++) {
        if (o->set[i].name && strcmp(o->set[i].name, name) == 0)
            return 1;
    }
    return 0;
}
