/* util.c - small owned-string helpers shared by every module. */
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"

char *xmsg_strndup(const char *s, size_t n)
{
    char *d;

    if (!s)
        return NULL;
    d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xmsg_strdup(const char *s)
{
    return s ? xmsg_strndup(s, strlen(s)) : NULL;
}

int xmsg_strvec_push_owned(xmsg_strvec *sv, char *s)
{
    char **nv;
    size_t ncap;

    if (!s)
        return -1;
    if (sv->n == sv->cap) {
        ncap = sv->cap ? sv->cap * 2 : 8;
        nv = realloc(sv->v, ncap * sizeof(*nv));
        if (!nv) {
            free(s);
            return -1;
        }
        sv->v = nv;
        sv->cap = ncap;
    }
    sv->v[sv->n++] = s;
    return 0;
}

int xmsg_strvec_push(xmsg_strvec *sv, const char *s)
{
    return xmsg_strvec_push_owned(sv, xmsg_strdup(s));
}

void xmsg_strvec_clear(xmsg_strvec *sv)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

void xmsg_secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

void xmsg_free_secret(char *s)
{
    if (!s)
        return;
    xmsg_secure_zero(s, strlen(s));
    free(s);
}

void xmsg_free(void *ptr)
{
    free(ptr);
}

int xmsg_buf_put(xmsg_buf *b, const char *s, size_t n)
{
    char *nd;
    size_t ncap;

    if (b->len + n + 1 > b->cap) {
        ncap = (b->len + n + 1) * 2;
        nd = realloc(b->d, ncap);
        if (!nd)
            return -1;
        b->d = nd;
        b->cap = ncap;
    }
    memcpy(b->d + b->len, s, n);
    b->len += n;
    b->d[b->len] = '\0';
    return 0;
}

int xmsg_buf_str(xmsg_buf *b, const char *s)
{
    return xmsg_buf_put(b, s, strlen(s));
}

void xmsg_buf_free(xmsg_buf *b)
{
    free(b->d);
    b->d = NULL;
    b->len = b->cap = 0;
}

int xmsg_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
