/* parser.c - the bounded streaming parser: expat (namespace-aware) in, one
 * complete top-level element at a time out. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "xml/xel_raw.h"

/* Between a namespace and a local name in expat's names: a byte UTF-8
 * never contains. */
#define NS_SEP '\xff'

static const xmsg_xml_limits defaults = {
    .element_bytes = 2u * 1024 * 1024,
    .depth = 64,
    .attrs = 64,
    .name_bytes = 1024,
    .text_bytes = 1024 * 1024,
    .nodes = 65536,
};

enum stage { ST_PROLOG, ST_OPEN, ST_CLOSED, ST_FAILED };

/* Where the bytes handed to expat end, lexically: enough to know when a
 * tag is complete (see lex()). */
enum lexstate {
    LX_TEXT,  /* character data */
    LX_LT,    /* after '<' */
    LX_BANG,  /* after "<!" */
    LX_TAG,   /* in a start or end tag */
    LX_SQ,    /* in a '...' value */
    LX_DQ,    /* in a "..." value */
    LX_PI,    /* in <?...?> (only the XML declaration passes) */
    LX_PI_Q,  /* after its '?' */
    LX_CDATA, /* in <![CDATA[...]]> */
};

/* In a tag, outside quoted values: what the last byte but white space
 * was (where a '=' or a quote may come). */
enum tagstate {
    TG_START, /* the tag's first byte: nothing yet */
    TG_NAME,  /* a name's (or '/') */
    TG_EQ,    /* '=': a quoted value comes next */
    TG_VALUE, /* a value's closing quote */
};

struct xmsg_xml_parser {
    XML_Parser xp;
    xmsg_xml_limits lim;
    xmsg_xml_handlers h;
    void *ud;
    enum stage stage;
    xmsg_err err;
    char errtext[128];
    char *default_ns; /* the stream root's xmlns, while it opens */
    size_t ns_decls;  /* namespace declarations of the next element */
    size_t depth;     /* open elements under the stream root */
    xmsg_xel *top;    /* the top-level element being read */
    xmsg_xel *cur;    /* its innermost open element */
    xmsg_buf text;    /* text of cur not yet in a node */
    size_t text_total, nodes;
    uint64_t given;     /* bytes handed to expat */
    uint64_t taken;     /* bytes the caller was told were used */
    uint64_t mark;      /* where the element (or header) being read began */
    uint64_t pause_end; /* a handler paused after this byte */
    int suspended;      /* expat is suspended after a pause */
    enum lexstate lex;
    int brackets; /* ']' in a row, in CDATA */
    enum tagstate tag;
};

