/* The session-data spy: an LD_PRELOAD interposer over libgnutls, for `gnutls-lab spy`.
 *
 * Theory of operation. Loaded with LD_PRELOAD into an unmodified program, this library defines a few
 * libgnutls functions under their plain names. The program's calls (and those of the libraries it uses,
 * such as libcurl or libwget) reach these wrappers first; each wrapper calls the real function, found
 * with dlsym(RTLD_NEXT, ...), and appends one JSON line describing the call to the file named by
 * $GNUTLS_LAB_SPY_LOG. Nothing the program sees changes: the real return value is returned and errno
 * is restored after logging.
 *
 * Records: {"ev": EVENT, "pid", "tid", "mono_ns", "real_ns", "session": "0x...", "depth", ...}. `depth`
 * is 0 for calls made outside any wrapped call; above 0, "inside" names the wrapped call the thread is
 * in: either libgnutls calling itself (gnutls_session_get_data calls gnutls_session_get_data2) or the
 * program calling from one of its callbacks (a hook run inside gnutls_record_recv). After every
 * successful handshake the spy asks the real gnutls_session_is_resumed and gnutls_protocol_get_version itself (event
 * "verdict"), so the report never depends on whether the program asks. A TLS 1.3 client's first
 * NewSessionTicket is noticed through GNUTLS_SFLAGS_SESSION_TICKET after gnutls_record_recv returns
 * (event "ticket"), a read of the session's flags that changes nothing.
 *
 * Each record is written with one write() on an O_APPEND descriptor, so records of concurrent threads
 * and processes never interleave. No lock is ever taken (the per-session "ticket seen" marks are a
 * small table updated with atomic compare-and-swap), so fork() at any moment is safe; the pid is read
 * for every record, so children inherit the preload and log under their own pid.
 *
 * Only the C library and libdl are used: no Python, no GnuTLS headers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    unsigned char *data;
    unsigned int size;
} spy_datum;
typedef void *spy_session;

#define SFLAGS_SESSION_TICKET 128
#define MAX_HEX_BYTES 8192 /* session data above this is logged by length and a prefix only */
#define LINE_MAX_BYTES (2 * MAX_HEX_BYTES + 1024)
#define TICKET_SLOTS 512

static __thread int depth;
static __thread const char *inside; /* the wrapped call this thread is in, if any */
static int log_fd = -2; /* -2: not opened yet, -1: no log (variable unset or unopenable) */
static void *ticket_seen[TICKET_SLOTS];

