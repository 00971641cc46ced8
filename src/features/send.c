/* send.c - sessions (open, send one or a batch, close) and the one-call
 * send: all of them go through the batch engine (batch.c). */
#include <stdlib.h>
#include <string.h>

#include "features/seal.h"
#include "features/sessobj.h"

/* A field its kind cannot carry, written to buf; NULL when every field
 * travels: nothing is dropped silently. */
static const char *stray_field(const xmsg_message *m, char *buf, size_t len)
{
    const char *kind = xmsg_message_get(m, "kind"), *name;
    const int raw = kind && strcmp(kind, "raw") == 0;
    const int msg = !kind || strcmp(kind, "message") == 0;
    size_t i;

    for (i = 0; i < m->names.n; i++) {
        name = m->names.v[i];
        if (raw && strcmp(name, "kind") && strcmp(name, "xml"))
            snprintf(buf, len,
                     "message.%s: kind raw sends xml as it is, with nothing "
                     "else (put it in the XML)",
                     name);
        else if (!raw && strcmp(name, "xml") == 0)
            snprintf(buf, len, "message.xml: only with kind raw");
        else if (!msg && (!strcmp(name, "body") || !strcmp(name, "thread") ||
                          !strcmp(name, "subject")))
            snprintf(buf, len, "message.%s: only a message has one (kind %s)",
                     name, kind);
        else
            continue;
        return buf;
    }
    return NULL;
}

/* What each kind needs, written to buf; NULL when m can be sent. A
 * groupchat message to the joined room (to_room) needs no "to". */
static const char *check_message(const xmsg_message *m, int to_room, char *buf,
                                 size_t len)
{
    const char *kind = xmsg_message_get(m, "kind");
    const char *type = xmsg_message_get(m, "type");
    const char *body = xmsg_message_get(m, "body");
    const char *to = xmsg_message_get(m, "to");

    if (stray_field(m, buf, len))
        return buf;
    if (m->files.n && kind && strcmp(kind, "message") != 0)
        return "message.files: only a message carries files";
    if (to_room)
        return body || m->files.n ? NULL : "message.body: is required";
    if (kind && strcmp(kind, "raw") == 0)
        return xmsg_message_get(m, "xml") ? NULL
                                          : "message.xml: is required for "
                                            "kind raw";
    if (type && !xmsg_type_valid(kind, type))
        return "message.type: not a type of this kind of stanza";
    if (kind && strcmp(kind, "iq") == 0) {
        if (!type)
            return "message.type: an iq needs get, set, result or error";
        if ((!strcmp(type, "get") || !strcmp(type, "set")) &&
            !xmsg_message_get(m, "payload"))
            return "message.payload: an iq get or set needs its query";
        return NULL;
    }
    if (kind && strcmp(kind, "presence") == 0)
        return NULL;
    if ((!body || !*body) && !xmsg_message_get(m, "payload") && !m->files.n)
        return "message.body: is required";
    if (!to || !*to)
        return "message.to: is required";
    return NULL;
}

/* A raw stanza, parsed: one message, presence or iq, given an id when it
 * has none, and written back as the text that goes out. */
static int prepare_raw(xmsg_conn *c, xmsg_message *full, char *err,
                       size_t errlen)
{
    xmsg_xel *w = xmsg_xml_parse_fragment(xmsg_message_get(full, "xml"));
    xmsg_xel *st = w ? xmsg_xel_child(w, NULL, NULL) : NULL;
    xmsg_buf text = {0};
    char *id = NULL;
    int rc = -1;

    if (!st || xmsg_xel_next_el(st, NULL, NULL) || !xmsg_is_stanza(st)) {
        snprintf(err, errlen,
                 "message.xml: must be one <message/>, "
                 "<presence/> or <iq/>");
        goto out;
    }
    if (!xmsg_xel_attr(st, "id")) {
        id = xmsg_conn_new_id(c);
        if (!id || xmsg_xel_set_attr(st, "id", id))
            goto oom;
    }
    if (xmsg_xel_write(st, XMSG_NS_CLIENT, &text) ||
        xmsg_message_put(full, "xml", text.d) ||
        xmsg_message_put(full, "id", xmsg_xel_attr(st, "id")))
        goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    xmsg_buf_free(&text);
    xmsg_xel_free(w);
    free(id);
    return rc;
}

