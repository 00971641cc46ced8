/* sasl.h - SASL for the XMPP stream layer: mechanism choice, PLAIN,
 * SCRAM-SHA-1/256/512 (and -PLUS), PBKDF2 with pre-keyed HMAC states, and
 * the derived-key cache.
 *
 * Uses only the model (internal.h) and OpenSSL 3 (hashes, RAND_bytes,
 * CRYPTO_memcmp). No socket: the TLS layer hands the channel-binding data in
 * as bytes; the stream layer base64-encodes what goes into <auth>/<response>
 * and decodes what comes out of <challenge>/<success>
 * (xmsg_sasl_b64_decode).
 *
 * Failures: every function returning xmsg_err records the code and a text in
 * st (which may be NULL) through xmsg_status_fail. Log lines (cache misses,
 * downgrade warnings) go through an optional xmsg_sasl_log callback, never
 * into the error text. */
#ifndef XMSG_XMPP_SASL_H
#define XMSG_XMPP_SASL_H

#include <stddef.h>

#include "model/internal.h"

/* ---- mechanisms, weakest to strongest: the value is the rank ---- */
typedef enum xmsg_sasl_mech {
    XMSG_MECH_NONE = -1,
    XMSG_MECH_PLAIN = 0,
    XMSG_MECH_SCRAM_SHA_1,
    XMSG_MECH_SCRAM_SHA_256,
    XMSG_MECH_SCRAM_SHA_512,
    XMSG_MECH_SCRAM_SHA_1_PLUS,
    XMSG_MECH_SCRAM_SHA_256_PLUS,
    XMSG_MECH_SCRAM_SHA_512_PLUS,
    XMSG_MECH_COUNT
} xmsg_sasl_mech;

/* Bit of a mechanism in an allow mask. */
#define XMSG_MECH_BIT(m) (1u << (unsigned)(m))
#define XMSG_MECH_ALL ((1u << XMSG_MECH_COUNT) - 1u)

/* The IANA name ("SCRAM-SHA-256-PLUS"), static; "?" for none. */
const char *xmsg_sasl_mech_name(xmsg_sasl_mech m);
/* The mechanism of an exact IANA name, XMSG_MECH_NONE if unknown. */
xmsg_sasl_mech xmsg_sasl_mech_parse(const char *name);
/* 1 for the -PLUS mechanisms. */
int xmsg_sasl_mech_is_plus(xmsg_sasl_mech m);

/* ---- hashes of SCRAM ---- */
typedef enum xmsg_scram_hash {
    XMSG_HASH_SHA1 = 0,
    XMSG_HASH_SHA256,
    XMSG_HASH_SHA512
} xmsg_scram_hash;
#define XMSG_HASH_MAX_LEN 64
/* Hash of a SCRAM mechanism (PLAIN/NONE: SHA1, never used). */
xmsg_scram_hash xmsg_sasl_mech_hash(xmsg_sasl_mech m);
/* Output length in bytes: 20, 32, 64. */
size_t xmsg_scram_hash_len(xmsg_scram_hash h);
/* "sha1", "sha256", "sha512". */
const char *xmsg_scram_hash_name(xmsg_scram_hash h);

/* ---- channel-binding types ---- */
typedef enum xmsg_sasl_cb {
    XMSG_CB_NONE = 0,
    XMSG_CB_TLS_UNIQUE = 1,           /* RFC 5929, TLS 1.2 */
    XMSG_CB_TLS_SERVER_END_POINT = 2, /* RFC 5929, when advertised */
    XMSG_CB_TLS_EXPORTER = 4          /* RFC 9266, TLS 1.3 */
} xmsg_sasl_cb;
/* "tls-unique", "tls-server-end-point", "tls-exporter"; NULL for none. */
const char *xmsg_sasl_cb_name(xmsg_sasl_cb cb);
/* The type of a name, XMSG_CB_NONE if unknown. */
xmsg_sasl_cb xmsg_sasl_cb_parse(const char *name);

/* ---- log lines for the caller to keep ---- */
typedef void (*xmsg_sasl_log_fn)(xmsg_log_level lvl, const char *line,
                                 void *userdata);
