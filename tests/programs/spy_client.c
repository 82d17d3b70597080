/* A small GnuTLS client for tests/test_spy.py: the programs the spy must watch without changing them.
 *
 * Built two ways by the tests: as a program linked with libgnutls (main() below), and as a plugin
 * (-shared -DPLUGIN) that tests/programs/dlopen_local.c loads with dlopen(RTLD_LOCAL), as plugin hosts do.
 *
 *   spy_client resume PORT       a full handshake, get_data2, then a resumption with that data
 *   spy_client threads PORT N    one full handshake that stores its data, then N connections in parallel,
 *                                accepted in order 1..N: the odd ones wait 300 ms, then make a full
 *                                handshake; the even ones resume at once (so handshakes end out of order)
 *   spy_client closefds FILE     gnutls_init, close every descriptor from 3 up, open FILE and write a
 *                                line to it, more libgnutls calls, then write a second line
 *
 * Each connection prints "connection I: resumed R" on success; any failure exits with status 1.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static gnutls_certificate_credentials_t credentials;
static int port;
static gnutls_datum_t stored;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t order_changed = PTHREAD_COND_INITIALIZER;
static int connected; /* how many threads have connected, for the accept order */

static int connect_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        perror("connect");
        return -1;
    }
    return fd;
}

/* One TLS connection on `fd`: offers `offer` if given, keeps its session data in `keep` if given. */
static int tls_connection(int index, int fd, const gnutls_datum_t *offer, gnutls_datum_t *keep)
{
    gnutls_session_t session;
    int rc = gnutls_init(&session, GNUTLS_CLIENT);
    if (rc == 0)
        rc = gnutls_set_default_priority(session);
    if (rc == 0)
        rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials);
    if (rc == 0 && offer)
        rc = gnutls_session_set_data(session, offer->data, offer->size);
    if (rc != 0) {
        fprintf(stderr, "connection %d: set-up failed: %s\n", index, gnutls_strerror(rc));
        return -1;
    }
    gnutls_transport_set_int(session, fd);
    do
        rc = gnutls_handshake(session);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0) {
        fprintf(stderr, "connection %d: handshake failed: %s\n", index, gnutls_strerror(rc));
        gnutls_deinit(session);
        return -1;
    }
    printf("connection %d: resumed %d\n", index, gnutls_session_is_resumed(session));
    if (keep && gnutls_session_get_data2(session, keep) != 0) {
        fprintf(stderr, "connection %d: no session data\n", index);
        gnutls_deinit(session);
        return -1;
    }
    gnutls_bye(session, GNUTLS_SHUT_WR);
    gnutls_deinit(session);
    close(fd);
    return 0;
}

static void *parallel_connection(void *arg)
{
    int index = (int)(long)arg;
    pthread_mutex_lock(&order_lock);
    while (connected != index - 1)
        pthread_cond_wait(&order_changed, &order_lock);
    int fd = connect_loopback();
    connected = index;
    pthread_cond_broadcast(&order_changed);
    pthread_mutex_unlock(&order_lock);
    if (fd < 0)
        return (void *)1L;
    if (index % 2 == 1) /* an odd connection: the first accepted, the last to finish its handshake */
        usleep(300 * 1000);
    return (void *)(long)(tls_connection(index, fd, index % 2 == 0 ? &stored : NULL, NULL) != 0);
}

static int close_descriptors(const char *path)
{
    gnutls_session_t session;
    if (gnutls_init(&session, GNUTLS_CLIENT) != 0)
        return 1;
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    int own = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (own < 0)
        return 1;
    const char first[] = "the program's own first line\n", second[] = "the program's own second line\n";
    if (write(own, first, sizeof first - 1) != sizeof first - 1)
        return 1;
    gnutls_datum_t data;
    int rc = gnutls_session_get_data2(session, &data); /* before a handshake: an error, logged */
    gnutls_session_set_data(session, "\0\0\0\0", 4);
    gnutls_deinit(session);
    if (write(own, second, sizeof second - 1) != sizeof second - 1)
        return 1;
    printf("get_data2 before a handshake: %d\n", rc);
    return close(own) != 0;
}

int spy_client_main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "closefds") == 0)
        return close_descriptors(argv[2]);
    if (argc < 3 || gnutls_certificate_allocate_credentials(&credentials) != 0) {
        fprintf(stderr, "usage: spy_client resume PORT | threads PORT N | closefds FILE\n");
        return 2;
    }
    port = atoi(argv[2]);
    int fd = connect_loopback();
    if (fd < 0 || tls_connection(0, fd, NULL, &stored) != 0)
        return 1;
    if (strcmp(argv[1], "resume") == 0) {
        fd = connect_loopback();
        return fd < 0 || tls_connection(1, fd, &stored, NULL) != 0;
    }
    int n = argc > 3 ? atoi(argv[3]) : 4;
    pthread_t threads[64];
    if (n < 1 || n > 64)
        return 2;
    for (long i = 1; i <= n; i++)
        pthread_create(&threads[i - 1], NULL, parallel_connection, (void *)i);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        void *result;
        pthread_join(threads[i], &result);
        failed |= result != NULL;
    }
    gnutls_free(stored.data);
    gnutls_certificate_free_credentials(credentials);
    return failed;
}

#ifndef PLUGIN
int main(int argc, char **argv)
{
    return spy_client_main(argc, argv);
}
#endif
