/* muc.c - group chat (XEP-0045): join a room (configuring it as an
 * instant room when the join created it), send to it with the room's
 * reflection of the message as the proof, leave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/sessobj.h"

#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER NS_MUC "#user"
#define NS_MUC_OWNER NS_MUC "#owner"

struct join {
    const char *room;
    const char *occupant; /* room/nick */
    int joined, created, failed;
    char cond[128];
};

/* A status code of the room's muc#user element. */
static int has_status(const xmsg_xel *presence, const char *code)
{
    const xmsg_xel *x = xmsg_xel_child(presence, NS_MUC_USER, "x");
    const xmsg_xel *c;
    const char *v;

    for (c = x ? xmsg_xel_child(x, NULL, NULL) : NULL; c;
         c = xmsg_xel_next_el(c, NULL, NULL)) {
        v = xmsg_xel_attr(c, "code");
        if (v && strcmp(v, code) == 0)
            return 1;
    }
    return 0;
}

static int on_room_presence(xmsg_conn *conn, const xmsg_xel *stanza,
                            void *userdata)
{
    struct join *j = userdata;
    const char *from = xmsg_xel_attr(stanza, "from");
    const char *type = xmsg_xel_attr(stanza, "type");

    (void)conn;
    if (!from || !xmsg_jid_bare_is(from, j->room))
        return 1;
    if (type && strcmp(type, "error") == 0) {
        j->failed = 1;
        xmsg_error_condition(stanza, j->cond, sizeof(j->cond));
        return 1;
    }
    if (type && strcmp(type, "unavailable") == 0)
        return 1;
    /* Our own presence comes last, with status 110 (or our nick). */
    if (has_status(stanza, "110") || strcmp(from, j->occupant) == 0) {
        j->joined = 1;
        j->created |= has_status(stanza, "201");
    }
    return 1;
}

/* The presence that joins: no history (what was said before is not what
 * a sender or listener asked for), the password if any. */
static xmsg_message *join_presence(const char *occupant, const char *password)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_buf b = {NULL, 0, 0};
    int rc = !m || xmsg_buf_str(&b, "<x xmlns='" NS_MUC "'>"
                                    "<history maxstanzas='0'/>");

    if (!rc && password)
        rc = xmsg_buf_str(&b, "<password>") || xmsg_xml_escape(&b, password) ||
             xmsg_buf_str(&b, "</password>");
    rc = rc || xmsg_buf_str(&b, "</x>") ||
         xmsg_message_put(m, "kind", "presence") ||
         xmsg_message_put(m, "to", occupant) ||
         xmsg_message_put(m, "payload", b.d);
    xmsg_secure_zero(b.d, b.len);
    xmsg_buf_free(&b);
    if (rc) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}

/* A room the join created is locked until its owner configures it: the
 * default configuration, at once (an instant room). */
static xmsg_err make_instant(xmsg_session *s, const char *room)
{
    xmsg_message *iq = xmsg_message_new(), *reply = NULL;
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (iq && !xmsg_message_put(iq, "kind", "iq") &&
        !xmsg_message_put(iq, "type", "set") &&
        !xmsg_message_put(iq, "to", room) &&
        !xmsg_message_put(iq, "payload",
                          "<query xmlns='" NS_MUC_OWNER "'>"
                          "<x xmlns='jabber:x:data' type='submit'/></query>"))
        rc = xmsg_session_exchange(s, iq, &reply);
    xmsg_message_free(reply);
    xmsg_message_free(iq);
    return rc;
}

static char *occupant_of(const xmsg_params *p, const char *room,
                         const char *nick)
{
    xmsg_buf b = {NULL, 0, 0};
    size_t local = strcspn(p->jid, "@");

    if (xmsg_buf_str(&b, room) || xmsg_buf_str(&b, "/") ||
        (nick ? xmsg_buf_str(&b, nick) : xmsg_buf_put(&b, p->jid, local))) {
        xmsg_buf_free(&b);
        return NULL;
    }
    return b.d;
}

