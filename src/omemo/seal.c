/* seal.c - see seal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/seal.h"
#include "features/sessobj.h"
#include "omemo/room.h"
#include "omemo/seal.h"

struct sealer {
    xmsg_session *s;         /* whose sealer this is */
    const xmsg_params *p;    /* the session's */
    xmsg_omemo_store *store; /* from the first message to seal: locked
                                until the session closes */
    xmsg_err store_err;      /* it could not be opened: every message */
    char *store_text;        /* fails so, at once */
    xmsg_omemo_devcache dc;  /* device lists, fetched once */
    char *own;               /* our bare JID */
    int mode;                /* XMSG_OMEMO_REQUIRED or _OPTIONAL */
    int published;           /* our device checked (once per session) */
};

static void sealer_close(void *state)
{
    struct sealer *z = state;

    if (!z)
        return;
    xmsg_omemo_store_free(z->store);
    xmsg_omemo_devcache_clear(&z->dc);
    free(z->store_text);
    free(z->own);
    free(z);
}

static void *sealer_open(xmsg_session *s)
{
    struct sealer *z = calloc(1, sizeof(*z));

    if (!z || !(z->own = xmsg_strdup(s->bare))) {
        xmsg_status_fail(s->c.st, XMSG_ERR_INTERNAL, "out of memory");
        sealer_close(z);
        return NULL;
    }
    z->s = s;
    z->p = s->p;
    z->mode = s->p->omemo == XMSG_OMEMO_OPTIONAL ? XMSG_OMEMO_OPTIONAL
                                                 : XMSG_OMEMO_REQUIRED;
    return z;
}

/* The store, opened at the first message to seal (a session that only
 * receives, listen with params omemo, never locks it); a failure to open
 * it is every message's after. */
static xmsg_err store_ready(struct sealer *z, xmsg_conn *c)
{
    if (z->store)
        return XMSG_OK;
    if (z->store_err)
        return xmsg_status_fail(c->st, z->store_err, "%s",
                                z->store_text ? z->store_text
                                              : "OMEMO: no store");
    z->store_err = xmsg_omemo_store_of(z->p, &z->store, c->st);
    if (z->store_err)
        z->store_text = xmsg_strdup(xmsg_status_text(c->st));
    return z->store_err;
}

/* a then b, as a new string (NULL when out of memory). */
static char *concat(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    char *out = malloc(la + lb + 1);

    if (out) {
        memcpy(out, a, la);
        memcpy(out + la, b, lb + 1);
    }
    return out;
}

/* The encrypted payload for m's body (XML text, owned), after m's own
 * payload when it has one; the store saved first (the sessions it moved
 * on): what goes out is in it. */
static xmsg_err encrypt_payload(struct sealer *z, xmsg_conn *c,
                                const xmsg_message *m, char **xml)
{
    char *to = xmsg_jid_bare_norm(xmsg_message_get(m, "to"));
    const char *had = xmsg_message_get(m, "payload");
    xmsg_xel *enc = NULL;
    char *ours = NULL;
    xmsg_err rc = XMSG_OK;

    *xml = NULL;
    if (!to)
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    if (!rc && !z->published)
        rc = xmsg_omemo_ensure_published(c, z->store);
    z->published = !rc;
    if (!rc)
        rc = xmsg_omemo_encrypt_cached(c, z->store, &z->dc, z->own, to,
                                       xmsg_message_get(m, "body"), &enc);
    if (!rc)
        rc = xmsg_omemo_save_payload(z->store, c->st, enc, &ours);
    if (ours)
        *xml = had ? concat(had, ours) : xmsg_strdup(ours);
    if (!rc && !*xml)
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    free(ours);
    xmsg_xel_free(enc);
    free(to);
    return rc;
}

xmsg_message *xmsg_omemo_sealed_copy(const xmsg_message *m, const char *payload)
{
    xmsg_message *copy = xmsg_message_copy(m);

    if (copy && (xmsg_message_put(copy, "body", XMSG_OMEMO_FALLBACK) ||
                 xmsg_message_put(copy, "payload", payload))) {
        xmsg_message_free(copy);
        return NULL;
    }
    return copy;
}

/* 1 when m goes to a room (sealable() checked it is the joined one). */
static int to_room(const xmsg_message *m)
{
    const char *type = xmsg_message_get(m, "type");

    return type && strcmp(type, "groupchat") == 0;
}

/* *out (owned): m sealed for every member of the joined room. */
static xmsg_err seal_for_room(struct sealer *z, xmsg_conn *c,
                              const xmsg_message *m, xmsg_message **out)
{
    xmsg_err rc =
        z->published ? XMSG_OK : xmsg_omemo_ensure_published(c, z->store);

    z->published = !rc;
    return rc ? rc
              : xmsg_omemo_room_seal(z->s, z->store, z->s->p->room, m, out);
}

/* 1 when m has nothing to encrypt: not a <message/>, or no body. */
static int nothing_to_seal(const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");

    return (kind && strcmp(kind, "message") != 0) ||
           !xmsg_message_get(m, "body");
}

/* XMSG_OK when m can be sealed (the store is ready); else why not, in
 * c->st: a room, not a JID, the store's failure. */
