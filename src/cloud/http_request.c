/* The request side of the HTTP core: turning an evhttp request into a
 * cloud_request, the accessors handlers use, and sending the response with
 * the security headers that every response carries. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "cloud/http_head.h"
#include "cloud/http_internal.h"

/* Client errors (4xx) logged per second at most; the rest are counted and
 * the count is logged once the next second starts, so a client that
 * repeats a bad request cannot flood the log.  Server errors are always
 * logged. */
#define HTTP_CLIENT_ERRORS_LOGGED_PER_SECOND 50

static pthread_mutex_t error_log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t error_log_second;
static unsigned error_log_count, error_log_dropped;

#define CSP_API "default-src 'none'; frame-ancestors 'none'"
#define CSP_PAGE "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"

/* Parses URL-encoded key=value pairs into a new list, or returns NULL. */
static struct evkeyvalq *http_parse_pairs(const char *raw)
{
	struct evkeyvalq *pairs = calloc(1, sizeof(*pairs));

	if (pairs == NULL)
		return NULL;
	TAILQ_INIT(pairs);
	if (evhttp_parse_query_str(raw, pairs) < 0) {
		evhttp_clear_headers(pairs);
		free(pairs);
		return NULL;
	}
	return pairs;
}

static void http_parse_query(struct cloud_request *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *raw = uri ? evhttp_uri_get_query(uri) : NULL;

	if (raw != NULL)
		r->query = http_parse_pairs(raw);
}

static void http_free_form(struct evkeyvalq *form)
{
	struct evkeyval *kv;

	if (form == NULL)
		return;
	TAILQ_FOREACH(kv, form, next)
		crypto_wipe(kv->value, strlen(kv->value));
	evhttp_clear_headers(form);
	free(form);
}

static void http_fill_peer(struct cloud_request *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	char *address = NULL;
	ev_uint16_t port = 0;

	snprintf(r->peer, sizeof(r->peer), "unknown");
	if (evcon == NULL)
		return;
	evhttp_connection_get_peer(evcon, &address, &port);
	if (address != NULL)
		snprintf(r->peer, sizeof(r->peer), "%s", address);
}

static void http_add_security_headers(struct evkeyvalq *out, const char *content_type)
{
	int page = content_type != NULL && strncmp(content_type, "text/html", 9) == 0;

	evhttp_add_header(out, "Strict-Transport-Security", "max-age=63072000");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Content-Security-Policy", page ? CSP_PAGE : CSP_API);
}

/* Replies to req with an empty 500 when no cloud_request can be allocated.
 * evhttp_send_error would send an HTML page without the security headers. */
static void http_send_out_of_memory(struct evhttp_request *req)
{
	LOG_ERROR("out of memory for a request; answering 500");
	http_add_security_headers(evhttp_request_get_output_headers(req), NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	evhttp_send_reply(req, 500, "Internal Server Error", NULL);
}

void http_dispatch(struct evhttp_request *req, void *arg)
{
	struct http_worker *w = arg;
	struct http_conn *c = http_conn_of(req);
	struct cloud_request *r;

	/* The request is complete; its deadline restarts after the reply. */
	if (c != NULL) {
		http_conn_watch(c, evhttp_request_get_connection(req));
		evtimer_del(c->deadline);
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->body = evbuffer_new()) == NULL) {
		free(r);
		http_send_out_of_memory(req);
		return;
	}
	r->req = req;
	r->worker = w;
	r->label = "request";
	http_fill_peer(r);

	/* A request the gate rejected is a stand-in for the real one. */
	if (c != NULL && c->rejection.status != 0) {
		if (c->rejection.label != NULL)
			r->label = c->rejection.label;
		cloud_reply_rejection(r, &c->rejection);
		c->rejection.status = 0;
		http_send(r);
		return;
	}
	r->path = http_head_decode_path(evhttp_request_get_evhttp_uri(req));
	http_parse_query(r);

	w->server->handler(r, w->server->handler_arg);
	if (!r->deferred)
		http_send(r);
}

void http_request_free(struct cloud_request *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->header_count; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	if (r->query != NULL) {
		evhttp_clear_headers(r->query);
		free(r->query);
	}
	http_free_form(r->form);
	if (r->body != NULL)
		evbuffer_free(r->body);
	free(r->content_type);
	free(r->path);
	free(r);
}

static void http_on_complete(struct evhttp_request *req, void *arg)
{
	http_conn_arm(arg);
	http_gate_resume(arg);
	http_gate_linger(arg, req);
}

void http_send(struct cloud_request *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct http_conn *c = http_conn_of(r->req);
	size_t i;

	if (r->status == 0)
		cloud_reply_error(r, 500, "internal_error", "The server produced no response.");
	http_add_security_headers(out, r->content_type);
	if (r->content_type != NULL)
		evhttp_add_header(out, "Content-Type", r->content_type);
	for (i = 0; i < r->header_count; i++)
		evhttp_add_header(out, r->headers[i].name, r->headers[i].value);
	/* After a rejection the rest of the stream is unread and cannot be
	 * framed, so the connection ends with the reply, or after the
	 * lingering close that discards the rejected body (http_gate_linger). */
	if (c != NULL && c->gate == GATE_CLOSE)
		evhttp_add_header(out, "Connection", "close");
	if (c != NULL)
		evhttp_request_set_on_complete_cb(r->req, http_on_complete, c);
	evhttp_send_reply(r->req, r->status, NULL, r->body);
	http_request_free(r);
}

