/* lab.h - integration test helpers: the throw-away server's env file and
 * calls through the JSON API, with results parsed by jansson. */
#ifndef XMSG_TEST_LAB_H
#define XMSG_TEST_LAB_H

#include <jansson.h>

#include "xmsg.h"

/* Loads the `export KEY='VALUE'` lines of the env file named by the
 * environment variable var into the environment. Returns 0 or -1. */
int lab_load_env(const char *var);

/* The directory of this run's checkpoints (XDG_STATE_HOME). */
const char *lab_state_dir(void);

/* Value of XMSG_LAB_<name>, or "" when unset. */
const char *lab(const char *name);

/* The password of a lab user: "pw-<user>-Zq8" (static buffer). */
const char *lab_password(const char *user);

/* New params object for user on the lab server (jid user@domain, host,
 * port, caFile, logLevel "error"). */
json_t *lab_params(const char *user);

/* Typed params from a params object (lab_params with more keys set;
 * its reference is taken). NULL, with st set, when the library refuses
 * them or memory runs out. */
xmsg_params *lab_params_typed(json_t *params, xmsg_status *st);

/* Sends a presence on s (the server's offline store is pushed to us). */
xmsg_err lab_presence(xmsg_session *s, xmsg_status *st);

/* Runs a call through the JSON API; returns the parsed status (new ref);
 * fails the test when the library returns NULL or invalid JSON. */
json_t *lab_send(json_t *params, json_t *message);
json_t *lab_connect(json_t *params);

/* The status' error code name, or "ok". */
const char *lab_code(const json_t *status);

/* Text of the whole status (owned by a static buffer until the next
 * call), for grepping. */
const char *lab_dump(const json_t *status);

/* 1 if any log line of the status contains needle. */
int lab_log_has(const json_t *status, const char *needle);

/* Sends body to user `to` as user `from`; asserts success. */
void lab_send_ok(const char *from, const char *to, const char *body);

#endif
