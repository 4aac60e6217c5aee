/* Tests of the cloud's HTTP core with a stub handler: deferred work keeps
 * the event loop free, a full pool queue replies 503, stopping the
 * server replies to queued jobs, and every reply carries the security
 * headers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "sono/error.h"
#include "sono/tls.h"
#include "cloud/http.h"

#define SLOW_WORK_MS 1500

struct fixture {
	char dir[64];
	char cert[128];
	char key[128];
	char url[256];
	SSL_CTX *ctx;
	struct cloud_http *http;
};

struct fetch {
	const struct fixture *f;
	const char *path;
	long status;
	double seconds;
	char headers[4096];
	size_t headers_len;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void slow_work(struct cloud_request *r, void *arg)
{
	struct timespec pause = { SLOW_WORK_MS / 1000, (SLOW_WORK_MS % 1000) * 1000000L };

	nanosleep(&pause, NULL);
	cloud_reply(r, 200, "text/plain", "slow", 4);
}

static void storage_work(struct cloud_request *r, void *arg)
{
	cloud_reply(r, 200, "text/plain", "stored", 6);
}

/* Result of deferring a request a second time, set by the /twice route. */
static int second_defer_rc;

/* The stub routes: /slow defers SLOW_WORK_MS of work to the password pool,
 * /twice defers to the storage pool and then tries again, anything else
 * replies at once. */
static void stub_handler(struct cloud_request *r, void *arg)
{
	const char *path = cloud_request_path(r);

	if (path != NULL && strcmp(path, "/twice") == 0) {
		if (cloud_request_defer(r, CLOUD_POOL_STORAGE, storage_work, NULL) < 0) {
			cloud_reply_error(r, 503, "busy", "The storage queue is full.");
			return;
		}
		second_defer_rc = cloud_request_defer(r, CLOUD_POOL_PASSWORD, slow_work, NULL);
		return;
	}

	if (path != NULL && strcmp(path, "/slow") == 0) {
		if (cloud_request_defer(r, CLOUD_POOL_PASSWORD, slow_work, NULL) < 0)
			cloud_reply_error(r, 503, "busy", "The password queue is full.");
		return;
	}
	cloud_reply(r, 200, "text/plain", "fast", 4);
}

static size_t header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetch *ft = arg;
	size_t len = size * n;

	if (ft->headers_len + len < sizeof(ft->headers)) {
		memcpy(ft->headers + ft->headers_len, data, len);
		ft->headers_len += len;
		ft->headers[ft->headers_len] = '\0';
	}
	return len;
}

static size_t discard_cb(char *data, size_t size, size_t n, void *arg)
{
	return size * n;
}

static void *fetch_main(void *arg)
{
	struct fetch *ft = arg;
	CURL *c = curl_easy_init();
	char url[512];
	double start = now_seconds();

	snprintf(url, sizeof(url), "%s%s", ft->f->url, ft->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ft->f->cert);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, ft);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	ft->status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ft->status);
	ft->seconds = now_seconds() - start;
	curl_easy_cleanup(c);
	return NULL;
}

/* Starts a server with one worker, one thread per pool, a queue of one and
 * max_connections connections. */
static int start_server(void **state, int max_connections)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cloud_http_options opt;
	char err[512], address[128];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sono-http-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	assert_int_equal(tls_generate_identity(f->cert, f->key, "localhost", NULL, "localhost", 0, 1,
		err, sizeof(err)), 0);
	f->ctx = tls_server_ctx(f->cert, f->key, err, sizeof(err));
	assert_non_null(f->ctx);

	cloud_http_default_options(&opt);
	opt.port = 0;
	opt.ssl_ctx = f->ctx;
	opt.workers = 1;
	opt.slow_threads = 1;
	opt.storage_threads = 1;
	opt.slow_queue_max = 1;
	opt.max_connections = max_connections;
	assert_int_equal(cloud_http_start(&f->http, &opt, stub_handler, NULL, err, sizeof(err)), 0);
	cloud_http_address(f->http, address, sizeof(address));
	snprintf(f->url, sizeof(f->url), "https://%s", address);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return start_server(state, 1000);
}

