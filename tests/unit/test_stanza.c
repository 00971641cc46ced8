/* test_stanza.c - the message <-> <message/> stanza mapping, both ways,
 * on stanzas parsed by the library's own XML layer (no network). */
#include "unit.h"

#include "features/mam.h"
#include "features/session.h"

/* The one element of xml (owned by *w, which the caller frees). */
static xmsg_xel *parse_el(const char *xml, xmsg_xel **w)
{
    *w = xmsg_xml_parse_fragment(xml);
    assert_non_null(*w);
    return xmsg_xel_child(*w, NULL, NULL);
}

static xmsg_message *parse(const char *xml)
{
    xmsg_xel *w, *s = parse_el(xml, &w);
    xmsg_message *m;

    assert_non_null(s);
    m = xmsg_message_from_stanza(s);
    xmsg_xel_free(w);
    return m;
}

/* The message as sent, parsed back (*w: free it). */
static xmsg_xel *as_sent(const xmsg_message *m, xmsg_buf *b, xmsg_xel **w)
{
    xmsg_xel *s;

    b->len = 0;
    assert_int_equal(xmsg_message_xml(m, b), 0);
    s = parse_el(b->d, w);
    assert_non_null(s);
    return s;
}

static void test_to_xml(void **state)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *w, *s, *box, *a;

    (void)state;
    assert_int_equal(xmsg_message_set(m, "to", "bob@example.org", NULL), 0);
    assert_int_equal(xmsg_message_set(m, "body", "a<b & c", NULL), 0);
    assert_int_equal(xmsg_message_set(m, "xml:lang", "fr", NULL), 0);
    assert_int_equal(xmsg_message_set(m, "x-prio", "high", NULL), 0);
    assert_int_equal(xmsg_message_set(m, "ns", "jabber:client", NULL), 0);
    s = as_sent(m, &b, &w);
    assert_non_null(strstr(b.d, "<body>a&lt;b &amp; c</body>"));
    assert_string_equal(xmsg_xel_name(s), "message");
    assert_string_equal(xmsg_xel_ns(s), "jabber:client");
    assert_string_equal(xmsg_xel_attr(s, "x-prio"), "high");
    assert_string_equal(xmsg_xel_attr(s, "xml:lang"), "fr");
    box = xmsg_xel_child(s, "urn:xmsg:attributes:0", "attributes");
    assert_non_null(box);
    a = xmsg_xel_child(box, NULL, NULL);
    assert_string_equal(xmsg_xel_attr(a, "name"), "x-prio");
    assert_null(xmsg_xel_next_el(a, NULL, NULL));
    xmsg_xel_free(w);
    xmsg_buf_free(&b);
    xmsg_message_free(m);
}

/* Every character survives the trip through XML text: markup, quotes,
 * CR (a parser folds a raw one), tabs and newlines in attributes (a
 * parser turns raw ones into spaces). */
static void test_xml_round_trip(void **state)
{
    static const char *const fields[][2] = {
        {"to", "bob@example.org"},
        {"id", "q\"uo'te&<>"},
        {"body", "line 1\r\nline 2\ttab <x/> & \"q\" ]]>"},
        {"x-multi", "a\tb\nc\rd \"e\" <f>"},
        {"type", "chat"},
    };
    xmsg_message *m = xmsg_message_new(), *back;
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *w, *s;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(fields) / sizeof(*fields); i++)
        assert_int_equal(xmsg_message_set(m, fields[i][0], fields[i][1], NULL),
                         0);
    s = as_sent(m, &b, &w);
    back = xmsg_message_from_stanza(s);
    assert_non_null(back);
    for (i = 0; i < sizeof(fields) / sizeof(*fields); i++)
        assert_string_equal(xmsg_message_get(back, fields[i][0]), fields[i][1]);
    xmsg_message_free(back);
    xmsg_xel_free(w);
    xmsg_buf_free(&b);
    xmsg_message_free(m);
}

