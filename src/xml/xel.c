/* xel.c - the element tree: construction, attributes, children, text,
 * traversal without recursion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml/xel_raw.h"

/* Longest name or namespace the builder accepts. */
#define NAME_MAX_BYTES 1024

static int ascii_name_ok(const char *s)
{
    size_t i;

    if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
                s[0] == '_'))
        return 0;
    for (i = 1; s[i]; i++) {
        const char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return i <= NAME_MAX_BYTES;
}

static int ns_ok(const char *ns)
{
    size_t len;

    if (!ns)
        return 1;
    len = strlen(ns);
    return len <= NAME_MAX_BYTES && xmsg_text_valid(ns, len);
}

xmsg_xel *xmsg_xel_make(const char *ns, size_t ns_len, const char *name,
                        size_t name_len, size_t n_attrs, size_t room_len)
{
    const size_t head = sizeof(xmsg_xel) + n_attrs * sizeof(xmsg_xattr);
    xmsg_xel *el = malloc(head + name_len + ns_len + 2 + room_len);
    char *s;

    if (!el)
        return NULL;
    memset(el, 0, sizeof(*el));
    el->attrs = n_attrs ? (xmsg_xattr *)(el + 1) : NULL;
    el->cap_attrs = n_attrs;
    el->attrs_inline = n_attrs > 0;
    s = (char *)el + head;
    el->name = s;
    memcpy(s, name, name_len);
    s[name_len] = '\0';
    s += name_len + 1;
    if (ns_len)
        memcpy(s, ns, ns_len);
    s[ns_len] = '\0';
    el->ns = s;
    el->room = s + ns_len + 1;
    el->room_len = room_len;
    return el;
}

xmsg_xel *xmsg_xel_new(const char *ns, const char *name)
{
    if (!ascii_name_ok(name) || !ns_ok(ns))
        return NULL;
    return xmsg_xel_make(ns ? ns : "", ns ? strlen(ns) : 0, name, strlen(name),
                         0, 0);
}

static void free_one(xmsg_xel *el)
{
    size_t i;

    for (i = 0; i < el->n_attrs; i++)
        free(el->attrs[i].mem);
    if (!el->attrs_inline)
        free(el->attrs);
    free(el);
}

/* Frees the subtree of root without recursion: descend to a leaf, free it,
 * go on from its next sibling or its parent. */
static void free_tree(xmsg_xel *root)
{
    xmsg_xel *n = root, *up;

    while (n) {
        while (n->first)
            n = n->first;
        if (n == root) {
            free_one(n);
            return;
        }
        up = n->parent;
        up->first = n->next;
        free_one(n);
        n = up->first ? up->first : up;
        if (!up->first)
            up->last = NULL;
    }
}

void xmsg_xel_free(xmsg_xel *el)
{
    if (!el)
        return;
    xmsg_xel_detach(el);
    free_tree(el);
}

xmsg_xel *xmsg_xel_detach(xmsg_xel *el)
{
    xmsg_xel *p = el ? el->parent : NULL;

    if (!p)
        return el;
    if (el->prev)
        el->prev->next = el->next;
    else
        p->first = el->next;
    if (el->next)
        el->next->prev = el->prev;
    else
        p->last = el->prev;
    el->parent = el->prev = el->next = NULL;
    return el;
}

const char *xmsg_xel_ns(const xmsg_xel *el)
{
    return el && el->name ? el->ns : NULL;
}

const char *xmsg_xel_name(const xmsg_xel *el)
{
    return el ? el->name : NULL;
}

xmsg_xel *xmsg_xel_parent(const xmsg_xel *el)
{
    return el ? el->parent : NULL;
}

int xmsg_xel_is_text(const xmsg_xel *node)
{
    return node && !node->name;
}

const char *xmsg_xel_text_ptr(const xmsg_xel *node, size_t *len)
{
    if (!node || node->name)
        return NULL;
    if (len)
        *len = node->text_len;
    return node->text;
}

