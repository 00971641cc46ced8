/* test_upload.c - XEP-0363: the disco#info answer (feature, XEP-0128
 * max-file-size), the slot answer (URLs, allowed headers), the cache of
 * the service (a day, per domain). */
#include "unit.h"

#include <unistd.h>

#include "features/upload.h"

static xmsg_xel *parse_iq(const char *xml, xmsg_xel **wrap)
{
    *wrap = xmsg_xml_parse_fragment(xml);
    assert_non_null(*wrap);
    return xmsg_xel_child(*wrap, NULL, "iq");
}

#define INFO_Q "<query xmlns='http://jabber.org/protocol/disco#info'>"
#define FEAT "<feature var='urn:xmpp:http:upload:0'/>"
#define FORM(type, size)                                                       \
    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "           \
    "type='hidden'><value>" type "</value></field><field "                     \
    "var='max-file-size'><value>" size "</value></field></x>"

static const struct {
    const char *xml;
    int found;
    int64_t max;
} info_rows[] = {
    {"<iq type='result'>" INFO_Q FEAT FORM("urn:xmpp:http:upload:0",
                                           "5242880") "</query></iq>",
     1, 5242880},
    /* the feature without a form: no limit */
    {"<iq type='result'>" INFO_Q FEAT "</query></iq>", 1, -1},
    /* another form's max-file-size is not the upload's */
    {"<iq type='result'>" INFO_Q FEAT FORM("urn:example:other",
                                           "10") "</query></iq>",
     1, -1},
    /* the upload form after another one */
    {"<iq type='result'>" INFO_Q FEAT FORM("urn:example:other", "10")
         FORM("urn:xmpp:http:upload:0", "77") "</query></iq>",
     1, 77},
    {"<iq type='result'>" INFO_Q FEAT FORM("urn:xmpp:http:upload:0",
                                           "-5") "</query></iq>",
     -1, -1},
    {"<iq type='result'>" INFO_Q FEAT FORM(
         "urn:xmpp:http:upload:0", "99999999999999999999") "</query></iq>",
     -1, -1},
    {"<iq type='result'>" INFO_Q FEAT FORM("urn:xmpp:http:upload:0",
                                           "") "</query></iq>",
     -1, -1},
    /* no feature, the legacy namespace, an error, another query */
    {"<iq type='result'>" INFO_Q
     "<feature var='http://jabber.org/protocol/disco#info'/></query></iq>",
     0, -1},
    {"<iq type='result'>" INFO_Q
     "<feature var='urn:xmpp:http:upload'/></query></iq>",
     0, -1},
    {"<iq type='error'>" INFO_Q FEAT "</query></iq>", 0, -1},
    {"<iq type='result'><query xmlns='urn:example'>" FEAT "</query></iq>", 0,
     -1},
};

static void test_parse_info(void **state)
{
    size_t i;
    xmsg_xel *wrap;
    int64_t max;

    (void)state;
    for (i = 0; i < N_ROWS(info_rows); i++) {
        const xmsg_xel *iq = parse_iq(info_rows[i].xml, &wrap);
        int found = xmsg_upload_parse_info(iq, &max);

        if (found != info_rows[i].found || max != info_rows[i].max)
            fprintf(stderr, "row %zu: found %d max %lld\n", i, found,
                    (long long)max);
        assert_int_equal(found, info_rows[i].found);
        assert_true(max == info_rows[i].max);
        xmsg_xel_free(wrap);
    }
}

#define SLOT_OPEN "<iq type='result'><slot xmlns='urn:xmpp:http:upload:0'>"
#define GET "<get url='https://h.example/g/f.txt'/>"

/* A slot with Authorization, Cookie and Expires keeps the three (names
 * in their own spelling), drops the rest and a second Cookie. */
static void test_slot_headers(void **state)
{
    xmsg_xel *wrap;
    const xmsg_xel *iq =
        parse_iq(SLOT_OPEN "<put url='https://h.example/p/f.txt'>"
                           "<header name='authorization'>Basic x</header>"
                           "<header name='Host'>evil.example</header>"
                           "<header name='Cookie'>a=b</header>"
                           "<header name='Cookie'>c=d</header>"
                           "<header name='Content-Length'>1</header>"
                           "<header name='Expires'>Tue</header></put>" GET
                           "</slot></iq>",
                 &wrap);
    xmsg_upload_slot slot;
    char err[128] = "";

    (void)state;
    assert_int_equal(xmsg_upload_parse_slot(iq, 0, &slot, err, sizeof(err)),
                     XMSG_OK);
    assert_string_equal(slot.put_url, "https://h.example/p/f.txt");
    assert_string_equal(slot.get_url, "https://h.example/g/f.txt");
    assert_int_equal(slot.nh, 3);
    assert_string_equal(slot.hname[0], "Authorization");
    assert_string_equal(slot.hvalue[0], "Basic x");
    assert_string_equal(slot.hname[1], "Cookie");
    assert_string_equal(slot.hvalue[1], "a=b");
    assert_string_equal(slot.hname[2], "Expires");
    xmsg_upload_slot_clear(&slot);
    xmsg_xel_free(wrap);
}

