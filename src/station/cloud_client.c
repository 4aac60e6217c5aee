/* The station's HTTPS client of the cloud API; see cloud_client.h for the
 * TLS policy and the error classes. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "sono/buf.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/cloud_client.h"

#define API_PREFIX "/api/v1"
/* "Authorization: Bearer " and a token of up to 200 characters. */
#define AUTH_HEADER_MAX 224

struct cloud_client {
	CURL *curl;
	struct cloud_options opt;
	char *token;
	struct sbuf response;
	char curl_error[CURL_ERROR_SIZE];
	char tls_error[CLOUD_MESSAGE_MAX]; /* filled when the handshake sends an alert */
	const struct cloud_body_stream *stream;
	cloud_progress_fn progress;
	void *progress_arg;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = SONO_EIO;
static int client_ctx_index = -1; /* SSL_CTX ex_data: the struct cloud_client */

static void global_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return;
	client_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (client_ctx_index >= 0)
		global_rc = SONO_OK;
}

int cloud_client_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	return global_rc;
}

void cloud_options_defaults(struct cloud_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->connect_timeout_s = 10;
	opt->low_speed_time_s = 30;
}

/* Accepts https://HOST[:PORT] with an optional trailing slash. */
static int check_url(const char *url, char *err, size_t errlen)
{
	const char *host = url + strlen("https://");
	size_t n;

	if (strncmp(url, "https://", 8) != 0 || host[0] == '\0') {
		snprintf(err, errlen, "invalid cloud URL '%.200s': expected https://HOST[:PORT]", url);
		return SONO_EINVAL;
	}
	n = strcspn(host, "/?#@ \t");
	if (host[n] == '\0' || (host[n] == '/' && host[n + 1] == '\0'))
		return 0;
	snprintf(err, errlen, "invalid cloud URL '%.200s': give only https://HOST[:PORT], without "
		"a path, query or user name", url);
	return SONO_EINVAL;
}

int cloud_options_check(const struct cloud_options *opt, char *err, size_t errlen)
{
	struct stat st;

	if (check_url(opt->url, err, errlen) < 0)
		return SONO_EINVAL;
	if ((opt->pin[0] != '\0') == (opt->ca_file[0] != '\0')) {
		snprintf(err, errlen, "set exactly one of a cloud pin (SHA256:<hex>) or a CA file "
			"to verify the cloud's certificate");
		return SONO_EINVAL;
	}
	if (opt->pin[0] && !tls_pin_valid(opt->pin)) {
		snprintf(err, errlen, "invalid cloud pin '%.100s': expected SHA256: and 64 hex digits",
			opt->pin);
		return SONO_EINVAL;
	}
	if (opt->ca_file[0] && (stat(opt->ca_file, &st) != 0 || !S_ISREG(st.st_mode))) {
		snprintf(err, errlen, "cloud CA file %.900s not found or not a regular file",
			opt->ca_file);
		return SONO_EINVAL;
	}
	if (opt->connect_timeout_s < 1 || opt->low_speed_time_s < 1) {
		snprintf(err, errlen, "cloud timeouts must be at least 1 second");
		return SONO_EINVAL;
	}
	return 0;
}

int cloud_client_new(struct cloud_client **out, const struct cloud_options *opt,
	char *err, size_t errlen)
{
	struct cloud_client *c;
	size_t n;

	*out = NULL;
	if (cloud_options_check(opt, err, errlen) < 0)
		return SONO_EINVAL;
	if (cloud_client_global_init() < 0) {
		snprintf(err, errlen, "libcurl could not be initialised");
		return SONO_EIO;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SONO_ENOMEM;
	c->opt = *opt;
	n = strlen(c->opt.url);
	if (n > 0 && c->opt.url[n - 1] == '/')
		c->opt.url[n - 1] = '\0';
	if (c->opt.pin[0])
		tls_pin_normalize(opt->pin, c->opt.pin);
	sbuf_init(&c->response, CLOUD_RESPONSE_MAX);
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		snprintf(err, errlen, "libcurl could not create a handle");
		return SONO_ENOMEM;
	}
	*out = c;
	return 0;
}

