/* A plugin host for tests/test_spy.py: loads a library with dlopen(RTLD_LOCAL), as Python's ctypes and
 * plugin loaders do, so libgnutls is never in the process's global scope.
 *
 *   dlopen_local PLUGIN ARGS...   PLUGIN's spy_client_main(ARGS) (tests/programs/spy_client.c -DPLUGIN)
 *   dlopen_local gnutls           libgnutls.so.30 itself: gnutls_init, gnutls_session_get_data (which calls
 *                                 gnutls_session_get_data2 inside libgnutls) and gnutls_deinit, by dlsym
 *
 * No GnuTLS headers: the few prototypes are written out. Prints what each call returned.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "gnutls") != 0) {
        void *plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        int (*run)(int, char **) = plugin ? (int (*)(int, char **))dlsym(plugin, "spy_client_main") : NULL;
        if (!run) {
            fprintf(stderr, "dlopen_local: %s\n", dlerror());
            return 2;
        }
        return run(argc - 1, argv + 1);
    }
    void *library = dlopen("libgnutls.so.30", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "dlopen_local: %s\n", dlerror());
        return 2;
    }
    int (*init)(void **, unsigned) = (int (*)(void **, unsigned))dlsym(library, "gnutls_init");
    int (*get_data)(void *, void *, size_t *) = (int (*)(void *, void *, size_t *))dlsym(library, "gnutls_session_get_data");
    void (*deinit)(void *) = (void (*)(void *))dlsym(library, "gnutls_deinit");
    void *session = NULL;
    char data[256];
    size_t size = sizeof data;
    int rc = init(&session, 2 /* GNUTLS_CLIENT */);
    printf("gnutls_init: %d\n", rc);
    printf("gnutls_session_get_data: %d\n", get_data(session, data, &size));
    deinit(session);
    printf("done\n");
    return 0;
}
