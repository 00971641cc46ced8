/* omemo_session.c - params omemo on a session, for omemo_send_e2e.sh:
 * logs in as USER on the lab server (XMSG_LAB_ENV) with the OMEMO store
 * next to STATEFILE and params omemo MODE (true, optional), sends each
 * BODY to TO with xmsg_session_send on that one session, and prints one
 * status JSON line per message (its "encrypted" says how it went).
 *   omemo_session USER STATEFILE MODE TO BODY...
 * Exit 0 when every message was delivered, 2 when one was refused as
 * input, 1 otherwise. Linked with the static library: xmsg_omemo_init. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "lab.h"
#include "xmsg.h"
#include "xmsg_omemo.h"

static xmsg_params *params(const char *user, const char *state,
                           const char *mode, xmsg_status *st)
{
    json_t *j = lab_params(user);

    json_object_set_new(j, "stateFile", json_string(state));
    json_object_set_new(j, "logLevel", json_string("info"));
    json_object_set_new(j, "omemo", json_string(mode));
    return lab_params_typed(j, st);
}

/* Sends body to to on s; prints its status. */
static xmsg_err send_one(xmsg_session *s, const char *to, const char *body)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_message *m = xmsg_message_new();
    xmsg_err rc = XMSG_ERR_INTERNAL;
    char *json;

    if (st && m && !xmsg_message_set(m, "to", to, st) &&
        !xmsg_message_set(m, "body", body, st))
        rc = xmsg_session_send(s, m, st);
    json = st ? xmsg_status_to_json(st) : NULL;
    printf("%s\n", json ? json : "{}");
    xmsg_free(json);
    xmsg_message_free(m);
    xmsg_status_free(st);
    return rc;
}

int main(int argc, char **argv)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p = NULL;
    xmsg_session *s = NULL;
    xmsg_err rc = XMSG_ERR_INPUT, worst = XMSG_OK;
    char *json;
    int i;

    xmsg_omemo_init();
    if (argc >= 6 && st && lab_load_env("XMSG_LAB_ENV") == 0)
        p = params(argv[1], argv[2], argv[3], st);
    if (p)
        rc = xmsg_session_open(p, &s, st);
    for (i = 5; !rc && i < argc; i++) {
        xmsg_err one = send_one(s, argv[4], argv[i]);

        if (one && worst != XMSG_ERR_INPUT)
            worst = one;
    }
    if (rc) {
        json = xmsg_status_to_json(st);
        printf("%s\n", json ? json : "{}");
        xmsg_free(json);
    }
    xmsg_session_close(s, st);
    xmsg_params_free(p);
    xmsg_status_free(st);
    if (!rc)
        rc = worst;
    return rc == XMSG_OK ? 0 : rc == XMSG_ERR_INPUT ? 2 : 1;
}
