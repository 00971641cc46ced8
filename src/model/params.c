/* params.c - the params object: defaults, the one name -> field table,
 * JSON mapping and checks. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "model/internal.h"
#include "model/pin.h"

enum ptype { P_STR, P_INT, P_BOOL, P_LEVEL };

struct pdesc {
    const char *name;
    enum ptype type;
    size_t off;
    long min, max;
};

#define F(field) offsetof(struct xmsg_params, field)
static const struct pdesc table[] = {
    {"jid", P_STR, F(jid), 0, 0},
    {"password", P_STR, F(password), 0, 0},
    {"host", P_STR, F(host), 0, 0},
    {"caFile", P_STR, F(ca_file), 0, 0},
    {"stateFile", P_STR, F(state_file), 0, 0},
    {"pin", P_STR, F(pin), 0, 0},
    {"room", P_STR, F(room), 0, 0},
    {"nick", P_STR, F(nick), 0, 0},
    {"roomPassword", P_STR, F(room_password), 0, 0},
    {"pageSize", P_INT, F(page_size), 1, 1000},
    {"window", P_INT, F(window), 1, 10000},
    {"mam", P_BOOL, F(mam), 0, 1},
    {"reconnect", P_BOOL, F(reconnect), 0, 1},
    {"checkpoint", P_BOOL, F(checkpoint), 0, 1},
    {"port", P_INT, F(port), 1, 65535},
    {"timeout", P_INT, F(timeout), 1, 86400},
    {"keepAliveTimeout", P_INT, F(keepalive_timeout), 1, 86400},
    {"keepAliveInterval", P_INT, F(keepalive_interval), 1, 86400},
    {"logLevel", P_LEVEL, F(log_level), 0, 3},
    {"keepAlive", P_BOOL, F(keepalive), 0, 1},
    {"disableTLS", P_BOOL, F(disable_tls), 0, 1},
    {"mandatoryTLS", P_BOOL, F(mandatory_tls), 0, 1},
    {"legacyTLS", P_BOOL, F(legacy_tls), 0, 1},
    {"trustTLS", P_BOOL, F(trust_tls), 0, 1},
    {"enableLegacyAuth", P_BOOL, F(legacy_auth), 0, 1},
    {"saslMechanisms", P_STR, F(sasl_mechanisms), 0, 0},
    {"saslKeyCache", P_BOOL, F(sasl_key_cache), 0, 1},
    {"downloadDir", P_STR, F(download_dir), 0, 0},
    {"downloadMax", P_INT, F(download_max), 1, 1L << 40},
    {"omemo", P_BOOL, F(omemo), 0, 1},
};
#undef F

static const struct pdesc *lookup(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    }
    return NULL;
}

xmsg_params *xmsg_params_new(void)
{
    xmsg_params *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->port = 5222;
    p->timeout = 20;
    p->keepalive_timeout = 60;
    p->keepalive_interval = 1;
    p->log_level = XMSG_LOG_DEBUG;
    p->mandatory_tls = 1;
    p->page_size = 100;
    p->window = 64;
    p->mam = 1;
    p->sasl_key_cache = 1;
    p->download_max = 100L << 20;
    return p;
}

/* A string field copied; 0 ok. */
static int dup_field(char **dst, const char *src)
{
    *dst = xmsg_strdup(src);
    return src && !*dst ? -1 : 0;
}

xmsg_params *xmsg_params_dup(const xmsg_params *p)
{
    xmsg_params *d = malloc(sizeof(*d));

    if (!d)
        return NULL;
    *d = *p;
    d->jid = d->password = d->host = d->ca_file = NULL;
    d->state_file = d->pin = NULL;
    d->room = d->nick = d->room_password = d->sasl_mechanisms = NULL;
    d->download_dir = NULL;
    if (dup_field(&d->jid, p->jid) || dup_field(&d->password, p->password) ||
        dup_field(&d->host, p->host) || dup_field(&d->ca_file, p->ca_file) ||
        dup_field(&d->state_file, p->state_file) ||
        dup_field(&d->pin, p->pin) || dup_field(&d->room, p->room) ||
        dup_field(&d->nick, p->nick) ||
        dup_field(&d->room_password, p->room_password) ||
        dup_field(&d->sasl_mechanisms, p->sasl_mechanisms) ||
        dup_field(&d->download_dir, p->download_dir)) {
        xmsg_params_free(d);
        return NULL;
    }
    return d;
}

void xmsg_params_set_progress(xmsg_params *p, xmsg_progress_cb cb,
                              void *userdata)
{
    if (!p)
        return;
    p->progress = cb;
    p->progress_ud = cb ? userdata : NULL;
}

