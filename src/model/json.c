/* json.c - JSON text in: one guarded parser for params and messages. */
#include <string.h>

#include <jansson.h>

#include "model/internal.h"

json_t *xmsg_json_parse_object(const char *text, const char *what,
                               xmsg_status *st)
{
    json_error_t jerr;
    json_t *root;
    size_t len;

    if (!text) {
        xmsg_status_fail(st, XMSG_ERR_INPUT, "%s: no JSON given", what);
        return NULL;
    }
    len = strnlen(text, XMSG_JSON_MAX + 1);
    if (len > XMSG_JSON_MAX) {
        xmsg_status_fail(st, XMSG_ERR_INPUT, "%s: JSON larger than %d bytes",
                         what, XMSG_JSON_MAX);
        return NULL;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson quotes the input near the error: it may be the
         * password. */
        char *near = strstr(jerr.text, " near '");

        if (near)
            *near = '\0';
        xmsg_status_fail(st, XMSG_ERR_INPUT,
                         "%s: malformed JSON: %s (line %d, "
                         "column %d)",
                         what, jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        xmsg_status_fail(st, XMSG_ERR_INPUT, "%s: must be a JSON object", what);
        return NULL;
    }
    return root;
}