void cloud_client_free(struct cloud_client *c)
{
	if (c == NULL)
		return;
	cloud_client_set_token(c, NULL);
	curl_easy_cleanup(c->curl);
	sbuf_free_wipe(&c->response);
	free(c);
}

int cloud_client_set_token(struct cloud_client *c, const char *token)
{
	if (c->token != NULL) {
		crypto_wipe(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
	if (token == NULL || token[0] == '\0')
		return 0;
	c->token = strdup(token);
	return c->token ? 0 : SONO_ENOMEM;
}

const char *cloud_error_kind_name(enum cloud_error_kind kind)
{
	static const char *const names[] = {
		[CLOUD_OK] = "ok",
		[CLOUD_ERR_CREDENTIALS] = "wrong credentials",
		[CLOUD_ERR_LOCKED] = "locked",
		[CLOUD_ERR_CERTIFICATE] = "certificate mismatch",
		[CLOUD_ERR_UNREACHABLE] = "unreachable",
		[CLOUD_ERR_SERVER] = "server error",
		[CLOUD_ERR_REJECTED] = "rejected",
		[CLOUD_ERR_PROTOCOL] = "malformed response",
		[CLOUD_ERR_CANCELLED] = "cancelled",
		[CLOUD_ERR_LOCAL] = "local error",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

/* Records why certificate verification failed, at the moment the client
 * sends its alert: libcurl frees the SSL object before returning. */
static void tls_info_cb(const SSL *ssl, int where, int ret)
{
	struct cloud_client *c;

	(void)ret;
	if ((where & SSL_CB_WRITE_ALERT) == 0)
		return;
	c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), client_ctx_index);
	if (c != NULL && c->tls_error[0] == '\0')
		tls_verify_error((SSL *)ssl, c->tls_error, sizeof(c->tls_error));
}

/* Applies the project's TLS policy and, in pin mode, the pin check to the
 * context libcurl built for a new connection. */
static CURLcode ssl_ctx_cb(CURL *curl, void *sslctx, void *arg)
{
	struct cloud_client *c = arg;
	SSL_CTX *ctx = sslctx;

	(void)curl;
	if (tls_ctx_apply_policy(ctx) < 0)
		return CURLE_SSL_CIPHER;
	if (c->opt.pin[0] && tls_ctx_set_pin(ctx, c->opt.pin) < 0)
		return CURLE_SSL_CERTPROBLEM;
	SSL_CTX_set_ex_data(ctx, client_ctx_index, c);
	SSL_CTX_set_info_callback(ctx, tls_info_cb);
	return CURLE_OK;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct cloud_client *c = arg;
	size_t n = size * nmemb;

	if (sbuf_append(&c->response, data, n) < 0)
		return 0; /* libcurl fails the transfer with CURLE_WRITE_ERROR */
	return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct cloud_client *c = arg;
	long n = c->stream->read(c->stream->arg, buf, size * nitems);

	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

static int seek_cb(void *arg, curl_off_t offset, int origin)
{
	struct cloud_client *c = arg;

	if (offset != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	return c->stream->rewind(c->stream->arg) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

static int xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	curl_off_t ulnow)
{
	struct cloud_client *c = arg;

	(void)dltotal;
	(void)dlnow;
	if (c->progress == NULL)
		return 0;
	return c->progress(c->progress_arg, (uint64_t)ulnow, (uint64_t)ultotal);
}

/* Sets every option that does not depend on the request.  Called after
 * curl_easy_reset() before each request, so no request can run with weaker
 * verification than another.  Returns 0 or SONO_EIO. */
static int set_common_options(struct cloud_client *c, const char *path)
{
	char url[CLOUD_URL_MAX + 256];
	CURL *h = c->curl;
	CURLcode cc = CURLE_OK;

	snprintf(url, sizeof(url), "%s%s%s", c->opt.url, API_PREFIX, path);
	cc |= curl_easy_setopt(h, CURLOPT_URL, url);
	cc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	cc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cc |= curl_easy_setopt(h, CURLOPT_USERAGENT, "sonoterm/" PACKAGE_VERSION);
	cc |= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	cc |= curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, TLS_CIPHERS_12);
	cc |= curl_easy_setopt(h, CURLOPT_TLS13_CIPHERS, TLS_CIPHERSUITES_13);
	cc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	/* With a pin the certificate itself is the identity, so its names do not
	 * matter; with a CA file the host name must match. */
	cc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->opt.pin[0] ? 0L : 2L);
	if (c->opt.ca_file[0])
		cc |= curl_easy_setopt(h, CURLOPT_CAINFO, c->opt.ca_file);
	/* A resumed TLS session skips the verify callback, and with it the pin. */
	cc |= curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	cc |= curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	cc |= curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
	cc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->opt.connect_timeout_s);
	cc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->opt.low_speed_time_s);
	cc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	cc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	cc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
	return cc == CURLE_OK ? 0 : SONO_EIO;
}

