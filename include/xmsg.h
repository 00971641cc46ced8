/* xmsg.h - drop a message into XMPP, pick messages up later.
 *
 * The one public header of libxmsg. Every handle is opaque, every name
 * starts with xmsg_. Two layers:
 *
 *  - the JSON one-call API (xmsg_send_message_json, xmsg_connect_json):
 *    the 4D plugin's object model as JSON text in and out;
 *  - the typed API underneath it (xmsg_params, xmsg_message, xmsg_status),
 *    which the JSON calls use.
 *
 * Errors travel one way: an xmsg_err code plus a text, recorded in the
 * xmsg_status passed to the call. The same code appears as error.code in the
 * status JSON and as the CLI's exit code (see xmsg(1)).
 *
 * Thread safety: handles are not shared between threads; distinct handles
 * may be used from distinct threads at once (tested with 8 threads under
 * ThreadSanitizer).
 */
#ifndef XMSG_H
#define XMSG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XMSG_BUILDING) && defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define XMSG_VERSION_MAJOR 0
#define XMSG_VERSION_MINOR 1
#define XMSG_VERSION_PATCH 0
#define XMSG_VERSION_STRING "0.1.0"

/** Error codes. Stable: the numbers and names never change meaning. */
typedef enum xmsg_err {
    XMSG_OK = 0,              /**< "ok": success */
    XMSG_ERR_INPUT = 1,       /**< "input": bad params or message */
    XMSG_ERR_CONNECT = 2,     /**< "connection": DNS, TCP, stream lost */
    XMSG_ERR_TLS = 3,         /**< "tls": handshake or verification failed,
                                   or TLS required and not available */
    XMSG_ERR_AUTH = 4,        /**< "auth": the server refused the login */
    XMSG_ERR_TIMEOUT = 5,     /**< "timeout": the call's deadline passed */
    XMSG_ERR_UNCONFIRMED = 6, /**< "unconfirmed": the message was written to
                                   the connection but the server never
                                   confirmed it */
    XMSG_ERR_PROTOCOL = 7,    /**< "protocol": the server answered with an
                                   error, or broke the protocol */
    XMSG_ERR_INTERNAL = 8,    /**< "internal": out of memory, or a bug */
    XMSG_ERR_CANCELLED = 9    /**< "cancelled": a callback of the caller's
                                   asked to stop */
} xmsg_err;

/** Short stable name of a code ("ok", "input", "connection", "tls", "auth",
 *  "timeout", "unconfirmed", "protocol", "internal", "cancelled"); never
 *  NULL. */
const char *xmsg_err_name(xmsg_err code);

/** One-line English description of a code; never NULL. */
const char *xmsg_strerror(xmsg_err code);

/** The library's version and those of the libraries it runs with, e.g.
 *  "0.1.0 (expat_2.5.0, c-ares 1.18.1, jansson 2.14, OpenSSL 3.0.11 19 Sep
 *  2023)": each as loaded. Static string. */
const char *xmsg_version(void);

/** 1 when jid is want, compared as the library compares JIDs (RFC 7622):
 *  local part and domain without ASCII case, a trailing dot of the domain
 *  ignored, the resource byte for byte. A bare want matches it with any
 *  resource; a full want only that resource. 0 otherwise, or when either
 *  is NULL. */
int xmsg_jid_matches(const char *jid, const char *want);

/** Frees anything this library returned as an owned char *. NULL-safe. */
void xmsg_free(void *ptr);

/* ------------------------------------------------------------------ */
/* Status: the result of every call.                                  */
/* ------------------------------------------------------------------ */

typedef struct xmsg_status xmsg_status;
typedef struct xmsg_message xmsg_message;
typedef struct xmsg_params xmsg_params;

/** New empty status (code XMSG_OK, no log, no messages).
 *  @return owned handle, or NULL when out of memory. */
xmsg_status *xmsg_status_new(void);

/** Frees a status and every message it holds. NULL-safe. */
void xmsg_status_free(xmsg_status *st);

/** The error code of the last failure recorded, XMSG_OK if none. */
xmsg_err xmsg_status_code(const xmsg_status *st);

