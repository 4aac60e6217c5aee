/* HTTPS client of the sonocloud JSON API, on libcurl with OpenSSL.
 *
 * Every request applies the project's TLS policy (sono/tls.h) to the
 * SSL_CTX that libcurl builds, through CURLOPT_SSL_CTX_FUNCTION.  That means
 * TLS 1.2 as the minimum and the policy's suite lists.  The peer is verified
 * either against a CA file, with host name verification, or against a
 * pinned certificate fingerprint by the pin callback of tls_ctx_set_pin().  The same verify options are set on every
 * request, and TLS session resumption is off, so a reused connection or
 * session never skips the check.  Connect and low-speed timeouts bound a
 * dead link; the standard proxy variables (https_proxy, no_proxy) are
 * honoured as libcurl does by default.
 *
 * A struct cloud_client is one libcurl easy handle and must be used from one
 * thread at a time; each thread makes its own.  Call cloud_client_global_init()
 * once before starting threads.
 *
 * Functions return 0 for a 2xx response, or a negative SONO_E* code with the
 * failure classified in struct cloud_result:
 *   SONO_EAUTH     401 (wrong credentials, or an invalid or expired token)
 *   SONO_ESTATE    423 or 429 (locked or throttled; retry_after_s is set)
 *   SONO_ETLS      certificate or pin mismatch, or a failed TLS handshake
 *   SONO_EIO       cloud unreachable: resolve, connect, send or receive failed
 *   SONO_ETIMEOUT  connect timeout or the link stalled below the low-speed limit
 *   SONO_EPROTO    5xx, or a response that is not the expected JSON
 *   SONO_EINVAL    another 4xx: the cloud rejected the request
 *   SONO_ECLOSED   cancelled through the progress callback */
#ifndef STATION_CLOUD_CLIENT_H
#define STATION_CLOUD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sono/crypto.h"
#include "sono/tls.h"

#define CLOUD_URL_MAX 1024
#define CLOUD_MESSAGE_MAX 512
/* Largest JSON response accepted from the cloud. */
#define CLOUD_RESPONSE_MAX (1024 * 1024)

enum cloud_error_kind {
	CLOUD_OK,
	CLOUD_ERR_CREDENTIALS, /* 401 */
	CLOUD_ERR_LOCKED,      /* 423 or 429 */
	CLOUD_ERR_CERTIFICATE, /* certificate, pin or TLS handshake */
	CLOUD_ERR_UNREACHABLE, /* network: resolve, connect, timeouts, drops */
	CLOUD_ERR_SERVER,      /* 5xx */
	CLOUD_ERR_REJECTED,    /* other 4xx */
	CLOUD_ERR_PROTOCOL,    /* a 2xx response that is not the expected JSON */
	CLOUD_ERR_CANCELLED,   /* stopped by the caller */
	CLOUD_ERR_LOCAL,       /* out of memory or a libcurl setup failure */
};

/* The cloud's address and trust.  Exactly one of pin and ca_file is set. */
struct cloud_options {
	char url[CLOUD_URL_MAX];       /* https://HOST[:PORT], no path */
	char pin[TLS_FINGERPRINT_LEN]; /* "SHA256:<hex>" or "" */
	char ca_file[CLOUD_URL_MAX];   /* PEM CA bundle or "" */
	long connect_timeout_s;        /* TCP connect plus TLS handshake */
	/* Abort after this long below 1 byte/s.  libcurl (7.88, CURR_TIME in
	 * lib/urldata.h) averages the speed over its last 5 s, so a link that
	 * stalls right after a burst is cut about 6 s later than this. */
	long low_speed_time_s;
};

/* The outcome of one request.  message is safe to show on a terminal (it
 * has been through sanitize_text) and never contains the token. */
struct cloud_result {
	enum cloud_error_kind kind;
	long status;        /* HTTP status, 0 when no response arrived */
	long retry_after_s; /* Retry-After in seconds, -1 when absent */
	char error[64];     /* the "error" member of an error response */
	char message[CLOUD_MESSAGE_MAX];
};

/* Reads the next bytes of a streamed body into buf (at most len) and
 * returns how many, 0 at the end, or -1 on failure. */
typedef long (*cloud_read_fn)(void *arg, void *buf, size_t len);
/* Rewinds a streamed body to its start for a resend.  Returns 0 or -1. */
typedef int (*cloud_rewind_fn)(void *arg);
/* Reports bytes sent so far; a non-zero return cancels the request. */
typedef int (*cloud_progress_fn)(void *arg, uint64_t sent, uint64_t total);

struct cloud_body_stream {
	cloud_read_fn read;
	cloud_rewind_fn rewind;
	void *arg;
	uint64_t length;
	char sha256_hex[CRYPTO_SHA256_HEX_LEN];
};

struct cloud_client;

/* Initialises libcurl once for the process; later calls do nothing.
 * Returns 0 or SONO_EIO. */
int cloud_client_global_init(void);

/* Fills opt with url and trust empty and the default timeouts
 * (10 s connect, 30 s below the low-speed limit). */
void cloud_options_defaults(struct cloud_options *opt);

/* Checks opt: an https URL without path, query or credentials, and exactly
 * one of a valid pin or an existing CA file.  Returns 0 or SONO_EINVAL with
 * the reason in err. */
int cloud_options_check(const struct cloud_options *opt, char *err, size_t errlen);

/* Creates a client for opt (copied).  Returns 0, SONO_EINVAL (see
 * cloud_options_check) or SONO_ENOMEM.  Free with cloud_client_free(). */
int cloud_client_new(struct cloud_client **out, const struct cloud_options *opt,
	char *err, size_t errlen);

/* Wipes the token and frees c; accepts NULL. */
void cloud_client_free(struct cloud_client *c);

/* Sets the bearer token sent with later requests (copied; the old copy is
 * wiped).  NULL or "" sends none. */
int cloud_client_set_token(struct cloud_client *c, const char *token);

/* Sends method (GET, POST or DELETE) to /api/v1 + path with body (may be
 * NULL) as JSON.  On success *response (may be NULL to discard) gets the
 * parsed response, or NULL for an empty one; the caller releases it with
 * json_decref().  body is serialised into a buffer that is wiped after the
 * request, because it may carry a password or patient data. */
int cloud_client_json(struct cloud_client *c, const char *method, const char *path,
	const json_t *body, json_t **response, struct cloud_result *res);

/* PUTs a streamed octet-stream body to /api/v1 + path with its SHA-256 in
 * X-Content-SHA256.  The body is read through body->read and rewound with
 * body->rewind whenever libcurl must send it again.  progress (may be NULL)
 * is called as bytes go out.  *response as for cloud_client_json. */
int cloud_client_put(struct cloud_client *c, const char *path,
	const struct cloud_body_stream *body, cloud_progress_fn progress, void *progress_arg,
	json_t **response, struct cloud_result *res);

/* Returns a short English name of a kind, e.g. "unreachable". */
const char *cloud_error_kind_name(enum cloud_error_kind kind);

#endif