/* The message as sent: the caller's fields plus the defaults (for a
 * <message/>: the seed's type, ns, from and language). */
static int add_defaults(xmsg_message *m, const char *jid)
{
    static const char *const keys[] = {"type", "ns", "from", "xml:lang"};
    const char *vals[] = {"chat", "jabber:client", jid, "en"};
    const char *kind = xmsg_message_get(m, "kind");
    size_t i;

    if (kind && strcmp(kind, "message") != 0)
        return 0;
    for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        if (!xmsg_message_get(m, keys[i]) &&
            xmsg_message_put(m, keys[i], vals[i]))
            return -1;
    }
    return 0;
}

xmsg_message *xmsg_message_prepare(xmsg_conn *c, xmsg_message *m, char *err,
                                   size_t errlen)
{
    const char *bad = check_message(m, 0, err, errlen);

    if (bad) {
        if (bad != err)
            snprintf(err, errlen, "%s", bad);
        goto fail;
    }
    if (add_defaults(m, c->params->jid))
        goto oom;
    if (xmsg_message_get(m, "xml"))
        return prepare_raw(c, m, err, errlen) ? (xmsg_message_free(m), NULL)
                                              : m;
    if (xmsg_conn_give_id(c, m))
        goto oom;
    return m;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    xmsg_message_free(m);
    return NULL;
}

/* ---- one message as a batch of one ---- */

struct one {
    const xmsg_message *m;
    int taken;
    xmsg_err code;
    char *text;
    int encrypted; /* as the status tells it (0: params ask for none) */
};

static xmsg_next one_next(void *userdata, int may_block, xmsg_message **m,
                          char *err, size_t errlen)
{
    struct one *o = userdata;

    (void)may_block;
    if (o->taken)
        return XMSG_NEXT_END;
    o->taken = 1;
    *m = xmsg_message_copy(o->m);
    if (!*m) {
        snprintf(err, errlen, "out of memory");
        return XMSG_NEXT_INVALID;
    }
    return XMSG_NEXT_MESSAGE;
}

static int one_done(void *userdata, size_t index, const xmsg_message *m,
                    xmsg_err code, const char *text)
{
    struct one *o = userdata;
    const char *enc = m ? xmsg_message_get(m, "encrypted") : NULL;

    (void)index;
    if (enc)
        o->encrypted = strcmp(enc, "omemo") == 0 ? 1 : -1;
    o->code = code;
    o->text = text ? xmsg_strdup(text) : NULL;
    return 0;
}

xmsg_err xmsg_session_send_one(xmsg_conn *c, const xmsg_message *m,
                               int keep_deadline)
{
    struct one o = {m, 0, XMSG_OK, NULL, 0};
    struct xmsg_batch_io io = {one_next, one_done, &o, keep_deadline, 1};
    xmsg_err rc = xmsg_batch_run(c, &io);

    /* The message's own failure is the call's, before the session's. */
    if (o.code != XMSG_OK) {
        xmsg_status_clear_error(c->st);
        xmsg_status_fail(c->st, o.code, "%s", o.text ? o.text : "failed");
        rc = o.code;
    }
    free(o.text);
    c->st->delivered = rc == XMSG_OK;
    c->st->encrypted = o.encrypted;
    return rc;
}

/* A session of one call: log in (joining params' room), send, close;
 * each wait for the server (login, join, confirmation) within timeout. */
xmsg_err xmsg_send(const xmsg_params *p, const xmsg_message *m, xmsg_status *st)
{
    xmsg_session *s = NULL;
    char buf[XMSG_ERRTEXT_MAX];
    const char *bad, *kind = m ? xmsg_message_get(m, "kind") : NULL;
    xmsg_err rc;

    if (!st)
        return XMSG_ERR_INPUT;
    st->is_send = 1;
    if (!m)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "message: none given");
    rc = xmsg_params_check(p, st);
    if (rc)
        return rc;
    /* Bad input connects to nothing. */
    bad = check_message(m,
                        p->room && !xmsg_message_get(m, "to") &&
                            (!kind || !strcmp(kind, "message")),
                        buf, sizeof(buf));
    if (bad)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "%s", bad);
    rc = xmsg_session_start(p, XMSG_SESSION_ONE_CALL | XMSG_SESSION_NO_POLL, &s,
                            st);
    if (!rc)
        rc = xmsg_session_send(s, m, st);
    xmsg_session_close(s, st);
    st->delivered = rc == XMSG_OK;
    return rc;
}

