/* store.h - the OMEMO store of one account: one JSON file next to the
 * checkpoint (<checkpoint without .json>.omemo.json), mode 0600, replaced
 * atomically (temp + rename), locked (flock on its ".lock" companion, as
 * the checkpoint) for as long as it is open:
 *
 *   {"version":1, "deviceId":N, "registrationId":N,
 *    "identity":{"public":B64, "private":B64},
 *    "signedPreKeys":{"ID":B64}, "signedPreKeyId":N,
 *    "preKeys":{"ID":B64}, "nextPreKeyId":N,
 *    "sessions":{"JID":{"DEVICE":B64}},
 *    "identities":{"JID":{"DEVICE":B64}},
 *    "trust":{"JID":["FINGERPRINT", ...]}}
 *
 * B64: libomemo-c's own serialisations (public keys with their 0x05 type
 * byte). The device id is created once with the identity and never
 * changes; a file that cannot be read is an error, never replaced. */
#ifndef XMSG_OMEMO_STORE_H
#define XMSG_OMEMO_STORE_H

#include <signal_protocol.h>

#include "omemo/omemo.h"

typedef struct xmsg_omemo_store {
    char *path;          /* the store file (owned) */
    int lock_fd;         /* the flock on path + ".lock"; -1: none */
    json_t *root;        /* the whole store, as in the file (owned) */
    int dirty;           /* changed since the last save */
    signal_context *ctx; /* owned */
    signal_protocol_store_context *sctx; /* owned; callbacks on root */
} xmsg_omemo_store;

/* The store's path for params and account: new string, or NULL when no
 * place can be found (no stateFile, no XDG_STATE_HOME, no HOME). */
char *xmsg_omemo_store_path(const xmsg_params *p, const char *bare_jid);

/* Locks (waiting up to wait_ms for another holder), then loads the store
 * at path, or creates it (identity, registration id, device id, signed
 * prekey, XMSG_OMEMO_PREKEYS prekeys) and saves it before returning.
 * Returns XMSG_OK, XMSG_ERR_INPUT (the file is unreadable or not a
 * store: left as it is), XMSG_ERR_TIMEOUT (locked), XMSG_ERR_INTERNAL. */
xmsg_err xmsg_omemo_store_open(const char *path, long wait_ms,
                               xmsg_omemo_store **out, xmsg_status *st);

/* Writes the store if it changed (atomically). XMSG_OK or
 * XMSG_ERR_INTERNAL. */
xmsg_err xmsg_omemo_store_save(xmsg_omemo_store *s, xmsg_status *st);

/* Unlocks and frees (without saving); NULL-safe. */
void xmsg_omemo_store_free(xmsg_omemo_store *s);

uint32_t xmsg_omemo_store_device_id(const xmsg_omemo_store *s);

/* Our identity's public key (33 bytes, type byte first): new buffer, or
 * NULL. */
signal_buffer *xmsg_omemo_store_identity_public(const xmsg_omemo_store *s);

/* Our fingerprint (xmsg_omemo_fingerprint_of): new string or NULL. */
char *xmsg_omemo_store_fingerprint(const xmsg_omemo_store *s);

/* Generates prekeys until XMSG_OMEMO_PREKEYS are kept (ids go on from
 * nextPreKeyId, never reused). Returns how many were added, or -1. */
int xmsg_omemo_store_replenish(xmsg_omemo_store *s);

/* Number of prekeys kept. */
size_t xmsg_omemo_store_prekey_count(const xmsg_omemo_store *s);

/* ---- store_cb.c ---- */
/* Installs libomemo-c's store callbacks over s->root in s->sctx.
 * 0 or -1. */
int xmsg_omemo_store_callbacks(xmsg_omemo_store *s);

/* Base64 of a buffer as a new JSON string (NULL when out of memory). */
json_t *xmsg_omemo_b64_json(const uint8_t *data, size_t len);
/* A base64 JSON string decoded into a new signal buffer, or NULL. */
signal_buffer *xmsg_omemo_json_b64(const json_t *v);

#endif
