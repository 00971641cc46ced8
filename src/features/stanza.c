/* stanza.c - the message object <-> <message/> stanza mapping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/aesgcm.h"
#include "features/session.h"

/* Custom attributes are mirrored in a child element: servers may drop
 * unknown attributes of <message/> (ejabberd does), never its unknown
 * children. */
#define NS_ATTRS "urn:xmsg:attributes:0"
/* XEP-0066 out-of-band data: a file's URL. */
#define XMSG_NS_OOB "jabber:x:oob"

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
        "body", "to",      "type",      "ns",   "from",   "xml:lang",
        "id",   "stamp",   "archiveId", "kind", "thread", "payload",
        "xml",  "subject", "files",     NULL};

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

xmsg_xel *xmsg_el_add(xmsg_xel *parent, const char *ns, const char *name,
                      const char *text)
{
    xmsg_xel *el = xmsg_xel_add_new(parent, ns, name);

    if (el && text && *text && xmsg_xel_add_text(el, text, strlen(text))) {
        xmsg_xel_free(el);
        return NULL;
    }
    return el;
}

const char *xmsg_el_attr(const xmsg_xel *el, const char *name)
{
    return el ? xmsg_xel_attr(el, name) : NULL;
}

xmsg_xel *xmsg_el_child(const xmsg_xel *el, const char *name)
{
    return el ? xmsg_xel_child(el, NULL, name) : NULL;
}

struct fragment {
    xmsg_xel *w;
    int bad;
};

static int frag_element(xmsg_xel *el, void *ud)
{
    struct fragment *f = ud;

    if (xmsg_xel_add_child(f->w, el)) {
        xmsg_xel_free(el);
        f->bad = 1;
        return 1;
    }
    return 0;
}

