/* arena.h - the memory libstrophe works with, one arena per session:
 * every block is zeroed when freed (SASL state, the password, stanzas),
 * and whatever libstrophe 0.12.2 leaks (its SCRAM state after a failed
 * login, for one) is zeroed and freed when the session ends. */
#ifndef XMSG_ARENA_H
#define XMSG_ARENA_H

#include <stddef.h>

#include <strophe.h>

typedef struct xmsg_block xmsg_block;

typedef struct xmsg_arena {
    xmsg_block *head; /* live blocks, most recent first */
    size_t live;      /* their count */
    xmpp_mem_t mem;   /* handed to xmpp_ctx_new() */
} xmsg_arena;

/* Prepares the arena; a->mem is then ready for xmpp_ctx_new(). */
void xmsg_arena_init(xmsg_arena *a);

/* Zeroes and frees every block still live. Call after xmpp_ctx_free().
 * Returns how many there were. */
size_t xmsg_arena_release(xmsg_arena *a);

#endif
