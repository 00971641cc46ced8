/* sessobj.h - the public session handle (send.c, poll.c). */
#ifndef XMSG_SESSOBJ_H
#define XMSG_SESSOBJ_H

#include "features/batch.h"

#define XMSG_SEEN_MAX 1024

/* Kinds of sessions (xmsg_session_start flags). */
#define XMSG_SESSION_ONE_CALL 1u /* a one-call function: one deadline */
#define XMSG_SESSION_NO_SM 2u    /* no XEP-0198 (collection) */
#define XMSG_SESSION_NO_KEEP 4u  /* keep no received stanza (collection) */
#define XMSG_SESSION_NO_POLL                                                   \
    8u /* nobody polls (one-shot send, batch):                                 \
          keep only what a call awaits */

/* 1 if kept stanza m is the one a call looks for (arg: what it is). */
typedef int (*xmsg_kept_match)(const xmsg_message *m, const void *arg);

struct xmsg_session {
    xmsg_conn c;
    unsigned flags;
    xmsg_params *p;   /* our copy */
    xmsg_status *own; /* the log's sink when a call gives no status */
    xmsg_err dead;    /* the connection failed: every call fails so */
    char *dead_text;
    /* Stanzas received and not yet handed to xmsg_session_poll() (a
     * FIFO of at most XMSG_SESSION_QUEUE_MAX, poll.c): they arrive during
     * any call. */
    xmsg_message **inq;
    size_t inq_head, inq_n, inq_cap;
    size_t inq_first;   /* position of the oldest, from the session's start */
    size_t inq_dropped; /* the oldest dropped (queue full) since a poll */
    int inq_failed;     /* one could not be kept (memory): reported */
    /* What the running call waits for (a reply, a room's reflection). */
    xmsg_kept_match await_fn;
    const void *await_arg;
    uint64_t ka_sent; /* keepalive ping sent at (ms), 0: none out */
    int ka_answered;
    char *occupant; /* room/nick once joined (params' room) */
    char *bare;     /* our bare JID */
    /* For reconnecting (reconnect.c): the archive ids of recent messages,
     * the last one, and the presence to send again. */
    char *seen[XMSG_SEEN_MAX];
    size_t seen_next;
    char *last_aid;
    char *catchup_from; /* a catch-up after this id is due: meanwhile
                           last_aid does not move */
    xmsg_message *presence;
    /* The checkpoint shared with connect (checkpoint.c, params
     * checkpoint): the state file, the last sync's `after` and walk (the
     * archive ids after it, sorted; those nobody hands over: the
     * account's own, without body), the queue's end position when the
     * walk was asked for. */
    int ck_on, ck_synced, ck_known, ck_dirty, ck_failed;
    char *ck_path;
    char *ck_after;
    xmsg_strvec ck_walk, ck_skip;
    size_t ck_before;
    int lost;              /* the connection is down; poll reconnects */
    uint64_t next_attempt; /* not before (monotonic ms) */
    uint64_t backoff;      /* ms, doubling to 10 s */
    /* The sealer of params omemo (seal.h): its operations and state. */
    const struct xmsg_sealer_ops *seal_ops;
    void *seal_state;
    /* The receive hook (recvhook.h: params omemo) and its state. */
    const struct xmsg_recv_hook_ops *rh_ops;
    void *rh_ud;
};

/* reconnect.c */
int xmsg_session_seen(xmsg_session *s, const char *aid);
void xmsg_session_saw(xmsg_session *s, const char *aid);
void xmsg_session_forget(xmsg_session *s);
/* The connection was lost: one attempt to log in again (rejoin, catch up
 * from the archive, presence again) when its time has come (attempts
 * back off from 0.5 to 10 s). XMSG_OK once reconnected; else the
 * session stays lost (s->lost) and the next poll tries again. */
xmsg_err xmsg_session_reconnect(xmsg_session *s);
/* The connection is down and the next poll reconnects (logged once). */
void xmsg_session_mark_lost(xmsg_session *s);
/* poll.c: keeps m (taken) for poll; when XMSG_SESSION_QUEUE_MAX are
 * kept, the oldest is dropped (logged). 0, or -1 out of memory. */
int xmsg_session_keep(xmsg_session *s, xmsg_message *m);
/* The position after the newest kept stanza (positions count from the
 * session's start). */
size_t xmsg_session_kept_end(const xmsg_session *s);
/* The i-th kept slot (borrowed): NULL when its stanza was taken out of
 * the middle (never the oldest, i 0). xmsg_session_take takes it out
 * (owned), in O(1). */
