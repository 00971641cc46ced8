/* fuzz_stanza.c - XML text from the network: the XML layer's parser
 * (xmsg_xml_parse_fragment), then what xmsg reads from a stanza:
 * xmsg_message_from_stanza, xmsg_mam_result, xmsg_stanza_archive_id.
 *
 * Invariants checked (abort when broken):
 *  - a stanza with a <body/> child gives a message, one without none;
 *  - a message renders as JSON (never NULL), that JSON parses, and every
 *    name and value in it is valid UTF-8 without characters XML forbids;
 *  - the message keeps the envelope of its <message/>: from, to, type and
 *    id as the stanza has them (whatever else the stanza carries);
 *  - an archive result only yields a message when it comes from the
 *    account (no from, or exactly the bare JID), answers our queryid and
 *    has an id, which becomes the message's archiveId. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/internal.h"
#include "features/mam.h"
#include "features/session.h"

#include "fuzz.h"

#define OWN_BARE "bob@example.org"
#define QUERYID "f0e1d2c3-fuzz-query"

static xmsg_mam_page page;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memset(&page, 0, sizeof(page));
    snprintf(page.queryid, sizeof(page.queryid), "%s", QUERYID);
    return 0;
}

static void check_text(const char *s)
{
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(xmsg_text_valid(s, strlen(s)));
}

/* What a collected message turns into on the CLI's stdout. */
static void check_message(const xmsg_message *m)
{
    char *text = xmsg_message_to_json(m);
    json_t *root, *v;
    json_error_t jerr;
    const char *key;

    FUZZ_CHECK(text != NULL);
    root = json_loads(text, 0, &jerr);
    FUZZ_CHECK(root != NULL && json_is_object(root));
    FUZZ_CHECK(json_object_size(root) == xmsg_message_field_count(m));
    json_object_foreach(root, key, v)
    {
        check_text(key);
        FUZZ_CHECK(json_is_string(v));
        check_text(json_string_value(v));
    }
    FUZZ_CHECK(xmsg_message_get(m, "body") != NULL);
    FUZZ_CHECK(xmsg_message_get(m, "type") != NULL);
    FUZZ_CHECK(xmsg_message_get(m, "ns") != NULL);
    json_decref(root);
    xmsg_free(text);
}

/* The sender and the rest of the envelope are never lost nor changed. */
static void check_envelope(const xmsg_message *m, const xmsg_xel *msg)
{
    static const char *const names[] = {"from", "to", "type", "id"};
    const char *v;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
        v = xmsg_xel_attr(msg, names[i]);
        if (v && !fuzz_str_eq(xmsg_message_get(m, names[i]), v)) {
            fprintf(stderr, "%s: stanza '%s', message '%s'\n", names[i], v,
                    xmsg_message_get(m, names[i])
                        ? xmsg_message_get(m, names[i])
                        : "(none)");
            FUZZ_CHECK(!"envelope attribute lost or changed");
        }
    }
}

static void fuzz_plain(const xmsg_xel *stanza)
{
    xmsg_message *m = xmsg_message_from_stanza(stanza);

    FUZZ_CHECK((m != NULL) == (xmsg_el_child(stanza, "body") != NULL));
    if (m) {
        check_message(m);
        check_envelope(m, stanza);
    }
    xmsg_message_free(m);
}

static void fuzz_archive(const xmsg_xel *stanza)
{
    int is_result = -1;
    xmsg_message *m = xmsg_mam_result(stanza, &page, OWN_BARE, &is_result);
    const xmsg_xel *res = xmsg_xel_child(stanza, XMSG_NS_MAM, "result");
    const char *from = xmsg_xel_attr(stanza, "from");
    const xmsg_xel *fwd, *inner;

    FUZZ_CHECK(is_result == (res != NULL));
    if (!m)
        return;
    FUZZ_CHECK(res != NULL);
    /* the account itself, as RFC 7622 compares JIDs (no resource) */
    FUZZ_CHECK(from == NULL ||
               (xmsg_jid_bare_is(from, OWN_BARE) && !strchr(from, '/')));
    FUZZ_CHECK(fuzz_str_eq(xmsg_xel_attr(res, "queryid"), QUERYID));
    FUZZ_CHECK(xmsg_xel_attr(res, "id") != NULL);
    FUZZ_CHECK(fuzz_str_eq(xmsg_message_get(m, "archiveId"),
                           xmsg_xel_attr(res, "id")));
    check_message(m);
    fwd = xmsg_xel_child(res, "urn:xmpp:forward:0", "forwarded");
    inner = fwd ? xmsg_el_child(fwd, "message") : NULL;
    FUZZ_CHECK(inner != NULL);
    check_envelope(m, inner);
    xmsg_message_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = fuzz_cstr(data, size);
    xmsg_xel *w = xmsg_xml_parse_fragment(xml);
    const xmsg_xel *stanza = w ? xmsg_xel_child(w, NULL, NULL) : NULL;
    const char *aid;

    free(xml);
    if (!stanza || !xmsg_is_stanza(stanza)) {
        xmsg_xel_free(w);
        return 0;
    }
    fuzz_plain(stanza);
    fuzz_archive(stanza);
    aid = xmsg_stanza_archive_id(stanza, OWN_BARE);
    if (aid)
        check_text(aid);
    xmsg_xel_free(w);
    return 0;
}
