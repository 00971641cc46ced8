/* room.c - see room.h, and xmsg_omemo_send_room (include/xmsg_omemo.h). */
#include <stdlib.h>
#include <string.h>

#include "omemo/encrypt.h"
#include "omemo/room.h"
#include "omemo/seal.h"
#include "xmsg_omemo.h"

/* The room's members but us (bare JIDs, owned by out). */
static xmsg_err recipients(xmsg_session *s, const char *room, xmsg_strvec *out)
{
    xmsg_strvec all = {NULL, 0, 0};
    xmsg_err rc = xmsg_muc_members(s, room, &all);
    size_t i;

    for (i = 0; !rc && i < all.n; i++) {
        if (strcmp(all.v[i], s->bare) == 0)
            continue;
        if (xmsg_strvec_push(out, all.v[i]))
            rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    }
    if (!rc && out->n == 0)
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INPUT,
                              "OMEMO: the room %s has no member but us "
                              "(or does not show us its members): nothing "
                              "sent",
                              room);
    xmsg_strvec_clear(&all);
    return rc;
}

xmsg_err xmsg_omemo_room_seal(xmsg_session *s, xmsg_omemo_store *store,
                              const char *room, const xmsg_message *m,
                              xmsg_message **out)
{
    xmsg_strvec to = {NULL, 0, 0};
    xmsg_xel *enc = NULL;
    char *payload = NULL;
    xmsg_err rc = xmsg_muc_check_private(s, room);

    *out = NULL;
    if (!rc)
        rc = recipients(s, room, &to);
    if (!rc)
        rc = xmsg_omemo_encrypt_list(&s->c, store, s->bare,
                                     (const char *const *)to.v, to.n,
                                     xmsg_message_get(m, "body"), &enc);
    if (!rc)
        rc = xmsg_omemo_save_payload(store, s->c.st, enc, &payload);
    *out = payload ? xmsg_omemo_sealed_copy(m, payload) : NULL;
    if (!rc && !*out)
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    free(payload);
    xmsg_xel_free(enc);
    xmsg_strvec_clear(&to);
    return rc;
}

/* m is a message with a body and no payload, for the joined room. */
static int for_the_room(const xmsg_session *s, const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");
    const char *to = xmsg_message_get(m, "to");

    return s->occupant && s->p->room && xmsg_message_get(m, "body") &&
           !xmsg_message_get(m, "payload") &&
           (!kind || strcmp(kind, "message") == 0) &&
           (!to || strcmp(to, s->p->room) == 0);
}

xmsg_err xmsg_omemo_send_room(xmsg_session *s, const xmsg_message *m,
                              xmsg_status *st)
{
    if (!s || !m || !for_the_room(s, m))
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "OMEMO: a message with a body (no payload) "
                                "for the room of a session opened with "
                                "params room is required");
    /* One way: the send path's sealer (seal.c), required this time. */
    return xmsg_omemo_seal_send(s, m, st);
}