int xmsg_xel_is(const xmsg_xel *el, const char *ns, const char *name)
{
    if (!el || !el->name)
        return 0;
    if (name && strcmp(el->name, name) != 0)
        return 0;
    return !ns || strcmp(el->ns, ns) == 0;
}

/* ---- attributes ---- */

static xmsg_xattr *attr_find(const xmsg_xel *el, const char *ns,
                             const char *name)
{
    size_t i;

    for (i = 0; el && i < el->n_attrs; i++) {
        if (strcmp(el->attrs[i].name, name) == 0 &&
            strcmp(el->attrs[i].ns, ns) == 0)
            return &el->attrs[i];
    }
    return NULL;
}

/* Writes a's strings at m: name (prefix + name), value, ns. */
static void attr_write(xmsg_xattr *a, char *m, const char *ns, size_t ns_len,
                       const char *prefix, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    const size_t pl = prefix ? strlen(prefix) : 0;

    if (pl)
        memcpy(m, prefix, pl);
    memcpy(m + pl, name, name_len);
    m[pl + name_len] = '\0';
    a->name = m;
    m += pl + name_len + 1;
    if (value_len)
        memcpy(m, value, value_len);
    m[value_len] = '\0';
    a->value = m;
    m += value_len + 1;
    if (ns_len)
        memcpy(m, ns, ns_len);
    m[ns_len] = '\0';
    a->ns = m;
}

/* Gives a a block of its own with these strings. 0 ok, -1 memory. */
static int attr_replace(xmsg_xattr *a, const char *ns, const char *name,
                        const char *value, size_t value_len)
{
    const size_t ns_len = strlen(ns), name_len = strlen(name);
    char *m = malloc(XMSG_XATTR_SIZE(ns_len, name_len, value_len));

    if (!m)
        return -1;
    attr_write(a, m, ns, ns_len, NULL, name, name_len, value, value_len);
    free(a->mem);
    a->mem = m;
    return 0;
}

static int attrs_grow(xmsg_xel *el)
{
    const size_t cap = el->cap_attrs ? el->cap_attrs * 2 : 4;
    xmsg_xattr *na;

    if (el->n_attrs < el->cap_attrs)
        return 0;
    if (el->attrs_inline) {
        na = malloc(cap * sizeof(*na));
        if (na)
            memcpy(na, el->attrs, el->n_attrs * sizeof(*na));
    } else {
        na = realloc(el->attrs, cap * sizeof(*na));
    }
    if (!na)
        return -1;
    el->attrs = na;
    el->cap_attrs = cap;
    el->attrs_inline = 0;
    return 0;
}

int xmsg_xel_push_attr(xmsg_xel *el, const char *ns, size_t ns_len,
                       const char *prefix, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    const size_t size = XMSG_XATTR_SIZE(
        ns_len, (prefix ? strlen(prefix) : 0) + name_len, value_len);
    char *m = NULL, *at;
    xmsg_xattr *a;

    if (attrs_grow(el))
        return -1;
    if (size <= el->room_len) {
        at = el->room;
        el->room += size;
        el->room_len -= size;
    } else {
        at = m = malloc(size);
        if (!m)
            return -1;
    }
    a = &el->attrs[el->n_attrs++];
    a->mem = m;
    attr_write(a, at, ns, ns_len, prefix, name, name_len, value, value_len);
    return 0;
}

static void attr_remove(xmsg_xel *el, xmsg_xattr *a)
{
    size_t i = (size_t)(a - el->attrs);

    free(a->mem);
    memmove(a, a + 1, (el->n_attrs - i - 1) * sizeof(*a));
    el->n_attrs--;
}

/* "xml:lang" and "xml:space" are the attribute names of the XML namespace
 * this layer keeps; anything else must be a plain name. */
static int attr_name_ok(const char *ns, const char *name)
{
    if (strcmp(name, "xml:lang") == 0 || strcmp(name, "xml:space") == 0)
        return *ns == '\0';
    if (strncmp(name, "xmlns", 5) == 0 && *ns == '\0')
        return 0;
    return ascii_name_ok(name);
}