/** The error text (borrowed), or NULL when the code is XMSG_OK. */
const char *xmsg_status_text(const xmsg_status *st);

/** Number of log lines kept (lines at or above the params' logLevel). */
size_t xmsg_status_log_count(const xmsg_status *st);

/** Log line i (borrowed), or NULL when out of range. Never holds a
 *  password or a SASL secret. */
const char *xmsg_status_log_line(const xmsg_status *st, size_t i);

/** For a send: 1 when the server confirmed it holds the message. */
int xmsg_status_delivered(const xmsg_status *st);

/** Number of messages kept by xmsg_connect(). */
size_t xmsg_status_message_count(const xmsg_status *st);

/** Collected message i (borrowed, owned by the status), or NULL. */
const xmsg_message *xmsg_status_message(const xmsg_status *st, size_t i);

/** Number of files a send uploaded (each once, however many recipients
 *  or messages carried it): the status JSON's "files". */
size_t xmsg_status_file_count(const xmsg_status *st);

/** Uploaded file i: its path as given (borrowed, owned by the status),
 *  *url its GET URL (borrowed) and *size its bytes (url and size may be
 *  NULL); NULL when i is out of range. */
const char *xmsg_status_file(const xmsg_status *st, size_t i, const char **url,
                             int64_t *size);

/** The status as JSON text: {"log":[…], "messages":[…] (connect),
 *  "delivered":bool (send), "files":[{"path","url","size"}] (a send that
 *  uploaded files), "error":{"code":name,"text":…} (on failure)}.
 *  @return owned string (xmsg_free), or NULL when out of memory. */
char *xmsg_status_to_json(const xmsg_status *st);

/* ------------------------------------------------------------------ */
/* Params: who logs in, where, and how.                               */
/* ------------------------------------------------------------------ */

/** Log levels, for the "logLevel" param. */
typedef enum xmsg_log_level {
    XMSG_LOG_DEBUG = 0,
    XMSG_LOG_INFO = 1,
    XMSG_LOG_WARN = 2,
    XMSG_LOG_ERROR = 3
} xmsg_log_level;

/** New params with every default set: port 5222, logLevel debug,
 *  keepAlive false, keepAliveTimeout 60, keepAliveInterval 1, timeout 20,
 *  disableTLS false, mandatoryTLS true, legacyTLS false, trustTLS false,
 *  enableLegacyAuth false, saslKeyCache true. jid and password have no
 *  default.
 *  @return owned handle, or NULL when out of memory. */
xmsg_params *xmsg_params_new(void);

/** Frees params; the password is zeroed first. NULL-safe. */
void xmsg_params_free(xmsg_params *p);

/** Sets a string param by its JSON name: "jid", "password", "host",
 *  "caFile", "stateFile" (absolute path of the collection checkpoint),
 *  "saslMechanisms" (restricts SASL: mechanism names, "no-plain",
 *  "plus-only", comma-separated), "downloadDir" (collections and polls
 *  fetch received files there, see xmsg_connect_each()), "logLevel"
 *  ("debug", "info", "warn", "error"), or "omemo" ("true" or "required",
 *  "optional", "false"; see xmsg_params_set_bool(): sending, see
 *  xmsg_send(); in a build with OMEMO, collections and polls decrypt
 *  received OMEMO messages, see xmsg_omemo.h).
 *  @return XMSG_OK; XMSG_ERR_INPUT (unknown name, wrong type, invalid
 *  value: detail in st when st is not NULL); XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_params_set_string(xmsg_params *p, const char *name,
                                const char *value, xmsg_status *st);

/** Sets an integer param by its JSON name: "port" (1-65535), "timeout"
 *  (seconds, 1-86400), "keepAliveTimeout", "keepAliveInterval" (seconds,
 *  1-86400), "logLevel" (0-3), "pageSize" (archive page, 1-1000, default
 *  100), "downloadMax" (bytes a downloaded file may have, 1-2^40, default
 *  104857600: see xmsg_connect_each()).
 *  @return XMSG_OK or XMSG_ERR_INPUT (detail in st). */
