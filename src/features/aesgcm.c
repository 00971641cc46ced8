/* aesgcm.c - see aesgcm.h: XEP-0454's AES-256-GCM and aesgcm:// URLs. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "features/aesgcm.h"

#define SCHEME "aesgcm://"
#define SCHEME_LEN 9

struct xmsg_aesgcm {
    EVP_CIPHER_CTX *ctx;
    int encrypt;
};

int xmsg_aesgcm_key_new(xmsg_aesgcm_key *k)
{
    memset(k, 0, sizeof(*k));
    k->iv_len = XMSG_AESGCM_IV;
    if (RAND_bytes(k->key, sizeof(k->key)) != 1 ||
        RAND_bytes(k->iv, XMSG_AESGCM_IV) != 1)
        return -1;
    return 0;
}

xmsg_aesgcm *xmsg_aesgcm_new(const xmsg_aesgcm_key *k, int encrypt)
{
    xmsg_aesgcm *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->encrypt = encrypt;
    g->ctx = EVP_CIPHER_CTX_new();
    if (!g->ctx ||
        !EVP_CipherInit_ex(g->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
                           encrypt) ||
        !EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_IVLEN, (int)k->iv_len,
                             NULL) ||
        !EVP_CipherInit_ex(g->ctx, NULL, NULL, k->key, k->iv, encrypt)) {
        xmsg_aesgcm_free(g);
        return NULL;
    }
    return g;
}

int xmsg_aesgcm_update(xmsg_aesgcm *g, const uint8_t *in, size_t n,
                       uint8_t *out)
{
    int outl = 0, step;

    while (n > 0) {
        step = n > (1u << 20) ? 1 << 20 : (int)n;
        if (!EVP_CipherUpdate(g->ctx, out, &outl, in, step) || outl != step)
            return -1;
        in += step;
        out += step;
        n -= (size_t)step;
    }
    return 0;
}

int xmsg_aesgcm_tag(xmsg_aesgcm *g, uint8_t tag[XMSG_AESGCM_TAG])
{
    uint8_t none[16];
    int outl = 0;

    if (!g->encrypt || !EVP_CipherFinal_ex(g->ctx, none, &outl) || outl ||
        !EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_GET_TAG, XMSG_AESGCM_TAG,
                             tag))
        return -1;
    return 0;
}

int xmsg_aesgcm_verify(xmsg_aesgcm *g, const uint8_t tag[XMSG_AESGCM_TAG])
{
    uint8_t copy[XMSG_AESGCM_TAG], none[16];
    int outl = 0;

    memcpy(copy, tag, sizeof(copy));
    if (g->encrypt ||
        !EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_TAG, XMSG_AESGCM_TAG,
                             copy) ||
        EVP_CipherFinal_ex(g->ctx, none, &outl) != 1 || outl)
        return -1;
    return 0;
}

void xmsg_aesgcm_free(xmsg_aesgcm *g)
{
    if (!g)
        return;
    EVP_CIPHER_CTX_free(g->ctx);
    free(g);
}

int xmsg_aesgcm_is_url(const char *s)
{
    return s && strncasecmp(s, SCHEME, SCHEME_LEN) == 0;
}

static void hex(xmsg_buf *b, const uint8_t *d, size_t n, int *rc)
{
    char two[3];
    size_t i;

    for (i = 0; !*rc && i < n; i++) {
        snprintf(two, sizeof(two), "%02x", d[i]);
        *rc = xmsg_buf_str(b, two);
    }
}

char *xmsg_aesgcm_url(const char *https_url, const xmsg_aesgcm_key *k)
{
    xmsg_buf b = {NULL, 0, 0};
    int rc;

    if (!https_url || strncasecmp(https_url, "https://", 8) != 0 ||
        strchr(https_url, '#') || !https_url[8])
        return NULL;
    rc = xmsg_buf_str(&b, SCHEME) || xmsg_buf_str(&b, https_url + 8);
    rc = rc || xmsg_buf_str(&b, "#");
    hex(&b, k->iv, k->iv_len, &rc);
    hex(&b, k->key, sizeof(k->key), &rc);
    if (rc) {
        xmsg_buf_free(&b);
        return NULL;
    }
    return b.d;
}

/* The fragment's hex into k: IV (12 or 16 bytes) then the key. */
static int read_fragment(const char *f, xmsg_aesgcm_key *k)
{
    const size_t n = strlen(f);
    uint8_t raw[XMSG_AESGCM_IV_OLD + XMSG_AESGCM_KEY];
    size_t i;
    int hi, lo;

    if (n != 2 * (XMSG_AESGCM_IV + XMSG_AESGCM_KEY) &&
        n != 2 * (XMSG_AESGCM_IV_OLD + XMSG_AESGCM_KEY))
        return -1;
    for (i = 0; i < n / 2; i++) {
        hi = xmsg_hex_value(f[2 * i]);
        lo = xmsg_hex_value(f[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        raw[i] = (uint8_t)(hi << 4 | lo);
    }
    k->iv_len = n / 2 - XMSG_AESGCM_KEY;
    memcpy(k->iv, raw, k->iv_len);
    memcpy(k->key, raw + k->iv_len, XMSG_AESGCM_KEY);
    xmsg_secure_zero(raw, sizeof(raw));
    return 0;
}

int xmsg_aesgcm_parse_url(const char *url, char **https, xmsg_aesgcm_key *k,
                          char *err, size_t len)
{
    const char *hash = url ? strchr(url, '#') : NULL;
    xmsg_buf b = {NULL, 0, 0};

    *https = NULL;
    memset(k, 0, sizeof(*k));
    if (!xmsg_aesgcm_is_url(url) || !hash) {
        snprintf(err, len, "not an aesgcm:// URL with a key (#fragment)");
        return -1;
    }
    if (hash == url + SCHEME_LEN || url[SCHEME_LEN] == '/') {
        snprintf(err, len, "the aesgcm:// URL names no host");
        return -1;
    }
    if (read_fragment(hash + 1, k)) {
        snprintf(err, len,
                 "the aesgcm:// URL's fragment is not 88 or 96 "
                 "hex digits (IV and key)");
        return -1;
    }
    if (xmsg_buf_str(&b, "https://") ||
        xmsg_buf_put(&b, url + SCHEME_LEN, (size_t)(hash - url - SCHEME_LEN))) {
        xmsg_buf_free(&b);
        snprintf(err, len, "out of memory");
        return -1;
    }
    *https = b.d;
    return 0;
}

int xmsg_take_aesgcm_url(xmsg_message *m)
{
    const char *body = xmsg_message_get(m, "body");
    size_t n;
    char *url;
    int rc;

    if (!body)
        return 0;
    body += strspn(body, " \t\r\n");
    n = strcspn(body, " \t\r\n");
    if (!xmsg_aesgcm_is_url(body) || !strchr(body, '#') ||
        body[n + strspn(body + n, " \t\r\n")] != '\0')
        return 0;
    url = xmsg_strndup(body, n);
    if (!url)
        return -1;
    rc = xmsg_message_put(m, "url", url);
    free(url);
    return rc;
}
