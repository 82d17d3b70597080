"""C declarations of the libgnutls API that gnutls-lab uses, for cffi.

Declarations only, grouped and ordered as in ``<gnutls/gnutls.h>`` (then ``<gnutls/x509.h>``).
Enum-typed parameters are declared as ``int``/``unsigned`` (same ABI); enum values the lab needs are
``#define``s so that the API-mode check (``tests/test_cdef.py``) compares each of them with the
real header. Version notes: everything here exists in GnuTLS 3.7.0; ``gnutls_session_set_keylog_function``
since 3.6.13, ``gnutls_session_ticket_send`` since 3.6.3.
"""

__all__ = ["CDEF", "LIBC_CDEF", "MEMIO_CDEF"]

CDEF = r"""
/* ---- basic types ------------------------------------------------------ */
typedef long time_t;   /* LP64 Linux; cffi has no built-in time_t */
typedef struct gnutls_session_int *gnutls_session_t;
typedef struct gnutls_priority_st *gnutls_priority_t;
typedef void *gnutls_transport_ptr_t;
typedef struct gnutls_certificate_credentials_st *gnutls_certificate_credentials_t;
typedef struct gnutls_anon_server_credentials_st *gnutls_anon_server_credentials_t;
typedef struct gnutls_anon_client_credentials_st *gnutls_anon_client_credentials_t;
typedef struct gnutls_psk_server_credentials_st *gnutls_psk_server_credentials_t;
typedef struct gnutls_psk_client_credentials_st *gnutls_psk_client_credentials_t;
typedef struct gnutls_x509_crt_int *gnutls_x509_crt_t;
typedef struct gnutls_x509_privkey_int *gnutls_x509_privkey_t;

typedef struct {
    unsigned char *data;
    unsigned int size;
} gnutls_datum_t;

/* ---- constants (enums and macros of gnutls.h) ---------------------------- */
#define GNUTLS_CRD_CERTIFICATE 1
#define GNUTLS_CRD_ANON 2
#define GNUTLS_CRD_SRP 3
#define GNUTLS_CRD_PSK 4

/* gnutls_init_flags_t, every one: the spy's report names each flag a program set */
#define GNUTLS_SERVER 1
#define GNUTLS_CLIENT 2
#define GNUTLS_DATAGRAM 4
#define GNUTLS_NONBLOCK 8
#define GNUTLS_NO_EXTENSIONS 16
#define GNUTLS_NO_REPLAY_PROTECTION 32
#define GNUTLS_NO_SIGNAL 64
#define GNUTLS_ALLOW_ID_CHANGE 128
#define GNUTLS_ENABLE_FALSE_START 256
#define GNUTLS_FORCE_CLIENT_CERT 512
#define GNUTLS_NO_TICKETS 1024
#define GNUTLS_KEY_SHARE_TOP 2048
#define GNUTLS_KEY_SHARE_TOP2 4096
#define GNUTLS_KEY_SHARE_TOP3 8192
#define GNUTLS_POST_HANDSHAKE_AUTH 16384
#define GNUTLS_NO_AUTO_REKEY 32768
#define GNUTLS_SAFE_PADDING_CHECK 65536
#define GNUTLS_ENABLE_EARLY_START 131072
#define GNUTLS_ENABLE_RAWPK 262144
#define GNUTLS_AUTO_REAUTH 524288
#define GNUTLS_ENABLE_EARLY_DATA 1048576
#define GNUTLS_NO_AUTO_SEND_TICKET 2097152
#define GNUTLS_NO_END_OF_EARLY_DATA 4194304
#define GNUTLS_NO_TICKETS_TLS12 8388608

#define GNUTLS_CERT_REQUEST 1

#define GNUTLS_SHUT_RDWR 0
#define GNUTLS_SHUT_WR 1

#define GNUTLS_X509_FMT_DER 0
#define GNUTLS_X509_FMT_PEM 1

#define GNUTLS_PK_RSA 1
#define GNUTLS_PK_ECDSA 4
#define GNUTLS_ECC_CURVE_SECP256R1 2
#define GNUTLS_DIG_SHA256 6
#define GNUTLS_SEC_PARAM_MEDIUM 35
#define GNUTLS_CIPHER_NULL 1
#define GNUTLS_NAME_DNS 1
#define GNUTLS_HANDSHAKE_ANY 4294967295
#define GNUTLS_PKCS_PLAIN 1
#define GNUTLS_FSAN_APPEND 1
#define GNUTLS_PSK_KEY_RAW 0
#define GNUTLS_SAN_DNSNAME 1
#define GNUTLS_KEY_DIGITAL_SIGNATURE 128
#define GNUTLS_KEY_KEY_ENCIPHERMENT 32

#define GNUTLS_HOOK_POST 1
#define GNUTLS_HOOK_PRE 0
#define GNUTLS_HOOK_BOTH -1

#define GNUTLS_SFLAGS_SAFE_RENEGOTIATION 1
#define GNUTLS_SFLAGS_EXT_MASTER_SECRET 2
#define GNUTLS_SFLAGS_ETM 4
#define GNUTLS_SFLAGS_HB_LOCAL_SEND 8
#define GNUTLS_SFLAGS_HB_PEER_SEND 16
#define GNUTLS_SFLAGS_FALSE_START 32
#define GNUTLS_SFLAGS_RFC7919 64
#define GNUTLS_SFLAGS_SESSION_TICKET 128
#define GNUTLS_SFLAGS_POST_HANDSHAKE_AUTH 256
#define GNUTLS_SFLAGS_EARLY_START 512
#define GNUTLS_SFLAGS_EARLY_DATA 1024
#define GNUTLS_SFLAGS_CLI_REQUESTED_OCSP 2048
#define GNUTLS_SFLAGS_SERV_REQUESTED_OCSP 4096

#define GNUTLS_E_SUCCESS 0
#define GNUTLS_E_INVALID_SESSION -10
#define GNUTLS_E_FATAL_ALERT_RECEIVED -12
#define GNUTLS_E_WARNING_ALERT_RECEIVED -16
#define GNUTLS_E_AGAIN -28
#define GNUTLS_E_DB_ERROR -30
#define GNUTLS_E_INTERRUPTED -52
#define GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE -56
#define GNUTLS_E_INVALID_REQUEST -50
#define GNUTLS_E_INTERNAL_ERROR -59
#define GNUTLS_E_PREMATURE_TERMINATION -110
#define GNUTLS_E_UNAVAILABLE_DURING_HANDSHAKE -408
#define GNUTLS_E_DB_ENTRY_EXISTS -428
#define GNUTLS_E_EARLY_DATA_REJECTED -429

/* ---- sessions ------------------------------------------------------------ */
int gnutls_init(gnutls_session_t *session, unsigned int flags);
void gnutls_deinit(gnutls_session_t session);
int gnutls_bye(gnutls_session_t session, int how);
int gnutls_handshake(gnutls_session_t session);
void gnutls_handshake_set_timeout(gnutls_session_t session, unsigned int ms);
int gnutls_alert_get(gnutls_session_t session);
const char *gnutls_alert_get_name(int alert);

int gnutls_group_get(gnutls_session_t session);
const char *gnutls_group_get_name(int group);
int gnutls_cipher_get(gnutls_session_t session);
int gnutls_kx_get(gnutls_session_t session);
int gnutls_mac_get(gnutls_session_t session);
int gnutls_prf_hash_get(const gnutls_session_t session);
int gnutls_protocol_get_version(gnutls_session_t session);
const char *gnutls_protocol_get_name(int version);
const char *gnutls_ciphersuite_get(gnutls_session_t session);
/* every suite the library implements, by index (NULL past the last); the enums are unsigned */
const char *gnutls_cipher_suite_info(size_t idx, unsigned char *cs_id, unsigned int *kx,
                                     unsigned int *cipher, unsigned int *mac, unsigned int *min_version);
const char *gnutls_handshake_description_get_name(int type);
int gnutls_handshake_get_last_in(gnutls_session_t session);
int gnutls_handshake_get_last_out(gnutls_session_t session);

int gnutls_error_is_fatal(int error);
const char *gnutls_strerror(int error);
const char *gnutls_strerror_name(int error);

ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size);
ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size);
size_t gnutls_record_check_pending(gnutls_session_t session);

/* TLS 1.3 early data (0-RTT) */
size_t gnutls_record_get_max_early_data_size(gnutls_session_t session);
int gnutls_record_set_max_early_data_size(gnutls_session_t session, size_t size);
ssize_t gnutls_record_send_early_data(gnutls_session_t session, const void *data, size_t length);
ssize_t gnutls_record_recv_early_data(gnutls_session_t session, void *data, size_t data_size);

void gnutls_session_set_ptr(gnutls_session_t session, void *ptr);
void *gnutls_session_get_ptr(gnutls_session_t session);

int gnutls_server_name_set(gnutls_session_t session, int type, const void *name, size_t name_length);

int gnutls_session_get_data2(gnutls_session_t session, gnutls_datum_t *data);
int gnutls_session_set_data(gnutls_session_t session, const void *session_data, size_t session_data_size);
int gnutls_session_get_id2(gnutls_session_t session, gnutls_datum_t *session_id);
void gnutls_session_get_random(gnutls_session_t session, gnutls_datum_t *client, gnutls_datum_t *server);
void gnutls_session_get_master_secret(gnutls_session_t session, gnutls_datum_t *secret);
char *gnutls_session_get_desc(gnutls_session_t session);
unsigned gnutls_session_get_flags(gnutls_session_t session);

int gnutls_session_is_resumed(gnutls_session_t session);
int gnutls_session_resumption_requested(gnutls_session_t session);

typedef int (*gnutls_db_store_func)(void *, gnutls_datum_t key, gnutls_datum_t data);
typedef int (*gnutls_db_remove_func)(void *, gnutls_datum_t key);
typedef gnutls_datum_t (*gnutls_db_retr_func)(void *, gnutls_datum_t key);
void gnutls_db_set_cache_expiration(gnutls_session_t session, int seconds);
unsigned gnutls_db_get_default_cache_expiration(void);
void gnutls_db_set_retrieve_function(gnutls_session_t session, gnutls_db_retr_func retr_func);
void gnutls_db_set_remove_function(gnutls_session_t session, gnutls_db_remove_func rem_func);
void gnutls_db_set_store_function(gnutls_session_t session, gnutls_db_store_func store_func);
void gnutls_db_set_ptr(gnutls_session_t session, void *ptr);
time_t gnutls_db_check_entry_time(gnutls_datum_t *entry);

typedef int (*gnutls_handshake_hook_func)(gnutls_session_t, unsigned int htype, unsigned when,
                                          unsigned int incoming, const gnutls_datum_t *msg);
void gnutls_handshake_set_hook_function(gnutls_session_t session, unsigned int htype, int when,
                                        gnutls_handshake_hook_func func);

int gnutls_priority_init2(gnutls_priority_t *priority_cache, const char *priorities,
                          const char **err_pos, unsigned flags);
void gnutls_priority_deinit(gnutls_priority_t priority_cache);
int gnutls_priority_set(gnutls_session_t session, gnutls_priority_t priority);

int gnutls_credentials_set(gnutls_session_t session, int type, void *cred);
int gnutls_auth_get_type(gnutls_session_t session);

/* certificate credentials */
void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc);
int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res);
void gnutls_certificate_server_set_request(gnutls_session_t session, int req);
int gnutls_certificate_set_x509_key(gnutls_certificate_credentials_t res, gnutls_x509_crt_t *cert_list,
                                    int cert_list_size, gnutls_x509_privkey_t key);
int gnutls_certificate_set_x509_trust(gnutls_certificate_credentials_t res, gnutls_x509_crt_t *ca_list,
                                      int ca_list_size);
const gnutls_datum_t *gnutls_certificate_get_peers(gnutls_session_t session, unsigned int *list_size);

/* global state, time and memory */
typedef time_t (*gnutls_time_func)(time_t *t);
void gnutls_global_set_time_function(gnutls_time_func time_func);
extern void *(*gnutls_malloc)(size_t);
extern void (*gnutls_free)(void *);

const char *gnutls_check_version(const char *req_version);

typedef int (*gnutls_keylog_func)(gnutls_session_t session, const char *label, const gnutls_datum_t *secret);
void gnutls_session_set_keylog_function(gnutls_session_t session, gnutls_keylog_func func);

/* transport */
typedef ssize_t (*gnutls_pull_func)(gnutls_transport_ptr_t, void *, size_t);
typedef ssize_t (*gnutls_push_func)(gnutls_transport_ptr_t, const void *, size_t);
typedef int (*gnutls_pull_timeout_func)(gnutls_transport_ptr_t, unsigned int ms);
typedef struct iovec { void *iov_base; size_t iov_len; } giovec_t;
typedef ssize_t (*gnutls_vec_push_func)(gnutls_transport_ptr_t, const giovec_t *iov, int iovcnt);
void gnutls_transport_set_ptr(gnutls_session_t session, gnutls_transport_ptr_t ptr);
void gnutls_transport_set_push_function(gnutls_session_t session, gnutls_push_func push_func);
void gnutls_transport_set_pull_function(gnutls_session_t session, gnutls_pull_func pull_func);
void gnutls_transport_set_pull_timeout_function(gnutls_session_t session, gnutls_pull_timeout_func func);
void gnutls_transport_set_vec_push_function(gnutls_session_t session, gnutls_vec_push_func vec_func);
void gnutls_transport_set_errno(gnutls_session_t session, int err);

/* anonymous credentials */
void gnutls_anon_free_server_credentials(gnutls_anon_server_credentials_t sc);
int gnutls_anon_allocate_server_credentials(gnutls_anon_server_credentials_t *sc);
int gnutls_anon_set_server_known_dh_params(gnutls_anon_server_credentials_t res, int sec_param);
void gnutls_anon_free_client_credentials(gnutls_anon_client_credentials_t sc);
int gnutls_anon_allocate_client_credentials(gnutls_anon_client_credentials_t *sc);

/* PSK credentials */
void gnutls_psk_free_client_credentials(gnutls_psk_client_credentials_t sc);
int gnutls_psk_allocate_client_credentials(gnutls_psk_client_credentials_t *sc);
int gnutls_psk_set_client_credentials(gnutls_psk_client_credentials_t res, const char *username,
                                      const gnutls_datum_t *key, int flags);
void gnutls_psk_free_server_credentials(gnutls_psk_server_credentials_t sc);
int gnutls_psk_allocate_server_credentials(gnutls_psk_server_credentials_t *sc);
typedef int gnutls_psk_server_credentials_function(gnutls_session_t, const char *username,
                                                   gnutls_datum_t *key);
void gnutls_psk_set_server_credentials_function(gnutls_psk_server_credentials_t cred,
                                                gnutls_psk_server_credentials_function *func);
int gnutls_psk_set_server_known_dh_params(gnutls_psk_server_credentials_t res, int sec_param);

/* session tickets */
int gnutls_session_ticket_key_generate(gnutls_datum_t *key);
int gnutls_session_ticket_enable_client(gnutls_session_t session);
int gnutls_session_ticket_enable_server(gnutls_session_t session, const gnutls_datum_t *key);
int gnutls_session_ticket_send(gnutls_session_t session, unsigned nr, unsigned flags);

/* anti-replay (TLS 1.3 early data) */
typedef struct gnutls_anti_replay_st *gnutls_anti_replay_t;
int gnutls_anti_replay_init(gnutls_anti_replay_t *anti_replay);
void gnutls_anti_replay_deinit(gnutls_anti_replay_t anti_replay);
void gnutls_anti_replay_set_window(gnutls_anti_replay_t anti_replay, unsigned int window);
void gnutls_anti_replay_enable(gnutls_session_t session, gnutls_anti_replay_t anti_replay);
typedef int (*gnutls_db_add_func)(void *, time_t exp_time, const gnutls_datum_t *key,
                                  const gnutls_datum_t *data);
void gnutls_anti_replay_set_add_function(gnutls_anti_replay_t, gnutls_db_add_func add_func);
void gnutls_anti_replay_set_ptr(gnutls_anti_replay_t, void *ptr);

/* ---- x509.h: lab certificates -------------------------------------------- */
int gnutls_x509_crt_init(gnutls_x509_crt_t *cert);
void gnutls_x509_crt_deinit(gnutls_x509_crt_t cert);
int gnutls_x509_crt_import(gnutls_x509_crt_t cert, const gnutls_datum_t *data, int format);
int gnutls_x509_crt_export2(gnutls_x509_crt_t cert, int format, gnutls_datum_t *out);
int gnutls_x509_crt_set_version(gnutls_x509_crt_t crt, unsigned int version);
int gnutls_x509_crt_set_serial(gnutls_x509_crt_t cert, const void *serial, size_t serial_size);
int gnutls_x509_crt_set_activation_time(gnutls_x509_crt_t cert, time_t act_time);
int gnutls_x509_crt_set_expiration_time(gnutls_x509_crt_t cert, time_t exp_time);
int gnutls_x509_crt_set_dn(gnutls_x509_crt_t crt, const char *dn, const char **err);
int gnutls_x509_crt_set_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);
int gnutls_x509_crt_set_subject_alt_name(gnutls_x509_crt_t crt, int type, const void *data,
                                         unsigned int data_size, unsigned int flags);
int gnutls_x509_crt_set_key_usage(gnutls_x509_crt_t crt, unsigned int usage);
int gnutls_x509_crt_set_basic_constraints(gnutls_x509_crt_t crt, unsigned int ca, int pathLenConstraint);
int gnutls_x509_crt_sign2(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
                          int dig, unsigned int flags);

int gnutls_x509_privkey_init(gnutls_x509_privkey_t *key);
void gnutls_x509_privkey_deinit(gnutls_x509_privkey_t key);
int gnutls_x509_privkey_generate(gnutls_x509_privkey_t key, int algo, unsigned int bits, unsigned int flags);
int gnutls_x509_privkey_export2_pkcs8(gnutls_x509_privkey_t key, int format, const char *password,
                                      unsigned int flags, gnutls_datum_t *out);
"""