xmsg_message *xmsg_session_kept(const xmsg_session *s, size_t i);
xmsg_message *xmsg_session_take(xmsg_session *s, size_t i);
/* The kept stanza at position pos (borrowed), NULL when it is gone or
 * was taken out. */
const xmsg_message *xmsg_session_kept_at(const xmsg_session *s, size_t pos);
/* Sorts the stanzas kept at positions mark and after by rank (stable:
 * equal ranks keep their order); slots taken out are dropped. 0, or -1
 * out of memory (nothing moved). */
typedef size_t (*xmsg_kept_rank)(const xmsg_message *m, const void *arg);
int xmsg_session_sort_since(xmsg_session *s, size_t mark, xmsg_kept_rank rank,
                            const void *arg);
/* The oldest kept stanza at or after position *from that fn matches, or
 * NULL; *from moves past what was looked at. take: taken out (owned),
 * else borrowed and still kept. */
xmsg_message *xmsg_session_find(xmsg_session *s, size_t *from,
                                xmsg_kept_match fn, const void *arg, int take);
/* What the running call waits for, until set to NULL: in a session of
 * XMSG_SESSION_NO_POLL, nothing else is kept. */
void xmsg_session_await(xmsg_session *s, xmsg_kept_match fn, const void *arg);
/* Calls the caller's cb (its result as is) with the deadline paused
 * (xmsg_conn_pause), after fetching m's file (params downloadDir, which
 * adds "file" or "downloadError" to m; -1 out of memory, cb not called);
 * hands out every kept stanza so: 1 when cb asked to stop. */
int xmsg_session_call(xmsg_session *s, xmsg_message_cb cb, xmsg_message *m,
                      void *userdata);
int xmsg_session_deliver(xmsg_session *s, xmsg_message_cb cb, void *userdata,
                         size_t *n);

/* checkpoint.c: shares the state file when params checkpoint (and mam)
 * ask for it; hands out what is kept like xmsg_session_deliver, less what
 * connect handed over, recording what it hands over. */
xmsg_err xmsg_checkpoint_start(xmsg_session *s);
int xmsg_checkpoint_deliver(xmsg_session *s, xmsg_message_cb cb, void *userdata,
                            size_t *n);
void xmsg_checkpoint_free(xmsg_session *s);

/* Sends m and waits for its reply (within the call's deadline). */
xmsg_err xmsg_session_exchange(xmsg_session *s, const xmsg_message *m,
                               xmsg_message **reply);

/* muc.c: join (*occupant set, owned), send with the room's reflection as
 * the confirmation, leave. */
xmsg_err xmsg_muc_join(xmsg_session *s, const char *room, const char *nick,
                       const char *password, char **occupant);
xmsg_err xmsg_muc_send(xmsg_session *s, const xmsg_message *m, const char *room,
                       const char *occupant);
xmsg_err xmsg_muc_leave(xmsg_session *s, const char *occupant);
/* muc.c, for end-to-end encryption to a room: XMSG_OK when the room's
 * disco#info says members-only and non-anonymous (muc_membersonly,
 * muc_nonanonymous), else XMSG_ERR_INPUT naming what it is. */
xmsg_err xmsg_muc_check_private(xmsg_session *s, const char *room);
/* The bare real JIDs of the room's owners, admins and members (its
 * affiliation lists, muc#admin) added to out, each once; a list the room
 * does not show us is left out at warn level. */
xmsg_err xmsg_muc_members(xmsg_session *s, const char *room, xmsg_strvec *out);

/* send.c: xmsg_session_open() with flags. */
xmsg_err xmsg_session_start(const xmsg_params *p, unsigned flags,
                            xmsg_session **out, xmsg_status *st);

/* poll.c: starts keeping what the session receives (at open). */
void xmsg_session_listen(xmsg_session *s);
/* Frees what is still kept. */
void xmsg_session_drop_queue(xmsg_session *s);

/* send.c: the shared beginning and end of a call on a session. */
xmsg_status *xmsg_session_begin(xmsg_session *s, xmsg_status *st);
xmsg_err xmsg_session_alive(xmsg_session *s);
void xmsg_session_end(xmsg_session *s);
/* Sends one prepared message, confirmed (a batch of one). */
xmsg_err xmsg_session_send_one(xmsg_conn *c, const xmsg_message *m,
                               int keep_deadline);

#endif
