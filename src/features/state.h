/* state.h - the collection checkpoint, one small JSON file per account,
 * replaced atomically: prepare (write a temp file, fsync) then commit
 * (rename over the old one, fsync the directory). */
#ifndef XMSG_STATE_H
#define XMSG_STATE_H

#include "model/internal.h"

typedef struct xmsg_state {
    char *path;       /* the state file (owned); NULL: no state kept */
    char *tmp;        /* the prepared temp file (owned) or NULL */
    int exists;       /* a state file was found */
    char *after;      /* the last archive id handed over; NULL: none yet */
    xmsg_strvec seen; /* archive ids handed over outside the archive walk
                         (first run), to be skipped once */
    int interrupted;  /* a first run stopped between drain and commit */
} xmsg_state;

/* The state file path for params (stateFile, else the XDG default
 * $XDG_STATE_HOME/xmsg/<bare jid>.json, else ~/.local/state/...); new
 * string, or NULL when no place can be found. */
char *xmsg_state_default_path(const char *bare_jid);

/* A file beside the account's checkpoint: the params' stateFile (else
 * the default path) without ".json", plus suffix (".omemo.json"). New
 * string, or NULL when no place can be found. */
char *xmsg_state_sibling_path(const xmsg_params *p, const char *bare_jid,
                              const char *suffix);

/* mkdir -p for the directories above path, mode 0700. 0 or -1. */
int xmsg_state_make_parents(const char *path);

/* Loads the state at path (a missing file is not an error).
 * Returns XMSG_OK or XMSG_ERR_INPUT (unreadable or malformed). */
xmsg_err xmsg_state_load(xmsg_state *s, const char *path, xmsg_status *st);

/* Writes the state as it is now to a temp file and fsyncs it.
 * `pending` marks a first run between draining and commit. */
xmsg_err xmsg_state_prepare(xmsg_state *s, int pending, xmsg_status *st);

/* Renames the prepared temp file over the state file. */
xmsg_err xmsg_state_commit(xmsg_state *s, xmsg_status *st);

/* Sets after (copied). 0 or -1. */
int xmsg_state_set_after(xmsg_state *s, const char *after);

/* 1 if id is in seen. */
int xmsg_state_seen(const xmsg_state *s, const char *id);

/* Deletes the state file (the server turned out to have no archive). */
void xmsg_state_remove(xmsg_state *s);

void xmsg_state_clear(xmsg_state *s);

/* Takes the exclusive lock (flock) on the state file at path: on its
 * companion path + ".lock", which is never replaced. Waits up to wait_ms
 * while another collector (process or thread) holds it. *fd is the lock,
 * -1 on failure. Returns XMSG_OK, XMSG_ERR_TIMEOUT (still locked after
 * wait_ms) or XMSG_ERR_INTERNAL (the lock file cannot be opened). */
xmsg_err xmsg_state_lock(const char *path, long wait_ms, int *fd,
                         xmsg_status *st);

/* Replaces the file at path by text atomically: a temp file of its own
 * (mode 0600) in the same directory, fsync, rename, fsync the directory.
 * Returns XMSG_OK or XMSG_ERR_INTERNAL (the old file is then intact). */
xmsg_err xmsg_state_write_file(const char *path, const char *text,
                               xmsg_status *st);

/* Releases the lock taken by xmsg_state_lock (*fd becomes -1). */
void xmsg_state_unlock(int *fd);

#endif