xmsg_xel *xmsg_xml_parse_fragment(const char *xml)
{
    static const char open[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams'>";
    static const char close[] = "</stream:stream>";
    const xmsg_xml_handlers h = {NULL, frag_element, NULL};
    struct fragment f = {xmsg_xel_new(NULL, "w"), 0};
    xmsg_xml_parser *p = f.w ? xmsg_xml_parser_new(NULL, &h, &f) : NULL;
    size_t used;

    if (!p || xmsg_xml_feed(p, open, sizeof(open) - 1, &used) ||
        xmsg_xml_feed(p, xml, strlen(xml), &used) || f.bad ||
        used != strlen(xml) ||
        xmsg_xml_feed(p, close, sizeof(close) - 1, &used) || f.bad ||
        !xmsg_xml_parser_closed(p)) {
        xmsg_xel_free(f.w);
        f.w = NULL;
    }
    xmsg_xml_parser_free(p);
    return f.w;
}

static int reserved_attribute(const char *kind, const char *name);

/* Fills custom fields the server dropped from the mirror; never a known
 * field, never one already present (a peer cannot forge "from"). */
static int take_mirror(xmsg_message *m, const xmsg_xel *stanza)
{
    const xmsg_xel *box = xmsg_xel_child(stanza, NS_ATTRS, "attributes");
    const xmsg_xel *a;
    const char *name;
    char *text;
    int rc = 0;

    for (a = box ? xmsg_xel_child(box, NULL, NULL) : NULL; a && !rc;
         a = xmsg_xel_next_el(a, NULL, NULL)) {
        name = xmsg_xel_attr(a, "name");
        if (!name || !is_custom(name) || !xmsg_attr_name_valid(name) ||
            reserved_attribute("message", name) || xmsg_message_get(m, name))
            continue;
        text = xmsg_xel_text(a);
        rc = !text || xmsg_message_put(m, name, text);
        free(text);
    }
    return rc;
}

int xmsg_xml_escape(xmsg_buf *b, const char *text)
{
    return xmsg_xml_escape_text(b, text, strlen(text), 0) ? -1 : 0;
}

/* Custom attributes are mirrored in a child element: servers may drop
 * unknown attributes of <message/> (ejabberd does), never its unknown
 * children. */
static int add_mirror(xmsg_xel *el, const xmsg_message *m)
{
    xmsg_xel *box = NULL, *a;
    size_t i;

    for (i = 0; i < m->names.n; i++) {
        if (!is_custom(m->names.v[i]))
            continue;
        if (!box)
            box = xmsg_xel_add_new(el, NS_ATTRS, "attributes");
        a = box ? xmsg_el_add(box, NULL, "attribute", m->values.v[i]) : NULL;
        if (!a || xmsg_xel_set_attr(a, "name", m->names.v[i]))
            return -1;
    }
    return 0;
}

/* <name>text</name> when m has the field. */
static int add_field(xmsg_xel *el, const xmsg_message *m, const char *name)
{
    const char *v = xmsg_message_get(m, name);
    xmsg_xel *c;

    if (!v)
        return 0;
    c = xmsg_xel_add_new(el, NULL, name);
    return !c || (*v && xmsg_xel_add_text(c, v, strlen(v)));
}

/* The elements of the payload (XML text) as children of el. */
static int add_payload(xmsg_xel *el, const char *payload)
{
    xmsg_xel *w, *c;
    int rc = 0;

    if (!payload)
        return 0;
    w = xmsg_xml_parse_fragment(payload);
    if (!w)
        return -1;
    while (!rc && (c = xmsg_xel_child(w, NULL, NULL)) != NULL)
        rc = xmsg_xel_add_child(el, xmsg_xel_detach(c)) ? -1 : 0;
    xmsg_xel_free(w);
    return rc;
}

/* A file's URL as XEP-0066 out-of-band data, which clients show inline:
 * <x xmlns='jabber:x:oob'><url>URL</url></x>. Never an aesgcm:// URL: its
 * key goes only inside an encrypted body. */
static int add_oob(xmsg_xel *el, const char *url)
{
    xmsg_xel *x;

    if (!url || xmsg_aesgcm_is_url(url))
        return 0;
    x = xmsg_xel_add_new(el, XMSG_NS_OOB, "x");
    return !x || !xmsg_el_add(x, XMSG_NS_OOB, "url", url);
}

/* The element for m (not raw), or NULL. */
static xmsg_xel *message_el(const xmsg_message *m, const char *kind)
{
    const char *ns = xmsg_message_get(m, "ns");
    const int is_msg = strcmp(kind, "message") == 0;
    xmsg_xel *el = xmsg_xel_new(ns ? ns : XMSG_NS_CLIENT, kind);
    size_t i;
    int rc = !el;

    for (i = 0; i < m->names.n && !rc; i++) {
        if (xmsg_field_is_child(kind, m->names.v[i]) ||
            strcmp(m->names.v[i], "ns") == 0)
            continue;
        rc = xmsg_xel_set_attr(el, m->names.v[i], m->values.v[i]) != XMSG_OK;
    }
    if (is_msg)
        rc = rc || add_field(el, m, "subject") || add_field(el, m, "body") ||
             add_field(el, m, "thread");
    else if (strcmp(kind, "presence") == 0)
        rc = rc || add_field(el, m, "show") || add_field(el, m, "status") ||
             add_field(el, m, "priority");
    rc = rc || add_payload(el, xmsg_message_get(m, "payload"));
    rc = rc || (is_msg && add_oob(el, m->oob));
    rc = rc || (is_msg && add_mirror(el, m));
    if (rc) {
        xmsg_xel_free(el);
        return NULL;
    }
    return el;
}

int xmsg_message_xml(const xmsg_message *m, xmsg_buf *b)
{
    const char *kind = xmsg_message_get(m, "kind");
    xmsg_xel *el;
    int rc;

    if (kind && strcmp(kind, "raw") == 0)
        return xmsg_buf_str(b, xmsg_message_get(m, "xml")) ? -1 : 0;
    el = message_el(m, kind ? kind : "message");
    rc = !el || xmsg_xel_write(el, XMSG_NS_CLIENT, b) ? -1 : 0;
    xmsg_xel_free(el);
    return rc;
}

int xmsg_xml_check(const char *xml, int one)
{
    xmsg_xel *w = xmsg_xml_parse_fragment(xml), *c;
    int elements = 0;

    for (c = w ? xmsg_xel_child(w, NULL, NULL) : NULL; c;
         c = xmsg_xel_next_el(c, NULL, NULL))
        elements++;
    xmsg_xel_free(w);
    return w && elements >= 1 && (!one || elements == 1) ? 0 : -1;
}

/* Attributes a peer may not set: they are the children read into fields
 * (a presence's show, status and priority; on other kinds these are
 * custom attributes) and what the server or xmsg tell about the stanza. */
static int reserved_attribute(const char *kind, const char *name)
{
    static const char *const reserved[] = {
        "xmlns",     "ns",           "stamp",         "archiveId",
        "url",       "file",         "downloadError", "files",
        "encrypted", "senderDevice", "fingerprint",   "decryptError",
        NULL};

    return in_set(reserved, name) || xmsg_field_is_child(kind, name);
}

/* Copies every attribute of the stanza (all of them: a fixed array would
 * let a flood of attributes push from or to out). */
int xmsg_stanza_copy_attributes(xmsg_message *m, const xmsg_xel *stanza)
{
    const size_t count = xmsg_xel_attr_count(stanza);
    const char *kind = xmsg_xel_name(stanza), *ns, *name, *value;
    size_t i;
    int rc = 0;

    for (i = 0; i < count && !rc; i++) {
        if (xmsg_xel_attr_at(stanza, i, &ns, &name, &value))
            break;
        /* Attributes of other namespaces are not the stanza's own. */
        if (ns && *ns && strcmp(name, "xml:lang") != 0)
            continue;
        if (reserved_attribute(kind, name))
            continue;
        rc = xmsg_message_put(m, name, value);
    }
    return rc;
}

static int take_attributes(xmsg_message *m, const xmsg_xel *stanza)
{
    int rc = xmsg_stanza_copy_attributes(m, stanza);
    const char *ns = xmsg_xel_ns(stanza);

    /* RFC 6121 5.2.2: no type means "normal". */
    if (!rc && !xmsg_message_get(m, "type"))
        rc = xmsg_message_put(m, "type", "normal");
    if (!rc && !xmsg_message_get(m, "ns"))
        rc = xmsg_message_put(m, "ns", ns && *ns ? ns : "jabber:client");
    return rc;
}

/* The stamp of the last delay element: a server appends its own after
 * whatever the sender put in the stanza. */
static int take_delay(xmsg_message *m, const xmsg_xel *stanza)
{
    const xmsg_xel *c;
    const char *stamp = NULL;

    for (c = xmsg_xel_child(stanza, "urn:xmpp:delay", "delay"); c;
         c = xmsg_xel_next_el(c, "urn:xmpp:delay", "delay")) {
        if (xmsg_xel_attr(c, "stamp"))
            stamp = xmsg_xel_attr(c, "stamp");
    }
    return stamp ? xmsg_message_put(m, "stamp", stamp) : 0;
}

/* A build with OMEMO: an OMEMO <encrypted/> as the message's payload (XML
 * text), for xmsg_omemo_decrypt. Without OMEMO, messages stay as they
 * were. 0, or -1 out of memory. */
static int take_encrypted(xmsg_message *m, const xmsg_xel *stanza)
{
#ifdef XMSG_HAVE_OMEMO
    const xmsg_xel *enc =
        xmsg_xel_child(stanza, "eu.siacs.conversations.axolotl", "encrypted");
    xmsg_buf b = {NULL, 0, 0};
    int rc;

    if (!enc)
        return 0;
    rc = xmsg_xel_write(enc, NULL, &b) || xmsg_message_put(m, "payload", b.d);
    xmsg_buf_free(&b);
    return rc ? -1 : 0;
#else
    (void)m;
    (void)stanza;
    return 0;
#endif
}

xmsg_message *xmsg_message_from_stanza(const xmsg_xel *stanza)
{
    const xmsg_xel *body = xmsg_el_child(stanza, "body");
    const xmsg_xel *subject = xmsg_el_child(stanza, "subject");
    xmsg_message *m;
    char *text, *subj = NULL;
    int rc;

    if (!body)
        return NULL;
    m = xmsg_message_new();
    text = xmsg_xel_text(body);
    if (subject)
        subj = xmsg_xel_text(subject);
    rc = !m || !text || (subject && !subj) ||
         xmsg_message_put(m, "body", text) ||
         (subj && xmsg_message_put(m, "subject", subj)) ||
         take_attributes(m, stanza) || take_mirror(m, stanza) ||
         take_delay(m, stanza) || xmsg_take_oob(m, stanza) ||
         xmsg_take_aesgcm_url(m) || take_encrypted(m, stanza);
    free(text);
    free(subj);
    if (rc) {
        xmsg_message_free(m);
        return NULL;
    }
    return m;
}

void xmsg_error_condition(const xmsg_xel *stanza, char *buf, size_t len)
{
    const xmsg_xel *err = xmsg_el_child(stanza, "error");
    const xmsg_xel *cond = err ? xmsg_xel_child(err, NULL, NULL) : NULL;

    while (cond && xmsg_xel_is(cond, XMSG_NS_STANZAS, "text"))
        cond = xmsg_xel_next_el(cond, NULL, NULL);
    snprintf(buf, len, "%s",
             cond ? xmsg_xel_name(cond) : "undefined-condition");
}

/* By name, in any namespace: a server bounces a stanza sent in a foreign
 * one in that namespace (ejabberd), and its error is the sender's. */
int xmsg_is_stanza(const xmsg_xel *el)
{
    return xmsg_xel_is(el, NULL, "message") ||
           xmsg_xel_is(el, NULL, "presence") || xmsg_xel_is(el, NULL, "iq");
}