static xmsg_err sealable(struct sealer *z, xmsg_conn *c, const xmsg_message *m)
{
    const char *type = xmsg_message_get(m, "type");

    const char *to = xmsg_message_get(m, "to");
    const char *room = z->s->occupant ? z->s->p->room : NULL;

    if (type && strcmp(type, "groupchat") == 0 &&
        (!room || !to || strcmp(to, room) != 0))
        return xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                                "OMEMO: a groupchat message goes to the "
                                "room the session joined (params room) "
                                "only: nothing sent");
    if (!xmsg_jid_valid(xmsg_message_get(m, "to")))
        return xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                                "OMEMO: the recipient is not a JID: nothing "
                                "sent");
    return store_ready(z, c);
}

/* The failure of one message: its text to err, the session's status
 * left clean (the batch reports it as that message's). */
static xmsg_err refuse(xmsg_conn *c, xmsg_err rc, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s",
             xmsg_status_text(c->st) ? xmsg_status_text(c->st)
                                     : "OMEMO: cannot encrypt");
    xmsg_status_clear_error(c->st);
    return rc;
}

static xmsg_err sealer_seal(void *state, xmsg_conn *c, xmsg_message **m,
                            int *encrypted, char *err, size_t errlen)
{
    struct sealer *z = state;
    xmsg_message *sealed = NULL;
    char *payload = NULL;
    xmsg_err rc;

    *encrypted = 0;
    if (nothing_to_seal(*m))
        return XMSG_OK;
    /* Never in clear for these, whatever the mode. */
    rc = sealable(z, c, *m);
    if (rc)
        return refuse(c, rc, err, errlen);
    rc = to_room(*m) ? seal_for_room(z, c, *m, &sealed)
                     : encrypt_payload(z, c, *m, &payload);
    if (rc == XMSG_ERR_INPUT && z->mode == XMSG_OMEMO_OPTIONAL) {
        xmsg_conn_log(c, XMSG_LOG_WARN,
                      "OMEMO: message %s to %s goes in clear (params omemo "
                      "optional): %s",
                      xmsg_message_get(*m, "id"), xmsg_message_get(*m, "to"),
                      xmsg_status_text(c->st));
        xmsg_status_clear_error(c->st);
        return XMSG_OK;
    }
    if (!rc && !sealed) {
        sealed = xmsg_omemo_sealed_copy(*m, payload);
        if (!sealed)
            rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    free(payload);
    if (rc)
        return refuse(c, rc, err, errlen);
    xmsg_message_free(*m);
    *m = sealed;
    *encrypted = 1;
    return XMSG_OK;
}

/* Before m's files are uploaded: in required mode, a recipient without
 * a device fails m at once (nothing uploaded); a room is checked when its
 * message is sealed. */
static xmsg_err sealer_check(void *state, xmsg_conn *c, const xmsg_message *m,
                             char *err, size_t errlen)
{
    struct sealer *z = state;
    uint32_t *ids = NULL;
    size_t n = 0;
    char *to;
    xmsg_err rc = sealable(z, c, m);

    if (rc)
        return refuse(c, rc, err, errlen);
    if (to_room(m) || z->mode == XMSG_OMEMO_OPTIONAL)
        return XMSG_OK;
    to = xmsg_jid_bare_norm(xmsg_message_get(m, "to"));
    rc = to ? xmsg_omemo_devcache_get(c, &z->dc, to, &ids, &n)
            : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    free(ids);
    if (!rc && n == 0)
        rc = xmsg_status_fail(c->st, XMSG_ERR_INPUT,
                              "OMEMO: %s has no OMEMO device: its files are "
                              "not uploaded, nothing sent",
                              to);
    free(to);
    return rc ? refuse(c, rc, err, errlen) : XMSG_OK;
}

static const xmsg_sealer_ops ops = {sealer_open, sealer_seal, sealer_check,
                                    sealer_close};

void xmsg_omemo_init(void)
{
    xmsg_sealer_register(&ops);
}

__attribute__((constructor)) static void register_at_load(void)
{
    xmsg_omemo_init();
}

xmsg_omemo_store *xmsg_omemo_sealer_store(xmsg_session *s)
{
    const struct sealer *z =
        s && s->seal_ops == &ops ? (const struct sealer *)s->seal_state : NULL;

    return z ? z->store : NULL;
}

/* The session's sealer, opened (required) when it has none. */
static xmsg_err attach(xmsg_session *s)
{
    if (s->seal_ops)
        return XMSG_OK;
    s->seal_state = sealer_open(s);
    if (!s->seal_state)
        return xmsg_status_code(s->c.st);
    s->seal_ops = &ops;
    return XMSG_OK;
}

xmsg_err xmsg_omemo_seal_send(xmsg_session *s, const xmsg_message *m,
                              xmsg_status *st)
{
    struct sealer *z;
    xmsg_err rc;
    int mode;

    if (!xmsg_session_begin(s, st))
        return XMSG_ERR_INTERNAL;
    rc = xmsg_session_alive(s);
    if (!rc)
        rc = attach(s);
    xmsg_session_end(s);
    if (rc)
        return rc;
    z = s->seal_state;
    mode = z->mode;
    z->mode = XMSG_OMEMO_REQUIRED; /* this call: never in clear */
    s->c.seal = ops.seal;
    s->c.seal_check = ops.check;
    s->c.seal_state = z;
    rc = xmsg_session_send(s, m, st);
    z->mode = mode;
    if (s->p->omemo == XMSG_OMEMO_OFF) { /* the session's other sends */
        s->c.seal = NULL;
        s->c.seal_check = NULL;
        s->c.seal_state = NULL;
    }
    return rc;
}
