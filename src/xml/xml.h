/* xml.h - the XML layer: one element type, its builder, its serializer
 * and one bounded streaming parser over expat.
 *
 * What this layer offers to the layers above it (src/xmpp/, the features):
 *
 *  - xmsg_xel: an element (namespace + local name, ordered attributes,
 *    ordered children that are elements or text nodes), every string owned
 *    by the tree. Built with xmsg_xel_new/_set_attr/_add_child/_add_text,
 *    read with the accessors, written with xmsg_xel_write.
 *  - xmsg_xml_escape_text: the escaping the stream layer needs to write the
 *    stream header (the only XML this layer does not write itself).
 *  - xmsg_xml_parser: bytes in, any split; out come the stream root's
 *    attributes, one complete top-level element at a time (owned by the
 *    callee), and the stream's end. Hard limits; DOCTYPE, entity
 *    declarations, processing instructions and comments refused at once
 *    (RFC 6120 section 11.1).
 *
 * It uses only the model's helpers (internal.h: xmsg_buf, xmsg_text_valid)
 * and expat. Trees are walked without recursion: no depth can exhaust the
 * C stack. Failures are an xmsg_err value; texts never quote the peer.
 */
#ifndef XMSG_XML_H
#define XMSG_XML_H

#include <stddef.h>

#include "model/internal.h"

/* Namespaces the upper layers name often. */
#define XMSG_NS_STREAMS "http://etherx.jabber.org/streams"
#define XMSG_NS_CLIENT "jabber:client"
#define XMSG_NS_XML "http://www.w3.org/XML/1998/namespace"

/* ---- the element ---- */

/* An element, or a text node among an element's children. Opaque: use the
 * functions below. */
typedef struct xmsg_xel xmsg_xel;

/* A new element with no parent (owned: xmsg_xel_free). ns NULL or "" is no
 * namespace; name is an ASCII XML name (letters, digits, '-', '_', '.',
 * starting with a letter or '_'). NULL when name or ns is invalid or out of
 * memory. */
xmsg_xel *xmsg_xel_new(const char *ns, const char *name);
/* Frees el and everything under it; detaches it first when it has a
 * parent. NULL-safe. */
void xmsg_xel_free(xmsg_xel *el);
/* Takes el (an element or a text node) out of its parent; the caller owns
 * it from then on. Returns el. */
xmsg_xel *xmsg_xel_detach(xmsg_xel *el);

/* Borrowed accessors. ns is "" for no namespace; both are NULL for a text
 * node. */
const char *xmsg_xel_ns(const xmsg_xel *el);
const char *xmsg_xel_name(const xmsg_xel *el);
xmsg_xel *xmsg_xel_parent(const xmsg_xel *el);
/* 1 if node is a text node. */
int xmsg_xel_is_text(const xmsg_xel *node);
/* A text node's text (borrowed, NUL-terminated; *len its length when len
 * is not NULL); NULL for an element. */
const char *xmsg_xel_text_ptr(const xmsg_xel *node, size_t *len);
/* 1 if el is an element named name in namespace ns (NULL: any). */
int xmsg_xel_is(const xmsg_xel *el, const char *ns, const char *name);

/* Sets attribute name (no namespace) to value (copied; an existing one
 * keeps its place, a new one goes last); value NULL removes it. name is an
 * ASCII XML name, or "xml:lang" / "xml:space"; never xmlns (namespaces are
 * written by the serializer). value must be text XML 1.0 allows.
 * @return XMSG_OK, XMSG_ERR_INPUT (invalid name or value),
 * XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_xel_set_attr(xmsg_xel *el, const char *name, const char *value);
/* The same for an attribute in namespace ns (NULL or "": none); the XML
 * namespace's lang and space become "xml:lang" and "xml:space". */
xmsg_err xmsg_xel_set_attr_ns(xmsg_xel *el, const char *ns, const char *name,
                              const char *value);
/* Value of attribute name (no namespace; "xml:lang" for the language), or
 * NULL. Borrowed. With ns XMSG_NS_XML, name "lang" finds "xml:lang". */
const char *xmsg_xel_attr(const xmsg_xel *el, const char *name);
const char *xmsg_xel_attr_ns(const xmsg_xel *el, const char *ns,
                             const char *name);
/* Number of attributes, and the i-th in order (borrowed; *ns "" for
 * none). 0 ok, -1 when i is out of range. */
size_t xmsg_xel_attr_count(const xmsg_xel *el);
int xmsg_xel_attr_at(const xmsg_xel *el, size_t i, const char **ns,
                     const char **name, const char **value);

/* Appends child (an element with no parent) to parent, which takes it.
 * @return XMSG_OK, XMSG_ERR_INPUT (child has a parent, is a text node, is
 * parent or one of its ancestors, or parent is a text node). */
xmsg_err xmsg_xel_add_child(xmsg_xel *parent, xmsg_xel *child);
/* Creates an element and appends it; ns NULL: parent's namespace, "": none.
 * Borrowed result (owned by parent), NULL on invalid input or memory. */
xmsg_xel *xmsg_xel_add_new(xmsg_xel *parent, const char *ns, const char *name);
/* Appends text[0..len), merged into a text node that is last already
 * (which may move: a pointer to that node is stale after the call).
 * @return XMSG_OK, XMSG_ERR_INPUT (not text XML 1.0 allows, or parent is a
 * text node), XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_xel_add_text(xmsg_xel *parent, const char *text, size_t len);

/* Children in order, text nodes included: first child, next sibling;
 * NULL at the end. Borrowed. */
