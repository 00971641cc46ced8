/* test_validate.c - xmsg_text_valid, xmsg_jid_valid, xmsg_jid_is_account,
 * xmsg_attr_name_valid. */
#include "unit.h"

#include "model/internal.h"

/* ---- xmsg_text_valid ---- */

struct text_case {
    const char *src; /* the literal as written, for reports */
    const char *s;
    size_t len;
    int want;
};

/* L(literal, want): the length comes from the literal, so embedded NULs
 * count. */
#define L(lit, want)                                                           \
    {                                                                          \
#lit, lit, sizeof(lit) - 1, want                                       \
    }

static const struct text_case text_cases[] = {
    /* valid */
    L("", 1),
    L("hello", 1),
    L("h\xC3\xA9llo", 1),                     /* U+00E9 */
    L("\xE2\x82\xAC", 1),                     /* U+20AC euro */
    L("\xF0\x9F\x98\x80", 1),                 /* U+1F600 emoji */
    L("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", 1), /* thumbs up + skin tone */
    L("\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", 1), /* Hebrew (RTL) */
    L("\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7", 1), /* Arabic (RTL) */
    L("\xE2\x80\x8F"
      "abc",
      1),                             /* U+200F RLM */
    L("e\xCC\x81", 1),                /* e + U+0301 combining */
    L("a\xCC\x8A\xCC\x88", 1),        /* two combining marks */
    L("\xE4\xBD\xA0\xE5\xA5\xBD", 1), /* CJK */
    L("\t", 1),
    L("\n", 1),
    L("\r", 1),
    L("a\tb\r\nc\n", 1),
    L("\x7F", 1),             /* DEL is allowed */
    L("\xED\x9F\xBF", 1),     /* U+D7FF, below surrogates */
    L("\xEE\x80\x80", 1),     /* U+E000, above surrogates */
    L("\xEF\xBF\xBD", 1),     /* U+FFFD */
    L("\xF0\x90\x80\x80", 1), /* U+10000 */
    L("\xF4\x8F\xBF\xBF", 1), /* U+10FFFF */
    L("\xC2\x80", 1),         /* U+0080 smallest 2-byte */
    L("\xE0\xA0\x80", 1),     /* U+0800 smallest 3-byte */
    /* overlong encodings */
    L("\xC0\x80", 0),         /* NUL, 2 bytes */
    L("\xC0\xAF", 0),         /* '/', 2 bytes */
    L("\xC1\xBF", 0),         /* U+007F, 2 bytes */
    L("\xE0\x80\xAF", 0),     /* '/', 3 bytes */
    L("\xE0\x9F\xBF", 0),     /* U+07FF, 3 bytes */
    L("\xF0\x80\x80\xAF", 0), /* '/', 4 bytes */
    L("\xF0\x8F\xBF\xBF", 0), /* U+FFFF, 4 bytes */
    L("a\xC0\x80z", 0),
    /* surrogates encoded in UTF-8 */
    L("\xED\xA0\x80", 0),             /* U+D800 */
    L("\xED\xAD\xBF", 0),             /* U+DB7F */
    L("\xED\xB0\x80", 0),             /* U+DC00 */
    L("\xED\xBF\xBF", 0),             /* U+DFFF */
    L("\xED\xA0\xBD\xED\xB8\x80", 0), /* CESU-8 pair for U+1F600 */
    /* beyond U+10FFFF */
    L("\xF4\x90\x80\x80", 0), /* U+110000 */
    L("\xF5\x80\x80\x80", 0),
    L("\xF7\xBF\xBF\xBF", 0),
    L("\xF8\x88\x80\x80\x80", 0),     /* 5-byte form */
    L("\xFC\x84\x80\x80\x80\x80", 0), /* 6-byte form */
    L("\xFE", 0),
    L("\xFF", 0),
    /* truncated sequences */
    L("\xC3", 0),
    L("\xE2\x82", 0),
    L("\xF0\x9F\x98", 0),
    L("abc\xE2\x82", 0),
    L("\xC3(", 0), /* lead + ASCII */
    L("\xE2\x82(", 0),
    L("\xF0\x9F\x98 ", 0),
    L("\xE2\xC3\xA9", 0), /* lead + new lead */
    /* stray continuation bytes */
    L("\x80", 0),
    L("\xBF", 0),
    L("a\x80z", 0),
    L("\xC3\xA9\xA9", 0), /* one too many */
    /* C0 controls other than TAB, LF, CR */
    L("\x00", 0),
    L("a\x00z", 0),
    L("\x01", 0),
    L("\x08", 0),
    L("\x0B", 0),
    L("\x0C", 0),
    L("\x1B[0m", 0),
    L("\x1F", 0),
    L("ok\x07", 0),
    /* non-characters XML forbids */
    L("\xEF\xBF\xBE", 0), /* U+FFFE */
    L("\xEF\xBF\xBF", 0), /* U+FFFF */
    L("abc\xEF\xBF\xBF", 0),
};

