/* seal.h - OMEMO on the send path: the sealer the features call
 * (features/seal.h) for a session whose params say omemo. It opens the
 * account's store once per session (locked until the session closes),
 * keeps each recipient's device list for the session, publishes our
 * device once when needed, and saves the store before each sealed
 * stanza goes out. */
#ifndef XMSG_OMEMO_SEAL_H
#define XMSG_OMEMO_SEAL_H

#include "omemo/encrypt.h"
#include "xmsg_omemo.h"

/* api.c: the store of params' account, opened and locked (up to the
 * timeout); our device published when our list lacks it or prekeys were
 * used (publishNeeded). */
xmsg_err xmsg_omemo_store_of(const xmsg_params *p, xmsg_omemo_store **out,
                             xmsg_status *st);
xmsg_err xmsg_omemo_ensure_published(xmsg_conn *c, xmsg_omemo_store *store);

/* m with the fallback body and payload (owned), NULL when out of
 * memory. */
xmsg_message *xmsg_omemo_sealed_copy(const xmsg_message *m,
                                     const char *payload);

/* The store the session's sealer holds (borrowed), or NULL: a caller on
 * the same session uses it rather than opening the file again (its lock
 * is held). */
xmsg_omemo_store *xmsg_omemo_sealer_store(xmsg_session *s);

/* xmsg_omemo_send: m through xmsg_session_send with the session's sealer
 * (opened when the session has none) required to encrypt. */
xmsg_err xmsg_omemo_seal_send(xmsg_session *s, const xmsg_message *m,
                              xmsg_status *st);

#endif
