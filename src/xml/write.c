/* write.c - the serializer: an element tree as XML text, escaping, xmlns
 * only where the namespace in scope changes; no recursion. */
#include <stdio.h>
#include <string.h>

#include "xml/xel_raw.h"

/* The entity for c, or NULL when c is written as it is. */
static const char *entity(char c, int attr)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '\r':
        return "&#13;";
    case '\'':
        return attr ? "&apos;" : NULL;
    case '"':
        return attr ? "&quot;" : NULL;
    case '\t':
        return attr ? "&#9;" : NULL;
    case '\n':
        return attr ? "&#10;" : NULL;
    default:
        return NULL;
    }
}

/* Appends s[0..len) escaped, in runs between the characters to replace.
 * 0 ok, -1 memory. */
static int put_escaped(xmsg_buf *b, const char *s, size_t len, int attr)
{
    size_t i, run = 0;
    const char *e;

    for (i = 0; i < len; i++) {
        e = entity(s[i], attr);
        if (!e)
            continue;
        if (xmsg_buf_put(b, s + run, i - run) || xmsg_buf_str(b, e))
            return -1;
        run = i + 1;
    }
    return xmsg_buf_put(b, s + run, len - run);
}

xmsg_err xmsg_xml_escape_text(xmsg_buf *out, const char *s, size_t len,
                              int attr)
{
    const size_t mark = out->len;

    if ((len && !s) || !xmsg_text_valid(s, len))
        return XMSG_ERR_INPUT;
    if (put_escaped(out, s, len, attr) == 0)
        return XMSG_OK;
    out->len = mark;
    if (out->d)
        out->d[mark] = '\0';
    return XMSG_ERR_INTERNAL;
}

/* 1 if el is written with the stream: prefix (inside a stream, which
 * declares it). */
static int prefixed(const xmsg_xel *el, const char *stream_ns)
{
    return stream_ns && strcmp(el->ns, XMSG_NS_STREAMS) == 0;
}

/* The default namespace in scope where el is written: that of its nearest
 * ancestor written without a prefix (within the subtree of top), else the
 * stream's. */
static const char *scope_ns(const xmsg_xel *el, const xmsg_xel *top,
                            const char *stream_ns)
{
    const xmsg_xel *a = el;

    while (a != top) {
        a = a->parent;
        if (!prefixed(a, stream_ns))
            return a->ns;
    }
    return stream_ns ? stream_ns : "";
}

static int put_ns_decl(xmsg_buf *b, const char *prefix, const char *ns)
{
    return xmsg_buf_str(b, " xmlns") || xmsg_buf_str(b, prefix) ||
           xmsg_buf_str(b, "='") || put_escaped(b, ns, strlen(ns), 1) ||
           xmsg_buf_put(b, "'", 1);
}

/* One attribute; one in a namespace gets a prefix of its own, a<i>. */
static int put_attr(xmsg_buf *b, const xmsg_xattr *a, size_t i)
{
    char prefix[32];

    prefix[0] = '\0';
    if (*a->ns) {
        snprintf(prefix, sizeof(prefix), ":a%zu", i);
        if (put_ns_decl(b, prefix, a->ns))
            return -1;
    }
    return xmsg_buf_put(b, " ", 1) ||
           (*prefix && xmsg_buf_str(b, prefix + 1)) ||
           (*prefix && xmsg_buf_put(b, ":", 1)) || xmsg_buf_str(b, a->name) ||
           xmsg_buf_str(b, "='") ||
           put_escaped(b, a->value, strlen(a->value), 1) ||
           xmsg_buf_put(b, "'", 1);
}

static int put_start(xmsg_buf *b, const xmsg_xel *el, const xmsg_xel *top,
                     const char *stream_ns)
{
    const int pre = prefixed(el, stream_ns);
    size_t i;

    if (xmsg_buf_put(b, "<", 1) || (pre && xmsg_buf_str(b, "stream:")) ||
        xmsg_buf_str(b, el->name))
        return -1;
    if (!pre && strcmp(el->ns, scope_ns(el, top, stream_ns)) != 0 &&
        put_ns_decl(b, "", el->ns))
        return -1;
    for (i = 0; i < el->n_attrs; i++) {
        if (put_attr(b, &el->attrs[i], i))
            return -1;
    }
    return el->first ? xmsg_buf_put(b, ">", 1) : xmsg_buf_put(b, "/>", 2);
}

static int put_end(xmsg_buf *b, const xmsg_xel *el, const char *stream_ns)
{
    return xmsg_buf_put(b, "</", 2) ||
           (prefixed(el, stream_ns) && xmsg_buf_str(b, "stream:")) ||
           xmsg_buf_str(b, el->name) || xmsg_buf_put(b, ">", 1);
}

/* Writes the tree in document order: a node, then its children, then the
 * end tags of the elements it closes. */
static int put_tree(xmsg_buf *b, const xmsg_xel *top, const char *stream_ns)
{
    const xmsg_xel *n = top;

    for (;;) {
        if (!n->name) {
            if (put_escaped(b, n->text, n->text_len, 0))
                return -1;
        } else {
            if (put_start(b, n, top, stream_ns))
                return -1;
            if (n->first) {
                n = n->first;
                continue;
            }
        }
        while (n != top && !n->next) {
            n = n->parent;
            if (put_end(b, n, stream_ns))
                return -1;
        }
        if (n == top)
            return 0;
        n = n->next;
    }
}

xmsg_err xmsg_xel_write(const xmsg_xel *el, const char *stream_ns,
                        xmsg_buf *out)
{
    const size_t mark = out->len;

    if (!el)
        return XMSG_ERR_INPUT;
    if (put_tree(out, el, stream_ns) == 0)
        return XMSG_OK;
    out->len = mark;
    if (out->d)
        out->d[mark] = '\0';
    return XMSG_ERR_INTERNAL;
}
