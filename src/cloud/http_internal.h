/* Structures shared by the files of the HTTP core (http.c, http_request.c,
 * http_slow.c).  Handlers use http.h only. */
#ifndef SONO_CLOUD_HTTP_INTERNAL_H
#define SONO_CLOUD_HTTP_INTERNAL_H

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

#include "cloud/http.h"

#define HTTP_PEER_MAX 64
#define HTTP_EXTRA_HEADERS_MAX 8

struct cloud_http;

struct http_worker {
	struct cloud_http *server;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	int running;
};

/* One accepted connection.  Freed by OpenSSL's ex-data callback when
 * evhttp frees the connection's bufferevent and with it the SSL. */
struct http_conn {
	struct http_worker *worker;
	struct bufferevent *bev;
	struct event *deadline; /* cuts off slow requests, see http_conn_arm */
	int over_limit;         /* accepted past max_connections, closed at once */
};

/* A deferred job in a pool queue. */
struct http_job {
	struct cloud_request *request;
	cloud_http_work work;
	void *arg;
	struct http_job *next;
};

/* One pool of threads for deferred work. */
struct http_slow {
	struct cloud_http *server;
	int threads;          /* threads to start */
	int nice;             /* niceness added to each thread */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct http_job *head, *tail;
	size_t queued;
	int stopping;
	int started;
	pthread_t thread_ids[CLOUD_HTTP_SLOW_THREADS_MAX];
};

struct cloud_http {
	struct cloud_http_options opt;
	cloud_http_handler handler;
	void *handler_arg;
	int listen_fd;
	atomic_int connections;  /* open connections of all workers */
	char address[NI_MAXHOST + NI_MAXSERV + 4];
	struct http_worker workers[CLOUD_HTTP_WORKERS_MAX];
	struct http_slow pools[CLOUD_POOL_COUNT];
};

struct http_header {
	char *name;
	char *value;
};

/* One request from dispatch to reply.  Owned by the core; freed after the
 * reply is handed to evhttp. */
struct cloud_request {
	struct evhttp_request *req;
	struct http_worker *worker;
	char *path;                    /* decoded path, owned */
	struct evkeyvalq *query;       /* parsed query, owned, NULL when none */
	struct evkeyvalq *form;        /* parsed form body, owned, wiped on free */
	char peer[HTTP_PEER_MAX];
	const char *label;             /* route pattern for logs */
	void *data;                    /* handler state for deferred work */
	int deferred;

	int status;
	char *content_type;
	struct evbuffer *body;
	struct http_header headers[HTTP_EXTRA_HEADERS_MAX];
	size_t header_count;
};

/* evhttp's general callback: builds a cloud_request and runs the handler. */
void http_dispatch(struct evhttp_request *req, void *arg);

/* Sends r's response from its worker's thread and frees r. */
void http_send(struct cloud_request *r);

/* Frees r without sending (the connection is gone). */
void http_request_free(struct cloud_request *r);

/* (Re)starts a connection's request deadline. */
void http_conn_arm(struct http_conn *c);

/* Returns the connection state of req, or NULL once the connection is gone. */
struct http_conn *http_conn_of(struct evhttp_request *req);

/* Writes the numeric peer address of socket fd ("unknown" on failure). */
void http_peer_name(int fd, char *out, size_t outlen);

/* Starts and stops the threads of every pool.  Stopping waits for running
 * jobs and replies 503 to jobs that have not started. */
int http_slow_start(struct cloud_http *h, char *err, size_t errlen);
void http_slow_stop(struct cloud_http *h);

#endif
