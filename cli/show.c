/* show.c - xmsg config: the effective params, where each came from.
 *
 * The params are built as for a command, step by step; after each step
 * every param whose value changed is credited to it. Secrets are never
 * printed, and a passwordCommand is not run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void wipe_free(char *s)
{
    if (s)
        cli_wipe(s, strlen(s));
    free(s);
}

void cli_trace_step(struct cli_trace *tr, const xmsg_params *p,
                    const char *source)
{
    const char *name;
    char *v;
    size_t i;

    for (i = 0; tr && i < CLI_TRACE_MAX && (name = xmsg_params_name(i)); i++) {
        v = xmsg_params_get_text(p, name);
        if (same(v, tr->value[i]) && tr->source[i]) {
            wipe_free(v);
            continue;
        }
        wipe_free(tr->value[i]);
        tr->value[i] = v;
        free(tr->source[i]);
        tr->source[i] = strdup(source);
    }
}

void cli_trace_free(struct cli_trace *tr)
{
    size_t i;

    for (i = 0; i < CLI_TRACE_MAX; i++) {
        wipe_free(tr->value[i]);
        free(tr->source[i]);
    }
    free(tr->password_note);
    free(tr->config);
    free(tr->account);
    memset(tr, 0, sizeof(*tr));
}

static int is_secret(const char *name)
{
    return !strcmp(name, "password") || !strcmp(name, "roomPassword");
}

/* key = value   # source, in the config file's own syntax. */
static void print_trace(const struct cli_trace *tr)
{
    const char *name, *value;
    size_t i;

    printf("# config file: %s\n", tr->config ? tr->config : "none");
    printf("# account: %s\n", tr->account ? tr->account : "none");
    for (i = 0; i < CLI_TRACE_MAX && (name = xmsg_params_name(i)); i++) {
        value = tr->value[i];
        if (!value && !(is_secret(name) && tr->password_note &&
                        !strcmp(name, "password")))
            continue;
        if (!value)
            printf("%-18s = %-24s # %s (not run by xmsg config)\n", name,
                   tr->password_key, tr->password_note);
        else
            printf("%-18s = %-24s # %s\n", name,
                   is_secret(name) ? "(secret)" : value,
                   tr->source[i] ? tr->source[i] : "default");
    }
}

int cli_config_show(const struct cli_opts *o)
{
    struct cli_trace tr;
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p = xmsg_params_new();
    int rc;

    memset(&tr, 0, sizeof(tr));
    if (!st || !p) {
        rc = cli_oom();
        goto out;
    }
    rc = cli_load_params_traced(o, p, st, &tr);
    if (rc == CLI_EXIT_OK) {
        print_trace(&tr);
        rc = cli_flush_stdout();
    } else {
        cli_err_status(st);
    }
out:
    cli_trace_free(&tr);
    xmsg_params_free(p);
    xmsg_status_free(st);
    return rc;
}
