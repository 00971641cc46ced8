/* fuzz_redact.c - log line redaction: input is "line NUL secret".
 *
 * Invariant checked (abort when broken): when the secret is at least 4
 * bytes without NUL, xmsg_redact's result never shows it, nor its base64
 * form. An occurrence that overlaps a "[redacted]" marker is not a leak:
 * the marker is text the redaction wrote itself (a secret such as "edac"
 * or "ted]</auth" would otherwise always be "found"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"

#include "fuzz.h"

#define MARKER "[redacted]"

/* pre[i]: how many bytes of s[0..i) belong to a marker; an occurrence
 * [a, b) overlaps one when pre[b] != pre[a]. Owned array. */
static size_t *marker_prefix(const char *s, size_t len)
{
    size_t *pre = calloc(len + 1, sizeof(*pre)), i, mlen = strlen(MARKER);
    size_t cover = 0;

    FUZZ_CHECK(pre != NULL);
    for (i = 0; i < len; i++) {
        if (strncmp(s + i, MARKER, mlen) == 0)
            cover = mlen;
        pre[i + 1] = pre[i] + (cover > 0);
        if (cover)
            cover--;
    }
    return pre;
}

static void check_absent(const char *out, const size_t *pre, const char *needle)
{
    size_t nlen = strlen(needle), pos;
    const char *p;

    for (p = strstr(out, needle); p; p = strstr(p + 1, needle)) {
        pos = (size_t)(p - out);
        if (pre[pos + nlen] == pre[pos]) {
            fprintf(stderr, "leaked at offset %zu: %s\n", pos, out);
            FUZZ_CHECK(!"secret in the redacted line");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t line_len = nul ? (size_t)(nul - data) : size;
    size_t secret_len = nul ? size - line_len - 1 : 0;
    char *line = fuzz_cstr(data, line_len);
    char *secret = fuzz_cstr(nul ? nul + 1 : data, secret_len);
    const char *secrets[1] = {secret};
    char *out = xmsg_redact(line, secrets, 1), *b64;
    size_t *pre;

    FUZZ_CHECK(out != NULL);
    if (secret_len >= 4 && strlen(secret) == secret_len) {
        pre = marker_prefix(out, strlen(out));
        check_absent(out, pre, secret);
        b64 = xmsg_base64((const unsigned char *)secret, secret_len);
        FUZZ_CHECK(b64 != NULL);
        check_absent(out, pre, b64);
        free(b64);
        free(pre);
    }
    free(out);
    free(secret);
    free(line);
    return 0;
}
