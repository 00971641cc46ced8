/* incoming.c - any stanza a session receives, as the object model:
 * "kind" (message, presence or iq), its attributes, the children xmsg
 * knows as fields, and every other child element as XML text in
 * "payload", so that nothing the peer sent is lost. */
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* The children read into fields, per kind. */
static int consumed(const char *kind, xmpp_stanza_t *c)
{
    static const char *const message[] = {"body", "thread", "subject", NULL};
    static const char *const presence[] = {"show", "status", "priority", NULL};
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);
    const char *const *set = NULL;

    if (strcmp(kind, "message") == 0) {
        if (ns && (strcmp(ns, "urn:xmpp:delay") == 0 ||
                   strcmp(ns, "urn:xmsg:attributes:0") == 0))
            return 1;
        set = message;
    } else if (strcmp(kind, "presence") == 0) {
        set = presence;
    }
    for (; set && *set; set++) {
        if (strcmp(*set, name) == 0 && (!ns || !strcmp(ns, "jabber:client")))
            return 1;
    }
    return 0;
}

/* The text of the first child called name into the field name. */
static int take_text(xmsg_message *m, xmpp_stanza_t *stanza, const char *name)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(stanza, name);
    char *text = c ? xmpp_stanza_get_text(c) : NULL;
    int rc = 0;

    if (c)
        rc = xmsg_message_put(m, name, text ? text : "");
    if (text)
        xmpp_free(xmpp_stanza_get_context(stanza), text);
    return rc;
}

/* Every child element not read into a field, as XML text. */
static int take_payload(xmsg_message *m, xmpp_stanza_t *stanza,
                        const char *kind)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(stanza);
    xmsg_buf b = {NULL, 0, 0};
    xmpp_stanza_t *c;
    size_t len;
    char *text;
    int rc = 0;

    for (c = xmpp_stanza_get_children(stanza); c && !rc;
         c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c) || consumed(kind, c))
            continue;
        if (xmpp_stanza_to_text(c, &text, &len))
            rc = -1;
        else
            rc = xmsg_buf_put(&b, text, len);
        if (!rc)
            xmpp_free(ctx, text);
    }
    if (!rc && b.len)
        rc = xmsg_message_put(m, "payload", b.d);
    xmsg_buf_free(&b);
    return rc;
}

/* The kind, then every attribute (custom ones too), as for messages. */
static xmsg_message *base(xmpp_stanza_t *stanza, const char *kind)
{
    xmsg_message *m = xmsg_message_new();

    if (!m || xmsg_message_put(m, "kind", kind) ||
        xmsg_stanza_copy_attributes(m, stanza)) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}

xmsg_message *xmsg_object_from_stanza(xmpp_stanza_t *stanza)
{
    const char *name = xmpp_stanza_get_name(stanza);
    xmsg_message *m = NULL;
    int rc;

    if (!name)
        return NULL;
    if (strcmp(name, "message") == 0) {
        /* Every attribute, custom ones and the mirror, as connect has it. */
        m = xmpp_stanza_get_child_by_name(stanza, "body")
                ? xmsg_message_from_stanza(stanza)
                : base(stanza, "message");
        rc = !m || xmsg_message_put(m, "kind", "message") ||
             take_text(m, stanza, "thread") || take_text(m, stanza, "subject");
    } else if (strcmp(name, "presence") == 0) {
        m = base(stanza, "presence");
        rc = !m || take_text(m, stanza, "show") ||
             take_text(m, stanza, "status") || take_text(m, stanza, "priority");
    } else if (strcmp(name, "iq") == 0) {
        m = base(stanza, "iq");
        rc = !m;
    } else {
        return NULL;
    }
    if (!rc)
        rc = take_payload(m, stanza, name);
    if (rc) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}
