/* xmsg_omemo.h - OMEMO end-to-end encryption (XEP-0384, legacy
 * eu.siacs.conversations.axolotl), in a build with XMSG_OMEMO only.
 *
 * A build with OMEMO links libomemo-c, which is GPL-3: the library and the
 * program built with it are then distributed under the GPL-3 (README). */
#ifndef XMSG_OMEMO_PUBLIC_H
#define XMSG_OMEMO_PUBLIC_H

#include "xmsg.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XMSG_BUILDING) && defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/*
 * The account's OMEMO identity lives in a store next to its checkpoint
 * (params stateFile without ".json", plus ".omemo.json"; else
 * $XDG_STATE_HOME/xmsg/<bare jid>.omemo.json): identity key,
 * registration id, device id, signed prekey, 100 prekeys, sessions and
 * trust. It is created on first use and kept: the device id never changes
 * from one run to the next. It is locked while in use (another process
 * waits up to the params' timeout). A store that cannot be read is an
 * error (XMSG_ERR_INPUT), never replaced by a new identity.
 *
 * Trust is blind before verification: any device of a JID is trusted
 * until a fingerprint of that JID is pinned.
 *
 * Receiving: with params "omemo" (true), xmsg_connect(),
 * xmsg_connect_each() and xmsg_session_poll() hand received OMEMO
 * messages over decrypted, as xmsg_omemo_decrypt() describes (never
 * dropped: decryptError when they cannot be). The store is opened at the
 * first OMEMO message of a collection or of a poll and closed at its end
 * (locked meanwhile). A prekey message is answered with an empty OMEMO
 * message (a heartbeat: the sender leaves the prekey state); a used
 * prekey is replaced and our bundle published again before the call
 * ends (a failure there is logged at warn level). A message without
 * payload (key transport, heartbeat) is processed and not handed over
 * (debug log), unless it cannot be (then handed over with
 * decryptError, without body). Group chat messages are left as they are.
 * A program linked with the static library must call one of the
 * functions below (xmsg_omemo_identity() will do) for this to be linked
 * in; else params omemo is refused as input.
 */

/**
 * Registers OMEMO on the send path (params "omemo": xmsg_send,
 * xmsg_send_batch, xmsg_session_send, xmsg_session_send_batch). The
 * shared library does it when it is loaded; a program linked with the
 * static library calls it once before starting a session with params
 * omemo (else such a session is refused as a build without OMEMO).
 * Idempotent.
 */
void xmsg_omemo_init(void);

/**
 * Our device id and fingerprint, from the account's store (created when
 * missing; no network).
 * @param p params with jid (and stateFile when not the default place).
 * @param device_id set to our device id.
 * @param fingerprint set to a new string (xmsg_free): the identity key's
 *        32 bytes in lowercase hex, in 8 groups of 8, as clients show it.
 * @return XMSG_OK; XMSG_ERR_INPUT (no jid, no place for the store, or
 *         the store cannot be read); XMSG_ERR_TIMEOUT (the store stayed
 *         locked for the params' timeout); XMSG_ERR_INTERNAL.
 */
xmsg_err xmsg_omemo_identity(const xmsg_params *p, uint32_t *device_id,
                             char **fingerprint, xmsg_status *st);

/**
 * Publishes our device over PEP: our bundle
 * (eu.siacs.conversations.axolotl.bundles:DEVICE) and, when our device is
 * not in it, the device list (ours added, the others kept), both with
 * publish-options pubsub#access_model=open; a node configured otherwise is
 * reconfigured to open.
 * @return XMSG_OK; XMSG_ERR_PROTOCOL (the server refused: its condition
 *         in the status text); the store's errors as xmsg_omemo_identity;
 *         the session's (connection, timeout).
 */
xmsg_err xmsg_omemo_publish(xmsg_session *s, xmsg_status *st);

/**
 * The OMEMO devices jid publishes, each with the fingerprint of its
 * bundle's identity key.
 * @param json set to a new string (xmsg_free): a JSON array of
 *        {"device": N, "fingerprint": "..."} in the device list's order;
 *        fingerprint null when the device has no readable bundle; [] when
 *        jid has no device list.
 * @return XMSG_OK; XMSG_ERR_INPUT (jid is not a bare account JID);
 *         XMSG_ERR_PROTOCOL (the server refused the device list: its
 *         condition in the status); the session's errors.
 */
xmsg_err xmsg_omemo_devices(xmsg_session *s, const char *jid, char **json,
                            xmsg_status *st);

/**
 * Sends m (a message with "to" and "body", no "payload") encrypted with
 * OMEMO to every device of its recipient and to our own other devices,
 * and waits for the server's confirmation as xmsg_session_send does. The
 * stanza carries the <encrypted/> element, EME (XEP-0380), a store hint
 * and a fallback body; never the text in clear. Sessions are built from
 * the devices' bundles as needed (a device without a usable bundle, or
 * whose identity is not the one pinned, is left out: told in the log) and
 * saved in the store before the message goes out. Our device is published
 * first when our device list lacks it (the recipient looks it up there).
 * A message with "files" (body optional: the caption) has them encrypted
 * (XEP-0454: AES-256-GCM, a random key and IV per file) as they are
 * uploaded under random names; the caption goes first as a message of its
 * own, then one message per file whose encrypted body is exactly its
 * aesgcm:// URL (no jabber:x:oob, nothing of the file in clear); a
 * recipient without devices is refused before any upload. The upload's
 * failures are xmsg_session_upload()'s.
 * @return XMSG_OK; XMSG_ERR_INPUT (m is not such a message, or the
 *         recipient has no device we can encrypt to: nothing is sent); the
 *         store's errors as xmsg_omemo_identity; xmsg_session_send's.
 */
xmsg_err xmsg_omemo_send(xmsg_session *s, const xmsg_message *m,
                         xmsg_status *st);

/**
 * Sends m (a message with "body", no "payload", and no "to" or the room's
 * JID) encrypted with OMEMO to the room s joined (a session opened with
 * params room), as Conversations and Dino do: the room must be
 * members-only and non-anonymous (its disco#info: muc_membersonly,
 * muc_nonanonymous); every owner, admin and member of it but us (its
 * affiliation lists) gets a key for each of their devices, and so do our
 * own other devices; one groupchat message with the <encrypted/>
 * element, EME, a store hint and a fallback body, confirmed by the room's
 * reflection as xmsg_session_send does. A member without a device we can
 * encrypt to is left out (told in the log at warn level).
 * @return XMSG_OK; XMSG_ERR_INPUT (m is not such a message, the session
 *         is in no room, the room is open or semi-anonymous, or no
 *         member has a device we can encrypt to: nothing is sent);
 *         XMSG_ERR_PROTOCOL (the room refused its disco#info); the
 *         store's errors as xmsg_omemo_identity; xmsg_session_send's.
 */
xmsg_err xmsg_omemo_send_room(xmsg_session *s, const xmsg_message *m,
                              xmsg_status *st);

/**
 * Decrypts a received OMEMO message (one handed over by connect, listen or
 * xmsg_session_poll whose "payload" holds an <encrypted/> of
 * eu.siacs.conversations.axolotl) with the account's store.
 * @param p the params of the account that received it (its store).
 * @return a new message (xmsg_message_free): m's fields and "encrypted":
 *         "omemo", with "body" the decrypted text, "senderDevice" and the
 *         sender device's "fingerprint"; or, when it cannot be decrypted,
 *         m's body (the sender's fallback) and "decryptError" saying why
 *         (never dropped); a device not pinned when the sender has pins
 *         gets decryptError ("untrusted: ..."), never the text. NULL when
 *         m is no OMEMO message (nothing to do)
 *         or out of memory (then st says so). Prekeys it uses up are
 *         replaced at once and published by the next xmsg_omemo_publish
 *         or xmsg_omemo_send (no heartbeat: no session here; params
 *         omemo does both).
 */
xmsg_message *xmsg_omemo_decrypt(const xmsg_params *p, const xmsg_message *m,
                                 xmsg_status *st);

/**
 * Pins fingerprint for jid in the account's store: from then on only the
 * pinned devices of jid are trusted (sessions with others are refused and
 * they get no key; the log says so at warn level). Pinning several adds
 * them all. No network.
 * @param fingerprint 64 hex digits, in groups (as xmsg omemo devices
 *        shows them) or not.
 * @return XMSG_OK; XMSG_ERR_INPUT (not a bare account JID, not a
 *         fingerprint, or the store cannot be read); the store's errors
 *         as xmsg_omemo_identity.
 */
xmsg_err xmsg_omemo_trust(const xmsg_params *p, const char *jid,
                          const char *fingerprint, xmsg_status *st);

/**
 * Removes the pin of fingerprint for jid (xmsg_omemo_trust's undoing).
 * Without pins left, every device of jid is trusted again (blind trust).
 * No network.
 * @return XMSG_OK; XMSG_ERR_INPUT (not a bare account JID, not a
 *         fingerprint, not pinned for jid, or the store cannot be read);
 *         the store's errors as xmsg_omemo_identity.
 */
xmsg_err xmsg_omemo_untrust(const xmsg_params *p, const char *jid,
                            const char *fingerprint, xmsg_status *st);

#if defined(XMSG_BUILDING) && defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
