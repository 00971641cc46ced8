/* log.c - log levels: names and parsing (the status log is kept by
 * status.c; features log through features/session.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/internal.h"

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