static void test_no_mirror_without_custom(void **state)
{
    xmsg_message *m = xmsg_message_new();
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *w, *s;

    (void)state;
    assert_int_equal(xmsg_message_set(m, "body", "x", NULL), 0);
    s = as_sent(m, &b, &w);
    assert_null(xmsg_el_child(s, "attributes"));
    xmsg_xel_free(w);
    xmsg_buf_free(&b);
    xmsg_message_free(m);
}

static void test_from_stanza(void **state)
{
    xmsg_message *m =
        parse("<message xmlns='jabber:client' from='a@x/r' to='b@x' id='i1' "
              "xml:lang='de' x-k='v'><body>hi</body>"
              "<delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>"
              "</message>");

    (void)state;
    assert_non_null(m);
    assert_string_equal(xmsg_message_get(m, "body"), "hi");
    assert_string_equal(xmsg_message_get(m, "from"), "a@x/r");
    assert_string_equal(xmsg_message_get(m, "id"), "i1");
    assert_string_equal(xmsg_message_get(m, "xml:lang"), "de");
    assert_string_equal(xmsg_message_get(m, "x-k"), "v");
    assert_string_equal(xmsg_message_get(m, "ns"), "jabber:client");
    assert_string_equal(xmsg_message_get(m, "type"), "normal");
    assert_string_equal(xmsg_message_get(m, "stamp"), "2026-01-02T03:04:05Z");
    assert_null(xmsg_message_get(m, "lang"));
    xmsg_message_free(m);
}

static void test_mirror_fills_dropped_only(void **state)
{
    xmsg_message *m = parse(
        "<message xmlns='jabber:client' from='a@x/r' type='chat' x-kept='1'>"
        "<body>hi</body><attributes xmlns='urn:xmsg:attributes:0'>"
        "<attribute name='x-dropped'>back</attribute>"
        "<attribute name='x-kept'>mirror</attribute>"
        "<attribute name='from'>evil@x</attribute>"
        "<attribute name='body'>forged</attribute>"
        "<attribute name='stamp'>1970</attribute>"
        "<attribute name='bad name'>x</attribute>"
        "<attribute>no name</attribute></attributes></message>");

    (void)state;
    assert_non_null(m);
    assert_string_equal(xmsg_message_get(m, "x-dropped"), "back");
    assert_string_equal(xmsg_message_get(m, "x-kept"), "1");
    assert_string_equal(xmsg_message_get(m, "from"), "a@x/r");
    assert_string_equal(xmsg_message_get(m, "body"), "hi");
    assert_null(xmsg_message_get(m, "stamp"));
    assert_null(xmsg_message_get(m, "bad name"));
    xmsg_message_free(m);
}

static void test_no_body_no_message(void **state)
{
    (void)state;
    assert_null(parse("<message xmlns='jabber:client' from='a@x'>"
                      "<composing xmlns='http://jabber.org/protocol/"
                      "chatstates'/></message>"));
}

static xmsg_message *mam(const char *xml, int *is_result)
{
    xmsg_mam_page page;
    xmsg_xel *w, *s = parse_el(xml, &w);
    xmsg_message *m;

    memset(&page, 0, sizeof(page));
    strcpy(page.queryid, "Q1");
    assert_non_null(s);
    m = xmsg_mam_result(s, &page, "bob@x", is_result);
    xmsg_xel_free(w);
    return m;
}

#define RESULT(from, qid)                                                      \
    "<message xmlns='jabber:client'" from "><result xmlns='urn:xmpp:mam:2' "   \
    "queryid='" qid "' id='A7'><forwarded xmlns='urn:xmpp:forward:0'>"         \
    "<delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/>"             \
    "<message xmlns='jabber:client' from='alice@x/r' to='bob@x' id='m1'>"      \
    "<body>archived</body></message></forwarded></result></message>"

/* Archive results are the account's own: from none, or its bare JID, for
 * our query id. Anything else is forged and dropped. */
