/* responder.c - a peer written with xmsg's session API, for the request
 * and interoperability tests: logs in, sends presence, and answers
 *   a message with "re: BODY" in the same thread, to its sender;
 *   an iq get or set with an empty result (its payload echoed back);
 * until it answered N stanzas or S seconds passed. Prints "ready FULLJID"
 * on stdout once it is available.
 *
 *   responder JID N S     (password in XMSG_PASSWORD; XMSG_LAB_ENV set)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lab.h"
#include "xmsg.h"

struct peer {
    xmsg_session *s;
    int answered;
};

static xmsg_message *reply_to(const xmsg_message *m)
{
    const char *kind = xmsg_message_get(m, "kind");
    const char *from = xmsg_message_get(m, "from");
    const char *type = xmsg_message_get(m, "type");
    xmsg_message *r = xmsg_message_new();
    char body[512];

    if (!r || !from || !kind)
        goto none;
    if (!strcmp(kind, "message") && xmsg_message_get(m, "body") &&
        (!type || strcmp(type, "error") != 0)) {
        snprintf(body, sizeof(body), "re: %s", xmsg_message_get(m, "body"));
        if (xmsg_message_set(r, "to", from, NULL) ||
            xmsg_message_set(r, "body", body, NULL) ||
            (xmsg_message_get(m, "thread") &&
             xmsg_message_set(r, "thread", xmsg_message_get(m, "thread"),
                              NULL)))
            goto none;
        return r;
    }
    if (!strcmp(kind, "iq") && type &&
        (!strcmp(type, "get") || !strcmp(type, "set"))) {
        if (xmsg_message_set(r, "kind", "iq", NULL) ||
            xmsg_message_set(r, "type", "result", NULL) ||
            xmsg_message_set(r, "to", from, NULL) ||
            xmsg_message_set(r, "id", xmsg_message_get(m, "id"), NULL) ||
            (xmsg_message_get(m, "payload") &&
             xmsg_message_set(r, "payload", xmsg_message_get(m, "payload"),
                              NULL)))
            goto none;
        return r;
    }
none:
    xmsg_message_free(r);
    return NULL;
}

static int answer(const xmsg_message *m, void *userdata)
{
    struct peer *p = userdata;
    xmsg_message *r = reply_to(m);
    xmsg_status *st;

    if (!r)
        return 0;
    st = xmsg_status_new();
    if (xmsg_session_send(p->s, r, st) == XMSG_OK)
        p->answered++;
    else
        fprintf(stderr, "responder: %s\n", xmsg_status_text(st));
    xmsg_status_free(st);
    xmsg_message_free(r);
    return 0;
}

static xmsg_params *params(const char *jid)
{
    xmsg_params *p = xmsg_params_new();
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"jid\":\"%s\",\"password\":\"%s\",\"host\":\"%s\","
             "\"port\":%s,\"logLevel\":\"error\"%s%s%s}",
             jid, getenv("XMSG_PASSWORD"), lab("HOST"), lab("PORT"),
             strcmp(lab("MODE"), "plain") ? ",\"caFile\":\"" : "",
             strcmp(lab("MODE"), "plain") ? lab("CA") : "",
             strcmp(lab("MODE"), "plain") ? "\"" : ",\"disableTLS\":true");
    if (!p || xmsg_params_from_json(p, text, NULL)) {
        xmsg_params_free(p);
        return NULL;
    }
    return p;
}

int main(int argc, char **argv)
{
    struct peer peer = {NULL, 0};
    xmsg_status *st = xmsg_status_new();
    xmsg_message *pres = xmsg_message_new();
    xmsg_params *p;
    time_t end;
    int want, rc = 1;

    if (argc != 4 || lab_load_env("XMSG_LAB_ENV") || !st || !pres)
        return 2;
    want = atoi(argv[2]);
    end = time(NULL) + atoi(argv[3]);
    p = params(argv[1]);
    if (!p || xmsg_session_open(p, &peer.s, st) != XMSG_OK ||
        xmsg_message_set(pres, "kind", "presence", NULL) ||
        xmsg_session_send(peer.s, pres, NULL) != XMSG_OK)
        goto out;
    printf("ready %s\n", xmsg_session_jid(peer.s));
    fflush(stdout);
    while (peer.answered < want && time(NULL) < end &&
           xmsg_session_poll(peer.s, 200, answer, &peer, NULL) == XMSG_OK)
        ;
    rc = peer.answered >= want ? 0 : 1;
out:
    if (rc)
        fprintf(stderr, "responder: answered %d of %d: %s\n", peer.answered,
                want, xmsg_status_text(st) ? xmsg_status_text(st) : "");
    xmsg_session_close(peer.s, NULL);
    xmsg_message_free(pres);
    xmsg_params_free(p);
    xmsg_status_free(st);
    return rc;
}