xmsg_err xmsg_muc_join(xmsg_session *s, const char *room, const char *nick,
                       const char *password, char **occupant)
{
    struct join j = {room, NULL, 0, 0, 0, ""};
    xmsg_message *pres;
    xmsg_err rc;

    *occupant = occupant_of(s->p, room, nick);
    pres = *occupant ? join_presence(*occupant, password) : NULL;
    if (!pres)
        return xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    j.occupant = *occupant;
    if (xmsg_conn_handler_add(&s->c, on_room_presence, "presence", NULL, &j)) {
        xmsg_message_free(pres);
        return xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    }
    rc = xmsg_session_send_one(&s->c, pres, 1);
    while (!rc && !j.joined && !j.failed && !s->c.closed &&
           xmsg_now_ms() < s->c.deadline)
        xmsg_conn_run(&s->c, 100);
    xmsg_conn_handler_delete(&s->c, on_room_presence);
    xmsg_message_free(pres);
    if (rc == XMSG_ERR_PROTOCOL) /* the join presence came back */
        return xmsg_status_recode(
            s->c.st, XMSG_ERR_PROTOCOL,
            strstr(xmsg_status_text(s->c.st), "not-authorized")
                ? "the room refused us: a wrong or missing room password"
                : "the room refused us");
    if (!rc && j.failed)
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_PROTOCOL,
                              "the room %s refused us: %s%s", room, j.cond,
                              strcmp(j.cond, "not-authorized") == 0
                                  ? " (a wrong or missing room password)"
                                  : "");
    else if (!rc && !j.joined)
        rc = xmsg_conn_fail(&s->c, "joining the room");
    if (!rc)
        xmsg_conn_log(&s->c, XMSG_LOG_INFO, "joined %s as %s%s", room,
                      *occupant, j.created ? " (a new room)" : "");
    if (!rc && j.created)
        rc = make_instant(s, room);
    return rc;
}

xmsg_err xmsg_muc_leave(xmsg_session *s, const char *occupant)
{
    xmsg_message *pres = xmsg_message_new();
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (pres && !xmsg_message_put(pres, "kind", "presence") &&
        !xmsg_message_put(pres, "type", "unavailable") &&
        !xmsg_message_put(pres, "to", occupant))
        rc = xmsg_session_send_one(&s->c, pres, 1);
    xmsg_message_free(pres);
    return rc;
}

struct reflection {
    const char *occupant, *id;
};

/* The room sends every message back to every occupant, the sender too,
 * with the sender's id: that reflection proves the room took it. */
static int is_reflection(const xmsg_message *r, const void *arg)
{
    const struct reflection *want = arg;
    const char *occupant = want->occupant, *id = want->id;
    const char *from = xmsg_message_get(r, "from");
    const char *rid = xmsg_message_get(r, "id");
    const char *kind = xmsg_message_get(r, "kind");
    const char *type = xmsg_message_get(r, "type");

    return kind && !strcmp(kind, "message") && type &&
           !strcmp(type, "groupchat") && from && !strcmp(from, occupant) &&
           rid && !strcmp(rid, id);
}

xmsg_err xmsg_muc_send(xmsg_session *s, const xmsg_message *m, const char *room,
                       const char *occupant)
{
    xmsg_message *full = xmsg_message_copy(m);
    struct reflection want = {occupant, NULL};
    const int take = (s->flags & XMSG_SESSION_NO_POLL) != 0;
    xmsg_err rc = XMSG_ERR_INTERNAL;
    xmsg_message *r;
    size_t from = 0;

    if (!full || xmsg_conn_give_id(&s->c, full) ||
        xmsg_message_put(full, "to", room) ||
        xmsg_message_put(full, "type", "groupchat"))
        goto out;
    want.id = xmsg_message_get(full, "id");
    xmsg_session_await(s, is_reflection, &want);
    rc = xmsg_session_send_one(&s->c, full, 1);
    while (!rc) {
        /* Seen; a session that polls hands it out too. */
        r = xmsg_session_find(s, &from, is_reflection, &want, take);
        if (r && take)
            xmsg_message_free(r);
        if (r)
            goto out;
        if (s->c.closed || xmsg_now_ms() >= s->c.deadline) {
            xmsg_conn_fail(&s->c, "waiting for the room's reflection");
            rc = xmsg_status_recode(s->c.st, XMSG_ERR_UNCONFIRMED,
                                    "the server took the message but the "
                                    "room did not reflect it");
            break;
        }
        xmsg_conn_run(&s->c, 100);
    }
out:
    xmsg_session_await(s, NULL, NULL);
    if (rc == XMSG_ERR_INTERNAL && !xmsg_status_code(s->c.st))
        xmsg_status_fail(s->c.st, rc, "out of memory");
    s->c.st->delivered = rc == XMSG_OK;
    xmsg_message_free(full);
    return rc;
}

/* ---- what end-to-end encryption to a room needs (XEP-0384 in MUC) ---- */

#define NS_MUC_ADMIN NS_MUC "#admin"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"

/* An iq get to room with a <query xmlns=ns/> (and an <item
 * affiliation/> in it when affiliation is not NULL), asked on the
 * connection alone: it may run while the batch engine seals a message.
 * *query: the reply's first child, borrowed from *wrap (owned). An error
 * reply is XMSG_ERR_PROTOCOL with its condition in *cond. */
