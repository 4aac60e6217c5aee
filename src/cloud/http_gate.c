/* The gate between a connection's TLS input and evhttp.
 *
 * libevent 2.1.12 passes a request to the server only once evhttp has read
 * its whole body, because an incoming request has no header callback (that
 * needs evhttp_set_newreqcb of 2.2).  evhttp also replies to the requests
 * it cannot parse with HTML pages of its own.  The gate therefore watches the TLS
 * bufferevent's input buffer through an evbuffer callback, which runs as
 * soon as OpenSSL adds decrypted bytes and before evhttp's read callback.
 * It moves every new byte to its own buffer (held) and gives evhttp only
 * what it accepted:
 *
 *   GATE_HEAD  -> parse the head in held (http_head.c) and decide:
 *                 accept: give evhttp the head      -> GATE_BODY or GATE_REPLY
 *                 check:  ask a storage thread      -> GATE_CHECK
 *                 reject: give evhttp a stand-in    -> GATE_CLOSE
 *   GATE_CHECK -> the check accepts or rejects as above
 *   GATE_BODY  -> give evhttp Content-Length bytes  -> GATE_REPLY
 *   GATE_REPLY -> hold later bytes until the reply is sent -> GATE_HEAD
 *   GATE_CLOSE -> drop every later byte until the reply is sent; then
 *                 close, or linger when the client may be sending a body
 *                                                   -> GATE_DRAIN
 *   GATE_DRAIN -> discard the body, then close (a lingering close)
 *
 * A rejected request reaches evhttp as a bodyless stand-in request line,
 * and http_dispatch replies to it with the rejection (JSON and the
 * security headers) instead of running the handler.  Invariants: evhttp
 * has at most one request of a connection at a time.  Outside GATE_BODY,
 * evhttp's input buffer contains no byte the gate has not accepted, and in
 * GATE_BODY, held is empty.  Everything here runs on the connection's event loop except
 * http_gate_check_run, which touches only its job. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "cloud/http_head.h"
#include "cloud/http_internal.h"

/* How long a lingering close may last.  A client that writes its body
 * right after the head, without waiting for 100 Continue, reads no reply
 * until its writes complete.  Closing with its body unread makes the kernel
 * send a reset, which can destroy the reply before the client reads it.  Discarding the body lets such a client finish writing and read the
 * reply.  Five seconds cover the few MiB that socket buffers hold between
 * the client and the server at LAN speeds, and keep one client from
 * holding a connection for long; a client on a slower link that reads
 * while it writes (libcurl does) still gets the reply.  The byte cap is
 * the server's body limit: discarding a rejected body costs no more than
 * reading an accepted one. */
#define GATE_LINGER_SECONDS 5

/* A storage check of one request head, owned by the pool while it runs and
 * by the event loop afterwards. */
struct http_gate_check {
	struct http_conn *conn;        /* NULL once the connection is gone */
	struct http_worker *worker;
	struct cloud_request_head head;
	char *path;
	char *authorization;           /* a bearer token: wiped when freed */
	const char *label;
	struct cloud_rejection rejection;
};

static void gate_check_free(struct http_gate_check *k)
{
	if (k->authorization != NULL) {
		crypto_wipe(k->authorization, strlen(k->authorization));
		free(k->authorization);
	}
	free(k->path);
	free(k);
}

static struct evbuffer *gate_input(struct http_conn *c)
{
	return bufferevent_get_input(c->bev);
}

static void gate_pause(struct http_conn *c)
{
	if (c->paused)
		return;
	bufferevent_disable(c->bev, EV_READ);
	c->paused = 1;
}

static void gate_unpause(struct http_conn *c)
{
	if (!c->paused)
		return;
	c->paused = 0;
	bufferevent_enable(c->bev, EV_READ);
}

/* Gives evhttp up to body_left bytes of the held body. */
static size_t gate_grant_body(struct http_conn *c)
{
	size_t n = evbuffer_get_length(c->held);

	if (n > c->body_left)
		n = (size_t)c->body_left;
	if (n > 0)
		evbuffer_remove_buffer(c->held, gate_input(c), n);
	c->body_left -= n;
	if (c->body_left == 0)
		c->gate = GATE_REPLY;
	return n;
}

/* Gives evhttp the held head of head_length bytes and then its body. */
static size_t gate_accept(struct http_conn *c)
{
	evbuffer_remove_buffer(c->held, gate_input(c), c->head_length);
	c->body_left = c->content_length;
	c->gate = GATE_BODY;
	return c->head_length + gate_grant_body(c);
}

