/* pwcmd.c - passwordCommand: run a program, take the first line of its
 * standard output as the password.
 *
 * No shell: the command is split into words at blanks; '...' keeps its
 * text as it is, "..." too except that \" and \\ stand for " and \, and
 * a backslash outside quotes keeps the next character as it is. The
 * program is looked up in PATH, gets /dev/null as standard input (the
 * message body may be ours to read) and our standard error. All of its
 * output is read (only the first line is kept) within the timeout; then it
 * must exit 0. Any failure is an input error naming the program, never
 * quoting its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PW_MAX 4096 /* longest first line kept */

extern char **environ;

/* ---- splitting ---- */

/* Copies the next word of *s into out (room for strlen(*s) + 1).
 * 1: a word, 0: none left, -1: an unclosed quote. */
static int next_word(const char **s, char *out)
{
    const char *p = *s + strspn(*s, " \t");
    char quote = 0;

    if (!*p)
        return 0;
    for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
        if (!quote && (*p == '\'' || *p == '"'))
            quote = *p;
        else if (quote && *p == quote)
            quote = 0;
        else if (*p == '\\' && quote != '\'' && p[1] &&
                 (!quote || p[1] == '"' || p[1] == '\\'))
            *out++ = *++p;
        else
            *out++ = *p;
    }
    *out = '\0';
    *s = p;
    return quote ? -1 : 1;
}

int cli_split_command(const char *cmd, char ***argv_out)
{
    const size_t len = strlen(cmd) + 1;
    char **argv = calloc(len + 1, sizeof(*argv));
    char *words = malloc(2 * len), *w = words;
    const char *s = cmd;
    size_t n = 0;
    int r;

    *argv_out = NULL;
    if (!argv || !words) {
        free(argv);
        free(words);
        return -1;
    }
    while ((r = next_word(&s, w)) == 1) {
        argv[n++] = w;
        w += strlen(w) + 1;
    }
    if (r < 0 || n == 0) {
        free(argv);
        free(words);
        return r < 0 ? -2 : -3;
    }
    *argv_out = argv;
    return 0;
}

void cli_argv_free(char **argv)
{
    if (!argv)
        return;
    free(argv[0]); /* the block of all the words starts with the first */
    free(argv);
}

/* ---- running ---- */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *prog, xmsg_status *st, const char *why)
{
    char text[512];

    snprintf(text, sizeof(text), "passwordCommand '%s': %s", prog, why);
    xmsg_status_set_error(st, XMSG_ERR_INPUT, text);
    return CLI_EXIT_INPUT;
}

static int spawn(char **argv, int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    int rc;

    if (posix_spawn_file_actions_init(&fa))
        return ENOMEM;
    rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                          O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    if (!rc)
        rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Keeps the first line of what fd gives in b (PW_MAX + 1 bytes) until
 * its end. 0 at the end, -1 when the deadline passed first. */
static int read_first_line(int fd, double deadline, char *b, size_t *len,
                           int *line_done)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    char chunk[512];
    ssize_t n, i;
    double left;

    for (;;) {
        left = deadline - now();
        if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0)
            return -1;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        for (i = 0; i < n && !*line_done; i++) {
            if (chunk[i] == '\n')
                *line_done = 1;
            else if (*len < PW_MAX)
                b[(*len)++] = chunk[i];
        }
        cli_wipe(chunk, sizeof(chunk));
    }
}

/* Waits for pid until the deadline, then kills it. Returns the status,
 * or -1 when it was killed for the deadline. */
static int reap(pid_t pid, double deadline)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    int status;

    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        nanosleep(&tick, NULL);
    }
    return status;
}

static int check_exit(const char *prog, int status, long timeout,
                      xmsg_status *st)
{
    char why[128];

    if (status == -1) {
        snprintf(why, sizeof(why), "gave no password within %ld s: killed",
                 timeout);
        return fail(prog, st, why);
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
        return fail(prog, st, why);
    }
    /* 127: the spawned child could not exec (glibc reports that as an
     * error of posix_spawn, other implementations as this status). */
    if (WEXITSTATUS(status) == 127)
        return fail(prog, st, "cannot run it (exit status 127)");
    if (WEXITSTATUS(status) != 0) {
        snprintf(why, sizeof(why), "exited with status %d",
                 WEXITSTATUS(status));
        return fail(prog, st, why);
    }
    return CLI_EXIT_OK;
}

/* Runs argv; the first line of its output goes to b. Errors name prog. */
static int run(char **argv, const char *prog, long timeout, struct cli_buf *b,
               xmsg_status *st)
{
    const double deadline = now() + (double)timeout;
    int fds[2], line_done = 0, rc, status;
    pid_t pid;

    if (pipe(fds))
        return fail(prog, st, strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    rc = spawn(argv, fds[1], &pid);
    close(fds[1]);
    if (rc) {
        close(fds[0]);
        return fail(prog, st,
                    rc == ENOENT ? "cannot run it: not found"
                                 : "cannot run it");
    }
    rc = read_first_line(fds[0], deadline, b->data, &b->len, &line_done);
    close(fds[0]);
    status = reap(pid, rc ? now() : deadline);
    b->data[b->len] = '\0';
    if (b->len && b->data[b->len - 1] == '\r')
        b->data[--b->len] = '\0';
    rc = check_exit(prog, status, timeout, st);
    if (rc == CLI_EXIT_OK && b->len == 0)
        rc = fail(prog, st, "printed no password");
    return rc;
}

int cli_password_command(const char *cmd, int shell, long timeout,
                         struct cli_buf *b, xmsg_status *st)
{
    char sh_name[] = "sh", sh_c[] = "-c";
    char *sh[] = {sh_name, sh_c, (char *)cmd, NULL};
    char **argv = NULL;
    int rc = CLI_EXIT_OK;

    b->len = 0;
    b->data = malloc(PW_MAX + 1);
    if (!b->data)
        return cli_oom();
    if (!shell) {
        rc = cli_split_command(cmd, &argv);
        if (rc == -1)
            rc = cli_oom();
        else if (rc)
            rc = fail(cmd, st, rc == -2 ? "unclosed quote" : "empty command");
    }
    if (rc == CLI_EXIT_OK)
        rc = run(shell ? sh : argv, shell ? cmd : argv[0], timeout, b, st);
    cli_argv_free(argv);
    if (rc != CLI_EXIT_OK)
        cli_buf_wipe(b);
    return rc;
}
