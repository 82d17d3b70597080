/*
 * _memio.c - the in-memory pipe of a lab connection, in C.
 *
 * An optional accelerator, built when the package is installed with a C compiler at hand
 * (setup.py; the build is allowed to fail). Without it, the same pipe runs as Python callbacks
 * (callbacks.memory_vec_push/memory_pull) and behaves identically; tests run both.
 *
 * Why: a TLS 1.3 handshake crosses the transport some 26 times (one vector push per flight, two
 * pulls per record, one EAGAIN pull per wait for the peer). As Python callbacks those crossings
 * are most of the lab's cost over a C program; as the functions below they cost what they cost C.
 *
 * No GnuTLS header is needed: the functions have the signatures of gnutls_vec_push_func and
 * gnutls_pull_func with plain C types (giovec_t is struct iovec), and "try again" is reported the
 * way libgnutls reads it from its default errno function: return -1 with errno set.
 * gnutls_lab/binding/_cdef.py (MEMIO_CDEF) declares the same struct and functions for cffi's ABI mode, and
 * tests/test_cdef.py compiles those declarations against this file.
 *
 * The struct is also a small Python extension module (PyInit__memio) only so that setuptools
 * builds and installs it like any other; Python reaches the functions with ffi.dlopen.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The wire tap: every chunk pushed by either side, in order, as [sender 0|1][length, 4 bytes, host
 * order][bytes]. Python drains it into WireChunk objects after each call into libgnutls. */
struct memio_log {
	unsigned char *data;
	size_t size;
	size_t capacity;
};

/* One side of a pipe pair: what the peer has written and this side has not yet read. */
struct memio_end {
	unsigned char *data;     /* inbox storage (realloc'd) */
	size_t start;            /* first unread byte */
	size_t end;              /* one past the last written byte */
	size_t capacity;
	struct memio_end *peer;  /* the other end of the pair: where pushes go */
	int closed;              /* set when this side's session is closed: the peer sees EOF/EPIPE */
	int sender;              /* 0 client, 1 server: the tag of this side's chunks in the tap */
	long long gate;          /* < 0: no limit; else pull delivers at most this many more bytes */
	void *owner;             /* the Python endpoint's handle, for the rare slow-path callbacks */
	struct memio_log *tap;   /* NULL: no wire tap */
};

/* Both ends and the tap in one block, linked, freed together: a side can never point to a freed
 * peer, whatever order Python drops the two endpoint objects in. */
struct memio_pair {
	struct memio_end end[2];
	struct memio_log log;
};

struct memio_pair *memio_pair_new(int tap)
{
	struct memio_pair *pair = calloc(1, sizeof *pair);
	int i;

	if (pair == NULL)
		return NULL;
	for (i = 0; i < 2; i++) {
		pair->end[i].peer = &pair->end[1 - i];
		pair->end[i].sender = i;
		pair->end[i].gate = -1;
		pair->end[i].tap = tap ? &pair->log : NULL;
	}
	return pair;
}

void memio_pair_free(struct memio_pair *pair)
{
	if (pair == NULL)
		return;
	free(pair->end[0].data);
	free(pair->end[1].data);
	free(pair->log.data);
	free(pair);
}

/* Grow a buffer of `capacity` holding `used` bytes so that `more` fit; 0 on success. */
static int grow(unsigned char **data, size_t *capacity, size_t used, size_t more)
{
	size_t wanted = *capacity ? *capacity : 2048; /* a handshake flight is 0.1 to 3 KB */
	unsigned char *grown;

	if (more <= *capacity - used)
		return 0;
	while (wanted - used < more) {
		if (wanted > ((size_t)-1) / 2)
			return -1;
		wanted *= 2;
	}
	grown = realloc(*data, wanted);
	if (grown == NULL)
		return -1;
	*data = grown;
	*capacity = wanted;
	return 0;
}

