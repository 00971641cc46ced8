/* test_omemo_crypto.c - the crypto provider of libomemo-c over OpenSSL 3
 * against published vectors (RFC 4231 HMAC-SHA256, FIPS 180 SHA-512,
 * NIST SP 800-38A AES-CBC and AES-CTR, the GCM spec's AES-128 cases),
 * and the fingerprint's form. */
#include "unit.h"

#include "omemo/omemo.h"

/* hex -> bytes; returns the length. */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    unsigned int b;

    while (hex[0] && hex[1] && sscanf(hex, "%2x", &b) == 1) {
        out[n++] = (uint8_t)b;
        hex += 2;
    }
    return n;
}

static void assert_buf_hex(signal_buffer *b, const char *hex)
{
    uint8_t want[256];
    const size_t n = unhex(hex, want);

    assert_non_null(b);
    assert_int_equal(signal_buffer_len(b), n);
    assert_memory_equal(signal_buffer_data(b), want, n);
}

static const struct {
    const char *key, *data, *mac; /* key and data in hex */
} hmac_rows[] = {
    /* RFC 4231 4.2, 4.3, 4.4, 4.7 */
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddddddddddddddddddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a6520"
     "4b6579202d2048617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
};

/* HMAC in two updates (split in the middle), as libomemo-c feeds it. */
static void test_hmac_sha256_rfc4231(void **state)
{
    const signal_crypto_provider *c = xmsg_omemo_crypto();
    uint8_t key[256], data[256];
    signal_buffer *out = NULL;
    size_t i, kn, dn;
    void *ctx = NULL;

    (void)state;
    for (i = 0; i < N_ROWS(hmac_rows); i++) {
        kn = unhex(hmac_rows[i].key, key);
        dn = unhex(hmac_rows[i].data, data);
        assert_int_equal(c->hmac_sha256_init_func(&ctx, key, kn, NULL), 0);
        assert_int_equal(c->hmac_sha256_update_func(ctx, data, dn / 2, NULL),
                         0);
        assert_int_equal(
            c->hmac_sha256_update_func(ctx, data + dn / 2, dn - dn / 2, NULL),
            0);
        assert_int_equal(c->hmac_sha256_final_func(ctx, &out, NULL), 0);
        assert_buf_hex(out, hmac_rows[i].mac);
        signal_buffer_free(out);
        c->hmac_sha256_cleanup_func(ctx, NULL);
    }
}

/* SHA-512 of "abc", twice on one context (final prepares the next). */
static void test_sha512_reuse(void **state)
{
    const signal_crypto_provider *c = xmsg_omemo_crypto();
    static const char want[] =
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
    signal_buffer *out = NULL;
    void *ctx = NULL;
    int round;

    (void)state;
    assert_int_equal(c->sha512_digest_init_func(&ctx, NULL), 0);
    for (round = 0; round < 2; round++) {
        assert_int_equal(
            c->sha512_digest_update_func(ctx, (const uint8_t *)"ab", 2, NULL),
            0);
        assert_int_equal(
            c->sha512_digest_update_func(ctx, (const uint8_t *)"c", 1, NULL),
            0);
        assert_int_equal(c->sha512_digest_final_func(ctx, &out, NULL), 0);
        assert_buf_hex(out, want);
        signal_buffer_free(out);
    }
    c->sha512_digest_cleanup_func(ctx, NULL);
}

static const struct {
    int cipher;
    const char *key, *iv, *plain, *ct; /* ct: the first blocks */
} aes_rows[] = {
    /* SP 800-38A F.2.1 (CBC-AES128), F.2.5 (CBC-AES256): one block, then
     * PKCS#5 adds a block of padding */
    {SG_CIPHER_AES_CBC_PKCS5, "2b7e151628aed2a6abf7158809cf4f3c",
     "000102030405060708090a0b0c0d0e0f", "6bc1bee22e409f96e93d7e117393172a",
     "7649abac8119b246cee98e9b12e9197d"},
    {SG_CIPHER_AES_CBC_PKCS5,
     "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "000102030405060708090a0b0c0d0e0f", "6bc1bee22e409f96e93d7e117393172a",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd6"},
    /* F.5.1 (CTR-AES128), F.5.5 (CTR-AES256): two blocks */
    {SG_CIPHER_AES_CTR_NOPADDING, "2b7e151628aed2a6abf7158809cf4f3c",
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
     "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"},
    {SG_CIPHER_AES_CTR_NOPADDING,
     "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
     "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"},
};

