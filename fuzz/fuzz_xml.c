/* fuzz_xml.c - the stream parser (src/xml/) on arbitrary bytes in
 * arbitrary chunks.
 *
 * Input: two bytes of settings, then the stream. Byte 0 bit 0 picks small
 * limits (derived from byte 1) over the defaults; bytes 0 and 1 seed the
 * chunk sizes. Invariants checked:
 *  - the same bytes fed at once and fed in chunks (pausing after every
 *    event and feeding the rest again): a split never makes a failure
 *    that the bytes at once do not show, and when both succeed they give
 *    the same events. A failure inside a token still partial may be seen
 *    only once more bytes come, either way: expat defers reparsing such a
 *    token until the bytes held have doubled. So chunked may succeed where
 *    at once failed; and where chunked failed and at once did not, the
 *    bytes at once followed by as many spaces must fail too (the same
 *    way, or on the element limit when the spaces pass it first).
 *    (In expat's first 4 bytes, where it looks for a byte order mark and
 *    sees "z" then "\0" sooner than "z\0x" at once, the first piece is
 *    never shorter.)
 *  - every element handed over, written back by the serializer inside a
 *    stream header and parsed again, is the same tree. */
#include "fuzz.h"

#include "xml/xml.h"

typedef struct run {
    xmsg_buf log;
    char *default_ns;
    int pause;
} run;

static const xmsg_xml_limits roomy = {
    .element_bytes = 64u * 1024 * 1024,
    .depth = 100000,
    .attrs = 100000,
    .name_bytes = 1u << 20,
    .text_bytes = 64u * 1024 * 1024,
    .nodes = 1u << 24,
};

static int keep(xmsg_xel *el, void *ud)
{
    xmsg_xel **out = ud;

    FUZZ_CHECK(*out == NULL);
    *out = el;
    return 0;
}

/* el, written in a stream whose default namespace is default_ns, parses
 * back to an equal tree. */
static void check_round_trip(const xmsg_xel *el, const char *default_ns)
{
    const xmsg_xml_handlers h = {NULL, keep, NULL};
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *back = NULL;
    xmsg_xml_parser *p;
    size_t used;

    FUZZ_CHECK(xmsg_buf_str(&b, "<stream:stream xmlns:stream='" XMSG_NS_STREAMS
                                "' xmlns='") == 0);
    FUZZ_CHECK(xmsg_xml_escape_text(&b, default_ns, strlen(default_ns), 1) ==
               XMSG_OK);
    FUZZ_CHECK(xmsg_buf_str(&b, "'>") == 0);
    FUZZ_CHECK(xmsg_xel_write(el, default_ns, &b) == XMSG_OK);
    p = xmsg_xml_parser_new(&roomy, &h, &back);
    FUZZ_CHECK(p != NULL);
    if (xmsg_xml_feed(p, b.d, b.len, &used) != XMSG_OK) {
        fprintf(stderr, "reparse failed: %s\n", xmsg_xml_parser_error(p));
        FUZZ_CHECK(0);
    }
    FUZZ_CHECK(back != NULL && xmsg_xel_equal(el, back));
    xmsg_xel_free(back);
    xmsg_xml_parser_free(p);
    xmsg_buf_free(&b);
}

static int on_open(const xmsg_xel *root, const char *default_ns, void *ud)
{
    run *r = ud;

    FUZZ_CHECK(xmsg_xel_first(root) == NULL);
    free(r->default_ns);
    r->default_ns = xmsg_strdup(default_ns);
    FUZZ_CHECK(r->default_ns != NULL);
    FUZZ_CHECK(xmsg_buf_str(&r->log, "open;") == 0);
    return r->pause;
}

static int on_element(xmsg_xel *el, void *ud)
{
    run *r = ud;

    FUZZ_CHECK(xmsg_xel_parent(el) == NULL);
    FUZZ_CHECK(xmsg_xel_write(el, r->default_ns, &r->log) == XMSG_OK);
    FUZZ_CHECK(xmsg_buf_str(&r->log, ";") == 0);
    check_round_trip(el, r->default_ns);
    xmsg_xel_free(el);
    return r->pause;
}

