/* crypto.c - see omemo.h: libomemo-c's crypto provider over OpenSSL 3, and
 * the AES-128-GCM of the payload. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "omemo/omemo.h"
#include "xmpp/sasl.h"

static int random_bytes(uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    if (len > INT32_MAX)
        return SG_ERR_INVAL;
    return RAND_bytes(data, (int)len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int hmac_init(void **ctx, const uint8_t *key, size_t key_len, void *ud)
{
    static const uint8_t none[1];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};

    (void)ud;
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (!c || !EVP_MAC_init(c, key_len ? key : none, key_len, params)) {
        EVP_MAC_CTX_free(c);
        return SG_ERR_UNKNOWN;
    }
    *ctx = c;
    return 0;
}

static int hmac_update(void *ctx, const uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    return EVP_MAC_update(ctx, data, len) ? 0 : SG_ERR_UNKNOWN;
}

static int hmac_final(void *ctx, signal_buffer **out, void *ud)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t n = 0;

    (void)ud;
    if (!EVP_MAC_final(ctx, md, &n, sizeof(md)))
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(md, n);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void hmac_cleanup(void *ctx, void *ud)
{
    (void)ud;
    EVP_MAC_CTX_free(ctx);
}

static int sha512_init(void **ctx, void *ud)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    (void)ud;
    if (!c || !EVP_DigestInit_ex(c, EVP_sha512(), NULL)) {
        EVP_MD_CTX_free(c);
        return SG_ERR_UNKNOWN;
    }
    *ctx = c;
    return 0;
}

static int sha512_update(void *ctx, const uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    return EVP_DigestUpdate(ctx, data, len) ? 0 : SG_ERR_UNKNOWN;
}

/* Final, then ready for the next digest (as libomemo-c asks). */
static int sha512_final(void *ctx, signal_buffer **out, void *ud)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    (void)ud;
    if (!EVP_DigestFinal_ex(ctx, md, &n) ||
        !EVP_DigestInit_ex(ctx, EVP_sha512(), NULL))
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(md, n);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void sha512_cleanup(void *ctx, void *ud)
{
    (void)ud;
    EVP_MD_CTX_free(ctx);
}

static const EVP_CIPHER *aes(int cipher, size_t key_len)
{
    const int cbc = cipher == SG_CIPHER_AES_CBC_PKCS5;

    if (cipher != SG_CIPHER_AES_CBC_PKCS5 &&
        cipher != SG_CIPHER_AES_CTR_NOPADDING)
        return NULL;
    switch (key_len) {
    case 16:
        return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ctr();
    case 24:
        return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ctr();
    case 32:
        return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ctr();
    default:
        return NULL;
    }
}

/* One AES pass (enc 1 or 0) of in into a new signal buffer. */
static int aes_run(signal_buffer **out, int cipher, const uint8_t *key,
                   size_t key_len, const uint8_t *iv, size_t iv_len,
                   const uint8_t *in, size_t len, int enc)
{
    const EVP_CIPHER *c = aes(cipher, key_len);
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *buf = NULL;
    int n1 = 0, n2 = 0, rc = SG_ERR_UNKNOWN;

    if (!c || iv_len != 16 || len > INT32_MAX - 32)
        return SG_ERR_INVAL;
    ctx = EVP_CIPHER_CTX_new();
    buf = malloc(len + 32);
    if (!ctx || !buf) {
        rc = SG_ERR_NOMEM;
        goto out;
    }
    if (!EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) ||
        !EVP_CipherUpdate(ctx, buf, &n1, in, (int)len) ||
        !EVP_CipherFinal_ex(ctx, buf + n1, &n2))
        goto out;
    *out = signal_buffer_create(buf, (size_t)n1 + (size_t)n2);
    rc = *out ? 0 : SG_ERR_NOMEM;
