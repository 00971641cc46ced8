/* error.c - the error codes, their names and texts. */
#include "model/internal.h"

static const struct {
    const char *name;
    const char *text;
} errors[] = {
    [XMSG_OK] = {"ok", "success"},
    [XMSG_ERR_INPUT] = {"input", "bad params or message"},
    [XMSG_ERR_CONNECT] = {"connection", "could not connect to the server, "
                                        "or the connection was lost"},
    [XMSG_ERR_TLS] = {"tls", "TLS failed or was not available"},
    [XMSG_ERR_AUTH] = {"auth", "the server refused the login"},
    [XMSG_ERR_TIMEOUT] = {"timeout", "the deadline passed"},
    [XMSG_ERR_UNCONFIRMED] = {"unconfirmed",
                              "sent, but the server never confirmed it"},
    [XMSG_ERR_PROTOCOL] = {"protocol",
                           "the server answered with an error or broke "
                           "the protocol"},
    [XMSG_ERR_INTERNAL] = {"internal", "out of memory or internal error"},
    [XMSG_ERR_CANCELLED] = {"cancelled", "a callback asked to stop"},
};

#define N_ERRORS (sizeof(errors) / sizeof(errors[0]))

const char *xmsg_err_name(xmsg_err code)
{
    if ((unsigned)code >= N_ERRORS)
        return "unknown";
    return errors[code].name;
}

const char *xmsg_strerror(xmsg_err code)
{
    if ((unsigned)code >= N_ERRORS)
        return "unknown error code";
    return errors[code].text;
}

int xmsg_err_rank(xmsg_err code)
{
    /* Worst last: a message whose fate is unknown needs a human most. A
     * stop the caller asked for is below every failure of the server. */
    static const xmsg_err order[] = {XMSG_OK,
                                     XMSG_ERR_INPUT,
                                     XMSG_ERR_CANCELLED,
                                     XMSG_ERR_PROTOCOL,
                                     XMSG_ERR_AUTH,
                                     XMSG_ERR_TLS,
                                     XMSG_ERR_CONNECT,
                                     XMSG_ERR_TIMEOUT,
                                     XMSG_ERR_INTERNAL,
                                     XMSG_ERR_UNCONFIRMED};
    int i;

    for (i = 0; i < (int)(sizeof(order) / sizeof(*order)); i++) {
        if (order[i] == code)
            return i;
    }
    return (int)(sizeof(order) / sizeof(*order));
}
