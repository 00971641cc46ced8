/* test_redact.c - xmsg_redact and xmsg_base64. */
#include "unit.h"

#include "model/internal.h"

#define SASL "urn:ietf:params:xml:ns:xmpp-sasl"

struct redact_case {
    const char *line;
    const char *secrets[3];
    size_t n_secrets;
    const char *want;
};

static const struct redact_case redact_cases[] = {
    /* element content, no secrets given */
    {"SENT: <auth xmlns='" SASL "' mechanism='PLAIN'>AGFsaWNlAHB3</auth>",
     {NULL},
     0,
     "SENT: <auth xmlns='" SASL "' mechanism='PLAIN'>[redacted]</auth>"},
    {"SENT: <response xmlns='" SASL "'>Yz1iaXdzLHI9ZnlrbyszZA==</response>",
     {NULL},
     0,
     "SENT: <response xmlns='" SASL "'>[redacted]</response>"},
    {"SENT: <iq type='set' id='a1'><query xmlns='jabber:iq:auth'>"
     "<username>alice</username><password>s3cr3t</password>"
     "<resource>r</resource></query></iq>",
     {NULL},
     0,
     "SENT: <iq type='set' id='a1'><query xmlns='jabber:iq:auth'>"
     "<username>alice</username><password>[redacted]</password>"
     "<resource>r</resource></query></iq>"},
    {"SENT: <iq type='set' id='a2'><query xmlns='jabber:iq:auth'>"
     "<username>alice</username>"
     "<digest>48fc78be9ec8f86d8ce1c39c320c97c21d62334d</digest>"
     "<resource>r</resource></query></iq>",
     {NULL},
     0,
     "SENT: <iq type='set' id='a2'><query xmlns='jabber:iq:auth'>"
     "<username>alice</username><digest>[redacted]</digest>"
     "<resource>r</resource></query></iq>"},
    {"RECV: <success xmlns='" SASL "'>"
     "dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>",
     {NULL},
     0,
     "RECV: <success xmlns='" SASL "'>[redacted]</success>"},
    /* an upload slot's headers (XEP-0363) */
    {"RECV: <slot><put url='https://h/p'><header name='Authorization'>Bearer "
     "eyJ0</header><header name='Cookie'>c=1</header></put></slot>",
     {NULL},
     0,
     "RECV: <slot><put url='https://h/p'><header "
     "name='Authorization'>[redacted]</header><header "
     "name='Cookie'>[redacted]</header></put></slot>"},
    /* several elements on one line */
    {"<response>abc</response><response>def</response>",
     {NULL},
     0,
     "<response>[redacted]</response><response>[redacted]</response>"},
    {"<auth mechanism='PLAIN'>AAA=</auth> then <success>BBB=</success>",
     {NULL},
     0,
     "<auth mechanism='PLAIN'>[redacted]</auth> then "
     "<success>[redacted]</success>"},
    /* self-closing elements have nothing to hide */
    {"SENT: <auth xmlns='" SASL "' mechanism='ANONYMOUS'/>",
     {NULL},
     0,
     "SENT: <auth xmlns='" SASL "' mechanism='ANONYMOUS'/>"},
    {"RECV: <success xmlns='" SASL "'/>",
     {NULL},
     0,
     "RECV: <success xmlns='" SASL "'/>"},
    {"SENT: <auth mechanism='EXTERNAL'/><iq><query>q</query></iq>",
     {NULL},
     0,
     "SENT: <auth mechanism='EXTERNAL'/><iq><query>q</query></iq>"},
    {"<success/> then <body>hello</body>",
     {NULL},
     0,
     "<success/> then <body>hello</body>"},
    /* element content together with secrets */
    {"SENT: <auth xmlns='" SASL "' mechanism='PLAIN'>AGFsaWNlAHB3</auth>",
     {"pw"},
     1,
     "SENT: <auth xmlns='" SASL "' mechanism='PLAIN'>[redacted]</auth>"},
    /* the literal secret anywhere */
    {"password is hunter2 ok", {"hunter2"}, 1, "password is [redacted] ok"},
    {"hunter2 at start", {"hunter2"}, 1, "[redacted] at start"},
    {"at end hunter2", {"hunter2"}, 1, "at end [redacted]"},
    {"hunter2", {"hunter2"}, 1, "[redacted]"},
    {"xhunter2y", {"hunter2"}, 1, "x[redacted]y"},
    {"<message><body>my pw is hunter2</body></message>",
     {"hunter2"},
     1,
     "<message><body>my pw is [redacted]</body></message>"},
    /* the base64 form of the secret */
    {"token aGVsbG8h end", {"hello!"}, 1, "token [redacted] end"},
    {"token aHVudGVyMg== end", {"hunter2"}, 1, "token [redacted] end"},
    {"<x>cGFzc3dvcmQ=</x>", {"password"}, 1, "<x>[redacted]</x>"},
    /* several occurrences, several secrets */
    {"hunter2 and hunter2 again",
     {"hunter2"},
     1,
     "[redacted] and [redacted] again"},
    {"hunter2hunter2", {"hunter2"}, 1, "[redacted][redacted]"},
    {"a=hunter2 b=aHVudGVyMg== c=hunter2",
     {"hunter2"},
     1,
     "a=[redacted] b=[redacted] c=[redacted]"},
    {"user s3cr3t token xyzzy",
     {"s3cr3t", "xyzzy"},
     2,
     "user [redacted] token [redacted]"},
    {"only second: xyzzy", {"s3cr3t", "xyzzy"}, 2, "only second: [redacted]"},
    /* a secret inside another: the longer one must not leak in parts */
    {"x mypw123 y", {"pw", "mypw123"}, 2, "x [redacted] y"},
    {"x mypw123 y", {"mypw123", "pw"}, 2, "x [redacted] y"},
    /* a secret that is part of the marker must not loop or nest */
    {"hunter2 act", {"hunter2", "act"}, 2, "[redacted] [redacted]"},
    {"red alert", {"red"}, 1, "[redacted] alert"},
    {"redred", {"red"}, 1, "[redacted][redacted]"},
    /* empty secrets are ignored */
    {"nothing to hide", {""}, 1, "nothing to hide"},
    {"abc hunter2", {"", "hunter2"}, 2, "abc [redacted]"},
    /* lines without secrets are returned unchanged */
    {"RECV: <message to='a@b'><body>hello</body></message>",
     {NULL},
     0,
     "RECV: <message to='a@b'><body>hello</body></message>"},
    {"RECV: <message to='a@b'><body>hello</body></message>",
     {"hunter2"},
     1,
     "RECV: <message to='a@b'><body>hello</body></message>"},
    {"", {NULL}, 0, ""},
    {"", {"hunter2"}, 1, ""},
    {"caf\xC3\xA9 \xF0\x9F\x98\x80",
     {"hunter2"},
     1,
     "caf\xC3\xA9 \xF0\x9F\x98\x80"},
};