void xmsg_params_free(xmsg_params *p)
{
    if (!p)
        return;
    free(p->jid);
    xmsg_free_secret(p->password);
    xmsg_free_secret(p->room_password);
    free(p->room);
    free(p->nick);
    free(p->host);
    free(p->ca_file);
    free(p->state_file);
    free(p->pin);
    free(p->sasl_mechanisms);
    free(p->download_dir);
    free(p);
}

static xmsg_err bad(xmsg_status *st, const char *name, const char *why)
{
    return xmsg_status_fail(st, XMSG_ERR_INPUT, "params.%s: %s",
                            name ? name : "(null)", why);
}

static const struct pdesc *find(const char *name, xmsg_status *st)
{
    const struct pdesc *d = lookup(name);

    if (!d)
        bad(st, name, "unknown param");
    return d;
}

static xmsg_err set_level(xmsg_params *p, const char *value, xmsg_status *st)
{
    xmsg_log_level lvl;

    if (!value || xmsg_log_level_parse(value, &lvl))
        return bad(st, "logLevel", "must be debug, info, warn, error or 0-3");
    p->log_level = lvl;
    return XMSG_OK;
}

static int parse_bool(const char *text, int *out);

/* params omemo as text: "optional" (2), or a boolean's text. */
static xmsg_err set_omemo(xmsg_params *p, const char *value, xmsg_status *st)
{
    int b;

    if (value && strcmp(value, "optional") == 0)
        p->omemo = 2;
    else if (value && parse_bool(value, &b) == 0)
        p->omemo = b;
    else
        return bad(st, "omemo", "must be true, false or \"optional\"");
    return XMSG_OK;
}

xmsg_err xmsg_params_set_string(xmsg_params *p, const char *name,
                                const char *value, xmsg_status *st)
{
    const struct pdesc *d = find(name, st);
    char **slot, *copy;

    if (!d || !p)
        return d ? bad(st, name, "no params") : XMSG_ERR_INPUT;
    if (d->type == P_LEVEL)
        return set_level(p, value, st);
    if (strcmp(d->name, "omemo") == 0)
        return set_omemo(p, value, st);
    if (d->type != P_STR)
        return bad(st, name, "must not be a string");
    if (value && !xmsg_text_valid(value, strlen(value)))
        return bad(st, name, "invalid UTF-8 or forbidden control character");
    copy = xmsg_strdup(value);
    if (value && !copy)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
    slot = (char **)((char *)p + d->off);
    if (slot == &p->password || slot == &p->room_password)
        xmsg_free_secret(*slot);
    else
        free(*slot);
    *slot = copy;
    return XMSG_OK;
}

xmsg_err xmsg_params_set_int(xmsg_params *p, const char *name, long value,
                             xmsg_status *st)
{
    const struct pdesc *d = find(name, st);

    if (!d || !p)
        return d ? bad(st, name, "no params") : XMSG_ERR_INPUT;
    if (d->type != P_INT && d->type != P_LEVEL)
        return bad(st, name, "must not be a number");
    if (value < d->min || value > d->max)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "params.%s: must be from %ld to %ld", name,
                                d->min, d->max);
    if (d->type == P_LEVEL)
        p->log_level = (xmsg_log_level)value;
    else
        *(long *)((char *)p + d->off) = value;
    return XMSG_OK;
}

xmsg_err xmsg_params_set_bool(xmsg_params *p, const char *name, int value,
                              xmsg_status *st)
{
    const struct pdesc *d = find(name, st);

    if (!d || !p)
        return d ? bad(st, name, "no params") : XMSG_ERR_INPUT;
    if (d->type != P_BOOL)
        return bad(st, name, "must not be a boolean");
    *(int *)((char *)p + d->off) = value != 0;
    return XMSG_OK;
}

static xmsg_err set_json_int(xmsg_params *p, const struct pdesc *d,
                             json_int_t n, xmsg_status *st)
{
    if (d->type != P_INT && d->type != P_LEVEL)
        return bad(st, d->name, "must not be a number");
    if (n < d->min || n > d->max)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "params.%s: must be from %ld to %ld", d->name,
                                d->min, d->max);
    return xmsg_params_set_int(p, d->name, (long)n, st);
}

static xmsg_err set_from_json(xmsg_params *p, const char *key, json_t *v,
                              xmsg_status *st)
{
    const struct pdesc *d = find(key, st);

    if (!d)
        return XMSG_ERR_INPUT;
    if (json_is_string(v))
        return xmsg_params_set_string(p, key, json_string_value(v), st);
    if (json_is_integer(v))
        return set_json_int(p, d, json_integer_value(v), st);
    if (json_is_boolean(v))
        return xmsg_params_set_bool(p, key, json_is_true(v), st);
    return bad(st, key, "has the wrong JSON type");
}

