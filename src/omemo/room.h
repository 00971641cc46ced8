/* room.h - OMEMO to a group chat (XEP-0384 in a XEP-0045 room): the
 * room's suitability and members (src/features/muc.c), one <encrypted/>
 * to every member's devices and our own other devices, sent as a
 * groupchat message. */
#ifndef XMSG_OMEMO_ROOM_H
#define XMSG_OMEMO_ROOM_H

#include "features/sessobj.h"
#include "omemo/store.h"

/* Seals m (a message with a body, for the room) for room: the room must
 * be members-only and non-anonymous (else XMSG_ERR_INPUT, nothing
 * sent); its owners, admins and members but us each get a key for every
 * device of theirs (a member without one is left out at warn level, none
 * at all is XMSG_ERR_INPUT), our own other devices too. *out (owned): a
 * copy of m with the fallback body and the encrypted payload (EME, store
 * hint), to send to the room. The store is saved before it returns (the
 * sessions it moved on). The OMEMO send hook of sessions calls this for
 * a message to the joined room. */
xmsg_err xmsg_omemo_room_seal(xmsg_session *s, xmsg_omemo_store *store,
                              const char *room, const xmsg_message *m,
                              xmsg_message **out);

#endif