typedef struct xmsg_sasl_log {
    xmsg_sasl_log_fn fn; /* NULL: lines are dropped */
    void *userdata;
} xmsg_sasl_log;
/* Formats and hands one line to log (NULL-safe). */
void xmsg_sasl_logf(const xmsg_sasl_log *log, xmsg_log_level lvl,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- the restriction param ----
 * Syntax: comma-separated words, spaces around them ignored, case-
 * insensitive. A mechanism name ("SCRAM-SHA-256-PLUS", "PLAIN") puts it on
 * an allow-list (none named: every mechanism is allowed); "no-plain"
 * removes PLAIN; "plus-only" removes every mechanism without channel
 * binding. Examples: "SCRAM-SHA-256-PLUS,SCRAM-SHA-1", "no-plain",
 * "plus-only", "" or NULL (no restriction). An unknown word, an empty word
 * or a result that allows nothing is XMSG_ERR_INPUT (the word is named).
 * Sets *allowed to a mask of XMSG_MECH_BIT()s. */
xmsg_err xmsg_sasl_policy_parse(const char *spec, unsigned *allowed,
                                xmsg_status *st);

/* ---- what the connection offers for the choice ---- */
typedef struct xmsg_sasl_conn {
    int tls;          /* 1 when the stream is under TLS */
    int tls13;        /* 1 on TLS 1.3 (else TLS 1.2 or older) */
    unsigned cb_have; /* XMSG_CB_* bits the TLS layer can give data for */
    /* XEP-0440 <sasl-channel-binding>: XMSG_CB_* bits the server listed;
     * meaningful only when server_cb_listed is 1. */
    int server_cb_listed;
    unsigned server_cb;
    /* 1 when an earlier login to this server saw a -PLUS mechanism
     * (xmsg_keycache_plus_seen): its absence now is logged at warn. */
    int plus_seen_before;
    /* 1 when the user allowed a login without TLS (mandatoryTLS false or
     * disableTLS, no pin): PLAIN is usable in the clear then. */
    int plain_in_clear;
} xmsg_sasl_conn;

typedef struct xmsg_sasl_choice {
    xmsg_sasl_mech mech;
    xmsg_sasl_cb cb; /* the binding type of a -PLUS mechanism, else NONE */
    /* gs2 channel-binding flag: 'p' (binding, cb), 'y' (we can bind but the
     * server offered no -PLUS), 'n' (we do not bind). '\0' for PLAIN. */
    char gs2_flag;
    int plus_offered; /* the server offered at least one -PLUS */
    int downgrade;    /* plus_seen_before and no -PLUS offered now */
} xmsg_sasl_choice;

/* The binding type this connection would use (tls-exporter on TLS 1.3,
 * tls-unique on TLS 1.2, tls-server-end-point when the server lists it),
 * XMSG_CB_NONE when it cannot bind. */
xmsg_sasl_cb xmsg_sasl_cb_choose(const xmsg_sasl_conn *conn);

/* Picks the strongest mechanism among the n offered names (unknown names
 * ignored) that allowed permits and the connection supports:
 * SCRAM-SHA-512-PLUS > -256-PLUS > -1-PLUS > SCRAM-SHA-512 > -256 > -1 >
 * PLAIN (only when conn->tls). Logs a downgrade at warn through log.
 * @return XMSG_OK with *out set; XMSG_ERR_TLS when only PLAIN was left and
 * TLS is off; XMSG_ERR_AUTH when nothing else fits (text says what was
 * offered and what was allowed); XMSG_ERR_INTERNAL on NULL arguments. */
xmsg_err xmsg_sasl_choose(const char *const *offered, size_t n,
                          const xmsg_sasl_conn *conn, unsigned allowed,
                          const xmsg_sasl_log *log, xmsg_sasl_choice *out,
                          xmsg_status *st);

/* ---- PLAIN (RFC 4616) ----
 * Sets *out to a new buffer "\0authcid\0password" (*len bytes, plus a NUL
 * not counted), a secret: free it with xmsg_sasl_free_secret.
 * @return XMSG_OK; XMSG_ERR_TLS when tls is 0; XMSG_ERR_INPUT for an empty
 * authcid or password or one holding NUL; XMSG_ERR_INTERNAL. */
xmsg_err xmsg_sasl_plain(const char *authcid, const char *password, int tls,
                         char **out, size_t *len, xmsg_status *st);
/* Zeroes p[0..len) and frees it; NULL-safe. */
void xmsg_sasl_free_secret(void *p, size_t len);

/* Strict base64 decode (RFC 4648, padding required, no whitespace). Sets
 * *out to a new buffer of *len bytes (plus a NUL). 0 ok, -1 malformed,
 * -2 out of memory. */
int xmsg_sasl_b64_decode(const char *s, size_t slen, unsigned char **out,
                         size_t *len);

/* ---- PBKDF2 (Hi() of RFC 5802): one block, dkLen = hash length ----
 * HMAC's inner and outer states are keyed once; each iteration after the
 * first is one compression of a fixed final block in each (low-level
 * SHA*_Transform: no allocation, no padding work). out receives
 * xmsg_scram_hash_len(h) bytes. 0 ok, -1 on bad arguments (iter 0, unknown
 * hash). */
int xmsg_pbkdf2(xmsg_scram_hash h, const unsigned char *pw, size_t pwlen,
                const unsigned char *salt, size_t saltlen, unsigned iter,
                unsigned char *out);
/* The same through OpenSSL 3's EVP_MD_CTX_copy_ex of pre-keyed states;
 * kept for the measurement in docs/design.md and the equality test. */
int xmsg_pbkdf2_evp(xmsg_scram_hash h, const unsigned char *pw, size_t pwlen,
                    const unsigned char *salt, size_t saltlen, unsigned iter,
                    unsigned char *out);
/* HMAC(key, data) into out (hash length); 0 ok. */
int xmsg_scram_hmac(xmsg_scram_hash h, const unsigned char *key, size_t keylen,
                    const unsigned char *data, size_t len, unsigned char *out);
/* H(data) into out; 0 ok. */
int xmsg_scram_digest(xmsg_scram_hash h, const unsigned char *data, size_t len,
                      unsigned char *out);

/* ---- the derived-key cache ----
 * One file per (server, authcid, hash) in dir, mode 0600, holding the salt,
 * the iteration count, ClientKey and ServerKey; a lookup with another salt
 * or count misses, and the next store replaces the entry. */
typedef struct xmsg_keycache xmsg_keycache;
typedef struct xmsg_scram_keys {
    size_t len; /* hash length */
    unsigned char client_key[XMSG_HASH_MAX_LEN];
    unsigned char server_key[XMSG_HASH_MAX_LEN];
} xmsg_scram_keys;

/* A cache over dir (copied; created 0700 with its parents when missing, at
 * the first store). enabled 0: every lookup misses, nothing is written.
 * NULL when out of memory or dir is NULL/empty. */
xmsg_keycache *xmsg_keycache_new(const char *dir, int enabled,
                                 const xmsg_sasl_log *log);
void xmsg_keycache_free(xmsg_keycache *kc); /* NULL-safe */
/* 1 and *keys filled on a hit; 0 on a miss (no entry, other salt or
 * count, corrupt or unsafe file: a log line says which). kc may be NULL. */
int xmsg_keycache_lookup(xmsg_keycache *kc, const char *server,
                         const char *authcid, xmsg_scram_hash h,
                         const unsigned char *salt, size_t saltlen,
                         unsigned iter, xmsg_scram_keys *keys);
/* Writes the entry atomically (unique temp, fsync, rename). 0 ok or
 * disabled/NULL, -1 on failure (logged; a cache failure never fails a
 * login). */
int xmsg_keycache_store(xmsg_keycache *kc, const char *server,
                        const char *authcid, xmsg_scram_hash h,
                        const unsigned char *salt, size_t saltlen,
                        unsigned iter, const xmsg_scram_keys *keys);
/* Removes the entry (after the server refused keys from the cache). */
void xmsg_keycache_forget(xmsg_keycache *kc, const char *server,
                          const char *authcid, xmsg_scram_hash h);
/* Downgrade memory: 1 if a -PLUS mechanism was noted for server. */
int xmsg_keycache_plus_seen(xmsg_keycache *kc, const char *server);
/* Notes that server offered a -PLUS mechanism. 0 ok, -1 failure. */
int xmsg_keycache_plus_note(xmsg_keycache *kc, const char *server);
/* The entry's file name (for tests and logs): new string or NULL. */
char *xmsg_keycache_path(const xmsg_keycache *kc, const char *server,
                         const char *authcid, xmsg_scram_hash h);

/* ---- SCRAM client (RFC 5802, RFC 7677, RFC 9266) ---- */
#define XMSG_SCRAM_MIN_ITER 4096u
#define XMSG_SCRAM_MAX_ITER 1000000u

typedef struct xmsg_scram_params {
    xmsg_sasl_mech mech; /* a SCRAM mechanism */
    const char *authcid; /* UTF-8; ',' and '=' are escaped here */
    const char *password;
    char gs2_flag;                /* 'p', 'y' or 'n' (xmsg_sasl_choice) */
    xmsg_sasl_cb cb;              /* with 'p' */
    const unsigned char *cb_data; /* with 'p': from the TLS layer */
    size_t cb_len;
    xmsg_keycache *cache; /* may be NULL */
    const char *server;   /* the cache's key: the server's domain */
    unsigned max_iter;    /* 0: XMSG_SCRAM_MAX_ITER */
    xmsg_sasl_log log;
} xmsg_scram_params;

typedef struct xmsg_scram xmsg_scram;

/* A client in its initial state; copies what it needs from p (the password
 * and binding data too). NULL on failure, recorded in st: XMSG_ERR_INPUT
 * (not a SCRAM mechanism, flag and binding mismatch, empty authcid or
 * password, invalid UTF-8), XMSG_ERR_INTERNAL. */
xmsg_scram *xmsg_scram_new(const xmsg_scram_params *p, xmsg_status *st);
/* Zeroes every secret, then frees; NULL-safe. */
void xmsg_scram_free(xmsg_scram *sc);
/* Test hook: the client nonce to use instead of 24 random bytes (printable
 * ASCII without ','). Before client_first. 0 ok, -1 refused. */
int xmsg_scram_set_nonce(xmsg_scram *sc, const char *nonce);

/* client-first-message (not base64): a new string in *out, to free.
 * @return XMSG_OK, XMSG_ERR_INTERNAL (state, memory, RAND_bytes). */
xmsg_err xmsg_scram_client_first(xmsg_scram *sc, char **out, xmsg_status *st);
/* From server-first-message (len bytes), the client-final-message with
 * its proof in *out (new string; free with xmsg_sasl_free_secret).
 * Derives the keys (PBKDF2) unless the cache has them.
 * @return XMSG_OK; XMSG_ERR_AUTH (nonce not extending ours, iteration
 * count below 4096 or above max_iter, mandatory extension m=);
 * XMSG_ERR_PROTOCOL (malformed: missing or misplaced attribute, bad
 * base64, bad count); XMSG_ERR_INTERNAL. */
xmsg_err xmsg_scram_client_final(xmsg_scram *sc, const char *server_first,
                                 size_t len, char **out, xmsg_status *st);
/* Checks server-final-message (v= in constant time); on success stores
 * the keys in the cache when they were derived.
 * @return XMSG_OK; XMSG_ERR_AUTH (wrong signature, or e=: the server's
 * error name, sanitised, in the text); XMSG_ERR_PROTOCOL (malformed);
 * XMSG_ERR_INTERNAL (called out of order). */
xmsg_err xmsg_scram_verify(xmsg_scram *sc, const char *server_final, size_t len,
                           xmsg_status *st);
/* 1 when the keys of this exchange came from the cache (no PBKDF2). */
int xmsg_scram_used_cache(const xmsg_scram *sc);
/* Forgets the cache entry this client used (the server refused it). */
void xmsg_scram_forget_cache(const xmsg_scram *sc);

#endif /* XMSG_XMPP_SASL_H */
