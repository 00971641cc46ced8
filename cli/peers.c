/* peers.c - migration: with no xmsg config, the account of go-sendxmpp's
 * config ($XDG_CONFIG_HOME/go-sendxmpp/config, else
 * ~/.config/go-sendxmpp/config), else of ~/.sendxmpprc, becomes the
 * defaults. The field mapping is in xmsg-config(5):
 *
 *   username: JID           jid (sendxmpp: a bare user name is
 *                           user@jserver, or user@component)
 *   jserver: HOST           host (sendxmpp, user name alone: the domain)
 *   port: N                 port (0: the default)
 *   password: P             password
 *   eval_password: CMD      passwordCommand, run as sh -c CMD (as
 *                           go-sendxmpp does)
 *   alias: NICK             nick
 *   user@server[;host][:port] password    sendxmpp's one-line format
 *
 * Else xmppc's ~/.config/xmppc.conf: each [NAME] section an account
 * (jid=, pwd= its password), [default] the default one.
 *
 * Other keys are ignored with a warning naming file and line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* What a peer's file said, before it becomes entries. */
struct peer {
    char *user, *server, *port, *password, *eval, *alias, *component;
    size_t line; /* of the first field, for errors */
};

static void peer_free(struct peer *p)
{
    char **const f[] = {&p->user, &p->server, &p->port,     &p->password,
                        &p->eval, &p->alias,  &p->component};
    size_t i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (*f[i])
            cli_wipe(*f[i], strlen(*f[i]));
        free(*f[i]);
        *f[i] = NULL;
    }
}

static int set_field(char **slot, const char *value)
{
    char *copy = strdup(value);

    if (!copy)
        return -1;
    if (*slot)
        cli_wipe(*slot, strlen(*slot));
    free(*slot);
    *slot = copy;
    return 0;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* "key: value". Returns 1 when the line is one, 0 when not, -1 OOM. */
static int key_line(const struct cli_config *c, struct peer *p, char *line,
                    size_t no)
{
    static const char *const keys[] = {"username", "jserver",       "port",
                                       "password", "eval_password", "alias",
                                       "component"};
    char **const slots[] = {&p->user, &p->server, &p->port,     &p->password,
                            &p->eval, &p->alias,  &p->component};
    char *colon = strchr(line, ':');
    size_t i, klen = colon ? (size_t)(colon - line) : 0;

    if (!colon || klen == 0 ||
        strspn(line, "abcdefghijklmnopqrstuvwxyz_") < klen)
        return 0;
    *colon = '\0';
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!strcmp(line, keys[i]))
            return set_field(slots[i], trim(colon + 1)) ? -1 : 1;
    }
    cli_err("warning: %s:%zu: '%s' has no meaning for xmsg: ignored", c->path,
            no, line);
    return 1;
}

/* sendxmpp's "user@server[;host][:port] password". 1, 0 or -1 (OOM). */
static int one_line(struct peer *p, char *line)
{
    char *pass = line + strcspn(line, " \t"), *semi, *colon;

    if (!*pass || !strchr(line, '@'))
        return 0;
    *pass++ = '\0';
    pass = trim(pass);
    pass[strcspn(pass, " \t")] = '\0'; /* a component name is not used */
    if (!*pass)
        return 0;
    colon = strrchr(line, ':');
    if (colon && colon[1] &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        *colon = '\0';
        if (set_field(&p->port, colon + 1))
            return -1;
    }
    semi = strchr(line, ';');
    if (semi) {
        *semi = '\0';
        if (set_field(&p->server, semi + 1))
            return -1;
    }
    return set_field(&p->user, line) || set_field(&p->password, pass) ? -1 : 1;
}

static int parse_peer(const struct cli_config *c, char *text, struct peer *p,
                      xmsg_status *st)
{
    char *line = text, *nl, *t;
    size_t no = 0;
    int r;

    for (; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        no++;
        t = trim(line);
        if (!*t || *t == '#')
            continue;
        if (!p->line)
            p->line = no;
        r = key_line(c, p, t, no);
        if (r == 0 && !strcmp(c->format, "sendxmpp"))
            r = one_line(p, t);
        if (r < 0)
            return cli_oom();
        if (r == 0)
            return cli_config_fail(c, no, st, "not a line of %s's format",
                                   c->format);
    }
    return CLI_EXIT_OK;
}

/* Adds key = value to section (NULL: the defaults), checked as an xmsg
 * entry. */
static int put_in(struct cli_config *c, const char *section, const char *key,
                  const char *value, size_t line, xmsg_status *st)
{
    int rc;

    if (!value || !*value)
        return CLI_EXIT_OK;
    rc = cli_config_check(c, section, key, value, line, st);
    if (rc == CLI_EXIT_OK && cli_config_add(c, section, key, value, line))
        rc = cli_oom();
    return rc;
}

static int put(struct cli_config *c, const char *key, const char *value,
               size_t line, xmsg_status *st)
{
    return put_in(c, NULL, key, value, line, st);
}

/* The JID: username as it is when it has a domain; sendxmpp's bare user
 * name is at the component, else at jserver (then no host is set). */
