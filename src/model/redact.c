/* redact.c - keeps passwords and SASL secrets out of every log line. */
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"

#define REDACTED "[redacted]"

/* Elements whose text content is a secret, or derived from one (header:
 * an HTTP upload slot's Authorization and Cookie, XEP-0363). */
static const char *const secret_elements[] = {"auth",   "response", "password",
                                              "digest", "success",  "header"};

char *xmsg_base64(const unsigned char *data, size_t len)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    char *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i + 2 < len; i += 3, o += 4) {
        uint32_t v = (uint32_t)data[i] << 16 | data[i + 1] << 8 | data[i + 2];
        o[0] = tbl[v >> 18], o[1] = tbl[(v >> 12) & 63];
        o[2] = tbl[(v >> 6) & 63], o[3] = tbl[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= data[i + 1] << 8;
        o[0] = tbl[v >> 18], o[1] = tbl[(v >> 12) & 63];
        o[2] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    *o = '\0';
    return out;
}

/* Finds the next element <name …>content</…> in s; sets [*b, *e) to its
 * content. Self-closing elements are skipped. */
static int find_content(const char *s, const char *name, const char **b,
                        const char **e)
{
    size_t nlen = strlen(name);
    const char *p, *gt;

    for (p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        if (strncmp(p + 1, name, nlen) || !strchr(" \t\r\n/>", p[1 + nlen]))
            continue;
        gt = strchr(p, '>');
        if (!gt)
            return 0;
        if (gt[-1] == '/')
            continue;
        *b = gt + 1;
        *e = strstr(*b, "</");
        if (!*e)
            *e = *b + strlen(*b);
        return 1;
    }
    return 0;
}

/* New string: s with the content of every element called name redacted. */
static char *redact_element(const char *s, const char *name)
{
    size_t rlen = strlen(REDACTED), pos = 0, head;
    const char *b, *e;
    char *out = xmsg_strdup(s), *next;

    while (out && find_content(out + pos, name, &b, &e)) {
        head = (size_t)(b - out);
        next = malloc(strlen(out) - (size_t)(e - b) + rlen + 1);
        if (next) {
            memcpy(next, out, head);
            memcpy(next + head, REDACTED, rlen);
            strcpy(next + head + rlen, e);
        }
        free(out);
        out = next;
        pos = head + rlen;
    }
    return out;
}

/* The secrets and their base64 forms: what must never be printed. */
struct needles {
    const char *v[16];
    char *owned[8];
    size_t n, n_owned;
};

static void needles_add(struct needles *nd, const char *secret)
{
    char *b64;

    if (!secret || !*secret || nd->n + 2 > 16 || nd->n_owned == 8)
        return;
    nd->v[nd->n++] = secret;
    b64 = xmsg_base64((const unsigned char *)secret, strlen(secret));
    if (b64 && strlen(b64) >= 4) {
        nd->v[nd->n++] = b64;
        nd->owned[nd->n_owned++] = b64;
    } else {
        free(b64);
    }
}

/* Length of the longest needle that starts at p, 0 if none. */
static size_t longest_match(const struct needles *nd, const char *p)
{
    size_t i, len, best = 0;

    for (i = 0; i < nd->n; i++) {
        len = strlen(nd->v[i]);
        if (len > best && strncmp(p, nd->v[i], len) == 0)
            best = len;
    }
    return best;
}

/* New string: s with every needle replaced by REDACTED, in one pass over
 * s so that nested or overlapping secrets leave nothing behind. */
static char *redact_needles(const char *s, const struct needles *nd)
{
    size_t rlen = strlen(REDACTED), n = 0, m, i, shortest = SIZE_MAX;
    char *out;

    for (i = 0; i < nd->n; i++) {
        if (strlen(nd->v[i]) < shortest)
            shortest = strlen(nd->v[i]);
    }
    out = malloc(strlen(s) + (strlen(s) / shortest + 1) * rlen + 1);

    if (!out)
        return NULL;
    while (*s) {
        m = longest_match(nd, s);
        if (m) {
            memcpy(out + n, REDACTED, rlen);
            n += rlen;
            s += m;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    return out;
}

/* 1 if some needle occurs in s (strstr is fast; the byte-wise pass that
 * replaces them is not, and most lines hold none). */
static int any_needle(const char *s, const struct needles *nd)
{
    size_t i;

    for (i = 0; i < nd->n; i++) {
        if (strstr(s, nd->v[i]))
            return 1;
    }
    return 0;
}

/* 1 if s has a start tag "<name" (maybe a secret element). */
static int has_tag(const char *s, const char *name)
{
    const size_t nlen = strlen(name);

    for (s = strchr(s, '<'); s; s = strchr(s + 1, '<')) {
        if (strncmp(s + 1, name, nlen) == 0)
            return 1;
    }
    return 0;
}

char *xmsg_redact(const char *line, const char *const *secrets,
                  size_t n_secrets)
{
    struct needles nd = {{0}, {0}, 0, 0};
    char *out, *next;
    size_t i;

    for (i = 0; i < n_secrets; i++)
        needles_add(&nd, secrets[i]);
    out = any_needle(line, &nd) ? redact_needles(line, &nd) : xmsg_strdup(line);
    for (i = 0; out && i < sizeof(secret_elements) / sizeof(*secret_elements);
         i++) {
        if (!has_tag(out, secret_elements[i]))
            continue;
        next = redact_element(out, secret_elements[i]);
        free(out);
        out = next;
    }
    for (i = 0; i < nd.n_owned; i++)
        free(nd.owned[i]);
    return out;
}
