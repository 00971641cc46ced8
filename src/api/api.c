/* api.c - the JSON one-call API over the typed API, and the version. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/select.h>

#include <ares.h>
#include <expat.h>
#include <openssl/crypto.h>

#include "model/internal.h"

static char version[256];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void make_version(void)
{
    snprintf(version, sizeof(version),
             XMSG_VERSION_STRING " (%s, c-ares %s, jansson %s, %s)",
             XML_ExpatVersion(), ares_version(NULL), jansson_version_str(),
             OpenSSL_version(OPENSSL_VERSION));
}

const char *xmsg_version(void)
{
    pthread_once(&version_once, make_version);
    return version;
}

/* The status as JSON text (NULL when out of memory); frees st. */
static char *finish(xmsg_status *st)
{
    char *out = xmsg_status_to_json(st);

    xmsg_status_free(st);
    return out;
}

static xmsg_params *params_from(const char *json, xmsg_status *st)
{
    xmsg_params *p = xmsg_params_new();

    if (!p) {
        xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (xmsg_params_from_json(p, json, st)) {
        xmsg_params_free(p);
        return NULL;
    }
    return p;
}

char *xmsg_send_message_json(const char *params, const char *message)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p;
    xmsg_message *m = NULL;

    if (!st)
        return NULL;
    st->is_send = 1;
    p = params_from(params, st);
    if (p) {
        m = xmsg_message_new();
        if (!m)
            xmsg_status_fail(st, XMSG_ERR_INTERNAL, "out of memory");
        else if (!xmsg_message_from_json(m, message, st))
            xmsg_send(p, m, st);
    }
    xmsg_message_free(m);
    xmsg_params_free(p);
    return finish(st);
}

char *xmsg_connect_json(const char *params)
{
    xmsg_status *st = xmsg_status_new();
    xmsg_params *p;

    if (!st)
        return NULL;
    st->is_collect = 1;
    st->keeps = 1;
    p = params_from(params, st);
    if (p)
        xmsg_connect(p, st);
    xmsg_params_free(p);
    return finish(st);
}
