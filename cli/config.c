/* config.c - the config file, xmsg-config(5).
 *
 *   # a comment (a line whose first non-blank is # or ;)
 *   default = work            keys before any section: the defaults
 *   timeout = 30
 *   [account work]            a named account
 *   jid = alice@example.org
 *   passwordCommand = pass show xmpp/alice
 *
 * Found at $XMSG_CONFIG, else $XDG_CONFIG_HOME/xmsg/config (else
 * ~/.config/xmsg/config), else /etc/xmsg/config; with none of them, the
 * account of go-sendxmpp's config or of ~/.sendxmpprc (peers.c). Every
 * entry is checked when the file is read: an unknown key, a bad value or
 * a second password source is an error naming file and line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define SYSTEM_CONFIG "/etc/xmsg/config"

char *cli_join(const char *a, const char *sep, const char *b)
{
    const size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s", a, sep, b);
    return s;
}

/* ---- entries ---- */

int cli_config_add(struct cli_config *c, const char *section, const char *key,
                   const char *value, size_t line)
{
    struct cli_cfg_entry *e;
    size_t ncap;

    if (c->n == c->cap) {
        ncap = c->cap ? c->cap * 2 : 16;
        e = realloc(c->e, ncap * sizeof(*e));
        if (!e)
            return -1;
        c->e = e;
        c->cap = ncap;
    }
    e = &c->e[c->n];
    memset(e, 0, sizeof(*e));
    e->section = section ? strdup(section) : NULL;
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = line;
    c->n++;
    return (section && !e->section) || !e->key || !e->value ? -1 : 0;
}

void cli_config_free(struct cli_config *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        free(c->e[i].section);
        free(c->e[i].key);
        if (c->e[i].value)
            cli_wipe(c->e[i].value, strlen(c->e[i].value));
        free(c->e[i].value);
    }
    free(c->e);
    free(c->path);
    free(c->account);
    memset(c, 0, sizeof(*c));
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

const struct cli_cfg_entry *cli_config_get(const struct cli_config *c,
                                           const char *section, const char *key)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (same(c->e[i].section, section) && !strcmp(c->e[i].key, key))
            return &c->e[i];
    }
    return NULL;
}

int cli_config_is_password_key(const char *key)
{
    return !strcmp(key, "password") || !strcmp(key, "passwordCommand") ||
           !strcmp(key, "passwordFile");
}

/* The entry of section holding a password source, or NULL. */
const struct cli_cfg_entry *cli_config_password(const struct cli_config *c,
                                                const char *section)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (same(c->e[i].section, section) &&
            cli_config_is_password_key(c->e[i].key))
            return &c->e[i];
    }
    return NULL;
}

/* ---- errors ---- */

int cli_config_fail(const struct cli_config *c, size_t line, xmsg_status *st,
                    const char *fmt, ...)
{
    char text[512], where[320];
    va_list ap;

    if (line)
        snprintf(where, sizeof(where), "%s:%zu: ", c->path, line);
    else
        snprintf(where, sizeof(where), "%s: ", c->path ? c->path : "config");
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    {
        char all[sizeof(where) + sizeof(text)];

        snprintf(all, sizeof(all), "%s%s", where, text);
        xmsg_status_set_error(st, XMSG_ERR_INPUT, all);
    }
    return CLI_EXIT_INPUT;
}

/* ---- parsing the xmsg format ---- */

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* "[account NAME]": *section gets NAME (borrowed from line). */
static int parse_section(const struct cli_config *c, char *line, size_t no,
                         char **section, xmsg_status *st)
{
    char *end = strchr(line, ']');
    char *name;

    if (!end || *trim(end + 1) != '\0' || strncmp(line, "[account", 8) ||
        (line[8] != ' ' && line[8] != '\t'))
        return cli_config_fail(c, no, st,
                               "a section is written [account NAME]");
    *end = '\0';
    name = trim(line + 8);
    if (!*name || strpbrk(name, " \t[]"))
        return cli_config_fail(c, no, st,
                               "an account name is one word, without "
                               "blanks or brackets");
    if (cli_config_has_section(c, name))
        return cli_config_fail(c, no, st, "account '%s' already defined", name);
    *section = name;
    return CLI_EXIT_OK;
}

int cli_config_has_section(const struct cli_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (c->e[i].section && !strcmp(c->e[i].section, name))
            return 1;
    }
    return 0;
}

static int is_param(const char *key)
{
    const char *name;
    size_t i;

    for (i = 0; (name = xmsg_params_name(i)) != NULL; i++) {
        if (!strcmp(name, key))
            return 1;
    }
    return 0;
}

/* Checks one key = value of section against the library's table. */
int cli_config_check(const struct cli_config *c, const char *section,
                     const char *key, const char *value, size_t no,
                     xmsg_status *st)
{
    xmsg_params *scratch;
    xmsg_status *tmp;
    int rc = CLI_EXIT_OK;

    if (cli_config_get(c, section, key))
        return cli_config_fail(c, no, st, "'%s' given twice", key);
    if (!strcmp(key, "default"))
        return section ? cli_config_fail(c, no, st,
                                         "'default' goes before the "
                                         "first [account] section")
                       : CLI_EXIT_OK;
    if (cli_config_is_password_key(key) && cli_config_password(c, section))
        return cli_config_fail(c, no, st,
                               "one password source per section: "
                               "password, passwordFile or passwordCommand");
    if (!*value)
        return cli_config_fail(c, no, st, "'%s' has no value", key);
    if (!strcmp(key, "passwordCommand") || !strcmp(key, "passwordFile"))
        return CLI_EXIT_OK;
    scratch = xmsg_params_new();
    tmp = xmsg_status_new();
    if (!scratch || !tmp)
        rc = cli_oom();
    else if (!is_param(key))
        rc = cli_config_fail(c, no, st, "unknown key '%s'", key);
    else if (xmsg_params_set_text(scratch, key, value, tmp) == XMSG_ERR_INPUT)
        rc = cli_config_fail(c, no, st, "%s", xmsg_status_text(tmp));
    else if (xmsg_status_code(tmp) != XMSG_OK)
        rc = cli_oom();
    xmsg_params_free(scratch);
    xmsg_status_free(tmp);
    return rc;
}

