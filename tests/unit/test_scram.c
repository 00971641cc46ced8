/* test_scram.c - the SCRAM client: the RFC 5802 and RFC 7677 example
 * exchanges byte for byte, a SHA-512 (-PLUS) round trip against a server
 * computed here with OpenSSL's own PBKDF2 and HMAC, the gs2 header and c=
 * of each binding case, refusals (forged signature, foreign nonce,
 * iteration counts, malformed messages), the key cache in an exchange, and
 * PBKDF2 equal to PKCS5_PBKDF2_HMAC. */
#include "unit.h"

#include <dirent.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmpp/sasl.h"

static xmsg_scram *client(xmsg_sasl_mech mech, const char *user,
                          const char *nonce)
{
    xmsg_scram_params p = {0};
    xmsg_scram *sc;

    p.mech = mech;
    p.authcid = user;
    p.password = "pencil";
    p.gs2_flag = 'n';
    sc = xmsg_scram_new(&p, NULL);
    assert_non_null(sc);
    assert_int_equal(xmsg_scram_set_nonce(sc, nonce), 0);
    return sc;
}

/* Runs a whole exchange and checks each client message. */
static void exchange(xmsg_sasl_mech mech, const char *nonce,
                     const char *want_first, const char *server_first,
                     const char *want_final, const char *server_final)
{
    xmsg_scram *sc = client(mech, "user", nonce);
    char *out = NULL;

    assert_int_equal(xmsg_scram_client_first(sc, &out, NULL), XMSG_OK);
    assert_string_equal(out, want_first);
    free(out);
    assert_int_equal(xmsg_scram_client_final(sc, server_first,
                                             strlen(server_first), &out, NULL),
                     XMSG_OK);
    assert_string_equal(out, want_final);
    free(out);
    assert_int_equal(
        xmsg_scram_verify(sc, server_final, strlen(server_final), NULL),
        XMSG_OK);
    assert_false(xmsg_scram_used_cache(sc));
    xmsg_scram_free(sc);
}

