/* pep.c - see pep.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omemo/pep.h"

static int is_result(const xmsg_xel *iq)
{
    const char *type = xmsg_xel_attr(iq, "type");
    return type && strcmp(type, "result") == 0;
}

/* An iq of type with a <pubsub xmlns=ns/> child; *ps is that child. */
static xmsg_xel *pubsub_iq(const char *type, const char *ns, xmsg_xel **ps)
{
    xmsg_xel *iq = xmsg_xel_new(XMSG_NS_CLIENT, "iq");

    *ps = iq ? xmsg_xel_add_new(iq, ns, "pubsub") : NULL;
    if (!*ps || xmsg_xel_set_attr(iq, "type", type)) {
        xmsg_xel_free(iq);
        return NULL;
    }
    return iq;
}

/* The first item's payload of node from jid: *payload borrowed from
 * *wrap, NULL when the node or its item does not exist. */
static xmsg_err fetch(xmsg_conn *c, const char *jid, const char *node,
                      xmsg_xel **wrap, const xmsg_xel **payload)
{
    xmsg_xel *ps, *iq = pubsub_iq("get", XMSG_NS_PUBSUB, &ps), *items;
    const xmsg_xel *ans, *it;
    char cond[64];
    xmsg_err rc;

    *payload = NULL;
    items = ps ? xmsg_xel_add_new(ps, NULL, "items") : NULL;
    if (!items || xmsg_xel_set_attr(items, "node", node) ||
        xmsg_xel_set_attr(items, "max_items", "1")) {
        xmsg_xel_free(iq);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    rc = xmsg_conn_ask(c, iq, jid, wrap, &ans);
    xmsg_xel_free(iq);
    if (rc)
        return rc;
    if (!is_result(ans)) {
        xmsg_error_condition(ans, cond, sizeof(cond));
        if (strcmp(cond, "item-not-found") == 0)
            return XMSG_OK; /* no such node: nothing published */
        /* Prosody answers so for a node that does not exist, to whoever
         * may not see the account's presence: nothing we can use. */
        if (strcmp(cond, "forbidden") == 0) {
            xmsg_conn_log(c, XMSG_LOG_WARN,
                          "OMEMO: %s of %s: forbidden (none, or not open "
                          "to us)",
                          node, jid ? jid : "our account");
            return XMSG_OK;
        }
        return xmsg_status_fail(c->st, XMSG_ERR_PROTOCOL, "OMEMO: %s of %s: %s",
                                node, jid ? jid : "our account", cond);
    }
    items = xmsg_xel_child(xmsg_xel_child(ans, XMSG_NS_PUBSUB, "pubsub"),
                           XMSG_NS_PUBSUB, "items");
    it = xmsg_xel_child(items, XMSG_NS_PUBSUB, "item");
    *payload = it ? xmsg_xel_child(it, XMSG_OMEMO_NS, NULL) : NULL;
    return XMSG_OK;
}

xmsg_err xmsg_omemo_pep_devices(xmsg_conn *c, const char *jid, uint32_t **ids,
                                size_t *n)
{
    xmsg_xel *wrap = NULL;
    const xmsg_xel *list;
    xmsg_err rc = fetch(c, jid, XMSG_OMEMO_NODE_DEVICES, &wrap, &list);

    *ids = NULL;
    *n = 0;
    if (!rc && xmsg_omemo_devicelist_parse(list, ids, n))
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    xmsg_xel_free(wrap);
    return rc;
}

xmsg_err xmsg_omemo_pep_bundle(xmsg_conn *c, const char *jid, uint32_t dev,
                               xmsg_xel **wrap, const xmsg_xel **bundle)
{
    char node[sizeof(XMSG_OMEMO_NODE_BUNDLES) + 16];

    snprintf(node, sizeof(node), "%s%u", XMSG_OMEMO_NODE_BUNDLES,
             (unsigned)dev);
    return fetch(c, jid, node, wrap, bundle);
}

/* <x xmlns='jabber:x:data' type='submit'> of form_type with
 * pubsub#access_model=open, under parent. 0 or -1. */
static int open_form(xmsg_xel *parent, const char *form_type)
{
    xmsg_xel *x = xmsg_xel_add_new(parent, XMSG_NS_DATA, "x"), *f, *g;

    f = x ? xmsg_xel_add_new(x, NULL, "field") : NULL;
    g = x ? xmsg_xel_add_new(x, NULL, "field") : NULL;
    if (!g || xmsg_xel_set_attr(x, "type", "submit") ||
        xmsg_xel_set_attr(f, "var", "FORM_TYPE") ||
        xmsg_xel_set_attr(f, "type", "hidden") ||
        !xmsg_el_add(f, NULL, "value", form_type) ||
        xmsg_xel_set_attr(g, "var", "pubsub#access_model") ||
        !xmsg_el_add(g, NULL, "value", "open"))
        return -1;
    return 0;
}

/* Publishes a copy of payload as item "current" of node, open to
 * anyone. *cond: the error condition ("" when done). */
static xmsg_err publish_once(xmsg_conn *c, const char *node,
                             const xmsg_xel *payload, char *cond, size_t len)
{
    xmsg_xel *ps, *iq = pubsub_iq("set", XMSG_NS_PUBSUB, &ps), *pub, *item;
    xmsg_xel *opts, *wrap = NULL, *copy = NULL;
    const xmsg_xel *ans;
    xmsg_buf b = {0};
    xmsg_err rc;

    cond[0] = '\0';
    if (xmsg_xel_write(payload, NULL, &b) == XMSG_OK)
        copy = xmsg_xml_parse_fragment(b.d);
    xmsg_buf_free(&b);
    pub = ps ? xmsg_xel_add_new(ps, NULL, "publish") : NULL;
    item = pub ? xmsg_xel_add_new(pub, NULL, "item") : NULL;
    opts = ps ? xmsg_xel_add_new(ps, NULL, "publish-options") : NULL;
    if (!copy || !item || !opts || xmsg_xel_set_attr(pub, "node", node) ||
        xmsg_xel_set_attr(item, "id", "current") ||
        xmsg_xel_add_child(item, xmsg_xel_detach(xmsg_xel_first(copy))) ||
        open_form(opts, XMSG_NS_PUBSUB "#publish-options")) {
        rc = xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = xmsg_conn_ask(c, iq, NULL, &wrap, &ans);
    if (!rc && !is_result(ans)) {
        if (xmsg_xel_child(xmsg_el_child(ans, "error"), XMSG_NS_PUBSUB_ERRORS,
                           "precondition-not-met"))
            snprintf(cond, len, "precondition-not-met");
        else
            xmsg_error_condition(ans, cond, len);
    }
out:
    xmsg_xel_free(wrap);
    xmsg_xel_free(copy);
    xmsg_xel_free(iq);
    return rc;
}

/* Sets node's access model to open (we own it: it is in our PEP). */
static xmsg_err reconfigure(xmsg_conn *c, const char *node)
{
    xmsg_xel *ps, *iq = pubsub_iq("set", XMSG_NS_PUBSUB_OWNER, &ps), *conf;
    xmsg_xel *wrap = NULL;
    const xmsg_xel *ans;
    char cond[64];
    xmsg_err rc;

    conf = ps ? xmsg_xel_add_new(ps, NULL, "configure") : NULL;
    if (!conf || xmsg_xel_set_attr(conf, "node", node) ||
        open_form(conf, XMSG_NS_PUBSUB "#node_config")) {
        xmsg_xel_free(iq);
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    }
    rc = xmsg_conn_ask(c, iq, NULL, &wrap, &ans);
    if (!rc && !is_result(ans)) {
        xmsg_error_condition(ans, cond, sizeof(cond));
        rc = xmsg_status_fail(c->st, XMSG_ERR_PROTOCOL,
                              "OMEMO: cannot make %s open: %s", node, cond);
    }
    xmsg_xel_free(wrap);
    xmsg_xel_free(iq);
    return rc;
}

/* Publishes, reconfiguring the node once when its access model is not
 * open (precondition-not-met). */
static xmsg_err publish(xmsg_conn *c, const char *node, const xmsg_xel *payload)
{
    char cond[64];
    xmsg_err rc = publish_once(c, node, payload, cond, sizeof(cond));

    if (!rc && strcmp(cond, "precondition-not-met") == 0) {
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "OMEMO: %s is not open: reconfiguring it", node);
        rc = reconfigure(c, node);
        if (!rc)
            rc = publish_once(c, node, payload, cond, sizeof(cond));
    }
    if (!rc && cond[0])
        rc = xmsg_status_fail(c->st, XMSG_ERR_PROTOCOL,
                              "OMEMO: cannot publish %s: %s", node, cond);
    return rc;
}

static int has(const uint32_t *ids, size_t n, uint32_t id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (ids[i] == id)
            return 1;
    }
    return 0;
}

