/* test_pin.c - public key pins: syntax, matching, and the pin of a
 * certificate (checked against openssl's own computation). */
#include "unit.h"

#include "model/pin.h"

/* A self-signed P-256 certificate; its pin was computed with
 * openssl x509 -pubkey | openssl pkey -pubin -outform der |
 * openssl dgst -sha256 -binary | base64. */
static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBezCCASGgAwIBAgIUIlei6S81lOh9hu/ZhZKyd/uCmC0wCgYIKoZIzj0EAwIw\n"
    "EzERMA8GA1UEAwwIcGluLnRlc3QwHhcNMjYxMTI1MjEwMTUxWhcNMzYxMTIyMjEw\n"
    "MTUxWjATMREwDwYDVQQDDAhwaW4udGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABLKxiuYw9666S8HiQJwpwSEWkSX31jh9bHIqmpkaHoPaPV0s2t04OJWDxXlA\n"
    "/Enajp0ipBeOAAMkS5cobn/9eWejUzBRMB0GA1UdDgQWBBQjS2orT2c5z96Skwsi\n"
    "0mH7O3nCWjAfBgNVHSMEGDAWgBQjS2orT2c5z96Skwsi0mH7O3nCWjAPBgNVHRMB\n"
    "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC6SQACrvlQhcDVI5tbNYw6Tyv+\n"
    "jyp1RuWwgdzVC/HbLQIgDLW3Jxu+FgprekbLkEdoo5hWPoP7WT5le1zSUQjai3o=\n"
    "-----END CERTIFICATE-----\n";
static const char cert_pin[] = "sha256//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=";

static void test_valid(void **state)
{
    static const struct {
        const char *pins;
        int ok;
    } rows[] = {
        {"sha256//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=", 1},
        {"sha256//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=;sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1},
        {"", 0},
        {"sha256//", 0},
        {"sha1//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=", 0},
        {"sha256//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=;", 0},
        {";sha256//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=", 0},
        {"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0},
        {"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", 0},
        {"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A=", 0},
        {"SHA256//0ZOu7J3tEKFrVop7wAX8IWpXq6iRrGlkHlWjCEzGrKk=", 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_ROWS(rows); i++) {
        if (xmsg_pins_valid(rows[i].pins) != rows[i].ok)
            fail_msg("xmsg_pins_valid(%s) != %d", rows[i].pins, rows[i].ok);
    }
    assert_int_equal(xmsg_pins_valid(NULL), 0);
}

static void test_match(void **state)
{
    const char *other = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    char both[200];

    (void)state;
    snprintf(both, sizeof(both), "%s;%s", other, cert_pin);
    assert_true(xmsg_pins_match(cert_pin, cert_pin));
    assert_true(xmsg_pins_match(both, cert_pin));
    assert_true(xmsg_pins_match(both, other));
    assert_false(xmsg_pins_match(other, cert_pin));
    /* A prefix of a pin is no match. */
    assert_false(xmsg_pins_match(cert_pin, "sha256//"));
}

static void test_pin_of_pem(void **state)
{
    char pin[128];

    (void)state;
    assert_int_equal(xmsg_pin_of_pem(cert_pem, pin, sizeof(pin)), 0);
    assert_string_equal(pin, cert_pin);
    assert_int_equal(xmsg_pin_of_pem("not a certificate", pin, sizeof(pin)),
                     -1);
    assert_int_equal(xmsg_pin_of_pem(cert_pem, pin, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_pin_of_pem),
    };

    return cmocka_run_group_tests_name("pin", tests, NULL, NULL);
}