static void test_text_table(void **state)
{
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < N_ROWS(text_cases); i++) {
        const struct text_case *c = &text_cases[i];
        int got = xmsg_text_valid(c->s, c->len);
        if (got != c->want) {
            fprintf(stderr, "xmsg_text_valid(%s, %zu): want %d, got %d\n",
                    c->src, c->len, c->want, got);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu xmsg_text_valid cases failed", bad,
                 N_ROWS(text_cases));
}

/* Only s[0..len) is looked at. */
static void test_text_length_bound(void **state)
{
    (void)state;
    assert_int_equal(xmsg_text_valid("ab\x01", 2), 1);
    assert_int_equal(xmsg_text_valid("ab\x01", 3), 0);
    assert_int_equal(xmsg_text_valid("\xC3\xA9", 1), 0);
    assert_int_equal(xmsg_text_valid("\xC3\xA9", 2), 1);
    assert_int_equal(xmsg_text_valid("\xEF\xBF\xBF", 0), 1);
}

/* ---- xmsg_jid_valid / xmsg_jid_is_account ---- */

struct jid_case {
    const char *jid;
    int valid;
    int account;
};

static const struct jid_case jid_cases[] = {
    {"a@b", 1, 1},
    {"a@b/r", 1, 1},
    {"b", 1, 0},
    {"b/r", 1, 0},
    {"alice@example.com", 1, 1},
    {"alice@example.com/phone", 1, 1},
    {"example.com", 1, 0},
    {"example.com/res", 1, 0},
    {"a@b/r@x", 1, 1}, /* '@' in the resource */
    {"a@b/r/x", 1, 1}, /* '/' in the resource */
    {"a@b/x@y/z", 1, 1},
    {"b/r@x", 1, 0},
    {"b/r/x", 1, 0},
    {"a/b@c", 1, 0},                    /* domain a, resource b@c */
    {"a@b/r s", 1, 1},                  /* space allowed in the resource */
    {"j\xC3\xBCrgen@example.de", 1, 1}, /* jürgen */
    {"\xE5\xBC\xA0\xE4\xB8\x89@example.cn", 1, 1},         /* CJK */
    {"\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D@example.il", 1, 1}, /* Hebrew */
    {"\xF0\x9F\x98\x80@example.com", 1, 1},                /* emoji */
    {"a@b/\xE2\x82\xAC", 1, 1}, /* unicode resource */
    /* empty parts */
    {"", 0, 0},
    {"@b", 0, 0},
    {"a@", 0, 0},
    {"a@b/", 0, 0},
    {"b/", 0, 0},
    {"/r", 0, 0},
    {"a@/r", 0, 0},
    {"@", 0, 0},
    {"@/", 0, 0},
    /* forbidden characters in the local part */
    {"a b@c", 0, 0},
    {" a@c", 0, 0},
    {"a\"b@c", 0, 0},
    {"a&b@c", 0, 0},
    {"a'b@c", 0, 0},
    {"a:b@c", 0, 0},
    {"a<b@c", 0, 0},
    {"a>b@c", 0, 0},
    {"a@b@c", 0, 0}, /* a second '@' before any '/' */
    {"\"@c", 0, 0},
    {"&@c", 0, 0},
    {"'@c", 0, 0},
    {":@c", 0, 0},
    {"<@c", 0, 0},
    {">@c", 0, 0},
    /* forbidden characters in the domain */
    {"a@b c", 0, 0},
    {"b c", 0, 0},
    {"a@b c/r", 0, 0},
    /* invalid UTF-8 or control characters in any part */
    {"a\xFF@b", 0, 0},
    {"a@b\xC3", 0, 0},
    {"\xC0\x80@b", 0, 0},
    {"a@b/\xED\xA0\x80", 0, 0},
    {"a@b/r\x01", 0, 0},
    {"a\x01@b", 0, 0},
};

static void check_jid(const char *jid, int valid, int account, int *bad)
{
    int got_valid = xmsg_jid_valid(jid);
    int got_account = xmsg_jid_is_account(jid);

    if (got_valid != valid || got_account != account) {
        fputs("jid ", stderr);
        unit_print_str(jid);
        fprintf(stderr,
                ": want valid=%d account=%d, got valid=%d "
                "account=%d\n",
                valid, account, got_valid, got_account);
        (*bad)++;
    }
}