xmsg_err xmsg_params_set_int(xmsg_params *p, const char *name, long value,
                             xmsg_status *st);

/** Sets a boolean param by its JSON name: "keepAlive", "disableTLS",
 *  "mandatoryTLS", "legacyTLS", "trustTLS", "enableLegacyAuth", "mam"
 *  (collect from the message archive when the server has one; default
 *  true), "checkpoint" (sessions: xmsg_session_poll() shares the state
 *  file of xmsg_connect_each(), see there; default false), "saslKeyCache"
 *  (keep SCRAM's derived keys in the state directory; default true),
 *  "omemo" (default false; in JSON true, false or the string
 *  "optional"): every <message/> with a body that xmsg_send(),
 *  xmsg_send_batch(), xmsg_session_send() and xmsg_session_send_batch()
 *  send is encrypted with OMEMO (a build with it: xmsg_omemo.h) to every
 *  device of its recipient and our other devices; the stanza's body is a
 *  fallback text. true: a recipient without a device we can encrypt to
 *  fails that message alone with XMSG_ERR_INPUT (nothing of it sent);
 *  "optional": it goes in clear, logged at warn level. The message as
 *  sent (xmsg_result_cb) then has "encrypted": "omemo" or "false", and
 *  the status of a single send "encrypted": "omemo" or false. Messages
 *  with files and messages to a room are refused (XMSG_ERR_INPUT) with
 *  it. The account's OMEMO store stays locked from the first message
 *  sealed until the session closes (one that cannot be opened fails every
 *  message, never sends in clear). A
 *  build without OMEMO refuses true (XMSG_ERR_INPUT, before connecting)
 *  and sends "optional" in clear, logged.
 *  @return XMSG_OK or XMSG_ERR_INPUT (detail in st). */
xmsg_err xmsg_params_set_bool(xmsg_params *p, const char *name, int value,
                              xmsg_status *st);

/** Applies a JSON object of params on top of p (keys as above; unknown
 *  keys are an error, so a typo never goes unnoticed).
 *  @return XMSG_OK, XMSG_ERR_INPUT (malformed JSON, wrong type, invalid
 *  value; detail in st), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_params_from_json(xmsg_params *p, const char *json,
                               xmsg_status *st);

/** Sets a param from its text, as a config file holds it: a string as
 *  it is; a number in decimal; a boolean as true/false, yes/no, on/off or
 *  1/0; logLevel as a name or 0-3.
 *  @return XMSG_OK, XMSG_ERR_INPUT (unknown name, text not of the param's
 *  type, invalid value; detail in st), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_params_set_text(xmsg_params *p, const char *name,
                              const char *text, xmsg_status *st);

/** The current value of param name as text (numbers in decimal, booleans
 *  "true"/"false", logLevel by name); the password too, so treat it as a
 *  secret. @return owned string (xmsg_free), or NULL for an unset string
 *  param, an unknown name, or out of memory. */
char *xmsg_params_get_text(const xmsg_params *p, const char *name);

/** The name of param i (0, 1, ...) in the library's table, for listing
 *  them all. @return static string, or NULL past the last one. */
const char *xmsg_params_name(size_t i);

/** Checks that the params are complete and coherent (jid with a local part
 *  and a domain, password present, no contradicting TLS flags; a pin
 *  makes TLS mandatory, so it contradicts disableTLS and mandatoryTLS
 *  false).
 *  @return XMSG_OK or XMSG_ERR_INPUT (detail in st). */
xmsg_err xmsg_params_check(const xmsg_params *p, xmsg_status *st);

/** Progress of a file transfer: path as the message gave it, bytes sent
 *  so far of total. Called about once a second and whenever data moves,
 *  from the thread of the call (never after it returns). */
typedef void (*xmsg_progress_cb)(const char *path, int64_t sent, int64_t total,
                                 void *userdata);

/** Sets the callback told the progress of uploads (files of a message,
 *  xmsg_session_upload) with userdata; NULL: none (the default). Not a
 *  JSON param; copied with the params into a session. */
void xmsg_params_set_progress(xmsg_params *p, xmsg_progress_cb cb,
                              void *userdata);