static int open_log(void)
{
    int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
    if (fd != -2)
        return fd;
    const char *path = getenv("GNUTLS_LAB_SPY_LOG");
    int opened = -1;
    if (path && *path)
        opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int expected = -2;
    if (!__atomic_compare_exchange_n(&log_fd, &expected, opened, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (opened >= 0)
            close(opened); /* another thread won the race; use its descriptor */
        return expected;
    }
    return opened;
}

static void *real(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Append `fmt` to `line` at *used, never past LINE_MAX_BYTES. */
static void add(char *line, size_t *used, const char *fmt, ...)
{
    if (*used >= LINE_MAX_BYTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + *used, LINE_MAX_BYTES - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n < LINE_MAX_BYTES - *used ? (size_t)n : LINE_MAX_BYTES - *used - 1;
}

static void add_hex(char *line, size_t *used, const char *key, const unsigned char *data, unsigned int size)
{
    static const char digits[] = "0123456789abcdef";
    unsigned int shown = size < MAX_HEX_BYTES ? size : MAX_HEX_BYTES;
    add(line, used, ",\"size\":%u,\"%s\":\"", size, key);
    if (data)
        for (unsigned int i = 0; i < shown && *used + 3 < LINE_MAX_BYTES; i++) {
            line[(*used)++] = digits[data[i] >> 4];
            line[(*used)++] = digits[data[i] & 15];
        }
    add(line, used, "\"");
}

static void begin(char *line, size_t *used, const char *event, spy_session session)
{
    struct timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    add(line, used, "{\"ev\":\"%s\",\"pid\":%ld,\"tid\":%ld,\"mono_ns\":%lld,\"real_ns\":%lld,\"session\":\"%p\","
        "\"depth\":%d", event, (long)getpid(), (long)syscall(SYS_gettid),
        (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec, (long long)wall.tv_sec * 1000000000LL + wall.tv_nsec,
        session, depth);
    if (inside)
        add(line, used, ",\"inside\":\"%s\"", inside);
}

static void finish(char *line, size_t used)
{
    int fd = open_log();
    if (fd < 0)
        return;
    if (used > LINE_MAX_BYTES - 3)
        used = LINE_MAX_BYTES - 3;
    line[used++] = '}';
    line[used++] = '\n';
    ssize_t ignored = write(fd, line, used);
    (void)ignored;
}

/* One record: the common fields, `rc`, and optionally a datum's bytes. errno is left as it was. */
static void record(const char *event, spy_session session, int rc, const char *key, const spy_datum *datum,
                   const char *extra)
{
    int saved = errno;
    static __thread char line[LINE_MAX_BYTES];
    size_t used = 0;
    begin(line, &used, event, session);
    add(line, &used, ",\"rc\":%d", rc);
    if (key && datum)
        add_hex(line, &used, key, datum->data, datum->size);
    if (extra)
        add(line, &used, ",%s", extra);
    finish(line, used);
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

#define REAL(type, name) static type real_fn; if (!real_fn) real_fn = (type)real(name)

int gnutls_init(spy_session *session, unsigned int flags)
{
    typedef int (*fn)(spy_session *, unsigned int);
    REAL(fn, "gnutls_init");
    const char *outer = inside;
    inside = "gnutls_init";
    depth++;
    int rc = real_fn(session, flags);
    depth--;
    inside = outer;
    char extra[64];
    snprintf(extra, sizeof extra, "\"flags\":%u", flags);
    record("init", rc == 0 && session ? *session : NULL, rc, NULL, NULL, extra);
    return rc;
}

int gnutls_handshake(spy_session session)
{
    typedef int (*fn)(spy_session);
    REAL(fn, "gnutls_handshake");
    long long started = now_ns();
    const char *outer = inside;
    inside = "gnutls_handshake";
    depth++;
    int rc = real_fn(session);
    depth--;
    inside = outer;
    int saved = errno;
    char took[48];
    snprintf(took, sizeof took, "\"elapsed_ns\":%lld", now_ns() - started);
    record("handshake", session, rc, NULL, NULL, took);
    if (rc == 0) {
        typedef int (*query)(spy_session);
        typedef unsigned (*flags_query)(spy_session);
        static query is_resumed, protocol;
        static flags_query get_flags;
        if (!is_resumed)
            is_resumed = (query)real("gnutls_session_is_resumed");
        if (!protocol)
            protocol = (query)real("gnutls_protocol_get_version");
        if (!get_flags)
            get_flags = (flags_query)real("gnutls_session_get_flags");
        char extra[128];
        snprintf(extra, sizeof extra, "\"resumed\":%d,\"protocol\":%d,\"flags\":%u",
                 is_resumed ? is_resumed(session) : -1, protocol ? protocol(session) : -1,
                 get_flags ? get_flags(session) : 0u);
        record("verdict", session, 0, NULL, NULL, extra);
    }
    errno = saved;
    return rc;
}

int gnutls_session_get_data(spy_session session, void *data, size_t *size)
{
    typedef int (*fn)(spy_session, void *, size_t *);
    REAL(fn, "gnutls_session_get_data");
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
    record("get_data", session, rc, "data", rc == 0 && data ? &datum : NULL, extra);
    return rc;
}

int gnutls_session_get_data2(spy_session session, spy_datum *data)
{
    typedef int (*fn)(spy_session, spy_datum *);
    REAL(fn, "gnutls_session_get_data2");
    long long started = now_ns();
    const char *outer = inside;
    inside = "gnutls_session_get_data2";
    depth++;
    int rc = real_fn(session, data);
    depth--;
    inside = outer;
    char took[48];
    snprintf(took, sizeof took, "\"elapsed_ns\":%lld", now_ns() - started);
    record("get_data2", session, rc, "data", rc == 0 ? data : NULL, took);
    return rc;
}

int gnutls_session_set_data(spy_session session, const void *data, size_t size)
{
    typedef int (*fn)(spy_session, const void *, size_t);
    REAL(fn, "gnutls_session_set_data");
    const char *outer = inside;
    inside = "gnutls_session_set_data";
    depth++;
    int rc = real_fn(session, data, size);
    depth--;
    inside = outer;
    spy_datum datum = {(unsigned char *)data, size <= 0xffffffffu ? (unsigned int)size : 0};
    record("set_data", session, rc, "data", &datum, NULL);
    return rc;
}

int gnutls_session_is_resumed(spy_session session)
{
    typedef int (*fn)(spy_session);
    REAL(fn, "gnutls_session_is_resumed");
    const char *outer = inside;
    inside = "gnutls_session_is_resumed";
    depth++;
    int rc = real_fn(session);
    depth--;
    inside = outer;
    record("is_resumed", session, rc, NULL, NULL, NULL);
    return rc;
}

void gnutls_deinit(spy_session session)
{
    typedef void (*fn)(spy_session);
    REAL(fn, "gnutls_deinit");
    record("deinit", session, 0, NULL, NULL, NULL);
    forget_ticket(session);
    const char *outer = inside;
    inside = "gnutls_deinit";
    depth++;
    real_fn(session);
    depth--;
    inside = outer;
}

void gnutls_transport_set_pull_timeout_function(spy_session session, void *function)
{
    typedef void (*fn)(spy_session, void *);
    REAL(fn, "gnutls_transport_set_pull_timeout_function");
    real_fn(session, function);
    record("set_pull_timeout", session, 0, NULL, NULL, NULL);
}

void gnutls_transport_set_pull_function(spy_session session, void *function)
{
    typedef void (*fn)(spy_session, void *);
    REAL(fn, "gnutls_transport_set_pull_function");
    real_fn(session, function);
    record("set_pull", session, 0, NULL, NULL, NULL);
}

ssize_t gnutls_record_recv(spy_session session, void *data, size_t size)
{
    typedef ssize_t (*fn)(spy_session, void *, size_t);
    typedef unsigned (*flags_fn)(spy_session);
    REAL(fn, "gnutls_record_recv");
    static flags_fn get_flags;
    if (!get_flags)
        get_flags = (flags_fn)real("gnutls_session_get_flags");
    const char *outer = inside;
    inside = "gnutls_record_recv";
    depth++;
    ssize_t rc = real_fn(session, data, size);
    depth--;
    inside = outer;
    int saved = errno;
    if (get_flags && (get_flags(session) & SFLAGS_SESSION_TICKET) && first_ticket(session))
        record("ticket", session, rc < 0 ? (int)rc : 0, NULL, NULL, "\"seen_after\":\"gnutls_record_recv\"");
    errno = saved;
    return rc;
}
