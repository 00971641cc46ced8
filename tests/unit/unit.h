/* unit.h - shared helpers of the cmocka unit tests (header-only). */
#ifndef XMSG_UNIT_H
#define XMSG_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Number of rows of a static table. */
#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Removes a test's temporary directory and what it holds: 0, or -1. */
static inline int unit_rmdir_tree(const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A test file's temporary directory: `dir`, made by the group setup
 * unit_dir_make and removed with what it holds by unit_dir_remove. */
#define UNIT_TEMP_DIR(name)                                                    \
    static char dir[] = "/tmp/xmsg-test-" name "-XXXXXX";                      \
    static int unit_dir_make(void **state)                                     \
    {                                                                          \
        (void)state;                                                           \
        return mkdtemp(dir) ? 0 : -1;                                          \
    }                                                                          \
    static int unit_dir_remove(void **state)                                   \
    {                                                                          \
        (void)state;                                                           \
        return unit_rmdir_tree(dir);                                           \
    }

/* Prints s[0..len) C-escaped to stderr, for failure reports. */
static inline void unit_print_escaped(const char *s, size_t len)
{
    size_t i;

    if (s == NULL) {
        fputs("(null)", stderr);
        return;
    }
    if (len > 80) {
        fprintf(stderr, "<%zu bytes> ", len);
        len = 80;
    }
    fputc('"', stderr);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(stderr, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(stderr, "\\x%02X", c);
        else
            fputc(c, stderr);
    }
    fputc('"', stderr);
}

static inline void unit_print_str(const char *s)
{
    unit_print_escaped(s, s ? strlen(s) : 0);
}

/* Allocates a string of n copies of c (NUL-terminated); never NULL. */
static inline char *unit_repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Concatenates a, b and c into a new string; never NULL. */
static inline char *unit_cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);

    assert_non_null(s);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* 1 if hay contains needle (both may be NULL: then 0). */
static inline int unit_contains(const char *hay, const char *needle)
{
    return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}

#endif /* XMSG_UNIT_H */
