/* fuzz.h - helpers shared by the libFuzzer harnesses (header-only). */
#ifndef XMSG_FUZZ_H
#define XMSG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The harness's own checks: a broken invariant is a crash libFuzzer keeps.
 * Never compiled out (no NDEBUG dependence, unlike assert()). */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Owned NUL-terminated copy of data[0..size); aborts when out of memory
 * (the harness's own allocation, not the library's). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* 1 if both are NULL or both are equal strings. */
static inline int fuzz_str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

#endif /* XMSG_FUZZ_H */