static void test_jid_table(void **state)
{
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < N_ROWS(jid_cases); i++)
        check_jid(jid_cases[i].jid, jid_cases[i].valid, jid_cases[i].account,
                  &bad);
    if (bad)
        fail_msg("%d of %zu jid cases failed", bad, N_ROWS(jid_cases));
}

/* Each part may be 1023 bytes, not 1024. */
static void test_jid_part_lengths(void **state)
{
    char *max = unit_repeat('a', XMSG_JID_PART_MAX);
    char *over = unit_repeat('a', XMSG_JID_PART_MAX + 1);
    struct {
        char *jid;
        int valid, account;
    } rows[8];
    size_t i;
    int bad = 0;

    (void)state;
    rows[0].jid = unit_cat3(max, "@b", "");
    rows[0].valid = 1, rows[0].account = 1;
    rows[1].jid = unit_cat3(over, "@b", "");
    rows[1].valid = 0, rows[1].account = 0;
    rows[2].jid = unit_cat3("a@", max, "");
    rows[2].valid = 1, rows[2].account = 1;
    rows[3].jid = unit_cat3("a@", over, "");
    rows[3].valid = 0, rows[3].account = 0;
    rows[4].jid = unit_cat3("a@b/", max, "");
    rows[4].valid = 1, rows[4].account = 1;
    rows[5].jid = unit_cat3("a@b/", over, "");
    rows[5].valid = 0, rows[5].account = 0;
    rows[6].jid = unit_cat3(over, "", "");
    rows[6].valid = 0, rows[6].account = 0;
    rows[7].jid = unit_cat3("b/", over, "");
    rows[7].valid = 0, rows[7].account = 0;
    for (i = 0; i < N_ROWS(rows); i++) {
        check_jid(rows[i].jid, rows[i].valid, rows[i].account, &bad);
        free(rows[i].jid);
    }
    free(max);
    free(over);
    if (bad)
        fail_msg("%d of %zu jid length cases failed", bad, N_ROWS(rows));
}

/* The limit counts bytes, not characters: 512 two-byte characters (1024
 * bytes) are too many, 511 (1022 bytes) are fine. */
static void test_jid_part_length_in_bytes(void **state)
{
    char local[2 * 512 + 1];
    char jid[sizeof(local) + 8];
    size_t i;

    (void)state;
    for (i = 0; i < 512; i++)
        memcpy(local + 2 * i, "\xC3\xA9", 2); /* 1024 bytes, 512 chars */
    local[1024] = '\0';
    snprintf(jid, sizeof(jid), "%s@b", local);
    assert_int_equal(xmsg_jid_valid(jid), 0);
    local[1022] = '\0'; /* 1022 bytes */
    snprintf(jid, sizeof(jid), "%s@b", local);
    assert_int_equal(xmsg_jid_valid(jid), 1);
}

/* ---- xmsg_attr_name_valid ---- */

struct attr_case {
    const char *name;
    int want;
};

static const struct attr_case attr_cases[] = {
    {"x-prio", 1},    {"foo_bar", 1},     {"a.b", 1},
    {"xml:lang", 0},  {"p:q", 0},         {"a", 1},
    {"_", 1},         {"_a1", 1},         {"A9-._z", 1},
    {"Z", 1},         {"xmlnsfoo", 1}, /* only "xmlns" and "xmlns:*" are
                                          reserved */
    {"", 0},          {"1abc", 0},        {"9", 0},
    {"-a", 0},        {".a", 0},          {":a", 0},
    {"a:", 0},        {":", 0},           {"a:b:c", 0},
    {"a::b", 0},      {"xmlns", 0},       {"xmlns:foo", 0},
    {"xmlns:x", 0},   {"a b", 0},         {" a", 0},
    {"a ", 0},        {"a\"b", 0},        {"a'b", 0},
    {"a<b", 0},       {"a>b", 0},         {"a=b", 0},
    {"a&b", 0},       {"a/b", 0},         {"a\tb", 0},
    {"\xC3\xA9", 0}, /* é */
    {"a\xC3\xA9", 0}, {"caf\xC3\xA9", 0}, {"\xE5\xBC\xA0", 0},
    {"a\xFF", 0},
};

static void test_attr_table(void **state)
{
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < N_ROWS(attr_cases); i++) {
        int got = xmsg_attr_name_valid(attr_cases[i].name);
        if (got != attr_cases[i].want) {
            fputs("xmsg_attr_name_valid(", stderr);
            unit_print_str(attr_cases[i].name);
            fprintf(stderr, "): want %d, got %d\n", attr_cases[i].want, got);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu attribute name cases failed", bad,
                 N_ROWS(attr_cases));
}

