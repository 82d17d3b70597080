/*
 * Finding: a gnutls_session_set_data() that fails can leave the session
 * half-loaded. On a truncated TLS 1.3 blob it returns an error, yet the
 * next handshake still offers the ticket and resumes (the blob missing its
 * last 4 bytes), or fails with GNUTLS_E_INTERNAL_ERROR instead of falling
 * back to a full handshake (the blob cut inside its resumption secret or
 * arrival time). An application that does what the error suggests (go on
 * with a full handshake) gets neither a clean full handshake nor a refusal.
 *
 * Self-contained: uses only libgnutls. Client and server run in this one
 * process over in-memory buffers; the server's certificate is generated at
 * run time. Each truncated blob is tried in a child process (fork), which
 * reports each call it reaches through a pipe.
 *
 *   cc -o repro repro.c $(pkg-config --cflags --libs gnutls) && ./repro
 *
 * Output: one CASE line per named cut, one RANGE line per run of cuts with
 * the same outcome (for a TLS 1.3 and a TLS 1.2 blob), then
 *   FINDING set_data_error_then_resumed: yes|no
 *   FINDING set_data_error_then_internal_error: yes|no
 * Exit status: 0 when the program ran, 2 on a setup failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define PRIO12 "NORMAL:-VERS-ALL:+VERS-TLS1.2"
#define PRIO13 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define SERVER_PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

#define CHECK(x) do { int r_ = (x); if (r_ < 0) { \
	fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, gnutls_strerror(r_)); \
	exit(2); } } while (0)

/* ---- in-memory transport: one byte queue per direction ---- */
struct queue { unsigned char *data; size_t len, cap; };
struct end { struct queue *in, *out; };

static ssize_t push(gnutls_transport_ptr_t ptr, const void *p, size_t n)
{
	struct queue *q = ((struct end *)ptr)->out;
	if (q->len + n > q->cap) {
		q->cap = (q->len + n) * 2;
		q->data = realloc(q->data, q->cap);
		if (!q->data) abort();
	}
	memcpy(q->data + q->len, p, n);
	q->len += n;
	return n;
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *p, size_t n)
{
	struct queue *q = ((struct end *)ptr)->in;
	if (q->len == 0) { errno = EAGAIN; return -1; }
	if (n > q->len) n = q->len;
	memcpy(p, q->data, n);
	memmove(q->data, q->data + n, q->len - n);
	q->len -= n;
	return n;
}

static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	(void)ms;
	return ((struct end *)ptr)->in->len > 0;
}

static void attach(gnutls_session_t s, struct end *e)
{
	gnutls_transport_set_ptr(s, e);
	gnutls_transport_set_push_function(s, push);
	gnutls_transport_set_pull_function(s, pull);
	gnutls_transport_set_pull_timeout_function(s, pull_timeout);
}

/* ---- a self-signed ECDSA certificate, made now ---- */
static gnutls_certificate_credentials_t server_credentials(void)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_certificate_credentials_t cred;
	unsigned char serial[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	time_t now = time(NULL);

	CHECK(gnutls_x509_privkey_init(&key));
	CHECK(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	CHECK(gnutls_x509_crt_init(&crt));
	CHECK(gnutls_x509_crt_set_version(crt, 3));
	CHECK(gnutls_x509_crt_set_serial(crt, serial, sizeof serial));
	CHECK(gnutls_x509_crt_set_activation_time(crt, now - 3600));
	CHECK(gnutls_x509_crt_set_expiration_time(crt, now + 86400));
	CHECK(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
		"localhost", 9));
	CHECK(gnutls_x509_crt_set_key(crt, key));
	CHECK(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
	CHECK(gnutls_certificate_allocate_credentials(&cred));
	CHECK(gnutls_certificate_set_x509_key(cred, &crt, 1, key));
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return cred;
}

static gnutls_certificate_credentials_t scred, ccred;
static gnutls_datum_t ticket_key;

/* Handshake client c with a fresh server; returns the client's result. */
static int handshake(gnutls_session_t c, struct queue *c2s, struct queue *s2c,
		     struct end *ce)
{
	struct end se = { c2s, s2c };
	gnutls_session_t s;
	int cr = GNUTLS_E_AGAIN, sr = GNUTLS_E_AGAIN, i;
	char buf[16];

	CHECK(gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK));
	CHECK(gnutls_priority_set_direct(s, SERVER_PRIO, NULL));
	CHECK(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, scred));
	CHECK(gnutls_session_ticket_enable_server(s, &ticket_key));
	attach(s, &se);
	attach(c, ce);

	for (i = 0; i < 1000 && (cr != 0 || sr != 0); i++) {
		if (cr != 0) {
			cr = gnutls_handshake(c);
			if (cr < 0 && gnutls_error_is_fatal(cr)) break;
		}
		if (sr != 0) {
			sr = gnutls_handshake(s);
			if (sr < 0 && gnutls_error_is_fatal(sr)) break;
		}
	}
	if (cr == 0 && sr == 0) {
		/* let the client read the TLS 1.3 NewSessionTicket */
		gnutls_record_send(s, "x", 1);
		for (i = 0; i < 100; i++) {
			int r = gnutls_record_recv(c, buf, sizeof buf);
			if (r == 1) break;
			if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) { cr = r; break; }
		}
	}
	gnutls_deinit(s);
	return cr;
}

