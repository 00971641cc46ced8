/* arena.c - see arena.h. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "internal.h"

struct xmsg_block {
    xmsg_block *prev, *next;
    size_t size; /* what was asked for */
    size_t cap;  /* what data holds */
    int zero;    /* born while secrets were about: zeroed when freed */
    alignas(max_align_t) unsigned char data[];
};

static xmsg_block *block_of(void *p)
{
    return (xmsg_block *)((unsigned char *)p - offsetof(xmsg_block, data));
}

static void link_block(xmsg_arena *a, xmsg_block *b)
{
    a->bytes += b->cap;
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
    a->bytes -= b->cap;
}

static int past_deadline(const xmsg_arena *a)
{
    return a->deadline && xmsg_now_ms() >= a->deadline;
}

static void *alloc_cap(size_t size, size_t cap, xmsg_arena *a)
{
    xmsg_block *b;

    if ((a->live >= XMSG_ARENA_MAX_LIVE || cap > XMSG_STANZA_MAX ||
         a->bytes + cap > XMSG_ARENA_MAX_BYTES || past_deadline(a)) &&
        a->on_limit && a->on_limit(a->limit_userdata))
        return NULL;
    b = malloc(sizeof(*b) + cap);
    if (!b)
        return NULL;
    b->size = size;
    b->cap = cap;
    b->zero = a->zero_new;
    link_block(a, b);
    return b->data;
}

static void *a_alloc(size_t size, void *ud)
{
    return alloc_cap(size, size, ud);
}

static void a_free(void *p, void *ud)
{
    xmsg_block *b;

    if (!p)
        return;
    b = block_of(p);
    unlink_block(ud, b);
    if (b->zero)
        xmsg_secure_zero(b, sizeof(*b) + b->cap);
    free(b);
}

/* Grows in place within the block's capacity; else moves to a block of
 * twice the capacity (so that a growing buffer is copied log n times, not
 * n times), zeroing the old one. */
static void *a_realloc(void *p, size_t size, void *ud)
{
    xmsg_block *b;
    size_t cap;
    void *n;

    if (!p)
        return a_alloc(size, ud);
    b = block_of(p);
    if (past_deadline(ud) && ((xmsg_arena *)ud)->on_limit &&
        ((xmsg_arena *)ud)->on_limit(((xmsg_arena *)ud)->limit_userdata))
        return NULL;
    if (size <= b->cap) {
        if (size < b->size && b->zero)
            xmsg_secure_zero(b->data + size, b->size - size);
        b->size = size;
        return p;
    }
    cap = b->cap * 2 > size ? b->cap * 2 : size;
    n = alloc_cap(size, cap, ud);
    if (!n)
        return NULL;
    block_of(n)->zero |= b->zero;
    memcpy(n, p, b->size);
    a_free(p, ud);
    return n;
}

void xmsg_arena_init(xmsg_arena *a)
{
    a->head = NULL;
    a->live = 0;
    a->bytes = 0;
    a->zero_new = 1;
    a->on_limit = NULL;
    a->deadline = 0;
    a->limit_userdata = NULL;
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
