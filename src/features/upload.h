/* upload.h - HTTP File Upload (XEP-0363): the upload service found by
 * service discovery (cached in the state dir for a day), a slot asked of
 * it, the PUT of a file to the slot (libcurl, streamed from disk). */
#ifndef XMSG_UPLOAD_H
#define XMSG_UPLOAD_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "features/aesgcm.h"
#include "features/session.h"

#define XMSG_NS_UPLOAD "urn:xmpp:http:upload:0"
#define XMSG_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define XMSG_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* Items of the domain asked about, at most. */
#define XMSG_UPLOAD_MAX_ITEMS 32
/* The cache of the service is good for this long (seconds). */
#define XMSG_UPLOAD_CACHE_TTL 86400

/* The upload service. */
typedef struct xmsg_upload_svc {
    char *jid;        /* owned; NULL: the server has none */
    int64_t max_size; /* max-file-size; -1: none advertised */
} xmsg_upload_svc;

/* Headers XEP-0363 lets a slot give (section 7): Authorization, Cookie,
 * Expires; the others are dropped. */
#define XMSG_UPLOAD_MAX_HEADERS 3

/* A slot: where to PUT, where the file will be (GET). */
typedef struct xmsg_upload_slot {
    char *put_url;                         /* owned */
    char *get_url;                         /* owned */
    char *hname[XMSG_UPLOAD_MAX_HEADERS];  /* owned */
    char *hvalue[XMSG_UPLOAD_MAX_HEADERS]; /* owned */
    size_t nh;
} xmsg_upload_slot;

/* Reads a disco#info result (the <iq/>): 1 when it offers the upload
 * feature, *max_size then its max-file-size from the XEP-0128 form whose
 * FORM_TYPE is the upload namespace (-1 when absent); 0 when it does not
 * offer it; -1 when it offers it with a max-file-size that is not a
 * non-negative decimal number. */
int xmsg_upload_parse_info(const xmsg_xel *iq, int64_t *max_size);

/* Reads a slot result (the <iq/>) into *slot (cleared first). URLs must be
 * https (http too when plaintext_ok); headers outside the allowed three
 * are dropped; a header value with CR or LF is refused. On failure err
 * (len bytes) says why. @return XMSG_OK, XMSG_ERR_PROTOCOL (an error
 * answer, no slot, a bad URL or header), XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_upload_parse_slot(const xmsg_xel *iq, int plaintext_ok,
                                xmsg_upload_slot *slot, char *err, size_t len);
void xmsg_upload_slot_clear(xmsg_upload_slot *slot);
void xmsg_upload_svc_clear(xmsg_upload_svc *svc);

/* upload_disco.c: finds the service of the account's domain: disco#items
 * on the domain, disco#info on each item (and on the domain itself)
 * until one offers the feature. svc->jid stays NULL when none does.
 * @return XMSG_OK, or the connection's failure (recorded in c->st). */
xmsg_err xmsg_upload_discover(xmsg_conn *c, const char *domain,
                              xmsg_upload_svc *svc);
/* Asks svc for a slot for a file (filename: its base name; content_type
 * may be NULL). @return XMSG_OK, XMSG_ERR_PROTOCOL (refused, or a bad
 * slot; recorded in c->st), or the connection's failure. */
xmsg_err xmsg_upload_request_slot(xmsg_conn *c, const char *svc_jid,
                                  const char *filename, int64_t size,
                                  const char *content_type,
                                  xmsg_upload_slot *slot);

/* upload_cache.c: the service cached for the account: the file next to
 * the checkpoint (params stateFile, else the XDG default), its name with
 * ".upload.json" for ".json". Owned path, or NULL when none. */
char *xmsg_upload_cache_path(const xmsg_params *p, const char *bare_jid);
/* 1 and *svc filled when path holds the service of domain, written at
 * most XMSG_UPLOAD_CACHE_TTL seconds before now; else 0 (missing, stale,
 * another domain, malformed: all a miss). */
int xmsg_upload_cache_load(const char *path, const char *domain, time_t now,
                           xmsg_upload_svc *svc);
/* Writes svc for domain at time now (atomically: temp file, rename);
 * 0 or -1 (a cache that cannot be written is only a miss next time). */
int xmsg_upload_cache_save(const char *path, const char *domain, time_t now,
                           const xmsg_upload_svc *svc);

