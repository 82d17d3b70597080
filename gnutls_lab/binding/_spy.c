/* The session-data spy: an LD_PRELOAD interposer over libgnutls, for `gnutls-lab spy`.
 *
 * Theory of operation. Loaded with LD_PRELOAD into an unmodified program, this library defines a few
 * libgnutls functions under their plain names. The program's calls (and those of the libraries it uses,
 * such as libcurl or libwget) reach these wrappers first; each wrapper calls the real function and
 * appends one JSON line describing the call to the file named by $GNUTLS_LAB_SPY_LOG. Nothing the
 * program sees changes: the real return value is returned and errno is restored after logging.
 *
 * Finding the real function. Usually libgnutls is in the process's global scope (the program or one of
 * its libraries links it), and dlsym(RTLD_NEXT, ...) finds it. A program that dlopen()s libgnutls with
 * RTLD_LOCAL (Python ctypes and cffi, plugins) keeps it out of that scope, yet calls still reach the
 * wrappers: libgnutls calls some of its own public functions through its PLT (gnutls_session_get_data
 * calls gnutls_session_get_data2), and a plugin that links libgnutls binds to the preloaded names first.
 * The wrapper then looks the function up in the object that called it (libgnutls itself, or the plugin,
 * whose own scope holds libgnutls), else in the loaded "libgnutls.so.30", each opened with RTLD_NOLOAD
 * (never loading anything) and closed again after the call. Those records carry "local":1. Calls the
 * program makes through dlsym() on its own handle never reach the spy: the "exit" record says
 * libgnutls was loaded outside the global scope, so the report can say what it could not see.
 *
 * Records: {"ev": EVENT, "pid", "tid", "mono_ns", "real_ns", "session": "0x...", "depth", ...}. `depth`
 * is 0 for calls made outside any wrapped call; above 0, "inside" names the wrapped call the thread is
 * in. "from":"libgnutls" marks a call made by libgnutls itself (its caller's address lies in the
 * object that holds the real function), not by the program. After every successful handshake the spy
 * asks the real gnutls_session_is_resumed and gnutls_protocol_get_version itself (event "verdict"), so
 * the report never depends on whether the program asks. A TLS 1.3 client's first NewSessionTicket is
 * noticed through GNUTLS_SFLAGS_SESSION_TICKET after gnutls_record_recv returns (event "ticket"), a
 * read of the session's flags that changes nothing. When a handshake ends and the session's transport
 * is a socket descriptor, its local and peer addresses (getsockname/getpeername) go into the record,
 * so the report can be paired with a server's record of the same connection. Every process also logs
 * "start" (its executable, its parent, whether libgnutls is linked) and, when it exits normally,
 * "exit" (whether libgnutls is loaded then, and in which scope).
 *
 * The log. Each record is written with one write() on a descriptor opened for that write from the
 * log's absolute path (O_APPEND | O_NOFOLLOW | O_CLOEXEC, never creating the file), so records of
 * concurrent threads and processes never interleave, and a program that closes every descriptor and
 * opens its own files can never receive a record in one of them. Session data is logged whole (up to
 * 1 MiB; above that, the first MiB and "cut"). No lock is ever taken by the spy itself (the per-session
 * "ticket seen" marks are a small table updated with atomic compare-and-swap), so fork() at any moment
 * is safe; the pid is read for every record, so children inherit the preload and log under their own pid.
 *
 * Only the C library and libdl are used: no Python, no GnuTLS headers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    unsigned char *data;
    unsigned int size;
} spy_datum;
typedef void *spy_session;

#define SFLAGS_SESSION_TICKET 128
#define E_AGAIN (-28)
#define E_INTERRUPTED (-52)
#define E_INTERNAL_ERROR (-59)
#define MAX_DATA_BYTES (1u << 20) /* session data above this is logged by its length and first MiB */
#define STATIC_LINE_BYTES 16384   /* records that fit use a per-thread buffer; larger ones are allocated */
#define RECORD_OVERHEAD 2048      /* room for every field of a record except the session data */
#define TICKET_SLOTS 512
#define GNUTLS_SONAME "libgnutls.so.30"