static void fail(xmsg_xml_parser *p, xmsg_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure and stops expat for good. */
static void fail(xmsg_xml_parser *p, xmsg_err code, const char *fmt, ...)
{
    va_list ap;

    if (p->stage == ST_FAILED)
        return;
    p->stage = ST_FAILED;
    p->err = code;
    va_start(ap, fmt);
    vsnprintf(p->errtext, sizeof(p->errtext), fmt, ap);
    va_end(ap);
    XML_StopParser(p->xp, XML_FALSE);
}

static int failed(const xmsg_xml_parser *p)
{
    return p->stage == ST_FAILED;
}

/* Absolute offset just after the event expat is reporting. */
static uint64_t event_end(const xmsg_xml_parser *p)
{
    return (uint64_t)XML_GetCurrentByteIndex(p->xp) +
           (uint64_t)XML_GetCurrentByteCount(p->xp);
}

/* A handler's verdict: non-zero pauses after the current event. */
static void maybe_pause(xmsg_xml_parser *p, int verdict)
{
    if (!verdict || failed(p))
        return;
    p->pause_end = event_end(p);
    XML_StopParser(p->xp, XML_TRUE);
}

static void drop_partial(xmsg_xml_parser *p)
{
    xmsg_xel_free(p->top);
    p->top = p->cur = NULL;
    p->depth = 0;
    p->text.len = 0;
    p->text_total = p->nodes = 0;
}

/* ---- names ---- */

typedef struct qname {
    const char *ns, *local;
    size_t ns_len, local_len;
} qname;

static qname split_name(const char *name)
{
    const char *sep = strchr(name, NS_SEP);
    qname q = {"", name, 0, 0};

    if (sep) {
        q.ns = name;
        q.ns_len = (size_t)(sep - name);
        q.local = sep + 1;
    }
    q.local_len = strlen(q.local);
    return q;
}

static int name_too_long(xmsg_xml_parser *p, const qname *q)
{
    if (q->ns_len <= p->lim.name_bytes && q->local_len <= p->lim.name_bytes)
        return 0;
    fail(p, XMSG_ERR_PROTOCOL,
         "XML: a name or namespace longer than %zu "
         "bytes",
         p->lim.name_bytes);
    return 1;
}

static int is_xml_ns(const qname *q)
{
    return q->ns_len == sizeof(XMSG_NS_XML) - 1 &&
           memcmp(q->ns, XMSG_NS_XML, q->ns_len) == 0;
}

/* Bytes of the attributes' strings, names checked; -1 when one is too
 * long (recorded). */
static int attrs_room(xmsg_xml_parser *p, const char **atts, size_t *room)
{
    qname q;
    size_t i;

    *room = 0;
    for (i = 0; atts[2 * i]; i++) {
        q = split_name(atts[2 * i]);
        if (name_too_long(p, &q))
            return -1;
        *room += is_xml_ns(&q) ? XMSG_XATTR_SIZE(0, 4 + q.local_len,
                                                 strlen(atts[2 * i + 1]))
                               : XMSG_XATTR_SIZE(q.ns_len, q.local_len,
                                                 strlen(atts[2 * i + 1]));
    }
    return 0;
}

/* Adds the attributes as expat names them; the XML namespace's become
 * "xml:<local>" without a namespace. */
static void add_attrs(xmsg_xel *el, const char **atts)
{
    const char *v;
    qname q;
    size_t i;
    int xml;

    for (i = 0; atts[2 * i]; i++) {
        q = split_name(atts[2 * i]);
        v = atts[2 * i + 1];
        xml = is_xml_ns(&q);
        /* room was made for every one: this never allocates */
        xmsg_xel_push_attr(el, xml ? "" : q.ns, xml ? 0 : q.ns_len,
                           xml ? "xml:" : NULL, q.local, q.local_len, v,
                           strlen(v));
    }
}

/* A new element with its attributes, within the limits; NULL on failure
 * (recorded). */
static xmsg_xel *make_element(xmsg_xml_parser *p, const char *name,
                              const char **atts)
{
    const qname q = split_name(name);
    size_t n = 0, room;
    xmsg_xel *el;

    while (atts[2 * n])
        n++;
    if (n + p->ns_decls > p->lim.attrs) {
        fail(p, XMSG_ERR_PROTOCOL,
             "XML: an element with more than %zu attributes", p->lim.attrs);
        return NULL;
    }
    p->ns_decls = 0;
    if (name_too_long(p, &q) || attrs_room(p, atts, &room))
        return NULL;
    el = xmsg_xel_make(q.ns, q.ns_len, q.local, q.local_len, n, room);
    if (!el) {
        fail(p, XMSG_ERR_INTERNAL, "XML: out of memory");
        return NULL;
    }
    add_attrs(el, atts);
    return el;
}

/* ---- the stream root ---- */

static void open_stream(xmsg_xml_parser *p, const char *name, const char **atts)
{
    xmsg_xel *root;
    int verdict = 0;

    if (strcmp(name, XMSG_NS_STREAMS "\xff"
                                     "stream") != 0) {
        fail(p, XMSG_ERR_PROTOCOL,
             "XML: the root is not <stream:stream> in "
             "the streams namespace");
        return;
    }
    root = make_element(p, name, atts);
    if (!root)
        return;
    p->stage = ST_OPEN;
    p->mark = event_end(p);
    if (p->h.open)
        verdict = p->h.open(root, p->default_ns ? p->default_ns : "", p->ud);
    xmsg_xel_free(root);
    free(p->default_ns);
    p->default_ns = NULL;
    maybe_pause(p, verdict);
}

static void on_ns_decl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    xmsg_xml_parser *p = ud;

    if (failed(p))
        return;
    p->ns_decls++;
    if (p->stage != ST_PROLOG || prefix || !uri)
        return;
    free(p->default_ns);
    p->default_ns = xmsg_strdup(uri);
    if (!p->default_ns)
        fail(p, XMSG_ERR_INTERNAL, "XML: out of memory");
}