/* A full handshake; returns the client's session data. */
static gnutls_datum_t make_blob(const char *prio)
{
	struct queue c2s = { 0 }, s2c = { 0 };
	struct end ce = { &s2c, &c2s };
	gnutls_session_t c;
	gnutls_datum_t d;

	CHECK(gnutls_init(&c, GNUTLS_CLIENT | GNUTLS_NONBLOCK));
	CHECK(gnutls_priority_set_direct(c, prio, NULL));
	CHECK(gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, ccred));
	CHECK(handshake(c, &c2s, &s2c, &ce));
	CHECK(gnutls_session_get_data2(c, &d));
	gnutls_deinit(c);
	free(c2s.data); free(s2c.data);
	return d;
}


/* ---- where a cut falls: the TLS 1.3 blob's last section
 * (lib/session_pack.c, tls13_pack_security_parameters): u32 length, u32
 * lifetime, u32 age_add, u8-prefixed nonce, u32-prefixed ticket, u8-prefixed
 * resumption master secret, arrival time (3 x u32), u32 max_early_data_size;
 * a TLS 1.2 blob ends with its hello extensions (count, then id, size, data). */
static unsigned u32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

struct field { const char *name; size_t start, end; };
static struct field fields[16];
static int nfields;

static void add_field(const char *name, size_t start, size_t end)
{
	fields[nfields].name = name;
	fields[nfields].start = start;
	fields[nfields++].end = end;
}

/* Returns 0 when the blob parses to its end as laid out above. */
static int parse(const gnutls_datum_t *b, int tls12)
{
	const unsigned char *p = b->data;
	size_t n = b->size, off = 13, sp;

	nfields = 0;
	if (n < 17) return -1;
	add_field("header", 0, 13);
	add_field("auth info", off, off + 4 + u32(p + off));
	off += 4 + u32(p + off);
	sp = off;
	off += 4 + u32(p + off);
	add_field("security parameters", sp, off);
	if (tls12) {
		add_field("extensions", off, n);
		return off < n ? 0 : -1;
	}
	add_field("tls13 length", off, off + 4); off += 4;
	add_field("lifetime", off, off + 4); off += 4;
	add_field("age_add", off, off + 4); off += 4;
	add_field("nonce", off, off + 1 + p[off]); off += 1 + p[off];
	add_field("ticket", off, off + 4 + u32(p + off)); off += 4 + u32(p + off);
	add_field("resumption master secret", off, off + 1 + p[off]); off += 1 + p[off];
	add_field("arrival time", off, off + 12); off += 12;
	add_field("max_early_data_size", off, off + 4); off += 4;
	return off == n ? 0 : -1;
}

/* The field that holds byte `at` (the first byte a cut removes). */
static const char *field_at(size_t at)
{
	int i;
	for (i = 0; i < nfields; i++)
		if (at >= fields[i].start && at < fields[i].end) return fields[i].name;
	return "?";
}

/* ---- one try, in a child ---- */
enum { END_EXIT, END_SIGNAL };
struct outcome {
	char log[512];      /* what the child reported, line by line */
	char reached[32];   /* the last call the child entered */
	int set_data_rc, handshake_rc, resumed, how, code;
};

