/* test_aesgcm.c - encrypted files (XEP-0454): AES-256-GCM against the GCM
 * spec's test case 14, a round trip in uneven pieces, a flipped bit and a
 * wrong tag refused; the aesgcm:// URL made and read (12-byte IVs, the
 * 16-byte IVs of older clients, bad hex, wrong lengths, no host, no
 * fragment); a received body that is exactly such a URL becomes "url". */
#include "unit.h"

#include "features/aesgcm.h"

static void unhex(const char *h, uint8_t *out)
{
    size_t i;

    for (i = 0; h[2 * i]; i++) {
        unsigned v;

        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* McGrew & Viega, test case 14: K = 0^256, IV = 0^96, P = 0^128. */
static void test_vector(void **state)
{
    xmsg_aesgcm_key k;
    uint8_t p[16] = {0}, c[16], tag[16], want_c[16], want_t[16];
    xmsg_aesgcm *g;

    (void)state;
    memset(&k, 0, sizeof(k));
    k.iv_len = XMSG_AESGCM_IV;
    unhex("cea7403d4d606b6e074ec5d3baf39d18", want_c);
    unhex("d0d1c8a799996bf0265b98b5d48ab919", want_t);
    g = xmsg_aesgcm_new(&k, 1);
    assert_non_null(g);
    assert_int_equal(xmsg_aesgcm_update(g, p, sizeof(p), c), 0);
    assert_int_equal(xmsg_aesgcm_tag(g, tag), 0);
    xmsg_aesgcm_free(g);
    assert_memory_equal(c, want_c, 16);
    assert_memory_equal(tag, want_t, 16);
}

/* data[0..n) encrypted in pieces of step (in place), its tag in tag. */
static void seal(const xmsg_aesgcm_key *k, uint8_t *data, size_t n, size_t step,
                 uint8_t tag[16])
{
    xmsg_aesgcm *g = xmsg_aesgcm_new(k, 1);
    size_t off, m;

    assert_non_null(g);
    for (off = 0; off < n; off += m) {
        m = n - off < step ? n - off : step;
        assert_int_equal(xmsg_aesgcm_update(g, data + off, m, data + off), 0);
    }
    assert_int_equal(xmsg_aesgcm_tag(g, tag), 0);
    xmsg_aesgcm_free(g);
}

/* data decrypted in pieces of step: the tag's verdict (0 or -1). */
static int open_(const xmsg_aesgcm_key *k, uint8_t *data, size_t n, size_t step,
                 const uint8_t tag[16])
{
    xmsg_aesgcm *g = xmsg_aesgcm_new(k, 0);
    size_t off, m;
    int rc;

    assert_non_null(g);
    for (off = 0; off < n; off += m) {
        m = n - off < step ? n - off : step;
        assert_int_equal(xmsg_aesgcm_update(g, data + off, m, data + off), 0);
    }
    rc = xmsg_aesgcm_verify(g, tag);
    xmsg_aesgcm_free(g);
    return rc;
}

/* 100 kB through in 1, 7, 4096-byte pieces: the same bytes back; the
 * ciphertext is not the text; one flipped bit, a flipped tag bit, another
 * key, a truncated text: refused. Both IV sizes. */
static void test_round_trip(void **state)
{
    static const size_t steps[] = {1, 7, 4096, 1 << 20};
    static const size_t ivs[] = {XMSG_AESGCM_IV, XMSG_AESGCM_IV_OLD};
    const size_t n = 100000;
    uint8_t *plain = malloc(n), *buf = malloc(n), tag[16];
    xmsg_aesgcm_key k, other;
    size_t i, s, v;

    (void)state;
    assert_non_null(plain);
    assert_non_null(buf);
    for (i = 0; i < n; i++)
        plain[i] = (uint8_t)(i * 31 % 253);
    for (v = 0; v < N_ROWS(ivs); v++) {
        for (s = 0; s < N_ROWS(steps); s++) {
            assert_int_equal(xmsg_aesgcm_key_new(&k), 0);
            k.iv_len = ivs[v];
            memcpy(buf, plain, n);
            seal(&k, buf, n, steps[s], tag);
            assert_memory_not_equal(buf, plain, n);
            assert_int_equal(open_(&k, buf, n, steps[(s + 1) % 4], tag), 0);
            assert_memory_equal(buf, plain, n);
            /* one bit of the ciphertext */
            seal(&k, buf, n, 4096, tag);
            buf[n / 2] ^= 0x10;
            assert_int_equal(open_(&k, buf, n, 4096, tag), -1);
            /* one bit of the tag */
            memcpy(buf, plain, n);
            seal(&k, buf, n, 4096, tag);
            tag[15] ^= 1;
            assert_int_equal(open_(&k, buf, n, 4096, tag), -1);
            /* a text cut short (its tag then is its last 16 bytes) */
            memcpy(buf, plain, n);
            seal(&k, buf, n, 4096, tag);
            assert_int_equal(open_(&k, buf, n - 16, 4096, buf + n - 16), -1);
            /* another key */
            memcpy(buf, plain, n);
            seal(&k, buf, n, 4096, tag);
            assert_int_equal(xmsg_aesgcm_key_new(&other), 0);
            other.iv_len = k.iv_len;
            memcpy(other.iv, k.iv, sizeof(k.iv));
            assert_int_equal(open_(&other, buf, n, 4096, tag), -1);
        }
    }
    free(plain);
    free(buf);
}

/* Random keys and IVs differ each time. */
static void test_keys_random(void **state)
{
    xmsg_aesgcm_key a, b;

    (void)state;
    assert_int_equal(xmsg_aesgcm_key_new(&a), 0);
    assert_int_equal(xmsg_aesgcm_key_new(&b), 0);
    assert_int_equal(a.iv_len, 12);
    assert_memory_not_equal(a.key, b.key, 32);
    assert_memory_not_equal(a.iv, b.iv, 12);
}

#define IV12 "000102030405060708090a0b"
#define IV16 "000102030405060708090a0b0c0d0e0f"
#define KEY "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"

/* The URL made from an https one; what is not https is refused. */
static void test_url_make(void **state)
{
    xmsg_aesgcm_key k;
    char *u;

    (void)state;
    memset(&k, 0, sizeof(k));
    unhex(IV12, k.iv);
    unhex(KEY, k.key);
    k.iv_len = 12;
    u = xmsg_aesgcm_url("https://up.example:5281/f/ab/x.jpg", &k);
    assert_string_equal(u, "aesgcm://up.example:5281/f/ab/x.jpg#" IV12 KEY);
    free(u);
    assert_null(xmsg_aesgcm_url("http://up.example/x", &k));
    assert_null(xmsg_aesgcm_url("https://up.example/x#frag", &k));
    assert_null(xmsg_aesgcm_url("https://", &k));
    assert_null(xmsg_aesgcm_url(NULL, &k));
}

static const struct {
    const char *url;
    const char *https; /* NULL: refused */
    size_t iv_len;
} url_rows[] = {
    {"aesgcm://h.example/a/b.png#" IV12 KEY, "https://h.example/a/b.png", 12},
    /* upper-case hex, the scheme in any case, a port and a query */
    {"AESGCM://h.example:443/a?x=1#"
     "000102030405060708090A0B" KEY,
     "https://h.example:443/a?x=1", 12},
    /* the 16-byte IVs of older clients (96 hex digits): accepted */
    {"aesgcm://h.example/old#" IV16 KEY, "https://h.example/old", 16},
    /* no fragment, an empty one, wrong lengths, bad hex */
    {"aesgcm://h.example/a", NULL, 0},
    {"aesgcm://h.example/a#", NULL, 0},
    {"aesgcm://h.example/a#" KEY, NULL, 0},           /* key only: 64 */
    {"aesgcm://h.example/a#" IV12 KEY "00", NULL, 0}, /* 90 */
    {"aesgcm://h.example/a#" IV12 KEY "0", NULL, 0},  /* odd */
    {"aesgcm://h.example/a#" IV16 KEY "00", NULL, 0}, /* 98 */
    {"aesgcm://h.example/a#g00102030405060708090a0b" KEY, NULL, 0},
    {"aesgcm://h.example/a# 00102030405060708090a0b" KEY, NULL, 0},
    /* no host */
    {"aesgcm:///a#" IV12 KEY, NULL, 0},
    {"aesgcm://#" IV12 KEY, NULL, 0},
    /* another scheme */
    {"https://h.example/a#" IV12 KEY, NULL, 0},
};

static void test_url_parse(void **state)
{
    uint8_t iv[16], key[32];
    xmsg_aesgcm_key k;
    char *https, err[128];
    size_t i;
    int rc;

    (void)state;
    unhex(IV16, iv);
    unhex(KEY, key);
    for (i = 0; i < N_ROWS(url_rows); i++) {
        err[0] = '\0';
        rc = xmsg_aesgcm_parse_url(url_rows[i].url, &https, &k, err,
                                   sizeof(err));
        if (!url_rows[i].https) {
            if (rc != -1 || https || !err[0])
                fail_msg("row %zu: %s accepted", i, url_rows[i].url);
            continue;
        }
        if (rc != 0)
            fail_msg("row %zu: %s refused: %s", i, url_rows[i].url, err);
        assert_string_equal(https, url_rows[i].https);
        assert_int_equal(k.iv_len, url_rows[i].iv_len);
        assert_memory_equal(k.iv, iv, k.iv_len);
        assert_memory_equal(k.key, key, 32);
        free(https);
    }
}

static const struct {
    const char *body;
    const char *url; /* NULL: no url */
} body_rows[] = {
    {"aesgcm://h/a#" IV12 KEY, "aesgcm://h/a#" IV12 KEY},
    {" \naesgcm://h/a#" IV12 KEY "\n ", "aesgcm://h/a#" IV12 KEY},
    /* a caption with it, two URLs, no key: not a file */
    {"look aesgcm://h/a#" IV12 KEY, NULL},
    {"aesgcm://h/a#" IV12 KEY " aesgcm://h/b#" IV12 KEY, NULL},
    {"aesgcm://h/a", NULL},
    {"https://h/a", NULL},
    {"", NULL},
};

static void test_take_url(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(body_rows); i++) {
        xmsg_message *m = xmsg_message_new();
        const char *got;

        assert_int_equal(xmsg_message_put(m, "body", body_rows[i].body), 0);
        assert_int_equal(xmsg_take_aesgcm_url(m), 0);
        got = xmsg_message_get(m, "url");
        if (body_rows[i].url)
            assert_string_equal(got, body_rows[i].url);
        else if (got)
            fail_msg("row %zu: url %s", i, got);
        xmsg_message_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),      cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_keys_random), cmocka_unit_test(test_url_make),
        cmocka_unit_test(test_url_parse),   cmocka_unit_test(test_take_url),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