/* ---- elements and text ---- */

/* Turns the text gathered for cur into a text node. 0 ok, -1 failed. */
static int flush_text(xmsg_xml_parser *p)
{
    if (p->text.len == 0)
        return 0;
    if (++p->nodes > p->lim.nodes) {
        fail(p, XMSG_ERR_PROTOCOL, "XML: an element of more than %zu nodes",
             p->lim.nodes);
        return -1;
    }
    if (xmsg_xel_append_text(p->cur, p->text.d, p->text.len)) {
        fail(p, XMSG_ERR_INTERNAL, "XML: out of memory");
        return -1;
    }
    p->text.len = 0;
    return 0;
}

static int within_limits(xmsg_xml_parser *p)
{
    if (p->depth + 1 > p->lim.depth) {
        fail(p, XMSG_ERR_PROTOCOL, "XML: elements nested deeper than %zu",
             p->lim.depth);
        return 0;
    }
    if (p->nodes + 1 > p->lim.nodes) {
        fail(p, XMSG_ERR_PROTOCOL, "XML: an element of more than %zu nodes",
             p->lim.nodes);
        return 0;
    }
    return 1;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xmsg_xml_parser *p = ud;
    xmsg_xel *el;

    if (failed(p))
        return;
    if (p->stage == ST_PROLOG) {
        open_stream(p, name, atts);
        return;
    }
    if (flush_text(p) || !within_limits(p))
        return;
    el = make_element(p, name, atts);
    if (!el)
        return;
    if (p->cur)
        xmsg_xel_append(p->cur, el);
    else
        p->top = el;
    p->cur = el;
    p->depth++;
    p->nodes++;
}

static void on_end(void *ud, const XML_Char *name)
{
    xmsg_xml_parser *p = ud;
    xmsg_xel *el;

    (void)name;
    if (failed(p))
        return;
    if (p->depth == 0) {
        p->stage = ST_CLOSED;
        maybe_pause(p, p->h.close ? p->h.close(p->ud) : 0);
        return;
    }
    if (flush_text(p))
        return;
    p->cur = p->cur->parent;
    if (--p->depth > 0)
        return;
    el = p->top;
    p->top = NULL;
    p->text_total = p->nodes = 0;
    p->mark = event_end(p);
    if (p->h.element)
        maybe_pause(p, p->h.element(el, p->ud));
    else
        xmsg_xel_free(el);
}

static int all_space(const char *s, int len)
{
    int i;

    for (i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    }
    return 1;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    xmsg_xml_parser *p = ud;

    if (failed(p))
        return;
    if (p->depth == 0) {
        if (!all_space(s, len))
            fail(p, XMSG_ERR_PROTOCOL, "XML: text at stream level");
        else
            p->mark = event_end(p);
        return;
    }
    p->text_total += (size_t)len;
    if (p->text_total > p->lim.text_bytes) {
        fail(p, XMSG_ERR_PROTOCOL,
             "XML: an element with more than %zu "
             "bytes of text",
             p->lim.text_bytes);
        return;
    }
    if (xmsg_buf_put(&p->text, s, (size_t)len))
        fail(p, XMSG_ERR_INTERNAL, "XML: out of memory");
}

/* ---- what RFC 6120 section 11.1 forbids ---- */

static void refuse(void *ud, const char *what)
{
    xmsg_xml_parser *p = ud;

    fail(p, XMSG_ERR_PROTOCOL, "XML: %s refused (RFC 6120 11.1)", what);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    refuse(ud, "DOCTYPE");
}

static void on_entity_decl(void *ud, const XML_Char *name, int is_param,
                           const XML_Char *value, int value_len,
                           const XML_Char *base, const XML_Char *sysid,
                           const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base;
    (void)sysid, (void)pubid, (void)notation;
    refuse(ud, "entity declaration");
}

static void on_notation(void *ud, const XML_Char *name, const XML_Char *base,
                        const XML_Char *sysid, const XML_Char *pubid)
{
    (void)name, (void)base, (void)sysid, (void)pubid;
    refuse(ud, "notation declaration");
}

static void on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target, (void)data;
    refuse(ud, "processing instruction");
}

static void on_comment(void *ud, const XML_Char *data)
{
    (void)data;
    refuse(ud, "comment");
}