enum cloud_method cloud_request_method(const struct cloud_request *r)
{
	switch (evhttp_request_get_command(r->req)) {
	case EVHTTP_REQ_GET:
		return CLOUD_METHOD_GET;
	case EVHTTP_REQ_HEAD:
		return CLOUD_METHOD_HEAD;
	case EVHTTP_REQ_POST:
		return CLOUD_METHOD_POST;
	case EVHTTP_REQ_PUT:
		return CLOUD_METHOD_PUT;
	case EVHTTP_REQ_DELETE:
		return CLOUD_METHOD_DELETE;
	default:
		return CLOUD_METHOD_OTHER;
	}
}

const char *cloud_request_path(const struct cloud_request *r)
{
	return r->path;
}

const char *cloud_request_query(const struct cloud_request *r, const char *key)
{
	return r->query ? evhttp_find_header(r->query, key) : NULL;
}

const char *cloud_request_form(struct cloud_request *r, const char *key)
{
	const uint8_t *data;
	char *text;
	size_t len;

	if (r->form == NULL) {
		if (cloud_request_body(r, &data, &len) < 0 || memchr(data, '\0', len) != NULL)
			return NULL;
		text = malloc(len + 1);
		if (text == NULL)
			return NULL;
		memcpy(text, data, len);
		text[len] = '\0';
		r->form = http_parse_pairs(text);
		crypto_wipe(text, len);
		free(text);
		cloud_request_wipe_body(r);
	}
	return r->form ? evhttp_find_header(r->form, key) : NULL;
}

const char *cloud_request_header(const struct cloud_request *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

int cloud_request_body(struct cloud_request *r, const uint8_t **data, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	static const uint8_t empty[1];

	*len = evbuffer_get_length(in);
	if (*len == 0) {
		*data = empty;
		return 0;
	}
	*data = evbuffer_pullup(in, -1);
	return *data ? 0 : SONO_ENOMEM;
}

void cloud_request_wipe_body(struct cloud_request *r)
{
	const uint8_t *data;
	size_t len;

	if (cloud_request_body(r, &data, &len) == 0 && len > 0)
		crypto_wipe((void *)data, len);
}

const char *cloud_request_peer(const struct cloud_request *r)
{
	return r->peer;
}

void cloud_request_set_data(struct cloud_request *r, void *data)
{
	r->data = data;
}

void *cloud_request_data(const struct cloud_request *r)
{
	return r->data;
}

void cloud_request_set_label(struct cloud_request *r, const char *label)
{
	r->label = label;
}

int cloud_reply_status(const struct cloud_request *r)
{
	return r->status;
}

void cloud_reply(struct cloud_request *r, int status, const char *content_type,
	const void *body, size_t len)
{
	r->status = status;
	free(r->content_type);
	r->content_type = content_type ? strdup(content_type) : NULL;
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	if (len > 0 && evbuffer_add(r->body, body, len) < 0) {
		LOG_ERROR("%s: out of memory for a %zu-byte response", r->label, len);
		r->status = 500;
		evbuffer_drain(r->body, evbuffer_get_length(r->body));
	}
}

void cloud_reply_json(struct cloud_request *r, int status, const json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);

	if (text == NULL) {
		cloud_reply_error(r, 500, "internal_error", "The response could not be encoded.");
		return;
	}
	cloud_reply(r, status, "application/json", text, strlen(text));
	free(text);
}

/* Returns 1 when one more client error may be logged this second. */
static int http_client_error_log_allowed(void)
{
	time_t now = time(NULL);
	unsigned dropped = 0;
	int allowed;

	pthread_mutex_lock(&error_log_lock);
	if (now != error_log_second) {
		dropped = error_log_dropped;
		error_log_second = now;
		error_log_count = 0;
		error_log_dropped = 0;
	}
	allowed = error_log_count < HTTP_CLIENT_ERRORS_LOGGED_PER_SECOND;
	if (allowed)
		error_log_count++;
	else
		error_log_dropped++;
	pthread_mutex_unlock(&error_log_lock);
	if (dropped > 0)
		LOG_NOTICE("%u client errors were not logged because more than %d arrived "
			"within one second", dropped, HTTP_CLIENT_ERRORS_LOGGED_PER_SECOND);
	return allowed;
}

void cloud_reply_error(struct cloud_request *r, int status, const char *error,
	const char *message)
{
	json_t *body = json_pack("{s:s, s:s}", "error", error, "message", message);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	if (status >= 500)
		LOG_ERROR("%s from %s: %d %s: %s", r->label, r->peer, status, error, message);
	else if (http_client_error_log_allowed())
		LOG_NOTICE("%s from %s: %d %s: %s", r->label, r->peer, status, error, message);
	if (text != NULL)
		cloud_reply(r, status, "application/json", text, strlen(text));
	else
		cloud_reply(r, status, NULL, NULL, 0);
	free(text);
	json_decref(body);
}

void cloud_reply_rejection(struct cloud_request *r, const struct cloud_rejection *f)
{
	if (f->header_name != NULL)
		cloud_reply_header(r, f->header_name, f->header_value);
	cloud_reply_error(r, f->status, f->error, f->message);
}

void cloud_reply_header(struct cloud_request *r, const char *name, const char *value)
{
	struct http_header *hd;

	if (r->header_count == HTTP_EXTRA_HEADERS_MAX) {
		LOG_WARN("%s: more than %d extra response headers; dropping %s", r->label,
			HTTP_EXTRA_HEADERS_MAX, name);
		return;
	}
	hd = &r->headers[r->header_count];
	hd->name = strdup(name);
	hd->value = strdup(value);
	if (hd->name == NULL || hd->value == NULL) {
		free(hd->name);
		free(hd->value);
		return;
	}
	r->header_count++;
}