/* Returns the body bytes of the rejected request that the client may still
 * send: up to the declared length or the server's body limit, less what is
 * already held.  Returns 0 when the client waits for 100 Continue, because
 * a final reply means it must not send the body.  Also returns 0 when the
 * head gave no usable length (c->content_length is 0 then). */
static uint64_t gate_discard_budget(const struct http_conn *c)
{
	uint64_t cap = c->worker->server->opt.max_body_bytes;
	uint64_t length = c->content_length < cap ? c->content_length : cap;
	size_t held = evbuffer_get_length(c->held);
	size_t body_held = held > c->head_length ? held - c->head_length : 0;

	if (c->expect_continue || length <= body_held)
		return 0;
	return length - body_held;
}

/* Discards the held bytes and counts them against discard_left.  In
 * GATE_DRAIN, the connection closes once the whole budget is read. */
static void gate_discard_held(struct http_conn *c)
{
	const struct timeval now = { 0, 0 };
	size_t n = evbuffer_get_length(c->held);

	evbuffer_drain(c->held, n);
	c->discard_left -= n < c->discard_left ? n : c->discard_left;
	if (c->gate == GATE_DRAIN && c->discard_left == 0)
		evtimer_add(c->deadline, &now);
}

/* Drops the held bytes and gives evhttp a bodyless stand-in request, to
 * which http_dispatch sends f as the reply.  The stand-in keeps HEAD (so
 * the reply has no body) and the HTTP minor version.  c->head_length,
 * c->content_length and c->expect_continue describe the rejected head.
 * Returns the bytes given. */
static size_t gate_reject(struct http_conn *c, const struct cloud_rejection *f, int head_method,
	int minor_version)
{
	int added;

	c->rejection = *f;
	c->gate = GATE_CLOSE;
	c->discard_left = gate_discard_budget(c);
	gate_discard_held(c);
	gate_pause(c);
	added = evbuffer_add_printf(gate_input(c), "%s / HTTP/1.%d\r\n\r\n",
		head_method ? "HEAD" : "GET", minor_version);
	return added > 0 ? (size_t)added : 0;
}

/* Queues the storage check of head.  Returns 0 or -1 after filling f. */
static int gate_start_check(struct http_conn *c, const struct http_head *head,
	const char *label, struct cloud_rejection *f)
{
	struct http_gate_check *k = calloc(1, sizeof(*k));
	int rc = SONO_ENOMEM;

	if (k != NULL) {
		k->conn = c;
		k->worker = c->worker;
		k->label = label;
		k->path = head->path ? strdup(head->path) : NULL;
		k->authorization = head->authorization ? strdup(head->authorization) : NULL;
		k->head.method = head->method;
		k->head.path = k->path;
		k->head.authorization = k->authorization;
		k->head.content_length = head->content_length;
		if ((head->path == NULL || k->path != NULL) &&
		    (head->authorization == NULL || k->authorization != NULL))
			rc = http_slow_queue_check(c->worker->server, k);
	}
	if (rc < 0) {
		if (k != NULL)
			gate_check_free(k);
		cloud_rejection_set(f, 503, "busy", "The server is busy; try again in a few seconds.");
		f->header_name = "Retry-After";
		snprintf(f->header_value, sizeof(f->header_value), "5");
		return -1;
	}
	c->check = k;
	c->gate = GATE_CHECK;
	gate_pause(c);
	return 0;
}

/* Applies the server's limit and its head_check to a parsed head.
 * Returns the decision, with f filled for CLOUD_HEAD_REJECT. */
static enum cloud_head_decision gate_decide(struct http_conn *c, const struct http_head *head,
	struct cloud_rejection *f)
{
	const struct cloud_http_options *opt = &c->worker->server->opt;
	struct cloud_request_head view = {
		.method = head->method,
		.path = head->path,
		.authorization = head->authorization,
		.content_length = head->content_length,
	};
	char message[sizeof(f->message)];

	if (head->content_length > opt->max_body_bytes) {
		snprintf(message, sizeof(message), "The body is larger than the server's limit of "
			"%zu bytes.", opt->max_body_bytes);
		cloud_rejection_set(f, 413, "too_large", message);
		return CLOUD_HEAD_REJECT;
	}
	if (opt->head_check != NULL)
		return opt->head_check(&view, opt->max_body_bytes, f, opt->head_arg);
	if (head->method == CLOUD_METHOD_OTHER) {
		cloud_rejection_set(f, 501, "not_implemented", "The server does not support this method.");
		return CLOUD_HEAD_REJECT;
	}
	return CLOUD_HEAD_ACCEPT;
}