static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (write(fd, buf, n) < 0) _exit(3);
}

static void child(const gnutls_datum_t *blob, const char *prio, int fd, int quiet)
{
	struct queue c2s = { 0 }, s2c = { 0 };
	struct end ce = { &s2c, &c2s };
	gnutls_session_t c;
	int r;

	if (quiet) {  /* the sweep: keep assert() messages off the terminal */
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) dup2(devnull, 2);
	}
	alarm(10);
	CHECK(gnutls_init(&c, GNUTLS_CLIENT | GNUTLS_NONBLOCK));
	CHECK(gnutls_priority_set_direct(c, prio, NULL));
	CHECK(gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, ccred));
	say(fd, "enter gnutls_session_set_data\n");
	r = gnutls_session_set_data(c, blob->data, blob->size);
	say(fd, "set_data %d\n", r);
	/* An application that gets an error here just does a full handshake. */
	say(fd, "enter gnutls_handshake\n");
	r = handshake(c, &c2s, &s2c, &ce);
	say(fd, "handshake %d %d\n", r, r == 0 ? gnutls_session_is_resumed(c) : 0);
	say(fd, "enter gnutls_deinit\n");
	gnutls_deinit(c);
	say(fd, "deinit done\n");
	_exit(0);
}

static void try_blob(const gnutls_datum_t *blob, const char *prio, int quiet,
		     struct outcome *o)
{
	int fds[2], status;
	pid_t pid;
	size_t len = 0;
	ssize_t r;
	char *line;

	memset(o, 0, sizeof *o);
	o->set_data_rc = o->handshake_rc = 1;   /* 1: not reached */
	if (pipe(fds) < 0) { perror("pipe"); exit(2); }
	fflush(stdout);
	pid = fork();
	if (pid < 0) { perror("fork"); exit(2); }
	if (pid == 0) {
		close(fds[0]);
		child(blob, prio, fds[1], quiet);
	}
	close(fds[1]);
	while ((r = read(fds[0], o->log + len, sizeof o->log - 1 - len)) > 0)
		len += r;
	o->log[len] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) { o->how = END_SIGNAL; o->code = WTERMSIG(status); }
	else { o->how = END_EXIT; o->code = WEXITSTATUS(status); }

	for (line = strtok(o->log, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "enter %31s", o->reached) == 1) continue;
		if (sscanf(line, "set_data %d", &o->set_data_rc) == 1) continue;
		if (sscanf(line, "handshake %d %d", &o->handshake_rc, &o->resumed) >= 1) continue;
		if (strcmp(line, "deinit done") == 0) strcpy(o->reached, "(end)");
	}
}

static const char *signame(int sig)
{
	static char buf[16];
	switch (sig) {
	case SIGABRT: return "SIGABRT";
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGALRM: return "SIGALRM (timeout)";
	}
	sprintf(buf, "signal %d", sig);
	return buf;
}

static const char *died(const struct outcome *o, char *buf)
{
	if (o->how == END_SIGNAL)
		sprintf(buf, "died in %s (%s)", o->reached, signame(o->code));
	else if (o->code == 0)
		strcpy(buf, "exited normally");
	else
		sprintf(buf, "exited with status %d in %s", o->code, o->reached);
	return buf;
}

static const char *describe(const struct outcome *o, char *buf, size_t size)
{
	char end[96];
	if (o->set_data_rc == 1) snprintf(buf, size, "set_data=- ");
	else snprintf(buf, size, "set_data=%d(%s) ", o->set_data_rc,
		      o->set_data_rc ? gnutls_strerror_name(o->set_data_rc) : "ok");
	if (o->handshake_rc == 1) strncat(buf, "handshake=-", size - strlen(buf) - 1);
	else {
		char h[96];
		snprintf(h, sizeof h, "handshake=%d(%s)%s", o->handshake_rc,
			 o->handshake_rc ? gnutls_strerror_name(o->handshake_rc) : "ok",
			 o->handshake_rc == 0 ? (o->resumed ? ",resumed" : ",full") : "");
		strncat(buf, h, size - strlen(buf) - 1);
	}
	strncat(buf, " end=", size - strlen(buf) - 1);
	strncat(buf, died(o, end), size - strlen(buf) - 1);
	return buf;
}

static int error_then_resumed, error_then_internal, crashed;