static void test_redact_table(void **state)
{
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < N_ROWS(redact_cases); i++) {
        const struct redact_case *c = &redact_cases[i];
        const char *const *secrets = c->n_secrets ? c->secrets : NULL;
        char *got = xmsg_redact(c->line, secrets, c->n_secrets);

        if (got == NULL || strcmp(got, c->want) != 0) {
            fprintf(stderr, "row %zu: xmsg_redact(", i);
            unit_print_str(c->line);
            fprintf(stderr, ", %zu secrets)\n  want ", c->n_secrets);
            unit_print_str(c->want);
            fputs("\n  got  ", stderr);
            unit_print_str(got);
            fputc('\n', stderr);
            bad++;
        }
        xmsg_free(got);
    }
    if (bad)
        fail_msg("%d of %zu redaction cases failed", bad, N_ROWS(redact_cases));
}

/* The result is a new string, also when nothing changed. */
static void test_redact_returns_copy(void **state)
{
    const char *line = "nothing here";
    const char *secrets[] = {"hunter2"};
    char *got;

    (void)state;
    got = xmsg_redact(line, secrets, 1);
    assert_non_null(got);
    assert_ptr_not_equal(got, line);
    assert_string_equal(got, line);
    xmsg_free(got);
}

/* A long line with many occurrences keeps every byte around them. */
static void test_redact_long_line(void **state)
{
    const char *secrets[] = {"hunter2"};
    char line[4096], want[8192];
    size_t i, lo = 0, wo = 0;
    char *got;

    (void)state;
    for (i = 0; i < 300; i++) {
        lo += (size_t)snprintf(line + lo, sizeof(line) - lo, "%zu:hunter2;",
                               i % 10);
        wo += (size_t)snprintf(want + wo, sizeof(want) - wo, "%zu:[redacted];",
                               i % 10);
    }
    got = xmsg_redact(line, secrets, 1);
    assert_non_null(got);
    assert_string_equal(got, want);
    xmsg_free(got);
}

/* ---- xmsg_base64 ---- */

struct b64_case {
    const char *in;
    size_t len;
    const char *want;
};

static const struct b64_case b64_cases[] = {
    /* RFC 4648 section 10 */
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    /* the alphabet's last two characters and NUL bytes */
    {"\x00\xFF\xFE", 3, "AP/+"},
    {"\xFB\xEF\xBE", 3, "++++"},
    {"\xFF\xFF\xFF", 3, "////"},
    {"\x00", 1, "AA=="},
    {"\x00"
     "alice"
     "\x00"
     "pw",
     9, "AGFsaWNlAHB3"},
};

static void test_base64_table(void **state)
{
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < N_ROWS(b64_cases); i++) {
        const struct b64_case *c = &b64_cases[i];
        char *got = xmsg_base64((const unsigned char *)c->in, c->len);

        if (got == NULL || strcmp(got, c->want) != 0) {
            fputs("xmsg_base64(", stderr);
            unit_print_escaped(c->in, c->len);
            fputs("): want ", stderr);
            unit_print_str(c->want);
            fputs(", got ", stderr);
            unit_print_str(got);
            fputc('\n', stderr);
            bad++;
        }
        xmsg_free(got);
    }
    if (bad)
        fail_msg("%d of %zu base64 cases failed", bad, N_ROWS(b64_cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact_table),
        cmocka_unit_test(test_redact_returns_copy),
        cmocka_unit_test(test_redact_long_line),
        cmocka_unit_test(test_base64_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