out:
    if (buf)
        xmsg_sasl_free_secret(buf, len + 32);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static int encrypt(signal_buffer **out, int cipher, const uint8_t *key,
                   size_t key_len, const uint8_t *iv, size_t iv_len,
                   const uint8_t *in, size_t len, void *ud)
{
    (void)ud;
    return aes_run(out, cipher, key, key_len, iv, iv_len, in, len, 1);
}

static int decrypt(signal_buffer **out, int cipher, const uint8_t *key,
                   size_t key_len, const uint8_t *iv, size_t iv_len,
                   const uint8_t *in, size_t len, void *ud)
{
    (void)ud;
    return aes_run(out, cipher, key, key_len, iv, iv_len, in, len, 0);
}

static const signal_crypto_provider provider = {
    .random_func = random_bytes,
    .hmac_sha256_init_func = hmac_init,
    .hmac_sha256_update_func = hmac_update,
    .hmac_sha256_final_func = hmac_final,
    .hmac_sha256_cleanup_func = hmac_cleanup,
    .sha512_digest_init_func = sha512_init,
    .sha512_digest_update_func = sha512_update,
    .sha512_digest_final_func = sha512_final,
    .sha512_digest_cleanup_func = sha512_cleanup,
    .encrypt_func = encrypt,
    .decrypt_func = decrypt,
    .user_data = NULL,
};

const signal_crypto_provider *xmsg_omemo_crypto(void)
{
    return &provider;
}

signal_context *xmsg_omemo_context_new(void)
{
    signal_context *ctx = NULL;

    if (signal_context_create(&ctx, NULL) != 0)
        return NULL;
    if (signal_context_set_crypto_provider(ctx, &provider) != 0) {
        signal_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

static int gcm_run(const uint8_t key[16], const uint8_t iv[12],
                   const uint8_t *in, size_t len, uint8_t tag[16], uint8_t *out,
                   int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok;

    if (!ctx || len > INT32_MAX) {
        EVP_CIPHER_CTX_free(ctx);
        return -1;
    }
    ok = EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL, enc) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) &&
         (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag)) &&
         (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len)) &&
         EVP_CipherFinal_ex(ctx, out + n, &n) &&
         (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag));
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int xmsg_omemo_gcm_encrypt(const uint8_t key[16], const uint8_t iv[12],
                           const uint8_t *in, size_t len, uint8_t *out,
                           uint8_t tag[16])
{
    return gcm_run(key, iv, in, len, tag, out, 1);
}

int xmsg_omemo_gcm_decrypt(const uint8_t key[16], const uint8_t iv[12],
                           const uint8_t *in, size_t len, const uint8_t tag[16],
                           uint8_t *out)
{
    uint8_t t[16];

    memcpy(t, tag, 16);
    return gcm_run(key, iv, in, len, t, out, 0);
}

char *xmsg_omemo_fingerprint_of(const uint8_t *key, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *fp, *p;
    size_t i;

    if (len == 33 && key[0] == 0x05) {
        key++;
        len--;
    }
    if (len != 32)
        return NULL;
    fp = malloc(32 * 2 + 8);
    if (!fp)
        return NULL;
    for (i = 0, p = fp; i < 32; i++) {
        if (i && i % 4 == 0)
            *p++ = ' ';
        *p++ = hex[key[i] >> 4];
        *p++ = hex[key[i] & 15];
    }
    *p = '\0';
    return fp;
}

int xmsg_omemo_b64_decode(const char *s, uint8_t **out, size_t *len)
{
    size_t n = strlen(s), i, j = 0;
    char *clean = malloc(n + 1);
    unsigned char *dec = NULL;
    int rc;

    if (!clean)
        return -2;
    for (i = 0; i < n; i++) {
        if (!strchr(" \t\r\n", s[i]))
            clean[j++] = s[i];
    }
    clean[j] = '\0';
    rc = xmsg_sasl_b64_decode(clean, j, &dec, len);
    free(clean);
    *out = rc == 0 ? dec : NULL;
    return rc;
}
