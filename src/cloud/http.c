/* HTTPS server core: listening socket, worker event loops, TLS bufferevents,
 * request limits and the response path.  Deferred work lives in
 * http_slow.c; see http.h for the threading model. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "sono/error.h"
#include "sono/log.h"
#include "cloud/http_internal.h"

#define HTTP_ALLOWED_METHODS \
	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE)

static int ssl_conn_index = -1;
static pthread_once_t ssl_index_once = PTHREAD_ONCE_INIT;

void cloud_http_default_options(struct cloud_http_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->host = "127.0.0.1";
	opt->port = 8443;
	opt->workers = 4;
	opt->slow_threads = 2;
	opt->storage_threads = 4;
	opt->slow_queue_max = 256;
	opt->max_header_bytes = 8 * 1024;
	opt->max_body_bytes = 16 * 1024 * 1024 + 64 * 1024;
	opt->request_timeout_s = 30;
	opt->max_connections = 1000;
}

/* Frees a connection's deadline when OpenSSL frees its SSL, which is the
 * only notice the server gets that evhttp dropped a connection. */
static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
	long argl, void *argp)
{
	struct http_conn *c = ptr;

	if (c == NULL)
		return;
	atomic_fetch_sub(&c->worker->server->connections, 1);
	if (c->deadline != NULL)
		event_free(c->deadline);
	http_gate_free(c);
	free(c);
}

static void ssl_index_init(void)
{
	ssl_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
}

/* Ends a lingering close (http_gate_end_linger), or cuts off a connection
 * whose request (or TLS handshake) did not arrive within the request
 * timeout.  Shutting the socket down makes the next read
 * return end-of-file, so evhttp closes the connection through its own path. */
static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	evutil_socket_t sock;
	char peer[HTTP_PEER_MAX];

	if (c->closed)
		return;
	sock = bufferevent_getfd(c->bev);
	if (sock < 0 || http_gate_end_linger(c))
		return;
	http_peer_name(sock, peer, sizeof(peer));
	if (c->over_limit)
		LOG_DEBUG("closing a connection from %s: %d connections are open", peer,
			c->worker->server->opt.max_connections);
	else
		LOG_INFO("request from %s not complete within %d s, closing the connection",
			peer, c->worker->server->opt.request_timeout_s);
	shutdown(sock, SHUT_RDWR);
	http_gate_wake(c);
}

/* evhttp frees a connection (on end of file, an error or a close after
 * the reply) before the bufferevent's deferred finalizer frees the SSL and
 * with it c (conn_free_cb).  A deadline or resume timer that fires in
 * between must not touch the freed evhttp connection, or shut down a
 * socket number that may already belong to another connection. */
static void conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *c = arg;

	(void)evcon;
	c->closed = 1;
	c->evcon = NULL;
	evtimer_del(c->deadline);
	if (c->resume != NULL)
		evtimer_del(c->resume);
}

void http_conn_watch(struct http_conn *c, struct evhttp_connection *evcon)
{
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, conn_closed_cb, c);
}

void http_conn_arm(struct http_conn *c)
{
	struct timeval tv = { c->worker->server->opt.request_timeout_s, 0 };

	evtimer_add(c->deadline, &tv);
}

struct http_conn *http_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	SSL *ssl;

	if (evcon == NULL)
		return NULL;
	bev = evhttp_connection_get_bufferevent(evcon);
	ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	return ssl ? SSL_get_ex_data(ssl, ssl_conn_index) : NULL;
}

/* Counts a new connection and starts its deadline.  Past max_connections
 * the deadline is zero, so the connection is closed as soon as evhttp has
 * attached its socket, and the first one of a burst is logged. */
static void http_conn_admit(struct http_conn *c)
{
	struct cloud_http *h = c->worker->server;
	const struct timeval now = { 0, 0 };
	int open = atomic_fetch_add(&h->connections, 1) + 1;

	if (open <= h->opt.max_connections) {
		http_conn_arm(c);
		return;
	}
	if (open == h->opt.max_connections + 1)
		LOG_WARN("%d connections are open, the configured maximum; closing new ones "
			"until some end", h->opt.max_connections);
	c->over_limit = 1;
	evtimer_add(c->deadline, &now);
}

