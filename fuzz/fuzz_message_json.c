/* fuzz_message_json.c - message JSON text in: xmsg_message_from_json,
 * xmsg_message_to_json, and back.
 *
 * Invariants checked (abort when broken):
 *  - the code returned is the one recorded in the status; the status
 *    renders as JSON (NULL only out of memory);
 *  - whatever fields were accepted (all of them, or those before the
 *    failure) render as JSON, and that JSON read back gives a message
 *    with the same fields (and files), in the same order, without
 *    error. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "model/internal.h"

#include "fuzz.h"

/* The same files, in the same order, with the same content types. */
static void check_same_files(const xmsg_message *a, const xmsg_message *b)
{
    size_t i, n = xmsg_message_file_count(a);
    const char *ta, *tb;

    FUZZ_CHECK(n == xmsg_message_file_count(b));
    for (i = 0; i < n; i++) {
        FUZZ_CHECK(fuzz_str_eq(xmsg_message_file(a, i, &ta),
                               xmsg_message_file(b, i, &tb)));
        FUZZ_CHECK(fuzz_str_eq(ta, tb));
    }
}

static void check_same(const xmsg_message *a, const xmsg_message *b)
{
    size_t i, n = xmsg_message_field_count(a);

    check_same_files(a, b);

    FUZZ_CHECK(n == xmsg_message_field_count(b));
    for (i = 0; i < n; i++) {
        FUZZ_CHECK(fuzz_str_eq(xmsg_message_field_name(a, i),
                               xmsg_message_field_name(b, i)));
        FUZZ_CHECK(fuzz_str_eq(xmsg_message_field_value(a, i),
                               xmsg_message_field_value(b, i)));
        FUZZ_CHECK(
            fuzz_str_eq(xmsg_message_get(b, xmsg_message_field_name(a, i)),
                        xmsg_message_field_value(a, i)));
    }
}

static void round_trip(const xmsg_message *m)
{
    char *text = xmsg_message_to_json(m), *again;
    xmsg_message *m2 = xmsg_message_new();
    xmsg_status *st2 = xmsg_status_new();
    xmsg_err rc;

    FUZZ_CHECK(text != NULL && m2 && st2);
    rc = xmsg_message_from_json(m2, text, st2);
    if (rc)
        fprintf(stderr, "round trip refused: %s\n", xmsg_status_text(st2));
    FUZZ_CHECK(rc == XMSG_OK);
    check_same(m, m2);
    again = xmsg_message_to_json(m2);
    FUZZ_CHECK(again != NULL && strcmp(text, again) == 0);
    xmsg_free(again);
    xmsg_status_free(st2);
    xmsg_message_free(m2);
    xmsg_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size), *st_json;
    xmsg_message *m = xmsg_message_new();
    xmsg_status *st = xmsg_status_new();
    xmsg_err rc;

    FUZZ_CHECK(m && st);
    rc = xmsg_message_from_json(m, json, st);
    FUZZ_CHECK(rc == xmsg_status_code(st));
    FUZZ_CHECK(rc == XMSG_OK || xmsg_status_text(st) != NULL);
    st_json = xmsg_status_to_json(st);
    FUZZ_CHECK(st_json != NULL);
    xmsg_free(st_json);
    round_trip(m);
    xmsg_status_free(st);
    xmsg_message_free(m);
    free(json);
    return 0;
}
