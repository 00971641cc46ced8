/* lab.c - see lab.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab.h"
#include "xmsg.h"

static int load_line(char *line)
{
    char *eq, *val, *end;

    if (strncmp(line, "export ", 7) != 0)
        return 0;
    eq = strchr(line + 7, '=');
    if (!eq)
        return -1;
    *eq = '\0';
    val = eq + 1;
    end = val + strlen(val);
    while (end > val && (end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    if (*val == '\'' && end > val + 1 && end[-1] == '\'') {
        end[-1] = '\0';
        val++;
    }
    return setenv(line + 7, val, 1);
}

static char state_dir[] = "/tmp/xmsg-e2e-state.XXXXXX";

const char *lab_state_dir(void)
{
    return state_dir;
}

int lab_load_env(const char *var)
{
    const char *path = getenv(var);
    char line[4096];
    FILE *f;
    int rc = 0;

    if (!path || !*path) {
        fprintf(stderr, "%s is not set: start a lab server first\n", var);
        return -1;
    }
    f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f))
        rc = load_line(line);
    fclose(f);
    /* Checkpoints of this run only: a fresh server, a fresh state. */
    if (rc == 0 && !mkdtemp(state_dir))
        rc = -1;
    if (rc == 0)
        rc = setenv("XDG_STATE_HOME", state_dir, 1);
    return rc;
}

const char *lab(const char *name)
{
    char key[128];
    const char *v;

    snprintf(key, sizeof(key), "XMSG_LAB_%s", name);
    v = getenv(key);
    return v ? v : "";
}

const char *lab_password(const char *user)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "pw-%s-Zq8", user);
    return buf;
}

json_t *lab_params(const char *user)
{
    char jid[256];

    snprintf(jid, sizeof(jid), "%s@%s", user, lab("DOMAIN"));
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "jid", jid, "password",
                     lab_password(user), "host", lab("HOST"), "port",
                     (json_int_t)atol(lab("PORT")), "caFile", lab("CA"),
                     "logLevel", "error");
}

xmsg_params *lab_params_typed(json_t *params, xmsg_status *st)
{
    xmsg_params *p = xmsg_params_new();
    char *text = params ? json_dumps(params, JSON_COMPACT) : NULL;

    if (!p || !text || xmsg_params_from_json(p, text, st)) {
        xmsg_params_free(p);
        p = NULL;
    }
    free(text);
    json_decref(params);
    return p;
}

xmsg_err lab_presence(xmsg_session *s, xmsg_status *st)
{
    xmsg_message *pres = xmsg_message_new();
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (pres && !xmsg_message_set(pres, "kind", "presence", st))
        rc = xmsg_session_send(s, pres, st);
    xmsg_message_free(pres);
    return rc;
}

static json_t *parse_status(char *text)
{
    json_error_t err;
    json_t *st;

    assert_non_null(text);
    st = json_loads(text, 0, &err);
    if (!st)
        fail_msg("status is not JSON: %s: %s", err.text, text);
    xmsg_free(text);
    assert_true(json_is_object(st));
    assert_true(json_is_array(json_object_get(st, "log")));
    return st;
}

json_t *lab_send(json_t *params, json_t *message)
{
    char *p = json_dumps(params, JSON_COMPACT);
    char *m = json_dumps(message, JSON_COMPACT);
    char *out = xmsg_send_message_json(p, m);

    free(p);
    free(m);
    return parse_status(out);
}

json_t *lab_connect(json_t *params)
{
    char *p = json_dumps(params, JSON_COMPACT);
    char *out = xmsg_connect_json(p);

    free(p);
    return parse_status(out);
}

const char *lab_code(const json_t *status)
{
    const json_t *e = json_object_get(status, "error");

    return e ? json_string_value(json_object_get(e, "code")) : "ok";
}

const char *lab_dump(const json_t *status)
{
    static char *last;

    free(last);
    last = json_dumps(status, JSON_COMPACT);
    return last ? last : "";
}

int lab_log_has(const json_t *status, const char *needle)
{
    const json_t *log = json_object_get(status, "log"), *line;
    size_t i;

    json_array_foreach(log, i, line)
    {
        if (strstr(json_string_value(line), needle))
            return 1;
    }
    return 0;
}

void lab_send_ok(const char *from, const char *to, const char *body)
{
    char jid[256];
    json_t *p = lab_params(from), *m, *st;

    snprintf(jid, sizeof(jid), "%s@%s", to, lab("DOMAIN"));
    m = json_pack("{s:s, s:s}", "to", jid, "body", body);
    st = lab_send(p, m);
    if (strcmp(lab_code(st), "ok") != 0)
        fail_msg("send failed: %s", lab_dump(st));
    assert_true(json_is_true(json_object_get(st, "delivered")));
    json_decref(st);
    json_decref(m);
    json_decref(p);
}
