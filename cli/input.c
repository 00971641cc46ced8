/* input.c - the inputs of a batch, read as a stream: JSON Lines from a
 * descriptor, or the elements of one JSON array, one at a time. Memory is
 * bounded by the largest input (CLI_INPUT_MAX), never by their number. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CHUNK 65536

int cli_input_open(struct cli_input *in, const char *array_path)
{
    memset(in, 0, sizeof(*in));
    in->fd = STDIN_FILENO;
    in->is_array = array_path != NULL;
    if (array_path && strcmp(array_path, "-") != 0) {
        in->file = fopen(array_path, "re");
        if (!in->file) {
            cli_err("cannot open %s: %s", array_path, strerror(errno));
            return CLI_EXIT_INPUT;
        }
    } else if (array_path) {
        in->file = stdin;
    }
    in->name = array_path ? array_path : "standard input";
    return CLI_EXIT_OK;
}

void cli_input_close(struct cli_input *in)
{
    if (in->file && in->file != stdin)
        fclose(in->file);
    free(in->buf);
    free(in->item);
    memset(in, 0, sizeof(*in));
}

/* ---- JSON Lines ---- */

/* A whole line is in the buffer from in->start on. */
static char *line_end(const struct cli_input *in)
{
    if (in->start == in->len)
        return NULL;
    return memchr(in->buf + in->start, '\n', in->len - in->start);
}

/* Reads more; 1 on data, 0 at the end, -1 on error (reported). */
static int fill(struct cli_input *in)
{
    ssize_t n;
    char *nb;

    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->len - in->start);
        in->len -= in->start;
        in->start = 0;
    }
    if (in->cap - in->len < CHUNK) {
        nb = realloc(in->buf, in->cap + CHUNK);
        if (!nb)
            return -1;
        in->buf = nb;
        in->cap += CHUNK;
    }
    do
        n = read(in->fd, in->buf + in->len, in->cap - in->len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        cli_err("cannot read %s: %s", in->name, strerror(errno));
        return -1;
    }
    in->len += (size_t)n;
    return n > 0;
}

/* 1 when reading would not block. */
static int ready(const struct cli_input *in)
{
    struct pollfd p = {in->fd, POLLIN, 0};

    return poll(&p, 1, 0) != 0;
}

static int blank(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\r')) {
        s++;
        n--;
    }
    return n == 0;
}

/* Drops an overlong line up to its newline; 0, or -1 at the end. */
static int skip_line(struct cli_input *in)
{
    char *nl;

    in->start = in->len = 0;
    for (;;) {
        if (fill(in) <= 0)
            return -1;
        nl = memchr(in->buf, '\n', in->len);
        if (nl) {
            in->start = (size_t)(nl - in->buf) + 1;
            return 0;
        }
        in->len = 0;
    }
}

static enum cli_item next_line(struct cli_input *in, int may_block,
                               const char **text)
{
    char *nl;
    size_t n;
    int r;

    for (;;) {
        nl = line_end(in);
        if (!nl && in->len - in->start > CLI_INPUT_MAX) {
            in->lineno++;
            if (skip_line(in))
                in->eof = 1;
            return CLI_ITEM_TOO_LONG;
        }
        if (!nl && in->eof && in->start == in->len)
            return CLI_ITEM_END;
        if (!nl && in->eof) {
            /* A last line without its newline: fill() left room. */
            in->buf[in->len++] = '\n';
            continue;
        }
        if (!nl) {
            if (!may_block && !ready(in))
                return CLI_ITEM_LATER;
            r = fill(in);
            if (r < 0)
                return CLI_ITEM_ERROR;
            in->eof = r == 0;
            continue;
        }
        in->lineno++;
        *nl = '\0';
        *text = in->buf + in->start;
        n = (size_t)(nl - *text);
        in->start += n + 1;
        if (memchr(*text, '\0', n))
            return CLI_ITEM_BINARY;
        if (!blank(*text, n))
            return CLI_ITEM_TEXT;
    }
}

/* ---- one JSON array, element by element ---- */

static int item_put(struct cli_input *in, int ch)
{
    char *nb;

    if (in->item_len + 2 > in->item_cap) {
        nb = realloc(in->item, in->item_cap ? in->item_cap * 2 : 4096);
        if (!nb)
            return -1;
        in->item = nb;
        in->item_cap = in->item_cap ? in->item_cap * 2 : 4096;
    }
    in->item[in->item_len++] = (char)ch;
    return 0;
}

static int skip_space(FILE *f)
{
    int ch;

    do
        ch = getc(f);
    while (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r');
    return ch;
}

/* Copies one element (up to its ',' or ']' at depth 0) into in->item. */
static enum cli_item scan_element(struct cli_input *in, int ch)
{
    int depth = 0, in_str = 0, esc = 0;

    in->item_len = 0;
    for (; ch != EOF; ch = getc(in->file)) {
        if (!in_str && depth == 0 && (ch == ',' || ch == ']')) {
            in->array_done = ch == ']';
            if (item_put(in, '\0'))
                return CLI_ITEM_ERROR;
            in->item_len--;
            return CLI_ITEM_TEXT;
        }
        if (in->item_len >= CLI_INPUT_MAX)
            return CLI_ITEM_TOO_LONG;
        if (item_put(in, ch))
            return CLI_ITEM_ERROR;
        if (in_str && esc)
            esc = 0;
        else if (in_str && ch == '\\')
            esc = 1;
        else if (in_str)
            in_str = ch != '"';
        else if (ch == '"')
            in_str = 1;
        else if (ch == '{' || ch == '[')
            depth++;
        else if ((ch == '}' || ch == ']') && --depth < 0)
            return CLI_ITEM_MALFORMED;
    }
    return CLI_ITEM_MALFORMED;
}

static enum cli_item next_element(struct cli_input *in, const char **text)
{
    enum cli_item r;
    int ch;

    if (in->array_bad_end) {
        in->array_bad_end = 0;
        in->lineno++;
        return CLI_ITEM_MALFORMED;
    }
    if (in->array_done)
        return CLI_ITEM_END;
    ch = skip_space(in->file);
    if (!in->array_started) {
        in->array_started = 1;
        if (ch == '[')
            ch = skip_space(in->file);
        else
            ch = EOF; /* not an array: malformed at its first element */
        if (ch == ']') {
            in->array_done = 1;
            in->array_bad_end = skip_space(in->file) != EOF;
            return next_element(in, text);
        }
    }
    in->lineno++;
    r = scan_element(in, ch);
    if (r != CLI_ITEM_TEXT)
        in->array_done = 1;
    /* Data after the closing bracket: reported after this element. */
    if (r == CLI_ITEM_TEXT && in->array_done)
        in->array_bad_end = skip_space(in->file) != EOF;
    *text = in->item;
    return r;
}

enum cli_item cli_input_next(struct cli_input *in, int may_block,
                             const char **text)
{
    if (in->is_array)
        return next_element(in, text);
    return next_line(in, may_block, text);
}
