/*
 * Finding: a GnuTLS TLS 1.3 client that resumes with a ticket puts the same
 * legacy_session_id in every ClientHello (the one from the first full
 * handshake, kept in the session data), and the server echoes it.
 *
 * Self-contained: uses only libgnutls. Client and server run in this one
 * process over in-memory buffers; the server's certificate is generated at
 * run time.
 *
 *   cc -o repro repro.c $(pkg-config --cflags --libs gnutls) && ./repro
 *
 * It also shows that turning compat mode off (%DISABLE_TLS13_COMPAT_MODE)
 * does not empty the field while the client resumes with session data made
 * with compat mode on: the stored 32-byte ID is sent again, and kept.
 *
 * Output: one line per connection, then the verdict lines
 *   FINDING legacy_session_id_reused: yes|no
 *   CONTROL compat_mode_disabled_session_id_len: N
 *   FINDING compat_mode_off_keeps_old_session_id: yes|no
 * Exit status: 0 when the program ran (whatever the verdict), 2 on a setup
 * or handshake failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define VISITS 4            /* one full handshake, then resumptions */
#define PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define PRIO_NO_COMPAT PRIO ":%DISABLE_TLS13_COMPAT_MODE"

#define CHECK(x) do { int r_ = (x); if (r_ < 0) { \
	fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, gnutls_strerror(r_)); \
	exit(2); } } while (0)

/* ---- in-memory transport: one byte queue per direction ---- */
struct queue { unsigned char *data; size_t len, cap; };
struct end {
	struct queue *in, *out;
	struct queue sent;     /* everything this end wrote, for inspection */
};

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
	struct end *e = ptr;
	q_append(e->out, p, n);
	q_append(&e->sent, p, n);
	return n;
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *p, size_t n)
{
	struct end *e = ptr;
	if (e->in->len == 0) { errno = EAGAIN; return -1; }
	if (n > e->in->len) n = e->in->len;
	memcpy(p, e->in->data, n);
	memmove(e->in->data, e->in->data + n, e->in->len - n);
	e->in->len -= n;
	return n;
}

static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct end *e = ptr;
	(void)ms;
	return e->in->len > 0;
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

/* ---- what a passive observer sees: the legacy_session_id of the first
 * ClientHello / ServerHello in a byte stream (one TLS record, plaintext) ---- */
static int hello_session_id(const struct queue *q, int hs_type,
			    unsigned char sid[32])
{
	const unsigned char *p = q->data;
	size_t off = 5 + 4 + 2 + 32;     /* record hdr, hs hdr, version, random */
	unsigned n;

	if (q->len < off + 1 || p[0] != 22 || p[5] != hs_type)
		return -1;
	n = p[off];
	if (n > 32 || q->len < off + 1 + n)
		return -1;
	memcpy(sid, p + off + 1, n);
	return n;
}

static void hex(const unsigned char *p, int n, char *out)
{
	int i;
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * (n > 0 ? n : 0)] = 0;
}

struct visit {
	int resumed;
	int ch_len, sh_len;
	unsigned char ch[32], sh[32];
};

/* One connection. *data is the client's session data: used to resume when
 * non-empty, replaced with the new session data (the new ticket) after. */
static void visit(const char *client_prio, gnutls_certificate_credentials_t scred,
		  gnutls_certificate_credentials_t ccred, gnutls_datum_t *ticket_key,
		  gnutls_datum_t *data, struct visit *v)
{
	struct queue c2s = { 0 }, s2c = { 0 };
	struct end ce = { &s2c, &c2s, { 0 } }, se = { &c2s, &s2c, { 0 } };
	gnutls_session_t c, s;
	int cr = GNUTLS_E_AGAIN, sr = GNUTLS_E_AGAIN, i;
	char buf[16];

	CHECK(gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK));
	CHECK(gnutls_priority_set_direct(s, PRIO, NULL));
	CHECK(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, scred));
	CHECK(gnutls_session_ticket_enable_server(s, ticket_key));
	attach(s, &se);

	CHECK(gnutls_init(&c, GNUTLS_CLIENT | GNUTLS_NONBLOCK));
	CHECK(gnutls_priority_set_direct(c, client_prio, NULL));
	CHECK(gnutls_credentials_set(c, GNUTLS_CRD_CERTIFICATE, ccred));
	if (data->size > 0)
		CHECK(gnutls_session_set_data(c, data->data, data->size));
	attach(c, &ce);

	for (i = 0; i < 1000 && (cr != 0 || sr != 0); i++) {
		if (cr != 0) {
			cr = gnutls_handshake(c);
			if (cr < 0 && gnutls_error_is_fatal(cr)) CHECK(cr);
		}
		if (sr != 0) {
			sr = gnutls_handshake(s);
			if (sr < 0 && gnutls_error_is_fatal(sr)) CHECK(sr);
		}
	}
	if (cr != 0 || sr != 0) { fprintf(stderr, "handshake did not finish\n"); exit(2); }

	/* The TLS 1.3 NewSessionTicket arrives after the handshake: read one
	 * byte of application data so the client processes it. */
	CHECK(gnutls_record_send(s, "x", 1));
	for (i = 0; i < 100; i++) {
		int r = gnutls_record_recv(c, buf, sizeof buf);
		if (r == 1) break;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) CHECK(r);
	}

	v->resumed = gnutls_session_is_resumed(c);
	v->ch_len = hello_session_id(&ce.sent, 1, v->ch);
	v->sh_len = hello_session_id(&se.sent, 2, v->sh);

	gnutls_free(data->data);
	CHECK(gnutls_session_get_data2(c, data));

	gnutls_bye(c, GNUTLS_SHUT_WR);
	gnutls_deinit(c);
	gnutls_deinit(s);
	free(c2s.data); free(s2c.data); free(ce.sent.data); free(se.sent.data);
}

