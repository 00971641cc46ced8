/* diag.c - diagnostics on stderr, all prefixed "xmsg: ". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_err(const char *fmt, ...)
{
    va_list ap;

    fputs("xmsg: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_hint(void)
{
    fputs("Try 'xmsg --help' for more information.\n", stderr);
    return CLI_EXIT_INPUT;
}

int cli_oom(void)
{
    cli_err("out of memory");
    return CLI_EXIT_INTERNAL;
}

/* A copy of s with control characters replaced by '?', so that text from
 * a server cannot move the cursor or recolour the terminal. Owned. */
static char *printable_copy(const char *s)
{
    size_t i, len = strlen(s);
    char *out = malloc(len + 1);

    if (!out)
        return NULL;
    for (i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[len] = '\0';
    return out;
}

void cli_err_status(const xmsg_status *st)
{
    const xmsg_err code = xmsg_status_code(st);
    const char *text = xmsg_status_text(st);
    char *clean;

    if (code == XMSG_OK)
        return;
    if (!text)
        text = xmsg_strerror(code);
    clean = printable_copy(text);
    cli_err("%s: %s", xmsg_err_name(code), clean ? clean : xmsg_strerror(code));
    free(clean);
}