/* Builds the header list: the fixed headers, then the bearer token. */
static struct curl_slist *build_headers(struct cloud_client *c, const char *const *fixed)
{
	struct curl_slist *list = NULL, *next;
	char auth[AUTH_HEADER_MAX];
	size_t i;

	for (i = 0; fixed[i] != NULL; i++) {
		next = curl_slist_append(list, fixed[i]);
		if (next == NULL)
			goto fail;
		list = next;
	}
	if (c->token == NULL)
		return list;
	if ((size_t)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token) >=
	    sizeof(auth)) {
		crypto_wipe(auth, sizeof(auth));
		goto fail;
	}
	next = curl_slist_append(list, auth);
	crypto_wipe(auth, sizeof(auth));
	if (next == NULL)
		goto fail;
	return next;

fail:
	curl_slist_free_all(list);
	return NULL;
}

/* Wipes every header (one carries the token) and frees the list.
 * NOTE: libcurl builds the request from these headers in buffers of its
 * own and frees them without wiping, so a copy of the token can stay in
 * freed heap memory until it is reused. */
static void free_headers(struct curl_slist *list)
{
	struct curl_slist *h;

	for (h = list; h != NULL; h = h->next)
		crypto_wipe(h->data, strlen(h->data));
	curl_slist_free_all(list);
}

static void result_reset(struct cloud_result *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
}

/* Classifies a transfer that ended without an HTTP response. */
static int classify_curl(struct cloud_client *c, CURLcode cc, struct cloud_result *res)
{
	const char *detail = c->curl_error[0] ? c->curl_error : curl_easy_strerror(cc);
	char text[CLOUD_MESSAGE_MAX + 128];
	int rc;

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		res->kind = CLOUD_ERR_CERTIFICATE;
		snprintf(text, sizeof(text), "the cloud's certificate was rejected: %s",
			c->tls_error[0] ? c->tls_error : detail);
		rc = SONO_ETLS;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		res->kind = CLOUD_ERR_UNREACHABLE;
		snprintf(text, sizeof(text), "the cloud timed out: %s", detail);
		rc = SONO_ETIMEOUT;
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		res->kind = CLOUD_ERR_CANCELLED;
		snprintf(text, sizeof(text), "the request was cancelled");
		rc = SONO_ECLOSED;
		break;
	case CURLE_WRITE_ERROR:
		res->kind = CLOUD_ERR_PROTOCOL;
		snprintf(text, sizeof(text), "the cloud's response exceeds %d bytes",
			CLOUD_RESPONSE_MAX);
		rc = SONO_EPROTO;
		break;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_READ_ERROR:
		res->kind = CLOUD_ERR_LOCAL;
		snprintf(text, sizeof(text), "the request could not be sent: %s", detail);
		rc = SONO_EIO;
		break;
	default:
		res->kind = CLOUD_ERR_UNREACHABLE;
		snprintf(text, sizeof(text), "the cloud is unreachable: %s", detail);
		rc = SONO_EIO;
		break;
	}
	sanitize_str(text, res->message, sizeof(res->message));
	return rc;
}