static void test_aes_nist(void **state)
{
    const signal_crypto_provider *c = xmsg_omemo_crypto();
    uint8_t key[32], iv[16], plain[64], ct[64];
    signal_buffer *enc = NULL, *dec = NULL;
    size_t i, kn, pn, cn;

    (void)state;
    for (i = 0; i < N_ROWS(aes_rows); i++) {
        kn = unhex(aes_rows[i].key, key);
        unhex(aes_rows[i].iv, iv);
        pn = unhex(aes_rows[i].plain, plain);
        cn = unhex(aes_rows[i].ct, ct);
        assert_int_equal(c->encrypt_func(&enc, aes_rows[i].cipher, key, kn, iv,
                                         16, plain, pn, NULL),
                         0);
        assert_int_equal(signal_buffer_len(enc),
                         aes_rows[i].cipher == SG_CIPHER_AES_CBC_PKCS5 ? pn + 16
                                                                       : pn);
        assert_memory_equal(signal_buffer_data(enc), ct, cn);
        assert_int_equal(c->decrypt_func(&dec, aes_rows[i].cipher, key, kn, iv,
                                         16, signal_buffer_data(enc),
                                         signal_buffer_len(enc), NULL),
                         0);
        assert_int_equal(signal_buffer_len(dec), pn);
        assert_memory_equal(signal_buffer_data(dec), plain, pn);
        signal_buffer_free(enc);
        signal_buffer_free(dec);
    }
}

/* What the provider refuses: a key of another size, an IV that is not a
 * block, an unknown mode, a CBC text whose padding is wrong. */
static void test_aes_refusals(void **state)
{
    const signal_crypto_provider *c = xmsg_omemo_crypto();
    uint8_t key[32] = {0}, iv[16] = {0}, in[32] = {0};
    signal_buffer *out = NULL;

    (void)state;
    assert_int_not_equal(c->encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 20,
                                         iv, 16, in, 16, NULL),
                         0);
    assert_int_not_equal(c->encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 32,
                                         iv, 12, in, 16, NULL),
                         0);
    assert_int_not_equal(
        c->encrypt_func(&out, 99, key, 32, iv, 16, in, 16, NULL), 0);
    assert_int_not_equal(c->decrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 32,
                                         iv, 16, in, 32, NULL),
                         0);
    assert_null(out);
}

/* The GCM spec's test cases 2 and 3 (AES-128, 96-bit IV), and a flipped
 * bit that the tag catches. */
static void test_gcm(void **state)
{
    uint8_t key[16], iv[12], plain[64], want[64], ct[64], tag[16], wtag[16],
        back[64];
    size_t n;

    (void)state;
    memset(key, 0, sizeof(key));
    memset(iv, 0, sizeof(iv));
    memset(plain, 0, 16);
    unhex("0388dace60b6a392f328c2b971b2fe78", want);
    unhex("ab6e47d42cec13bdf53a67b21257bddf", wtag);
    assert_int_equal(xmsg_omemo_gcm_encrypt(key, iv, plain, 16, ct, tag), 0);
    assert_memory_equal(ct, want, 16);
    assert_memory_equal(tag, wtag, 16);

    unhex("feffe9928665731c6d6a8f9467308308", key);
    unhex("cafebabefacedbaddecaf888", iv);
    n = unhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        plain);
    unhex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
          "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
          want);
    unhex("4d5c2af327cd64a62cf35abd2ba6fab4", wtag);
    assert_int_equal(xmsg_omemo_gcm_encrypt(key, iv, plain, n, ct, tag), 0);
    assert_memory_equal(ct, want, n);
    assert_memory_equal(tag, wtag, 16);
    assert_int_equal(xmsg_omemo_gcm_decrypt(key, iv, ct, n, tag, back), 0);
    assert_memory_equal(back, plain, n);
    ct[5] ^= 1;
    assert_int_equal(xmsg_omemo_gcm_decrypt(key, iv, ct, n, tag, back), -1);
}

static void test_fingerprint_form(void **state)
{
    uint8_t key[33];
    char *fp;
    size_t i;

    (void)state;
    key[0] = 0x05;
    for (i = 1; i < 33; i++)
        key[i] = (uint8_t)(i - 1);
    fp = xmsg_omemo_fingerprint_of(key, 33);
    assert_string_equal(fp, "00010203 04050607 08090a0b 0c0d0e0f 10111213 "
                            "14151617 18191a1b 1c1d1e1f");
    free(fp);
    assert_null(xmsg_omemo_fingerprint_of(key, 31));
    key[0] = 0x06; /* 33 bytes that are not a typed Curve25519 key */
    assert_null(xmsg_omemo_fingerprint_of(key, 33));
}

static void test_b64_whitespace(void **state)
{
    uint8_t *out = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(xmsg_omemo_b64_decode("aGVs\nbG8g d29y\r\nbGQ=", &out, &n),
                     0);
    assert_int_equal(n, 11);
    assert_memory_equal(out, "hello world", 11);
    free(out);
    assert_int_equal(xmsg_omemo_b64_decode("aGVs*G8=", &out, &n), -1);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_sha256_rfc4231),
        cmocka_unit_test(test_sha512_reuse),
        cmocka_unit_test(test_aes_nist),
        cmocka_unit_test(test_aes_refusals),
        cmocka_unit_test(test_gcm),
        cmocka_unit_test(test_fingerprint_form),
        cmocka_unit_test(test_b64_whitespace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
