/* stream_probe.c - drives src/xmpp/stream against a real server and prints
 * one JSON line: what the login used and what happened.
 *
 *   stream_probe [options]      (the password from XMSG_PASSWORD)
 *     --jid J --host H --port N --ca-file F --pin P --trust --legacy-tls
 *     --no-tls --allow-plaintext --legacy-auth --mechs SPEC --no-key-cache
 *     --timeout S
 *     --send TO        send one message and wait for its ack (SM) or, with
 *                      no SM, for a ping answer
 *     --ping           ping the server and wait for the answer
 *     --until-cut N    send up to N messages one by one (each with <r/>)
 *                      until the connection is lost, then open again
 *                      (resume) and wait until everything is acknowledged
 *     --steal          with --until-cut: before opening again, log in once
 *                      with the bound full JID (the server replaces the
 *                      session kept for resumption: the resume fails and
 *                      the stream falls back to a fresh login)
 *
 * JSON: ok, error, text, mech, cb, tls, sm, resumed, pbkdf2, sent, acked,
 * unacked_at_cut, pings, jid, elapsed_ms. Exit 0 when ok. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "xmpp/stream.h"

typedef struct probe {
    const char *send_to;
    int ping;
    int until_cut;
    int steal;
    const xmsg_params *params;
    int cut_seen;
    size_t unacked_at_cut;
} probe;

static int set_opt(xmsg_params *p, probe *pr, const char *k, const char *v)
{
    static const struct {
        const char *opt, *param;
    } strs[] = {{"--jid", "jid"},
                {"--host", "host"},
                {"--ca-file", "caFile"},
                {"--pin", "pin"},
                {"--mechs", "saslMechanisms"}};
    size_t i;

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strcmp(k, strs[i].opt) == 0)
            return v ? (int)xmsg_params_set_string(p, strs[i].param, v, NULL)
                     : -1;
    }
    if (strcmp(k, "--port") == 0 && v)
        return (int)xmsg_params_set_int(p, "port", atol(v), NULL);
    if (strcmp(k, "--timeout") == 0 && v)
        return (int)xmsg_params_set_int(p, "timeout", atol(v), NULL);
    if (strcmp(k, "--send") == 0 && v)
        return (pr->send_to = v) == NULL;
    if (strcmp(k, "--until-cut") == 0 && v)
        return (pr->until_cut = atoi(v)) <= 0;
    return -1;
}

static int set_flag(xmsg_params *p, probe *pr, const char *k)
{
    static const struct {
        const char *opt, *param;
        int value;
    } flags[] = {{"--trust", "trustTLS", 1},
                 {"--legacy-tls", "legacyTLS", 1},
                 {"--no-tls", "disableTLS", 1},
                 {"--allow-plaintext", "mandatoryTLS", 0},
                 {"--legacy-auth", "enableLegacyAuth", 1},
                 {"--no-key-cache", "saslKeyCache", 0}};
    size_t i;

    if (strcmp(k, "--ping") == 0)
        return (pr->ping = 1) - 1;
    if (strcmp(k, "--steal") == 0)
        return (pr->steal = 1) - 1;
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strcmp(k, flags[i].opt) == 0)
            return (int)xmsg_params_set_bool(p, flags[i].param, flags[i].value,
                                             NULL);
    }
    return 1; /* not a flag */
}

