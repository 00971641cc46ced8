/* upload.c - xmsg send --file: every file is uploaded first (XEP-0363),
 * then a message goes out for each: its GET URL as the body (after the
 * caption, -m, on the first) and as <x xmlns='jabber:x:oob'><url/></x>,
 * which clients show inline. A file that fails sends no message at all. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* s escaped for XML character data (owned), NULL out of memory. */
static char *xml_text(const char *s)
{
    size_t n = 1;
    const char *p;
    char *out, *o;

    for (p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    out = malloc(n);
    if (!out)
        return NULL;
    for (o = out, p = s; *p; p++) {
        const char *e = *p == '&'   ? "&amp;"
                        : *p == '<' ? "&lt;"
                        : *p == '>' ? "&gt;"
                                    : NULL;
        if (e) {
            memcpy(o, e, strlen(e));
            o += strlen(e);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* A copy of m with the URL's body and OOB payload (owned). */
static xmsg_message *file_message(const xmsg_message *m, const char *url,
                                  int first, xmsg_status *st)
{
    const char *caption = first ? xmsg_message_get(m, "body") : NULL;
    const char *payload = xmsg_message_get(m, "payload");
    xmsg_message *out = xmsg_message_new();
    char *esc = xml_text(url), *body = NULL, *oob = NULL;
    size_t i, n;
    int bad = !out || !esc;

    n = (caption ? strlen(caption) : 0) + strlen(url) + 2;
    body = bad ? NULL : malloc(n);
    oob = body ? malloc(strlen(esc) + (payload ? strlen(payload) : 0) + 64)
               : NULL;
    bad = !oob;
    for (i = 0; !bad && i < xmsg_message_field_count(m); i++) {
        const char *name = xmsg_message_field_name(m, i);

        if (strcmp(name, "body") && strcmp(name, "payload"))
            bad = xmsg_message_set(out, name, xmsg_message_field_value(m, i),
                                   st) != 0;
    }
    if (!bad) {
        snprintf(body, n, "%s%s%s", caption ? caption : "", caption ? "\n" : "",
                 url);
        sprintf(oob, "%s<x xmlns='jabber:x:oob'><url>%s</url></x>",
                payload ? payload : "", esc);
        bad = xmsg_message_set(out, "body", body, st) ||
              xmsg_message_set(out, "payload", oob, st);
    }
    free(esc);
    free(body);
    free(oob);
    if (bad) {
        xmsg_message_free(out);
        return NULL;
    }
    return out;
}

static xmsg_err upload_all(const struct cli_opts *o, xmsg_session *s,
                           char **urls, xmsg_status *st)
{
    xmsg_err rc = XMSG_OK;
    size_t i;

    for (i = 0; i < o->nfiles && !rc; i++)
        rc = xmsg_session_upload(s, o->files[i], o->content_type, &urls[i], st);
    return rc;
}

static xmsg_err send_all(const struct cli_opts *o, xmsg_session *s,
                         const xmsg_message *m, char **urls, xmsg_status *st)
{
    xmsg_message *one;
    xmsg_err rc = XMSG_OK;
    size_t i;

    for (i = 0; i < o->nfiles && !rc; i++) {
        one = file_message(m, urls[i], i == 0, st);
        rc = one ? xmsg_session_send(s, one, st) : XMSG_ERR_INTERNAL;
        if (!one)
            xmsg_status_set_error(st, rc, "out of memory");
        xmsg_message_free(one);
    }
    return rc;
}

int cli_send_files(const struct cli_opts *o, const xmsg_params *p,
                   const xmsg_message *m, xmsg_status *st)
{
    xmsg_session *s = NULL;
    char **urls = calloc(o->nfiles, sizeof(*urls));
    xmsg_err rc;
    size_t i;

    if (!urls)
        return cli_oom();
    rc = xmsg_session_open(p, &s, st);
    if (!rc)
        rc = upload_all(o, s, urls, st);
    if (!rc)
        rc = send_all(o, s, m, urls, st);
    xmsg_session_close(s, st);
    for (i = 0; i < o->nfiles; i++)
        xmsg_free(urls[i]);
    free(urls);
    return cli_exit_code(rc);
}
