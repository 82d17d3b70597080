/* A small libcurl client (Debian's GnuTLS flavour, libcurl3-gnutls) for `gnutls-lab spy`: the tests, notebook 07
 * and data/make_spy_runs.py build it with gnutls_lab.network._spy.build_curl_client.
 *
 *   curl_resume URL COUNT MODE
 *
 * MODE "handle": COUNT requests with one easy handle, each on a new connection (CURLOPT_FORBID_REUSE),
 * so only libcurl's own session cache can resume them. MODE "share": COUNT requests, each with a new
 * easy handle, sharing one CURLSH that shares SSL_SESSION. MODE "threads": COUNT threads at once, each
 * making 2 requests with its own handle, after a fork(): parent and child both do it (the spy must
 * keep every record whole and under the right pid and thread). Certificates are not verified: the lab server
 * on 127.0.0.1 has a fresh self-signed one. Exit status 0 when every request got HTTP 200.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
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

static void *two_requests(void *url)
{
    CURL *easy = curl_easy_init();
    long failed = request(easy, url) | request(easy, url);
    curl_easy_cleanup(easy);
    return (void *)failed;
}

static int threads(const char *url, int count)
{
    pthread_t ids[64];
    int failed = 0;
    if (count > 64)
        count = 64;
    for (int i = 0; i < count; i++)
        pthread_create(&ids[i], NULL, two_requests, (void *)url);
    for (int i = 0; i < count; i++) {
        void *result;
        pthread_join(ids[i], &result);
        failed |= result != NULL;
    }
    return failed;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: curl_resume URL COUNT handle|share\n");
        return 2;
    }
    int count = atoi(argv[2]), failed = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(argv[3], "threads") == 0) {
        pid_t child = fork();
        failed = threads(argv[1], count);
        if (child == 0)
            _exit(failed);
        int status = 1;
        waitpid(child, &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    } else if (strcmp(argv[3], "handle") == 0) {
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
