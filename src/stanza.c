/* stanza.c - the message object <-> <message/> stanza mapping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* Custom attributes are mirrored in a child element: servers may drop
 * unknown attributes of <message/> (ejabberd does), never its unknown
 * children. */
#define NS_ATTRS "urn:xmsg:attributes:0"

static int in_set(const char *const *set, const char *name)
{
    for (; *set; set++) {
        if (strcmp(*set, name) == 0)
            return 1;
    }
    return 0;
}

/* A message's custom attributes: every name but its known fields (a
 * presence's show, status and priority are custom on a message). */
static int is_custom(const char *name)
{
    static const char *const known[] = {
        "body",     "to",      "type",  "ns",        "from",
        "xml:lang", "id",      "stamp", "archiveId", "kind",
        "thread",   "payload", "xml",   "subject",   NULL};

    return !in_set(known, name);
}

static int is_presence(const char *kind)
{
    return kind && strcmp(kind, "presence") == 0;
}

int xmsg_field_is_child(const char *kind, const char *name)
{
    static const char *const any[] = {"body", "thread",  "kind", "payload",
                                      "xml",  "subject", NULL};
    static const char *const presence[] = {"show", "status", "priority", NULL};

    return in_set(any, name) || (is_presence(kind) && in_set(presence, name));
}

xmpp_stanza_t *xmsg_element_new(xmpp_ctx_t *ctx, const char *name,
                                const char *ns, const char *text)
{
    xmpp_stanza_t *el = xmpp_stanza_new(ctx), *t = NULL;
    int rc = !el || xmpp_stanza_set_name(el, name) ||
             (ns && xmpp_stanza_set_ns(el, ns));

    if (!rc && text) {
        t = xmpp_stanza_new(ctx);
        rc =
            !t || xmpp_stanza_set_text(t, text) || xmpp_stanza_add_child(el, t);
    }
    if (t)
        xmpp_stanza_release(t);
    if (rc && el) {
        xmpp_stanza_release(el);
        el = NULL;
    }
    return el;
}

int xmsg_element_adopt(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
    int rc;

    if (!child)
        return -1;
    rc = xmpp_stanza_add_child(parent, child);
    xmpp_stanza_release(child);
    return rc ? -1 : 0;
}

/* Fills custom fields the server dropped from the mirror; never a known
 * field, never one already present (a peer cannot forge "from"). */
static int take_mirror(xmsg_message *m, xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *box =
        xmpp_stanza_get_child_by_name_and_ns(stanza, "attributes", NS_ATTRS);
    xmpp_stanza_t *a;
    const char *name;
    char *text;
    int rc = 0;

    for (a = box ? xmpp_stanza_get_children(box) : NULL; a && !rc;
         a = xmpp_stanza_get_next(a)) {
        name =
            xmpp_stanza_is_tag(a) ? xmpp_stanza_get_attribute(a, "name") : NULL;
        if (!name || !is_custom(name) || !xmsg_attr_name_valid(name) ||
            xmsg_message_get(m, name))
            continue;
        text = xmpp_stanza_get_text(a);
        rc = xmsg_message_put(m, name, text ? text : "");
        if (text)
            xmpp_free(xmpp_stanza_get_context(stanza), text);
    }
    return rc;
}

/* Appends s escaped for XML: in text (attr 0) & < > and CR (which a
 * parser would fold into LF); in an attribute (attr 1) also " and the
 * whitespace a parser would normalise to spaces. */
static const char *entity(char ch)
{
    switch (ch) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '\r':
        return "&#13;";
    case '"':
        return "&quot;";
    case '\t':
        return "&#9;";
    default:
        return "&#10;";
    }
}

static int put_escaped(xmsg_buf *b, const char *s, int attr)
{
    const char *special = attr ? "&<>\r\"\t\n" : "&<>\r";
    size_t run;

    for (;;) {
        run = strcspn(s, special); /* most text has nothing to escape */
        if (xmsg_buf_put(b, s, run))
            return -1;
        s += run;
        if (!*s)
            return 0;
        if (xmsg_buf_str(b, entity(*s++)))
            return -1;
    }
}

int xmsg_xml_escape(xmsg_buf *b, const char *text)
{
    return put_escaped(b, text, 0);
}

