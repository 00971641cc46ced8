/* rcpt.c - the recipients of one message: several -t, and --recipients
 * FILE (one JID a line; blank lines and lines starting with # are
 * skipped). They become a batch: one login, one result line each. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int push(struct cli_rcpts *r, const char *jid, size_t line)
{
    struct cli_rcpt *v;
    size_t ncap;

    if (r->n == r->cap) {
        ncap = r->cap ? r->cap * 2 : 16;
        v = realloc(r->v, ncap * sizeof(*v));
        if (!v)
            return -1;
        r->v = v;
        r->cap = ncap;
    }
    r->v[r->n].jid = jid;
    r->v[r->n++].line = line;
    return 0;
}

static char *trim(char *s)
{
    char *end;

    s += strspn(s, " \t");
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* The JIDs of the file, each with its line number. */
static int from_file(struct cli_rcpts *r, const char *path)
{
    char *line, *nl, *t;
    size_t no = 0;
    int rc = cli_read_file(path, &r->file);

    for (line = r->file.data; rc == CLI_EXIT_OK && line && *line;
         line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        no++;
        t = trim(line);
        if (*t && *t != '#' && push(r, t, no))
            rc = cli_oom();
    }
    return rc;
}

int cli_rcpts_load(const struct cli_opts *o, struct cli_rcpts *r)
{
    size_t i;
    int rc = CLI_EXIT_OK;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < o->nset && rc == CLI_EXIT_OK; i++) {
        const struct cli_setting *s = &o->set[i];

        if (s->kind == CLI_SET_MSG && !strcmp(s->name, "to") &&
            push(r, s->str, 0))
            rc = cli_oom();
    }
    if (rc == CLI_EXIT_OK && o->recipients_file)
        rc = from_file(r, o->recipients_file);
    if (rc == CLI_EXIT_OK && r->n == 0) {
        cli_err("%s: no recipients", o->recipients_file);
        rc = CLI_EXIT_INPUT;
    }
    return rc;
}

void cli_rcpts_free(struct cli_rcpts *r)
{
    free(r->v);
    cli_buf_wipe(&r->file);
    memset(r, 0, sizeof(*r));
}
