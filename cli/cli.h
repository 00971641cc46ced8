/* cli.h - private declarations of the xmsg command-line tool.
 *
 * The CLI turns options and files into calls of the typed API of xmsg.h
 * and the result into one JSON line and an exit code. It holds no protocol
 * code: every check of a value's meaning is the library's.
 */
#ifndef XMSG_CLI_H
#define XMSG_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "xmsg.h"

/* Exit codes, see xmsg(1). The numbers are part of the interface. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_INTERNAL = 1,
    CLI_EXIT_INPUT = 2,
    CLI_EXIT_CONNECT = 3,
    CLI_EXIT_TLS = 4,
    CLI_EXIT_AUTH = 5,
    CLI_EXIT_TIMEOUT = 6,
    CLI_EXIT_UNCONFIRMED = 7,
    CLI_EXIT_PROTOCOL = 8,
    CLI_EXIT_CANCELLED = 9
};

/* Largest file or standard input accepted, in bytes. */
#define CLI_INPUT_MAX (1024 * 1024)

enum cli_cmd {
    CLI_CMD_NONE = 0,
    CLI_CMD_SEND = 1,
    CLI_CMD_CONNECT = 2,
    CLI_CMD_LISTEN = 3,
    CLI_CMD_REQUEST = 4,
    CLI_CMD_CONFIG = 5,
    CLI_CMD_OMEMO = 6 /* a build with OMEMO only (cli/omemo.c) */
};

/* Bit of a command in struct cli_optdef.cmds. */
#define CLI_CMD_BIT(cmd) (1u << (cmd))
#define CLI_CMDS_ALL                                                           \
    (CLI_CMD_BIT(CLI_CMD_SEND) | CLI_CMD_BIT(CLI_CMD_CONNECT) |                \
     CLI_CMD_BIT(CLI_CMD_LISTEN) | CLI_CMD_BIT(CLI_CMD_REQUEST) |              \
     CLI_CMD_BIT(CLI_CMD_CONFIG))

/* What an option does; see the table in opts.c. */
enum cli_action {
    CLI_ACT_HELP,
    CLI_ACT_PARAMS_FILE,
    CLI_ACT_MESSAGE_FILE,
    CLI_ACT_PASSWORD_FILE,
    CLI_ACT_ACCOUNT,     /* -a NAME: an account of the config file */
    CLI_ACT_RECIPIENTS,  /* send --recipients FILE */
    CLI_ACT_NO_PROGRESS, /* --no-progress */
    CLI_ACT_QUIET,       /* -q: no progress, errors only in the log */
    CLI_ACT_PARAM_STR,   /* xmsg_params_set_string(key, arg) */
    CLI_ACT_PARAM_INT,   /* xmsg_params_set_int(key, number(arg)) */
    CLI_ACT_PARAM_TRUE,  /* xmsg_params_set_bool(key, 1) */
    CLI_ACT_PARAM_FALSE, /* xmsg_params_set_bool(key, 0) */
    CLI_ACT_LOG_LEVEL,   /* a name, or a number 0-3 */
    CLI_ACT_VERBOSE,     /* -v: one level more than warn, per -v */
    CLI_ACT_KEEPALIVE,   /* keepAlive, [=IDLE[,INTERVAL]] */
    CLI_ACT_MSG,         /* xmsg_message_set(key, arg) */
    CLI_ACT_ATTR,        /* xmsg_message_set(NAME, VALUE) of NAME=VALUE */
    CLI_ACT_BATCH,       /* send --batch */
    CLI_ACT_RAW,         /* send --raw */
    CLI_ACT_COUNT,       /* listen --count N */
    CLI_ACT_IDLE,        /* listen --until-idle S */
    CLI_ACT_DURATION,    /* listen --duration S */
    CLI_ACT_FILTER_TYPE, /* listen --type KIND */
    CLI_ACT_FILTER_FROM, /* listen --from JID */
    CLI_ACT_NO_PRESENCE, /* listen --no-presence */
    CLI_ACT_FILE,        /* send --file PATH */
    CLI_ACT_OMEMO,       /* send --omemo (a build with OMEMO) */
    CLI_ACT_CONTENT_TYPE /* send --content-type TYPE */
};

/* One option: a row of the static table in opts.c. */
struct cli_optdef {
    const char *name; /* long name */
    int val;          /* short letter, or a value above 255 */
    int has_arg;      /* no_argument, required_argument, ... */
    unsigned cmds;    /* CLI_CMD_BIT()s of the commands taking it */
    enum cli_action act;
    const char *key;     /* param or message field name, or NULL */
    const char *argname; /* placeholder shown in --help, or NULL */
    const char *help;    /* one line for --help */
};

extern const struct cli_optdef cli_optdefs[];
extern const size_t cli_optdef_count;

