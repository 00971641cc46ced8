/* omemo_poll.c - the session API with params omemo, for
 * omemo_recv_e2e.sh: logs in as USER on the lab server (XMSG_LAB_ENV),
 * publishes our OMEMO device and prints it ("device N"), sends presence,
 * prints "ready",
 * then polls until COUNT messages arrived (up to 120 s) and prints each
 * as one JSON line: decrypted by the library before the callback.
 *   omemo_poll USER COUNT   exit 0 with COUNT messages, 1 without */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lab.h"
#include "xmsg.h"
#include "xmsg_omemo.h"

static int on_stanza(const xmsg_message *m, void *userdata)
{
    int *got = userdata;
    const char *kind = xmsg_message_get(m, "kind");
    char *json;

    if (!kind || strcmp(kind, "message") != 0)
        return 0;
    json = xmsg_message_to_json(m);
    if (json)
        printf("%s\n", json);
    fflush(stdout);
    xmsg_free(json);
    *got += json != NULL;
    return 0;
}

/* The lab's params for user, with omemo. */
static xmsg_params *params(const char *user, xmsg_status *st)
{
    json_t *j = lab_params(user);

    json_object_set_new(j, "omemo", json_true());
    return lab_params_typed(j, st);
}

/* Our device (the store made if needed), as "device N". */
static xmsg_err device(const xmsg_params *p, xmsg_status *st)
{
    uint32_t dev = 0;
    char *fp = NULL;
    xmsg_err rc = xmsg_omemo_identity(p, &dev, &fp, st);

    if (!rc)
        printf("device %u\n", (unsigned)dev);
    fflush(stdout);
    xmsg_free(fp);
    return rc;
}

int main(int argc, char **argv)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p = NULL;
    xmsg_session *s = NULL;
    xmsg_err rc = XMSG_ERR_INPUT;
    int got = 0, want = argc == 3 ? atoi(argv[2]) : 0, i;

    if (want > 0 && st && lab_load_env("XMSG_LAB_ENV") == 0)
        p = params(argv[1], st);
    if (p)
        rc = device(p, st);
    if (!rc)
        rc = xmsg_session_open(p, &s, st);
    if (!rc)
        rc = xmsg_omemo_publish(s, st);
    if (!rc)
        rc = lab_presence(s, st);
    if (!rc)
        printf("ready\n");
    fflush(stdout);
    for (i = 0; !rc && got < want && i < 120; i++)
        rc = xmsg_session_poll(s, 1000, on_stanza, &got, st);
    xmsg_session_close(s, st);
    if (got < want)
        fprintf(stderr, "omemo_poll: %s\n", xmsg_status_text(st));
    xmsg_params_free(p);
    xmsg_status_free(st);
    return got >= want ? 0 : 1;
}