/* Copies the "error" and "message" members of an error response. */
static void copy_error_body(const json_t *body, struct cloud_result *res)
{
	const char *error = json_string_value(json_object_get(body, "error"));
	const char *message = json_string_value(json_object_get(body, "message"));

	if (error != NULL)
		sanitize_str(error, res->error, sizeof(res->error));
	if (message != NULL)
		sanitize_str(message, res->message, sizeof(res->message));
	else
		snprintf(res->message, sizeof(res->message), "the cloud responded with HTTP %ld",
			res->status);
}

/* Classifies an HTTP response that is not 2xx. */
static int classify_status(struct cloud_result *res)
{
	long s = res->status;

	if (s == 401) {
		res->kind = CLOUD_ERR_CREDENTIALS;
		return SONO_EAUTH;
	}
	if (s == 423 || s == 429) {
		res->kind = CLOUD_ERR_LOCKED;
		return SONO_ESTATE;
	}
	if (s >= 500) {
		res->kind = CLOUD_ERR_SERVER;
		return SONO_EPROTO;
	}
	res->kind = CLOUD_ERR_REJECTED;
	return SONO_EINVAL;
}

/* Turns a finished transfer into the result, the parsed response and the
 * return code. */
static int finish(struct cloud_client *c, CURLcode cc, json_t **response,
	struct cloud_result *res)
{
	curl_off_t retry_after = -1;
	json_t *body = NULL;
	int rc;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &res->status);
	/* A server that rejects a body it has not read (sonocloud's 401 and
	 * 413) may close the connection while the body is still being sent.
	 * The send or receive then fails, but the final reply read before it
	 * is what the server decided.  NOTE: a reset that arrives before
	 * libcurl has read the reply still counts as a network fault. */
	if ((cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR) && res->status >= 400) {
		LOG_DEBUG("the connection failed after an HTTP %ld reply (%s); using the reply",
			res->status, curl_easy_strerror(cc));
		cc = CURLE_OK;
	}
	if (cc != CURLE_OK) {
		res->status = 0;
		return classify_curl(c, cc, res);
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0)
		res->retry_after_s = retry_after > LONG_MAX ? LONG_MAX : (long)retry_after;
	if (c->response.len > 0)
		body = json_loadb((const char *)c->response.data, c->response.len,
			JSON_REJECT_DUPLICATES, NULL);
	if (res->status < 200 || res->status > 299) {
		copy_error_body(body, res);
		json_decref(body);
		return classify_status(res);
	}
	rc = 0;
	if (c->response.len > 0 && body == NULL) {
		res->kind = CLOUD_ERR_PROTOCOL;
		snprintf(res->message, sizeof(res->message), "the cloud's response is not valid JSON");
		rc = SONO_EPROTO;
	}
	if (response != NULL && rc == 0)
		*response = body;
	else
		json_decref(body);
	return rc;
}

/* Runs the prepared transfer and logs its outcome. */
static int perform(struct cloud_client *c, const char *method, const char *path,
	json_t **response, struct cloud_result *res)
{
	CURLcode cc;
	int rc;

	sbuf_reset(&c->response);
	c->tls_error[0] = '\0';
	c->curl_error[0] = '\0';
	cc = curl_easy_perform(c->curl);
	rc = finish(c, cc, response, res);
	if (rc < 0)
		LOG_INFO("%s %s failed (%s, HTTP %ld): %s", method, path,
			cloud_error_kind_name(res->kind), res->status, res->message);
	else
		LOG_DEBUG("%s %s: HTTP %ld", method, path, res->status);
	sbuf_free_wipe(&c->response);
	sbuf_init(&c->response, CLOUD_RESPONSE_MAX);
	return rc;
}

