/* arena.c - see arena.h. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "internal.h"

struct xmsg_block {
    xmsg_block *prev, *next;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

static xmsg_block *block_of(void *p)
{
    return (xmsg_block *)((unsigned char *)p - offsetof(xmsg_block, data));
}

static void link_block(xmsg_arena *a, xmsg_block *b)
{
    b->prev = NULL;
    b->next = a->head;
    if (a->head)
        a->head->prev = b;
    a->head = b;
    a->live++;
}

static void unlink_block(xmsg_arena *a, xmsg_block *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        a->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    a->live--;
}

static void *a_alloc(size_t size, void *ud)
{
    xmsg_block *b = malloc(sizeof(*b) + size);

    if (!b)
        return NULL;
    b->size = size;
    link_block(ud, b);
    return b->data;
}

static void a_free(void *p, void *ud)
{
    xmsg_block *b;

    if (!p)
        return;
    b = block_of(p);
    unlink_block(ud, b);
    xmsg_secure_zero(b, sizeof(*b) + b->size);
    free(b);
}

/* Moves to a new block so that the old bytes can be zeroed. */
static void *a_realloc(void *p, size_t size, void *ud)
{
    void *n;
    size_t old;

    if (!p)
        return a_alloc(size, ud);
    n = a_alloc(size, ud);
    if (!n)
        return NULL;
    old = block_of(p)->size;
    memcpy(n, p, old < size ? old : size);
    a_free(p, ud);
    return n;
}

void xmsg_arena_init(xmsg_arena *a)
{
    a->head = NULL;
    a->live = 0;
    a->mem.alloc = a_alloc;
    a->mem.free = a_free;
    a->mem.realloc = a_realloc;
    a->mem.userdata = a;
}

size_t xmsg_arena_release(xmsg_arena *a)
{
    size_t n = a->live;

    while (a->head)
        a_free(a->head->data, a);
    return n;
}