/* One value for the library, kept in command-line order and applied after
 * the files are loaded, so that options override files. */
enum cli_set_kind { CLI_SET_STR, CLI_SET_INT, CLI_SET_BOOL, CLI_SET_MSG };

struct cli_setting {
    enum cli_set_kind kind;
    const char *name; /* borrowed from the table, or from owned */
    const char *str;  /* borrowed from argv, or from owned */
    long num;         /* CLI_SET_INT and CLI_SET_BOOL */
    char *owned;      /* copy of a NAME=VALUE argument, or NULL */
};

struct cli_opts {
    enum cli_cmd cmd;
    const char *params_file; /* borrowed from argv; NULL when none */
    const char *message_file;
    const char *password_file;
    const char *account;         /* -a NAME, or NULL */
    const char *recipients_file; /* send --recipients FILE, or NULL */
    int multi; /* send: several -t or --recipients: a batch of copies */
    int batch; /* send --batch */
    int raw;   /* send --raw */
    const char **files; /* send --file PATHs (owned array of argv's) */
    size_t nfiles;
    const char *content_type; /* send --content-type, or NULL */
    long count;               /* listen: stop after this many (0: none) */
    long idle;                /* listen: stop after this many idle s */
    long duration;            /* listen: stop after this many s (0: none) */
    const char *only_kind;    /* listen: message (default), presence, iq;
                                 NULL: all */
    const char *only_from;    /* listen: a bare or full JID */
    int no_presence;          /* listen: stay unavailable */
    int no_progress;          /* --no-progress, --quiet */
    int verbose;              /* -v given this many times */
    int omemo;                /* send --omemo */
    const char *omemo_action; /* omemo: fingerprint, publish, devices */
    const char *omemo_jid;    /* omemo devices|trust JID */
    const char *omemo_fp;     /* omemo trust JID FINGERPRINT */
    struct cli_setting *set;  /* owned, nset used */
    size_t nset, capset;
};

struct cli_trace;

/* Result of cli_parse() that means "go on and run the command". */
#define CLI_RUN (-1)

/* opts.c: parses argv into o. Returns CLI_RUN, or the exit code when the
 * work is done (help, version) or failed (usage error, reported). o must
 * be released with cli_opts_free() in every case. */
int cli_parse(int argc, char **argv, struct cli_opts *o);
void cli_opts_free(struct cli_opts *o);
/* Parses a whole decimal long. 0 ok, -1 when s is not one. */
int cli_parse_long(const char *s, long *out);

#ifdef XMSG_HAVE_OMEMO
/* omemo.c: xmsg omemo ACTION [JID]. _args takes the words after the
 * options (CLI_RUN or a usage error, reported); _help prints its help;
 * cli_omemo runs it (an exit code). */
int cli_omemo_args(struct cli_opts *o, int argc, char **argv);
int cli_omemo_help(void);
int cli_omemo(const struct cli_opts *o, const xmsg_params *p, xmsg_status *st);
#endif

/* help.c: texts for --help and --version, to stdout. Return exit codes. */
int cli_help_main(void);
int cli_help_command(enum cli_cmd cmd);
int cli_version(void);

/* load.c: builds the library's inputs. Return an exit code; failures
 * the library recorded are in st, others are already reported. */
int cli_load_params(const struct cli_opts *o, xmsg_params *p, xmsg_status *st);
/* The same, recording where each value came from in tr (not NULL), and
 * without running a passwordCommand or checking the params' coherence. */
int cli_load_params_traced(const struct cli_opts *o, xmsg_params *p,
                           xmsg_status *st, struct cli_trace *tr);
int cli_load_message(const struct cli_opts *o, xmsg_message *m,
                     xmsg_status *st);
/* The message options alone into m (defaults of a batch's messages). */
int cli_load_defaults(const struct cli_opts *o, xmsg_message *m,
                      xmsg_status *st);

/* io.c */
struct cli_buf {
    char *data; /* owned, NUL-terminated */
    size_t len;
};
/* Reads a whole file, or standard input for "-", into b (at most
 * CLI_INPUT_MAX bytes, no NUL byte). Returns an exit code, reported. */
int cli_read_file(const char *path, struct cli_buf *b);
/* Reads the first line of a password file ("-": standard input) into b,
 * warning when others may read it. Returns an exit code, reported. */
int cli_read_password(const char *path, struct cli_buf *b);
/* A received message as JSON (owned, xmsg_free; with params omemo the
 * library decrypted it, and fetched an aesgcm:// file with --download).
 * NULL: no memory. */