static __thread int depth;
static __thread const char *inside; /* the wrapped call this thread is in, if any */
static char log_path[PATH_MAX];     /* empty: no log (variable unset, relative or too long) */
static int linked_at_start;         /* libgnutls was in the global scope when the process started */
static void *ticket_seen[TICKET_SLOTS];

/* ---- the log ---------------------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t cap;
    size_t used;
} line_t;

/* Append `fmt` to the line, never past its capacity (one byte is kept for the closing brace). */
static void add(line_t *line, const char *fmt, ...)
{
    if (line->used + 3 >= line->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line->buf + line->used, line->cap - 2 - line->used, fmt, ap);
    va_end(ap);
    if (n > 0) {
        size_t room = line->cap - 3 - line->used;
        line->used += (size_t)n < room ? (size_t)n : room;
    }
}

static void add_hex(line_t *line, const char *key, const unsigned char *data, unsigned int size)
{
    static const char digits[] = "0123456789abcdef";
    size_t fit = line->used + 64 < line->cap ? (line->cap - line->used - 64) / 2 : 0;
    size_t shown = size < MAX_DATA_BYTES ? size : MAX_DATA_BYTES;
    if (shown > fit)
        shown = fit;
    add(line, ",\"size\":%u,\"%s\":\"", size, key);
    if (data)
        for (size_t i = 0; i < shown; i++) {
            line->buf[line->used++] = digits[data[i] >> 4];
            line->buf[line->used++] = digits[data[i] & 15];
        }
    add(line, "\"");
    if (data && shown < size)
        add(line, ",\"cut\":%zu", shown);
}