static void test_mam_results(void **state)
{
    static const struct {
        const char *xml;
        int taken;
    } rows[] = {
        {RESULT("", "Q1"), 1},
        {RESULT(" from='bob@x'", "Q1"), 1},
        {RESULT(" from='evil@x'", "Q1"), 0},
        {RESULT(" from='bob@x/res'", "Q1"), 0},
        {RESULT(" from='bob@x.evil'", "Q1"), 0},
        {RESULT("", "Q2"), 0},
    };
    xmsg_message *m;
    size_t i;
    int is_result;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        m = mam(rows[i].xml, &is_result);
        assert_true(is_result);
        if ((m != NULL) != rows[i].taken)
            fail_msg("row %zu: taken %d, want %d", i, m != NULL, rows[i].taken);
        if (m) {
            assert_string_equal(xmsg_message_get(m, "body"), "archived");
            assert_string_equal(xmsg_message_get(m, "archiveId"), "A7");
            assert_string_equal(xmsg_message_get(m, "stamp"),
                                "2026-01-01T00:00:00Z");
            assert_string_equal(xmsg_message_get(m, "from"), "alice@x/r");
        }
        xmsg_message_free(m);
    }
    m = mam("<message xmlns='jabber:client'><body>x</body></message>",
            &is_result);
    assert_null(m);
    assert_false(is_result);
}

/* However many attributes come, from and to are kept; a peer cannot set
 * the body, the stamp, the archive id or OMEMO's fields by attribute; the
 * server's delay (the last one) gives the stamp. */
static void test_hostile_attributes(void **state)
{
    char xml[8192];
    size_t n = 0;
    int i;
    xmsg_message *m;

    (void)state;
    n += (size_t)snprintf(xml + n, sizeof(xml) - n,
                          "<message xmlns='jabber:client' to='bob@x' "
                          "from='alice@x/r' id='i9' body='forged' "
                          "stamp='1970-01-01T00:00:00Z' archiveId='F' "
                          "encrypted='omemo' senderDevice='1' "
                          "fingerprint='f' decryptError='e'");
    /* The parser refuses more than 64 attributes (xml.h): 10 + 50. */
    for (i = 0; i < 50; i++)
        n += (size_t)snprintf(xml + n, sizeof(xml) - n, " a%d='v'", i);
    snprintf(xml + n, sizeof(xml) - n,
             "><body>real</body>"
             "<delay xmlns='urn:xmpp:delay' stamp='1999-01-01T00:00:00Z'/>"
             "<delay xmlns='urn:xmpp:delay' from='x' "
             "stamp='2026-05-05T05:05:05Z'/></message>");
    m = parse(xml);
    assert_non_null(m);
    assert_string_equal(xmsg_message_get(m, "from"), "alice@x/r");
    assert_string_equal(xmsg_message_get(m, "to"), "bob@x");
    assert_string_equal(xmsg_message_get(m, "id"), "i9");
    assert_string_equal(xmsg_message_get(m, "a49"), "v");
    assert_string_equal(xmsg_message_get(m, "body"), "real");
    assert_string_equal(xmsg_message_get(m, "stamp"), "2026-05-05T05:05:05Z");
    assert_null(xmsg_message_get(m, "archiveId"));
    /* a plaintext message cannot pass for a decrypted OMEMO one */
    assert_null(xmsg_message_get(m, "encrypted"));
    assert_null(xmsg_message_get(m, "senderDevice"));
    assert_null(xmsg_message_get(m, "fingerprint"));
    assert_null(xmsg_message_get(m, "decryptError"));
    xmsg_message_free(m);
}

/* m with the fields of a NULL-terminated name, value list. */
static xmsg_message *with(const char *const *kv)
{
    xmsg_message *m = xmsg_message_new();

    assert_non_null(m);
    for (; kv[0]; kv += 2) {
        if (xmsg_message_set(m, kv[0], kv[1], NULL))
            fail_msg("cannot set %s", kv[0]);
    }
    return m;
}

/* On a message, names a presence has as children are custom attributes:
 * on <message/>, mirrored, and collected back as the same fields, also
 * when the server dropped the attributes. */
