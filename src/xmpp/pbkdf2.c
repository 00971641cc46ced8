/* pbkdf2.c - Hi() of RFC 5802 (PBKDF2, one block) and HMAC with the inner
 * and outer hash states keyed once.
 *
 * The fast path uses OpenSSL's low-level SHA1_/SHA256_/SHA512_ functions,
 * deprecated in OpenSSL 3 but still exported: a keyed state is then a plain
 * struct, copied by assignment, and an iteration is two compressions. The
 * EVP path (EVP_MD_CTX_copy_ex of keyed states) is kept for comparison;
 * docs/design.md has both measured. The deprecation warning is suppressed
 * in this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "xmpp/sasl.h"

/* ---- low-level contexts behind one small interface ---- */

typedef union md_ctx {
    SHA_CTX s1;
    SHA256_CTX s256;
    SHA512_CTX s512;
} md_ctx;

static void md_init(xmsg_scram_hash h, md_ctx *c)
{
    if (h == XMSG_HASH_SHA1)
        SHA1_Init(&c->s1);
    else if (h == XMSG_HASH_SHA256)
        SHA256_Init(&c->s256);
    else
        SHA512_Init(&c->s512);
}

static void md_update(xmsg_scram_hash h, md_ctx *c, const void *d, size_t n)
{
    if (h == XMSG_HASH_SHA1)
        SHA1_Update(&c->s1, d, n);
    else if (h == XMSG_HASH_SHA256)
        SHA256_Update(&c->s256, d, n);
    else
        SHA512_Update(&c->s512, d, n);
}

static void md_final(xmsg_scram_hash h, md_ctx *c, unsigned char *out)
{
    if (h == XMSG_HASH_SHA1)
        SHA1_Final(out, &c->s1);
    else if (h == XMSG_HASH_SHA256)
        SHA256_Final(out, &c->s256);
    else
        SHA512_Final(out, &c->s512);
}

static size_t md_block(xmsg_scram_hash h)
{
    return h == XMSG_HASH_SHA512 ? 128 : 64;
}

/* HMAC keyed once: the states after absorbing key^ipad and key^opad. */
typedef struct hmac_keyed {
    xmsg_scram_hash h;
    md_ctx inner, outer;
} hmac_keyed;