/* Creates the TLS bufferevent for each accepted connection.  evhttp falls
 * back to a plain-text bufferevent when this returns NULL, so a failure here
 * aborts the process instead: serving HTTP without TLS is never acceptable,
 * and failing to allocate a few hundred bytes leaves nothing sensible to do. */
static struct bufferevent *http_bevcb(struct event_base *base, void *arg)
{
	struct http_worker *w = arg;
	struct http_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = SSL_new(w->server->opt.ssl_ctx);
	struct bufferevent *bev = NULL;

	if (c == NULL || ssl == NULL)
		goto fail;
	c->worker = w;
	c->deadline = evtimer_new(base, conn_deadline_cb, c);
	if (c->deadline == NULL || !SSL_set_ex_data(ssl, ssl_conn_index, c))
		goto fail;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		goto fail;
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->bev = bev;
	if (http_gate_init(c, base) < 0)
		goto fail;
	http_conn_admit(c);
	return bev;

fail:
	LOG_ERROR("cannot set up TLS for an accepted connection (out of memory); stopping");
	abort();
}

/* Serves one worker's event loop until cloud_http_stop breaks it. */
static void *http_worker_main(void *arg)
{
	struct http_worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

static int http_worker_init(struct http_worker *w, struct cloud_http *h, int listen_fd,
	char *err, size_t errlen)
{
	const struct cloud_http_options *opt = &h->opt;
	int fd = -1;

	w->server = h;
	w->base = event_base_new();
	w->http = w->base ? evhttp_new(w->base) : NULL;
	if (w->http == NULL) {
		snprintf(err, errlen, "cannot create an event loop (event_base_new or evhttp_new failed)");
		return SONO_ENOMEM;
	}
	evhttp_set_bevcb(w->http, http_bevcb, w);
	evhttp_set_gencb(w->http, http_dispatch, w);
	evhttp_set_allowed_methods(w->http, HTTP_ALLOWED_METHODS);
	evhttp_set_max_headers_size(w->http, (ev_ssize_t)opt->max_header_bytes);
	evhttp_set_max_body_size(w->http, (ev_ssize_t)opt->max_body_bytes);
	evhttp_set_timeout(w->http, opt->request_timeout_s);
	/* TODO: evhttp 2.1 has no error callback (evhttp_set_errorcb is 2.2),
	 * and its own error replies (400, 413, 417, 501) are HTML pages without
	 * the security headers.  The gate (http_gate.c) rejects every request
	 * that would get one of them before evhttp parses it.  They remain for
	 * allocation failures inside evhttp, and for a head that the gate's
	 * parser accepts and evhttp's rejects; no such input is known. */

	/* Each evhttp closes its socket when freed, so each gets its own
	 * descriptor for the one listening socket. */
	fd = dup(listen_fd);
	if (fd < 0 || evutil_make_socket_nonblocking(fd) < 0 ||
	    evhttp_accept_socket_with_handle(w->http, fd) == NULL) {
		snprintf(err, errlen, "cannot accept on the listening socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return SONO_EIO;
	}
	return 0;
}

/* Creates, binds and listens on a socket for host:port.  Returns the
 * descriptor or a negative SONO_E* code with the failing call in err. */
static int http_listen(const char *host, unsigned port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char service[16];
	int fd = -1, one = 1, rc;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", host, gai_strerror(rc));
		return SONO_EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket failed: %s", strerror(errno));
		rc = SONO_EIO;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Linux copies TCP_NODELAY to accepted sockets.  Without it, a reply
	 * written as several TLS records waits for the client's delayed ACK
	 * (about 40 ms) before its last segment goes out. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(errno));
		close(fd);
		rc = SONO_EIO;
		goto out;
	}
	rc = fd;
out:
	freeaddrinfo(ai);
	return rc;
}

void http_peer_name(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	snprintf(out, outlen, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, out, outlen, NULL, 0, NI_NUMERICHOST);
}

static void http_record_address(struct cloud_http *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	snprintf(h->address, sizeof(h->address), "%s:%u", h->opt.host, h->opt.port);
	if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	if (ss.ss_family == AF_INET6)
		snprintf(h->address, sizeof(h->address), "[%s]:%s", host, port);
	else
		snprintf(h->address, sizeof(h->address), "%s:%s", host, port);
}