static xmsg_err room_get(xmsg_session *s, const char *room, const char *ns,
                         const char *affiliation, xmsg_xel **wrap,
                         const xmsg_xel **query, char *cond, size_t len)
{
    xmsg_xel *iq = xmsg_xel_new(XMSG_NS_CLIENT, "iq"), *q = NULL, *item;
    const xmsg_xel *ans = NULL;
    const char *type;
    xmsg_err rc;

    *wrap = NULL;
    *query = NULL;
    snprintf(cond, len, "%s", "no reply");
    q = iq && !xmsg_xel_set_attr(iq, "type", "get")
            ? xmsg_xel_add_new(iq, ns, "query")
            : NULL;
    item = q && affiliation ? xmsg_xel_add_new(q, ns, "item") : NULL;
    if (!q || (affiliation &&
               (!item || xmsg_xel_set_attr(item, "affiliation", affiliation))))
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    else
        rc = xmsg_conn_ask(&s->c, iq, room, wrap, &ans);
    type = ans ? xmsg_xel_attr(ans, "type") : NULL;
    if (!rc && (!type || strcmp(type, "result") != 0)) {
        xmsg_error_condition(ans, cond, len);
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_PROTOCOL, "%s: %s", room, cond);
    }
    if (!rc)
        *query = xmsg_xel_child(ans, NULL, NULL);
    xmsg_xel_free(iq);
    return rc;
}

/* 1 if the disco#info query lists feature var. */
static int has_feature(const xmsg_xel *query, const char *var)
{
    const xmsg_xel *f;
    const char *v;

    for (f = query ? xmsg_xel_child(query, NS_DISCO_INFO, "feature") : NULL; f;
         f = xmsg_xel_next_el(f, NS_DISCO_INFO, "feature")) {
        v = xmsg_xel_attr(f, "var");
        if (v && strcmp(v, var) == 0)
            return 1;
    }
    return 0;
}

xmsg_err xmsg_muc_check_private(xmsg_session *s, const char *room)
{
    xmsg_xel *wrap = NULL;
    const xmsg_xel *query = NULL;
    char cond[128];
    int members, named;
    xmsg_err rc = room_get(s, room, NS_DISCO_INFO, NULL, &wrap, &query, cond,
                           sizeof(cond));

    if (rc == XMSG_ERR_PROTOCOL) {
        xmsg_status_clear_error(s->c.st);
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_PROTOCOL,
                              "the room %s refused its disco#info: %s", room,
                              cond);
    }
    if (rc)
        goto out;
    members = has_feature(query, "muc_membersonly");
    named = has_feature(query, "muc_nonanonymous");
    if (!members || !named)
        rc = xmsg_status_fail(
            s->c.st, XMSG_ERR_INPUT,
            "the room %s is %s%s%s: end-to-end encryption needs a "
            "members-only, non-anonymous room (muc_membersonly, "
            "muc_nonanonymous); nothing sent",
            room, members ? "" : "open (not members-only)",
            !members && !named ? " and " : "",
            named ? "" : "semi-anonymous (not non-anonymous)");
out:
    xmsg_xel_free(wrap);
    return rc;
}

/* Adds the bare JID of every item of an affiliation list to out (once). */
static int add_items(const xmsg_xel *query, xmsg_strvec *out)
{
    const xmsg_xel *it;
    char *bare;
    size_t i;
    int dup;

    for (it = query ? xmsg_xel_child(query, NS_MUC_ADMIN, "item") : NULL; it;
         it = xmsg_xel_next_el(it, NS_MUC_ADMIN, "item")) {
        bare = xmsg_xel_attr(it, "jid")
                   ? xmsg_jid_bare_norm(xmsg_xel_attr(it, "jid"))
                   : NULL;
        for (i = 0, dup = 0; bare && i < out->n; i++)
            dup |= strcmp(out->v[i], bare) == 0;
        if (bare && dup)
            free(bare);
        else if (bare && xmsg_strvec_push_owned(out, bare))
            return -1;
    }
    return 0;
}

/* One affiliation list into out; a list the room does not show us is
 * left out at warn level. */
static xmsg_err add_affiliation(xmsg_session *s, const char *room,
                                const char *affiliation, xmsg_strvec *out)
{
    xmsg_xel *wrap = NULL;
    const xmsg_xel *query = NULL;
    char cond[128];
    xmsg_err rc = room_get(s, room, NS_MUC_ADMIN, affiliation, &wrap, &query,
                           cond, sizeof(cond));

    if (rc == XMSG_ERR_PROTOCOL) {
        xmsg_status_clear_error(s->c.st);
        xmsg_conn_log(&s->c, XMSG_LOG_WARN,
                      "the room %s does not show us its %ss: %s", room,
                      affiliation, cond);
        rc = XMSG_OK;
    }
    if (!rc && add_items(query, out))
        rc = xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
    xmsg_xel_free(wrap);
    return rc;
}

xmsg_err xmsg_muc_members(xmsg_session *s, const char *room, xmsg_strvec *out)
{
    static const char *const lists[] = {"owner", "admin", "member"};
    xmsg_err rc = XMSG_OK;
    size_t i;

    for (i = 0; !rc && i < sizeof(lists) / sizeof(*lists); i++)
        rc = add_affiliation(s, room, lists[i], out);
    if (!rc)
        xmsg_conn_log(&s->c, XMSG_LOG_INFO, "the room %s has %zu member(s)",
                      room, out->n);
    return rc;
}