/* ------------------------------------------------------------------ */
/* Message: one <message/> stanza as name/value pairs.                */
/* ------------------------------------------------------------------ */

/** New empty message. @return owned handle, or NULL when out of memory. */
xmsg_message *xmsg_message_new(void);

/** Frees a message. NULL-safe. */
void xmsg_message_free(xmsg_message *m);

/** Sets field name to value (copied). "body", "to", "type", "ns", "from",
 *  "xml:lang", "id", "subject" are the known fields, "kind", "thread",
 *  "payload",
 *  "xml" and a presence's children "show", "status", "priority" the
 *  fields of the other kinds; any other name (and show, status, priority
 *  on a message or an iq) becomes an attribute of the stanza (of
 *  <message/>: also mirrored, see the README) and must be a valid XML
 *  attribute name (not xmlns or xmlns:*). value must be valid UTF-8
 *  without characters XML forbids; "to" and "from" must be valid JIDs. A
 *  NULL value removes it. A field the message's kind cannot carry (body
 *  or thread on a presence or an iq, xml without kind raw, anything but
 *  xml with kind raw) is refused by the sends as XMSG_ERR_INPUT before
 *  anything is sent, never dropped. Names received messages fill are
 *  reserved (XMSG_ERR_INPUT): "lang", "stamp", "archiveId", "url",
 *  "file", "downloadError", "files", and OMEMO's "encrypted",
 *  "senderDevice", "fingerprint", "decryptError".
 *  @return XMSG_OK, XMSG_ERR_INPUT (detail in st), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_message_set(xmsg_message *m, const char *name, const char *value,
                          xmsg_status *st);

/** The value of field name (borrowed), or NULL when not set. */
const char *xmsg_message_get(const xmsg_message *m, const char *name);

/** Number of fields set, known and custom, in the order they were set. */
size_t xmsg_message_field_count(const xmsg_message *m);

/** Name and value of field i (borrowed); NULL when out of range. */
const char *xmsg_message_field_name(const xmsg_message *m, size_t i);
const char *xmsg_message_field_value(const xmsg_message *m, size_t i);

/** Sets every property of a JSON object (all values must be strings).
 *  @return XMSG_OK, XMSG_ERR_INPUT (detail in st), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_message_from_json(xmsg_message *m, const char *json,
                                xmsg_status *st);

/** Attaches a file: sending the message uploads it (HTTP File Upload,
 *  XEP-0363, as xmsg_session_upload) before any stanza goes out, then
 *  sends one <message/> per file, in order: its body the GET URL (after
 *  the message's body, the caption, on the first) and a
 *  <x xmlns='jabber:x:oob'><url/></x> with it, which clients show
 *  inline; the message's other fields on each (its id on the last only;
 *  the others get ids of their own). A file that fails
 *  (unreadable, over the server's max-file-size, slot refused, PUT
 *  failed) sends no message at all. Within one call each file (path and
 *  content type) is uploaded once, whatever the number of recipients or
 *  inputs carrying it. In JSON: "files":["PATH", {"path":"PATH",
 *  "contentType":"TYPE"}, …]. Only a <message/> (no kind, or kind
 *  message) carries files; with files, body is optional.
 *  @param path a file's path (valid UTF-8, not empty; read when sent).
 *  @param content_type its content type (type/subtype), or NULL to guess
 *  it from the name.
 *  @return XMSG_OK, XMSG_ERR_INPUT (empty path, bad content type, more
 *  than 64 files; detail in st), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_message_add_file(xmsg_message *m, const char *path,
                               const char *content_type, xmsg_status *st);

/** Number of files attached to m. */
size_t xmsg_message_file_count(const xmsg_message *m);

/** Path of file i (borrowed), *content_type its type (borrowed; NULL when
 *  guessed from the name; content_type may be NULL); NULL when out of
 *  range. */
const char *xmsg_message_file(const xmsg_message *m, size_t i,
                              const char **content_type);

/** Records a failure in st (for callers composing calls): code and text,
 *  unless st already holds one. @return code. */
xmsg_err xmsg_status_set_error(xmsg_status *st, xmsg_err code,
                               const char *text);

