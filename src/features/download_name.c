/* download_name.c - see download.h: the file name a URL gives, and the
 * names tried when it is taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/download.h"

/* The extension kept when a long name is cut: its bytes at most. */
#define EXT_MAX 16

/* The URL's last path segment: [*start, *end). */
static void last_segment(const char *url, const char **start, const char **end)
{
    const char *p = strstr(url, "://"), *s;

    p = p ? p + 3 : url;
    p += strcspn(p, "/?#"); /* past the authority */
    *end = p + strcspn(p, "?#");
    for (s = p; s < *end; s++) {
        if (*s == '/')
            p = s + 1;
    }
    *start = p;
}

/* [s, e) percent-decoded into out (owned, n bytes, NULs kept). */
static unsigned char *decode(const char *s, const char *e, size_t *n)
{
    unsigned char *out = malloc((size_t)(e - s) + 1);
    size_t k = 0;

    if (!out)
        return NULL;
    while (s < e) {
        if (*s == '%' && e - s >= 3 && xmsg_hex_value(s[1]) >= 0 &&
            xmsg_hex_value(s[2]) >= 0) {
            out[k++] = (unsigned char)(xmsg_hex_value(s[1]) * 16 +
                                       xmsg_hex_value(s[2]));
            s += 3;
        } else {
            out[k++] = (unsigned char)*s++;
        }
    }
    *n = k;
    return out;
}

/* The length of the UTF-8 sequence at s (n bytes left) and its code
 * point, or 0 when it is not one (overlong, surrogate, too large). */
static size_t utf8(const unsigned char *s, size_t n, unsigned long *cp)
{
    size_t len, i;
    unsigned long min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, *cp = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, *cp = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, *cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

/* Characters a file name must not hold: separators, controls (C0, DEL,
 * C1) and the bidi controls that make a name read as another. */
static int unsafe(unsigned long cp)
{
    return cp == '/' || cp == '\\' || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
           cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* The decoded bytes made safe into out (n + 1 bytes: one byte out for
 * one in at most): unsafe characters and bytes that are not UTF-8 become
 * '_'; leading dots and blanks go. */
static size_t clean(const unsigned char *in, size_t n, char *out)
{
    unsigned long cp = 0;
    size_t i = 0, k = 0, step;

    while (i < n) {
        step = utf8(in + i, n - i, &cp);
        if (step && k == 0 && (cp == '.' || cp == ' ' || cp == '\t')) {
            i += step;
        } else if (!step || unsafe(cp)) {
            out[k++] = '_';
            i += step ? step : 1;
        } else {
            memcpy(out + k, in + i, step);
            k += step;
            i += step;
        }
    }
    out[k] = '\0';
    return k;
}

/* The start of the UTF-8 character holding byte i of s. */
static size_t char_start(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
        i--;
    return i;
}

/* s (k bytes) cut to XMSG_DOWNLOAD_NAME_MAX, its extension kept when
 * short. */
static void cap(char *s, size_t k)
{
    const char *dot = strrchr(s, '.');
    size_t ext = dot && dot != s ? strlen(dot) : 0, keep;

    if (k <= XMSG_DOWNLOAD_NAME_MAX)
        return;
    if (ext > EXT_MAX)
        ext = 0;
    keep = char_start(s, XMSG_DOWNLOAD_NAME_MAX - ext);
    memmove(s + keep, s + k - ext, ext + 1);
}

void xmsg_download_name(const char *url, char *out, size_t len)
{
    const char *start, *end;
    unsigned char *raw = NULL;
    char *name = NULL;
    size_t n = 0, k = 0;

    if (url) {
        last_segment(url, &start, &end);
        raw = decode(start, end, &n);
    }
    name = raw ? malloc(n + 1) : NULL;
    if (name) {
        k = clean(raw, n, name);
        cap(name, k);
    }
    snprintf(out, len, "%s", k ? name : XMSG_DOWNLOAD_DEFAULT_NAME);
    free(raw);
    free(name);
}

int xmsg_download_candidate(const char *name, unsigned n, char *out, size_t len)
{
    const char *dot = strrchr(name, '.');
    int w;

    if (n == 0)
        w = snprintf(out, len, "%s", name);
    else if (!dot || dot == name)
        w = snprintf(out, len, "%s (%u)", name, n);
    else
        w = snprintf(out, len, "%.*s (%u)%s", (int)(dot - name), name, n, dot);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}
