/*
 * handshake_loop.c - the C baseline of `make bench`: TLS handshakes per second
 * between a GnuTLS client and a GnuTLS server in one thread, no sockets.
 *
 * Build (benchmarks/run.py does this into benchmarks/_build/):
 *     gcc -O2 -Wall -o handshake_loop handshake_loop.c $(pkg-config --cflags --libs gnutls)
 * Run:
 *     handshake_loop --mode tls13-full|tls13-resumed|tls12-full|tls12-resumed|all
 *                    [--seconds S] [--warmup S]
 * Output: one JSON object per mode on stdout,
 *     {"impl": "c", "mode": ..., "handshakes": N, "seconds": ..., "per_second": ...,
 *      "gnutls_version": "3.7.9", "negotiated": "(TLS1.3)-(ECDHE-SECP256R1)-..."}
 * Exit status: 0 on success, 1 on any failed libgnutls call or failed resumption,
 * 2 on bad arguments.
 *
 * Created once per process (not timed): a self-signed ECDSA P-256 certificate made
 * with GnuTLS's x509 API, with the profile of gnutls_lab.LabCertificate (see
 * make_self_signed), server and client certificate credentials (the client trusts
 * that certificate and does not verify), one gnutls_priority_t per protocol
 * ("NORMAL:-VERS-ALL:+VERS-TLS1.3" or "...:+VERS-TLS1.2"), one server session
 * ticket key (gnutls_session_ticket_key_generate), and, for the resumed modes,
 * one session-data blob taken from a full handshake (for TLS 1.3 the client's
 * gnutls_session_get_data2 reads the pending NewSessionTicket through the
 * pull_timeout function; a 4-byte dummy blob is an error).
 *
 * What one timed iteration does, in every mode:
 *   1. gnutls_init(client, GNUTLS_CLIENT) and gnutls_init(server, GNUTLS_SERVER);
 *   2. on both: gnutls_priority_set, gnutls_credentials_set(CERTIFICATE),
 *      transport pointer + push/pull/pull_timeout functions; on the server
 *      gnutls_session_ticket_enable_server with the shared key;
 *   3. resumed modes only: gnutls_session_set_data(client, blob);
 *   4. gnutls_handshake alternately on client and server until both return 0
 *      (GNUTLS_E_AGAIN means "waiting for the peer");
 *   5. resumed modes only: gnutls_session_is_resumed on both ends must be true;
 *   6. gnutls_deinit on both.
 * Nothing else: no application data, no bye. Under TLS 1.3 the server sends its
 * default two NewSessionTickets at the end of its handshake; the client never
 * reads them in the timed loop (they are dropped with the session). Under
 * TLS 1.2 the (single) NewSessionTicket is part of the handshake itself.
 *
 * Transport: two byte buffers per client/server pair, reused across iterations.
 * A push appends to the peer's inbox; a pull reads from the own inbox or returns
 * -1 with gnutls_transport_set_errno(session, EAGAIN) when it is empty; the
 * pull_timeout function returns 1 if bytes are buffered, else 0 (never sleeps).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

/* ---- error handling: every libgnutls return code is checked ---------------- */

#define CHECK(call)                                                              \
	do {                                                                     \
		int check_ret_ = (call);                                         \
		if (check_ret_ < 0) {                                            \
			fprintf(stderr, "handshake_loop: %s:%d: %s failed: %s (%s)\n", \
				__FILE__, __LINE__, #call,                       \
				gnutls_strerror_name(check_ret_),                \
				gnutls_strerror(check_ret_));                    \
			exit(1);                                                 \
		}                                                                \
	} while (0)

static void die(const char *message)
{
	fprintf(stderr, "handshake_loop: %s\n", message);
	exit(1);
}

/* ---- in-memory transport ------------------------------------------------- */

struct byte_buffer {
	unsigned char *data;
	size_t start; /* first unread byte */
	size_t end;   /* one past the last written byte */
	size_t capacity;
};

