/* The HTTPS server core of sonocloud: libevent's evhttp on OpenSSL
 * bufferevents, several event-loop worker threads accepting on one listening
 * socket, and two thread pools for work that may block: one for password
 * hashing and one for storage calls.
 *
 * Handlers never touch evhttp.  A handler reads the request through the
 * cloud_request_* accessors and fills the response with cloud_reply_*; the
 * core sends it after the handler returns.  A handler that has blocking work
 * to do calls cloud_request_defer(): the work function then runs on a pool
 * thread, fills the response there, and the core sends it from the request's
 * own event loop.  The routes run the requests that check or set a
 * password on the password pool and every other database call on the
 * storage pool, so an event loop never computes a password hash or waits
 * for the database, and a login waits only for the checks queued ahead of
 * it.
 *
 * Before evhttp parses a request, the gate (http_gate.c) reads the request
 * head (the request line and headers) and withholds the body.  It rejects
 * malformed heads and ambiguous body lengths itself, and asks the
 * options' head_check whether the route takes the body.  A rejected request
 * gets a JSON error reply without its body being read.  The connection
 * then closes, after a lingering close of up to 5 s that discards the body
 * a client may still be sending, so that the client can read the reply. */
#ifndef SONO_CLOUD_HTTP_H
#define SONO_CLOUD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <jansson.h>

#define CLOUD_HTTP_WORKERS_MAX 64
#define CLOUD_HTTP_SLOW_THREADS_MAX 16

/* Thread pools for deferred work. */
enum cloud_pool {
	CLOUD_POOL_PASSWORD, /* PBKDF2 checks and the requests that run them */
	CLOUD_POOL_STORAGE,  /* database calls of authenticated requests */
	CLOUD_POOL_COUNT
};

/* HTTP methods the server accepts.  The gate rejects every other method
 * before evhttp parses the request. */
enum cloud_method {
	CLOUD_METHOD_GET,
	CLOUD_METHOD_HEAD,
	CLOUD_METHOD_POST,
	CLOUD_METHOD_PUT,
	CLOUD_METHOD_DELETE,
	CLOUD_METHOD_OTHER,
};

/* The request line and headers of a request, as the gate parses them
 * before any of the body is read.  The strings live until the decision is
 * made. */
struct cloud_request_head {
	enum cloud_method method;
	const char *path;           /* decoded path, or NULL when it does not decode */
	const char *authorization;  /* the Authorization header, or NULL */
	uint64_t content_length;    /* 0 when the request has no Content-Length */
};

/* A reply the server sends in place of running a handler, because the
 * request head alone rules the request out. */
struct cloud_rejection {
	int status;                /* HTTP status; 0 means the request is not rejected */
	const char *error;         /* machine-readable code, a string literal */
	char message[160];         /* sentence for people */
	const char *label;         /* route pattern for the log, or NULL */
	const char *header_name;   /* one extra response header, or NULL */
	char header_value[64];
};

/* Fills f with status, error code and message and no extra header. */
void cloud_rejection_set(struct cloud_rejection *f, int status, const char *error,
	const char *message);

enum cloud_head_decision {
	CLOUD_HEAD_ACCEPT,        /* read the body and run the handler */
	CLOUD_HEAD_REJECT,        /* send the rejection and close the connection */
	CLOUD_HEAD_CHECK_STORAGE, /* run head_work on a storage thread first */
};

/* Decides on a request head on the event loop, so it must not block.
 * max_body is the server's body limit.  Fills rejection when it returns
 * CLOUD_HEAD_REJECT. */
typedef enum cloud_head_decision (*cloud_http_head_check)(const struct cloud_request_head *head,
	size_t max_body, struct cloud_rejection *rejection, void *arg);

/* Finishes a CLOUD_HEAD_CHECK_STORAGE decision on a storage thread: sets
 * rejection->status to reject the request, or leaves it 0 to accept it. */
typedef void (*cloud_http_head_work)(const struct cloud_request_head *head,
	struct cloud_rejection *rejection, void *arg);

struct cloud_http_options {
	const char *host;          /* numeric address or name to bind */
	unsigned port;
	SSL_CTX *ssl_ctx;          /* borrowed; must outlive the server */
	int workers;               /* event-loop threads, 1..CLOUD_HTTP_WORKERS_MAX */
	int slow_threads;          /* password pool threads, 1..CLOUD_HTTP_SLOW_THREADS_MAX */
	int storage_threads;       /* storage pool threads, 1..CLOUD_HTTP_SLOW_THREADS_MAX */
	size_t slow_queue_max;     /* jobs waiting in one pool beyond this get 503 */
	size_t max_header_bytes;   /* request line and headers together */
	size_t max_body_bytes;     /* largest body of any route */
	int request_timeout_s;     /* whole request, from accept or last reply */
	int max_connections;       /* open connections; newer ones are closed at once */
	cloud_http_head_check head_check; /* NULL accepts every well-formed head */
	cloud_http_head_work head_work;   /* needed when head_check can return CHECK_STORAGE */
	void *head_arg;                   /* passed to head_check and head_work */
};

