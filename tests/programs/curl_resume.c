/* A small libcurl client (Debian's GnuTLS flavour, libcurl3-gnutls) for `gnutls-lab spy` tests.
 *
 *   curl_resume URL COUNT MODE
 *
 * MODE "handle": COUNT requests with one easy handle, each on a new connection (CURLOPT_FORBID_REUSE),
 * so only libcurl's own session cache can resume them. MODE "share": COUNT requests, each with a new
 * easy handle, sharing one CURLSH that shares SSL_SESSION. Certificates are not verified: the lab server
 * on 127.0.0.1 has a fresh self-signed one. Exit status 0 when every request got HTTP 200.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t discard(void *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

static int request(CURL *easy, const char *url)
{
    long status = 0;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(easy);
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl_resume: %s\n", curl_easy_strerror(rc));
        return 1;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return status == 200 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: curl_resume URL COUNT handle|share\n");
        return 2;
    }
    int count = atoi(argv[2]), failed = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(argv[3], "handle") == 0) {
        CURL *easy = curl_easy_init();
        for (int i = 0; i < count; i++)
            failed |= request(easy, argv[1]);
        curl_easy_cleanup(easy);
    } else {
        CURLSH *share = curl_share_init();
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        for (int i = 0; i < count; i++) {
            CURL *easy = curl_easy_init();
            curl_easy_setopt(easy, CURLOPT_SHARE, share);
            failed |= request(easy, argv[1]);
            curl_easy_cleanup(easy);
        }
        curl_share_cleanup(share);
    }
    curl_global_cleanup();
    return failed;
}