/** The message as a JSON object text. @return owned string or NULL. */
char *xmsg_message_to_json(const xmsg_message *m);

/* ------------------------------------------------------------------ */
/* The two calls.                                                     */
/* ------------------------------------------------------------------ */

/** Logs in, sends one <message/>, waits until the server has confirmed it
 *  has the message, and closes the stream. Defaults: type "chat", ns
 *  "jabber:client", from the jid, xml:lang "en", id a fresh UUID-shaped id.
 * body (unless the message has files: xmsg_message_add_file()) and to are
 * required. Nothing is sent when the input is invalid. The
 * whole call ends within params' timeout (with files, each wait does: the
 * upload service's answers and the PUT's progress move it on). Stanzas the
 * server sends meanwhile are not kept: a flooding server costs neither memory
 * nor time past the timeout.
 *  @return XMSG_OK (xmsg_status_delivered() is 1), or the failure's code
 *  (also recorded in st with its text). */
xmsg_err xmsg_send(const xmsg_params *p, const xmsg_message *m,
                   xmsg_status *st);

/** Receives each collected message (borrowed: valid during the call
 *  only), and NULL at the end of each batch: by then the caller must have
 *  made the batch's messages durable (written and flushed them, stored
 *  them), because the checkpoint moves past them right after. Return 0 to
 *  go on; non-zero stops the collection and the checkpoint stays before
 *  the batch: the call returns XMSG_ERR_CANCELLED, or the error the
 *  callback recorded first in the call's status (xmsg_status_set_error(),
 *  e.g. XMSG_ERR_INTERNAL when it could not store the message). */
typedef int (*xmsg_message_cb)(const xmsg_message *m, void *userdata);

/** Logs in, collects every message waiting for the user, hands each to cb
 *  in server order (oldest first), and closes the stream. Login and each
 *  archive page end within params' timeout.
 *
 *  With a message archive (XEP-0313) and a state file (params stateFile,
 *  default $XDG_STATE_HOME/xmsg/<bare jid>.json, the bare JID's local part
 *  and domain in lower case), collection is lossless and exactly once: the
 *  archive is read in pages (pageSize) after the checkpoint, and the
 *  checkpoint is replaced atomically after each batch was handed over.
 *  The call holds an exclusive lock (flock on "<stateFile>.lock") for its
 *  whole run; while another collection holds it, the call waits up to
 *  timeout, then fails with XMSG_ERR_TIMEOUT. Archive ids in the state's
 *  "seen" (a session with params checkpoint handed them over) are
 *  skipped. Messages then carry "archiveId" and "stamp". A first
 *  collection (no state file yet) hands over what offline storage holds and
 *  sets the checkpoint at the archive's end. Without an archive (or with
 *  params mam false) offline storage is drained as the 4D plugin did: at
 *  most once.
 *  Time spent in cb is the caller's and counts against no deadline.
 *
 *  Received messages carry "url": the first XEP-0066 out-of-band URL
 *  (<x xmlns='jabber:x:oob'><url>, trimmed) when they have one. With
 *  params downloadDir (a directory), that URL is fetched before the
 *  message is handed over (with libcurl: https only, http too when
 *  plaintext is allowed (disableTLS, or mandatoryTLS false); the TLS
 *  policy of the XMPP connection: system store plus caFile, verification
 *  unless trustTLS; no redirects; each wait bounded by timeout, not the
 *  whole transfer, which counts against no deadline, as cb's time) into a
 *  new file of the directory: named after the URL's last path segment,
 *  percent-decoded and sanitised (no '/', '\', control or bidi
 *  characters, no leading dot, at most 200 bytes; "download" when nothing
 *  is left), created with O_EXCL|O_NOFOLLOW under a temp name and renamed
 *  once complete, never over a file ("name (1).ext" and so on), mode
 *  0600. At most downloadMax bytes: a larger Content-Length is refused
 *  before the body, a body that grows past it is aborted; nothing is left
 *  of a failed download. The message gets "file" (the path: downloadDir
 *  "/" name), or "downloadError" ("code: text", e.g. "tls: ..."; also
 *  logged at warn level): a failed download does not fail the call.
 *  A message whose body is exactly one aesgcm:// URL (XEP-0454) has it
 *  as "url": the https URL of the same host and path is fetched and
 *  decrypted (AES-256-GCM with the fragment's IV and key, 12- or 16-byte
 *  IV) into the temp file, kept only when the tag authenticates it (else
 *  downloadError "protocol: ..."; a malformed fragment "input: ...");
 *  downloadMax counts the plaintext.
 *  xmsg_session_poll() does the same.
 *  @return XMSG_OK or the failure's code (also in st): XMSG_ERR_CANCELLED
 *  when cb asked to stop, XMSG_ERR_TIMEOUT also when the state file stayed
 *  locked. Messages handed over before a failure stay handed over. */
