/* oom.c - see oom.h. */
#include <stddef.h>

#include "oom.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

long oom_at;
static long oom_n; /* allocations counted since the arming */

static int oom_now(void)
{
    return oom_at > 0 && ++oom_n == oom_at;
}

void *__wrap_malloc(size_t n)
{
    return oom_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return oom_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return oom_now() ? NULL : __real_realloc(p, n);
}

void oom_arm(long at)
{
    oom_n = 0;
    oom_at = at;
}

int oom_disarm(void)
{
    const int hit = oom_at > 0 && oom_n >= oom_at;

    oom_at = 0;
    return hit;
}
