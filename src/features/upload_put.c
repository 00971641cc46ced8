/* upload_put.c - see upload.h: the HTTP PUT of XEP-0363 with libcurl. */
#include <stdlib.h>
#include <string.h>

#include "features/http.h"
#include "features/upload.h"

/* What the read callback reads from, and whom the transfer ticks. */
struct src {
    FILE *f;
    int64_t left; /* bytes still to send */
    int failed;   /* a read error, or the file ended early */
    xmsg_upload_tick tick;
    void *userdata;
    int aborted; /* tick said stop */
};

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct src *s = userdata;

    (void)dltotal, (void)dlnow, (void)ultotal;
    if (s->tick && s->tick(s->userdata, (int64_t)ulnow))
        s->aborted = 1;
    return s->aborted;
}

static size_t on_read(char *buf, size_t size, size_t n, void *userdata)
{
    struct src *s = userdata;
    size_t want = size * n, got;

    if ((int64_t)want > s->left)
        want = (size_t)s->left;
    if (want == 0)
        return 0;
    got = fread(buf, 1, want, s->f);
    if (got == 0) {
        s->failed = 1;
        return CURL_READFUNC_ABORT;
    }
    s->left -= (int64_t)got;
    return got;
}

/* The answer's body is not needed: read and dropped. */
static size_t on_write(char *buf, size_t size, size_t n, void *userdata)
{
    (void)buf;
    (void)userdata;
    return size * n;
}

/* The request's headers: Content-Type, the slot's, no Expect. */
static struct curl_slist *headers(const xmsg_upload_slot *slot,
                                  const char *content_type)
{
    struct curl_slist *h = NULL, *n;
    char line[1024];
    size_t i;

    snprintf(line, sizeof(line), "Content-Type: %s",
             content_type ? content_type : "application/octet-stream");
    h = curl_slist_append(NULL, line);
    n = h ? curl_slist_append(h, "Expect:") : NULL;
    for (i = 0; n && i < slot->nh; i++) {
        xmsg_buf b = {0};

        if (xmsg_buf_str(&b, slot->hname[i]) || xmsg_buf_str(&b, ": ") ||
            xmsg_buf_str(&b, slot->hvalue[i]))
            n = NULL;
        else
            n = curl_slist_append(h, b.d);
        xmsg_buf_free(&b);
    }
    if (!n) {
        curl_slist_free_all(h);
        return NULL;
    }
    return h;
}

static int setup(CURL *curl, const xmsg_upload_slot *slot, struct curl_slist *h,
                 struct src *s, const xmsg_params *p)
{
    return curl_easy_setopt(curl, CURLOPT_URL, slot->put_url) ||
           xmsg_http_policy(curl, p, p->disable_tls) ||
           curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L) ||
           curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                            (curl_off_t)s->left) ||
           curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read) ||
           curl_easy_setopt(curl, CURLOPT_READDATA, s) ||
           curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write) ||
           curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L) ||
           curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress) ||
           curl_easy_setopt(curl, CURLOPT_XFERINFODATA, s) ||
           curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
}

static xmsg_err result(CURL *curl, CURLcode rc, const struct src *s,
                       const char *errbuf, xmsg_status *st)
{
    long status = 0;

    if (s->aborted)
        return xmsg_status_fail(st, XMSG_ERR_CONNECT,
                                "upload: the connection was lost during the "
                                "PUT");
    if (s->failed)
        return xmsg_status_fail(st, XMSG_ERR_INPUT,
                                "upload: the file could not be read to its "
                                "end");
    if (rc)
        return xmsg_status_fail(st, xmsg_http_err(rc), "upload: %s",
                                errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return xmsg_status_fail(st, XMSG_ERR_PROTOCOL,
                                "upload: the server answered the PUT with "
                                "HTTP status %ld",
                                status);
    return XMSG_OK;
}

xmsg_err xmsg_upload_put(const xmsg_upload_slot *slot, FILE *f, int64_t size,
                         const char *content_type, const xmsg_params *p,
                         xmsg_upload_tick tick, void *userdata, xmsg_status *st)
{
    struct src s = {f, size, 0, tick, userdata, 0};
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *curl = NULL;
    xmsg_err rc;

    if (xmsg_http_init())
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "upload: libcurl does not start");
    curl = curl_easy_init();
    h = curl ? headers(slot, content_type) : NULL;
    if (!h || setup(curl, slot, h, &s, p) ||
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf)) {
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "upload: out of memory");
        goto out;
    }
    rc = result(curl, curl_easy_perform(curl), &s, errbuf, st);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    return rc;
}