xmsg_err xmsg_connect_each(const xmsg_params *p, xmsg_message_cb cb,
                           void *userdata, xmsg_status *st);

/** xmsg_connect_each() keeping the messages in st (see
 *  xmsg_status_message()). Messages in st are handed over even when the
 *  call failed: process them whatever the code.
 *  @return XMSG_OK or the failure's code (also in st). */
xmsg_err xmsg_connect(const xmsg_params *p, xmsg_status *st);

/** JSON form of xmsg_send: params and message are JSON object texts.
 *  @return the status as JSON text (xmsg_free); NULL only when out of
 *  memory. */
char *xmsg_send_message_json(const char *params, const char *message);

/** JSON form of xmsg_connect. @return status JSON text (xmsg_free); NULL
 *  only when out of memory. */
char *xmsg_connect_json(const char *params);

/* ------------------------------------------------------------------ */
/* Sessions: log in once, send many, close.                           */
/* ------------------------------------------------------------------ */

/** A logged-in, bound XMPP stream. Not thread-safe: one thread drives a
 *  session at a time. */
typedef struct xmsg_session xmsg_session;

/** Logs in and binds, within params' timeout. st receives the log of the
 *  login and its error; p is copied (the session does not borrow it).
 *
 *  With params room, the session then joins that group chat (XEP-0045)
 *  as params nick (default: the JID's local part), with params
 *  roomPassword, without history; a room the join creates is configured
 *  as an instant room. xmsg_session_send() then sends a <message/>
 *  without "to" (or to the room) as a groupchat message, confirmed by the
 *  room's reflection of it; xmsg_session_poll() hands out the room's
 *  stanzas too; xmsg_session_close() leaves. A room refusing the join is
 *  XMSG_ERR_PROTOCOL (a wrong password: not-authorized).
 *  @return XMSG_OK with *out set, or the failure's code (*out NULL). */
xmsg_err xmsg_session_open(const xmsg_params *p, xmsg_session **out,
                           xmsg_status *st);

/** The full JID the server bound the session to (borrowed, valid until
 *  the session is closed); NULL when s is NULL. */
const char *xmsg_session_jid(const xmsg_session *s);

/** Sends one message and waits, at most params' timeout, until the server
 *  confirmed it (as xmsg_send, with the same defaults). st (may be NULL)
 *  receives this call's log, its error and "delivered".
 *  @return XMSG_OK when the server confirmed it, else the failure. A
 *  connection-level failure (connection, tls, timeout, protocol) leaves
 *  the session unusable: every later call fails with it; with params
 *  reconnect (and not auth or tls) the session is lost instead: later
 *  calls fail with XMSG_ERR_CONNECT until xmsg_session_poll() has logged
 *  in again. */
xmsg_err xmsg_session_send(xmsg_session *s, const xmsg_message *m,
                           xmsg_status *st);

