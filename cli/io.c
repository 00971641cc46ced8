/* io.c - reading input files and standard input, writing stdout.
 *
 * Inputs are read whole, up to CLI_INPUT_MAX bytes. Buffers may hold a
 * password (a password file, a params file), so every block is zeroed
 * before it is freed, growth included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"

#define READ_CHUNK 4096

void cli_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

void cli_buf_wipe(struct cli_buf *b)
{
    if (!b->data)
        return;
    cli_wipe(b->data, b->len);
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* Doubles b's block of *cap bytes (room for one byte over the limit and a
 * NUL at most), wiping the old one. 0 ok, -1 out of memory. */
static int buf_grow(struct cli_buf *b, size_t *cap)
{
    size_t ncap = *cap ? *cap * 2 : READ_CHUNK;
    char *n;

    if (ncap > CLI_INPUT_MAX + 2)
        ncap = CLI_INPUT_MAX + 2;
    n = malloc(ncap);
    if (!n)
        return -1;
    if (b->data) {
        memcpy(n, b->data, b->len);
        cli_wipe(b->data, *cap);
        free(b->data);
    }
    b->data = n;
    *cap = ncap;
    return 0;
}

/* Reads f to its end into b. what names f in messages. On failure b may
 * hold a partial read: the caller wipes it. */
static int read_stream(FILE *f, const char *what, struct cli_buf *b)
{
    size_t cap = 0, n;

    do {
        if (b->len + 1 >= cap && buf_grow(b, &cap))
            return cli_oom();
        n = fread(b->data + b->len, 1, cap - 1 - b->len, f);
        b->len += n;
        if (b->len > CLI_INPUT_MAX) {
            cli_err("%s: larger than %d bytes", what, CLI_INPUT_MAX);
            return CLI_EXIT_INPUT;
        }
    } while (n > 0);
    if (ferror(f)) {
        cli_err("cannot read %s: %s", what, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    b->data[b->len] = '\0';
    if (memchr(b->data, '\0', b->len)) {
        cli_err("%s: contains a NUL byte", what);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

/* Opens path for reading; "-" is stdin. Reports failure, returns NULL. */
static FILE *open_input(const char *path)
{
    FILE *f;

    if (strcmp(path, "-") == 0)
        return stdin;
    f = fopen(path, "rb");
    if (!f)
        cli_err("cannot open %s: %s", path, strerror(errno));
    return f;
}

static const char *input_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "standard input" : path;
}

static void close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

int cli_read_file(const char *path, struct cli_buf *b)
{
    FILE *f = open_input(path);
    int rc;

    if (!f)
        return CLI_EXIT_INPUT;
    rc = read_stream(f, input_name(path), b);
    close_input(f);
    if (rc)
        cli_buf_wipe(b);
    return rc;
}

/* Warns, as ssh does for keys, when group or others may use the file. */
static void check_mode(FILE *f, const char *path)
{
    struct stat sb;

    if (f == stdin || fstat(fileno(f), &sb) != 0)
        return;
    if (sb.st_mode & 077)
        cli_err("warning: %s is readable by group or others", path);
}

/* Cuts b after its first line, dropping "\n" or "\r\n"; wipes the rest. */
static void keep_first_line(struct cli_buf *b)
{
    size_t cut = strcspn(b->data, "\n");

    if (cut > 0 && b->data[cut - 1] == '\r' && cut < b->len)
        cut--;
    cli_wipe(b->data + cut, b->len - cut);
    b->len = cut;
}

int cli_read_password(const char *path, struct cli_buf *b)
{
    FILE *f = open_input(path);
    int rc;

    if (!f)
        return CLI_EXIT_INPUT;
    check_mode(f, path);
    rc = read_stream(f, input_name(path), b);
    close_input(f);
    if (rc)
        goto out;
    keep_first_line(b);
    if (b->len == 0) {
        cli_err("%s: empty password", input_name(path));
        rc = CLI_EXIT_INPUT;
    }
out:
    if (rc)
        cli_buf_wipe(b);
    return rc;
}

int cli_flush_stdout(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return CLI_EXIT_OK;
    cli_err("cannot write to standard output: %s", strerror(errno));
    return CLI_EXIT_INTERNAL;
}

int cli_write_stdout(const char *buf, size_t len)
{
    ssize_t n;

    if (cli_flush_stdout() != CLI_EXIT_OK)
        return CLI_EXIT_INTERNAL;
    while (len > 0) {
        n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cli_err("cannot write to standard output: %s",
                    n < 0 ? strerror(errno) : "nothing written");
            return CLI_EXIT_INTERNAL;
        }
        buf += n;
        len -= (size_t)n;
    }
    return CLI_EXIT_OK;
}

char *cli_message_json(const xmsg_params *p, const xmsg_message *m)
{
    /* With --omemo (params omemo) the library has decrypted it. */
    (void)p;
    return xmsg_message_to_json(m);
}