/* Our device list with our device added (the others kept). */
static xmsg_err publish_devices(xmsg_conn *c, uint32_t dev)
{
    uint32_t *ids = NULL, *more;
    size_t n = 0;
    xmsg_xel *list = NULL;
    xmsg_err rc = xmsg_omemo_pep_devices(c, NULL, &ids, &n);

    if (rc || has(ids, n, dev))
        goto out;
    more = realloc(ids, (n + 1) * sizeof(*ids));
    if (more) {
        ids = more;
        ids[n++] = dev;
        list = xmsg_omemo_devicelist_build(ids, n);
    }
    rc = list ? publish(c, XMSG_OMEMO_NODE_DEVICES, list)
              : xmsg_status_fail(c->st, XMSG_ERR_INTERNAL, "out of memory");
    if (!rc)
        xmsg_conn_log(c, XMSG_LOG_INFO,
                      "OMEMO: device %u added to our list (%zu devices)",
                      (unsigned)dev, n);
out:
    xmsg_xel_free(list);
    free(ids);
    return rc;
}

xmsg_err xmsg_omemo_pep_publish(xmsg_conn *c, xmsg_omemo_store *store)
{
    const uint32_t dev = xmsg_omemo_store_device_id(store);
    char node[sizeof(XMSG_OMEMO_NODE_BUNDLES) + 16];
    xmsg_xel *bundle = xmsg_omemo_bundle_build(store);
    xmsg_err rc;

    if (!bundle)
        return xmsg_status_fail(c->st, XMSG_ERR_INTERNAL,
                                "OMEMO: cannot build our bundle");
    snprintf(node, sizeof(node), "%s%u", XMSG_OMEMO_NODE_BUNDLES,
             (unsigned)dev);
    rc = publish(c, node, bundle);
    xmsg_xel_free(bundle);
    if (!rc)
        rc = publish_devices(c, dev);
    return rc;
}
