/* xel_raw.h - private to src/xml/: the element's structure and the
 * unchecked constructors the parser uses (expat has checked the input
 * already). Nothing outside src/xml/ includes this file. */
#ifndef XMSG_XEL_RAW_H
#define XMSG_XEL_RAW_H

#include "xml/xml.h"

typedef struct xmsg_xattr {
    char *mem;        /* one block: name, value, ns (each NUL-ended), or
                         NULL when they live in the element's block */
    const char *name; /* local name, or "xml:<name>" */
    const char *value;
    const char *ns; /* "" for none */
} xmsg_xattr;

/* One allocation an element: the struct, then room for the attributes it
 * was made with, its name and namespace, and their strings. A text node:
 * the struct, then its text. */
struct xmsg_xel {
    xmsg_xel *parent, *prev, *next; /* siblings */
    xmsg_xel *first, *last;         /* children */
    char *name;                     /* NULL for a text node */
    const char *ns;
    char *text; /* a text node's text, NUL-ended */
    size_t text_len;
    xmsg_xattr *attrs;
    size_t n_attrs, cap_attrs;
    int attrs_inline; /* attrs is in the element's block */
    char *room;       /* the block's room left for attribute strings */
    size_t room_len;
};

/* Bytes an attribute takes in an element's block. */
#define XMSG_XATTR_SIZE(ns_len, name_len, value_len)                           \
    ((ns_len) + (name_len) + (value_len) + 3)

/* A new element from name[0..name_len) and ns[0..ns_len) as they are, with
 * room for n_attrs attributes whose sizes (XMSG_XATTR_SIZE) add up to
 * room_len. NULL when out of memory. */
xmsg_xel *xmsg_xel_make(const char *ns, size_t ns_len, const char *name,
                        size_t name_len, size_t n_attrs, size_t room_len);
/* Appends an attribute without looking for an existing one, in the room
 * made for it when there is enough. Its name is prefix (may be NULL)
 * followed by name[0..name_len). 0 ok, -1 memory. */
int xmsg_xel_push_attr(xmsg_xel *el, const char *ns, size_t ns_len,
                       const char *prefix, const char *name, size_t name_len,
                       const char *value, size_t value_len);
/* Appends child (no parent) as last child. */
void xmsg_xel_append(xmsg_xel *parent, xmsg_xel *child);
/* Appends text unchecked (merged into a last text node). 0 ok, -1 memory.
 */
int xmsg_xel_append_text(xmsg_xel *parent, const char *text, size_t len);

#endif /* XMSG_XEL_RAW_H */
