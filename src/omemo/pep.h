/* pep.h - OMEMO's PEP nodes (XEP-0163 over XEP-0060) through the
 * connection of the features: the device list and the bundles. */
#ifndef XMSG_OMEMO_PEP_H
#define XMSG_OMEMO_PEP_H

#include "features/session.h"
#include "omemo/store.h"

#define XMSG_NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define XMSG_NS_PUBSUB_OWNER "http://jabber.org/protocol/pubsub#owner"
#define XMSG_NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"
#define XMSG_NS_DATA "jabber:x:data"

/* The device ids jid (NULL: our own account) publishes (owned, *n of
 * them; none when it has no device list). Returns XMSG_OK,
 * XMSG_ERR_PROTOCOL (the server refused: its condition in the status),
 * or the connection's error. */
xmsg_err xmsg_omemo_pep_devices(xmsg_conn *c, const char *jid, uint32_t **ids,
                                size_t *n);

/* The bundle of device dev of jid: *bundle borrowed from *wrap (owned),
 * NULL when that device has none. Errors as xmsg_omemo_pep_devices. */
xmsg_err xmsg_omemo_pep_bundle(xmsg_conn *c, const char *jid, uint32_t dev,
                               xmsg_xel **wrap, const xmsg_xel **bundle);

/* Publishes our bundle and, when our device is missing from it, our
 * device list (ours added, the others kept), both with publish-options
 * pubsub#access_model=open; a node configured otherwise
 * (precondition-not-met) is reconfigured to open and published again. */
xmsg_err xmsg_omemo_pep_publish(xmsg_conn *c, xmsg_omemo_store *store);

#endif