static void tally(const struct outcome *o)
{
	if (o->how == END_SIGNAL) crashed++;
	if (o->set_data_rc < 0 && o->set_data_rc != 1 && o->handshake_rc == 0 && o->resumed)
		error_then_resumed++;
	if (o->set_data_rc < 0 && o->set_data_rc != 1 && o->handshake_rc == GNUTLS_E_INTERNAL_ERROR)
		error_then_internal++;
}

/* Every cut of 1 .. size-1 bytes; runs of cuts with the same outcome. */
static void cuts(const char *label, const gnutls_datum_t *blob, const char *prio, int tls12)
{
	char prev[256] = "", cur[256];
	size_t k, first = 0;
	const char *where = "";

	if (parse(blob, tls12)) { printf("FINDING set_data_error_then_resumed: unknown (layout)\n"); exit(2); }
	for (k = 1; k <= blob->size; k++) {
		struct outcome o;
		int last = k == blob->size;
		if (!last) {
			gnutls_datum_t c = { blob->data, blob->size - k };
			try_blob(&c, prio, 1, &o);
			tally(&o);
			describe(&o, cur, sizeof cur);
		}
		if (last || (k > 1 && strcmp(cur, prev) != 0)) {
			printf("RANGE %s cut %zu-%zu bytes (first removed byte in: %s): %s\n", label, first, k - 1,
			       where, prev);
		}
		if (last) break;
		if (k == 1 || strcmp(cur, prev) != 0) {
			first = k;
			where = field_at(blob->size - k);
			strcpy(prev, cur);
		}
	}
}

static void named(const char *name, const gnutls_datum_t *blob, const char *prio, size_t cut, int tls12)
{
	gnutls_datum_t c = { blob->data, blob->size - cut };
	struct outcome o;
	char buf[256];
	parse(blob, tls12);
	try_blob(&c, prio, 0, &o);
	printf("CASE %s: %s (cut %zu bytes, into the %s)\n", name, describe(&o, buf, sizeof buf), cut,
	       field_at(blob->size - cut));
}

int main(void)
{
	gnutls_datum_t b12, b13;
	struct outcome o;
	char buf[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(gnutls_global_init());
	printf("GnuTLS %s\n", gnutls_check_version(NULL));
	scred = server_credentials();
	CHECK(gnutls_certificate_allocate_credentials(&ccred));
	CHECK(gnutls_session_ticket_key_generate(&ticket_key));
	b13 = make_blob(PRIO13);
	b12 = make_blob(PRIO12);
	printf("TLS 1.3 blob: %u bytes; TLS 1.2 blob: %u bytes\n", b13.size, b12.size);

	try_blob(&b13, PRIO13, 0, &o);
	printf("CASE control-tls13: %s\n", describe(&o, buf, sizeof buf));
	if (!(o.how == END_EXIT && o.handshake_rc == 0 && o.resumed)) {
		printf("FINDING set_data_error_then_resumed: unknown (the whole blob did not resume)\n");
		return 2;
	}
	/* the last field, max_early_data_size, missing */
	named("tls13-cut-4", &b13, PRIO13, 4, 0);
	/* the arrival time's last bytes missing */
	named("tls13-cut-8", &b13, PRIO13, 8, 0);
	/* into the arrival time's seconds and the resumption master secret */
	named("tls13-cut-17", &b13, PRIO13, 17, 0);
	named("tls13-cut-40", &b13, PRIO13, 40, 0);

	cuts("tls13", &b13, PRIO13, 0);
	cuts("tls12", &b12, PRIO12, 1);

	printf("FINDING set_data_error_then_resumed: %s\n", error_then_resumed ? "yes" : "no");
	printf("FINDING set_data_error_then_internal_error: %s\n", error_then_internal ? "yes" : "no");
	printf("CONTROL crashed: %d\n", crashed);
	printf("Explanation: of the truncated blobs, %d made set_data return an error and then resumed, "
	       "%d made set_data return an error and then failed the handshake with "
	       "GNUTLS_E_INTERNAL_ERROR.\n", error_then_resumed, error_then_internal);

	gnutls_free(b12.data);
	gnutls_free(b13.data);
	gnutls_free(ticket_key.data);
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
	gnutls_global_deinit();
	return 0;
}