/* Parses the held head once it is complete and acts on the decision.
 * Returns the bytes given to evhttp. */
static size_t gate_read_head(struct http_conn *c)
{
	size_t max = c->worker->server->opt.max_header_bytes;
	size_t len = evbuffer_get_length(c->held);
	size_t n = len < max ? len : max;
	const char *data = n ? (const char *)evbuffer_pullup(c->held, (ev_ssize_t)n) : NULL;
	enum cloud_head_decision decision;
	struct cloud_rejection f;
	struct http_head head;
	size_t given = 0;
	int rc;

	if (data == NULL)
		return 0;
	rc = http_head_parse(data, n, max, &head, &f);
	if (rc == 0)
		return 0;
	c->head_length = rc > 0 ? head.length : 0;
	c->content_length = rc > 0 ? head.content_length : 0;
	c->expect_continue = rc > 0 ? head.expect_continue : 0;
	if (rc < 0)
		return gate_reject(c, &f, 0, 1);

	decision = gate_decide(c, &head, &f);
	if (decision == CLOUD_HEAD_CHECK_STORAGE && gate_start_check(c, &head, f.label, &f) < 0)
		decision = CLOUD_HEAD_REJECT;
	if (decision == CLOUD_HEAD_ACCEPT) {
		given = gate_accept(c);
	} else if (decision == CLOUD_HEAD_REJECT) {
		given = gate_reject(c, &f, head.method == CLOUD_METHOD_HEAD, head.minor_version);
	}
	http_head_clear(&head);
	return given;
}

/* Moves the request forward with the held bytes.  Returns the bytes given
 * to evhttp. */
static size_t gate_advance(struct http_conn *c)
{
	switch (c->gate) {
	case GATE_HEAD:
		return gate_read_head(c);
	case GATE_BODY:
		return gate_grant_body(c);
	case GATE_CLOSE:
	case GATE_DRAIN:
		gate_discard_held(c);
		return 0;
	case GATE_CHECK:
	case GATE_REPLY:
		break;
	}
	return 0;
}

/* Runs the gate outside evhttp's read path and, when it gave evhttp bytes,
 * runs evhttp's read callback, which no socket event would run now. */
static void gate_run(struct http_conn *c)
{
	size_t given;

	c->moving = 1;
	given = gate_advance(c);
	c->moving = 0;
	if (given > 0)
		bufferevent_trigger(c->bev, EV_READ, 0);
}

/* Moves the n newest bytes of input, which OpenSSL just added, to held.
 * The bytes before them were given to evhttp earlier and stay in input. */
static void gate_hold_new(struct http_conn *c, struct evbuffer *input, size_t n)
{
	size_t len = evbuffer_get_length(input);
	size_t earlier = n < len ? len - n : 0;

	if (earlier > 0)
		evbuffer_remove_buffer(input, c->spare, earlier);
	evbuffer_add_buffer(c->held, input);
	if (earlier > 0)
		evbuffer_add_buffer(input, c->spare);
}

/* The input buffer's callback: runs on every change, so it ignores the
 * changes evhttp and the gate itself make. */
static void gate_input_cb(struct evbuffer *input, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *c = arg;

	if (c->moving || info->n_added == 0)
		return;
	c->moving = 1;
	if (c->gate == GATE_BODY && info->n_added <= c->body_left) {
		/* The common case: body bytes evhttp may have as they are. */
		c->body_left -= info->n_added;
		if (c->body_left == 0)
			c->gate = GATE_REPLY;
	} else {
		gate_hold_new(c, input, info->n_added);
		/* Inside OpenSSL's read, so evhttp's read callback runs next anyway. */
		gate_advance(c);
	}
	c->moving = 0;
}

static void gate_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	gate_run(arg);
}

int http_gate_init(struct http_conn *c, struct event_base *base)
{
	c->gate = GATE_HEAD;
	c->held = evbuffer_new();
	c->spare = evbuffer_new();
	c->resume = evtimer_new(base, gate_resume_cb, c);
	if (c->held == NULL || c->spare == NULL || c->resume == NULL)
		return SONO_ENOMEM;
	c->input_cb = evbuffer_add_cb(gate_input(c), gate_input_cb, c);
	return c->input_cb ? 0 : SONO_ENOMEM;
}

