/* internal.h - private structures and helpers of libxmsg. */
#ifndef XMSG_INTERNAL_H
#define XMSG_INTERNAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "xmsg.h"

/* Largest JSON text accepted for params or a message. */
#define XMSG_JSON_MAX (1024 * 1024)
/* Largest JID, as RFC 7622 allows: 3 parts of 1023 bytes and 2 separators. */
#define XMSG_JID_PART_MAX 1023
#define XMSG_ERRTEXT_MAX 512

/* ---- growable array of owned strings (log lines, fields) ---- */
typedef struct xmsg_strvec {
    char **v;
    size_t n, cap;
} xmsg_strvec;

int xmsg_strvec_push(xmsg_strvec *sv, const char *s); /* copies s; 0 ok */
int xmsg_strvec_push_owned(xmsg_strvec *sv, char *s); /* takes s; 0 ok */
void xmsg_strvec_clear(xmsg_strvec *sv);
char *xmsg_strdup(const char *s);
char *xmsg_strndup(const char *s, size_t n);

/* ---- growable byte buffer, always NUL-terminated once used ---- */
typedef struct xmsg_buf {
    char *d;
    size_t len, cap;
} xmsg_buf;

int xmsg_buf_put(xmsg_buf *b, const char *s, size_t n); /* 0 ok */
int xmsg_buf_str(xmsg_buf *b, const char *s);           /* 0 ok */
void xmsg_buf_free(xmsg_buf *b);

/* ---- params ---- */
struct xmsg_params {
    char *jid;
    char *password;
    char *host;
    char *ca_file;
    char *state_file;
    char *pin;
    char *room;            /* a MUC room's bare JID: send and listen there */
    char *nick;            /* our nick in it (default: the JID's local part) */
    char *room_password;   /* its password (a secret: redacted) */
    char *sasl_mechanisms; /* saslMechanisms: restriction (sasl.h syntax) */
    char *download_dir;    /* downloadDir: fetch received OOB URLs there */
    long download_max;     /* downloadMax: bytes a download may have */
    xmsg_progress_cb progress; /* file transfers (xmsg_params_set_progress) */
    void *progress_ud;
    long port;
    long page_size;
    long window; /* messages of a batch in flight */
    long timeout;
    long keepalive_timeout;
    long keepalive_interval;
    xmsg_log_level log_level;
    int keepalive;
    int disable_tls;
    int mandatory_tls;
    int legacy_tls;
    int trust_tls;
    int legacy_auth;
    int mam;
    int reconnect;      /* sessions: log in again when the connection is lost */
    int checkpoint;     /* sessions: share connect's checkpoint (stateFile) */
    int sasl_key_cache; /* saslKeyCache: keep SCRAM keys in the state dir */
    int omemo; /* XMSG_OMEMO_OFF, _REQUIRED, _OPTIONAL (params omemo) */
};
/* params omemo: what sending encrypts (features/seal.h). */
#define XMSG_OMEMO_OFF 0
#define XMSG_OMEMO_REQUIRED 1
#define XMSG_OMEMO_OPTIONAL 2

/* 1 if type is valid for kind ("message", "presence", "iq"; NULL is
 * message). */
int xmsg_type_valid(const char *kind, const char *type);
/* stanza.c: 0 if xml is well-formed XML elements (whitespace between
 * them allowed; one element exactly when one is set), else -1. */
int xmsg_xml_check(const char *xml, int one);

/* A deep copy (the password too); NULL when out of memory. */
xmsg_params *xmsg_params_dup(const xmsg_params *p);

/* ---- message: ordered name/value pairs ---- */
/* Files a message carries, at most (files.c). */
#define XMSG_MESSAGE_FILES_MAX 64
struct xmsg_message {
    xmsg_strvec names;
    xmsg_strvec values;
    xmsg_strvec files;  /* paths to upload before sending (files.c) */
    xmsg_strvec ftypes; /* their content types; "": from the name */
    char *oob;          /* one file's message: its jabber:x:oob URL */
};

/* files.c: the "files" member of a message's JSON object into m. */
xmsg_err xmsg_message_files_from_json(xmsg_message *m, const json_t *v,
                                      xmsg_status *st);
/* m's files as a JSON array (new reference), or NULL out of memory. */
json_t *xmsg_message_files_to_jobj(const xmsg_message *m);
/* Copies src's files and OOB URL into dst; 0 or -1 (memory). */
int xmsg_message_files_copy(xmsg_message *dst, const xmsg_message *src);
/* Sets the OOB URL (copied; NULL: none); 0 or -1 (memory). */
int xmsg_message_set_oob(xmsg_message *m, const char *url);
/* 1 if type is a content type xmsg sends: type/subtype of printable ASCII
 * without spaces, at most 255 bytes (parameters after ';' allowed). */
int xmsg_content_type_valid(const char *type);

/* ---- status ---- */
struct xmsg_status {
    xmsg_err code;
    char *text;
    xmsg_strvec log;
    xmsg_message **messages;
    size_t n_messages, cap_messages;
    int is_send;      /* emit "delivered" */
    int is_collect;   /* emit "collected" */
    int keeps;        /* emit "messages": they are kept in the status */
    size_t collected; /* messages handed over */
    int delivered;
    size_t log_dropped; /* lines left out between head and tail */
    size_t log_tail;    /* oldest line of the tail ring */
    char log_gap[64];   /* the line that says so */
    int is_batch;       /* emit "batch" with the counts below */
    size_t batch_inputs, batch_delivered, batch_failed;
    json_t *files; /* files uploaded: [{path, url, size}], or NULL */
    int encrypted; /* send with params omemo: 1 omemo, -1 in clear, 0 n/a */
};