/* ---- sessions ---- */

/* Points the session's log and errors at st for one call. */
static xmsg_status *use_status(xmsg_session *s, xmsg_status *st)
{
    if (!st) {
        xmsg_status_free(s->own);
        s->own = xmsg_status_new();
        st = s->own;
    }
    if (st)
        xmsg_conn_use_status(&s->c, st);
    return st;
}

xmsg_err xmsg_session_start(const xmsg_params *p, unsigned flags,
                            xmsg_session **out, xmsg_status *st)
{
    xmsg_session *s;
    xmsg_err rc;

    if (!out)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "session: nowhere to put");
    *out = NULL;
    rc = xmsg_params_check(p, st);
    if (rc)
        return rc;
    s = calloc(1, sizeof(*s));
    if (s)
        s->p = xmsg_params_dup(p);
    if (s)
        s->own = xmsg_status_new();
    if (s)
        s->c.no_sm = (flags & XMSG_SESSION_NO_SM) != 0;
    if (!s || !s->p || !s->own || !use_status(s, st))
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    else
        rc = xmsg_conn_open(&s->c, s->p, s->c.st); /* cleans up on failure */
    if (rc) {
        if (s)
            xmsg_params_free(s->p);
        if (s)
            xmsg_status_free(s->own);
        free(s);
        return rc;
    }
    /* The login was the server's first answer: the next wait is its own. */
    xmsg_conn_extend(&s->c);
    s->flags = flags;
    s->bare = xmsg_jid_bare_norm(s->p->jid);
    if (!(flags & XMSG_SESSION_NO_KEEP)) {
        xmsg_session_listen(s);
        xmsg_checkpoint_start(s);
    }
    rc = s->p->room ? xmsg_muc_join(s, s->p->room, s->p->nick,
                                    s->p->room_password, &s->occupant)
                    : XMSG_OK;
    if (!rc && s->p->room)
        xmsg_conn_extend(&s->c); /* the room answered: a wait of its own */
    if (!rc)
        rc = xmsg_seal_start(s);
    if (rc) {
        free(s->occupant);
        s->occupant = NULL;
        xmsg_session_close(s, s->c.st);
        return rc;
    }
    if (!(flags & XMSG_SESSION_ONE_CALL))
        xmsg_conn_leave(&s->c);
    *out = s;
    return XMSG_OK;
}

xmsg_err xmsg_session_open(const xmsg_params *p, xmsg_session **out,
                           xmsg_status *st)
{
    return xmsg_session_start(p, 0, out, st);
}

const char *xmsg_session_jid(const xmsg_session *s)
{
    return s ? xmsg_conn_jid(&s->c) : NULL;
}

/* A session whose connection failed stays failed. */
xmsg_err xmsg_session_alive(xmsg_session *s)
{
    if (s->lost)
        return xmsg_status_fail(s->c.st, XMSG_ERR_CONNECT,
                                "the connection is lost; xmsg_session_poll "
                                "reconnects");
    if (s->dead)
        return xmsg_status_fail(s->c.st, s->dead, "the session is over: %s",
                                s->dead_text ? s->dead_text : "failed");
    return XMSG_OK;
}

xmsg_status *xmsg_session_begin(xmsg_session *s, xmsg_status *st)
{
    st = use_status(s, st);
    if (!st)
        return NULL;
    /* A one-call session keeps its one deadline, and stays entered. */
    if (s->flags & XMSG_SESSION_ONE_CALL)
        return st;
    /* The deadline first: the previous call's has passed when the session
     * idled longer. */
    xmsg_conn_extend(&s->c);
    xmsg_conn_enter(&s->c);
    return st;
}

void xmsg_session_end(xmsg_session *s)
{
    xmsg_err code;

    /* Lost during a call (a hand-over's archive read, a send): the next
     * poll reconnects, when params ask for it and logging in again can
     * help; else the session is over. */
    if (s->c.closed && !s->dead && !s->lost) {
        code = xmsg_status_code(s->c.st) ? xmsg_status_code(s->c.st)
                                         : XMSG_ERR_CONNECT;
        if (s->p->reconnect && code != XMSG_ERR_AUTH && code != XMSG_ERR_TLS &&
            !(s->flags & XMSG_SESSION_ONE_CALL)) {
            xmsg_session_mark_lost(s);
        } else {
            s->dead = code;
            s->dead_text = xmsg_strdup(xmsg_status_text(s->c.st));
        }
    }
    if (!(s->flags & XMSG_SESSION_ONE_CALL))
        xmsg_conn_leave(&s->c);
}