struct endpoint {
	gnutls_session_t session;
	struct byte_buffer *inbox;     /* what the peer pushed to us */
	struct byte_buffer *peer_inbox; /* where our pushes go */
};

static ssize_t memory_push(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
	struct endpoint *self = ptr;
	struct byte_buffer *out = self->peer_inbox;

	if (out->end + size > out->capacity) {
		size_t capacity = out->capacity ? out->capacity : 16384;
		while (capacity < out->end + size)
			capacity *= 2;
		unsigned char *grown = realloc(out->data, capacity);
		if (grown == NULL) {
			gnutls_transport_set_errno(self->session, ENOMEM);
			return -1;
		}
		out->data = grown;
		out->capacity = capacity;
	}
	memcpy(out->data + out->end, data, size);
	out->end += size;
	return (ssize_t)size;
}

static ssize_t memory_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
	struct endpoint *self = ptr;
	struct byte_buffer *in = self->inbox;
	size_t available = in->end - in->start;

	if (available == 0) {
		gnutls_transport_set_errno(self->session, EAGAIN);
		return -1;
	}
	if (size > available)
		size = available;
	memcpy(data, in->data + in->start, size);
	in->start += size;
	if (in->start == in->end)
		in->start = in->end = 0;
	return (ssize_t)size;
}

static int memory_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct endpoint *self = ptr;
	(void)ms; /* one thread: waiting could never make bytes arrive */
	return self->inbox->end > self->inbox->start ? 1 : 0;
}

/* ---- objects created once ------------------------------------------------ */

struct lab {
	gnutls_certificate_credentials_t server_cred;
	gnutls_certificate_credentials_t client_cred;
	gnutls_priority_t priority;
	gnutls_datum_t ticket_key;
	struct byte_buffer client_inbox, server_inbox;
	struct endpoint client, server;
};

/* The same certificate profile as gnutls_lab.LabCertificate (the lab side of the benchmark):
 * subject CN=gnutls-lab.test,O=gnutls-lab (lab key), two DNS names, digitalSignature,
 * basicConstraints CA:FALSE, valid from a day ago for 30 days. The client parses it in
 * every handshake, so both loops must send the same one. */