static void hmac_key(hmac_keyed *k, xmsg_scram_hash h, const unsigned char *key,
                     size_t keylen)
{
    unsigned char pad[128], kh[XMSG_HASH_MAX_LEN];
    size_t i, bs = md_block(h);

    k->h = h;
    if (keylen > bs) {
        md_init(h, &k->inner);
        md_update(h, &k->inner, key, keylen);
        md_final(h, &k->inner, kh);
        key = kh;
        keylen = xmsg_scram_hash_len(h);
    }
    memset(pad, 0, sizeof(pad));
    memcpy(pad, key, keylen);
    for (i = 0; i < bs; i++)
        pad[i] ^= 0x36;
    md_init(h, &k->inner);
    md_update(h, &k->inner, pad, bs);
    for (i = 0; i < bs; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    md_init(h, &k->outer);
    md_update(h, &k->outer, pad, bs);
    xmsg_secure_zero(pad, sizeof(pad));
    xmsg_secure_zero(kh, sizeof(kh));
}

/* out = HMAC(key, d1 || d2) from a keyed state; out may alias d1. */
static void hmac_run(const hmac_keyed *k, const unsigned char *d1, size_t n1,
                     const unsigned char *d2, size_t n2, unsigned char *out)
{
    md_ctx c = k->inner;
    unsigned char in[XMSG_HASH_MAX_LEN];

    md_update(k->h, &c, d1, n1);
    if (n2)
        md_update(k->h, &c, d2, n2);
    md_final(k->h, &c, in);
    c = k->outer;
    md_update(k->h, &c, in, xmsg_scram_hash_len(k->h));
    md_final(k->h, &c, out);
    xmsg_secure_zero(&c, sizeof(c));
    xmsg_secure_zero(in, sizeof(in));
}

static int hash_ok(xmsg_scram_hash h)
{
    return h == XMSG_HASH_SHA1 || h == XMSG_HASH_SHA256 ||
           h == XMSG_HASH_SHA512;
}

int xmsg_scram_hmac(xmsg_scram_hash h, const unsigned char *key, size_t keylen,
                    const unsigned char *data, size_t len, unsigned char *out)
{
    hmac_keyed k;

    if (!hash_ok(h) || !out || (keylen && !key) || (len && !data))
        return -1;
    hmac_key(&k, h, key, keylen);
    hmac_run(&k, data, len, NULL, 0, out);
    xmsg_secure_zero(&k, sizeof(k));
    return 0;
}

int xmsg_scram_digest(xmsg_scram_hash h, const unsigned char *data, size_t len,
                      unsigned char *out)
{
    md_ctx c;

    if (!hash_ok(h) || !out || (len && !data))
        return -1;
    md_init(h, &c);
    md_update(h, &c, data, len);
    md_final(h, &c, out);
    return 0;
}

/* ---- Hi()'s loop: one HMAC of hl bytes is two compressions ----
 * U(i+1) = HMAC(P, U(i)) hashes exactly one block in each of the inner and
 * outer hashes (a key block is already absorbed), so the padding and
 * length of that block are fixed: built once, and each iteration only
 * writes the hl message bytes and calls the compression function. */

/* A final block for a message of bs + hl bytes, the message part left
 * to fill: 0x80, zeros, the length in bits (big-endian). */
static void final_block(xmsg_scram_hash h, unsigned char *blk)
{
    size_t bs = md_block(h), hl = xmsg_scram_hash_len(h), i;
    uint64_t bits = (uint64_t)(bs + hl) * 8;

    memset(blk, 0, bs);
    blk[hl] = 0x80;
    for (i = 0; i < 8; i++)
        blk[bs - 1 - i] = (unsigned char)(bits >> (8 * i));
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* c's chaining value = keyed's; only that part of a context is used by
 * the compression function. */
static void load_state(xmsg_scram_hash h, md_ctx *c, const md_ctx *keyed)
{
    if (h == XMSG_HASH_SHA1) {
        c->s1.h0 = keyed->s1.h0;
        c->s1.h1 = keyed->s1.h1;
        c->s1.h2 = keyed->s1.h2;
        c->s1.h3 = keyed->s1.h3;
        c->s1.h4 = keyed->s1.h4;
    } else if (h == XMSG_HASH_SHA256) {
        memcpy(c->s256.h, keyed->s256.h, sizeof(c->s256.h));
    } else {
        memcpy(c->s512.h, keyed->s512.h, sizeof(c->s512.h));
    }
}

/* Compresses blk from the keyed chaining value (in the work context c)
 * and writes the result, big-endian, to out. */
static void compress_out(xmsg_scram_hash h, md_ctx *c, const md_ctx *keyed,
                         const unsigned char *blk, unsigned char *out)
{
    size_t i;

    load_state(h, c, keyed);
    if (h == XMSG_HASH_SHA1) {
        SHA1_Transform(&c->s1, blk);
        put_be32(out, c->s1.h0);
        put_be32(out + 4, c->s1.h1);
        put_be32(out + 8, c->s1.h2);
        put_be32(out + 12, c->s1.h3);
        put_be32(out + 16, c->s1.h4);
    } else if (h == XMSG_HASH_SHA256) {
        SHA256_Transform(&c->s256, blk);
        for (i = 0; i < 8; i++)
            put_be32(out + 4 * i, c->s256.h[i]);
    } else {
        SHA512_Transform(&c->s512, blk);
        for (i = 0; i < 8; i++) {
            put_be32(out + 8 * i, (uint32_t)(c->s512.h[i] >> 32));
            put_be32(out + 8 * i + 4, (uint32_t)c->s512.h[i]);
        }
    }
}

/* out ^= U2 ^ ... ^ U(iter), u holding U1 on entry. */
static void hi_loop(const hmac_keyed *k, unsigned char *u, unsigned iter,
                    unsigned char *out)
{
    unsigned char in_blk[128], out_blk[128];
    size_t j, hl = xmsg_scram_hash_len(k->h);
    md_ctx work = k->inner;
    unsigned i;

    final_block(k->h, in_blk);
    final_block(k->h, out_blk);
    memcpy(in_blk, u, hl);
    for (i = 1; i < iter; i++) {
        compress_out(k->h, &work, &k->inner, in_blk, out_blk);
        compress_out(k->h, &work, &k->outer, out_blk, in_blk);
        for (j = 0; j < hl; j++)
            out[j] ^= in_blk[j];
    }
    xmsg_secure_zero(&work, sizeof(work));
    xmsg_secure_zero(in_blk, sizeof(in_blk));
    xmsg_secure_zero(out_blk, sizeof(out_blk));
}

int xmsg_pbkdf2(xmsg_scram_hash h, const unsigned char *pw, size_t pwlen,
                const unsigned char *salt, size_t saltlen, unsigned iter,
                unsigned char *out)
{
    static const unsigned char one[4] = {0, 0, 0, 1};
    unsigned char u[XMSG_HASH_MAX_LEN];
    hmac_keyed k;

    if (!hash_ok(h) || iter == 0 || !out || (pwlen && !pw) ||
        (saltlen && !salt))
        return -1;
    hmac_key(&k, h, pw, pwlen);
    hmac_run(&k, salt, saltlen, one, sizeof(one), u);
    memcpy(out, u, xmsg_scram_hash_len(h));
    hi_loop(&k, u, iter, out);
    xmsg_secure_zero(u, sizeof(u));
    xmsg_secure_zero(&k, sizeof(k));
    return 0;
}

/* ---- the EVP path, for comparison ---- */

static const EVP_MD *evp_md(xmsg_scram_hash h)
{
    if (h == XMSG_HASH_SHA1)
        return EVP_sha1();
    if (h == XMSG_HASH_SHA256)
        return EVP_sha256();
    return EVP_sha512();
}

/* ctx = a fresh digest of md that absorbed key ^ padbyte. */
static int evp_keyed(EVP_MD_CTX *ctx, const EVP_MD *md,
                     const unsigned char *key, size_t keylen, size_t bs,
                     unsigned char padbyte)
{
    unsigned char pad[128];
    size_t i;
    int ok;

    memset(pad, 0, sizeof(pad));
    memcpy(pad, key, keylen);
    for (i = 0; i < bs; i++)
        pad[i] ^= padbyte;
    ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, bs);
    xmsg_secure_zero(pad, sizeof(pad));
    return ok ? 0 : -1;
}

typedef struct evp_hmac {
    EVP_MD_CTX *inner, *outer, *work;
    size_t hl;
} evp_hmac;

static int evp_hmac_run(evp_hmac *e, const unsigned char *d1, size_t n1,
                        const unsigned char *d2, size_t n2, unsigned char *out)
{
    unsigned char in[XMSG_HASH_MAX_LEN];
    int ok;

    ok = EVP_MD_CTX_copy_ex(e->work, e->inner) &&
         EVP_DigestUpdate(e->work, d1, n1) &&
         (!n2 || EVP_DigestUpdate(e->work, d2, n2)) &&
         EVP_DigestFinal_ex(e->work, in, NULL) &&
         EVP_MD_CTX_copy_ex(e->work, e->outer) &&
         EVP_DigestUpdate(e->work, in, e->hl) &&
         EVP_DigestFinal_ex(e->work, out, NULL);
    xmsg_secure_zero(in, sizeof(in));
    return ok ? 0 : -1;
}

static int evp_loop(evp_hmac *e, const unsigned char *salt, size_t saltlen,
                    unsigned iter, unsigned char *out)
{
    static const unsigned char one[4] = {0, 0, 0, 1};
    unsigned char u[XMSG_HASH_MAX_LEN];
    unsigned i;
    size_t j;
    int rc;

    rc = evp_hmac_run(e, salt, saltlen, one, sizeof(one), u);
    memcpy(out, u, e->hl);
    for (i = 1; i < iter && rc == 0; i++) {
        rc = evp_hmac_run(e, u, e->hl, NULL, 0, u);
        for (j = 0; j < e->hl; j++)
            out[j] ^= u[j];
    }
    xmsg_secure_zero(u, sizeof(u));
    return rc;
}

int xmsg_pbkdf2_evp(xmsg_scram_hash h, const unsigned char *pw, size_t pwlen,
                    const unsigned char *salt, size_t saltlen, unsigned iter,
                    unsigned char *out)
{
    evp_hmac e = {EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new(), 0};
    unsigned char kh[XMSG_HASH_MAX_LEN];
    size_t bs = md_block(h);
    int rc = -1;

    if (!hash_ok(h) || iter == 0 || !out || !e.inner || !e.outer || !e.work)
        goto out;
    e.hl = xmsg_scram_hash_len(h);
    if (pwlen > bs) {
        if (xmsg_scram_digest(h, pw, pwlen, kh) != 0)
            goto out;
        pw = kh;
        pwlen = e.hl;
    }
    if (evp_keyed(e.inner, evp_md(h), pw, pwlen, bs, 0x36) != 0 ||
        evp_keyed(e.outer, evp_md(h), pw, pwlen, bs, 0x5c) != 0)
        goto out;
    rc = evp_loop(&e, salt, saltlen, iter, out);
out:
    xmsg_secure_zero(kh, sizeof(kh));
    EVP_MD_CTX_free(e.inner);
    EVP_MD_CTX_free(e.outer);
    EVP_MD_CTX_free(e.work);
    return rc;
}