char *cli_message_json(const xmsg_params *p, const xmsg_message *m);
/* Zeroes and frees b's data. NULL-safe. */
void cli_buf_wipe(struct cli_buf *b);
/* Zeroes n bytes at p in a way the compiler keeps. */
void cli_wipe(void *p, size_t n);
/* Flushes stdout; reports a failure. Returns an exit code. */
int cli_flush_stdout(void);
/* Flushes stdio, then writes buf to fd 1 directly (one write(2) when the
 * kernel takes it whole). CLI_EXIT_OK or CLI_EXIT_INTERNAL (reported). */
int cli_write_stdout(const char *buf, size_t len);

/* config.c, peers.c: the config file, see xmsg-config(5). */
struct cli_cfg_entry {
    char *section; /* owned: the account's name, NULL for the defaults */
    char *key;     /* owned; "" marks the start of a section */
    char *value;   /* owned, wiped when freed */
    size_t line;
    int shell; /* passwordCommand: run as sh -c value (go-sendxmpp's) */
};

struct cli_config {
    char *path;              /* owned: the file read, or NULL when none */
    const char *format;      /* "xmsg", "go-sendxmpp" or "sendxmpp" */
    char *account;           /* owned: the account chosen, or NULL */
    int explicit_account;    /* chosen by -a, not by "default =" */
    struct cli_cfg_entry *e; /* owned, n used */
    size_t n, cap;
};

/* Finds and reads the config file (or a peer's, with none) into c, and
 * chooses the account (account: from -a, or NULL). Errors are recorded
 * in st as input errors naming file and line. Returns an exit code; c
 * must be freed with cli_config_free() in every case. */
int cli_config_load(const char *account, struct cli_config *c, xmsg_status *st);
int cli_config_load_peer(const char *account, struct cli_config *c,
                         xmsg_status *st);
void cli_config_free(struct cli_config *c);
/* Chooses the account: wanted (from -a), else the "default" entry. */
int cli_config_choose(struct cli_config *c, const char *wanted,
                      xmsg_status *st);
/* The entry key of section (NULL: the defaults), or NULL. */
const struct cli_cfg_entry *cli_config_get(const struct cli_config *c,
                                           const char *section,
                                           const char *key);
/* The password, passwordFile or passwordCommand of section, or NULL. */
const struct cli_cfg_entry *cli_config_password(const struct cli_config *c,
                                                const char *section);
int cli_config_is_password_key(const char *key);
int cli_config_has_section(const struct cli_config *c, const char *name);
/* Checks key = value for section before it is added (known key, valid
 * value, not twice, one password source). Returns an exit code. */
int cli_config_check(const struct cli_config *c, const char *section,
                     const char *key, const char *value, size_t line,
                     xmsg_status *st);
/* Appends an entry (copies). 0 ok, -1 out of memory. */
int cli_config_add(struct cli_config *c, const char *section, const char *key,
                   const char *value, size_t line);