static int setup_two_connections(void **state)
{
	return start_server(state, 2);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cloud_http_stop(f->http);
	SSL_CTX_free(f->ctx);
	unlink(f->cert);
	unlink(f->key);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void fast_request_not_blocked(void **state)
{
	struct fixture *f = *state;
	struct fetch slow = { .f = f, .path = "/slow" }, fast = { .f = f, .path = "/fast" };
	struct timespec pause = { 0, 400 * 1000000L };
	pthread_t thread;

	assert_int_equal(pthread_create(&thread, NULL, fetch_main, &slow), 0);
	nanosleep(&pause, NULL);
	fetch_main(&fast);
	pthread_join(thread, NULL);

	assert_int_equal(slow.status, 200);
	assert_int_equal(fast.status, 200);
	assert_true(slow.seconds >= SLOW_WORK_MS / 1000.0);
	/* The fast request overlapped the slow one and still did not wait for it. */
	assert_true(fast.seconds < SLOW_WORK_MS / 2000.0);
}

static void full_queue_replies_503(void **state)
{
	struct fixture *f = *state;
	struct fetch jobs[3] = {
		{ .f = f, .path = "/slow" }, { .f = f, .path = "/slow" }, { .f = f, .path = "/slow" },
	};
	struct timespec pause = { 0, 400 * 1000000L };
	pthread_t threads[2];
	int i;

	/* One job runs, one waits in the queue of one, the third is rejected. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&threads[i], NULL, fetch_main, &jobs[i]), 0);
		nanosleep(&pause, NULL);
	}
	fetch_main(&jobs[2]);
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);

	assert_int_equal(jobs[0].status, 200);
	assert_int_equal(jobs[1].status, 200);
	assert_int_equal(jobs[2].status, 503);
}

static void stop_replies_to_queued_jobs(void **state)
{
	struct fixture *f = *state;
	struct fetch jobs[2] = { { .f = f, .path = "/slow" }, { .f = f, .path = "/slow" } };
	struct timespec pause = { 0, 400 * 1000000L };
	pthread_t threads[2];
	int i;

	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&threads[i], NULL, fetch_main, &jobs[i]), 0);
		nanosleep(&pause, NULL);
	}
	cloud_http_stop(f->http);
	f->http = NULL;
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);

	/* The running job finishes, and the queued one gets 503 because the
	 * server is stopping. */
	assert_int_equal(jobs[0].status, 200);
	assert_int_equal(jobs[1].status, 503);
}

/* Opens a plain TCP connection to the server and returns the socket. */
static int connect_raw(const struct fixture *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *port = strrchr(f->url, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_non_null(port);
	sin.sin_port = htons((uint16_t)atoi(port + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void connection_limit_closes_new(void **state)
{
	struct fixture *f = *state;
	struct fetch blocked = { .f = f, .path = "/fast" }, later = { .f = f, .path = "/fast" };
	struct timespec pause = { 0, 300 * 1000000L };
	int fds[2], i;

	for (i = 0; i < 2; i++)
		fds[i] = connect_raw(f);
	nanosleep(&pause, NULL);
	fetch_main(&blocked);
	for (i = 0; i < 2; i++)
		close(fds[i]);
	nanosleep(&pause, NULL);
	fetch_main(&later);

	/* A third connection is closed at once; after the two end, one is served. */
	assert_int_equal(blocked.status, 0);
	assert_int_equal(later.status, 200);
}

static void second_defer_rejected(void **state)
{
	struct fixture *f = *state;
	struct fetch ft = { .f = f, .path = "/twice" };

	second_defer_rc = 0;
	fetch_main(&ft);
	assert_int_equal(ft.status, 200);
	assert_int_equal(second_defer_rc, SONO_ESTATE);
	/* Only the storage work ran, so the reply came without the slow delay. */
	assert_true(ft.seconds < SLOW_WORK_MS / 1000.0);
}

static void replies_carry_security_headers(void **state)
{
	static const char *names[] = {
		"Strict-Transport-Security: max-age=", "Cache-Control: no-store",
		"X-Content-Type-Options: nosniff", "Content-Security-Policy: default-src 'none'",
		"X-Frame-Options: DENY", "Referrer-Policy: no-referrer",
	};
	struct fixture *f = *state;
	struct fetch ft = { .f = f, .path = "/fast" };
	size_t i;

	fetch_main(&ft);
	assert_int_equal(ft.status, 200);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(strstr(ft.headers, names[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fast_request_not_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(full_queue_replies_503, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_replies_to_queued_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(second_defer_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(replies_carry_security_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(connection_limit_closes_new, setup_two_connections,
			teardown),
	};
	int rc;

	/* The server writes to sockets that clients closed; see cloud_http_start. */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
