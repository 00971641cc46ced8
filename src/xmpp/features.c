/* features.c - the pure parts of the stream: features, the stream header,
 * XEP-0198 counter arithmetic, the XEP-0078 digest, stream-error
 * conditions. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "xmpp/stream.h"

void xmsg_stream_features_clear(xmsg_stream_features *f)
{
    xmsg_strvec_clear(&f->mechs);
    memset(f, 0, sizeof(*f));
}

/* A mechanism name we keep: printable ASCII, 1..64 bytes. */
static int mech_name_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    }
    return 1;
}

static xmsg_err parse_mechs(const xmsg_xel *mechs, xmsg_stream_features *out)
{
    const xmsg_xel *m;
    char *name;

    out->has_mechs = 1;
    for (m = xmsg_xel_child(mechs, XMSG_NS_SASL, "mechanism"); m;
         m = xmsg_xel_next_el(m, XMSG_NS_SASL, "mechanism")) {
        if (out->mechs.n >= XMSG_STREAM_MECHS_MAX)
            return XMSG_ERR_PROTOCOL;
        name = xmsg_xel_text(m);
        if (!name)
            return XMSG_ERR_INTERNAL;
        if (!mech_name_ok(name)) {
            free(name);
            return XMSG_ERR_PROTOCOL;
        }
        if (xmsg_strvec_push_owned(&out->mechs, name))
            return XMSG_ERR_INTERNAL; /* name freed by the push */
    }
    return XMSG_OK;
}

static void parse_cb(const xmsg_xel *list, xmsg_stream_features *out)
{
    const xmsg_xel *c;

    out->server_cb_listed = 1;
    for (c = xmsg_xel_child(list, XMSG_NS_SASL_CB, "channel-binding"); c;
         c = xmsg_xel_next_el(c, XMSG_NS_SASL_CB, "channel-binding")) {
        const char *type = xmsg_xel_attr(c, "type");

        if (type)
            out->server_cb |= (unsigned)xmsg_sasl_cb_parse(type);
    }
}

xmsg_err xmsg_stream_features_parse(const xmsg_xel *features,
                                    xmsg_stream_features *out)
{
    const xmsg_xel *c;

    memset(out, 0, sizeof(*out));
    if (!features)
        return XMSG_ERR_INTERNAL;
    for (c = xmsg_xel_child(features, NULL, NULL); c;
         c = xmsg_xel_next_el(c, NULL, NULL)) {
        xmsg_err rc = XMSG_OK;

        if (xmsg_xel_is(c, XMSG_NS_TLS, "starttls")) {
            out->starttls = 1;
            out->starttls_required =
                xmsg_xel_child(c, XMSG_NS_TLS, "required") != NULL;
        } else if (xmsg_xel_is(c, XMSG_NS_SASL, "mechanisms"))
            rc = parse_mechs(c, out);
        else if (xmsg_xel_is(c, XMSG_NS_SASL_CB, "sasl-channel-binding"))
            parse_cb(c, out);
        else if (xmsg_xel_is(c, XMSG_NS_BIND, "bind"))
            out->bind = 1;
        else if (xmsg_xel_is(c, XMSG_NS_SESSION, "session")) {
            out->session = 1;
            out->session_optional =
                xmsg_xel_child(c, XMSG_NS_SESSION, "optional") != NULL;
        } else if (xmsg_xel_is(c, XMSG_NS_SM, "sm"))
            out->sm = 1;
        else if (xmsg_xel_is(c, XMSG_NS_IQAUTH_FEATURE, "auth"))
            out->iq_auth = 1;
        if (rc) {
            xmsg_stream_features_clear(out);
            return rc;
        }
    }
    return XMSG_OK;
}

static xmsg_err put_attr(xmsg_buf *out, const char *name, const char *value)
{
    if (xmsg_buf_str(out, " ") || xmsg_buf_str(out, name) ||
        xmsg_buf_str(out, "='"))
        return XMSG_ERR_INTERNAL;
    xmsg_err rc = xmsg_xml_escape_text(out, value, strlen(value), 1);
    if (rc)
        return rc;
    return xmsg_buf_str(out, "'") ? XMSG_ERR_INTERNAL : XMSG_OK;
}

xmsg_err xmsg_stream_header(xmsg_buf *out, const char *domain, const char *from)
{
    size_t before = out->len;
    xmsg_err rc = XMSG_ERR_INTERNAL;

    if (!domain || !*domain)
        return XMSG_ERR_INPUT;
    if (xmsg_buf_str(
            out, "<?xml version='1.0'?><stream:stream xmlns='" XMSG_NS_CLIENT
                 "' xmlns:stream='" XMSG_NS_STREAMS "'"))
        goto out;
    rc = put_attr(out, "to", domain);
    if (!rc && from)
        rc = put_attr(out, "from", from);
    if (rc)
        goto out;
    rc = xmsg_buf_str(out, " version='1.0' xml:lang='en'>") ? XMSG_ERR_INTERNAL
                                                            : XMSG_OK;
out:
    if (rc && out->d) {
        out->len = before;
        out->d[before] = '\0';
    }
    return rc;
}

uint32_t xmsg_sm_newly_acked(uint32_t last, uint32_t h)
{
    return h - last; /* unsigned: modulo 2^32 */
}

int xmsg_sm_ack_valid(uint32_t last, uint32_t h, uint32_t sent)
{
    return xmsg_sm_newly_acked(last, h) <= (uint32_t)(sent - last);
}

int xmsg_legacy_digest(const char *stream_id, const char *password,
                       char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;

    if (!ctx || !stream_id || !password)
        goto out;
    if (!EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
        !EVP_DigestUpdate(ctx, stream_id, strlen(stream_id)) ||
        !EVP_DigestUpdate(ctx, password, strlen(password)) ||
        !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 20)
        goto out;
    for (i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    xmsg_secure_zero(md, sizeof(md));
    return rc;
}

const char *xmsg_stream_error_condition(const xmsg_xel *err)
{
    const xmsg_xel *c = xmsg_xel_child(err, XMSG_NS_STREAM_ERR, NULL);

    while (c && xmsg_xel_is(c, XMSG_NS_STREAM_ERR, "text"))
        c = xmsg_xel_next_el(c, XMSG_NS_STREAM_ERR, NULL);
    return c ? xmsg_xel_name(c) : "undefined-condition";
}