static const struct {
    const char *xml;
    int plaintext_ok;
    xmsg_err rc;
    const char *err; /* a part of the error text */
} slot_rows[] = {
    {SLOT_OPEN "<put url='https://h/p'/>" GET "</slot></iq>", 0, XMSG_OK, ""},
    {SLOT_OPEN "<put url='http://h/p'/>" GET "</slot></iq>", 0,
     XMSG_ERR_PROTOCOL, "not https"},
    {SLOT_OPEN "<put url='http://h/p'/><get url='http://h/g'/></slot></iq>", 1,
     XMSG_OK, ""},
    {SLOT_OPEN "<put url='https://h/p'/><get url='http://h/g'/></slot></iq>", 0,
     XMSG_ERR_PROTOCOL, "not https"},
    {SLOT_OPEN "<put url='ftp://h/p'/>" GET "</slot></iq>", 1,
     XMSG_ERR_PROTOCOL, "not http(s)"},
    {SLOT_OPEN "<put url='https:///p'/>" GET "</slot></iq>", 0,
     XMSG_ERR_PROTOCOL, "not https"},
    {SLOT_OPEN "<put url='https://h/a b'/>" GET "</slot></iq>", 0,
     XMSG_ERR_PROTOCOL, "not https"},
    {SLOT_OPEN GET "</slot></iq>", 0, XMSG_ERR_PROTOCOL, "without a slot"},
    {SLOT_OPEN "<put url='https://h/p'/></slot></iq>", 0, XMSG_ERR_PROTOCOL,
     "without a slot"},
    {"<iq type='result'/>", 0, XMSG_ERR_PROTOCOL, "without a slot"},
    {SLOT_OPEN "<put url='https://h/p'><header name='Cookie'>a&#10;Host: "
               "x</header></put>" GET "</slot></iq>",
     0, XMSG_ERR_PROTOCOL, "line break"},
    {"<iq type='error'><error type='modify'><not-acceptable "
     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
     0, XMSG_ERR_PROTOCOL, "refused the slot: not-acceptable"},
};

static void test_parse_slot(void **state)
{
    size_t i;
    xmsg_xel *wrap;
    xmsg_upload_slot slot;
    char err[128];

    (void)state;
    for (i = 0; i < N_ROWS(slot_rows); i++) {
        const xmsg_xel *iq = parse_iq(slot_rows[i].xml, &wrap);
        xmsg_err rc;

        err[0] = '\0';
        rc = xmsg_upload_parse_slot(iq, slot_rows[i].plaintext_ok, &slot, err,
                                    sizeof(err));
        if (rc != slot_rows[i].rc || !strstr(err, slot_rows[i].err))
            fprintf(stderr, "row %zu: rc %d err %s\n", i, (int)rc, err);
        assert_int_equal(rc, slot_rows[i].rc);
        assert_non_null(strstr(err, slot_rows[i].err));
        if (rc)
            assert_null(slot.put_url);
        xmsg_upload_slot_clear(&slot);
        xmsg_xel_free(wrap);
    }
}

UNIT_TEMP_DIR("upload")

/* Saved, found again within a day for the same domain; a miss a day
 * later, for another domain, for a malformed file. "none" is cached as
 * well. */
static void test_cache(void **state)
{
    char path[256];
    char jid[] = "upload.example";
    xmsg_upload_svc in = {jid, 1000}, out;
    xmsg_upload_svc none = {NULL, -1};
    const time_t t = 1700000000;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/sub/a@example.upload.json", dir);
    assert_int_equal(xmsg_upload_cache_load(path, "example", t, &out), 0);
    assert_int_equal(xmsg_upload_cache_save(path, "example", t, &in), 0);
    assert_int_equal(xmsg_upload_cache_load(path, "example", t + 60, &out), 1);
    assert_string_equal(out.jid, "upload.example");
    assert_true(out.max_size == 1000);
    xmsg_upload_svc_clear(&out);
    assert_int_equal(
        xmsg_upload_cache_load(path, "example", t + 86400 + 1, &out), 0);
    assert_int_equal(xmsg_upload_cache_load(path, "example", t - 10, &out), 0);
    assert_int_equal(xmsg_upload_cache_load(path, "other", t + 1, &out), 0);
    assert_null(out.jid);
    assert_int_equal(xmsg_upload_cache_save(path, "example", t, &none), 0);
    assert_int_equal(xmsg_upload_cache_load(path, "example", t + 1, &out), 1);
    assert_null(out.jid);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"domain\":\"example\",\"service\":7,\"maxFileSize\":1,\"time\":"
          "1700000000}",
          f);
    fclose(f);
    assert_int_equal(xmsg_upload_cache_load(path, "example", t + 1, &out), 0);
}

/* The cache lies next to the checkpoint. */
static void test_cache_path(void **state)
{
    xmsg_params *p = xmsg_params_new();
    char *path;

    (void)state;
    assert_int_equal(
        xmsg_params_set_string(p, "stateFile", "/s/acct.json", NULL), XMSG_OK);
    path = xmsg_upload_cache_path(p, "a@example");
    assert_string_equal(path, "/s/acct.upload.json");
    free(path);
    xmsg_params_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_info), cmocka_unit_test(test_slot_headers),
        cmocka_unit_test(test_parse_slot), cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_path),
    };

    return cmocka_run_group_tests(tests, unit_dir_make, unit_dir_remove);
}