/** Uploads the file at path by HTTP File Upload (XEP-0363): the account's
 *  upload service (found by service discovery, cached a day in the state
 *  dir next to the checkpoint), a slot for the file's base name, size and
 *  content_type (NULL: guessed from the name), then an HTTP PUT streamed
 *  from disk under the params' TLS policy (system store plus caFile,
 *  verification unless trustTLS; https only unless disableTLS). params'
 *  timeout bounds each wait (the slot, connecting, every stall of the
 *  PUT), not the length of the upload. Nothing is sent: the caller puts
 *  *url in a message (xmsg_message_add_file() has the library upload and
 *  send a file's message, with jabber:x:oob). params' progress callback
 *  is told (xmsg_params_set_progress()). content_type must be
 *  type/subtype (XMSG_ERR_INPUT otherwise).
 *  @param url gets the GET URL (owned: xmsg_free), NULL on failure.
 *  @return XMSG_OK; XMSG_ERR_INPUT (unreadable or not a regular file, or
 *  larger than the service's max-file-size: nothing was uploaded);
 *  XMSG_ERR_PROTOCOL (no upload service, slot refused or unusable, the
 *  PUT answered with a non-2xx HTTP status: the text names it);
 *  XMSG_ERR_TLS, XMSG_ERR_CONNECT, XMSG_ERR_TIMEOUT (of the slot request or
 *  of the PUT); XMSG_ERR_INTERNAL. */
xmsg_err xmsg_session_upload(xmsg_session *s, const char *path,
                             const char *content_type, char **url,
                             xmsg_status *st);

/** What a batch's input callback gives. */
typedef enum xmsg_next {
    XMSG_NEXT_END = 0,     /**< no more input */
    XMSG_NEXT_MESSAGE = 1, /**< *m is the next message; the library takes
                                it and frees it */
    XMSG_NEXT_INVALID = 2, /**< this input is not a valid message: it gets
                                its own result (XMSG_ERR_INPUT, the text
                                written to err) and the batch goes on */
    XMSG_NEXT_LATER = 3    /**< (only when may_block is 0) the next input
                                is not there yet */
} xmsg_next;

/** The input of a batch. may_block is 0 while messages are in flight:
 *  returning XMSG_NEXT_LATER then makes the library confirm and report
 *  what it sent before it asks again with may_block 1, so that a slow
 *  producer does not hold results back. */
typedef xmsg_next (*xmsg_next_cb)(void *userdata, int may_block,
                                  xmsg_message **m, char *err, size_t errlen);

/** The outcome of one input of a batch, in input order. index counts the
 *  inputs from 0; m is the message as sent (with its id and defaults; for
 *  an input with files, the message of its last file: the input's result
 *  is the worst of its messages'), or NULL for an input that was not a
 *  message (or whose file failed); text is NULL on success.
 *  Everything is borrowed for the call only. Return 0 to go on; non-zero
 *  stops the batch (XMSG_ERR_CANCELLED, unless an input failed worse, see
 *  xmsg_err_rank()) after the messages in flight are
 *  confirmed and reported. */
typedef int (*xmsg_result_cb)(void *userdata, size_t index,
                              const xmsg_message *m, xmsg_err code,
                              const char *text);

/** Sends every message next() gives, pipelined: up to params' window
 *  messages are in flight, the server is asked for its confirmation every
 *  window/4 messages, and each result is handed to done() once the server
 *  confirmed (or rejected) the message, in input order. Memory stays
 *  bounded by the window whatever the input's length. params' timeout
 *  bounds each wait for the server: the batch fails with XMSG_ERR_TIMEOUT
 *  when it sees no progress for that long. Time spent in next() and
 *  done() is the caller's and counts against no deadline. After a
 *  connection-level failure the messages in flight are reported
 *  unconfirmed (or not sent, when they never left) and the remaining
 *  inputs are read and reported with that failure.
 *  @return XMSG_OK when every input was delivered, else the worst failure
 *  (xmsg_err_rank(); XMSG_ERR_CANCELLED when done() stopped the batch);
 *  st gets the batch's log and the session's error. */
xmsg_err xmsg_session_send_batch(xmsg_session *s, xmsg_next_cb next,
                                 xmsg_result_cb done, void *userdata,
                                 xmsg_status *st);

/** Most stanzas a session keeps for xmsg_session_poll(): when one more
 *  arrives, the oldest kept is dropped, and the log says so (once until
 *  the next poll, which logs how many were dropped). */
#define XMSG_SESSION_QUEUE_MAX 10000

