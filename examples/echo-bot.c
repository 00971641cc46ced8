/* echo-bot.c - an XMPP bot written with libxmsg's session API: it logs
 * in once, goes online, and answers every chat message with "echo: BODY"
 * (in the same thread, to the sender), until it answered COUNT of them
 * (0: without end) or gets SIGINT/SIGTERM.
 *
 *   cc -o echo-bot echo-bot.c $(pkg-config --cflags --libs xmsg)
 *   XMSG_PASSWORD=... ./echo-bot params.json [COUNT]
 *
 * params.json is a params object (jid, host, caFile, ...; see xmsg(1)).
 * The bot prints "ready JID" once online, and one line per answer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmsg.h>

static volatile sig_atomic_t stop;

struct bot {
    xmsg_session *s;
    long answered, count;
};

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* The whole of a small file, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = f ? calloc(1, 65536) : NULL;

    if (text && fread(text, 1, 65535, f) == 0) {
        free(text);
        text = NULL;
    }
    if (f)
        fclose(f);
    return text;
}

static xmsg_params *load_params(const char *path, xmsg_status *st)
{
    xmsg_params *p = xmsg_params_new();
    char *json = slurp(path);
    const char *pw = getenv("XMSG_PASSWORD");
    int bad = !p || !json || xmsg_params_from_json(p, json, st) ||
              (pw && xmsg_params_set_string(p, "password", pw, st));

    free(json);
    if (bad) {
        xmsg_params_free(p);
        return NULL;
    }
    return p;
}

/* A chat or normal message with a body, from someone: answer it. */
static int answer(const xmsg_message *m, void *userdata)
{
    struct bot *b = userdata;
    const char *kind = xmsg_message_get(m, "kind");
    const char *body = xmsg_message_get(m, "body");
    const char *from = xmsg_message_get(m, "from");
    const char *thread = xmsg_message_get(m, "thread");
    xmsg_message *r;
    char text[1024];

    if (!kind || strcmp(kind, "message") || !body || !from)
        return 0;
    r = xmsg_message_new();
    snprintf(text, sizeof(text), "echo: %s", body);
    if (r && !xmsg_message_set(r, "to", from, NULL) &&
        !xmsg_message_set(r, "body", text, NULL) &&
        (!thread || !xmsg_message_set(r, "thread", thread, NULL)) &&
        xmsg_session_send(b->s, r, NULL) == XMSG_OK) {
        b->answered++;
        printf("answered %s\n", from);
        fflush(stdout);
    }
    xmsg_message_free(r);
    return b->count && b->answered >= b->count;
}

static xmsg_err go_online(xmsg_session *s, xmsg_status *st)
{
    xmsg_message *presence = xmsg_message_new();
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (presence && !xmsg_message_set(presence, "kind", "presence", st))
        rc = xmsg_session_send(s, presence, NULL);
    xmsg_message_free(presence);
    return rc;
}

int main(int argc, char **argv)
{
    struct bot b = {NULL, 0, argc > 2 ? atol(argv[2]) : 0};
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p = NULL;
    xmsg_err rc = XMSG_ERR_INPUT;

    if (argc < 2 || !st) {
        fprintf(stderr, "usage: echo-bot PARAMS.json [COUNT]\n");
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    p = load_params(argv[1], st);
    if (!p)
        goto out;
    rc = xmsg_session_open(p, &b.s, st);
    if (!rc)
        rc = go_online(b.s, st);
    if (rc)
        goto out;
    printf("ready %s\n", xmsg_session_jid(b.s));
    fflush(stdout);
    while (!stop && !rc && (!b.count || b.answered < b.count))
        rc = xmsg_session_poll(b.s, 1000, answer, &b, st);
out:
    if (rc && st)
        fprintf(stderr, "echo-bot: %s: %s\n", xmsg_err_name(rc),
                xmsg_status_text(st) ? xmsg_status_text(st) : "");
    xmsg_session_close(b.s, NULL);
    xmsg_params_free(p);
    xmsg_status_free(st);
    return rc ? 1 : 0;
}
