/* bench_pbkdf2.c - measures Hi() (PBKDF2, one block) three ways: xmsg's
 * pre-keyed low-level states ("fast"), xmsg's pre-keyed EVP_MD_CTX copies
 * ("evp") and OpenSSL's PKCS5_PBKDF2_HMAC ("openssl"). Not a test: run by
 * hand, under callgrind for instruction counts (docs/design.md).
 *   bench_pbkdf2 sha1|sha256|sha512 fast|evp|openssl [iterations] [runs]
 * Prints the CPU time of one derivation in ms (process CPU clock: a
 * loaded machine delays it, but does not add to it), least and median. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "xmpp/sasl.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int run(const char *impl, xmsg_scram_hash h, unsigned iter,
               unsigned char *out)
{
    static const unsigned char pw[] = "pencil-and-paper";
    static const unsigned char salt[] = "QSXCR+Q6sek8bf92";
    const EVP_MD *md[] = {EVP_sha1(), EVP_sha256(), EVP_sha512()};

    if (strcmp(impl, "fast") == 0)
        return xmsg_pbkdf2(h, pw, 16, salt, 16, iter, out);
    if (strcmp(impl, "evp") == 0)
        return xmsg_pbkdf2_evp(h, pw, 16, salt, 16, iter, out);
    return PKCS5_PBKDF2_HMAC((const char *)pw, 16, salt, 16, (int)iter, md[h],
                             (int)xmsg_scram_hash_len(h), out) == 1
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    unsigned char out[64];
    unsigned iter = 10000, runs = 1, i;
    xmsg_scram_hash h;
    double *t, t0;

    if (argc < 3) {
        fprintf(stderr,
                "usage: %s sha1|sha256|sha512 fast|evp|openssl "
                "[iterations] [runs]\n",
                argv[0]);
        return 2;
    }
    h = strcmp(argv[1], "sha512") == 0   ? XMSG_HASH_SHA512
        : strcmp(argv[1], "sha256") == 0 ? XMSG_HASH_SHA256
                                         : XMSG_HASH_SHA1;
    if (argc > 3)
        iter = (unsigned)strtoul(argv[3], NULL, 10);
    if (argc > 4)
        runs = (unsigned)strtoul(argv[4], NULL, 10);
    if (iter == 0 || runs == 0)
        return 2;
    t = calloc(runs, sizeof(*t));
    if (!t)
        return 1;
    for (i = 0; i < runs; i++) {
        t0 = now_ms();
        if (run(argv[2], h, iter, out) != 0)
            return 1;
        t[i] = now_ms() - t0;
    }
    qsort(t, runs, sizeof(*t), cmp_double);
    printf("%s %s %u iterations: %.3f ms least, %.3f ms median of %u\n",
           argv[1], argv[2], iter, t[0], t[runs / 2], runs);
    free(t);
    return 0;
}