static int set_method(CURL *h, const char *method, const char *data, size_t len)
{
	CURLcode cc = CURLE_OK;

	if (strcmp(method, "GET") == 0)
		cc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") == 0 || data != NULL) {
		cc |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, data ? data : "");
		cc |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (strcmp(method, "POST") != 0)
			cc |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else
		cc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	return cc == CURLE_OK ? 0 : SONO_EIO;
}

int cloud_client_json(struct cloud_client *c, const char *method, const char *path,
	const json_t *body, json_t **response, struct cloud_result *res)
{
	static const char *const json_headers[] = {
		"Content-Type: application/json", "Accept: application/json", "Expect:", NULL,
	};
	static const char *const plain_headers[] = { "Accept: application/json", NULL };
	struct curl_slist *headers = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc;

	result_reset(res);
	if (response != NULL)
		*response = NULL;
	if (body != NULL) {
		data = json_dumps(body, JSON_COMPACT);
		if (data == NULL)
			return SONO_ENOMEM;
		len = strlen(data);
	}
	curl_easy_reset(c->curl);
	rc = set_common_options(c, path);
	if (rc == 0)
		rc = set_method(c->curl, method, data, len);
	headers = build_headers(c, body != NULL ? json_headers : plain_headers);
	if (headers == NULL || rc < 0 ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK) {
		res->kind = CLOUD_ERR_LOCAL;
		snprintf(res->message, sizeof(res->message), "the request could not be built");
		rc = SONO_ENOMEM;
		goto out;
	}
	rc = perform(c, method, path, response, res);

out:
	free_headers(headers);
	if (data != NULL) {
		crypto_wipe(data, len);
		free(data);
	}
	return rc;
}

int cloud_client_put(struct cloud_client *c, const char *path,
	const struct cloud_body_stream *body, cloud_progress_fn progress, void *progress_arg,
	json_t **response, struct cloud_result *res)
{
	char hash_header[32 + CRYPTO_SHA256_HEX_LEN];
	/* With 100-continue, a rejection (an expired or revoked session, a
	 * part over the limit) arrives before the part is sent, at the cost of
	 * one round trip per part.  sonocloud sends 100 Continue as soon as
	 * it has checked the head.  A server that ignores the expectation
	 * costs libcurl's wait (CURLOPT_EXPECT_100_TIMEOUT_MS, 1 s by default
	 * in libcurl 7.88) per part, after which the body is sent anyway. */
	const char *fixed[] = { "Content-Type: application/octet-stream",
		"Accept: application/json", "Expect: 100-continue", hash_header, NULL };
	struct curl_slist *headers = NULL;
	CURLcode cc = CURLE_OK;
	int rc;

	result_reset(res);
	if (response != NULL)
		*response = NULL;
	snprintf(hash_header, sizeof(hash_header), "X-Content-SHA256: %s", body->sha256_hex);
	c->stream = body;
	c->progress = progress;
	c->progress_arg = progress_arg;
	curl_easy_reset(c->curl);
	rc = set_common_options(c, path);
	cc |= curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	cc |= curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body->length);
	cc |= curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, read_cb);
	cc |= curl_easy_setopt(c->curl, CURLOPT_READDATA, c);
	cc |= curl_easy_setopt(c->curl, CURLOPT_SEEKFUNCTION, seek_cb);
	cc |= curl_easy_setopt(c->curl, CURLOPT_SEEKDATA, c);
	cc |= curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	cc |= curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	cc |= curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	headers = build_headers(c, fixed);
	if (headers == NULL || rc < 0 || cc != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK) {
		res->kind = CLOUD_ERR_LOCAL;
		snprintf(res->message, sizeof(res->message), "the request could not be built");
		rc = SONO_ENOMEM;
		goto out;
	}
	/* The body is read from its start on every attempt. */
	if (body->rewind(body->arg) < 0) {
		res->kind = CLOUD_ERR_LOCAL;
		snprintf(res->message, sizeof(res->message), "the part could not be read");
		rc = SONO_EIO;
		goto out;
	}
	rc = perform(c, "PUT", path, response, res);

out:
	free_headers(headers);
	c->stream = NULL;
	c->progress = NULL;
	return rc;
}
