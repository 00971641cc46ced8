/* download_poll.c - the session API with params downloadDir, for
 * download_e2e.sh: logs in as USER on the lab server (XMSG_LAB_ENV), sends
 * presence, polls until a message arrives (up to 120 s) and prints it as
 * one JSON line: its file was fetched into DIR before the callback.
 *   download_poll USER DIR   exit 0 with a message, 1 without */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lab.h"
#include "xmsg.h"

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
    xmsg_free(json);
    *got = json != NULL;
    return 1;
}

/* The lab's params for user, with downloadDir. */
static xmsg_params *params(const char *user, const char *dir, xmsg_status *st)
{
    json_t *j = lab_params(user);

    json_object_set_new(j, "downloadDir", json_string(dir));
    return lab_params_typed(j, st);
}

int main(int argc, char **argv)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p = NULL;
    xmsg_session *s = NULL;
    xmsg_err rc = XMSG_ERR_INPUT;
    int got = 0, i;

    if (argc == 3 && st && lab_load_env("XMSG_LAB_ENV") == 0)
        p = params(argv[1], argv[2], st);
    if (p)
        rc = xmsg_session_open(p, &s, st);
    if (!rc)
        rc = lab_presence(s, st);
    for (i = 0; !rc && !got && i < 120; i++)
        rc = xmsg_session_poll(s, 1000, on_stanza, &got, st);
    xmsg_session_close(s, st);
    if (!got)
        fprintf(stderr, "download_poll: %s\n", xmsg_status_text(st));
    xmsg_params_free(p);
    xmsg_status_free(st);
    return got ? 0 : 1;
}
