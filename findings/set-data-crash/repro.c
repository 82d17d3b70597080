/*
 * Finding: gnutls_session_set_data() trusts the counts, ids and the protocol
 * version inside the session data. A blob that this same library produced,
 * with one field changed, makes the process die: in gnutls_session_set_data()
 * itself (an assert() on an extension id, reached directly or through a TLS
 * 1.3 blob whose protocol version says TLS 1.2), or after set_data has
 * *returned an error*, in the next handshake or in gnutls_deinit() (a
 * certificate count larger than the number of certificates present).
 *
 * Self-contained: uses only libgnutls. Client and server run in this one
 * process over in-memory buffers; the server's certificate is generated at
 * run time. Each corrupted blob is tried in a child process (fork), which
 * reports each call it reaches through a pipe; the parent says how the child
 * ended.
 *
 *   cc -o repro repro.c $(pkg-config --cflags --libs gnutls)
 *   ./repro                # the named cases, and every protocol version on 8 blobs
 *   ./repro --versions 40  # ... on 40 blobs per version
 *   ./repro --sweep        # also flip every bit outside the certificate bytes
 *
 * Blob layout (lib/session_pack.c, _gnutls_session_pack), all numbers u32
 * big-endian:
 *   magic, timestamp, expire_time, auth type (u8),
 *   auth info:  size, then for certificates: dh secret_bits, dh prime (len+data),
 *               dh generator (len+data), dh public key (len+data), ncerts,
 *               ncerts x (len+DER), nocsp, nocsp x (len+data)
 *   security parameters: size + data
 *   TLS 1.3 only: ticket section: size + data
 *   TLS 1.2 only: hello extensions (lib/hello_ext.c, _gnutls_hello_ext_pack):
 *               count, count x (extension id, size, data)
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

/* ---- blob layout ---- */
static unsigned u32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

struct layout {
	size_t ncerts_off;           /* offset of the certificate count */
	size_t cert_start, cert_end; /* the certificates' DER bytes */
	size_t pversion_off;         /* the protocol version in the security parameters */
	size_t sp_end;               /* the end of the security parameters section */
	size_t exts_off;             /* TLS 1.2: offset of the extension count, else 0 */
	size_t ext_id_off[16];       /* offsets of the extension ids */
	unsigned ext_id[16];
	int n_exts;
};

