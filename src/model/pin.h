/* pin.h - public key pinning (like curl's --pinnedpubkey): the server's
 * certificate must carry one of the given SubjectPublicKeyInfo SHA-256
 * hashes, whatever else verification says. */
#ifndef XMSG_PIN_H
#define XMSG_PIN_H

#include <stddef.h>

/* 1 if pins is a valid list: "sha256//BASE64" entries separated by ';'. */
int xmsg_pins_valid(const char *pins);

/* The "sha256//BASE64" pin of the certificate in PEM; 0 or -1. */
int xmsg_pin_of_pem(const char *pem, char *out, size_t outlen);

/* 1 if pin is one of pins. */
int xmsg_pins_match(const char *pins, const char *pin);

#endif
