/* A server for bench/cloud.sh made of sonocloud's HTTP core alone: every
 * request's body is hashed with SHA-256 on the storage pool, as a part
 * upload is, and answered with 200, but nothing is stored.  Comparing
 * uploads to it with uploads to sonocloud separates the cost of the HTTP
 * layer from the cost of storage.
 *
 * Usage: bench_cloud_http CERT KEY PORT SECONDS
 * Serves 127.0.0.1:PORT until SIGTERM, SIGINT or SECONDS have passed. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sono/crypto.h"
#include "sono/tls.h"
#include "cloud/http.h"

static void hash_work(struct cloud_request *r, void *arg)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN];
	const uint8_t *data;
	size_t len;

	if (cloud_request_body(r, &data, &len) < 0) {
		cloud_reply_error(r, 500, "internal_error", "out of memory");
		return;
	}
	crypto_sha256(data, len, sha);
	crypto_hex(sha, sizeof(sha), hex);
	cloud_reply(r, 200, "text/plain", hex, 64);
}

static void bench_handler(struct cloud_request *r, void *arg)
{
	if (cloud_request_defer(r, CLOUD_POOL_STORAGE, hash_work, NULL) < 0)
		cloud_reply_error(r, 503, "busy", "queue full");
}

int main(int argc, char **argv)
{
	struct cloud_http_options opt;
	struct cloud_http *http = NULL;
	struct timespec limit = { 0, 0 };
	char err[512];
	sigset_t set;
	int sig;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_cloud_http CERT KEY PORT SECONDS\n");
		return 2;
	}
	cloud_http_default_options(&opt);
	opt.port = (unsigned)atoi(argv[3]);
	opt.ssl_ctx = tls_server_ctx(argv[1], argv[2], err, sizeof(err));
	limit.tv_sec = atoi(argv[4]);
	if (opt.ssl_ctx == NULL) {
		fprintf(stderr, "bench_cloud_http: %s\n", err);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cloud_http_start(&http, &opt, bench_handler, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_cloud_http: %s\n", err);
		SSL_CTX_free(opt.ssl_ctx);
		return 1;
	}
	printf("serving\n");
	fflush(stdout);
	sig = sigtimedwait(&set, NULL, &limit);
	(void)sig;
	cloud_http_stop(http);
	SSL_CTX_free(opt.ssl_ctx);
	return 0;
}