/* upload_put.c: PUTs size bytes of f (from its current offset; streamed,
 * never held whole in memory) to the slot with its headers and
 * content_type (NULL: application/octet-stream), under the params' TLS
 * policy (the system store plus caFile, verification unless trustTLS)
 * and timeout: connecting, and every stall of the transfer, are bounded by
 * it (a stall: no byte moved for the timeout; libcurl averages the speed
 * over up to 5 s, so it may take up to 5 s more), not the whole upload.
 * @return XMSG_OK (a 2xx answer), XMSG_ERR_PROTOCOL (another status: the
 * text names it), XMSG_ERR_TLS, XMSG_ERR_CONNECT, XMSG_ERR_TIMEOUT,
 * XMSG_ERR_INPUT (the file could not be read to size), XMSG_ERR_INTERNAL;
 * recorded in st. tick (may be NULL) is called with userdata and the
 * bytes sent so far during the transfer, about once a second and whenever
 * data moves: the caller keeps its XMPP stream alive there (answers pings
 * and <r/>) and tells the progress; non-zero from it aborts the PUT
 * (XMSG_ERR_CONNECT, "the connection was lost"). */
typedef int (*xmsg_upload_tick)(void *userdata, int64_t sent);
xmsg_err xmsg_upload_put(const xmsg_upload_slot *slot, FILE *f, int64_t size,
                         const char *content_type, const xmsg_params *p,
                         xmsg_upload_tick tick, void *userdata,
                         xmsg_status *st);

/* The same PUT, sealed (XEP-0454): the file encrypted with k (AES-256-GCM)
 * as it is read, its 16-byte tag after it (size + 16 bytes go out, as
 * the slot was asked for), content type application/octet-stream; only
 * the piece libcurl asks for is in memory, and no plaintext is written
 * anywhere. The same codes; XMSG_ERR_INTERNAL also when the cipher
 * fails. */
xmsg_err xmsg_upload_put_sealed(const xmsg_upload_slot *slot, FILE *f,
                                int64_t size, const xmsg_aesgcm_key *k,
                                const xmsg_params *p, xmsg_upload_tick tick,
                                void *userdata, xmsg_status *st);

/* upload_file.c: uploads the file at path over c (content_type NULL:
 * guessed from the name): the service (cache or discovery), the size
 * checked against its limit before anything is asked, a slot, the PUT;
 * c->params' progress callback is told. *url (owned) the GET URL and
 * *size the bytes on success. Failures recorded in c->st, as
 * xmsg_session_upload() lists them. With c->aesgcm set (the messages will
 * be end-to-end encrypted): the upload is sealed (xmsg_upload_put_sealed,
 * a new random key and IV per file), the slot is asked for size + 16
 * bytes under a random name (32 hex digits and the file's extension, if
 * it has a short one) as application/octet-stream, and *url is the
 * aesgcm:// URL with the key (which must then go only in an encrypted
 * message). */
xmsg_err xmsg_upload_file(xmsg_conn *c, const char *path,
                          const char *content_type, char **url, int64_t *size);

/* upload_send.c: the files of the messages of one call (a send or a
 * batch), each uploaded once: path and content type to its URL, or to
 * its failure. */
struct xmsg_upload_done;
typedef struct xmsg_uploads {
    struct xmsg_upload_done *v;
    size_t n, cap;
} xmsg_uploads;

/* Uploads m's files not uploaded yet in u (a file that failed before
 * fails again, untried); urls[i] (borrowed from u) the URL of file i.
 * A new upload is added to c->st's "files". On failure, err holds the
 * first failing file's reason, and c->st keeps no error of it unless the
 * connection was lost. @return XMSG_OK or that file's code. */
xmsg_err xmsg_uploads_get(xmsg_conn *c, xmsg_uploads *u, const xmsg_message *m,
                          const char **urls, char *err, size_t errlen);
void xmsg_uploads_clear(xmsg_uploads *u);

/* The message of m's file i (owned; NULL out of memory): m's fields but
 * its files, body the URL (after m's body, the caption, for the first),
 * the URL as its jabber:x:oob data; only the last keeps m's id (a room's
 * reflection is awaited by it), the others get their own. An aesgcm://
 * URL (a sealed upload) is the whole body, without caption or
 * jabber:x:oob (clients show a file only for a body that is exactly the
 * URL; the caller sends m's caption as a message of its own). */
xmsg_message *xmsg_file_message(const xmsg_message *m, size_t i,
                                const char *url);

/* m's caption as a message of its own: m's fields but its id and files
 * (owned; NULL when out of memory). With encrypted files (c->aesgcm) the
 * caption goes alone, before the files' messages, whose bodies are their
 * aesgcm:// URLs alone. */
xmsg_message *xmsg_caption_message(const xmsg_message *m);

#endif
