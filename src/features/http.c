/* http.c - see http.h: the libcurl setup shared by upload and download. */
#include <pthread.h>

#include <openssl/ssl.h>

#include "features/http.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int xmsg_http_init(void)
{
    pthread_once(&curl_once, curl_init_once);
    return curl_init_rc == CURLE_OK ? 0 : -1;
}

/* caFile added to the system store curl loaded (as the XMPP stream
 * does), rather than in its place. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *userdata)
{
    const char *ca_file = userdata;

    (void)curl;
    if (ca_file && SSL_CTX_load_verify_file(ssl_ctx, ca_file) != 1)
        return CURLE_SSL_CACERT_BADFILE;
    return CURLE_OK;
}

int xmsg_http_policy(CURL *curl, const xmsg_params *p, int plaintext_ok)
{
    const long t = p->timeout;

    return curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
                            plaintext_ok ? "http,https" : "https") ||
           curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) ||
           curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, t) ||
           curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L) ||
           curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, t) ||
           curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER,
                            p->trust_tls ? 0L : 1L) ||
           curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST,
                            p->trust_tls ? 0L : 2L) ||
           curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) ||
           curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, p->ca_file);
}

xmsg_err xmsg_http_err(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return XMSG_ERR_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        return XMSG_ERR_TLS;
    case CURLE_OUT_OF_MEMORY:
        return XMSG_ERR_INTERNAL;
    default:
        return XMSG_ERR_CONNECT;
    }
}