xmsg_xel *xmsg_xel_first(const xmsg_xel *el);
xmsg_xel *xmsg_xel_next(const xmsg_xel *node);
/* First child element of el, and the next sibling element after node,
 * matching ns and name (NULL: any). Borrowed. */
xmsg_xel *xmsg_xel_child(const xmsg_xel *el, const char *ns, const char *name);
xmsg_xel *xmsg_xel_next_el(const xmsg_xel *node, const char *ns,
                           const char *name);
/* The text of el and of every element under it, in document order (owned:
 * free()); "" when there is none; NULL when el is NULL or out of
 * memory. */
char *xmsg_xel_text(const xmsg_xel *el);
/* 1 if a and b are equal trees: names, namespaces, attributes in order,
 * children, text nodes (the builder and the parser both merge adjacent
 * text, so equal documents give equal trees; only a detach can leave two
 * text nodes side by side). */
int xmsg_xel_equal(const xmsg_xel *a, const xmsg_xel *b);

/* ---- writing XML ---- */

/* Appends s[0..len) escaped: & < > always, CR as &#13; (a parser would fold
 * it); for an attribute value quoted with ' (attr non-zero) also ' " TAB
 * LF. @return XMSG_OK, XMSG_ERR_INPUT (not text XML 1.0 allows),
 * XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_xml_escape_text(xmsg_buf *out, const char *s, size_t len,
                              int attr);
/* Appends el as XML text. stream_ns NULL: a document of its own, every
 * namespace declared. stream_ns set (e.g. XMSG_NS_CLIENT): el is written as
 * a top-level element of a stream whose default namespace is stream_ns
 * (an element in it carries no xmlns, as on the wire) and which declares
 * the prefix stream: for XMSG_NS_STREAMS. xmlns is written only where the
 * namespace in scope changes. @return XMSG_OK, XMSG_ERR_INTERNAL (memory;
 * out keeps what it had). */
xmsg_err xmsg_xel_write(const xmsg_xel *el, const char *stream_ns,
                        xmsg_buf *out);

/* ---- the stream parser ---- */

/* Hard limits; a value of 0 takes the default. */
typedef struct xmsg_xml_limits {
    size_t element_bytes; /* input bytes of one top-level element (and of
                             the stream header): 2 MiB */
    size_t depth;         /* nesting of a top-level element, itself 1: 64 */
    size_t attrs;         /* attributes of one element: 64 */
    size_t name_bytes;    /* local name, namespace, attribute name: 1024 */
    size_t text_bytes;    /* text of one top-level element: 1 MiB */
    size_t nodes;         /* elements + text nodes in one: 65536 */
} xmsg_xml_limits;

/* What the parser hands over. Each returns 0 to go on, non-zero to pause:
 * xmsg_xml_feed then returns at once, after the bytes of this event (for
 * example after <proceed/> or <success/>, whose following bytes belong to
 * TLS or to a new stream). NULL members are allowed. */
typedef struct xmsg_xml_handlers {
    /* <stream:stream> opened; root has its attributes, no children
     * (borrowed, valid during the call); default_ns its default namespace
     * ("" when none). */
    int (*open)(const xmsg_xel *root, const char *default_ns, void *userdata);
    /* One complete top-level element; the callee owns el (xmsg_xel_free).
     */
    int (*element)(xmsg_xel *el, void *userdata);
    /* </stream:stream>. */
    int (*close)(void *userdata);
} xmsg_xml_handlers;

typedef struct xmsg_xml_parser xmsg_xml_parser;

/* A new parser (owned: xmsg_xml_parser_free). limits NULL: the defaults;
 * handlers are copied. NULL when out of memory. */
xmsg_xml_parser *xmsg_xml_parser_new(const xmsg_xml_limits *limits,
                                     const xmsg_xml_handlers *handlers,
                                     void *userdata);
void xmsg_xml_parser_free(xmsg_xml_parser *p);
/* Feeds data[0..len). *used (never NULL) tells how many bytes were taken:
 * len, or fewer when a handler paused; then feed data + *used again, to
 * this parser or to it after xmsg_xml_parser_reset (those bytes must be the
 * same: the paused parser may hold them already).
 * @return XMSG_OK; XMSG_ERR_PROTOCOL (not well-formed, a limit, a refused
 * construct, not a stream: the text says which, and every later feed
 * fails the same); XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_xml_feed(xmsg_xml_parser *p, const char *data, size_t len,
                       size_t *used);
/* A fresh expat parser for a stream restart (after STARTTLS, after SASL
 * success): state, failure and partial element are dropped; limits and
 * handlers stay. @return XMSG_OK or XMSG_ERR_INTERNAL (memory). */
xmsg_err xmsg_xml_parser_reset(xmsg_xml_parser *p);
/* The failure's text (borrowed), "" when none. */
const char *xmsg_xml_parser_error(const xmsg_xml_parser *p);
/* 1 once the stream root was closed. */
int xmsg_xml_parser_closed(const xmsg_xml_parser *p);

#endif /* XMSG_XML_H */