/* VISITS connections, each resuming with the session data of the one before;
 * the first uses first_prio, the others client_prio. */
static int run(const char *label, const char *first_prio, const char *client_prio,
	       gnutls_certificate_credentials_t scred,
	       gnutls_certificate_credentials_t ccred, gnutls_datum_t *ticket_key,
	       struct visit v[VISITS])
{
	gnutls_datum_t data = { NULL, 0 };
	char chx[65], shx[65];
	int i;

	for (i = 0; i < VISITS; i++) {
		visit(i == 0 ? first_prio : client_prio, scred, ccred, ticket_key, &data, &v[i]);
		hex(v[i].ch, v[i].ch_len, chx);
		hex(v[i].sh, v[i].sh_len, shx);
		printf("%s visit %d: resumed=%d ClientHello.legacy_session_id(%d)=%s "
		       "ServerHello.legacy_session_id_echo(%d)=%s\n",
		       label, i + 1, v[i].resumed, v[i].ch_len, chx, v[i].sh_len, shx);
	}
	gnutls_free(data.data);
	return 0;
}

int main(void)
{
	gnutls_certificate_credentials_t scred, ccred;
	gnutls_datum_t ticket_key;
	struct visit v[VISITS], w[VISITS], x[VISITS];
	int i, resumed_all = 1, reused = 1, echoed = 1, kept = 1;

	CHECK(gnutls_global_init());
	printf("GnuTLS %s\n", gnutls_check_version(NULL));
	scred = server_credentials();
	CHECK(gnutls_certificate_allocate_credentials(&ccred));
	CHECK(gnutls_session_ticket_key_generate(&ticket_key));

	/* default priority: TLS 1.3 middlebox-compatibility mode is on */
	run("compat", PRIO, PRIO, scred, ccred, &ticket_key, v);
	/* the same with %DISABLE_TLS13_COMPAT_MODE in the client's priority */
	run("no-compat", PRIO_NO_COMPAT, PRIO_NO_COMPAT, scred, ccred, &ticket_key, w);
	/* compat mode turned off after the first visit: the client resumes with
	 * the session data of a compat-mode handshake */
	run("switched", PRIO, PRIO_NO_COMPAT, scred, ccred, &ticket_key, x);

	for (i = 1; i < VISITS; i++) {
		resumed_all &= v[i].resumed;
		reused &= v[i].ch_len == 32 && v[0].ch_len == 32 &&
			  memcmp(v[i].ch, v[0].ch, 32) == 0;
		echoed &= v[i].sh_len == v[i].ch_len &&
			  memcmp(v[i].sh, v[i].ch, v[i].ch_len) == 0;
		resumed_all &= w[i].resumed & x[i].resumed;
		kept &= x[i].ch_len == 32 && x[0].ch_len == 32 &&
			memcmp(x[i].ch, x[0].ch, 32) == 0;
	}
	if (!resumed_all) {
		printf("FINDING legacy_session_id_reused: unknown (a visit did not resume)\n");
		return 2;
	}
	printf("FINDING legacy_session_id_reused: %s\n", reused ? "yes" : "no");
	printf("CONTROL server_echoes_it: %s\n", echoed ? "yes" : "no");
	printf("CONTROL compat_mode_disabled_session_id_len: %d\n", w[VISITS - 1].ch_len);
	printf("FINDING compat_mode_off_keeps_old_session_id: %s\n", kept ? "yes" : "no");
	printf("CONTROL compat_mode_off_after_full_handshake_session_id_len: %d\n", w[0].ch_len);
	if (reused)
		printf("Explanation: %d resumptions, each using the ticket from the connection before, all sent "
		       "the legacy_session_id of the first full handshake in the clear; "
		       "RFC 8446 4.1.2/D.4 ask for a new random value, so a passive "
		       "observer can link the visits.\n", VISITS - 1);
	else
		printf("Explanation: each resumption sent a different legacy_session_id.\n");
	if (kept)
		printf("Explanation: a client that turned %%DISABLE_TLS13_COMPAT_MODE on but resumed "
		       "with session data from a compat-mode handshake sent that handshake's "
		       "32-byte legacy_session_id on all %d resumptions, and each new session "
		       "data kept it; only a full handshake with compat mode off empties it.\n",
		       VISITS - 1);

	gnutls_free(ticket_key.data);
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
	gnutls_global_deinit();
	return 0;
}
