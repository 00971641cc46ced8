/* omemo.c - xmsg omemo fingerprint | publish | devices JID | trust JID FP
 * | untrust JID FP (a build with
 * OMEMO only). Each prints JSON lines, then the status line (main.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "xmsg_omemo.h"

static const char omemo_help[] =
    "Usage: xmsg omemo fingerprint [OPTIONS]\n"
    "       xmsg omemo publish [OPTIONS]\n"
    "       xmsg omemo devices JID [OPTIONS]\n"
    "       xmsg omemo trust JID FINGERPRINT [OPTIONS]\n"
    "       xmsg omemo untrust JID FINGERPRINT [OPTIONS]\n"
    "\n"
    "OMEMO (legacy eu.siacs.conversations.axolotl) of the account:\n"
    "  fingerprint  our device id and fingerprint, one JSON line (the\n"
    "               identity is created on first use and kept in the state\n"
    "               directory, next to the checkpoint; no network)\n"
    "  publish      log in, publish our device list and bundle (PEP, open\n"
    "               to anyone), print our line as fingerprint does\n"
    "  devices JID  log in, print a JSON line per device JID publishes:\n"
    "               {\"jid\", \"device\", \"fingerprint\"} (fingerprint null\n"
    "               when its bundle cannot be read)\n"
    "  trust JID FP pin FP for JID (no network): from then on only its\n"
    "               pinned devices get messages; others are left out\n"
    "  untrust JID FP  remove the pin (no network); without pins left,\n"
    "               every device of JID is trusted again\n"
    "\n"
    "Trust is blind before verification: every device is trusted until a\n"
    "fingerprint of its JID is pinned. connect and listen --omemo hand a\n"
    "message from a device not pinned over with decryptError, never its\n"
    "text.\n"
    "\n"
    "Options: those of 'xmsg connect' (see xmsg connect --help).\n";

int cli_omemo_help(void)
{
    fputs(omemo_help, stdout);
    return cli_flush_stdout();
}

int cli_omemo_args(struct cli_opts *o, int argc, char **argv)
{
    static const struct {
        const char *name;
        int words; /* after the action */
    } actions[] = {{"fingerprint", 0},
                   {"publish", 0},
                   {"devices", 1},
                   {"trust", 2},
                   {"untrust", 2}};
    size_t i;

    if (argc < 1) {
        cli_err("omemo: missing action: fingerprint, publish, devices, "
                "trust or untrust");
        return cli_usage_hint();
    }
    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (strcmp(argv[0], actions[i].name) != 0)
            continue;
        if (argc != 1 + actions[i].words) {
            cli_err("omemo %s: %s", argv[0],
                    actions[i].words == 0   ? "takes no argument"
                    : actions[i].words == 1 ? "one JID required"
                                            : "a JID and a fingerprint "
                                              "required");
            return cli_usage_hint();
        }
        o->omemo_action = argv[0];
        o->omemo_jid = argc > 1 ? argv[1] : NULL;
        o->omemo_fp = argc > 2 ? argv[2] : NULL;
        return CLI_RUN;
    }
    cli_err("omemo: unknown action '%s' (fingerprint, publish, devices, "
            "trust, untrust)",
            argv[0]);
    return cli_usage_hint();
}

/* One compact JSON line of o (taken). */
static int print_line(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    int rc =
        text && printf("%s\n", text) >= 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;

    free(text);
    json_decref(o);
    return rc;
}

static int print_ours(const xmsg_params *p, xmsg_status *st)
{
    char *jid = xmsg_params_get_text(p, "jid"), *fp = NULL;
    uint32_t dev = 0;
    xmsg_err err = xmsg_omemo_identity(p, &dev, &fp, st);
    int rc = cli_exit_code(err);

    if (!err)
        rc = print_line(json_pack("{s:s?, s:I, s:s}", "jid", jid, "device",
                                  (json_int_t)dev, "fingerprint", fp));
    xmsg_free(fp);
    xmsg_free(jid);
    return rc;
}

static int print_devices(const char *jid, const char *json)
{
    json_t *arr = json_loads(json, 0, NULL), *v;
    size_t i;
    int rc = arr ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;

    json_array_foreach(arr, i, v)
    {
        if (rc == CLI_EXIT_OK)
            rc = print_line(json_pack("{s:s, s:O, s:O}", "jid", jid, "device",
                                      json_object_get(v, "device"),
                                      "fingerprint",
                                      json_object_get(v, "fingerprint")));
    }
    json_decref(arr);
    return rc;
}

/* publish or devices, over one session. */
static int online(const struct cli_opts *o, const xmsg_params *p,
                  xmsg_status *st)
{
    xmsg_session *s = NULL;
    char *json = NULL;
    xmsg_err err = xmsg_session_open(p, &s, st);
    int rc;

    if (!err && o->omemo_jid)
        err = xmsg_omemo_devices(s, o->omemo_jid, &json, st);
    else if (!err)
        err = xmsg_omemo_publish(s, st);
    xmsg_session_close(s, st);
    rc = cli_exit_code(err);
    if (!err && json)
        rc = print_devices(o->omemo_jid, json);
    else if (!err)
        rc = print_ours(p, st);
    xmsg_free(json);
    return rc;
}

int cli_omemo(const struct cli_opts *o, const xmsg_params *p, xmsg_status *st)
{
    if (strcmp(o->omemo_action, "fingerprint") == 0)
        return print_ours(p, st);
    if (strcmp(o->omemo_action, "trust") == 0)
        return cli_exit_code(
            xmsg_omemo_trust(p, o->omemo_jid, o->omemo_fp, st));
    if (strcmp(o->omemo_action, "untrust") == 0)
        return cli_exit_code(
            xmsg_omemo_untrust(p, o->omemo_jid, o->omemo_fp, st));
    return online(o, p, st);
}
