/* omemo_send.c - xmsg_omemo_send for omemo_e2e.sh (there is no CLI
 * option yet): logs in as USER on the lab server (XMSG_LAB_ENV) with the
 * store next to STATEFILE, sends BODY to TO encrypted, prints the status
 * as one JSON line.
 *   omemo_send USER STATEFILE TO BODY   exit 0 when the server has it,
 *                                       2 input, other codes as xmsg(1) */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "lab.h"
#include "xmsg.h"
#include "xmsg_omemo.h"

static xmsg_params *params(const char *user, const char *state, xmsg_status *st)
{
    json_t *j = lab_params(user);

    json_object_set_new(j, "stateFile", json_string(state));
    json_object_set_new(j, "logLevel", json_string("info"));
    return lab_params_typed(j, st);
}

int main(int argc, char **argv)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_message *m = xmsg_message_new();
    xmsg_params *p = NULL;
    xmsg_session *s = NULL;
    xmsg_err rc = XMSG_ERR_INPUT;
    char *json;

    if (argc == 5 && st && m && lab_load_env("XMSG_LAB_ENV") == 0)
        p = params(argv[1], argv[2], st);
    if (p && !xmsg_message_set(m, "to", argv[3], st) &&
        !xmsg_message_set(m, "body", argv[4], st) &&
        !xmsg_message_set(m, "type", "chat", st))
        rc = xmsg_session_open(p, &s, st);
    if (!rc)
        rc = xmsg_omemo_send(s, m, st);
    xmsg_session_close(s, st);
    json = xmsg_status_to_json(st);
    printf("%s\n", json ? json : "{}");
    xmsg_free(json);
    xmsg_message_free(m);
    xmsg_params_free(p);
    xmsg_status_free(st);
    return rc == XMSG_OK ? 0 : rc == XMSG_ERR_INPUT ? 2 : 1;
}