/* A JSON string: quotes, backslashes and control characters escaped; other bytes as they are. */
static void add_string(line_t *line, const char *key, const char *value)
{
    add(line, ",\"%s\":\"", key);
    for (const unsigned char *p = (const unsigned char *)value; *p && line->used + 8 < line->cap; p++) {
        if (*p == '"' || *p == '\\')
            add(line, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            add(line, "\\u%04x", *p);
        else
            line->buf[line->used++] = (char)*p;
    }
    add(line, "\"");
}

static void add_common(line_t *line, const char *event)
{
    struct timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    add(line, "{\"ev\":\"%s\",\"pid\":%ld,\"tid\":%ld,\"mono_ns\":%lld,\"real_ns\":%lld", event, (long)getpid(),
        (long)syscall(SYS_gettid), (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec,
        (long long)wall.tv_sec * 1000000000LL + wall.tv_nsec);
}

/* Close the line and append it to the log with one write(), on a descriptor opened for this write. */
static void finish(line_t *line)
{
    if (!log_path[0])
        return;
    line->buf[line->used++] = '}';
    line->buf[line->used++] = '\n';
    int fd = open(log_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        ssize_t ignored = write(fd, line->buf, line->used);
        (void)ignored;
    }
    close(fd);
}

/* ---- finding the real functions --------------------------------------------------------------- */

static int ours(const void *address)
{
    Dl_info mine, theirs;
    return dladdr((void *)&ours, &mine) && dladdr(address, &theirs) && mine.dli_fbase == theirs.dli_fbase;
}

/* One wrapped call: the real function, and what it took to find it. */
typedef struct {
    const char *name;
    void *fn;
    void *handle;       /* set when found outside the global scope: held open during the call */
    const void *caller; /* the return address of the wrapper: who called */
} call_t;

/* `name` in `handle`'s scope, if it is not one of ours. */
static void *lookup_in(void *handle, const char *name)
{
    void *fn = dlsym(handle, name);
    return fn && !ours(fn) ? fn : NULL;
}

static int enter(call_t *call, const char *name, const void *caller)
{
    call->name = name;
    call->caller = caller;
    call->handle = NULL;
    call->fn = dlsym(RTLD_NEXT, name);
    if (call->fn)
        return 1;
    /* libgnutls is not in the global scope: the object that called (libgnutls itself, or a plugin whose
     * scope holds it), else the loaded libgnutls by its soname. RTLD_NOLOAD never loads anything. */
    Dl_info info;
    if (caller && dladdr(caller, &info) && info.dli_fname && info.dli_fname[0] && !ours(caller)) {
        void *handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        if (handle && (call->fn = lookup_in(handle, name))) {
            call->handle = handle;
            return 1;
        }
        if (handle)
            dlclose(handle);
    }
    void *handle = dlopen(GNUTLS_SONAME, RTLD_LAZY | RTLD_NOLOAD);
    if (handle && (call->fn = lookup_in(handle, name))) {
        call->handle = handle;
        return 1;
    }
    if (handle)
        dlclose(handle);
    return 0;
}

/* Another function of the library the call's real function came from. */
static void *sibling(const call_t *call, const char *name)
{
    return call->handle ? lookup_in(call->handle, name) : dlsym(RTLD_NEXT, name);
}

/* `type var = sibling(...)`, cached like the wrappers' own functions while libgnutls was linked at start. */
#define SIBLING(type, var, name)                                                                              \
    static type var##_cached;                                                                                 \
    type var = __atomic_load_n(&var##_cached, __ATOMIC_RELAXED);                                              \
    if (!var || call.handle) {                                                                                \
        var = (type)sibling(&call, name);                                                                     \
        if (linked_at_start && !call.handle)                                                                  \
            __atomic_store_n(&var##_cached, var, __ATOMIC_RELAXED);                                           \
    }

static void leave(call_t *call)
{
    if (call->handle)
        dlclose(call->handle);
    call->handle = NULL;
}

/* The real function for the static cache of a wrapper: cached only while libgnutls was linked at start
 * (such an object is never unloaded); otherwise looked up for every call. */
#define ENTER(type, fname)                                                                                    \
    call_t call;                                                                                              \
    static type cached;                                                                                       \
    type real_fn = __atomic_load_n(&cached, __ATOMIC_RELAXED);                                                \
    if (real_fn) {                                                                                            \
        call.name = fname, call.fn = (void *)real_fn, call.handle = NULL,                                     \
        call.caller = __builtin_return_address(0);                                                            \
    } else {                                                                                                  \
        if (!enter(&call, fname, __builtin_return_address(0))) {                                              \
            unresolved(fname);                                                                                \
            return FAILED;                                                                                    \
        }                                                                                                     \
        real_fn = (type)call.fn;                                                                              \
        if (linked_at_start && !call.handle)                                                                  \
            __atomic_store_n(&cached, real_fn, __ATOMIC_RELAXED);                                             \
    }

static void unresolved(const char *name)
{
    int saved = errno;
    static __thread char buffer[512];
    line_t line = {buffer, sizeof buffer, 0};
    add_common(&line, "unresolved");
    add_string(&line, "function", name);
    finish(&line);
    errno = saved;
}

/* ---- records ---------------------------------------------------------------------------------- */

static int from_library(const call_t *call)
{
    Dl_info caller, real;
    return call->caller && dladdr(call->caller, &caller) && dladdr(call->fn, &real) &&
           caller.dli_fbase == real.dli_fbase;
}

/* One record: the common fields, `rc`, and optionally a datum's bytes. errno is left as it was. */
static void record(const char *event, const call_t *call, spy_session session, int rc, const char *key,
                   const spy_datum *datum, const char *extra)
{
    int saved = errno;
    static __thread char buffer[STATIC_LINE_BYTES];
    line_t line = {buffer, sizeof buffer, 0};
    char *allocated = NULL;
    if (key && datum && datum->data) {
        size_t need = RECORD_OVERHEAD + 2 * (size_t)(datum->size < MAX_DATA_BYTES ? datum->size : MAX_DATA_BYTES);
        if (need > sizeof buffer && (allocated = malloc(need)))
            line.buf = allocated, line.cap = need;
    }
    add_common(&line, event);
    add(&line, ",\"session\":\"%p\",\"depth\":%d", session, depth);
    if (inside)
        add(&line, ",\"inside\":\"%s\"", inside);
    if (call->handle)
        add(&line, ",\"local\":1");
    if (from_library(call))
        add(&line, ",\"from\":\"libgnutls\"");
    add(&line, ",\"rc\":%d", rc);
    if (extra)
        add(&line, ",%s", extra);
    if (key && datum)
        add_hex(&line, key, datum->data, datum->size);
    finish(&line);
    free(allocated);
    errno = saved;
}

static void forget_ticket(spy_session session)
{
    for (int i = 0; i < TICKET_SLOTS; i++) {
        void *expected = session;
        if (__atomic_compare_exchange_n(&ticket_seen[i], &expected, NULL, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return;
    }
}

/* True the first time it is called for `session` (while the session lives). */
static int first_ticket(spy_session session)
{
    for (int i = 0; i < TICKET_SLOTS; i++)
        if (__atomic_load_n(&ticket_seen[i], __ATOMIC_ACQUIRE) == session)
            return 0;
    for (int i = 0; i < TICKET_SLOTS; i++) {
        void *expected = NULL;
        if (__atomic_compare_exchange_n(&ticket_seen[i], &expected, session, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return 1;
    }
    return 1; /* table full: may report a ticket twice, never miss one */
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ",\"local_addr\":...,\"local_port\":...,\"peer_addr\":...,\"peer_port\":..." for the session's transport
 * when it is a socket descriptor (set with gnutls_transport_set_int, or set_ptr holding a descriptor);
 * empty otherwise (a program's own pull/push functions with a pointer of their own). */
static void socket_addresses(const call_t *call, spy_session session, char *out, size_t size)
{
    typedef void (*get_ptr2_fn)(spy_session, void **, void **);
    out[0] = 0;
    get_ptr2_fn get_ptr2 = (get_ptr2_fn)sibling(call, "gnutls_transport_get_ptr2");
    if (!get_ptr2)
        return;
    void *recv_ptr = NULL, *send_ptr = NULL;
    get_ptr2(session, &recv_ptr, &send_ptr);
    uintptr_t value = (uintptr_t)recv_ptr;
    if (value > (1u << 20)) /* a pointer, not a descriptor (the kernel's limit on descriptors is 2^20) */
        return;
    int fd = (int)value;
    struct sockaddr_storage local, peer;
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &peer_len) != 0 || local.ss_family != peer.ss_family)
        return;
    char local_text[INET6_ADDRSTRLEN], peer_text[INET6_ADDRSTRLEN];
    unsigned local_port, peer_port;
    if (local.ss_family == AF_INET) {
        struct sockaddr_in *l = (struct sockaddr_in *)&local, *p = (struct sockaddr_in *)&peer;
        inet_ntop(AF_INET, &l->sin_addr, local_text, sizeof local_text);
        inet_ntop(AF_INET, &p->sin_addr, peer_text, sizeof peer_text);
        local_port = ntohs(l->sin_port), peer_port = ntohs(p->sin_port);
    } else if (local.ss_family == AF_INET6) {
        struct sockaddr_in6 *l = (struct sockaddr_in6 *)&local, *p = (struct sockaddr_in6 *)&peer;
        inet_ntop(AF_INET6, &l->sin6_addr, local_text, sizeof local_text);
        inet_ntop(AF_INET6, &p->sin6_addr, peer_text, sizeof peer_text);
        local_port = ntohs(l->sin6_port), peer_port = ntohs(p->sin6_port);
    } else {
        return;
    }
    snprintf(out, size, ",\"fd\":%d,\"local_addr\":\"%s\",\"local_port\":%u,\"peer_addr\":\"%s\",\"peer_port\":%u",
             fd, local_text, local_port, peer_text, peer_port);
}

/* ---- the process: start and exit -------------------------------------------------------------- */

static int find_gnutls(struct dl_phdr_info *info, size_t size, void *found)
{
    (void)size;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (strncmp(base, "libgnutls.so", 12) == 0) {
        *(int *)found = 1;
        return 1;
    }
    return 0;
}

/* "none", "global" (linked, or opened with RTLD_GLOBAL) or "local" (opened with RTLD_LOCAL). */
static const char *gnutls_scope(void)
{
    int found = 0;
    dl_iterate_phdr(find_gnutls, &found);
    if (!found)
        return "none";
    return dlsym(RTLD_NEXT, "gnutls_check_version") ? "global" : "local";
}

static void process_record(const char *event, const char *scope, const char *program)
{
    int saved = errno;
    char buffer[4 * PATH_MAX + 512];
    line_t line = {buffer, sizeof buffer, 0};
    add_common(&line, event);
    add(&line, ",\"ppid\":%ld", (long)getppid());
    if (program) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        add_string(&line, "exe", exe);
        add_string(&line, "program", program);
    }
    add_string(&line, "gnutls", scope);
    finish(&line);
    errno = saved;
}

/* glibc passes argc, argv and envp to the constructors of preloaded libraries. */
__attribute__((constructor)) static void spy_start(int argc, char **argv, char **envp)
{
    (void)envp;
    const char *path = getenv("GNUTLS_LAB_SPY_LOG");
    if (path && path[0] == '/' && strlen(path) < sizeof log_path)
        memcpy(log_path, path, strlen(path) + 1);
    const char *scope = gnutls_scope();
    linked_at_start = strcmp(scope, "global") == 0;
    const char *program = argc > 0 && argv && argv[0] ? argv[0] : "";
    const char *base = strrchr(program, '/');
    process_record("start", linked_at_start ? "linked" : scope, base ? base + 1 : program);
}

__attribute__((destructor)) static void spy_exit(void)
{
    process_record("exit", gnutls_scope(), NULL);
}

/* ---- the wrappers ----------------------------------------------------------------------------- */

#define FAILED E_INTERNAL_ERROR

int gnutls_init(spy_session *session, unsigned int flags)
{
    typedef int (*fn)(spy_session *, unsigned int);
    ENTER(fn, "gnutls_init");
    const char *outer = inside;
    inside = "gnutls_init";
    depth++;
    int rc = real_fn(session, flags);
    depth--;
    inside = outer;
    char extra[64];
    snprintf(extra, sizeof extra, "\"flags\":%u", flags);
    record("init", &call, rc == 0 && session ? *session : NULL, rc, NULL, NULL, extra);
    leave(&call);
    return rc;
}

int gnutls_handshake(spy_session session)
{
    typedef int (*fn)(spy_session);
    ENTER(fn, "gnutls_handshake");
    long long started = now_ns();
    const char *outer = inside;
    inside = "gnutls_handshake";
    depth++;
    int rc = real_fn(session);
    depth--;
    inside = outer;
    int saved = errno;
    char extra[384];
    int n = snprintf(extra, sizeof extra, "\"elapsed_ns\":%lld", now_ns() - started);
    if (rc != E_AGAIN && rc != E_INTERRUPTED && n > 0 && (size_t)n < sizeof extra)
        socket_addresses(&call, session, extra + n, sizeof extra - (size_t)n);
    record("handshake", &call, session, rc, NULL, NULL, extra);
    if (rc == 0) {
        typedef int (*query)(spy_session);
        typedef unsigned (*flags_query)(spy_session);
        query is_resumed = (query)sibling(&call, "gnutls_session_is_resumed");
        query protocol = (query)sibling(&call, "gnutls_protocol_get_version");
        flags_query get_flags = (flags_query)sibling(&call, "gnutls_session_get_flags");
        char verdict[128];
        snprintf(verdict, sizeof verdict, "\"resumed\":%d,\"protocol\":%d,\"flags\":%u",
                 is_resumed ? is_resumed(session) : -1, protocol ? protocol(session) : -1,
                 get_flags ? get_flags(session) : 0u);
        record("verdict", &call, session, 0, NULL, NULL, verdict);
    }
    leave(&call);
    errno = saved;
    return rc;
}

int gnutls_session_get_data(spy_session session, void *data, size_t *size)
{
    typedef int (*fn)(spy_session, void *, size_t *);
    ENTER(fn, "gnutls_session_get_data");
    long long started = now_ns();
    const char *outer = inside;
    inside = "gnutls_session_get_data";
    depth++;
    int rc = real_fn(session, data, size);
    depth--;
    inside = outer;
    spy_datum datum = {data, 0};
    if (rc == 0 && size && data && *size <= 0xffffffffu)
        datum.size = (unsigned int)*size;
    char extra[96];
    snprintf(extra, sizeof extra, "\"size_only\":%d,\"elapsed_ns\":%lld", data == NULL, now_ns() - started);
    record("get_data", &call, session, rc, "data", rc == 0 && data ? &datum : NULL, extra);
    leave(&call);
    return rc;
}

int gnutls_session_get_data2(spy_session session, spy_datum *data)
{
    typedef int (*fn)(spy_session, spy_datum *);
    ENTER(fn, "gnutls_session_get_data2");
    long long started = now_ns();
    const char *outer = inside;
    inside = "gnutls_session_get_data2";
    depth++;
    int rc = real_fn(session, data);
    depth--;
    inside = outer;
    char took[48];
    snprintf(took, sizeof took, "\"elapsed_ns\":%lld", now_ns() - started);
    record("get_data2", &call, session, rc, "data", rc == 0 ? data : NULL, took);
    leave(&call);
    return rc;
}

int gnutls_session_set_data(spy_session session, const void *data, size_t size)
{
    typedef int (*fn)(spy_session, const void *, size_t);
    ENTER(fn, "gnutls_session_set_data");
    const char *outer = inside;
    inside = "gnutls_session_set_data";
    depth++;
    int rc = real_fn(session, data, size);
    depth--;
    inside = outer;
    /* libgnutls copies all `size` bytes before it parses them, so reading them here reads nothing more */
    spy_datum datum = {(unsigned char *)data, size <= 0xffffffffu ? (unsigned int)size : 0};
    record("set_data", &call, session, rc, "data", &datum, NULL);
    leave(&call);
    return rc;
}

int gnutls_session_is_resumed(spy_session session)
{
    typedef int (*fn)(spy_session);
    ENTER(fn, "gnutls_session_is_resumed");
    const char *outer = inside;
    inside = "gnutls_session_is_resumed";
    depth++;
    int rc = real_fn(session);
    depth--;
    inside = outer;
    record("is_resumed", &call, session, rc, NULL, NULL, NULL);
    leave(&call);
    return rc;
}

#undef FAILED
#define FAILED /* void */

void gnutls_deinit(spy_session session)
{
    typedef void (*fn)(spy_session);
    ENTER(fn, "gnutls_deinit");
    record("deinit", &call, session, 0, NULL, NULL, NULL);
    forget_ticket(session);
    const char *outer = inside;
    inside = "gnutls_deinit";
    depth++;
    real_fn(session);
    depth--;
    inside = outer;
    leave(&call);
}

void gnutls_transport_set_pull_timeout_function(spy_session session, void *function)
{
    typedef void (*fn)(spy_session, void *);
    ENTER(fn, "gnutls_transport_set_pull_timeout_function");
    real_fn(session, function);
    record("set_pull_timeout", &call, session, 0, NULL, NULL, NULL);
    leave(&call);
}

void gnutls_transport_set_pull_function(spy_session session, void *function)
{
    typedef void (*fn)(spy_session, void *);
    ENTER(fn, "gnutls_transport_set_pull_function");
    real_fn(session, function);
    record("set_pull", &call, session, 0, NULL, NULL, NULL);
    leave(&call);
}

#undef FAILED
#define FAILED E_INTERNAL_ERROR

ssize_t gnutls_record_recv(spy_session session, void *data, size_t size)
{
    typedef ssize_t (*fn)(spy_session, void *, size_t);
    typedef unsigned (*flags_fn)(spy_session);
    ENTER(fn, "gnutls_record_recv");
    const char *outer = inside;
    inside = "gnutls_record_recv";
    depth++;
    ssize_t rc = real_fn(session, data, size);
    depth--;
    inside = outer;
    int saved = errno;
    SIBLING(flags_fn, get_flags, "gnutls_session_get_flags");
    if (get_flags && (get_flags(session) & SFLAGS_SESSION_TICKET) && first_ticket(session))
        record("ticket", &call, session, rc < 0 ? (int)rc : 0, NULL, NULL, "\"seen_after\":\"gnutls_record_recv\"");
    leave(&call);
    errno = saved;
    return rc;
}
