/* fuzz_scram.c - the SCRAM client's parsing of server messages, the
 * restriction param and strict base64. Input: "server-first NUL
 * server-final NUL policy".
 *
 * Invariants checked (abort when broken): a client-final is produced only
 * for a server nonce that extends ours and a count within [4096, 4100]
 * (the harness's max_iter keeps PBKDF2 cheap); verify never accepts a
 * server-final that is not "v=" + the right signature (it cannot be
 * guessed, so any success is a bug); an accepted policy allows something;
 * base64 that decodes re-encodes to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "xmpp/sasl.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits data at NULs into up to 3 parts (missing ones empty). */
static void split3(const uint8_t *data, size_t size, const char **p,
                   size_t *len)
{
    size_t i, k = 0, start = 0;

    for (i = 0; i < 3; i++) {
        p[i] = "";
        len[i] = 0;
    }
    for (i = 0; i <= size && k < 3; i++) {
        if (i == size || data[i] == 0) {
            p[k] = (const char *)data + start;
            len[k++] = i - start;
            start = i + 1;
        }
    }
}

static void check_b64(const char *s, size_t len)
{
    unsigned char *out;
    size_t n;
    char *back;

    if (xmsg_sasl_b64_decode(s, len, &out, &n) != 0)
        return;
    back = xmsg_base64(out, n);
    FUZZ_CHECK(back != NULL);
    FUZZ_CHECK(strlen(back) == len && memcmp(back, s, len) == 0);
    free(back);
    free(out);
}

static void check_policy(const char *s, size_t len)
{
    char *spec = fuzz_cstr((const uint8_t *)s, len);
    unsigned allowed = 0;

    if (xmsg_sasl_policy_parse(spec, &allowed, NULL) == XMSG_OK)
        FUZZ_CHECK(allowed != 0 && (allowed & ~XMSG_MECH_ALL) == 0);
    free(spec);
}

static void check_exchange(const char *first, size_t flen, const char *fin,
                           size_t finlen)
{
    xmsg_scram_params p = {0};
    char *out = NULL, *cf = NULL;
    xmsg_scram *sc;

    p.mech = XMSG_MECH_SCRAM_SHA_1;
    p.authcid = "user";
    p.password = "pencil";
    p.gs2_flag = 'n';
    p.max_iter = 4100;
    sc = xmsg_scram_new(&p, NULL);
    FUZZ_CHECK(sc != NULL);
    FUZZ_CHECK(xmsg_scram_set_nonce(sc, "abc") == 0);
    FUZZ_CHECK(xmsg_scram_client_first(sc, &cf, NULL) == XMSG_OK);
    if (xmsg_scram_client_final(sc, first, flen, &out, NULL) == XMSG_OK) {
        FUZZ_CHECK(flen > 5 && memcmp(first, "r=abc", 5) == 0);
        FUZZ_CHECK(out != NULL && strncmp(out, "c=biws,r=abc", 12) == 0);
        FUZZ_CHECK(xmsg_scram_verify(sc, fin, finlen, NULL) != XMSG_OK);
    }
    if (out)
        xmsg_sasl_free_secret(out, strlen(out));
    free(cf);
    xmsg_scram_free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p[3];
    size_t len[3];

    split3(data, size, p, len);
    check_exchange(p[0], len[0], p[1], len[1]);
    check_policy(p[2], len[2]);
    check_b64(p[0], len[0]);
    return 0;
}