static void test_rfc5802(void **state)
{
    (void)state;
    exchange(XMSG_MECH_SCRAM_SHA_1, "fyko+d2lbbFgONRv9qkxdawL",
             "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
             "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
             "i=4096",
             "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
             "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
             "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

static void test_rfc7677(void **state)
{
    (void)state;
    exchange(XMSG_MECH_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO",
             "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
             "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
             "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
             "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
             "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
             "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

/* ---- a server written here, from OpenSSL's primitives ---- */

struct server {
    const EVP_MD *md;
    size_t hl;
    unsigned char salt[16];
    unsigned iter;
    char first[256];
    unsigned char server_sig[64];
};

static void hmac(const struct server *sv, const unsigned char *key,
                 const void *d, size_t n, unsigned char *out)
{
    unsigned int len = 0;

    assert_non_null(HMAC(sv->md, key, (int)sv->hl, d, n, out, &len));
    assert_int_equal(len, sv->hl);
}

/* Checks the proof in client_final and computes the server signature. */
static void server_check(struct server *sv, const char *password,
                         const char *client_first_bare, const char *final)
{
    unsigned char salted[64], ck[64], sk[64], stored[64], sig[64], proof[64];
    const char *p = strstr(final, ",p=");
    char auth[1024], *b64;
    size_t i;

    assert_non_null(p);
    assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
                                       sv->salt, sizeof(sv->salt),
                                       (int)sv->iter, sv->md, (int)sv->hl,
                                       salted),
                     1);
    hmac(sv, salted, "Client Key", 10, ck);
    hmac(sv, salted, "Server Key", 10, sk);
    assert_int_equal(EVP_Digest(ck, sv->hl, stored, NULL, sv->md, NULL), 1);
    snprintf(auth, sizeof(auth), "%s,%s,%.*s", client_first_bare, sv->first,
             (int)(p - final), final);
    hmac(sv, stored, auth, strlen(auth), sig);
    for (i = 0; i < sv->hl; i++)
        proof[i] = ck[i] ^ sig[i];
    b64 = xmsg_base64(proof, sv->hl);
    assert_string_equal(p + 3, b64);
    free(b64);
    hmac(sv, sk, auth, strlen(auth), sv->server_sig);
}

static void test_sha512_plus_round_trip(void **state)
{
    static const unsigned char cb[32] = "exporter-bytes-from-the-tls-lay";
    struct server sv = {.md = EVP_sha512(), .hl = 64, .iter = 4097};
    xmsg_scram_params p = {0};
    char *first = NULL, *final = NULL, *salt64, *v64, *c64, sfinal[200];
    xmsg_scram *sc;

    (void)state;
    p.mech = XMSG_MECH_SCRAM_SHA_512_PLUS;
    p.authcid = "us,er=x";
    p.password = "p\xc3\xa4ssw\xc3\xb6rd";
    p.gs2_flag = 'p';
    p.cb = XMSG_CB_TLS_EXPORTER;
    p.cb_data = cb;
    p.cb_len = sizeof(cb);
    sc = xmsg_scram_new(&p, NULL);
    assert_non_null(sc);
    assert_int_equal(xmsg_scram_client_first(sc, &first, NULL), XMSG_OK);
    /* gs2 header, escaped name, a random nonce of 32 characters */
    assert_true(strncmp(first, "p=tls-exporter,,n=us=2Cer=3Dx,r=", 32) == 0);
    assert_int_equal(strlen(first + 32), 32);
    assert_int_equal(RAND_bytes(sv.salt, sizeof(sv.salt)), 1);
    salt64 = xmsg_base64(sv.salt, sizeof(sv.salt));
    snprintf(sv.first, sizeof(sv.first), "r=%sSERVERPART,s=%s,i=%u,x=ext",
             first + 32, salt64, sv.iter);
    assert_int_equal(
        xmsg_scram_client_final(sc, sv.first, strlen(sv.first), &final, NULL),
        XMSG_OK);
    /* c= is base64(gs2 header + binding data) */
    {
        unsigned char cbind[64];
        memcpy(cbind, "p=tls-exporter,,", 16);
        memcpy(cbind + 16, cb, sizeof(cb));
        c64 = xmsg_base64(cbind, 16 + sizeof(cb));
    }
    assert_true(strncmp(final, "c=", 2) == 0);
    assert_true(strncmp(final + 2, c64, strlen(c64)) == 0);
    server_check(&sv, p.password, first + 16, final);
    v64 = xmsg_base64(sv.server_sig, sv.hl);
    snprintf(sfinal, sizeof(sfinal), "v=%s", v64);
    assert_int_equal(xmsg_scram_verify(sc, sfinal, strlen(sfinal), NULL),
                     XMSG_OK);
    free(v64);
    free(c64);
    free(salt64);
    free(first);
    free(final);
    xmsg_scram_free(sc);
}

/* c= for each gs2 case (RFC 5802 section 7, RFC 5929, RFC 9266). */
static void test_gs2_header(void **state)
{
    static const unsigned char cbd[] = {0x01, 0x02, 0xff};
    static const struct {
        char flag;
        xmsg_sasl_mech mech;
        xmsg_sasl_cb cb;
        const char *first; /* up to "n=" */
        const char *c;
    } rows[] = {
        {'n', XMSG_MECH_SCRAM_SHA_1, XMSG_CB_NONE, "n,,", "c=biws,"},
        {'y', XMSG_MECH_SCRAM_SHA_256, XMSG_CB_NONE, "y,,", "c=eSws,"},
        /* base64("p=tls-unique,," 01 02 ff) */
        {'p', XMSG_MECH_SCRAM_SHA_1_PLUS, XMSG_CB_TLS_UNIQUE, "p=tls-unique,,",
         "c=cD10bHMtdW5pcXVlLCwBAv8=,"},
        {'p', XMSG_MECH_SCRAM_SHA_256_PLUS, XMSG_CB_TLS_EXPORTER,
         "p=tls-exporter,,", "c=cD10bHMtZXhwb3J0ZXIsLAEC/w==,"},
        {'p', XMSG_MECH_SCRAM_SHA_512_PLUS, XMSG_CB_TLS_SERVER_END_POINT,
         "p=tls-server-end-point,,", "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAQL/,"},
    };
    const char *sfirst = "r=abcXYZ,s=QSXCR+Q6sek8bf92,i=4096";
    xmsg_scram_params p = {0};
    char *out;
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_scram *sc;
        p.mech = rows[i].mech;
        p.authcid = "user";
        p.password = "pencil";
        p.gs2_flag = rows[i].flag;
        p.cb = rows[i].cb;
        p.cb_data = rows[i].flag == 'p' ? cbd : NULL;
        p.cb_len = rows[i].flag == 'p' ? sizeof(cbd) : 0;
        sc = xmsg_scram_new(&p, NULL);
        assert_non_null(sc);
        assert_int_equal(xmsg_scram_set_nonce(sc, "abc"), 0);
        assert_int_equal(xmsg_scram_client_first(sc, &out, NULL), XMSG_OK);
        if (strncmp(out, rows[i].first, strlen(rows[i].first)) != 0)
            fail_msg("row %zu: first %s", i, out);
        free(out);
        assert_int_equal(
            xmsg_scram_client_final(sc, sfirst, strlen(sfirst), &out, NULL),
            XMSG_OK);
        if (strncmp(out, rows[i].c, strlen(rows[i].c)) != 0)
            fail_msg("row %zu: final %s", i, out);
        free(out);
        xmsg_scram_free(sc);
    }
}

static void test_params_refused(void **state)
{
    static const unsigned char cbd[] = {1};
    static const struct {
        xmsg_sasl_mech mech;
        const char *user, *pw;
        char flag;
        int with_cb; /* 1: binding data; 2: a cache (and no server) */
    } rows[] = {
        {XMSG_MECH_PLAIN, "u", "p", 'n', 0},
        {XMSG_MECH_NONE, "u", "p", 'n', 0},
        {XMSG_MECH_SCRAM_SHA_1, "", "p", 'n', 0},
        {XMSG_MECH_SCRAM_SHA_1, "u", "", 'n', 0},
        {XMSG_MECH_SCRAM_SHA_1, NULL, "p", 'n', 0},
        {XMSG_MECH_SCRAM_SHA_1, "u\xff", "p", 'n', 0},
        {XMSG_MECH_SCRAM_SHA_1, "u", "p", 'p', 1},      /* p without -PLUS */
        {XMSG_MECH_SCRAM_SHA_1_PLUS, "u", "p", 'n', 1}, /* -PLUS without p */
        {XMSG_MECH_SCRAM_SHA_1_PLUS, "u", "p", 'p', 0}, /* no data */
        {XMSG_MECH_SCRAM_SHA_1, "u", "p", 'x', 0},
        {XMSG_MECH_SCRAM_SHA_1, "u", "p", 'n', 2}, /* cache, no server */
    };
    xmsg_keycache *kc = xmsg_keycache_new("/tmp/xmsg-unused", 0, NULL);
    xmsg_scram_params p = {0};
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_status *st = xmsg_status_new();
        p.mech = rows[i].mech;
        p.authcid = rows[i].user;
        p.password = rows[i].pw;
        p.gs2_flag = rows[i].flag;
        p.cb = XMSG_CB_TLS_UNIQUE;
        p.cb_data = rows[i].with_cb ? cbd : NULL;
        p.cb_len = rows[i].with_cb ? 1 : 0;
        p.cache = rows[i].with_cb == 2 ? kc : NULL;
        if (xmsg_scram_new(&p, st) != NULL)
            fail_msg("row %zu accepted", i);
        assert_int_equal(xmsg_status_code(st), XMSG_ERR_INPUT);
        xmsg_status_free(st);
    }
    xmsg_keycache_free(kc);
}