static int parse_line(struct cli_config *c, char *line, size_t no,
                      char **section, xmsg_status *st)
{
    char *eq, *key, *value;
    int rc;

    line = trim(line);
    if (!*line || *line == '#' || *line == ';')
        return CLI_EXIT_OK;
    if (*line == '[')
        return parse_section(c, line, no, section, st);
    eq = strchr(line, '=');
    if (!eq)
        return cli_config_fail(c, no, st, "expected key = value");
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    rc = cli_config_check(c, *section, key, value, no, st);
    if (rc == CLI_EXIT_OK && cli_config_add(c, *section, key, value, no))
        rc = cli_oom();
    return rc;
}

/* The account sections are noted with an empty entry, so that an empty
 * section exists. */
static int parse_text(struct cli_config *c, char *text, xmsg_status *st)
{
    char *line = text, *nl, *section = NULL, *prev = NULL;
    size_t no = 0;
    int rc = CLI_EXIT_OK;

    while (rc == CLI_EXIT_OK && line && *line) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        no++;
        rc = parse_line(c, line, no, &section, st);
        if (rc == CLI_EXIT_OK && section != prev &&
            cli_config_add(c, section, "", "", no))
            rc = cli_oom();
        prev = section;
        line = nl ? nl + 1 : NULL;
    }
    return rc;
}

/* ---- which file ---- */

static int exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

/* rel under $XDG_CONFIG_HOME (when absolute), else ~/.config. Owned,
 * or NULL (no home, or out of memory). */
char *cli_config_home_path(const char *rel)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    const int use_xdg = xdg && xdg[0] == '/';
    const char *base = use_xdg ? xdg : home;
    char *path;
    size_t n;

    if (!base || !*base)
        return NULL;
    n = strlen(base) + strlen(rel) + sizeof("/.config/");
    path = malloc(n);
    if (path && use_xdg)
        snprintf(path, n, "%s/%s", base, rel);
    else if (path)
        snprintf(path, n, "%s/.config/%s", base, rel);
    return path;
}

/* The xmsg config to read: owned path, or NULL (none, or no memory:
 * *oom). $XMSG_CONFIG must exist when it is set. */
static char *find_file(int *oom)
{
    const char *env = getenv("XMSG_CONFIG");
    char *path;

    *oom = 0;
    if (env && *env) {
        path = strdup(env);
        *oom = !path;
        return path;
    }
    path = cli_config_home_path("xmsg/config");
    if (path && exists(path))
        return path;
    free(path);
    if (!exists(SYSTEM_CONFIG))
        return NULL;
    path = strdup(SYSTEM_CONFIG);
    *oom = !path;
    return path;
}

/* Warns, once, when a file holding a password may be read by others. */
void cli_config_check_mode(const struct cli_config *c)
{
    struct stat sb;
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (!strcmp(c->e[i].key, "password"))
            break;
    }
    if (i == c->n || stat(c->path, &sb) != 0 || !(sb.st_mode & 077))
        return;
    cli_err("warning: %s holds a password and is readable by group or "
            "others (chmod 600 it)",
            c->path);
}

/* ---- the account ---- */

int cli_config_choose(struct cli_config *c, const char *wanted, xmsg_status *st)
{
    const struct cli_cfg_entry *def = cli_config_get(c, NULL, "default");
    const char *name = wanted ? wanted : def ? def->value : NULL;

    if (!name)
        return CLI_EXIT_OK;
    if (!cli_config_has_section(c, name)) {
        if (wanted)
            return cli_config_fail(c, 0, st, "no account '%s'", name);
        return cli_config_fail(c, def->line, st,
                               "default names no account: '%s'", name);
    }
    c->account = strdup(name);
    c->explicit_account = wanted != NULL;
    return c->account ? CLI_EXIT_OK : cli_oom();
}

int cli_config_load(const char *account, struct cli_config *c, xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    int oom, rc;

    memset(c, 0, sizeof(*c));
    c->path = find_file(&oom);
    if (oom)
        return cli_oom();
    if (!c->path)
        return cli_config_load_peer(account, c, st);
    c->format = "xmsg";
    rc = cli_read_file(c->path, &b);
    if (rc != CLI_EXIT_OK)
        return cli_config_fail(c, 0, st, "cannot read the config file");
    rc = parse_text(c, b.data, st);
    cli_buf_wipe(&b);
    return cli_config_loaded(c, account, rc, st);
}

int cli_config_loaded(struct cli_config *c, const char *account, int rc,
                      xmsg_status *st)
{
    if (rc == CLI_EXIT_OK)
        rc = cli_config_choose(c, account, st);
    if (rc == CLI_EXIT_OK)
        cli_config_check_mode(c);
    return rc;
}