xmsg_err xmsg_xel_set_attr_ns(xmsg_xel *el, const char *ns, const char *name,
                              const char *value)
{
    xmsg_xattr *a;
    size_t vlen = value ? strlen(value) : 0;

    if (!el || !el->name || !name || !ns_ok(ns))
        return XMSG_ERR_INPUT;
    ns = ns ? ns : "";
    if (strcmp(ns, XMSG_NS_XML) == 0) {
        if (strcmp(name, "lang") && strcmp(name, "space"))
            return XMSG_ERR_INPUT;
        name = strcmp(name, "lang") == 0 ? "xml:lang" : "xml:space";
        ns = "";
    }
    if (!attr_name_ok(ns, name) || (value && !xmsg_text_valid(value, vlen)))
        return XMSG_ERR_INPUT;
    a = attr_find(el, ns, name);
    if (!value) {
        if (a)
            attr_remove(el, a);
        return XMSG_OK;
    }
    if (a)
        return attr_replace(a, ns, name, value, vlen) ? XMSG_ERR_INTERNAL
                                                      : XMSG_OK;
    return xmsg_xel_push_attr(el, ns, strlen(ns), NULL, name, strlen(name),
                              value, vlen)
               ? XMSG_ERR_INTERNAL
               : XMSG_OK;
}

xmsg_err xmsg_xel_set_attr(xmsg_xel *el, const char *name, const char *value)
{
    return xmsg_xel_set_attr_ns(el, NULL, name, value);
}

const char *xmsg_xel_attr_ns(const xmsg_xel *el, const char *ns,
                             const char *name)
{
    const xmsg_xattr *a;
    char xml[64];

    if (!name)
        return NULL;
    if (ns && strcmp(ns, XMSG_NS_XML) == 0) { /* kept as "xml:<name>" */
        if (strlen(name) + 5 > sizeof(xml))
            return NULL;
        snprintf(xml, sizeof(xml), "xml:%s", name);
        name = xml;
        ns = NULL;
    }
    a = attr_find(el, ns ? ns : "", name);
    return a ? a->value : NULL;
}

const char *xmsg_xel_attr(const xmsg_xel *el, const char *name)
{
    return xmsg_xel_attr_ns(el, NULL, name);
}

size_t xmsg_xel_attr_count(const xmsg_xel *el)
{
    return el ? el->n_attrs : 0;
}

int xmsg_xel_attr_at(const xmsg_xel *el, size_t i, const char **ns,
                     const char **name, const char **value)
{
    if (!el || i >= el->n_attrs)
        return -1;
    if (ns)
        *ns = el->attrs[i].ns;
    if (name)
        *name = el->attrs[i].name;
    if (value)
        *value = el->attrs[i].value;
    return 0;
}

/* ---- children ---- */