xmsg_err xmsg_params_from_json(xmsg_params *p, const char *json,
                               xmsg_status *st)
{
    json_t *root, *v;
    const char *key;
    xmsg_err rc = XMSG_OK;

    root = xmsg_json_parse_object(json, "params", st);
    if (!root)
        return XMSG_ERR_INPUT;
    json_object_foreach(root, key, v)
    {
        rc = set_from_json(p, key, v, st);
        if (rc)
            break;
    }
    json_decref(root);
    return rc;
}

xmsg_err xmsg_params_check(const xmsg_params *p, xmsg_status *st)
{
    if (!p)
        return bad(st, "jid", "no params");
    if (!p->jid || !*p->jid)
        return bad(st, "jid", "is required");
    if (!xmsg_jid_is_account(p->jid))
        return bad(st, "jid", "is not a valid JID of an account (user@domain)");
    if (!p->password || !*p->password)
        return bad(st, "password", "is required");
    if (p->host && (!*p->host || strlen(p->host) > 253))
        return bad(st, "host", "must be a host name or address");
    if (p->disable_tls && p->legacy_tls)
        return bad(st, "legacyTLS", "contradicts disableTLS");
    if (p->pin && !xmsg_pins_valid(p->pin))
        return bad(st, "pin", "must be sha256//BASE64 entries separated by ;");
    if (p->pin && p->disable_tls)
        return bad(st, "pin", "is useless with disableTLS");
    /* A pin makes TLS mandatory: no login may go out unverified. */
    if (p->pin && !p->mandatory_tls)
        return bad(st, "pin",
                   "makes TLS mandatory: it contradicts mandatoryTLS false "
                   "(--allow-plaintext)");
    if (p->state_file && p->state_file[0] != '/')
        return bad(st, "stateFile", "must be an absolute path");
    if (p->disable_tls && p->ca_file)
        return bad(st, "caFile", "is useless with disableTLS");
    if (p->room && (!xmsg_jid_valid(p->room) || strchr(p->room, '/') ||
                    !strchr(p->room, '@')))
        return bad(st, "room", "must be a room's bare JID, room@service");
    /* A nick alone is a default for rooms (a config file's). */
    if (p->room_password && !p->room)
        return bad(st, "roomPassword", "needs a room");
    if (p->download_dir && !*p->download_dir)
        return bad(st, "downloadDir", "must be a directory");
    if (p->nick && (!*p->nick || strlen(p->nick) > XMSG_JID_PART_MAX))
        return bad(st, "nick", "must be 1 to 1023 bytes");
#ifndef XMSG_HAVE_OMEMO
    if (p->omemo)
        return bad(st, "omemo", "this build has no OMEMO (XMSG_OMEMO=OFF)");
#endif
    return XMSG_OK;
}

const char *xmsg_params_name(size_t i)
{
    return i < sizeof(table) / sizeof(table[0]) ? table[i].name : NULL;
}

/* "true", "yes", "on", "1" -> 1; "false", "no", "off", "0" -> 0. */
static int parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            *out = strcasecmp(text, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

static int parse_whole_long(const char *text, long *out)
{
    char *end;

    if (!*text || strspn(text, "+-0123456789") != strlen(text))
        return -1;
    *out = strtol(text, &end, 10);
    return *end ? -1 : 0;
}

xmsg_err xmsg_params_set_text(xmsg_params *p, const char *name,
                              const char *text, xmsg_status *st)
{
    const struct pdesc *d = find(name, st);
    long n;
    int b;

    if (!d || !text)
        return d ? bad(st, name, "no value") : XMSG_ERR_INPUT;
    if (d->type == P_STR || d->type == P_LEVEL || !strcmp(d->name, "omemo"))
        return xmsg_params_set_string(p, name, text, st);
    if (d->type == P_BOOL) {
        if (parse_bool(text, &b))
            return bad(st, name, "must be true or false");
        return xmsg_params_set_bool(p, name, b, st);
    }
    if (parse_whole_long(text, &n))
        return bad(st, name, "must be a whole number");
    return xmsg_params_set_int(p, name, n, st);
}

char *xmsg_params_get_text(const xmsg_params *p, const char *name)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    const struct pdesc *d = lookup(name);
    const char *at;
    char num[32];

    if (!d || !p)
        return NULL;
    at = (const char *)p + d->off;
    switch (d->type) {
    case P_STR:
        return xmsg_strdup(*(char *const *)at);
    case P_BOOL:
        return xmsg_strdup(*(const int *)at ? "true" : "false");
    case P_LEVEL:
        return xmsg_strdup(levels[p->log_level & 3]);
    case P_INT:
        break;
    }
    snprintf(num, sizeof(num), "%ld", *(const long *)at);
    return xmsg_strdup(num);
}