/* Records a failure (first one wins unless override); returns code.
 * st may be NULL. */
xmsg_err xmsg_status_fail(xmsg_status *st, xmsg_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Forgets the recorded failure (a retried step, or a more precise one
 * to come). */
void xmsg_status_clear_error(xmsg_status *st);
/* Replaces the recorded failure by code, keeping the old one as its cause:
 * "what (old-name: old-text)". Returns code. */
xmsg_err xmsg_status_recode(xmsg_status *st, xmsg_err code, const char *what);
/* The log keeps its first XMSG_LOG_HEAD and last XMSG_LOG_TAIL lines,
 * and says how many it left out between: memory stays bounded in a long
 * session or a large batch. */
#define XMSG_LOG_HEAD 1000
#define XMSG_LOG_TAIL 1000
#define XMSG_LOG_LINE_MAX 2048
/* Appends a log line (copied / taken). 0 ok. */
int xmsg_status_log(xmsg_status *st, const char *line);
int xmsg_status_log_owned(xmsg_status *st, char *line);
/* Sets a message field without checks (values from the server). 0 ok. */
int xmsg_message_put(xmsg_message *m, const char *name, const char *value);
/* A copy of m (every field, same order); NULL when out of memory. */
xmsg_message *xmsg_message_copy(const xmsg_message *m);
/* Takes ownership of m. 0 ok. */
int xmsg_status_add_message(xmsg_status *st, xmsg_message *m);
/* Records a file uploaded (status JSON "files"). 0 ok. */
int xmsg_status_add_file(xmsg_status *st, const char *path, const char *url,
                         int64_t size);

/* ---- validation (validate.c) ---- */
/* 1 if s[0..len) is valid UTF-8 with no character XML 1.0 forbids
 * (C0 controls except TAB LF CR, U+FFFE, U+FFFF, surrogates). */
int xmsg_text_valid(const char *s, size_t len);
/* 1 if jid is a valid JID: [local@]domain[/resource], each part non-empty
 * when present, <= 1023 bytes, valid text, local part without
 * " & ' / : < > @ and spaces, domain without spaces or / @. */
int xmsg_jid_valid(const char *jid);
/* Replaces, in place, every byte that does not start a valid UTF-8
 * sequence by '?': text from a server goes into JSON, which must be
 * UTF-8. */
void xmsg_utf8_sanitize(char *s);
/* The bare part of jid (before any '/'): new string or NULL. */
char *xmsg_jid_bare(const char *jid);
/* 1 if jid's bare part is bare's (jid is bare, or bare plus a
 * resource), compared as RFC 7622 allows: ASCII letters of the local part
 * and the domain without case, a trailing dot of the domain ignored
 * (non-ASCII bytes as they are); 0 for a NULL jid or bare. */
int xmsg_jid_bare_is(const char *jid, const char *bare);
/* The normalised bare part of jid, for comparisons and file names: local
 * part and domain with ASCII letters lowercased, no trailing dot on the
 * domain. New string, or NULL (NULL jid, out of memory). */
char *xmsg_jid_bare_norm(const char *jid);
/* 1 if jid is valid and has a local part (an account). */
int xmsg_jid_is_account(const char *jid);
/* 1 if name is a custom attribute name we accept: ASCII letters, digits,
 * '-', '_', '.', starting with a letter or '_'; no prefix; not "xmlns". */
int xmsg_attr_name_valid(const char *name);

/* ---- redaction (redact.c) ---- */
/* Returns a new string: line with the text content of <auth>, <response>,
 * <password>, <digest>, <success> and <header> elements replaced by
 * "[redacted]", and each non-empty secret (and its base64 form) replaced
 * by "[redacted]". NULL when out of memory. */
char *xmsg_redact(const char *line, const char *const *secrets,
                  size_t n_secrets);
/* Base64 of data; new string or NULL. */
char *xmsg_base64(const unsigned char *data, size_t len);
/* The value of hex digit c (either case), or -1. */
int xmsg_hex_value(int c);

/* ---- log levels ---- */
const char *xmsg_log_level_name(xmsg_log_level lvl);
/* Parses "debug"/"info"/"warn"/"error" (case-insensitive) or "0".."3".
 * Returns 0 and sets *out, or -1. */
int xmsg_log_level_parse(const char *s, xmsg_log_level *out);

/* ---- SIGPIPE (sigpipe.c): blocked around TLS writes (net/tls.c) ---- */
typedef struct xmsg_sigpipe {
    sigset_t old_mask;
    int was_pending;
} xmsg_sigpipe;
void xmsg_sigpipe_block(xmsg_sigpipe *sp);
void xmsg_sigpipe_restore(xmsg_sigpipe *sp);

/* Monotonic clock in milliseconds (clock.c). */
uint64_t xmsg_now_ms(void);
void xmsg_sleep_ms(uint64_t ms);

/* ---- zeroing ---- */
void xmsg_secure_zero(void *p, size_t n);
void xmsg_free_secret(char *s);

/* ---- JSON (json.c, status.c, message.c) ---- */
/* Parses text (at most XMSG_JSON_MAX bytes) that must be one JSON object;
 * new reference, or NULL with the input error recorded in st. */
json_t *xmsg_json_parse_object(const char *text, const char *what,
                               xmsg_status *st);
/* New references; NULL when out of memory. */
json_t *xmsg_status_to_jobj(const xmsg_status *st);
json_t *xmsg_message_to_jobj(const xmsg_message *m);

#endif /* XMSG_INTERNAL_H */