/* Returns 0 when the blob parses to its end as laid out above. */
static int parse(const gnutls_datum_t *b, int tls12, struct layout *l)
{
	const unsigned char *p = b->data;
	size_t n = b->size, off, auth_end, i, ncerts;

	memset(l, 0, sizeof *l);
	if (n < 17 || p[12] != GNUTLS_CRD_CERTIFICATE) return -1;
	off = 13;
	auth_end = off + 4 + u32(p + off);
	off += 4 + 4;                                    /* size, dh secret_bits */
	for (i = 0; i < 3; i++) off += 4 + u32(p + off); /* dh prime, g, public */
	l->ncerts_off = off;
	ncerts = u32(p + off);
	off += 4;
	l->cert_start = off;
	for (i = 0; i < ncerts && off < n; i++) off += 4 + u32(p + off);
	l->cert_end = off;
	if (off >= auth_end) return -1;
	off = auth_end;
	/* security parameters: size, entity, prf, client and server auth type,
	 * session ID (u8 length + bytes), protocol version */
	l->pversion_off = off + 4 + 16 + 1 + p[off + 4 + 16];
	off += 4 + u32(p + off);                         /* security parameters */
	l->sp_end = off;
	if (!tls12) {
		off += 4 + u32(p + off);                 /* TLS 1.3 ticket */
		return off == n ? 0 : -1;
	}
	l->exts_off = off;
	l->n_exts = u32(p + off);
	off += 4;
	for (i = 0; i < (size_t)l->n_exts && i < 16 && off + 8 <= n; i++) {
		l->ext_id_off[i] = off;
		l->ext_id[i] = u32(p + off);
		off += 8 + u32(p + off + 4);
	}
	return off == n ? 0 : -1;
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

static void report(const char *name, const struct outcome *o)
{
	char buf[96];
	printf("CASE %s: set_data=", name);
	if (o->set_data_rc == 1) printf("-");
	else printf("%d(%s)", o->set_data_rc, o->set_data_rc ? gnutls_strerror_name(o->set_data_rc) : "ok");
	printf(" handshake=");
	if (o->handshake_rc == 1) printf("-");
	else printf("%d(%s)%s", o->handshake_rc,
		    o->handshake_rc ? gnutls_strerror_name(o->handshake_rc) : "ok",
		    o->handshake_rc == 0 ? (o->resumed ? ",resumed" : ",full") : "");
	printf(" end=%s\n", died(o, buf));
}

static gnutls_datum_t copy(const gnutls_datum_t *d)
{
	gnutls_datum_t c = { malloc(d->size), d->size };
	memcpy(c.data, d->data, d->size);
	return c;
}

static void put32(unsigned char *p, unsigned v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* Flip every bit outside the certificate DER bytes; count the endings. */
static void sweep(const char *label, const gnutls_datum_t *blob, const char *prio,
		  const struct layout *l)
{
	size_t i, bit, tried = 0, in_set_data = 0, after_error = 0, after_ok = 0,
	       errors = 0, clean = 0;
	struct outcome o;

	for (i = 0; i < blob->size; i++) {
		if (i >= l->cert_start && i < l->cert_end) continue;
		for (bit = 0; bit < 8; bit++) {
			gnutls_datum_t c = copy(blob);
			c.data[i] ^= 1u << bit;
			try_blob(&c, prio, 1, &o);
			free(c.data);
			tried++;
			if (o.how == END_SIGNAL) {
				if (strcmp(o.reached, "gnutls_session_set_data") == 0) in_set_data++;
				else if (o.set_data_rc < 0) after_error++;
				else after_ok++;
				printf("SWEEP %s byte %zu bit %zu: ", label, i, bit);
				report("flip", &o);
			} else if (o.set_data_rc < 0) errors++;
			else clean++;
		}
	}
	printf("SWEEP %s summary: %zu flips (certificate bytes %zu..%zu skipped): "
	       "%zu died in set_data, %zu died after set_data returned an error, "
	       "%zu died after set_data returned 0, %zu set_data errors without a crash, "
	       "%zu accepted without a crash\n", label, tried, l->cert_start, l->cert_end,
	       in_set_data, after_error, after_ok, errors, clean);
}

/* ---- the protocol version ----
 * unpack_security_parameters() reads the version, then the TLS <= 1.2
 * fields (master secret, randoms, record sizes, group, signature algorithms,
 * EMS, ETM) only if the version is not TLS 1.3, and it reads them from the
 * whole blob, not from the section's declared size. A TLS 1.3 blob whose
 * version says TLS 1.2 (or any other non-1.3 version) is read on into its
 * ticket section as if it were those fields, and then as a TLS 1.2 blob's
 * hello-extension list: the extension count comes from the ticket's bytes
 * (its key name). _gnutls_hello_ext_unpack() keeps the count in an int: a
 * negative count reads no extension and set_data returns 0; a positive one
 * reads an id from the next bytes, and an id >= 64 hits the assert. */

/* What libgnutls will do with a TLS 1.3 blob read as TLS <= 1.2: 1 = abort
 * (positive count, id out of range), 0 = no extension read, -1 = other. */
static int predict_misread(const gnutls_datum_t *b, const struct layout *l, int *count,
			   unsigned *id)
{
	const unsigned char *p = b->data;
	size_t off = l->sp_end, i;

	for (i = 0; i < 3; i++) {                /* master secret, client/server random */
		if (off >= b->size) return -1;
		off += 1 + p[off];
	}
	off += 7 * 4;                            /* record sizes, group, sign algos, EMS, ETM */
	if (off + 8 > b->size) return -1;
	*count = (int)u32(p + off);
	*id = u32(p + off + 4);
	if (*count <= 0) return 0;
	return *id >= 64 ? 1 : -1;
}

static const unsigned versions[] = { 1, 2, 3, 4, 5, 200, 201, 202 };

/* A fresh ticket key, then a full handshake: the bytes that the wrong layout
 * reads come from the ticket, so each key gives another outcome. */
static gnutls_datum_t blob_with_new_key(const char *prio, int tls12, struct layout *l)
{
	gnutls_datum_t b;
	gnutls_free(ticket_key.data);
	CHECK(gnutls_session_ticket_key_generate(&ticket_key));
	b = make_blob(prio);
	if (parse(&b, tls12, l)) {
		printf("FINDING set_data_crash: unknown (blob layout not as expected)\n");
		exit(2);
	}
	return b;
}

/* Every other version GnuTLS knows, on `tries` blobs (each with a new ticket
 * key); for the TLS 1.3 blob the program also checks its prediction. */
static void version_flips(const char *label, const char *prio, int tls12, unsigned own,
			  int tries)
{
	size_t v;
	int t;

	for (v = 0; v < sizeof versions / sizeof versions[0]; v++) {
		int in_set_data = 0, later = 0, errors = 0, accepted = 0, predicted = 0, right = 0;
		if (versions[v] == own) continue;
		for (t = 0; t < tries; t++) {
			struct layout l;
			struct outcome o;
			gnutls_datum_t b = blob_with_new_key(prio, tls12, &l);
			int count = 0, guess = -1;
			unsigned id = 0;
			if (!tls12) guess = predict_misread(&b, &l, &count, &id);
			put32(b.data + l.pversion_off, versions[v]);
			try_blob(&b, prio, 1, &o);
			gnutls_free(b.data);
			if (o.how == END_SIGNAL) {
				if (strcmp(o.reached, "gnutls_session_set_data") == 0) in_set_data++;
				else later++;
			} else if (o.set_data_rc < 0) errors++;
			else accepted++;
			if (guess >= 0) {
				int aborted = o.how == END_SIGNAL && o.code == SIGABRT &&
					      strcmp(o.reached, "gnutls_session_set_data") == 0;
				predicted++;
				right += guess == 1 ? aborted : (o.how == END_EXIT && o.set_data_rc == 0);
			}
		}
		printf("VERSIONFLIP %s %u->%u: %d blobs: %d died in set_data, %d died later, "
		       "%d set_data errors, %d accepted", label, own, versions[v], tries,
		       in_set_data, later, errors, accepted);
		if (!tls12)
			printf("; outcome predicted from the extension count for %d, right for %d",
			       predicted, right);
		printf("\n");
	}
}

/* A named version case on a TLS 1.3 blob: a ticket key whose blob, read as
 * TLS <= 1.2, has a positive extension count (about one key in two). */
static gnutls_datum_t tls13_blob_that_aborts(struct layout *l, int *count, unsigned *id)
{
	int i;
	for (i = 0; i < 64; i++) {
		gnutls_datum_t b = blob_with_new_key(PRIO13, 0, l);
		if (predict_misread(&b, l, count, id) == 1) return b;
		gnutls_free(b.data);
	}
	printf("FINDING set_data_crash: unknown (no ticket key in 64 gave a positive count)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	gnutls_datum_t b12, b13, bv, c, saved_key;
	struct layout l12, l13, lv;
	struct outcome o;
	int crashes = 0, set_data_abort = 0, later_crash = 0, ncases = 0, i, count;
	int do_sweep = 0, tries = 8;
	unsigned id;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sweep") == 0) do_sweep = 1;
		else if (strcmp(argv[i], "--versions") == 0 && i + 1 < argc &&
			 atoi(argv[i + 1]) > 0) tries = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--sweep] [--versions N]\n", argv[0]);
			return 2;
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(gnutls_global_init());
	printf("GnuTLS %s\n", gnutls_check_version(NULL));
	scred = server_credentials();
	CHECK(gnutls_certificate_allocate_credentials(&ccred));
	CHECK(gnutls_session_ticket_key_generate(&ticket_key));

	b12 = make_blob(PRIO12);
	b13 = make_blob(PRIO13);
	if (parse(&b12, 1, &l12) || parse(&b13, 0, &l13) || l12.n_exts < 1) {
		printf("FINDING set_data_crash: unknown (blob layout not as expected)\n");
		return 2;
	}
	printf("TLS 1.2 blob: %u bytes, certificate count at offset %zu, %d extensions:",
	       b12.size, l12.ncerts_off, l12.n_exts);
	for (i = 0; i < l12.n_exts && i < 16; i++)
		printf(" id %u at %zu", l12.ext_id[i], l12.ext_id_off[i]);
	printf("\nTLS 1.3 blob: %u bytes, certificate count at offset %zu\n",
	       b13.size, l13.ncerts_off);

	/* controls: the blobs as produced */
	try_blob(&b12, PRIO12, 0, &o);
	report("control-tls12", &o);
	if (!(o.how == END_EXIT && o.code == 0 && o.handshake_rc == 0 && o.resumed)) {
		printf("FINDING set_data_crash: unknown (the unmodified TLS 1.2 blob did not resume)\n");
		return 2;
	}
	try_blob(&b13, PRIO13, 0, &o);
	report("control-tls13", &o);
	if (!(o.how == END_EXIT && o.code == 0 && o.handshake_rc == 0 && o.resumed)) {
		printf("FINDING set_data_crash: unknown (the unmodified TLS 1.3 blob did not resume)\n");
		return 2;
	}

#define CASE(name, blob, prio, edit) do { \
	c = copy(&(blob)); edit; ncases++; \
	try_blob(&c, prio, 0, &o); report(name, &o); free(c.data); \
	if (o.how == END_SIGNAL) { crashes++; \
		if (strcmp(o.reached, "gnutls_session_set_data") == 0) set_data_abort++; \
		else if (o.set_data_rc < 0) later_crash++; } \
	printf("FINDING set_data_crash.%s: %s\n", name, \
	       o.how == END_SIGNAL ? "crash" : "no-crash"); } while (0)

	/* the first hello extension's id, set to 0xFFFFFFFF */
	CASE("tls12-ext-id-ffffffff", b12, PRIO12,
	     put32(c.data + l12.ext_id_off[0], 0xFFFFFFFFu));
	/* ... one bit: its top bit */
	CASE("tls12-ext-id-bit31", b12, PRIO12, c.data[l12.ext_id_off[0]] ^= 0x80);
	/* ... one bit: 64 added (MAX_EXT_TYPES is 64) */
	CASE("tls12-ext-id-bit6", b12, PRIO12, c.data[l12.ext_id_off[0] + 3] ^= 0x40);
	/* the certificate count, 1 -> 3 (one bit) */
	CASE("tls12-ncerts-bit1", b12, PRIO12, c.data[l12.ncerts_off + 3] ^= 0x02);
	CASE("tls13-ncerts-bit1", b13, PRIO13, c.data[l13.ncerts_off + 3] ^= 0x02);
	/* the OCSP response count (right after the certificates), 0 -> 4 (one bit) */
	CASE("tls12-nocsp-bit2", b12, PRIO12, c.data[l12.cert_end + 3] ^= 0x04);
	CASE("tls13-nocsp-bit2", b13, PRIO13, c.data[l13.cert_end + 3] ^= 0x04);
	/* the protocol version, TLS 1.2 (4) -> TLS 1.3 (5): read as TLS 1.3,
	 * without a crash */
	CASE("tls12-pversion-5", b12, PRIO12, put32(c.data + l12.pversion_off, 5));
	/* ... TLS 1.3 (5) -> TLS 1.2 (4) or SSL 3.0 (1), on a blob whose ticket
	 * gives a positive extension count (see version_flips); these cases make
	 * new ticket keys, so keep the first one for the sweep */
	saved_key.size = ticket_key.size;
	saved_key.data = gnutls_malloc(ticket_key.size);
	memcpy(saved_key.data, ticket_key.data, ticket_key.size);
	bv = tls13_blob_that_aborts(&lv, &count, &id);
	printf("TLS 1.3 blob for the version cases: %u bytes, version at offset %zu; read as "
	       "TLS <= 1.2 its ticket gives an extension count of %d and a first id of %u\n",
	       bv.size, lv.pversion_off, count, id);
	CASE("tls13-pversion-4", bv, PRIO13, put32(c.data + lv.pversion_off, 4));
	CASE("tls13-pversion-1", bv, PRIO13, put32(c.data + lv.pversion_off, 1));
	gnutls_free(bv.data);

	printf("FINDING set_data_crash: %s\n", crashes ? "yes" : "no");
	printf("Explanation: %d of %d corrupted blobs killed the process: %d inside "
	       "gnutls_session_set_data, %d after gnutls_session_set_data had returned "
	       "an error (in the handshake that follows or in gnutls_deinit).\n",
	       crashes, ncases, set_data_abort, later_crash);

	version_flips("tls13", PRIO13, 0, 5, tries);
	version_flips("tls12", PRIO12, 1, 4, tries);
	gnutls_free(ticket_key.data);
	ticket_key = saved_key;

	if (do_sweep) {
		sweep("tls12", &b12, PRIO12, &l12);
		sweep("tls13", &b13, PRIO13, &l13);
	}

	gnutls_free(b12.data);
	gnutls_free(b13.data);
	gnutls_free(ticket_key.data);
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
	gnutls_global_deinit();
	return 0;
}
