/* arena.h - the memory libstrophe works with, one arena per session:
 * every block born before the login completed is zeroed when freed (SASL
 * state, the password: it lives until the session ends), and whatever
 * libstrophe 0.12.2 leaks (its SCRAM state after a failed login, for one) is
 * zeroed and freed when the session ends. */
#ifndef XMSG_ARENA_H
#define XMSG_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include <strophe.h>

typedef struct xmsg_block xmsg_block;

/* At most this many live blocks, or bytes, and no block larger than
 * XMSG_STANZA_MAX: beyond, on_limit is asked. A tree deeper than a third
 * of the blocks would overflow libstrophe's recursion; a text that large
 * is one libstrophe builds with strncat, in quadratic time. */
#define XMSG_ARENA_MAX_LIVE 65536
#define XMSG_ARENA_MAX_BYTES (64u * 1024 * 1024)

typedef struct xmsg_arena {
    xmsg_block *head; /* live blocks, most recent first */
    size_t live;      /* their count */
    size_t bytes;     /* their size */
    xmpp_mem_t mem;   /* handed to xmpp_ctx_new() */
    /* Monotonic ms after which every allocation asks on_limit too: work
     * inside libstrophe that burns CPU (an entity expansion appended piece
     * by piece) allocates as it goes, and stops there. 0: none. */
    uint64_t deadline;
    /* New blocks are zeroed when freed (on until logged in: after that
     * libstrophe handles no secret, and stanzas cost no zeroing). */
    int zero_new;
    /* Called when an allocation would pass a limit; it may not return
     * (longjmp). When it returns 0 the allocation goes ahead. */
    int (*on_limit)(void *userdata);
    void *limit_userdata;
} xmsg_arena;

/* Prepares the arena; a->mem is then ready for xmpp_ctx_new(). */
void xmsg_arena_init(xmsg_arena *a);

/* Zeroes and frees every block still live. Call after xmpp_ctx_free().
 * Returns how many there were. */
size_t xmsg_arena_release(xmsg_arena *a);

#endif
