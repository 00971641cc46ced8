/* upload_put.c - see upload.h: the HTTP PUT of XEP-0363 with libcurl. */
#include <stdlib.h>
#include <string.h>

#include "features/aesgcm.h"
#include "features/http.h"
#include "features/upload.h"

/* What the read callback reads from, and whom the transfer ticks. */
struct src {
    FILE *f;
    int64_t left; /* bytes of the file still to send */
    int failed;   /* a read error, or the file ended early */
    xmsg_upload_tick tick;
    void *userdata;
    int aborted; /* tick said stop */
    /* Sealed (XEP-0454): the file encrypted as it is read, then its tag. */
    xmsg_aesgcm *enc;
    uint8_t tag[XMSG_AESGCM_TAG];
    size_t tag_left;   /* the tag's bytes still to send */
    int cipher_failed; /* OpenSSL refused */
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

/* Sealed: once the file is read, its tag (made at the file's end). */
static size_t read_tag(struct src *s, char *buf, size_t want)
{
    const size_t off = XMSG_AESGCM_TAG - s->tag_left;

    if (want > s->tag_left)
        want = s->tag_left;
    memcpy(buf, s->tag + off, want);
    s->tag_left -= want;
    return want;
}

static size_t on_read(char *buf, size_t size, size_t n, void *userdata)
{
    struct src *s = userdata;
    size_t want = size * n, got;

    if (s->left == 0)
        return s->enc ? read_tag(s, buf, want) : 0;
    if ((int64_t)want > s->left)
        want = (size_t)s->left;
    got = fread(buf, 1, want, s->f);
    if (got == 0) {
        s->failed = 1;
        return CURL_READFUNC_ABORT;
    }
    s->left -= (int64_t)got;
    if (s->enc &&
        (xmsg_aesgcm_update(s->enc, (uint8_t *)buf, got, (uint8_t *)buf) ||
         (s->left == 0 && xmsg_aesgcm_tag(s->enc, s->tag)))) {
        s->cipher_failed = 1;
        return CURL_READFUNC_ABORT;
    }
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
                            (curl_off_t)(s->left + (int64_t)s->tag_left)) ||
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
    if (s->cipher_failed)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "upload: the file cannot be encrypted");
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

/* The PUT of s (plain, or sealed when s->enc). */
static xmsg_err put(const xmsg_upload_slot *slot, struct src *s,
                    const char *content_type, const xmsg_params *p,
                    xmsg_status *st)
{
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *curl = NULL;
    xmsg_err rc;

    if (xmsg_http_init())
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "upload: libcurl does not start");
    curl = curl_easy_init();
    h = curl ? headers(slot, content_type) : NULL;
    if (!h || setup(curl, slot, h, s, p) ||
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf)) {
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL, "upload: out of memory");
        goto out;
    }
    rc = result(curl, curl_easy_perform(curl), s, errbuf, st);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    return rc;
}

xmsg_err xmsg_upload_put(const xmsg_upload_slot *slot, FILE *f, int64_t size,
                         const char *content_type, const xmsg_params *p,
                         xmsg_upload_tick tick, void *userdata, xmsg_status *st)
{
    struct src s;

    memset(&s, 0, sizeof(s));
    s.f = f;
    s.left = size;
    s.tick = tick;
    s.userdata = userdata;
    return put(slot, &s, content_type, p, st);
}

xmsg_err xmsg_upload_put_sealed(const xmsg_upload_slot *slot, FILE *f,
                                int64_t size, const xmsg_aesgcm_key *k,
                                const xmsg_params *p, xmsg_upload_tick tick,
                                void *userdata, xmsg_status *st)
{
    struct src s;
    xmsg_err rc;

    memset(&s, 0, sizeof(s));
    s.f = f;
    s.left = size;
    s.tick = tick;
    s.userdata = userdata;
    s.tag_left = XMSG_AESGCM_TAG;
    s.enc = xmsg_aesgcm_new(k, 1);
    if (!s.enc)
        return xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                                "upload: the cipher does not start");
    if (size == 0 && xmsg_aesgcm_tag(s.enc, s.tag))
        rc = xmsg_status_fail(st, XMSG_ERR_INTERNAL,
                              "upload: the file cannot be encrypted");
    else
        rc = put(slot, &s, "application/octet-stream", p, st);
    xmsg_aesgcm_free(s.enc);
    return rc;
}