static void test_presence_names_on_a_message(void **state)
{
    static const char *const kv[] = {"to",       "bob@x",  "body", "x",
                                     "priority", "high",   "show", "away",
                                     "status",   "custom", NULL};
    static const char *const names[] = {"priority", "show", "status"};
    xmsg_message *m = with(kv), *back;
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *w, *s, *box;
    size_t i;

    (void)state;
    s = as_sent(m, &b, &w);
    box = xmsg_xel_child(s, "urn:xmsg:attributes:0", "attributes");
    assert_non_null(box);
    assert_null(xmsg_el_child(s, "show"));
    for (i = 0; i < N_ROWS(names); i++)
        assert_string_equal(xmsg_xel_attr(s, names[i]),
                            xmsg_message_get(m, names[i]));
    if (!strstr(b.d, "<attribute name='priority'>high</attribute>"
                     "<attribute name='show'>away</attribute>"
                     "<attribute name='status'>custom</attribute>"))
        fail_msg("not mirrored: %s", b.d);
    back = xmsg_message_from_stanza(s);
    assert_non_null(back);
    for (i = 0; i < N_ROWS(names); i++)
        assert_string_equal(xmsg_message_get(back, names[i]),
                            xmsg_message_get(m, names[i]));
    xmsg_message_free(back);
    xmsg_xel_free(w);
    /* Attributes dropped by the server: the mirror gives them back. */
    back = parse("<message xmlns='jabber:client' from='a@x/r'><body>x</body>"
                 "<attributes xmlns='urn:xmsg:attributes:0'>"
                 "<attribute name='priority'>high</attribute>"
                 "<attribute name='show'>away</attribute></attributes>"
                 "</message>");
    assert_non_null(back);
    assert_string_equal(xmsg_message_get(back, "priority"), "high");
    assert_string_equal(xmsg_message_get(back, "show"), "away");
    xmsg_message_free(back);
    xmsg_buf_free(&b);
    xmsg_message_free(m);
}

/* A presence: show, status and priority are its children; any other
 * name is an attribute (not mirrored: only messages are stored). */
static void test_presence_fields(void **state)
{
    static const char *const kv[] = {"kind",   "presence", "show",     "away",
                                     "status", "out",      "priority", "5",
                                     "x-a",    "1",        NULL};
    xmsg_message *m = with(kv);
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *w, *s, *c;

    (void)state;
    s = as_sent(m, &b, &w);
    assert_string_equal(xmsg_xel_name(s), "presence");
    assert_string_equal(xmsg_xel_attr(s, "x-a"), "1");
    assert_null(xmsg_xel_attr(s, "show"));
    assert_null(xmsg_xel_attr(s, "priority"));
    c = xmsg_el_child(s, "priority");
    assert_non_null(c);
    assert_null(xmsg_el_child(s, "attributes"));
    xmsg_xel_free(w);
    xmsg_buf_free(&b);
    xmsg_message_free(m);
}

/* An iq: a presence's names are attributes, as on a message. */
static void test_iq_attributes(void **state)
{
    static const char *const kv[] = {
        "kind", "iq",       "type", "get",     "to",
        "x",    "priority", "high", "payload", "<query xmlns='urn:example'/>",
        NULL};
    xmsg_message *m = with(kv);
    xmsg_buf b = {NULL, 0, 0};
    xmsg_xel *w, *s;

    (void)state;
    s = as_sent(m, &b, &w);
    assert_non_null(xmsg_xel_attr(s, "priority"));
    assert_string_equal(xmsg_xel_attr(s, "priority"), "high");
    assert_non_null(xmsg_el_child(s, "query"));
    xmsg_xel_free(w);
    xmsg_buf_free(&b);
    xmsg_message_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to_xml),
        cmocka_unit_test(test_xml_round_trip),
        cmocka_unit_test(test_no_mirror_without_custom),
        cmocka_unit_test(test_from_stanza),
        cmocka_unit_test(test_mirror_fills_dropped_only),
        cmocka_unit_test(test_no_body_no_message),
        cmocka_unit_test(test_mam_results),
        cmocka_unit_test(test_hostile_attributes),
        cmocka_unit_test(test_presence_names_on_a_message),
        cmocka_unit_test(test_presence_fields),
        cmocka_unit_test(test_iq_attributes),
    };

    return cmocka_run_group_tests_name("stanza", tests, NULL, NULL);
}