static int put_attr(xmsg_buf *b, const char *name, const char *value)
{
    return xmsg_buf_str(b, " ") || xmsg_buf_str(b, name) ||
           xmsg_buf_str(b, "=\"") || put_escaped(b, value, 1) ||
           xmsg_buf_str(b, "\"");
}

/* <element>text</element>, with one attribute when name is not NULL. */
static int put_element(xmsg_buf *b, const char *el, const char *name,
                       const char *text)
{
    return xmsg_buf_str(b, "<") || xmsg_buf_str(b, el) ||
           (name && put_attr(b, "name", name)) || xmsg_buf_str(b, ">") ||
           put_escaped(b, text, 0) || xmsg_buf_str(b, "</") ||
           xmsg_buf_str(b, el) || xmsg_buf_str(b, ">");
}

/* Custom attributes are mirrored in a child element: servers may drop
 * unknown attributes of <message/> (ejabberd does), never its unknown
 * children. */
static int put_mirror(xmsg_buf *b, const xmsg_message *m)
{
    size_t i;
    int open = 0, rc = 0;

    for (i = 0; i < m->names.n && !rc; i++) {
        if (!is_custom(m->names.v[i]))
            continue;
        if (!open++)
            rc = xmsg_buf_str(b, "<attributes xmlns=\"" NS_ATTRS "\">");
        if (!rc)
            rc = put_element(b, "attribute", m->names.v[i], m->values.v[i]);
    }
    return rc || (open && xmsg_buf_str(b, "</attributes>"));
}

/* <name>text</name> when m has the field. */
static int put_child(xmsg_buf *b, const xmsg_message *m, const char *name)
{
    const char *v = xmsg_message_get(m, name);

    return v ? put_element(b, name, NULL, v) : 0;
}

int xmsg_message_xml(const xmsg_message *m, xmsg_buf *b)
{
    const char *kind = xmsg_message_get(m, "kind");
    const char *payload = xmsg_message_get(m, "payload");
    int is_msg = !kind || strcmp(kind, "message") == 0;
    size_t i;
    int rc;

    if (kind && strcmp(kind, "raw") == 0)
        return xmsg_buf_str(b, xmsg_message_get(m, "xml")) ? -1 : 0;
    if (!kind)
        kind = "message";
    rc = xmsg_buf_str(b, "<") || xmsg_buf_str(b, kind);
    for (i = 0; i < m->names.n && !rc; i++) {
        if (xmsg_field_is_child(kind, m->names.v[i]))
            continue;
        rc = put_attr(
            b, strcmp(m->names.v[i], "ns") == 0 ? "xmlns" : m->names.v[i],
            m->values.v[i]);
    }
    rc = rc || xmsg_buf_str(b, ">");
    if (is_msg)
        rc = rc || put_child(b, m, "subject") || put_child(b, m, "body") ||
             put_child(b, m, "thread");
    else if (strcmp(kind, "presence") == 0)
        rc = rc || put_child(b, m, "show") || put_child(b, m, "status") ||
             put_child(b, m, "priority");
    rc = rc || (payload && xmsg_buf_str(b, payload));
    rc = rc || (is_msg && put_mirror(b, m));
    rc = rc || xmsg_buf_str(b, "</") || xmsg_buf_str(b, kind) ||
         xmsg_buf_str(b, ">");
    return rc ? -1 : 0;
}

/* The elements of xml, parsed inside a wrapper: NULL when not
 * well-formed. */
static xmpp_stanza_t *parse_wrapped(xmpp_ctx_t *ctx, const char *xml)
{
    xmsg_buf b = {NULL, 0, 0};
    xmpp_stanza_t *w = NULL;

    if (!xmsg_buf_str(&b, "<w>") && !xmsg_buf_str(&b, xml) &&
        !xmsg_buf_str(&b, "</w>"))
        w = xmpp_stanza_new_from_string(ctx, b.d);
    xmsg_buf_free(&b);
    return w;
}

int xmsg_xml_check(const char *xml, int one)
{
    xmpp_ctx_t *ctx;
    xmpp_stanza_t *w, *c;
    int elements = 0, bad = 0;
    char *text;

    xmsg_strophe_init();
    ctx = xmpp_ctx_new(NULL, NULL);
    w = ctx ? parse_wrapped(ctx, xml) : NULL;
    for (c = w ? xmpp_stanza_get_children(w) : NULL; c && !bad;
         c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_tag(c)) {
            elements++;
            continue;
        }
        text = xmpp_stanza_get_text(c);
        bad = text && text[strspn(text, " \t\r\n")] != '\0';
        if (text)
            xmpp_free(ctx, text);
    }
    if (w)
        xmpp_stanza_release(w);
    if (ctx)
        xmpp_ctx_free(ctx);
    return w && !bad && elements >= 1 && (!one || elements == 1) ? 0 : -1;
}

