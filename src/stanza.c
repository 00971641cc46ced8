/* stanza.c - the message object <-> <message/> stanza mapping. */
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* Sets one field on the stanza: body as a child, ns as xmlns, the rest as
 * attributes. Returns 0 or -1. */
static int put_field(xmpp_ctx_t *ctx, xmpp_stanza_t *msg, const char *name,
                     const char *value)
{
    xmpp_stanza_t *body, *text;
    int rc;

    if (strcmp(name, "ns") == 0)
        return xmpp_stanza_set_ns(msg, value) ? -1 : 0;
    if (strcmp(name, "body") != 0)
        return xmpp_stanza_set_attribute(msg, name, value) ? -1 : 0;
    body = xmpp_stanza_new(ctx);
    text = xmpp_stanza_new(ctx);
    rc = !body || !text || xmpp_stanza_set_name(body, "body") ||
         xmpp_stanza_set_text(text, value) ||
         xmpp_stanza_add_child(body, text) || xmpp_stanza_add_child(msg, body);
    if (text)
        xmpp_stanza_release(text);
    if (body)
        xmpp_stanza_release(body);
    return rc ? -1 : 0;
}

xmpp_stanza_t *xmsg_stanza_from_message(xmpp_ctx_t *ctx, const xmsg_message *m)
{
    xmpp_stanza_t *msg = xmpp_stanza_new(ctx);
    size_t i;

    if (!msg || xmpp_stanza_set_name(msg, "message"))
        goto fail;
    for (i = 0; i < m->names.n; i++) {
        if (put_field(ctx, msg, m->names.v[i], m->values.v[i]))
            goto fail;
    }
    return msg;
fail:
    if (msg)
        xmpp_stanza_release(msg);
    return NULL;
}

/* Copies the attributes of the stanza; xmlns becomes "ns". */
static int take_attributes(xmsg_message *m, xmpp_stanza_t *stanza)
{
    const char *attrs[2 * 64];
    int n, i, rc = 0;

    n = xmpp_stanza_get_attributes(stanza, attrs, 2 * 64);
    for (i = 0; i + 1 < n && !rc; i += 2) {
        const char *name = attrs[i];

        if (strcmp(name, "xmlns") == 0)
            continue;
        /* The parser drops the xml: prefix of xml:lang. */
        if (strcmp(name, "lang") == 0)
            name = "xml:lang";
        rc = xmsg_message_put(m, name, attrs[i + 1]);
    }
    if (!rc && !xmsg_message_get(m, "ns"))
        rc = xmsg_message_put(m, "ns",
                              xmpp_stanza_get_ns(stanza)
                                  ? xmpp_stanza_get_ns(stanza)
                                  : "jabber:client");
    return rc;
}

static int take_delay(xmsg_message *m, xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *d =
        xmpp_stanza_get_child_by_name_and_ns(stanza, "delay", "urn:xmpp:delay");
    const char *stamp = d ? xmpp_stanza_get_attribute(d, "stamp") : NULL;

    return stamp ? xmsg_message_put(m, "stamp", stamp) : 0;
}

xmsg_message *xmsg_message_from_stanza(xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *body = xmpp_stanza_get_child_by_name(stanza, "body");
    xmsg_message *m;
    char *text;
    int rc;

    if (!body)
        return NULL;
    m = xmsg_message_new();
    text = xmpp_stanza_get_text(body);
    rc = !m || xmsg_message_put(m, "body", text ? text : "") ||
         take_attributes(m, stanza) || take_delay(m, stanza);
    if (text)
        xmpp_free(xmpp_stanza_get_context(stanza), text);
    if (rc) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}
