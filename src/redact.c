/* redact.c - keeps passwords and SASL secrets out of every log line. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define REDACTED "[redacted]"

/* Elements whose text content is a secret, or derived from one. */
static const char *const secret_elements[] = {"auth", "response", "password",
                                              "digest", "success"};

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

/* New string: s with every occurrence of needle replaced by REDACTED. */
static char *replace_all(const char *s, const char *needle)
{
    size_t nlen = strlen(needle), rlen = strlen(REDACTED), count = 0;
    const char *p;
    char *out, *o;

    for (p = strstr(s, needle); p; p = strstr(p + nlen, needle))
        count++;
    out = malloc(strlen(s) + count * rlen + 1);
    if (!out)
        return NULL;
    for (o = out; (p = strstr(s, needle)); s = p + nlen) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, REDACTED, rlen);
        o += rlen;
    }
    strcpy(o, s);
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

static char *swap(char *old, char *new_)
{
    free(old);
    return new_;
}

char *xmsg_redact(const char *line, const char *const *secrets,
                  size_t n_secrets)
{
    char *out = xmsg_strdup(line), *b64;
    size_t i;

    for (i = 0; out && i < sizeof(secret_elements) / sizeof(*secret_elements);
         i++)
        out = swap(out, redact_element(out, secret_elements[i]));
    for (i = 0; out && i < n_secrets; i++) {
        if (!secrets[i] || !*secrets[i])
            continue;
        out = swap(out, replace_all(out, secrets[i]));
        b64 =
            xmsg_base64((const unsigned char *)secrets[i], strlen(secrets[i]));
        if (out && b64 && strlen(b64) >= 4)
            out = swap(out, replace_all(out, b64));
        free(b64);
    }
    return out;
}