static int on_close(void *ud)
{
    run *r = ud;

    FUZZ_CHECK(xmsg_buf_str(&r->log, "close;") == 0);
    return r->pause;
}

static const xmsg_xml_handlers handlers = {on_open, on_element, on_close};

/* Feeds p as many spaces as data had, at once: expat then parses again
 * what it holds back (a partial token waits until the bytes double). */
static xmsg_err pad(xmsg_xml_parser *p, size_t size)
{
    char *sp = malloc(size + 1);
    size_t used;
    xmsg_err e;

    FUZZ_CHECK(sp != NULL);
    memset(sp, ' ', size + 1);
    e = xmsg_xml_feed(p, sp, size + 1, &used);
    free(sp);
    return e;
}

/* Feeds data in chunks of 1..64 bytes drawn from seed (0: at once), then,
 * with padded, spaces (pad()) unless the stream closed. */
static xmsg_err feed(const xmsg_xml_limits *lim, const uint8_t *data,
                     size_t size, uint32_t seed, run *r, int padded)
{
    xmsg_xml_parser *p = xmsg_xml_parser_new(lim, &handlers, r);
    const int chunked = seed != 0;
    size_t off = 0, n, used;
    xmsg_err e = XMSG_OK;

    FUZZ_CHECK(p != NULL);
    r->pause = chunked;
    while (off < size && e == XMSG_OK) {
        seed = seed * 1103515245u + 12345u;
        n = chunked ? 1 + (seed >> 16) % 64 : size;
        if (off == 0 && n < 4) /* see above: expat's first 4 bytes */
            n = 4;
        n = n < size - off ? n : size - off;
        e = xmsg_xml_feed(p, (const char *)data + off, n, &used);
        FUZZ_CHECK(used <= n && (e == XMSG_OK || used == 0));
        off += used;
    }
    if (e == XMSG_OK && padded && !xmsg_xml_parser_closed(p))
        e = pad(p, size);
    if (e != XMSG_OK)
        FUZZ_CHECK(strncmp(xmsg_xml_parser_error(p), "XML: ", 5) == 0);
    xmsg_xml_parser_free(p);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xmsg_xml_limits lim = {0};
    run a = {{NULL, 0, 0}, NULL, 0}, b = {{NULL, 0, 0}, NULL, 0};
    run c = {{NULL, 0, 0}, NULL, 0};
    xmsg_err ea, eb;

    if (size < 2)
        return 0;
    if (data[0] & 1) {
        lim.element_bytes = 64 + (size_t)data[1] * 8;
        lim.depth = 1 + data[1] % 8;
        lim.attrs = 1 + data[1] % 5;
        lim.name_bytes = 16 + data[1] % 32;
        lim.text_bytes = 1 + data[1] % 100;
        lim.nodes = 2 + data[1] % 20;
    }
    ea = feed(&lim, data + 2, size - 2, 0, &a, 0);
    eb = feed(&lim, data + 2, size - 2, 1u + data[0] + 256u * data[1], &b, 0);
    if (eb != XMSG_OK && ea == XMSG_OK) {
        /* held back at once (see above): more bytes show a failure (the
         * same, or the element limit when the bytes pass it first) */
        FUZZ_CHECK(feed(&lim, data + 2, size - 2, 0, &c, 1) == eb);
    }
    if (ea == XMSG_OK && eb == XMSG_OK)
        FUZZ_CHECK(fuzz_str_eq(a.log.d, b.log.d));
    xmsg_buf_free(&a.log);
    xmsg_buf_free(&b.log);
    xmsg_buf_free(&c.log);
    free(c.default_ns);
    free(a.default_ns);
    free(b.default_ns);
    return 0;
}