/* Attributes a peer may not set: they are the children read into fields
 * (a presence's show, status and priority; on other kinds these are
 * custom attributes) and what the server or xmsg tell about the stanza. */
static int reserved_attribute(const char *kind, const char *name)
{
    static const char *const reserved[] = {"xmlns", "ns", "stamp", "archiveId",
                                           NULL};

    return in_set(reserved, name) || xmsg_field_is_child(kind, name);
}

/* Copies every attribute of the stanza (all of them: a fixed array would
 * let a flood of attributes push from or to out). */
int xmsg_stanza_copy_attributes(xmsg_message *m, xmpp_stanza_t *stanza)
{
    int count = xmpp_stanza_get_attribute_count(stanza), n, i, rc = 0;
    const char *kind = xmpp_stanza_get_name(stanza);
    const char **attrs;

    if (count <= 0)
        return 0;
    attrs = malloc(sizeof(*attrs) * 2 * (size_t)count);
    if (!attrs)
        return -1;
    n = xmpp_stanza_get_attributes(stanza, attrs, 2 * count);
    for (i = 0; i + 1 < n && !rc; i += 2) {
        const char *name = attrs[i];

        if (reserved_attribute(kind, name))
            continue;
        /* The parser drops the xml: prefix of xml:lang. */
        if (strcmp(name, "lang") == 0)
            name = "xml:lang";
        rc = xmsg_message_put(m, name, attrs[i + 1]);
    }
    free(attrs);
    return rc;
}

static int take_attributes(xmsg_message *m, xmpp_stanza_t *stanza)
{
    int rc = xmsg_stanza_copy_attributes(m, stanza);

    /* RFC 6121 5.2.2: no type means "normal". */
    if (!rc && !xmsg_message_get(m, "type"))
        rc = xmsg_message_put(m, "type", "normal");
    if (!rc && !xmsg_message_get(m, "ns"))
        rc = xmsg_message_put(m, "ns",
                              xmpp_stanza_get_ns(stanza)
                                  ? xmpp_stanza_get_ns(stanza)
                                  : "jabber:client");
    return rc;
}

/* The stamp of the last delay element: a server appends its own after
 * whatever the sender put in the stanza. */
static int take_delay(xmsg_message *m, xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *c;
    const char *stamp = NULL, *ns;

    for (c = xmpp_stanza_get_children(stanza); c; c = xmpp_stanza_get_next(c)) {
        ns = xmpp_stanza_is_tag(c) ? xmpp_stanza_get_ns(c) : NULL;
        if (ns && strcmp(ns, "urn:xmpp:delay") == 0 &&
            strcmp(xmpp_stanza_get_name(c), "delay") == 0 &&
            xmpp_stanza_get_attribute(c, "stamp"))
            stamp = xmpp_stanza_get_attribute(c, "stamp");
    }
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
         take_attributes(m, stanza) || take_mirror(m, stanza) ||
         take_delay(m, stanza);
    if (text)
        xmpp_free(xmpp_stanza_get_context(stanza), text);
    body = xmpp_stanza_get_child_by_name(stanza, "subject");
    text = body ? xmpp_stanza_get_text(body) : NULL;
    rc = rc || (body && xmsg_message_put(m, "subject", text ? text : ""));
    if (text)
        xmpp_free(xmpp_stanza_get_context(stanza), text);
    if (rc) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}

void xmsg_error_condition(xmpp_stanza_t *stanza, char *buf, size_t len)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(stanza, "error");
    xmpp_stanza_t *cond = err ? xmpp_stanza_get_children(err) : NULL;

    while (cond && !xmpp_stanza_is_tag(cond))
        cond = xmpp_stanza_get_next(cond);
    snprintf(buf, len, "%s",
             cond ? xmpp_stanza_get_name(cond) : "undefined-condition");
}

int xmsg_is_stanza(xmpp_stanza_t *el)
{
    const char *name = xmpp_stanza_get_name(el);

    return name && (!strcmp(name, "message") || !strcmp(name, "presence") ||
                    !strcmp(name, "iq"));
}