static void make_self_signed(gnutls_x509_crt_t *crt_out, gnutls_x509_privkey_t *key_out)
{
	static const char *const dns_names[] = {"localhost", "gnutls-lab.test"};
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	unsigned char serial[8];
	const char *error_position = NULL;
	time_t now = time(NULL);
	size_t i;

	CHECK(gnutls_x509_privkey_init(&key));
	CHECK(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	CHECK(gnutls_x509_crt_init(&crt));
	CHECK(gnutls_x509_crt_set_version(crt, 3));
	CHECK(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial));
	serial[0] &= 0x7f; /* positive INTEGER */
	CHECK(gnutls_x509_crt_set_serial(crt, serial, sizeof serial));
	CHECK(gnutls_x509_crt_set_activation_time(crt, now - 86400));
	CHECK(gnutls_x509_crt_set_expiration_time(crt, now + 30 * 86400));
	CHECK(gnutls_x509_crt_set_dn(crt, "CN=gnutls-lab.test,O=gnutls-lab (lab key)", &error_position));
	CHECK(gnutls_x509_crt_set_key(crt, key));
	for (i = 0; i < sizeof dns_names / sizeof dns_names[0]; i++)
		CHECK(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns_names[i],
				(unsigned)strlen(dns_names[i]), GNUTLS_FSAN_APPEND));
	CHECK(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
	CHECK(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
	CHECK(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
	*crt_out = crt;
	*key_out = key;
}

static void lab_init(struct lab *lab, const char *priority_string)
{
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	const char *error_position = NULL;

	memset(lab, 0, sizeof *lab);
	make_self_signed(&crt, &key);
	CHECK(gnutls_certificate_allocate_credentials(&lab->server_cred));
	CHECK(gnutls_certificate_set_x509_key(lab->server_cred, &crt, 1, key));
	CHECK(gnutls_certificate_allocate_credentials(&lab->client_cred));
	/* Like the lab client: it trusts the lab certificate (and, like it, does not verify). */
	CHECK(gnutls_certificate_set_x509_trust(lab->client_cred, &crt, 1));
	gnutls_x509_crt_deinit(crt); /* the credentials hold copies */
	gnutls_x509_privkey_deinit(key);
	CHECK(gnutls_priority_init(&lab->priority, priority_string, &error_position));
	CHECK(gnutls_session_ticket_key_generate(&lab->ticket_key));
	lab->client.inbox = &lab->client_inbox;
	lab->client.peer_inbox = &lab->server_inbox;
	lab->server.inbox = &lab->server_inbox;
	lab->server.peer_inbox = &lab->client_inbox;
}

static void lab_deinit(struct lab *lab)
{
	gnutls_free(lab->ticket_key.data);
	gnutls_priority_deinit(lab->priority);
	gnutls_certificate_free_credentials(lab->client_cred);
	gnutls_certificate_free_credentials(lab->server_cred);
	free(lab->client_inbox.data);
	free(lab->server_inbox.data);
}

/* ---- one connection ------------------------------------------------------ */

static void setup_endpoint(struct lab *lab, struct endpoint *end, unsigned flags,
			   gnutls_certificate_credentials_t cred)
{
	CHECK(gnutls_init(&end->session, flags));
	CHECK(gnutls_priority_set(end->session, lab->priority));
	CHECK(gnutls_credentials_set(end->session, GNUTLS_CRD_CERTIFICATE, cred));
	gnutls_transport_set_ptr(end->session, end);
	gnutls_transport_set_push_function(end->session, memory_push);
	gnutls_transport_set_pull_function(end->session, memory_pull);
	gnutls_transport_set_pull_timeout_function(end->session, memory_pull_timeout);
}

/* Create both sessions and run the handshake to completion; the caller deinits. */
static void connect_pair(struct lab *lab, const gnutls_datum_t *resume_data)
{
	int client_done = 0, server_done = 0, rounds = 0, ret;

	lab->client_inbox.start = lab->client_inbox.end = 0;
	lab->server_inbox.start = lab->server_inbox.end = 0;
	setup_endpoint(lab, &lab->client, GNUTLS_CLIENT, lab->client_cred);
	setup_endpoint(lab, &lab->server, GNUTLS_SERVER, lab->server_cred);
	CHECK(gnutls_session_ticket_enable_server(lab->server.session, &lab->ticket_key));
	if (resume_data != NULL)
		CHECK(gnutls_session_set_data(lab->client.session, resume_data->data,
					      resume_data->size));

	while (!client_done || !server_done) {
		if (++rounds > 64)
			die("handshake made no progress after 64 rounds");
		if (!client_done) {
			ret = gnutls_handshake(lab->client.session);
			if (ret == 0)
				client_done = 1;
			else if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
				CHECK(ret);
		}
		if (!server_done) {
			ret = gnutls_handshake(lab->server.session);
			if (ret == 0)
				server_done = 1;
			else if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
				CHECK(ret);
		}
	}
}

static void close_pair(struct lab *lab)
{
	gnutls_deinit(lab->client.session);
	gnutls_deinit(lab->server.session);
}

/* One full handshake, then the client's session data (real, not the dummy). */
static void capture_session_data(struct lab *lab, int tls13, gnutls_datum_t *blob)
{
	connect_pair(lab, NULL);
	/* Under TLS 1.3 this reads the pending NewSessionTicket via pull_timeout. */
	CHECK(gnutls_session_get_data2(lab->client.session, blob));
	if (blob->size <= 4)
		die("gnutls_session_get_data2 returned dummy data: no ticket was read");
	if (tls13 && !(gnutls_session_get_flags(lab->client.session) &
		       GNUTLS_SFLAGS_SESSION_TICKET))
		die("TLS 1.3 session data without GNUTLS_SFLAGS_SESSION_TICKET");
	close_pair(lab);
}

/* ---- timing -------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct mode {
	const char *name;
	const char *priority;
	int tls13;
	int resumed;
};

static const struct mode modes[] = {
	{"tls13-full", "NORMAL:-VERS-ALL:+VERS-TLS1.3", 1, 0},
	{"tls13-resumed", "NORMAL:-VERS-ALL:+VERS-TLS1.3", 1, 1},
	{"tls12-full", "NORMAL:-VERS-ALL:+VERS-TLS1.2", 0, 0},
	{"tls12-resumed", "NORMAL:-VERS-ALL:+VERS-TLS1.2", 0, 1},
};

/* Returns the number of handshakes done in at least `seconds`; *elapsed gets the time. */
static long run_for(struct lab *lab, const gnutls_datum_t *blob, double seconds,
		    double *elapsed, long *resume_failures)
{
	long count = 0;
	double start = now_seconds(), now = start;

	while (now - start < seconds) {
		connect_pair(lab, blob);
		if (blob != NULL && (!gnutls_session_is_resumed(lab->client.session) ||
				     !gnutls_session_is_resumed(lab->server.session)))
			(*resume_failures)++;
		close_pair(lab);
		count++;
		now = now_seconds();
	}
	*elapsed = now - start;
	return count;
}

static int run_mode(const struct mode *mode, double seconds, double warmup)
{
	struct lab lab;
	gnutls_datum_t blob = {NULL, 0};
	double elapsed;
	long handshakes, resume_failures = 0;
	char *description;

	lab_init(&lab, mode->priority);
	if (mode->resumed)
		capture_session_data(&lab, mode->tls13, &blob);
	run_for(&lab, mode->resumed ? &blob : NULL, warmup, &elapsed, &resume_failures);
	handshakes = run_for(&lab, mode->resumed ? &blob : NULL, seconds, &elapsed,
			     &resume_failures);
	/* One more (untimed) connection, to report what was negotiated. */
	connect_pair(&lab, mode->resumed ? &blob : NULL);
	description = gnutls_session_get_desc(lab.client.session);
	if (description == NULL)
		die("gnutls_session_get_desc returned NULL");
	close_pair(&lab);
	printf("{\"impl\": \"c\", \"mode\": \"%s\", \"handshakes\": %ld, "
	       "\"seconds\": %.6f, \"per_second\": %.1f, \"gnutls_version\": \"%s\", "
	       "\"negotiated\": \"%s\"}\n",
	       mode->name, handshakes, elapsed, (double)handshakes / elapsed,
	       gnutls_check_version(NULL), description);
	gnutls_free(description);
	fflush(stdout);
	gnutls_free(blob.data);
	lab_deinit(&lab);
	if (resume_failures) {
		fprintf(stderr, "handshake_loop: %s: %ld handshakes did not resume\n",
			mode->name, resume_failures);
		return 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: handshake_loop --mode tls13-full|tls13-resumed|tls12-full|"
			"tls12-resumed|all [--seconds S] [--warmup S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode_name = "all";
	double seconds = 2.0, warmup = 0.25;
	int failed = 0, matched = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--mode") == 0)
			mode_name = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = atof(argv[++i]);
		else
			usage();
	}
	if (seconds <= 0 || warmup < 0)
		usage();

	CHECK(gnutls_global_init());
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		if (strcmp(mode_name, "all") != 0 && strcmp(mode_name, modes[m].name) != 0)
			continue;
		matched = 1;
		failed |= run_mode(&modes[m], seconds, warmup);
	}
	gnutls_global_deinit();
	if (!matched)
		usage();
	return failed ? 1 : 0;
}
