/* pin.c - see pin.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "model/internal.h"
#include "model/pin.h"

#define PIN_PREFIX "sha256//"
#define PIN_B64_LEN 44 /* base64 of 32 bytes */

static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int one_pin_valid(const char *p, size_t len)
{
    size_t i, plen = strlen(PIN_PREFIX);

    if (len != plen + PIN_B64_LEN || strncmp(p, PIN_PREFIX, plen) != 0)
        return 0;
    for (i = plen; i < len - 1; i++) {
        if (!b64_char(p[i]))
            return 0;
    }
    return p[len - 1] == '=';
}

int xmsg_pins_valid(const char *pins)
{
    const char *end;

    if (!pins || !*pins)
        return 0;
    for (;;) {
        end = strchr(pins, ';');
        if (!one_pin_valid(pins, end ? (size_t)(end - pins) : strlen(pins)))
            return 0;
        if (!end)
            return 1;
        pins = end + 1;
    }
}

int xmsg_pin_of_pem(const char *pem, char *out, size_t outlen)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH];
    int len = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;
    char *b64 = NULL;
    int rc = -1;

    if (len > 0 && SHA256(der, (size_t)len, digest)) {
        b64 = xmsg_base64(digest, sizeof(digest));
        if (b64 && snprintf(out, outlen, PIN_PREFIX "%s", b64) < (int)outlen)
            rc = 0;
    }
    xmsg_free(b64);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    return rc;
}

int xmsg_pins_match(const char *pins, const char *pin)
{
    size_t n = strlen(pin);
    const char *p;

    for (p = pins; p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        if (strncmp(p, pin, n) == 0 && (p[n] == ';' || p[n] == '\0'))
            return 1;
    }
    return 0;
}
