/* fuzz_params_json.c - params JSON text in: xmsg_params_from_json, then
 * xmsg_params_check, then both statuses as JSON.
 *
 * Invariants checked (abort when broken):
 *  - the code returned is the one recorded in the status, and a failure
 *    always carries a text;
 *  - xmsg_status_to_json never returns NULL (only out of memory may) and
 *    its text is a JSON object whose error.code/error.text match the
 *    status. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "model/internal.h"

#include "fuzz.h"

/* The status as JSON must be there and tell what the status holds. */
static void check_status_json(const xmsg_status *st)
{
    char *text = xmsg_status_to_json(st);
    json_t *root, *err;
    json_error_t jerr;

    FUZZ_CHECK(text != NULL);
    root = json_loads(text, 0, &jerr);
    FUZZ_CHECK(root != NULL && json_is_object(root));
    FUZZ_CHECK(json_is_array(json_object_get(root, "log")));
    err = json_object_get(root, "error");
    if (xmsg_status_code(st) == XMSG_OK) {
        FUZZ_CHECK(err == NULL);
    } else {
        FUZZ_CHECK(json_is_object(err));
        FUZZ_CHECK(fuzz_str_eq(json_string_value(json_object_get(err, "code")),
                               xmsg_err_name(xmsg_status_code(st))));
        FUZZ_CHECK(fuzz_str_eq(json_string_value(json_object_get(err, "text")),
                               xmsg_status_text(st)));
    }
    json_decref(root);
    xmsg_free(text);
}

static void check_result(xmsg_err rc, const xmsg_status *st)
{
    FUZZ_CHECK(rc == xmsg_status_code(st));
    FUZZ_CHECK(rc == XMSG_OK || xmsg_status_text(st) != NULL);
    check_status_json(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size);
    xmsg_params *p = xmsg_params_new();
    xmsg_status *st = xmsg_status_new(), *st_check = xmsg_status_new();
    xmsg_err rc;

    FUZZ_CHECK(p && st && st_check);
    rc = xmsg_params_from_json(p, json, st);
    check_result(rc, st);
    /* The check runs whatever the parse gave: a partly applied object
     * is a state the library can be in. */
    rc = xmsg_params_check(p, st_check);
    check_result(rc, st_check);
    xmsg_status_free(st_check);
    xmsg_status_free(st);
    xmsg_params_free(p);
    free(json);
    return 0;
}
