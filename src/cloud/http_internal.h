/* Structures shared by the files of the HTTP core (http.c, http_request.c,
 * http_slow.c, http_gate.c).  Handlers use http.h only. */
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

/* The state of a connection's gate within the current request.  The
 * transitions are described in http_gate.c. */
enum http_gate_state {
	GATE_HEAD,  /* reading a request head; evhttp has none of it */
	GATE_CHECK, /* a storage thread checks the head; reading is paused */
	GATE_BODY,  /* evhttp has the head and gets body_left more bytes */
	GATE_REPLY, /* evhttp has the whole request; later bytes wait for its reply */
	GATE_CLOSE, /* evhttp has a rejection; the connection closes after its reply */
	GATE_DRAIN, /* the rejection is sent; discarding its body before closing */
};

struct http_gate_check;

/* One accepted connection.  Freed by OpenSSL's ex-data callback when
 * evhttp frees the connection's bufferevent and with it the SSL. */
struct http_conn {
	struct http_worker *worker;
	struct bufferevent *bev;
	struct event *deadline; /* cuts off slow requests, see http_conn_arm */
	int over_limit;         /* accepted past max_connections, closed at once */

	/* The gate between the TLS input and evhttp. */
	enum http_gate_state gate;
	struct evbuffer *held;          /* bytes read but not given to evhttp yet */
	struct evbuffer *spare;         /* scratch for splitting the input buffer */
	struct evbuffer_cb_entry *input_cb;
	struct event *resume;           /* runs the gate after a reply */
	struct http_gate_check *check;  /* the storage check in progress, or NULL */
	size_t head_length;             /* bytes of the head held during a check */
	uint64_t content_length;        /* of that head */
	uint64_t body_left;             /* body bytes evhttp has yet to get */
	int expect_continue;            /* of that head */
	uint64_t discard_left;          /* body bytes of a rejected request still to discard */
	struct evhttp_connection *evcon; /* set in GATE_DRAIN, to close the connection */
	int closed;                     /* evhttp freed the connection; c waits for the SSL */
	int moving;                     /* set while the gate changes the input buffer */
	int paused;                     /* the gate disabled reading */
	struct cloud_rejection rejection;   /* the reply to the next request when status != 0 */
};

/* A deferred job in a pool queue: either a request's work or, when check
 * is set, the storage check of a request head. */
struct http_job {
	struct cloud_request *request;
	cloud_http_work work;
	void *arg;
	struct http_gate_check *check;
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
/* Tells c when evhttp frees evcon, so c's timers stop touching it. */
void http_conn_watch(struct http_conn *c, struct evhttp_connection *evcon);

/* Returns the connection state of req, or NULL once the connection is gone. */
struct http_conn *http_conn_of(struct evhttp_request *req);

/* Writes the numeric peer address of socket fd ("unknown" on failure). */
void http_peer_name(int fd, char *out, size_t outlen);

/* Starts and stops the threads of every pool.  Stopping waits for running
 * jobs and replies 503 to jobs that have not started. */
int http_slow_start(struct cloud_http *h, char *err, size_t errlen);
void http_slow_stop(struct cloud_http *h);

/* Queues the storage check k.  Returns 0, SONO_ENOMEM, or SONO_ETOOBIG
 * when the queue is full or the server is stopping. */
int http_slow_queue_check(struct cloud_http *h, struct http_gate_check *k);

/* Sets up the gate of connection c, whose bev is set.  Returns 0 or
 * SONO_ENOMEM. */
int http_gate_init(struct http_conn *c, struct event_base *base);

/* Frees the gate of c when its connection is gone.  A storage check still
 * running is detached and frees itself when it ends. */
void http_gate_free(struct http_conn *c);

/* Lets the gate read the next request once the reply to the current one
 * is sent. */
void http_gate_resume(struct http_conn *c);

/* Turns reading back on if the gate paused it, so that evhttp reads the end
 * of file of a connection that the deadline shut down. */
void http_gate_wake(struct http_conn *c);

/* Starts the lingering close of c once the reply to a rejected request
 * has been sent, if its client may still be sending the body.  Runs from
 * the reply's on-complete callback, req being the stand-in request. */
void http_gate_linger(struct http_conn *c, struct evhttp_request *req);

/* Closes c if it is in its lingering close and returns 1; returns 0
 * otherwise.  Runs from the connection's deadline. */
int http_gate_end_linger(struct http_conn *c);

/* Runs on a storage thread: the head check of k, then hands k back to its
 * event loop. */
void http_gate_check_run(struct http_gate_check *k);

/* Rejects the head of k with 503 because the server stops, and hands k
 * back to its event loop. */
void http_gate_check_cancel(struct http_gate_check *k);

#endif