/* Make room for `size` more bytes at the end of the inbox; 0 on success, -1 if out of memory. */
static int reserve(struct memio_end *in, size_t size)
{
	if (size <= in->capacity - in->end)
		return 0;
	if (in->start > 0) { /* slide the unread bytes to the front first */
		memmove(in->data, in->data + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	return grow(&in->data, &in->capacity, in->end, size);
}

/* Append to this side's inbox (used by memio_vec_push and by Python, which may inject bytes). */
ssize_t memio_append(struct memio_end *in, const void *data, size_t size)
{
	if (size > (size_t)SSIZE_MAX || reserve(in, size) != 0) {
		errno = ENOMEM;
		return -1;
	}
	if (size > 0)
		memcpy(in->data + in->end, data, size);
	in->end += size;
	return (ssize_t)size;
}

/* gnutls_vec_push_func: a whole flight (several records) into the peer's inbox in one call. */
ssize_t memio_vec_push(void *ptr, const struct iovec *iov, int count)
{
	struct memio_end *self = ptr, *peer = self->peer;
	struct memio_log *tap = self->tap;
	size_t total = 0;
	int i;

	if (peer->closed || self->closed) {
		errno = EPIPE;
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (iov[i].iov_len > (size_t)INT32_MAX - total) { /* a tap entry holds 4 length bytes */
			errno = EINVAL;
			return -1;
		}
		total += iov[i].iov_len;
	}
	if (reserve(peer, total) != 0 ||
	    (tap != NULL && grow(&tap->data, &tap->capacity, tap->size, total + 5) != 0)) {
		errno = ENOMEM;
		return -1;
	}
	if (tap != NULL) {
		uint32_t length = (uint32_t)total;

		tap->data[tap->size] = (unsigned char)self->sender;
		memcpy(tap->data + tap->size + 1, &length, 4);
		tap->size += 5;
	}
	for (i = 0; i < count; i++) {
		if (iov[i].iov_len > 0) {
			memcpy(peer->data + peer->end, iov[i].iov_base, iov[i].iov_len);
			if (tap != NULL)
				memcpy(tap->data + tap->size, iov[i].iov_base, iov[i].iov_len);
		}
		peer->end += iov[i].iov_len;
		if (tap != NULL)
			tap->size += iov[i].iov_len;
	}
	return (ssize_t)total;
}

/* Bytes a pull may deliver now (the inbox, limited by the gate). */
size_t memio_available(const struct memio_end *self)
{
	size_t available = self->end - self->start;

	if (self->gate >= 0 && (unsigned long long)self->gate < available)
		available = (size_t)self->gate;
	return available;
}

/* gnutls_pull_func: at most `size` bytes; 0 at EOF (peer gone), -1/EAGAIN when nothing is there yet. */
ssize_t memio_pull(void *ptr, void *data, size_t size)
{
	struct memio_end *self = ptr;
	size_t available = memio_available(self);

	if (available == 0) {
		if (self->peer->closed)
			return 0;
		errno = EAGAIN;
		return -1;
	}
	if (size > available)
		size = available;
	memcpy(data, self->data + self->start, size);
	self->start += size;
	if (self->start == self->end)
		self->start = self->end = 0;
	if (self->gate >= 0)
		self->gate -= (long long)size;
	return (ssize_t)size;
}

/* ---- attaching to a session --------------------------------------------------------------------
 * The four transport calls a session needs, made from here in one call from Python (each call
 * through cffi's ABI mode costs more than the C it runs). The setters arrive as pointers from the
 * lab's own libgnutls (binding/native.py); gnutls_session_t is a pointer, typed void * here. */
typedef ssize_t (*memio_vec_push_fn)(void *, const struct iovec *, int);
typedef ssize_t (*memio_pull_fn)(void *, void *, size_t);
typedef int (*memio_pull_timeout_fn)(void *, unsigned int);

struct memio_transport_api {
	void (*set_ptr)(void *session, void *ptr);                      /* gnutls_transport_set_ptr */
	void (*set_vec_push)(void *session, memio_vec_push_fn push);    /* ..._set_vec_push_function */
	void (*set_pull)(void *session, memio_pull_fn pull);            /* ..._set_pull_function */
	void (*set_pull_timeout)(void *session, memio_pull_timeout_fn); /* ..._set_pull_timeout_function */
	memio_pull_timeout_fn pull_timeout; /* the pull-timeout callback (Python: it records the wait) */
};

void memio_attach(const struct memio_transport_api *api, void *session, struct memio_end *end, void *owner)
{
	end->owner = owner;
	api->set_ptr(session, end);
	api->set_vec_push(session, memio_vec_push);
	api->set_pull(session, memio_pull);
	api->set_pull_timeout(session, api->pull_timeout);
}

/* ---- the pump ------------------------------------------------------------------------------
 * session.pump() in C, for two sessions joined by this pipe: gnutls_handshake on the client, then on
 * the server, round after round, until both have returned 0. It stops at the first call that returns
 * anything but 0, GNUTLS_E_AGAIN or GNUTLS_E_INTERRUPTED, and says which side and what: Python then
 * finishes that step exactly as Session.handshake_step would (errors, alerts, the rest of the pump).
 * gnutls_handshake arrives as a pointer from the lab's own libgnutls (binding/native.py), typed here with
 * void * for gnutls_session_t, which is a pointer. */
#define MEMIO_E_AGAIN (-28)       /* GNUTLS_E_AGAIN */
#define MEMIO_E_INTERRUPTED (-52) /* GNUTLS_E_INTERRUPTED */

struct memio_pump {
	int done[2];  /* in: already done; out: done */
	int rounds;   /* rounds started */
	int side;     /* when stopped: 0 client, 1 server */
	int rc;       /* when stopped: what gnutls_handshake returned there */
};

/* 0: both done; 1: stopped at state->side with state->rc; 2: max_rounds without finishing. */
int memio_pump(int (*handshake)(void *), void *client, void *server, struct memio_pump *state,
	       int max_rounds)
{
	void *const sessions[2] = {client, server};
	int side, rc;

	while (state->rounds < max_rounds) {
		state->rounds++;
		for (side = 0; side < 2; side++) {
			if (state->done[side])
				continue;
			rc = handshake(sessions[side]);
			if (rc == 0) {
				state->done[side] = 1;
			} else if (rc != MEMIO_E_AGAIN && rc != MEMIO_E_INTERRUPTED) {
				state->side = side;
				state->rc = rc;
				return 1;
			}
		}
		if (state->done[0] && state->done[1])
			return 0;
	}
	return 2;
}

static struct PyModuleDef memio_module = {
	PyModuleDef_HEAD_INIT, "_memio",
	"The lab's in-memory pipe in C; used through cffi (gnutls_lab/binding/_native.py), nothing in here.",
	-1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__memio(void)
{
	return PyModule_Create(&memio_module);
}
