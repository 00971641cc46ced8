/* castore.c - a faster way to the same trust. OpenSSL parses the whole
 * system CA bundle (/usr/lib/ssl/cert.pem, ~140 certificates: most of the
 * CPU of a one-shot send) at every TLS setup, because libstrophe asks for
 * the default verify paths. The same certificates are in the hashed
 * directory next to it, where OpenSSL looks up only the one it needs.
 * So, when SSL_CERT_FILE is unset or names that same system bundle, and
 * the lookup directory (SSL_CERT_DIR, else the default) is populated, the
 * bundle is skipped (SSL_CERT_FILE=/dev/null): trust is unchanged, and
 * --ca-file still adds its CAs. Any other SSL_CERT_FILE is respected. */
#define _DEFAULT_SOURCE /* realpath */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CERT_DIR "/usr/lib/ssl/certs"
#define CERT_FILE "/usr/lib/ssl/cert.pem"

/* 1 if dir holds OpenSSL hash links (8 hex digits, ".0"). */
static int hashed_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        found = strlen(e->d_name) == 10 &&
                strspn(e->d_name, "0123456789abcdef") == 8 &&
                strcmp(e->d_name + 8, ".0") == 0;
    }
    closedir(d);
    return found;
}

/* 1 if a and b name the same file. */
static int same_file(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && strcmp(ra, rb) == 0;

    free(ra);
    free(rb);
    return same;
}

void cli_lazy_ca_store(void)
{
    const char *file = getenv("SSL_CERT_FILE");
    const char *dir = getenv("SSL_CERT_DIR");

    if (file && !same_file(file, CERT_FILE))
        return;
    if (dir && (strchr(dir, ':') || !same_file(dir, CERT_DIR)))
        return;
    if (hashed_dir(CERT_DIR))
        setenv("SSL_CERT_FILE", "/dev/null", 1);
}
