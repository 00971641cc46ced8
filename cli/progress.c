/* progress.c - a progress line on stderr, when stderr is a terminal.
 *
 * One line, redrawn in place (carriage return, erase to the end) at most
 * five times a second, and once more, with a newline, at the end. Never on
 * stdout; nothing at all when stderr is not a terminal, or with
 * --no-progress or --quiet.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define REDRAW_S 0.2

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(struct cli_progress *p, const struct cli_opts *o)
{
    p->on = !o->no_progress && isatty(STDERR_FILENO);
    p->start = now();
    p->last = 0;
    p->drawn = 0;
    p->count = p->confirmed = p->pages = p->total = 0;
    p->size = -1;
    p->fd = -1;
}

/* The size of a regular file behind fd, or -1. */
long long cli_progress_file_size(int fd)
{
    struct stat sb;

    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    return (long long)sb.st_size;
}

/* Seconds left, from the share of the input done; -1 when unknown. */
static double eta(const struct cli_progress *p, double elapsed)
{
    double done = -1;
    off_t pos;

    if (p->total > 0)
        done = (double)p->confirmed / (double)p->total;
    else if (p->size > 0 && p->fd >= 0 && (pos = lseek(p->fd, 0, SEEK_CUR)) > 0)
        done = (double)pos / (double)p->size;
    if (done <= 0 || done > 1)
        return -1;
    return elapsed * (1 - done) / done;
}

static void draw(struct cli_progress *p, int last)
{
    const double t = now(), elapsed = t - p->start;
    const double rate =
        elapsed > 0 ? (double)(p->pages ? p->count : p->confirmed) / elapsed
                    : 0;
    double left;

    if (!p->on || (!last && t - p->last < REDRAW_S))
        return;
    p->last = t;
    p->drawn = 1;
    if (p->pages)
        fprintf(stderr,
                "\rxmsg: collected %zu messages, %zu pages, %.0f/s\033[K",
                p->count, p->pages, rate);
    else {
        fprintf(stderr, "\rxmsg: sent %zu, confirmed %zu, %.0f/s", p->count,
                p->confirmed, rate);
        left = last ? -1 : eta(p, elapsed);
        if (left >= 0)
            fprintf(stderr, ", ETA %.0fs", left);
        fputs("\033[K", stderr);
    }
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
}

void cli_progress_message(struct cli_progress *p)
{
    p->count++;
    draw(p, 0);
}

void cli_progress_page(struct cli_progress *p)
{
    p->pages++;
    draw(p, 0);
}

void cli_progress_sent(struct cli_progress *p)
{
    p->count++;
    draw(p, 0);
}

void cli_progress_confirmed(struct cli_progress *p)
{
    p->confirmed++;
    draw(p, 0);
}

void cli_progress_end(struct cli_progress *p)
{
    if (p->drawn || p->count)
        draw(p, 1);
}

/* n bytes as "1.5 MB" (decimal units, as the server's limits are). */
static void human(char *buf, size_t len, int64_t n)
{
    if (n < 1000)
        snprintf(buf, len, "%lld B", (long long)n);
    else if (n < 1000 * 1000)
        snprintf(buf, len, "%.1f kB", (double)n / 1e3);
    else
        snprintf(buf, len, "%.1f MB", (double)n / 1e6);
}

void cli_progress_upload(struct cli_progress *p, const char *path, int64_t sent,
                         int64_t total)
{
    const char *slash = strrchr(path, '/');
    const int whole = sent >= total;
    const double t = now();
    char a[32], b[32];

    if (!p->on || (!whole && p->drawn && t - p->last < REDRAW_S))
        return;
    p->last = t;
    human(a, sizeof(a), sent);
    human(b, sizeof(b), total);
    fprintf(stderr, "\rxmsg: upload %s %s / %s (%lld/%lld bytes, %.0f%%)\033[K",
            slash ? slash + 1 : path, a, b, (long long)sent, (long long)total,
            total > 0 ? 100.0 * (double)sent / (double)total : 100.0);
    /* A finished file keeps its line. */
    p->drawn = !whole;
    if (whole)
        fputc('\n', stderr);
    fflush(stderr);
}