/* Records "PATH:LINE: text" as an input error; returns CLI_EXIT_INPUT. */
int cli_config_fail(const struct cli_config *c, size_t line, xmsg_status *st,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Warns when c's file holds a password and others may read it. */
void cli_config_check_mode(const struct cli_config *c);
/* After a file was parsed with exit code rc: chooses the account and
 * checks the file's mode. Returns the exit code. */
int cli_config_loaded(struct cli_config *c, const char *account, int rc,
                      xmsg_status *st);
/* rel under $XDG_CONFIG_HOME, else ~/.config: owned, or NULL. */
char *cli_config_home_path(const char *rel);
/* a + sep + b, owned, or NULL when out of memory. */
char *cli_join(const char *a, const char *sep, const char *b);

/* pwcmd.c: passwordCommand. */
/* Splits cmd into words (see pwcmd.c). 0 ok, -1 out of memory, -2
 * unclosed quote, -3 no word. *argv is owned: cli_argv_free(). */
int cli_split_command(const char *cmd, char ***argv);
void cli_argv_free(char **argv);
/* Runs cmd (shell: as sh -c cmd) and puts the first line of its output in
 * b, within timeout seconds. Failures are input errors in st. */
int cli_password_command(const char *cmd, int shell, long timeout,
                         struct cli_buf *b, xmsg_status *st);

/* show.c: xmsg config, the effective configuration and its sources. */
#define CLI_TRACE_MAX 64
struct cli_trace {
    char *value[CLI_TRACE_MAX];  /* owned: each param's text, or NULL */
    char *source[CLI_TRACE_MAX]; /* owned: where it came from */
    char *password_note;         /* owned: where a passwordFile or
                                    passwordCommand not run is */
    const char *password_key;    /* its key, static */
    char *config;                /* owned: the config file read */
    char *account;               /* owned: the account used */
};
/* Records source for every param whose value p changed. NULL-safe. */
void cli_trace_step(struct cli_trace *tr, const xmsg_params *p,
                    const char *source);
void cli_trace_free(struct cli_trace *tr);
/* xmsg config. Returns the exit code. */
int cli_config_show(const struct cli_opts *o);

/* input.c: the inputs of send --batch, one at a time. */
enum cli_item {
    CLI_ITEM_TEXT,      /* *text is the next input (valid until the next
                           call) */
    CLI_ITEM_END,       /* no more input */
    CLI_ITEM_LATER,     /* nothing ready yet (may_block 0) */
    CLI_ITEM_TOO_LONG,  /* an input over CLI_INPUT_MAX, skipped */
    CLI_ITEM_BINARY,    /* a line with a NUL byte */
    CLI_ITEM_MALFORMED, /* the JSON array is broken here: no more input */
    CLI_ITEM_ERROR      /* read error or out of memory (reported) */
};

struct cli_input {
    int fd;     /* JSON Lines: standard input */
    FILE *file; /* a JSON array: its file, or stdin */
    const char *name;
    int is_array, array_started, array_done, array_bad_end, eof;
    char *buf; /* JSON Lines: read buffer */
    size_t len, cap, start;
    char *item; /* an array's element */
    size_t item_len, item_cap;
    size_t lineno; /* line (JSON Lines) or element (array) number, from 1 */
};

/* Reads JSON Lines from standard input, or the JSON array in array_path
 * ("-": standard input) when it is not NULL. Returns an exit code. */
int cli_input_open(struct cli_input *in, const char *array_path);
enum cli_item cli_input_next(struct cli_input *in, int may_block,
                             const char **text);
void cli_input_close(struct cli_input *in);

/* listen.c: listen and request. Return the exit code. */
int cli_listen(const struct cli_opts *o, xmsg_params *p, xmsg_status *st);
int cli_request(const xmsg_params *p, const xmsg_message *m, xmsg_status *st);
/* 1 if the user set the param name on the command line. */
int cli_opts_has(const struct cli_opts *o, const char *name);

/* rcpt.c: the recipients of send's several -t and --recipients. */
struct cli_rcpt {
    const char *jid; /* borrowed from argv or from file */
    size_t line;     /* in the file, from 1; 0 for a -t */
};
struct cli_rcpts {
    struct cli_buf file;
    struct cli_rcpt *v; /* owned, n used */
    size_t n, cap, next;
};
/* The -t ones in order, then the file's. Returns an exit code
 * (reported). Free with cli_rcpts_free() in every case. */
int cli_rcpts_load(const struct cli_opts *o, struct cli_rcpts *r);
void cli_rcpts_free(struct cli_rcpts *r);

/* progress.c: a progress line on stderr when it is a terminal. */
struct cli_progress {
    int on, drawn;
    double start, last;             /* monotonic seconds */
    size_t count, confirmed, pages; /* messages collected or sent */
    size_t total;                   /* inputs, when known (0: not) */
    long long size;                 /* bytes of the input file, or -1 */
    int fd;                         /* the input's descriptor, or -1 */
};
void cli_progress_init(struct cli_progress *p, const struct cli_opts *o);
long long cli_progress_file_size(int fd);
void cli_progress_message(struct cli_progress *p);
void cli_progress_page(struct cli_progress *p);
void cli_progress_sent(struct cli_progress *p);
void cli_progress_confirmed(struct cli_progress *p);
/* An upload's bytes sent of total: a line of its own, ended when the
 * file is whole. */
void cli_progress_upload(struct cli_progress *p, const char *path, int64_t sent,
                         int64_t total);
/* The last line, with its newline (only when there was progress). */
void cli_progress_end(struct cli_progress *p);

/* batch.c: send --batch, and send to several recipients. Returns the
 * exit code. */
/* upload.c: send --file: the files (with --content-type) attached to m.
 * Returns the exit code. */
int cli_message_files(const struct cli_opts *o, xmsg_message *m,
                      xmsg_status *st);
/* Upload progress on pr, when stderr is a terminal: p's callback set. */
void cli_upload_progress(struct cli_progress *pr, const struct cli_opts *o,
                         xmsg_params *p);
void cli_upload_progress_end(struct cli_progress *pr);
int cli_send_batch(const struct cli_opts *o, const xmsg_params *p,
                   xmsg_status *st);

/* diag.c: "xmsg: " + message + "\n" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The hint after a usage error; returns CLI_EXIT_INPUT. */
int cli_usage_hint(void);
/* Reports a status error on stderr as "xmsg: <name>: <text>". */
void cli_err_status(const xmsg_status *st);
/* Reports running out of memory; returns CLI_EXIT_INTERNAL. */
int cli_oom(void);

/* exitcode.c: the one mapping of library codes to exit codes. */
int cli_exit_code(xmsg_err code);
/* Writes the exit status table of --help to f. */
void cli_exit_table_print(FILE *f);

#endif /* XMSG_CLI_H */