static int http_check_options(const struct cloud_http_options *opt, char *err, size_t errlen)
{
	if (opt->ssl_ctx == NULL || opt->host == NULL || opt->port > 65535) {
		snprintf(err, errlen, "server options need a TLS context, a host and a port up to 65535");
		return SONO_EINVAL;
	}
	if (opt->workers < 1 || opt->workers > CLOUD_HTTP_WORKERS_MAX ||
	    opt->slow_threads < 1 || opt->slow_threads > CLOUD_HTTP_SLOW_THREADS_MAX ||
	    opt->storage_threads < 1 || opt->storage_threads > CLOUD_HTTP_SLOW_THREADS_MAX) {
		snprintf(err, errlen, "workers must be 1..%d, password and storage threads 1..%d",
			CLOUD_HTTP_WORKERS_MAX, CLOUD_HTTP_SLOW_THREADS_MAX);
		return SONO_EINVAL;
	}
	if (opt->request_timeout_s < 1 || opt->max_header_bytes < 1024 || opt->max_body_bytes < 1024 ||
	    opt->max_connections < 1) {
		snprintf(err, errlen, "request timeout must be at least 1 s, size limits at least "
			"1 KiB and the connection limit at least 1");
		return SONO_EINVAL;
	}
	return 0;
}

/* Starts the worker threads one by one; on failure the ones already
 * running are left for cloud_http_stop to join. */
static int http_start_workers(struct cloud_http *h, char *err, size_t errlen)
{
	int i, rc;

	for (i = 0; i < h->opt.workers; i++) {
		rc = http_worker_init(&h->workers[i], h, h->listen_fd, err, errlen);
		if (rc < 0)
			return rc;
		if (pthread_create(&h->workers[i].thread, NULL, http_worker_main, &h->workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker thread %d", i);
			return SONO_EIO;
		}
		h->workers[i].running = 1;
	}
	return 0;
}

int cloud_http_start(struct cloud_http **out, const struct cloud_http_options *opt,
	cloud_http_handler handler, void *arg, char *err, size_t errlen)
{
	struct cloud_http *h = NULL;
	int rc;

	*out = NULL;
	rc = http_check_options(opt, err, errlen);
	if (rc < 0)
		return rc;
	pthread_once(&ssl_index_once, ssl_index_init);
	if (ssl_conn_index < 0 || evthread_use_pthreads() < 0) {
		snprintf(err, errlen, "cannot set up OpenSSL ex-data or libevent threading");
		return SONO_ENOMEM;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return SONO_ENOMEM;
	h->opt = *opt;
	atomic_init(&h->connections, 0);
	h->handler = handler;
	h->handler_arg = arg;
	h->listen_fd = http_listen(opt->host, opt->port, err, errlen);
	if (h->listen_fd < 0) {
		rc = h->listen_fd;
		free(h);
		return rc;
	}
	http_record_address(h);
	rc = http_slow_start(h, err, errlen);
	if (rc == 0)
		rc = http_start_workers(h, err, errlen);
	if (rc < 0) {
		cloud_http_stop(h);
		return rc;
	}
	*out = h;
	return 0;
}

void cloud_http_address(const struct cloud_http *h, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", h->address);
}

/* Ends the event loops after a short grace period, so the 503 replies to
 * cancelled slow jobs, which event_base_once scheduled, are sent first. */
static void http_stop_workers(struct cloud_http *h)
{
	struct timeval grace = { 0, 200 * 1000 };
	int i;

	for (i = 0; i < h->opt.workers; i++)
		if (h->workers[i].running)
			event_base_loopexit(h->workers[i].base, &grace);
	for (i = 0; i < h->opt.workers; i++) {
		if (h->workers[i].running)
			pthread_join(h->workers[i].thread, NULL);
		if (h->workers[i].http != NULL)
			evhttp_free(h->workers[i].http);
		if (h->workers[i].base != NULL)
			event_base_free(h->workers[i].base);
	}
}

void cloud_http_stop(struct cloud_http *h)
{
	if (h == NULL)
		return;
	http_slow_stop(h);
	http_stop_workers(h);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	free(h);
}