void http_gate_free(struct http_conn *c)
{
	if (c->check != NULL)
		c->check->conn = NULL;
	if (c->input_cb != NULL && c->bev != NULL)
		evbuffer_remove_cb_entry(gate_input(c), c->input_cb);
	if (c->resume != NULL)
		event_free(c->resume);
	if (c->held != NULL)
		evbuffer_free(c->held);
	if (c->spare != NULL)
		evbuffer_free(c->spare);
}

void http_gate_resume(struct http_conn *c)
{
	const struct timeval now = { 0, 0 };

	if (c->gate != GATE_REPLY)
		return;
	c->gate = GATE_HEAD;
	/* evhttp starts reading the next request only after this callback
	 * returns, so the held bytes go to it from the next loop pass. */
	evtimer_add(c->resume, &now);
}

void http_gate_wake(struct http_conn *c)
{
	gate_unpause(c);
}

void http_gate_linger(struct http_conn *c, struct evhttp_request *req)
{
	const struct timeval cap = { GATE_LINGER_SECONDS, 0 };

	if (c->gate != GATE_CLOSE || c->discard_left == 0)
		return;

	/* evhttp 2.1.12 decides whether to close after this callback, from
	 * the Connection headers of the request and its reply.  The reply has
	 * already gone out with "Connection: close".  Removing that header
	 * here keeps the connection open for the drain, because evhttp then
	 * waits for a next request that the gate never passes on.  Keep-alive
	 * on the stand-in request does the same for HTTP/1.0. */
	evhttp_remove_header(evhttp_request_get_output_headers(req), "Connection");
	evhttp_add_header(evhttp_request_get_input_headers(req), "Connection", "keep-alive");
	c->evcon = evhttp_request_get_connection(req);
	c->gate = GATE_DRAIN;
	gate_unpause(c);
	evtimer_add(c->deadline, &cap);
}

int http_gate_end_linger(struct http_conn *c)
{
	if (c->gate != GATE_DRAIN || c->evcon == NULL)
		return 0;
	if (c->discard_left > 0)
		LOG_DEBUG("closing a connection after %d s of discarding a rejected body, "
			"%llu bytes unread", GATE_LINGER_SECONDS,
			(unsigned long long)c->discard_left);
	/* Frees c with the connection's SSL. */
	evhttp_connection_free(c->evcon);
	return 1;
}

/* Back on the event loop: applies the result of the storage check. */
static void gate_check_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_gate_check *k = arg;
	struct http_conn *c = k->conn;
	size_t given;

	if (c != NULL)
		c->check = NULL;
	/* evhttp has freed the connection and only its SSL is left to free:
	 * nothing is read or sent on it any more. */
	if (c != NULL && !c->closed) {
		c->moving = 1;
		if (k->rejection.status != 0) {
			if (k->rejection.label == NULL)
				k->rejection.label = k->label;
			given = gate_reject(c, &k->rejection, k->head.method == CLOUD_METHOD_HEAD, 1);
		} else {
			/* Reading resumes before evhttp runs: evhttp turns it off
			 * again itself once it has the whole request. */
			gate_unpause(c);
			given = gate_accept(c);
		}
		c->moving = 0;
		if (given > 0)
			bufferevent_trigger(c->bev, EV_READ, 0);
	}
	gate_check_free(k);
}

/* Hands k back to its event loop.  If that fails (out of memory), k is
 * left to the connection, which the request deadline closes. */
static void gate_check_finish(struct http_gate_check *k)
{
	const struct timeval now = { 0, 0 };

	if (event_base_once(k->worker->base, -1, EV_TIMEOUT, gate_check_done_cb, k, &now) < 0)
		LOG_ERROR("cannot return a checked request head to its event loop; the "
			"connection waits for its deadline");
}

void http_gate_check_run(struct http_gate_check *k)
{
	const struct cloud_http_options *opt = &k->worker->server->opt;

	if (opt->head_work != NULL)
		opt->head_work(&k->head, &k->rejection, opt->head_arg);
	gate_check_finish(k);
}

void http_gate_check_cancel(struct http_gate_check *k)
{
	cloud_rejection_set(&k->rejection, 503, "unavailable", "The server is shutting down.");
	gate_check_finish(k);
}
