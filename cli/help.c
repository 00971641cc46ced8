/* help.c - --help and --version texts, on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define HELP_COLUMN 26

static const char main_help[] =
    "Usage: xmsg send [--params FILE] [--message FILE] [OPTIONS]\n"
    "       xmsg send --batch [--message ARRAY.json] [OPTIONS]\n"
    "       xmsg connect [--params FILE] [OPTIONS]\n"
    "       xmsg listen [--params FILE] [OPTIONS]\n"
    "       xmsg request [--params FILE] [--message FILE] [OPTIONS]\n"
    "       xmsg config [-a NAME] [OPTIONS]\n"
    "       xmsg --help | --version\n"
    "\n"
    "Drop a message into XMPP, pick messages up later.\n"
    "\n"
    "Commands:\n"
    "  send      log in, send one message (or a batch, or one raw\n"
    "            stanza), wait until the server has it\n"
    "  connect   log in, collect the messages stored for the account\n"
    "  listen    log in, print every stanza that arrives, as it comes\n"
    "  request   send a message or iq, print the reply\n"
    "  config    print the effective configuration and where each value\n"
    "            comes from (secrets hidden)\n"
    "\n"
    "Defaults and accounts come from the config file (see xmsg-config(5)):\n"
    "$XDG_CONFIG_HOME/xmsg/config, else ~/.config/xmsg/config, else\n"
    "/etc/xmsg/config. Precedence: options > --params file > account >\n"
    "the config's defaults.\n"
    "\n"
    "Each command prints its status as one JSON line on standard output.\n"
    "Run 'xmsg COMMAND --help' for the options of a command.\n"
    "\n"
    "Environment:\n"
    "  XMSG_PASSWORD   the account's password; --password-file wins over\n"
    "                  it, and it wins over the params file and the config\n"
    "  XMSG_CONFIG     the config file to read instead of the usual ones\n"
    "\n"
    "Exit status:\n";

static const char send_intro[] =
    "Usage: xmsg send [--params FILE] [--message FILE] [OPTIONS]\n"
    "\n"
    "Log in, send one message, and wait until the server confirms it has\n"
    "it. The body comes from --body, else the message file, else all of\n"
    "standard input. Options override the files.\n";

static const char connect_intro[] =
    "Usage: xmsg connect [--params FILE] [OPTIONS]\n"
    "\n"
    "Log in and collect the messages the server stored for the account.\n"
    "Each message is printed as one JSON line as it comes, the status\n"
    "last. With the server's message archive the collection is lossless\n"
    "and exactly once: a checkpoint file records what was printed.\n"
    "A message's file (its url) is fetched first with --download DIR.\n"
    "Options override the params file.\n";

static const char listen_intro[] =
    "Usage: xmsg listen [--params FILE] [OPTIONS]\n"
    "\n"
    "Log in, send presence, and print every message (--type: presence,\n"
    "iq or all stanzas) that arrives as one JSON line, until --count of\n"
    "them, --until-idle seconds without one, --duration seconds, or\n"
    "SIGINT/SIGTERM (exit 0). The status line comes last. --timeout is\n"
    "the server's time (login, ping answers), not the listening's.\n"
    "Shares the account's checkpoint with connect: a message one of them\n"
    "handed over, the other does not print again. A message's file (its\n"
    "url) is fetched before it is printed with --download DIR.\n";

static const char request_intro[] =
    "Usage: xmsg request [--params FILE] [--message FILE] [OPTIONS]\n"
    "\n"
    "Log in, send a message or an iq, wait for the reply (the iq's result,\n"
    "or a message from the recipient in the same thread) within --timeout,\n"
    "print it as one JSON line, then the status line. Exit 6 without reply.\n";

static const char config_intro[] =
    "Usage: xmsg config [-a NAME] [--params FILE] [OPTIONS]\n"
    "\n"
    "Print the params a command given the same options would use, one\n"
    "'key = value  # source' line each, in the config file's syntax:\n"
    "secrets are shown as (secret), a passwordCommand is not run.\n";

static const char command_outro[] =
    "\n"
    "--timeout S is the server's time, one rule for every command: give\n"
    "up (exit 6) when the server has not delivered what it owes (the\n"
    "login, then a confirmation, an archive page, a reply, a ping's\n"
    "answer) within S seconds of the start or of its last delivery. Time\n"
    "it does not owe (input, a slow reader, listening) never counts.\n"
    "The password comes from --password-file, else XMSG_PASSWORD, else\n"
    "the params file, else the config file (password, passwordFile or\n"
    "passwordCommand). See 'xmsg --help' for the exit status.\n";

int cli_version(void)
{
    printf("xmsg %s\n", xmsg_version());
    return cli_flush_stdout();
}

int cli_help_main(void)
{
    fputs(main_help, stdout);
    cli_exit_table_print(stdout);
    fputs("\nSee xmsg(1) for the params and message files.\n", stdout);
    return cli_flush_stdout();
}

/* "  -j, --jid JID" or "      --insecure", padded to the help column. */
static void print_optdef(const struct cli_optdef *d)
{
    char left[64];
    const char *sep = d->has_arg == required_argument ? " " : "";

    if (d->val < 256)
        snprintf(left, sizeof(left), "-%c, --%s%s%s", d->val, d->name, sep,
                 d->argname ? d->argname : "");
    else
        snprintf(left, sizeof(left), "    --%s%s%s", d->name, sep,
                 d->argname ? d->argname : "");
    if (strlen(left) < HELP_COLUMN)
        printf("  %-*s %s\n", HELP_COLUMN, left, d->help);
    else
        printf("  %s\n  %-*s %s\n", left, HELP_COLUMN, "", d->help);
}

/* The options of cmd whose command set is exactly cmds. */
/* The options of cmd that every command has (common 1) or the others. */
static void print_optdefs(enum cli_cmd cmd, int common)
{
    size_t i;

    for (i = 0; i < cli_optdef_count; i++) {
        const struct cli_optdef *d = &cli_optdefs[i];

        if ((d->cmds & CLI_CMD_BIT(cmd)) && (d->cmds == CLI_CMDS_ALL) == common)
            print_optdef(d);
    }
}

int cli_help_command(enum cli_cmd cmd)
{
    static const char *const intros[] = {NULL,          send_intro,
                                         connect_intro, listen_intro,
                                         request_intro, config_intro};
    static const char *const own[] = {NULL,
                                      "\nMessage options:\n",
                                      "\nCollection options:\n",
                                      "\nListening options:\n",
                                      "\nMessage options:\n",
                                      ""};

#ifdef XMSG_HAVE_OMEMO
    if (cmd == CLI_CMD_OMEMO)
        return cli_omemo_help();
#endif
    fputs(intros[cmd], stdout);
    fputs("\nOptions:\n", stdout);
    print_optdefs(cmd, 1);
    fputs(own[cmd], stdout);
    print_optdefs(cmd, 0);
    fputs(command_outro, stdout);
    return cli_flush_stdout();
}
