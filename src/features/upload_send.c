/* upload_send.c - see upload.h: the files of a call's messages, each
 * uploaded once, and the message that carries one of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/aesgcm.h"
#include "features/upload.h"

struct xmsg_upload_done {
    char *path, *type; /* owned; type "" when guessed */
    char *url;         /* owned; NULL when it failed */
    xmsg_err code;     /* its failure */
    char *text;        /* owned: its failure's text */
};

void xmsg_uploads_clear(xmsg_uploads *u)
{
    size_t i;

    for (i = 0; i < u->n; i++) {
        free(u->v[i].path);
        free(u->v[i].type);
        free(u->v[i].url);
        free(u->v[i].text);
    }
    free(u->v);
    memset(u, 0, sizeof(*u));
}

static struct xmsg_upload_done *find(const xmsg_uploads *u, const char *path,
                                     const char *type)
{
    size_t i;

    for (i = 0; i < u->n; i++) {
        if (!strcmp(u->v[i].path, path) && !strcmp(u->v[i].type, type))
            return &u->v[i];
    }
    return NULL;
}

/* A new entry for path and type (copied), or NULL out of memory. */
static struct xmsg_upload_done *add(xmsg_uploads *u, const char *path,
                                    const char *type)
{
    struct xmsg_upload_done *nv, *d;
    size_t ncap;

    if (u->n == u->cap) {
        ncap = u->cap ? u->cap * 2 : 4;
        nv = realloc(u->v, ncap * sizeof(*nv));
        if (!nv)
            return NULL;
        u->v = nv;
        u->cap = ncap;
    }
    d = &u->v[u->n];
    memset(d, 0, sizeof(*d));
    d->path = xmsg_strdup(path);
    d->type = xmsg_strdup(type);
    if (!d->path || !d->type) {
        free(d->path);
        free(d->type);
        return NULL;
    }
    u->n++;
    return d;
}

/* The upload of d: its URL, or its failure (taken out of c->st unless
 * the connection is lost, or c->st held one before). */
static void upload(xmsg_conn *c, struct xmsg_upload_done *d)
{
    const int clean = xmsg_status_code(c->st) == XMSG_OK;
    int64_t size = 0;
    const char *text;

    d->code =
        xmsg_upload_file(c, d->path, *d->type ? d->type : NULL, &d->url, &size);
    if (!d->code && xmsg_status_add_file(c->st, d->path, d->url, size))
        d->code = XMSG_ERR_INTERNAL;
    if (!d->code)
        return;
    text = clean ? xmsg_status_text(c->st) : NULL;
    d->text = xmsg_strdup(text ? text : xmsg_strerror(d->code));
    if (clean && !c->closed)
        xmsg_status_clear_error(c->st);
    free(d->url);
    d->url = NULL;
}

xmsg_err xmsg_uploads_get(xmsg_conn *c, xmsg_uploads *u, const xmsg_message *m,
                          const char **urls, char *err, size_t errlen)
{
    struct xmsg_upload_done *d;
    size_t i;

    for (i = 0; i < m->files.n; i++) {
        d = find(u, m->files.v[i], m->ftypes.v[i]);
        if (!d) {
            d = add(u, m->files.v[i], m->ftypes.v[i]);
            if (!d) {
                snprintf(err, errlen, "out of memory");
                return XMSG_ERR_INTERNAL;
            }
            upload(c, d);
        }
        if (d->code) {
            snprintf(err, errlen, "%s", d->text ? d->text : "upload failed");
            return d->code;
        }
        urls[i] = d->url;
    }
    return XMSG_OK;
}

/* The body: the caption (m's body, first file only), a newline, the URL. */
static int set_body(xmsg_message *out, const xmsg_message *m, size_t i,
                    const char *url)
{
    const char *caption =
        i == 0 && !xmsg_aesgcm_is_url(url) ? xmsg_message_get(m, "body") : NULL;
    xmsg_buf b = {0};
    int rc;

    rc = caption && *caption &&
         (xmsg_buf_str(&b, caption) || xmsg_buf_str(&b, "\n"));
    rc = rc || xmsg_buf_str(&b, url) || xmsg_message_put(out, "body", b.d);
    xmsg_buf_free(&b);
    return rc ? -1 : 0;
}

xmsg_message *xmsg_file_message(const xmsg_message *m, size_t i,
                                const char *url)
{
    xmsg_message *out = xmsg_message_new();
    const int last = i + 1 == m->files.n;
    size_t k;
    int rc = !out;

    for (k = 0; !rc && k < m->names.n; k++) {
        const char *name = m->names.v[k];

        if (strcmp(name, "body") && (last || strcmp(name, "id")))
            rc = xmsg_message_put(out, name, m->values.v[k]);
    }
    rc = rc || set_body(out, m, i, url) ||
         (!xmsg_aesgcm_is_url(url) && xmsg_message_set_oob(out, url));
    if (rc) {
        xmsg_message_free(out);
        return NULL;
    }
    return out;
}

xmsg_message *xmsg_caption_message(const xmsg_message *m)
{
    xmsg_message *out = xmsg_message_new();
    size_t k;

    for (k = 0; out && k < m->names.n; k++) {
        if (strcmp(m->names.v[k], "id") &&
            xmsg_message_put(out, m->names.v[k], m->values.v[k])) {
            xmsg_message_free(out);
            out = NULL;
        }
    }
    return out;
}
