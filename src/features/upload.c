/* upload.c - see upload.h: reading the disco#info and slot answers. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "features/upload.h"

#define NS_DATA "jabber:x:data"

/* The text of the first <value/> of field var in form, or NULL (owned). */
static char *field_value(const xmsg_xel *form, const char *var)
{
    const xmsg_xel *f, *v;
    const char *name;

    for (f = xmsg_xel_child(form, NS_DATA, "field"); f;
         f = xmsg_xel_next_el(f, NS_DATA, "field")) {
        name = xmsg_xel_attr(f, "var");
        v = xmsg_xel_child(f, NS_DATA, "value");
        if (name && strcmp(name, var) == 0 && v)
            return xmsg_xel_text(v);
    }
    return NULL;
}

/* Parses a non-negative decimal number that fits int64_t; 0 or -1. */
static int parse_size(const char *s, int64_t *out)
{
    const char *p;
    char *end;
    long long v;

    for (p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
    }
    if (p == s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* max-file-size of the upload form among query's forms: 0 (found or
 * absent: *max_size -1), -1 malformed. */
static int form_max_size(const xmsg_xel *query, int64_t *max_size)
{
    const xmsg_xel *x;
    char *type, *size;
    int rc = 0, ours;

    *max_size = -1;
    for (x = xmsg_xel_child(query, NS_DATA, "x"); x && !rc;
         x = xmsg_xel_next_el(x, NS_DATA, "x")) {
        type = field_value(x, "FORM_TYPE");
        ours = type && strcmp(type, XMSG_NS_UPLOAD) == 0;
        free(type);
        size = ours ? field_value(x, "max-file-size") : NULL;
        if (size)
            rc = parse_size(size, max_size);
        free(size);
    }
    return rc;
}

int xmsg_upload_parse_info(const xmsg_xel *iq, int64_t *max_size)
{
    const char *type = xmsg_xel_attr(iq, "type"), *var;
    const xmsg_xel *q = xmsg_xel_child(iq, XMSG_NS_DISCO_INFO, "query");
    const xmsg_xel *f;

    *max_size = -1;
    if (!type || strcmp(type, "result") != 0 || !q)
        return 0;
    for (f = xmsg_xel_child(q, XMSG_NS_DISCO_INFO, "feature"); f;
         f = xmsg_xel_next_el(f, XMSG_NS_DISCO_INFO, "feature")) {
        var = xmsg_xel_attr(f, "var");
        if (var && strcmp(var, XMSG_NS_UPLOAD) == 0)
            return form_max_size(q, max_size) ? -1 : 1;
    }
    return 0;
}

/* 1 if url is an absolute http(s) URL with a host and no space or control
 * character (https only unless plaintext_ok). */
static int url_ok(const char *url, int plaintext_ok)
{
    const char *p, *rest;

    if (!url)
        return 0;
    if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (plaintext_ok && strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else
        return 0;
    if (!*rest || *rest == '/')
        return 0;
    for (p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    }
    return 1;
}

/* The allowed spelling of a header name, or NULL (names compare without
 * case). */
static const char *allowed_header(const char *name)
{
    static const char *const allowed[] = {"Authorization", "Cookie", "Expires"};
    size_t i;

    for (i = 0; name && i < XMSG_UPLOAD_MAX_HEADERS; i++) {
        if (strcasecmp(name, allowed[i]) == 0)
            return allowed[i];
    }
    return NULL;
}

static int has_header(const xmsg_upload_slot *slot, const char *name)
{
    size_t i;

    for (i = 0; i < slot->nh; i++) {
        if (strcmp(slot->hname[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Takes put's allowed headers into slot. 0, -1 bad value, -2 memory. */
static int take_headers(const xmsg_xel *put, xmsg_upload_slot *slot)
{
    const xmsg_xel *h;
    const char *name;
    char *value;

    for (h = xmsg_xel_child(put, XMSG_NS_UPLOAD, "header"); h;
         h = xmsg_xel_next_el(h, XMSG_NS_UPLOAD, "header")) {
        name = allowed_header(xmsg_xel_attr(h, "name"));
        if (!name || has_header(slot, name))
            continue;
        value = xmsg_xel_text(h);
        if (!value)
            return -2;
        if (strpbrk(value, "\r\n")) {
            free(value);
            return -1;
        }
        slot->hvalue[slot->nh] = value;
        slot->hname[slot->nh] = xmsg_strdup(name);
        if (!slot->hname[slot->nh++])
            return -2;
    }
    return 0;
}

static xmsg_err slot_fail(char *err, size_t len, xmsg_err code,
                          const char *what)
{
    snprintf(err, len, "%s", what);
    return code;
}

static xmsg_err refused(const xmsg_xel *iq, char *err, size_t len)
{
    char cond[64];

    xmsg_error_condition(iq, cond, sizeof(cond));
    snprintf(err, len, "the upload service refused the slot: %s", cond);
    return XMSG_ERR_PROTOCOL;
}

xmsg_err xmsg_upload_parse_slot(const xmsg_xel *iq, int plaintext_ok,
                                xmsg_upload_slot *slot, char *err, size_t len)
{
    const char *type = xmsg_xel_attr(iq, "type");
    const xmsg_xel *s = xmsg_xel_child(iq, XMSG_NS_UPLOAD, "slot");
    const xmsg_xel *put = s ? xmsg_xel_child(s, XMSG_NS_UPLOAD, "put") : NULL;
    const xmsg_xel *get = s ? xmsg_xel_child(s, XMSG_NS_UPLOAD, "get") : NULL;
    const char *pu = xmsg_el_attr(put, "url"), *gu = xmsg_el_attr(get, "url");
    int rc;

    memset(slot, 0, sizeof(*slot));
    if (type && strcmp(type, "error") == 0)
        return refused(iq, err, len);
    if (!type || strcmp(type, "result") != 0 || !put || !get)
        return slot_fail(err, len, XMSG_ERR_PROTOCOL,
                         "the upload service answered without a slot");
    if (!url_ok(pu, plaintext_ok) || !url_ok(gu, plaintext_ok))
        return slot_fail(err, len, XMSG_ERR_PROTOCOL,
                         plaintext_ok ? "the slot's URL is not http(s)"
                                      : "the slot's URL is not https");
    slot->put_url = xmsg_strdup(pu);
    slot->get_url = xmsg_strdup(gu);
    rc = slot->put_url && slot->get_url ? take_headers(put, slot) : -2;
    if (rc)
        xmsg_upload_slot_clear(slot);
    if (rc == -1)
        return slot_fail(err, len, XMSG_ERR_PROTOCOL,
                         "the slot has a header value with a line break");
    if (rc)
        return slot_fail(err, len, XMSG_ERR_INTERNAL, "out of memory");
    return XMSG_OK;
}

void xmsg_upload_slot_clear(xmsg_upload_slot *slot)
{
    size_t i;

    for (i = 0; i < XMSG_UPLOAD_MAX_HEADERS; i++) {
        free(slot->hname[i]);
        free(slot->hvalue[i]);
    }
    free(slot->put_url);
    free(slot->get_url);
    memset(slot, 0, sizeof(*slot));
}

void xmsg_upload_svc_clear(xmsg_upload_svc *svc)
{
    free(svc->jid);
    svc->jid = NULL;
    svc->max_size = -1;
}