# The C library's own clock, to restore after a fake clock (cffi ABI mode needs a declaration).
LIBC_CDEF = r"""
time_t time(time_t *t);
"""

# Not in <gnutls/gnutls.h>: libgnutls's own high-resolution clock hook, exported as GNUTLS_PRIVATE_3_4
# (GnuTLS's tests use it). From 3.8.1 gnutls_global_set_time_function also replaces that clock with one
# of whole seconds read from the time function, for good; sessions/clock.py puts a real one back when a
# FakeClock ends. struct timespec is LP64 Linux's (two longs), like time_t above.
PRIVATE_CDEF = r"""
struct timespec { long tv_sec; long tv_nsec; };
typedef void (*gnutls_gettime_func)(struct timespec *t);
void _gnutls_global_set_gettime_function(gnutls_gettime_func gettime_func);
"""

# The optional C pipe (gnutls_lab/_memio.c, loaded by _native.py). tests/test_cdef.py compiles these
# declarations against that file, as it does CDEF against <gnutls/gnutls.h>.
MEMIO_CDEF = r"""
struct memio_log {
    unsigned char *data;
    size_t size;
    size_t capacity;
};
struct memio_end {
    unsigned char *data;
    size_t start;
    size_t end;
    size_t capacity;
    struct memio_end *peer;
    int closed;
    int sender;
    long long gate;
    void *owner;
    struct memio_log *tap;
};
struct memio_pair {
    struct memio_end end[2];
    struct memio_log log;
};
struct memio_pair *memio_pair_new(int tap);
void memio_pair_free(struct memio_pair *pair);
ssize_t memio_append(struct memio_end *in, const void *data, size_t size);
ssize_t memio_vec_push(void *ptr, const giovec_t *iov, int count);
size_t memio_available(const struct memio_end *self);
ssize_t memio_pull(void *ptr, void *data, size_t size);
struct memio_transport_api {
    void (*set_ptr)(void *session, void *ptr);
    void (*set_vec_push)(void *session, ssize_t (*push)(void *, const giovec_t *, int));
    void (*set_pull)(void *session, ssize_t (*pull)(void *, void *, size_t));
    void (*set_pull_timeout)(void *session, int (*pull_timeout)(void *, unsigned int));
    int (*pull_timeout)(void *, unsigned int);
};
void memio_attach(const struct memio_transport_api *api, void *session, struct memio_end *end, void *owner);
struct memio_pump {
    int done[2];
    int rounds;
    int side;
    int rc;
};
int memio_pump(int (*handshake)(void *), void *client, void *server, struct memio_pump *state,
               int max_rounds);
"""