void xmsg_xel_append(xmsg_xel *parent, xmsg_xel *child)
{
    child->parent = parent;
    child->prev = parent->last;
    child->next = NULL;
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

xmsg_err xmsg_xel_add_child(xmsg_xel *parent, xmsg_xel *child)
{
    const xmsg_xel *a;

    if (!parent || !child || !parent->name || !child->name || child->parent)
        return XMSG_ERR_INPUT;
    for (a = parent; a; a = a->parent) {
        if (a == child)
            return XMSG_ERR_INPUT;
    }
    xmsg_xel_append(parent, child);
    return XMSG_OK;
}

xmsg_xel *xmsg_xel_add_new(xmsg_xel *parent, const char *ns, const char *name)
{
    xmsg_xel *el;

    if (!parent || !parent->name)
        return NULL;
    el = xmsg_xel_new(ns ? ns : parent->ns, name);
    if (el)
        xmsg_xel_append(parent, el);
    return el;
}

static xmsg_xel *text_new(const char *text, size_t len)
{
    xmsg_xel *t = malloc(sizeof(*t) + len + 1);

    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->text = (char *)(t + 1);
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->text_len = len;
    return t;
}

/* The text node is one block: growing it may move it, and its neighbours
 * are told. */
int xmsg_xel_append_text(xmsg_xel *parent, const char *text, size_t len)
{
    xmsg_xel *t = parent->last;

    if (!t || t->name) {
        t = text_new(text, len);
        if (!t)
            return -1;
        xmsg_xel_append(parent, t);
        return 0;
    }
    t = realloc(t, sizeof(*t) + t->text_len + len + 1);
    if (!t)
        return -1;
    t->text = (char *)(t + 1);
    if (t->prev)
        t->prev->next = t;
    else
        parent->first = t;
    parent->last = t;
    memcpy(t->text + t->text_len, text, len);
    t->text_len += len;
    t->text[t->text_len] = '\0';
    return 0;
}

xmsg_err xmsg_xel_add_text(xmsg_xel *parent, const char *text, size_t len)
{
    if (!parent || !parent->name || (len && !text) ||
        !xmsg_text_valid(text, len))
        return XMSG_ERR_INPUT;
    if (len == 0)
        return XMSG_OK;
    return xmsg_xel_append_text(parent, text, len) ? XMSG_ERR_INTERNAL
                                                   : XMSG_OK;
}

xmsg_xel *xmsg_xel_first(const xmsg_xel *el)
{
    return el ? el->first : NULL;
}

xmsg_xel *xmsg_xel_next(const xmsg_xel *node)
{
    return node ? node->next : NULL;
}

static xmsg_xel *match_from(xmsg_xel *n, const char *ns, const char *name)
{
    while (n && !xmsg_xel_is(n, ns, name))
        n = n->next;
    return n;
}

xmsg_xel *xmsg_xel_child(const xmsg_xel *el, const char *ns, const char *name)
{
    return el ? match_from(el->first, ns, name) : NULL;
}

xmsg_xel *xmsg_xel_next_el(const xmsg_xel *node, const char *ns,
                           const char *name)
{
    return node ? match_from(node->next, ns, name) : NULL;
}

/* The node after n in document order within root's subtree, or NULL. */
static const xmsg_xel *walk_next(const xmsg_xel *root, const xmsg_xel *n)
{
    if (n->first)
        return n->first;
    while (n != root && !n->next)
        n = n->parent;
    return n == root ? NULL : n->next;
}

char *xmsg_xel_text(const xmsg_xel *el)
{
    xmsg_buf b = {NULL, 0, 0};
    const xmsg_xel *n;

    if (!el)
        return NULL;
    for (n = el; n; n = walk_next(el, n)) {
        if (!n->name && xmsg_buf_put(&b, n->text, n->text_len)) {
            xmsg_buf_free(&b);
            return NULL;
        }
    }
    return b.d ? b.d : calloc(1, 1);
}

static int attrs_equal(const xmsg_xel *a, const xmsg_xel *b)
{
    size_t i;

    if (a->n_attrs != b->n_attrs)
        return 0;
    for (i = 0; i < a->n_attrs; i++) {
        if (strcmp(a->attrs[i].name, b->attrs[i].name) ||
            strcmp(a->attrs[i].ns, b->attrs[i].ns) ||
            strcmp(a->attrs[i].value, b->attrs[i].value))
            return 0;
    }
    return 1;
}

static int node_equal(const xmsg_xel *a, const xmsg_xel *b)
{
    if (!a->name || !b->name)
        return !a->name && !b->name && a->text_len == b->text_len &&
               memcmp(a->text, b->text, a->text_len) == 0;
    return strcmp(a->name, b->name) == 0 && strcmp(a->ns, b->ns) == 0 &&
           attrs_equal(a, b);
}

/* Both trees walked in step: same shape means every step lands on a node
 * in both, or on NULL in both. */
int xmsg_xel_equal(const xmsg_xel *a, const xmsg_xel *b)
{
    const xmsg_xel *na = a, *nb = b;

    if (!a || !b)
        return a == b;
    while (na && nb) {
        if (!node_equal(na, nb) || !na->first != !nb->first)
            return 0;
        if (na != a && !na->next != !nb->next)
            return 0;
        na = walk_next(a, na);
        nb = walk_next(b, nb);
    }
    return !na && !nb;
}
