/* aesgcm.h - encrypted files (XEP-0454, "aesgcm://"): AES-256-GCM over a
 * file streamed in pieces (the upload's PUT, the download's GET), and the
 * aesgcm:// URL that carries the key: "aesgcm://HOST/PATH#" + hex(IV ||
 * key), the https URL of the ciphertext with its scheme changed. The
 * ciphertext on the server is the file's size + 16 bytes: the GCM tag
 * follows it. Sending uses a 12-byte IV; receiving also takes the 16-byte
 * IVs older clients used (88 or 96 hex digits; nothing else). */
#ifndef XMSG_AESGCM_H
#define XMSG_AESGCM_H

#include <stddef.h>
#include <stdint.h>

#include "model/internal.h"

#define XMSG_AESGCM_KEY 32
#define XMSG_AESGCM_IV 12     /* the IV we make */
#define XMSG_AESGCM_IV_OLD 16 /* an IV older clients made; read only */
#define XMSG_AESGCM_TAG 16

/* A file's key and IV (iv_len 12, or 16 as read from an old URL). */
typedef struct xmsg_aesgcm_key {
    uint8_t key[XMSG_AESGCM_KEY];
    uint8_t iv[XMSG_AESGCM_IV_OLD];
    size_t iv_len;
} xmsg_aesgcm_key;

/* A stream being encrypted or decrypted (OpenSSL's cipher context). */
typedef struct xmsg_aesgcm xmsg_aesgcm;

/* A random key and 12-byte IV. 0, or -1 when the random source fails. */
int xmsg_aesgcm_key_new(xmsg_aesgcm_key *k);
/* A stream under k, encrypting (encrypt 1) or decrypting. NULL out of
 * memory or when OpenSSL refuses. */
xmsg_aesgcm *xmsg_aesgcm_new(const xmsg_aesgcm_key *k, int encrypt);
/* n bytes of in through the cipher into out (n bytes; in == out is
 * allowed). 0, or -1. */
int xmsg_aesgcm_update(xmsg_aesgcm *g, const uint8_t *in, size_t n,
                       uint8_t *out);
/* Encrypting: the end; the tag into tag. 0, or -1. */
int xmsg_aesgcm_tag(xmsg_aesgcm *g, uint8_t tag[XMSG_AESGCM_TAG]);
/* Decrypting: the end; 0 when tag authenticates all that went through,
 * -1 when it does not (altered, truncated, or another key). */
int xmsg_aesgcm_verify(xmsg_aesgcm *g, const uint8_t tag[XMSG_AESGCM_TAG]);
void xmsg_aesgcm_free(xmsg_aesgcm *g);

/* 1 when s starts with "aesgcm://" (any case), else 0. */
int xmsg_aesgcm_is_url(const char *s);
/* The aesgcm:// URL (owned) of https_url (which must be https and have no
 * fragment) with k's IV and key; NULL when it is not, or out of memory. */
char *xmsg_aesgcm_url(const char *https_url, const xmsg_aesgcm_key *k);
/* Reads an aesgcm:// URL: *https (owned) the URL to GET (https://, same
 * host and path, no fragment), *k its key and IV. 0; -1 and why in err
 * (len bytes) when it is not one (no fragment, a fragment not of 88 or 96
 * hex digits, no host), or out of memory. */
int xmsg_aesgcm_parse_url(const char *url, char **https, xmsg_aesgcm_key *k,
                          char *err, size_t len);
/* When m's body is exactly one aesgcm:// URL (blanks around it aside), it
 * becomes m's "url" too (a received encrypted file). 0, or -1 out of
 * memory. */
int xmsg_take_aesgcm_url(xmsg_message *m);

#endif