/* A <message/> for the joined room: no recipient, or the room. */
static int for_room(const xmsg_session *s, const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");
    const char *to = xmsg_message_get(m, "to");

    return s->occupant && (!kind || !strcmp(kind, "message")) &&
           (!to || !strcmp(to, s->p->room));
}

/* A broadcast presence is sent again after a reconnection. */
static void remember_presence(xmsg_session *s, const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");

    if (!kind || strcmp(kind, "presence") != 0 || xmsg_message_get(m, "to"))
        return;
    xmsg_message_free(s->presence);
    s->presence = xmsg_message_copy(m);
}

xmsg_err xmsg_session_send(xmsg_session *s, const xmsg_message *m,
                           xmsg_status *st)
{
    char buf[XMSG_ERRTEXT_MAX];
    const char *bad;
    xmsg_err rc;

    if (!s)
        return xmsg_status_fail(st, XMSG_ERR_INPUT, "session: none given");
    if (!use_status(s, st))
        return XMSG_ERR_INTERNAL;
    s->c.st->is_send = 1;
    bad = !m ? "message: none given"
             : check_message(m, for_room(s, m), buf, sizeof(buf));
    if (bad)
        return xmsg_status_fail(s->c.st, XMSG_ERR_INPUT, "%s", bad);
    rc = xmsg_session_alive(s);
    if (rc)
        return rc;
    xmsg_session_begin(s, s->c.st);
    if (for_room(s, m))
        rc = xmsg_muc_send(s, m, s->p->room, s->occupant);
    else
        rc = xmsg_session_send_one(&s->c, m, s->flags & XMSG_SESSION_ONE_CALL);
    if (!rc)
        remember_presence(s, m);
    xmsg_session_end(s);
    return rc;
}

xmsg_err xmsg_session_send_batch(xmsg_session *s, xmsg_next_cb next,
                                 xmsg_result_cb done, void *userdata,
                                 xmsg_status *st)
{
    struct xmsg_batch_io io = {next, done, userdata, 0, 0};
    xmsg_err rc;

    if (!s || !next || !done)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "session, next and done are required");
    if (!use_status(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_session_alive(s);
    if (rc)
        return rc;
    xmsg_session_begin(s, s->c.st);
    rc = xmsg_batch_run(&s->c, &io);
    xmsg_session_end(s);
    return rc;
}

void xmsg_session_close(xmsg_session *s, xmsg_status *st)
{
    if (!s)
        return;
    xmsg_seal_stop(s); /* the store unlocked: what went out is in it */
    if (s->p && xmsg_session_begin(s, st)) {
        if (s->occupant && !s->dead)
            xmsg_muc_leave(s, s->occupant);
        xmsg_conn_close(&s->c);
    }
    free(s->occupant);
    free(s->bare);
    xmsg_checkpoint_free(s);
    xmsg_session_forget(s);
    xmsg_session_drop_queue(s);
    xmsg_params_free(s->p);
    xmsg_status_free(s->own);
    free(s->dead_text);
    free(s);
}

xmsg_err xmsg_send_batch(const xmsg_params *p, xmsg_next_cb next,
                         xmsg_result_cb done, void *userdata, xmsg_status *st)
{
    xmsg_session *s = NULL;
    xmsg_err rc;

    if (!st)
        return XMSG_ERR_INPUT;
    rc = xmsg_session_start(p, XMSG_SESSION_NO_POLL, &s, st);
    if (rc) {
        struct xmsg_batch_io io = {next, done, userdata, 0, 0};
        size_t index = 0, count = 0;

        if (next && done)
            xmsg_batch_refuse(&io, &index, rc, xmsg_status_text(st), &count);
        st->is_batch = 1;
        st->batch_inputs += index;
        st->batch_failed += count;
        return rc;
    }
    rc = xmsg_session_send_batch(s, next, done, userdata, st);
    xmsg_session_close(s, st);
    return rc;
}
