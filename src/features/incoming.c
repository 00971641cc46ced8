/* incoming.c - any stanza a session receives, as the object model:
 * "kind" (message, presence or iq), its attributes, the children xmsg
 * knows as fields, and every other child element as XML text in
 * "payload", so that nothing the peer sent is lost. */
#include <stdlib.h>
#include <string.h>

#include "features/session.h"

/* The children read into fields, per kind. */
static int consumed(const char *kind, const xmsg_xel *c)
{
    static const char *const message[] = {"body", "thread", "subject", NULL};
    static const char *const presence[] = {"show", "status", "priority", NULL};
    const char *name = xmsg_xel_name(c);
    const char *ns = xmsg_xel_ns(c);
    const char *const *set = NULL;

    if (strcmp(kind, "message") == 0) {
        if (strcmp(ns, "urn:xmpp:delay") == 0 ||
            strcmp(ns, "urn:xmsg:attributes:0") == 0)
            return 1;
        set = message;
    } else if (strcmp(kind, "presence") == 0) {
        set = presence;
    }
    for (; set && *set; set++) {
        if (strcmp(*set, name) == 0 && (!*ns || !strcmp(ns, XMSG_NS_CLIENT)))
            return 1;
    }
    return 0;
}

/* The text of the first child called name into the field name. */
static int take_text(xmsg_message *m, const xmsg_xel *stanza, const char *name)
{
    const xmsg_xel *c = xmsg_el_child(stanza, name);
    char *text;
    int rc;

    if (!c)
        return 0;
    text = xmsg_xel_text(c);
    rc = !text || xmsg_message_put(m, name, text);
    free(text);
    return rc;
}

#define NS_OOB "jabber:x:oob"

/* s[0..*len) without leading and trailing ASCII blanks. */
static const char *trim(const char *s, size_t *len)
{
    while (*len && strchr(" \t\r\n", *s)) {
        s++;
        (*len)--;
    }
    while (*len && strchr(" \t\r\n", s[*len - 1]))
        (*len)--;
    return s;
}

int xmsg_take_oob(xmsg_message *m, const xmsg_xel *stanza)
{
    const xmsg_xel *x, *u;
    const char *t;
    char *text, *url;
    size_t len;
    int rc;

    for (x = xmsg_xel_child(stanza, NS_OOB, "x"); x;
         x = xmsg_xel_next_el(x, NS_OOB, "x")) {
        u = xmsg_xel_child(x, NS_OOB, "url");
        text = u ? xmsg_xel_text(u) : NULL;
        if (u && !text)
            return -1;
        len = text ? strlen(text) : 0;
        t = text ? trim(text, &len) : NULL;
        url = len ? xmsg_strndup(t, len) : NULL;
        free(text);
        if (len && !url)
            return -1;
        if (!url)
            continue;
        rc = xmsg_message_put(m, "url", url);
        free(url);
        return rc;
    }
    return 0;
}

/* Every child element not read into a field, as XML text. */
static int take_payload(xmsg_message *m, const xmsg_xel *stanza,
                        const char *kind)
{
    xmsg_buf b = {NULL, 0, 0};
    const xmsg_xel *c;
    int rc = 0;

    for (c = xmsg_xel_child(stanza, NULL, NULL); c && !rc;
         c = xmsg_xel_next_el(c, NULL, NULL)) {
        if (!consumed(kind, c))
            rc = xmsg_xel_write(c, NULL, &b) ? -1 : 0;
    }
    if (!rc && b.len)
        rc = xmsg_message_put(m, "payload", b.d);
    xmsg_buf_free(&b);
    return rc;
}

/* The kind, then every attribute (custom ones too), as for messages. */
static xmsg_message *base(const xmsg_xel *stanza, const char *kind)
{
    xmsg_message *m = xmsg_message_new();

    if (!m || xmsg_message_put(m, "kind", kind) ||
        xmsg_stanza_copy_attributes(m, stanza)) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}

xmsg_message *xmsg_object_from_stanza(const xmsg_xel *stanza)
{
    const char *name = xmsg_xel_name(stanza);
    xmsg_message *m = NULL;
    int rc;

    if (!name || !xmsg_is_stanza(stanza))
        return NULL;
    if (strcmp(name, "message") == 0) {
        /* Every attribute, custom ones and the mirror, as connect has it. */
        m = xmsg_el_child(stanza, "body") ? xmsg_message_from_stanza(stanza)
                                          : base(stanza, "message");
        rc = !m || xmsg_message_put(m, "kind", "message") ||
             take_text(m, stanza, "thread") ||
             take_text(m, stanza, "subject") ||
             (!xmsg_message_get(m, "url") && xmsg_take_oob(m, stanza));
    } else if (strcmp(name, "presence") == 0) {
        m = base(stanza, "presence");
        rc = !m || take_text(m, stanza, "show") ||
             take_text(m, stanza, "status") || take_text(m, stanza, "priority");
    } else {
        m = base(stanza, "iq");
        rc = !m;
    }
    if (!rc)
        rc = take_payload(m, stanza, name);
    if (rc) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}