/* ---- bare JIDs compared and normalised (RFC 7622) ---- */

struct bare_case {
    const char *jid, *bare;
    int same;
};

static const struct bare_case bare_cases[] = {
    {"t56@localhost", "t56@localhost", 1},
    {"T56@LOCALHOST", "t56@localhost", 1},
    {"t56@LocalHost/Res", "t56@localhost", 1},
    {"t56@localhost./r", "t56@localhost", 1}, /* trailing dot */
    {"t56@localhost", "T56@localhost.", 1},
    {"t56@localhost/", "t56@localhost", 1},
    {"t56@localhostx", "t56@localhost", 0},
    {"t5@localhost", "t56@localhost", 0},
    {"t56@localhos", "t56@localhost", 0},
    {"localhost", "t56@localhost", 0},
    {"room@muc.localhost/Nick", "Room@MUC.localhost", 1},
    {"\xC3\xA9@localhost", "\xC3\xA9@LOCALHOST", 1}, /* é as it is */
    {"\xC3\xA9@localhost", "\xC3\x89@localhost", 0}, /* é vs É: bytes */
    {NULL, "t56@localhost", 0},
};

static void test_bare_is_table(void **state)
{
    size_t i;
    int bad = 0, got;

    (void)state;
    for (i = 0; i < N_ROWS(bare_cases); i++) {
        got = xmsg_jid_bare_is(bare_cases[i].jid, bare_cases[i].bare);
        if (got != bare_cases[i].same) {
            fprintf(stderr, "xmsg_jid_bare_is(%s, %s): want %d, got %d\n",
                    bare_cases[i].jid ? bare_cases[i].jid : "NULL",
                    bare_cases[i].bare, bare_cases[i].same, got);
            bad++;
        }
    }
    if (bad)
        fail_msg("%d of %zu bare JID cases failed", bad, N_ROWS(bare_cases));
}

static const char *const norm_cases[][2] = {
    {"t56@localhost", "t56@localhost"},
    {"T56@LOCALHOST", "t56@localhost"},
    {"T56@LocalHost/Resource", "t56@localhost"},
    {"t56@localhost./r", "t56@localhost"},
    {"Example.ORG", "example.org"},
    {"\xC3\x89T\xC3\xA9@X.org", "\xC3\x89t\xC3\xA9@x.org"},
};

static void test_bare_norm_table(void **state)
{
    size_t i;
    char *got;

    (void)state;
    for (i = 0; i < N_ROWS(norm_cases); i++) {
        got = xmsg_jid_bare_norm(norm_cases[i][0]);
        assert_non_null(got);
        assert_string_equal(got, norm_cases[i][1]);
        free(got);
    }
    assert_null(xmsg_jid_bare_norm(NULL));
}

/* xmsg_jid_matches: a bare want takes any resource; a full want only its
 * own; the bare part without ASCII case, the resource byte for byte. */
static const struct {
    const char *jid, *want;
    int match;
} match_cases[] = {
    {"t56@localhost/r", "t56@localhost", 1},
    {"T56@LocalHost./r", "t56@localhost", 1},
    {"t56@localhost", "T56@LOCALHOST", 1},
    {"t56@localhost/r", "T56@Localhost/r", 1},
    {"t56@localhost/R", "t56@localhost/r", 0},
    {"t56@localhost", "t56@localhost/r", 0},
    {"t56@localhost/r", "t5@localhost", 0},
    {"t56@localhost.org/r", "t56@localhost", 0},
    {NULL, "t56@localhost", 0},
    {"t56@localhost", NULL, 0},
};

static void test_jid_matches_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(match_cases); i++) {
        if (xmsg_jid_matches(match_cases[i].jid, match_cases[i].want) !=
            match_cases[i].match)
            fail_msg("xmsg_jid_matches(%s, %s): want %d",
                     match_cases[i].jid ? match_cases[i].jid : "NULL",
                     match_cases[i].want ? match_cases[i].want : "NULL",
                     match_cases[i].match);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_table),
        cmocka_unit_test(test_text_length_bound),
        cmocka_unit_test(test_jid_table),
        cmocka_unit_test(test_jid_part_lengths),
        cmocka_unit_test(test_jid_part_length_in_bytes),
        cmocka_unit_test(test_attr_table),
        cmocka_unit_test(test_bare_is_table),
        cmocka_unit_test(test_bare_norm_table),
        cmocka_unit_test(test_jid_matches_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
