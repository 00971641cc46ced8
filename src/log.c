/* log.c - log levels and the status log: every line filtered by level and
 * redacted before it is kept. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "session.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

const char *xmsg_log_level_name(xmsg_log_level lvl)
{
    if ((unsigned)lvl > XMSG_LOG_ERROR)
        return "?";
    return level_names[lvl];
}

int xmsg_log_level_parse(const char *s, xmsg_log_level *out)
{
    size_t i;

    if (!s)
        return -1;
    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, level_names[i]) == 0 ||
            (s[0] == (char)('0' + i) && s[1] == '\0')) {
            *out = (xmsg_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* A log line is at most XMSG_LOG_LINE_MAX bytes: the log's memory stays
 * bounded (a batch's data lines hold many messages). Cut on a character
 * boundary, with the length it had. */
static void shorten(char *s)
{
    size_t len = strlen(s), cut = XMSG_LOG_LINE_MAX - 48;

    if (len <= XMSG_LOG_LINE_MAX)
        return;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    snprintf(s + cut, len - cut + 1, " ... (%zu bytes in all)", len);
}

void xmsg_conn_logv(xmsg_conn *c, xmsg_log_level lvl, const char *area,
                    const char *msg)
{
    const char *secrets[2];
    char *clean, *line;
    size_t n;

    if (lvl < c->params->log_level)
        return;
    secrets[0] = c->params->password;
    secrets[1] = c->params->room_password;
    clean = xmsg_redact(msg, secrets, 2);
    if (!clean)
        return;
    xmsg_utf8_sanitize(clean);
    shorten(clean);
    n = strlen(clean) + strlen(area) + 16;
    line = malloc(n);
    if (line) {
        snprintf(line, n, "%s %s: %s", xmsg_log_level_name(lvl), area, clean);
        xmsg_status_log_owned(c->st, line);
    }
    free(clean);
}

void xmsg_conn_log(xmsg_conn *c, xmsg_log_level lvl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (lvl < c->params->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    xmsg_conn_logv(c, lvl, "xmsg", buf);
}