static int put_account(struct cli_config *c, struct peer *p, xmsg_status *st)
{
    const char *domain = p->component ? p->component : p->server;
    char *jid = NULL;
    int rc;

    if (p->user && !strchr(p->user, '@') && domain) {
        jid = cli_join(p->user, "@", domain);
        if (!jid)
            return cli_oom();
        if (!p->component) {
            free(p->server);
            p->server = NULL;
        }
    }
    rc = put(c, "jid", jid ? jid : p->user, p->line, st);
    free(jid);
    if (rc == CLI_EXIT_OK)
        rc = put(c, "host", p->server, p->line, st);
    if (rc == CLI_EXIT_OK && p->port && strcmp(p->port, "0"))
        rc = put(c, "port", p->port, p->line, st);
    if (rc == CLI_EXIT_OK)
        rc = put(c, "nick", p->alias, p->line, st);
    if (rc == CLI_EXIT_OK && p->eval && p->password)
        rc = cli_config_fail(c, 0, st, "both password and eval_password");
    if (rc == CLI_EXIT_OK)
        rc = put(c, "password", p->password, p->line, st);
    if (rc == CLI_EXIT_OK && p->eval) {
        rc = put(c, "passwordCommand", p->eval, p->line, st);
        if (rc == CLI_EXIT_OK)
            c->e[c->n - 1].shell = 1;
    }
    return rc;
}

static int read_peer(struct cli_config *c, xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    struct peer p;
    int rc;

    memset(&p, 0, sizeof(p));
    rc = cli_read_file(c->path, &b);
    if (rc != CLI_EXIT_OK)
        return cli_config_fail(c, 0, st, "cannot read the config file");
    cli_err("no xmsg config: using %s's %s (see xmsg-config(5))", c->format,
            c->path);
    rc = parse_peer(c, b.data, &p, st);
    cli_buf_wipe(&b);
    if (rc == CLI_EXIT_OK)
        rc = put_account(c, &p, st);
    peer_free(&p);
    if (rc == CLI_EXIT_OK)
        cli_config_check_mode(c);
    return rc;
}

/* ~/.sendxmpprc, owned, or NULL. */
static char *sendxmpprc(void)
{
    const char *home = getenv("HOME");

    return home && *home ? cli_join(home, "/", ".sendxmpprc") : NULL;
}

static int exists(const char *path)
{
    struct stat sb;

    return path && stat(path, &sb) == 0;
}

/* One line of xmppc.conf: "[NAME]" (*section, borrowed from line), or
 * jid= / pwd= of the section. */
static int xmppc_line(struct cli_config *c, char *line, size_t no,
                      char **section, xmsg_status *st)
{
    char *eq = strchr(line, '='), *end = strchr(line, ']');

    if (*line == '[' && end && end[1] == '\0' && end > line + 1) {
        *end = '\0';
        *section = line + 1;
        if (cli_config_has_section(c, *section))
            return cli_config_fail(c, no, st, "account '%s' twice", *section);
        return cli_config_add(c, *section, "", "", no) ? cli_oom()
                                                       : CLI_EXIT_OK;
    }
    if (!eq || !*section)
        return cli_config_fail(c, no, st, "not a line of xmppc's format");
    *eq = '\0';
    if (!strcmp(trim(line), "jid"))
        return put_in(c, *section, "jid", trim(eq + 1), no, st);
    if (!strcmp(trim(line), "pwd"))
        return put_in(c, *section, "password", trim(eq + 1), no, st);
    cli_err("warning: %s:%zu: '%s' has no meaning for xmsg: ignored", c->path,
            no, trim(line));
    return CLI_EXIT_OK;
}

/* xmppc's accounts; [default] is the default one. */
static int read_xmppc(struct cli_config *c, const char *account,
                      xmsg_status *st)
{
    struct cli_buf b = {NULL, 0};
    char *line, *nl, *t, *section = NULL;
    size_t no = 0;
    int rc = cli_read_file(c->path, &b);

    if (rc != CLI_EXIT_OK)
        return cli_config_fail(c, 0, st, "cannot read the config file");
    cli_err("no xmsg config: using xmppc's %s (see xmsg-config(5))", c->path);
    for (line = b.data; rc == CLI_EXIT_OK && line && *line;
         line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        no++;
        t = trim(line);
        if (*t && *t != '#' && *t != ';')
            rc = xmppc_line(c, t, no, &section, st);
    }
    if (rc == CLI_EXIT_OK && cli_config_has_section(c, "default") &&
        cli_config_add(c, NULL, "default", "default", 0))
        rc = cli_oom();
    cli_buf_wipe(&b);
    return cli_config_loaded(c, account, rc, st);
}

int cli_config_load_peer(const char *account, struct cli_config *c,
                         xmsg_status *st)
{
    char *go = cli_config_home_path("go-sendxmpp/config");
    char *rc_path = exists(go) ? NULL : sendxmpprc();
    char *xmppc;

    if (!exists(go) && !exists(rc_path)) {
        free(go);
        free(rc_path);
        xmppc = cli_config_home_path("xmppc.conf");
        if (!exists(xmppc)) {
            free(xmppc);
            xmppc = NULL;
        }
        c->path = xmppc;
        c->format = "xmppc";
        if (xmppc)
            return read_xmppc(c, account, st);
        if (account)
            return cli_config_fail(c, 0, st,
                                   "-a %s: accounts are sections of an xmsg "
                                   "config file, and there is none",
                                   account);
        return CLI_EXIT_OK;
    }

    if (exists(go)) {
        c->path = go;
        c->format = "go-sendxmpp";
    } else {
        free(go);
        c->path = exists(rc_path) ? rc_path : NULL;
        c->format = "sendxmpp";
        if (!c->path)
            free(rc_path);
    }
    if (account)
        return cli_config_fail(c, 0, st,
                               "-a %s: accounts are sections of an xmsg "
                               "config file, and there is none",
                               account);
    return c->path ? read_peer(c, st) : CLI_EXIT_OK;
}
