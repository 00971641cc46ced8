/* omemo.h - OMEMO (XEP-0384, legacy eu.siacs.conversations.axolotl,
 * OMEMO 0.3) over libomemo-c: the crypto provider (OpenSSL 3), the store
 * per account (one JSON file next to the checkpoint), the PEP nodes.
 * Compiled only in a build with XMSG_OMEMO (libomemo-c is GPL-3). */
#ifndef XMSG_OMEMO_H
#define XMSG_OMEMO_H

#include <stdint.h>

#include <signal_protocol.h>

#include "model/internal.h"
#include "xml/xml.h"

#define XMSG_OMEMO_NS "eu.siacs.conversations.axolotl"
#define XMSG_OMEMO_NODE_DEVICES XMSG_OMEMO_NS ".devicelist"
#define XMSG_OMEMO_NODE_BUNDLES XMSG_OMEMO_NS ".bundles:"
/* Prekeys kept published; used ones are replaced. */
#define XMSG_OMEMO_PREKEYS 100
/* The session version of legacy OMEMO (libsignal's ciphertext v3). */
#define XMSG_OMEMO_VERSION 3

/* ---- crypto.c: the provider over OpenSSL 3 ---- */

/* The provider libomemo-c asks for (random, HMAC-SHA256, SHA-512,
 * AES-CBC/PKCS#5 and AES-CTR of 128, 192 or 256-bit keys). Static. */
const signal_crypto_provider *xmsg_omemo_crypto(void);

/* AES-128-GCM of the payload (12-byte IV, 16-byte tag): out receives len
 * bytes. 0 ok, -1 on failure (for decrypt: the tag does not match). */
int xmsg_omemo_gcm_encrypt(const uint8_t key[16], const uint8_t iv[12],
                           const uint8_t *in, size_t len, uint8_t *out,
                           uint8_t tag[16]);
int xmsg_omemo_gcm_decrypt(const uint8_t key[16], const uint8_t iv[12],
                           const uint8_t *in, size_t len, const uint8_t tag[16],
                           uint8_t *out);

/* A new signal context with our provider; NULL on failure. */
signal_context *xmsg_omemo_context_new(void);

/* The fingerprint of a public identity key as clients show it: the 32
 * bytes of the Curve25519 key (its 0x05 type byte left out) in lowercase
 * hex, in 8 groups of 8 separated by spaces. New string or NULL. */
char *xmsg_omemo_fingerprint_of(const uint8_t *key, size_t len);

/* Base64 of data accepting whitespace between characters (bundles of
 * some clients wrap lines). 0 ok, -1 malformed, -2 out of memory. */
int xmsg_omemo_b64_decode(const char *s, uint8_t **out, size_t *len);

/* ---- bundle.c: the PEP payloads (devicelist, bundle) ---- */
struct xmsg_omemo_store;

/* <list xmlns='eu.siacs.conversations.axolotl'> with a <device id=.../> per
 * id (owned), or NULL when out of memory. */
xmsg_xel *xmsg_omemo_devicelist_build(const uint32_t *ids, size_t n);

/* The device ids of a <list/> (duplicates and ids that are not numbers in
 * 1 .. 2^31 - 1 left out) into *ids (owned, may be NULL when *n is 0). NULL
 * list: none. 0, or -1 when out of memory. */
int xmsg_omemo_devicelist_parse(const xmsg_xel *list, uint32_t **ids,
                                size_t *n);

/* Our <bundle/> (owned): signed prekey, its signature, the identity key,
 * every prekey. NULL on failure. */
xmsg_xel *xmsg_omemo_bundle_build(struct xmsg_omemo_store *s);

/* A peer's <bundle/> of device_id into a session_pre_key_bundle (one of
 * its prekeys picked at random), for libomemo-c's session builder.
 * Returns XMSG_OK, XMSG_ERR_PROTOCOL (the bundle is malformed: said in
 * st), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_omemo_bundle_parse(const xmsg_xel *bundle, uint32_t device_id,
                                 signal_context *ctx,
                                 session_pre_key_bundle **out, xmsg_status *st);

#endif