/** Waits up to timeout_ms (negative: without end) for stanzas and hands
 *  each one received to cb, oldest first, as an object: "kind"
 *  (message, presence or iq), the stanza's attributes, the children xmsg
 *  knows as fields (body, thread, subject; show, status, priority) and
 *  every other
 *  child element as XML text in "payload". What arrived during other
 *  calls is kept for poll too, XMSG_SESSION_QUEUE_MAX at most (the
 *  oldest are dropped first). Returns as soon as stanzas were handed
 *  over; cb returning non-zero stops there (the rest stays kept). Time
 *  spent in cb counts against no deadline. The
 *  server's pings are answered; with params keepAlive, a silent server is
 *  pinged after keepAliveTimeout seconds, and one that does not answer
 *  within timeout is a lost connection. A message the server archived
 *  carries "archiveId"; one with an out-of-band URL "url" (and with params
 *  downloadDir "file" or "downloadError", see xmsg_connect_each()). With
 *  params checkpoint (and mam), poll shares the
 *  state file of xmsg_connect_each(): under its lock (never waited for;
 *  while a collection holds it, stanzas stay kept), archived messages that
 *  a collection handed over already are dropped, archived messages never
 *  received are fetched from the archive, and the archive id of each one
 *  handed to cb is recorded for the next collection to skip (unless cb
 *  returned a negative value: it could not take the message, which stops
 *  poll too).
 *  @return XMSG_OK (also when the wait ended with nothing), or the
 *  failure that ended the session (connection). */
xmsg_err xmsg_session_poll(xmsg_session *s, int timeout_ms, xmsg_message_cb cb,
                           void *userdata, xmsg_status *st);

/** Fetches the file of received message m (its "url") into directory dir
 *  as params downloadDir does in xmsg_connect_each() (same rules; p gives
 *  the TLS policy, timeout, downloadMax and logLevel; its downloadDir is
 *  not used), for a caller that chooses which messages to fetch (in its
 *  message callback, with downloadDir left out of the session's params).
 *  A failed download is not a failure of the call: the copy then carries
 *  "downloadError" (and st's log a warn line).
 *  @return an owned copy of m (xmsg_message_free) with "file" or
 *  "downloadError" when m has a "url" (as is otherwise), or NULL:
 *  XMSG_ERR_INPUT (p, dir or m missing) or XMSG_ERR_INTERNAL (memory),
 *  recorded in st. */
xmsg_message *xmsg_message_download(const xmsg_params *p, const char *dir,
                                    const xmsg_message *m, xmsg_status *st);

/** Sends m (confirmed, as xmsg_session_send) and waits for its reply: for
 *  an iq, its result or error (same id); for a message or presence, a
 *  stanza of its kind with the same id, or from the recipient's bare JID
 *  (in the same thread when the reply names one; a message gets a thread,
 *  its id, when it has none). All within params' timeout. Other stanzas
 *  stay kept for xmsg_session_poll().
 *  @return XMSG_OK with *reply set (free it), XMSG_ERR_PROTOCOL when the
 *  reply is an error (*reply set too), XMSG_ERR_TIMEOUT without reply. */
xmsg_err xmsg_session_request(xmsg_session *s, const xmsg_message *m,
                              xmsg_message **reply, xmsg_status *st);

/** Closes the stream cleanly (within params' timeout) and frees the
 *  session. st (may be NULL) receives the log of the close. NULL is a
 *  no-op. */
void xmsg_session_close(xmsg_session *s, xmsg_status *st);

/** Opens a session, runs xmsg_session_send_batch(), closes it: the batch
 *  counterpart of xmsg_send(). Like xmsg_send(), it keeps no stanza the
 *  server sends meanwhile (nobody could poll it). */
xmsg_err xmsg_send_batch(const xmsg_params *p, xmsg_next_cb next,
                         xmsg_result_cb done, void *userdata, xmsg_status *st);

/** How bad a failure is, to pick a batch's worst: 0 for XMSG_OK, then
 *  input < cancelled < protocol < auth < tls < connection < timeout <
 *  internal <
 *  unconfirmed (a message whose fate is unknown is the worst outcome). */
int xmsg_err_rank(xmsg_err code);

#if defined(XMSG_BUILDING) && defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* XMSG_H */