/* A client that sent its first message with nonce "abc". */
static xmsg_scram *after_first(unsigned max_iter)
{
    xmsg_scram_params p = {0};
    xmsg_scram *sc;
    char *out;

    p.mech = XMSG_MECH_SCRAM_SHA_1;
    p.authcid = "user";
    p.password = "pencil";
    p.gs2_flag = 'n';
    p.max_iter = max_iter;
    sc = xmsg_scram_new(&p, NULL);
    assert_non_null(sc);
    assert_int_equal(xmsg_scram_set_nonce(sc, "abc"), 0);
    assert_int_equal(xmsg_scram_client_first(sc, &out, NULL), XMSG_OK);
    free(out);
    return sc;
}

static void test_server_first_refused(void **state)
{
    static const struct {
        const char *msg;
        xmsg_err code;
        const char *text; /* in the error text */
    } rows[] = {
        {"r=abd123,s=QSXCR+Q6sek8bf92,i=4096", XMSG_ERR_AUTH, "extend"},
        {"r=abc,s=QSXCR+Q6sek8bf92,i=4096", XMSG_ERR_AUTH, "extend"},
        {"r=ab,s=QSXCR+Q6sek8bf92,i=4096", XMSG_ERR_AUTH, "extend"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=4095", XMSG_ERR_AUTH, "below 4096"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=0", XMSG_ERR_AUTH, "below"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=5001", XMSG_ERR_AUTH, "above 5000"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=4294967296", XMSG_ERR_AUTH, "above"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=99999999999", XMSG_ERR_PROTOCOL, "count"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=-4096", XMSG_ERR_PROTOCOL, "count"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=4096x", XMSG_ERR_PROTOCOL, "count"},
        {"r=abcd,s=QSXCR+Q6sek8bf92,i=", XMSG_ERR_PROTOCOL, "count"},
        {"r=abcd,s=QSXCR+Q6sek8bf92", XMSG_ERR_PROTOCOL, "i="},
        {"r=abcd,i=4096", XMSG_ERR_PROTOCOL, "s="},
        {"r=abcd,i=4096,s=QSXCR+Q6sek8bf92", XMSG_ERR_PROTOCOL, "s="},
        {"s=QSXCR+Q6sek8bf92,r=abcd,i=4096", XMSG_ERR_PROTOCOL, "r="},
        {"r=abcd,s=QSXCR+Q6sek8bf9,i=4096", XMSG_ERR_PROTOCOL, "base64"},
        {"r=abcd,s=QSXCR+Q6sek8bf9*,i=4096", XMSG_ERR_PROTOCOL, "base64"},
        {"r=abcd,s=,i=4096", XMSG_ERR_PROTOCOL, "base64"},
        {"r=abc d,s=QSXCR+Q6sek8bf92,i=4096", XMSG_ERR_PROTOCOL, "nonce"},
        {"m=ext,r=abcd,s=QSXCR+Q6sek8bf92,i=4096", XMSG_ERR_AUTH, "m="},
        {"", XMSG_ERR_PROTOCOL, "r="},
        {"garbage", XMSG_ERR_PROTOCOL, "r="},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_scram *sc = after_first(5000);
        xmsg_status *st = xmsg_status_new();
        char *out = (char *)"untouched";
        xmsg_err rc = xmsg_scram_client_final(sc, rows[i].msg,
                                              strlen(rows[i].msg), &out, st);
        if (rc != rows[i].code || xmsg_status_code(st) != rows[i].code ||
            !unit_contains(xmsg_status_text(st), rows[i].text))
            fail_msg("row %zu (%s): %d %s", i, rows[i].msg, rc,
                     xmsg_status_text(st));
        assert_null(out);
        /* a failed exchange stays failed */
        assert_int_equal(xmsg_scram_verify(sc, "v=", 2, NULL),
                         XMSG_ERR_INTERNAL);
        xmsg_status_free(st);
        xmsg_scram_free(sc);
    }
}

static void test_nul_in_message(void **state)
{
    static const char msg[] = "r=abcd\0,s=QSXCR+Q6sek8bf92,i=4096";
    xmsg_scram *sc = after_first(0);
    char *out;

    (void)state;
    assert_int_equal(
        xmsg_scram_client_final(sc, msg, sizeof(msg) - 1, &out, NULL),
        XMSG_ERR_PROTOCOL);
    xmsg_scram_free(sc);
}

/* The RFC 5802 client after its final message. */
static xmsg_scram *rfc5802_after_final(void)
{
    static const char sfirst[] =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
        "i=4096";
    xmsg_scram *sc =
        client(XMSG_MECH_SCRAM_SHA_1, "user", "fyko+d2lbbFgONRv9qkxdawL");
    char *out;

    assert_int_equal(xmsg_scram_client_first(sc, &out, NULL), XMSG_OK);
    free(out);
    assert_int_equal(
        xmsg_scram_client_final(sc, sfirst, strlen(sfirst), &out, NULL),
        XMSG_OK);
    free(out);
    return sc;
}

static void test_server_final_refused(void **state)
{
    static const struct {
        const char *msg;
        xmsg_err code;
        const char *text;
    } rows[] = {
        /* last byte changed: forged */
        {"v=rmF9pqV8S7suAoZWja4dJRkFsKA=", XMSG_ERR_AUTH, "wrong server"},
        {"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", XMSG_ERR_AUTH, "wrong server"},
        {"v=rmF9pqV8S7suAoZWja4dJRkF", XMSG_ERR_PROTOCOL, "20 bytes"},
        {"v=rmF9pqV8S7suAoZWja4dJRkFsKQ", XMSG_ERR_PROTOCOL, "base64"},
        {"v=", XMSG_ERR_PROTOCOL, "20 bytes"},
        {"e=invalid-proof", XMSG_ERR_AUTH, "refused: invalid-proof"},
        {"e=bad\x01\xc3\xa9name", XMSG_ERR_AUTH, "refused: bad???name"},
        {"x=1", XMSG_ERR_PROTOCOL, "lacks v="},
        {"", XMSG_ERR_PROTOCOL, "lacks v="},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        xmsg_scram *sc = rfc5802_after_final();
        xmsg_status *st = xmsg_status_new();
        xmsg_err rc =
            xmsg_scram_verify(sc, rows[i].msg, strlen(rows[i].msg), st);
        if (rc != rows[i].code ||
            !unit_contains(xmsg_status_text(st), rows[i].text))
            fail_msg("row %zu (%s): %d %s", i, rows[i].msg, rc,
                     xmsg_status_text(st));
        xmsg_status_free(st);
        xmsg_scram_free(sc);
    }
}

static void test_out_of_order(void **state)
{
    xmsg_scram *sc = client(XMSG_MECH_SCRAM_SHA_1, "user", "abc");
    const char *sf = "r=abcd,s=QSXCR+Q6sek8bf92,i=4096";
    char *out;

    (void)state;
    assert_int_equal(xmsg_scram_client_final(sc, sf, strlen(sf), &out, NULL),
                     XMSG_ERR_INTERNAL);
    assert_int_equal(xmsg_scram_verify(sc, "v=", 2, NULL), XMSG_ERR_INTERNAL);
    assert_int_equal(xmsg_scram_client_first(sc, &out, NULL), XMSG_OK);
    free(out);
    assert_int_equal(xmsg_scram_set_nonce(sc, "late"), -1);
    assert_int_equal(xmsg_scram_client_first(sc, &out, NULL),
                     XMSG_ERR_INTERNAL);
    xmsg_scram_free(sc);
    xmsg_scram_free(NULL);
    /* nonces the hook refuses */
    sc = client(XMSG_MECH_SCRAM_SHA_1, "user", "ok");
    assert_int_equal(xmsg_scram_set_nonce(sc, ""), -1);
    assert_int_equal(xmsg_scram_set_nonce(sc, "a,b"), -1);
    assert_int_equal(xmsg_scram_set_nonce(sc, "a b"), -1);
    xmsg_scram_free(sc);
}

/* ---- the key cache in an exchange ---- */

static char cache_dir[64];

static void log_count(xmsg_log_level lvl, const char *line, void *ud)
{
    (void)lvl;
    (void)line;
    (*(int *)ud)++;
}

static char *cached_final_pw(xmsg_keycache *kc, const char *pw, int *from_cache,
                             int verify)
{
    static const char sfirst[] =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
        "i=4096";
    xmsg_scram_params p = {0};
    xmsg_scram *sc;
    char *out, *fin;

    p.mech = XMSG_MECH_SCRAM_SHA_1;
    p.authcid = "user";
    p.password = pw;
    p.gs2_flag = 'n';
    p.cache = kc;
    p.server = "example.org";
    sc = xmsg_scram_new(&p, NULL);
    assert_non_null(sc);
    assert_int_equal(xmsg_scram_set_nonce(sc, "fyko+d2lbbFgONRv9qkxdawL"), 0);
    assert_int_equal(xmsg_scram_client_first(sc, &out, NULL), XMSG_OK);
    free(out);
    assert_int_equal(
        xmsg_scram_client_final(sc, sfirst, strlen(sfirst), &fin, NULL),
        XMSG_OK);
    if (verify)
        assert_int_equal(
            xmsg_scram_verify(sc, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", 30, NULL),
            XMSG_OK);
    *from_cache = xmsg_scram_used_cache(sc);
    xmsg_scram_free(sc);
    return fin;
}

static char *cached_final(xmsg_keycache *kc, int *from_cache)
{
    return cached_final_pw(kc, "pencil", from_cache, 1);
}

static int cache_setup(void **state)
{
    (void)state;
    snprintf(cache_dir, sizeof(cache_dir), "/tmp/xmsg-scram-XXXXXX");
    return mkdtemp(cache_dir) ? 0 : -1;
}

/* Removes the cache's one entry and its directory, even after a failure. */
/* Every entry goes (their names are digests). */
static int cache_teardown(void **state)
{
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    char path[4096];

    (void)state;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", cache_dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    return rmdir(cache_dir);
}

static void test_cache_in_exchange(void **state)
{
    int n_log = 0, hit = -1;
    xmsg_sasl_log log = {log_count, &n_log};
    xmsg_keycache *kc;
    char *a, *b, *path;

    (void)state;
    kc = xmsg_keycache_new(cache_dir, 1, &log);
    a = cached_final(kc, &hit);
    assert_int_equal(hit, 0);
    b = cached_final(kc, &hit);
    assert_int_equal(hit, 1);
    /* the same proof from the cached keys as from the password */
    assert_string_equal(a, b);
    assert_string_equal(a,
                        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                        "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    /* The entry names the password too: another one misses (it must be
     * refused by the server, not logged in with pencil's keys). */
    path = xmsg_keycache_path(kc, "example.org", "user", XMSG_HASH_SHA1);
    assert_int_equal(access(path, F_OK), -1);
    free(path);
    free(b);
    b = cached_final_pw(kc, "wrong", &hit, 0);
    assert_int_equal(hit, 0);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    xmsg_keycache_free(kc);
}

/* ---- PBKDF2 ---- */

static void test_pbkdf2_equals_openssl(void **state)
{
    static const xmsg_scram_hash hashes[] = {XMSG_HASH_SHA1, XMSG_HASH_SHA256,
                                             XMSG_HASH_SHA512};
    static const size_t pwlens[] = {0, 1, 6, 63, 64, 65, 127, 128, 129, 300};
    unsigned char pw[300], salt[80], want[64], got[64], got_evp[64];
    const EVP_MD *mds[3] = {EVP_sha1(), EVP_sha256(), EVP_sha512()};
    unsigned char r[4];
    size_t h, i, hl, saltlen;
    unsigned iter;

    (void)state;
    for (h = 0; h < 3; h++) {
        hl = xmsg_scram_hash_len(hashes[h]);
        for (i = 0; i < N_ROWS(pwlens); i++) {
            assert_int_equal(RAND_bytes(pw, sizeof(pw)), 1);
            assert_int_equal(RAND_bytes(salt, sizeof(salt)), 1);
            assert_int_equal(RAND_bytes(r, sizeof(r)), 1);
            iter = 1 + r[0] % 200 + (i == 0 ? 4096 : 0);
            saltlen = r[1] % sizeof(salt);
            assert_int_equal(PKCS5_PBKDF2_HMAC((const char *)pw, (int)pwlens[i],
                                               salt, (int)saltlen, (int)iter,
                                               mds[h], (int)hl, want),
                             1);
            assert_int_equal(
                xmsg_pbkdf2(hashes[h], pw, pwlens[i], salt, saltlen, iter, got),
                0);
            assert_int_equal(xmsg_pbkdf2_evp(hashes[h], pw, pwlens[i], salt,
                                             saltlen, iter, got_evp),
                             0);
            if (memcmp(want, got, hl) != 0 || memcmp(want, got_evp, hl) != 0)
                fail_msg("%s pw %zu salt %zu iter %u differs",
                         xmsg_scram_hash_name(hashes[h]), pwlens[i], saltlen,
                         iter);
        }
    }
    assert_int_equal(xmsg_pbkdf2(XMSG_HASH_SHA1, pw, 1, salt, 1, 0, got), -1);
    assert_int_equal(xmsg_pbkdf2((xmsg_scram_hash)7, pw, 1, salt, 1, 1, got),
                     -1);
}

/* RFC 6070 test vector 2 (2 iterations) and HMAC of RFC 4231 case 2. */
static void test_known_vectors(void **state)
{
    static const unsigned char want_pb[20] = {
        0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e,
        0xd9, 0x2a, 0xce, 0x1d, 0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57};
    static const unsigned char want_hmac[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    unsigned char out[64];

    (void)state;
    assert_int_equal(xmsg_pbkdf2(XMSG_HASH_SHA1,
                                 (const unsigned char *)"password", 8,
                                 (const unsigned char *)"salt", 4, 2, out),
                     0);
    assert_memory_equal(out, want_pb, 20);
    assert_int_equal(
        xmsg_scram_hmac(XMSG_HASH_SHA256, (const unsigned char *)"Jefe", 4,
                        (const unsigned char *)"what do ya want for nothing?",
                        28, out),
        0);
    assert_memory_equal(out, want_hmac, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5802),
        cmocka_unit_test(test_rfc7677),
        cmocka_unit_test(test_sha512_plus_round_trip),
        cmocka_unit_test(test_gs2_header),
        cmocka_unit_test(test_params_refused),
        cmocka_unit_test(test_server_first_refused),
        cmocka_unit_test(test_nul_in_message),
        cmocka_unit_test(test_server_final_refused),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test_setup_teardown(test_cache_in_exchange, cache_setup,
                                        cache_teardown),
        cmocka_unit_test(test_pbkdf2_equals_openssl),
        cmocka_unit_test(test_known_vectors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