static void on_skipped(void *ud, const XML_Char *name, int is_param)
{
    (void)name, (void)is_param;
    refuse(ud, "entity reference");
}

/* Only version 1.0 in UTF-8. */
static void on_xml_decl(void *ud, const XML_Char *version,
                        const XML_Char *encoding, int standalone)
{
    xmsg_xml_parser *p = ud;

    (void)standalone;
    if (version && strcmp(version, "1.0") != 0)
        fail(p, XMSG_ERR_PROTOCOL, "XML: a version other than 1.0");
    else if (encoding && strcasecmp(encoding, "UTF-8") != 0)
        fail(p, XMSG_ERR_PROTOCOL, "XML: an encoding other than UTF-8");
}

/* ---- life cycle ---- */

static int expat_open(xmsg_xml_parser *p)
{
    /* expat allocates through the same malloc as the rest of the library
     * (one allocator to count, or to make fail in a test) */
    static const XML_Memory_Handling_Suite mem = {malloc, realloc, free};
    const XML_Char sep[2] = {NS_SEP, '\0'};
    XML_Parser xp = XML_ParserCreate_MM("UTF-8", &mem, sep);

    if (!xp)
        return -1;
    XML_SetUserData(xp, p);
    XML_SetParamEntityParsing(xp, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetElementHandler(xp, on_start, on_end);
    XML_SetCharacterDataHandler(xp, on_text);
    XML_SetStartNamespaceDeclHandler(xp, on_ns_decl);
    XML_SetXmlDeclHandler(xp, on_xml_decl);
    XML_SetStartDoctypeDeclHandler(xp, on_doctype);
    XML_SetEntityDeclHandler(xp, on_entity_decl);
    XML_SetNotationDeclHandler(xp, on_notation);
    XML_SetProcessingInstructionHandler(xp, on_pi);
    XML_SetCommentHandler(xp, on_comment);
    XML_SetSkippedEntityHandler(xp, on_skipped);
    p->xp = xp;
    return 0;
}

static void limits_set(xmsg_xml_limits *lim, const xmsg_xml_limits *want)
{
    *lim = defaults;
    if (!want)
        return;
    lim->element_bytes =
        want->element_bytes ? want->element_bytes : defaults.element_bytes;
    lim->depth = want->depth ? want->depth : defaults.depth;
    lim->attrs = want->attrs ? want->attrs : defaults.attrs;
    lim->name_bytes = want->name_bytes ? want->name_bytes : defaults.name_bytes;
    lim->text_bytes = want->text_bytes ? want->text_bytes : defaults.text_bytes;
    lim->nodes = want->nodes ? want->nodes : defaults.nodes;
}

xmsg_xml_parser *xmsg_xml_parser_new(const xmsg_xml_limits *limits,
                                     const xmsg_xml_handlers *handlers,
                                     void *userdata)
{
    xmsg_xml_parser *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    limits_set(&p->lim, limits);
    if (handlers)
        p->h = *handlers;
    p->ud = userdata;
    if (expat_open(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void xmsg_xml_parser_free(xmsg_xml_parser *p)
{
    if (!p)
        return;
    drop_partial(p);
    if (p->xp)
        XML_ParserFree(p->xp);
    free(p->default_ns);
    xmsg_buf_free(&p->text);
    free(p);
}

xmsg_err xmsg_xml_parser_reset(xmsg_xml_parser *p)
{
    drop_partial(p);
    XML_ParserFree(p->xp);
    p->xp = NULL;
    free(p->default_ns);
    p->default_ns = NULL;
    p->stage = ST_PROLOG;
    p->err = XMSG_OK;
    p->errtext[0] = '\0';
    p->ns_decls = 0;
    p->given = p->taken = p->mark = p->pause_end = 0;
    p->suspended = 0;
    p->lex = LX_TEXT;
    p->brackets = 0;
    p->tag = TG_START;
    if (expat_open(p) == 0)
        return XMSG_OK;
    p->stage = ST_FAILED;
    p->err = XMSG_ERR_INTERNAL;
    snprintf(p->errtext, sizeof(p->errtext), "XML: out of memory");
    return p->err;
}

const char *xmsg_xml_parser_error(const xmsg_xml_parser *p)
{
    return p->errtext;
}

int xmsg_xml_parser_closed(const xmsg_xml_parser *p)
{
    return p->stage == ST_CLOSED;
}

/* ---- feeding ---- */

/* Turns expat's verdict into ours: 1 paused, 0 go on, -1 failed. */
static int verdict(xmsg_xml_parser *p, enum XML_Status st)
{
    enum XML_Error e;

    if (st == XML_STATUS_SUSPENDED) {
        p->suspended = 1;
        return 1;
    }
    if (st == XML_STATUS_OK && !failed(p))
        return 0;
    e = XML_GetErrorCode(p->xp);
    if (e == XML_ERROR_NO_MEMORY)
        fail(p, XMSG_ERR_INTERNAL, "XML: out of memory");
    else
        fail(p, XMSG_ERR_PROTOCOL, "XML: not well-formed (%s) at line %lu",
             XML_ErrorString(e),
             (unsigned long)XML_GetCurrentLineNumber(p->xp));
    drop_partial(p);
    return -1;
}

/* ---- when a tag is complete ----
 *
 * Expat (2.6, and Debian's 2.5.0+deb12u5) defers reparsing a token left
 * partial by one chunk until the buffered bytes have doubled, so that a
 * large token fed in small chunks costs linear, not quadratic, time. A
 * stream cannot wait: a complete <proceed/> may sit unparsed while the
 * server waits for us. So each chunk is lexed here (tags, quoted values,
 * the XML declaration, CDATA), and when a tag ended in it, expat parses
 * once more without deferral: it then reparses only the bytes after the
 * previous chunk's partial token, which that tag ends. Comments and
 * declarations (DOCTYPE) are refused here at their first bytes, before
 * expat buffers any of them. */

static int lex_bang(xmsg_xml_parser *p, char c)
{
    if (c == '[') {
        p->lex = LX_CDATA;
        p->brackets = 0;
        return 0;
    }
    fail(p, XMSG_ERR_PROTOCOL, "XML: %s refused (RFC 6120 11.1)",
         c == '-'   ? "comment"
         : c == 'D' ? "DOCTYPE"
                    : "markup declaration");
    return -1;
}

/* One byte of a PI or of CDATA; 1 when it ends the PI. */
static int lex_byte(xmsg_xml_parser *p, char c)
{
    if (p->lex == LX_CDATA) {
        if (c == '>' && p->brackets >= 2)
            p->lex = LX_TEXT;
        p->brackets = c == ']' ? p->brackets + 1 : 0;
        return 0;
    }
    if (c == '>' && p->lex == LX_PI_Q) {
        p->lex = LX_TEXT;
        return 1;
    }
    p->lex = c == '?' ? LX_PI_Q : LX_PI;
    return 0;
}

/* A '=' or a quote where a tag has none (XML 1.0 [40], [41]: '=' after
 * a name, a quote after '='): refused here, as expat would. Caught by
 * expat alone, it could wait in expat's deferred bytes while this lexer,
 * taking the quote for a value's, sees no tag end: a malformed stanza
 * would be refused only when more bytes came, or the deadline. */
static int lex_tag_byte(xmsg_xml_parser *p, char c)
{
    const int quote = c == '\'' || c == '"';

    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        return 0;
    if (c == '=' ? p->tag != TG_NAME : quote != (p->tag == TG_EQ)) {
        fail(p, XMSG_ERR_PROTOCOL, "XML: not well-formed (%s in a tag)",
             c == '='          ? "'=' after no name"
             : p->tag == TG_EQ ? "a value without quotes"
                               : "a quote after no '='");
        return -1;
    }
    p->tag = c == '=' ? TG_EQ : c == '/' ? TG_START : TG_NAME;
    return 0;
}

/* In a tag, up to its end or a quote: where lexing goes on; NULL when
 * refused (lex_tag_byte). */
static const char *lex_tag(xmsg_xml_parser *p, const char *s, const char *end,
                           int *tag_end)
{
    for (; s < end; s++) {
        if (*s == '>') {
            p->lex = LX_TEXT;
            p->tag = TG_START;
            *tag_end = 1;
            return s + 1;
        }
        if (lex_tag_byte(p, *s))
            return NULL;
        if (*s == '\'' || *s == '"') {
            p->lex = *s == '\'' ? LX_SQ : LX_DQ;
            p->tag = TG_VALUE;
            return s + 1;
        }
    }
    return end;
}

/* Past the next c, setting next when it is there. */
static const char *lex_until(xmsg_xml_parser *p, const char *s, const char *end,
                             char c, enum lexstate next)
{
    const char *hit = memchr(s, c, (size_t)(end - s));

    if (!hit)
        return end;
    p->lex = next;
    return hit + 1;
}

/* Lexes s[0..n): 1 if a tag ended in it, 0 if not, -1 refused. */
static int lex(xmsg_xml_parser *p, const char *s, size_t n)
{
    const char *end = s + n;
    int tag_end = 0;

    while (s < end) {
        switch (p->lex) {
        case LX_TEXT:
            s = lex_until(p, s, end, '<', LX_LT);
            break;
        case LX_LT:
            p->lex = *s == '!' ? LX_BANG : *s == '?' ? LX_PI : LX_TAG;
            s += p->lex != LX_TAG; /* a tag's first byte is lexed as such */
            break;
        case LX_BANG:
            if (lex_bang(p, *s++))
                return -1;
            break;
        case LX_TAG:
            s = lex_tag(p, s, end, &tag_end);
            if (!s)
                return -1;
            break;
        case LX_SQ:
            s = lex_until(p, s, end, '\'', LX_TAG);
            break;
        case LX_DQ:
            s = lex_until(p, s, end, '"', LX_TAG);
            break;
        default:
            tag_end |= lex_byte(p, *s++);
        }
    }
    return tag_end;
}

/* Parses what expat holds back (a complete tag at the end of a chunk). */
static enum XML_Status flush(xmsg_xml_parser *p)
{
    enum XML_Status st;

    XML_SetReparseDeferralEnabled(p->xp, XML_FALSE);
    st = XML_Parse(p->xp, "", 0, XML_FALSE);
    XML_SetReparseDeferralEnabled(p->xp, XML_TRUE);
    return st;
}

static enum XML_Status resume(xmsg_xml_parser *p)
{
    enum XML_Status st;

    XML_SetReparseDeferralEnabled(p->xp, XML_FALSE);
    st = XML_ResumeParser(p->xp);
    XML_SetReparseDeferralEnabled(p->xp, XML_TRUE);
    return st;
}

/* Bytes expat may still take before the element being read passes the
 * limit. */
static size_t room(const xmsg_xml_parser *p)
{
    const uint64_t used = p->given - p->mark;

    return used >= p->lim.element_bytes ? 0
                                        : (size_t)(p->lim.element_bytes - used);
}

/* Feeds data[off..len) in pieces no element can pass the limit with. */
static int feed_pieces(xmsg_xml_parser *p, const char *data, size_t len,
                       size_t off)
{
    size_t n;
    int v, tag_end;

    while (off < len) {
        n = len - off;
        if (n > room(p))
            n = room(p);
        if (n > INT_MAX)
            n = INT_MAX;
        if (n == 0) {
            fail(p, XMSG_ERR_PROTOCOL,
                 "XML: an element (or stream header) "
                 "of more than %zu bytes",
                 p->lim.element_bytes);
            drop_partial(p);
            return -1;
        }
        tag_end = lex(p, data + off, n);
        if (tag_end < 0) {
            drop_partial(p);
            return -1;
        }
        p->given += n;
        v = verdict(p, XML_Parse(p->xp, data + off, (int)n, XML_FALSE));
        if (v == 0 && tag_end)
            v = verdict(p, flush(p));
        if (v)
            return v;
        off += n;
    }
    return 0;
}

xmsg_err xmsg_xml_feed(xmsg_xml_parser *p, const char *data, size_t len,
                       size_t *used)
{
    const uint64_t base = p->taken;
    int v = 0;

    *used = 0;
    if (failed(p))
        return p->err;
    if (p->suspended) {
        p->suspended = 0;
        v = verdict(p, resume(p));
    }
    if (v == 0 && p->given - base < len)
        v = feed_pieces(p, data, len, (size_t)(p->given - base));
    if (v < 0)
        return p->err;
    p->taken = v ? p->pause_end : base + len;
    if (p->taken < base || p->taken > base + len) /* fed less than held */
        p->taken = p->taken < base ? base : base + len;
    *used = (size_t)(p->taken - base);
    return XMSG_OK;
}