static int parse_args(int argc, char **argv, xmsg_params *p, probe *pr)
{
    int i, rc;

    for (i = 1; i < argc; i++) {
        rc = set_flag(p, pr, argv[i]);
        if (rc == 1) {
            rc = set_opt(p, pr, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
            i++;
        }
        if (rc) {
            fprintf(stderr, "stream_probe: bad option %s\n", argv[i - 1]);
            return -1;
        }
    }
    return 0;
}

static xmsg_err send_message(xmsg_stream *s, const char *to, unsigned n)
{
    char id[32], body[64];
    xmsg_xel *m = xmsg_xel_new(XMSG_NS_CLIENT, "message");
    xmsg_xel *b = m ? xmsg_xel_add_new(m, NULL, "body") : NULL;
    xmsg_err rc = XMSG_ERR_INTERNAL;

    snprintf(id, sizeof(id), "probe-%u", n);
    snprintf(body, sizeof(body), "stream probe %u", n);
    if (b && !xmsg_xel_set_attr(m, "to", to) &&
        !xmsg_xel_set_attr(m, "type", "chat") &&
        !xmsg_xel_set_attr(m, "id", id) &&
        !xmsg_xel_add_text(b, body, strlen(body)))
        rc = xmsg_stream_send(s, m);
    xmsg_xel_free(m);
    if (!rc)
        rc = xmsg_stream_request_ack(s);
    return rc;
}

/* Runs until everything sent is acknowledged (and pings answered). */
static xmsg_err settle(xmsg_stream *s, unsigned pings)
{
    xmsg_err rc = XMSG_OK;

    while (!rc && (xmsg_stream_unacked(s) > 0 ||
                   xmsg_stream_pings_answered(s) < pings))
        rc = xmsg_stream_run(s, 1000);
    return rc;
}

/* Logs in and out once as the full JID jid: 0 ok. */
static int steal(const xmsg_params *p, const char *jid)
{
    xmsg_params *q = xmsg_params_dup(p);
    xmsg_status *st = xmsg_status_new();
    xmsg_stream *s = NULL;
    int rc = -1;

    /* A generous timeout: a loaded machine must not fail the steal. */
    if (!q || !st || xmsg_params_set_string(q, "jid", jid, st) ||
        xmsg_params_set_int(q, "timeout", 60, st))
        goto out;
    s = xmsg_stream_new(q, st);
    if (s && xmsg_stream_open(s) == XMSG_OK)
        rc = 0;
    else
        fprintf(stderr, "stream_probe: steal: %s\n", xmsg_status_text(st));
out:
    xmsg_stream_free(s);
    xmsg_status_free(st);
    xmsg_params_free(q);
    return rc;
}

/* Sends one message a turn until the connection is cut; then resumes. */
static xmsg_err until_cut(xmsg_stream *s, probe *pr)
{
    xmsg_err rc = XMSG_OK;
    int i;
    short ev = 0;

    for (i = 0; i < pr->until_cut && !rc; i++) {
        rc = send_message(s, pr->send_to, (unsigned)i);
        while (!rc && (xmsg_stream_fd(s, &ev), ev & POLLOUT))
            rc = xmsg_stream_run(s, 200);
        if (!rc)
            rc = xmsg_stream_run(s, 50);
    }
    if (rc != XMSG_ERR_CONNECT)
        return rc ? rc : XMSG_ERR_PROTOCOL;
    pr->cut_seen = 1;
    pr->unacked_at_cut = xmsg_stream_unacked(s);
    if (pr->steal && steal(pr->params, xmsg_stream_jid(s)))
        return XMSG_ERR_INTERNAL;
    xmsg_stream_extend(s, 20000);
    rc = xmsg_stream_open(s);
    if (!rc)
        rc = xmsg_stream_request_ack(s);
    return rc ? rc : settle(s, 0);
}

static xmsg_err drive(xmsg_stream *s, probe *pr)
{
    xmsg_err rc = xmsg_stream_open(s);
    unsigned pings = 0;

    if (rc)
        return rc;
    if (pr->until_cut && pr->send_to)
        return until_cut(s, pr);
    if (pr->send_to)
        rc = send_message(s, pr->send_to, 0);
    if (!rc && (pr->ping || (pr->send_to && !xmsg_stream_sm_on(s)))) {
        rc = xmsg_stream_ping(s);
        if (!rc)
            rc = xmsg_stream_request_ack(s);
        pings = 1;
    }
    return rc ? rc : settle(s, pings);
}

static const char *tls_name(int v)
{
    return v == TLS1_3_VERSION ? "1.3" : v == TLS1_2_VERSION ? "1.2" : "none";
}

static void report(const xmsg_stream *s, const xmsg_status *st, xmsg_err rc,
                   const probe *pr, uint64_t ms)
{
    json_t *o = json_pack(
        "{s:b, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i, s:i, "
        "s:i, s:s, s:b}",
        "ok", rc == XMSG_OK, "error", rc ? xmsg_err_name(rc) : "", "text",
        xmsg_status_text(st) ? xmsg_status_text(st) : "", "mech",
        xmsg_stream_legacy_auth(s) ? "XEP-0078"
        : xmsg_stream_mech(s) == XMSG_MECH_NONE
            ? ""
            : xmsg_sasl_mech_name(xmsg_stream_mech(s)),
        "cb", xmsg_stream_cb(s) ? xmsg_sasl_cb_name(xmsg_stream_cb(s)) : "none",
        "tls", tls_name(xmsg_stream_tls_version(s)), "sm", xmsg_stream_sm_on(s),
        "resumed", xmsg_stream_resumed(s), "pbkdf2",
        (int)xmsg_stream_pbkdf2_runs(s), "sent", (int)xmsg_stream_sm_sent(s),
        "acked", (int)xmsg_stream_sm_acked(s), "unacked_at_cut",
        (int)pr->unacked_at_cut, "pings", (int)xmsg_stream_pings_answered(s),
        "elapsed_ms", (int)ms, "jid",
        xmsg_stream_jid(s) ? xmsg_stream_jid(s) : "", "cut", pr->cut_seen);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

    puts(text ? text : "{\"ok\":false,\"error\":\"internal\"}");
    free(text);
    json_decref(o);
}

int main(int argc, char **argv)
{
    xmsg_params *p = xmsg_params_new();
    xmsg_status *st = xmsg_status_new();
    xmsg_stream *s = NULL;
    probe pr = {0};
    xmsg_err rc = XMSG_ERR_INTERNAL;
    uint64_t t0 = xmsg_now_ms();
    size_t i;

    if (!p || !st || parse_args(argc, argv, p, &pr))
        goto out;
    if (getenv("XMSG_PASSWORD"))
        xmsg_params_set_string(p, "password", getenv("XMSG_PASSWORD"), NULL);
    s = xmsg_stream_new(p, st);
    if (!s) {
        fprintf(stderr, "stream_probe: %s\n", xmsg_status_text(st));
        goto out;
    }
    pr.params = p;
    rc = drive(s, &pr);
    xmsg_stream_close(s);
    report(s, st, rc, &pr, xmsg_now_ms() - t0);
    if (getenv("XMSG_PROBE_LOG")) {
        for (i = 0; i < xmsg_status_log_count(st); i++)
            fprintf(stderr, "%s\n", xmsg_status_log_line(st, i));
    }
out:
    xmsg_stream_free(s);
    xmsg_status_free(st);
    xmsg_params_free(p);
    return rc == XMSG_OK ? 0 : 1;
}
