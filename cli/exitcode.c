/* exitcode.c - the one mapping of xmsg_err codes to exit codes.
 *
 * The rows are in exit-code order; --help prints them as they stand, so
 * the table and its documentation cannot drift apart.
 */
#include <stddef.h>

#include "cli.h"

struct exit_row {
    xmsg_err code;
    int exit;
    const char *what;
};

static const struct exit_row exit_rows[] = {
    {XMSG_OK, CLI_EXIT_OK, "success"},
    {XMSG_ERR_INTERNAL, CLI_EXIT_INTERNAL,
     "internal error (out of memory, cannot write output)"},
    {XMSG_ERR_INPUT, CLI_EXIT_INPUT, "usage error or bad input"},
    {XMSG_ERR_CONNECT, CLI_EXIT_CONNECT, "connection failed or lost"},
    {XMSG_ERR_TLS, CLI_EXIT_TLS, "TLS failed or unavailable"},
    {XMSG_ERR_AUTH, CLI_EXIT_AUTH, "authentication refused"},
    {XMSG_ERR_TIMEOUT, CLI_EXIT_TIMEOUT, "timed out"},
    {XMSG_ERR_UNCONFIRMED, CLI_EXIT_UNCONFIRMED,
     "sent, but the server did not confirm it"},
    {XMSG_ERR_PROTOCOL, CLI_EXIT_PROTOCOL, "protocol or server error"},
    {XMSG_ERR_CANCELLED, CLI_EXIT_CANCELLED,
     "cancelled: the caller asked to stop"},
};

#define EXIT_ROW_COUNT (sizeof(exit_rows) / sizeof(exit_rows[0]))

int cli_exit_code(xmsg_err code)
{
    size_t i;

    for (i = 0; i < EXIT_ROW_COUNT; i++) {
        if (exit_rows[i].code == code)
            return exit_rows[i].exit;
    }
    return CLI_EXIT_INTERNAL;
}

void cli_exit_table_print(FILE *f)
{
    size_t i;

    for (i = 0; i < EXIT_ROW_COUNT; i++)
        fprintf(f, "  %d  %s\n", exit_rows[i].exit, exit_rows[i].what);
}
