/* validate.c - UTF-8/XML text, JID and attribute name checks. */
#include <string.h>

#include "model/internal.h"

/* Decodes one UTF-8 sequence at s (len bytes left). Returns its length and
 * sets *cp, or 0 when the sequence is invalid (overlong, surrogate, beyond
 * U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n, i;
    uint32_t c = s[0];

    if (c < 0x80)
        n = 1;
    else if ((c & 0xE0) == 0xC0)
        n = 2, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 3, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 4, c &= 0x07;
    else
        return 0;
    if (n > len)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

static int xml_char_ok(uint32_t c)
{
    if (c < 0x20)
        return c == 0x09 || c == 0x0A || c == 0x0D;
    return c != 0xFFFE && c != 0xFFFF;
}

int xmsg_text_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    size_t n;

    while (len > 0) {
        n = utf8_decode(p, len, &cp);
        if (n == 0 || !xml_char_ok(cp))
            return 0;
        p += n;
        len -= n;
    }
    return 1;
}

static int part_ok(const char *s, size_t len, const char *forbidden)
{
    size_t i;

    if (len == 0 || len > XMSG_JID_PART_MAX || !xmsg_text_valid(s, len))
        return 0;
    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= 0x20 || strchr(forbidden, s[i]))
            return 0;
    }
    return 1;
}

/* Splits jid into local (may be empty), domain and resource (may be NULL);
 * returns 1 when each present part is valid. */
static int jid_split_ok(const char *jid, int *has_local)
{
    const char *slash, *at, *domain;
    size_t dlen;

    if (!jid)
        return 0;
    slash = strchr(jid, '/');
    at = memchr(jid, '@', slash ? (size_t)(slash - jid) : strlen(jid));
    *has_local = at != NULL;
    if (at && !part_ok(jid, (size_t)(at - jid), "\"&'/:<>@"))
        return 0;
    domain = at ? at + 1 : jid;
    dlen = slash ? (size_t)(slash - domain) : strlen(domain);
    if (!part_ok(domain, dlen, "/@"))
        return 0;
    if (slash && !xmsg_text_valid(slash + 1, strlen(slash + 1)))
        return 0;
    return !slash ||
           (slash[1] != '\0' && strlen(slash + 1) <= XMSG_JID_PART_MAX);
}

int xmsg_jid_valid(const char *jid)
{
    int has_local;

    return jid_split_ok(jid, &has_local);
}

int xmsg_jid_is_account(const char *jid)
{
    int has_local;

    return jid_split_ok(jid, &has_local) && has_local;
}

static int name_char_ok(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

int xmsg_attr_name_valid(const char *name)
{
    const char *p;

    /* No prefixes: one would need a namespace declaration, and the parser
     * on the receiving side drops it. */
    if (!name || !name_char_ok(*name, 1))
        return 0;
    for (p = name + 1; *p; p++) {
        if (!name_char_ok(*p, 0))
            return 0;
    }
    return strcmp(name, "xmlns") != 0;
}

char *xmsg_jid_bare(const char *jid)
{
    const char *slash = jid ? strchr(jid, '/') : NULL;

    if (!jid)
        return NULL;
    return slash ? xmsg_strndup(jid, (size_t)(slash - jid)) : xmsg_strdup(jid);
}

void xmsg_utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s), n;
    uint32_t cp;

    while (len > 0) {
        n = utf8_decode(p, len, &cp);
        if (n == 0) {
            *p = '?';
            n = 1;
        }
        p += n;
        len -= n;
    }
}

/* The length of jid's bare part, without one trailing dot of the domain
 * (RFC 7622 3.2: "example.org." is "example.org"). */
static size_t bare_len(const char *jid)
{
    size_t n = strcspn(jid, "/");

    return n > 1 && jid[n - 1] == '.' ? n - 1 : n;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Local part and domain compare without ASCII case (RFC 7622: the
 * domain is case-insensitive, the local part is case-mapped by PRECIS
 * UsernameCaseMapped); other bytes compare as they are. */
int xmsg_jid_bare_is(const char *jid, const char *bare)
{
    size_t n, i;

    if (!jid || !bare)
        return 0;
    n = bare_len(bare);
    if (bare_len(jid) != n)
        return 0;
    for (i = 0; i < n; i++) {
        if (ascii_lower(jid[i]) != ascii_lower(bare[i]))
            return 0;
    }
    return 1;
}

int xmsg_jid_matches(const char *jid, const char *want)
{
    const char *res, *want_res;

    if (!xmsg_jid_bare_is(jid, want))
        return 0;
    want_res = strchr(want, '/');
    if (!want_res)
        return 1;
    res = strchr(jid, '/');
    return res && strcmp(res, want_res) == 0;
}

char *xmsg_jid_bare_norm(const char *jid)
{
    char *bare;
    size_t i;

    if (!jid)
        return NULL;
    bare = xmsg_strndup(jid, bare_len(jid));
    for (i = 0; bare && bare[i]; i++)
        bare[i] = ascii_lower(bare[i]);
    return bare;
}