/* Fills opt with the defaults: 127.0.0.1:8443, 4 workers, 2 password and
 * 4 storage threads, 256 waiting jobs per pool,
 * 8 KiB of headers, 16 MiB + 64 KiB of body, 30 s per request, 1000
 * connections. */
void cloud_http_default_options(struct cloud_http_options *opt);

struct cloud_http;
struct cloud_request;

typedef void (*cloud_http_handler)(struct cloud_request *r, void *arg);
typedef void (*cloud_http_work)(struct cloud_request *r, void *arg);

/* Binds the listening socket and starts the worker and pool threads.
 * handler is called on a worker thread for every complete request.  The
 * process must ignore SIGPIPE, because OpenSSL writes to sockets that
 * clients may already have closed.
 * Returns 0, or a negative SONO_E* code with the failing call in err. */
int cloud_http_start(struct cloud_http **out, const struct cloud_http_options *opt,
	cloud_http_handler handler, void *arg, char *err, size_t errlen);

/* Writes the bound address as "HOST:PORT" (the port is the real one when
 * the options asked for port 0). */
void cloud_http_address(const struct cloud_http *h, char *out, size_t outlen);

/* Stops accepting, replies 503 to queued pool jobs, stops the event loops,
 * joins every thread and frees the server.  Accepts NULL. */
void cloud_http_stop(struct cloud_http *h);

enum cloud_method cloud_request_method(const struct cloud_request *r);

/* Returns the decoded path without the query, or NULL when the request
 * target is not a valid origin-form URI. */
const char *cloud_request_path(const struct cloud_request *r);

/* Returns the decoded value of query parameter key, or NULL.  The string
 * lives as long as the request. */
const char *cloud_request_query(const struct cloud_request *r, const char *key);

/* Returns the decoded value of key in an application/x-www-form-urlencoded
 * body, or NULL.  The values are wiped when the request is freed, since a
 * form may carry a password. */
const char *cloud_request_form(struct cloud_request *r, const char *key);

/* Returns the first value of a request header (case-insensitive name). */
const char *cloud_request_header(const struct cloud_request *r, const char *name);

/* Points *data at the whole body in one piece (valid until the reply is
 * sent) and sets *len.  Returns 0 or SONO_ENOMEM. */
int cloud_request_body(struct cloud_request *r, const uint8_t **data, size_t *len);

/* Overwrites the request body in place, for bodies that carried a password.
 * cloud_request_body's pointer then points at zeros. */
void cloud_request_wipe_body(struct cloud_request *r);

/* Returns the client's numeric address, e.g. "127.0.0.1". */
const char *cloud_request_peer(const struct cloud_request *r);

/* Handler state carried from the handler to its deferred work. */
void cloud_request_set_data(struct cloud_request *r, void *data);
void *cloud_request_data(const struct cloud_request *r);

/* Queues work(r, arg) on a thread of pool; the response is sent when work
 * returns.  Call at most once per request, as the handler's last step, and
 * touch r only from work after that; work itself cannot defer again.
 * Returns 0, SONO_ESTATE when r was already deferred, SONO_ENOMEM, or
 * SONO_ETOOBIG when the queue is full or the server is stopping (the
 * handler then replies 503). */
int cloud_request_defer(struct cloud_request *r, enum cloud_pool pool, cloud_http_work work,
	void *arg);

/* Sets the response.  body is copied; content_type may be NULL for an
 * empty body.  A later call replaces an earlier one. */
void cloud_reply(struct cloud_request *r, int status, const char *content_type,
	const void *body, size_t len);

/* Serialises body (not consumed) as the response with Content-Type
 * application/json.  A serialisation failure becomes a 500 error. */
void cloud_reply_json(struct cloud_request *r, int status, const json_t *body);

/* Replies {"error": error, "message": message} with status.  error is a
 * short machine-readable code such as "invalid_body"; message is a sentence
 * for people.  Also logs the error with the route, never the raw path. */
void cloud_reply_error(struct cloud_request *r, int status, const char *error,
	const char *message);

/* Replies with the rejection's status, error, message and extra header. */
void cloud_reply_rejection(struct cloud_request *r, const struct cloud_rejection *f);

/* Adds a response header (copied).  At most 8 per response; more are
 * dropped with a warning in the log. */
void cloud_reply_header(struct cloud_request *r, const char *name, const char *value);

/* Names the request in log lines with its route pattern, such as
 * "/api/v1/exams/{uuid}/parts/{n}", because the path may contain a reset
 * token.  label must outlive the request. */
void cloud_request_set_label(struct cloud_request *r, const char *label);

/* Returns the status set so far (0 when no reply was set). */
int cloud_reply_status(const struct cloud_request *r);

#endif
