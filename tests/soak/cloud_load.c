/* Load client for sonocloud: many concurrent exam uploads and logins over
 * TLS, with every receipt checked against what was sent.
 *
 * Run by tests/soak/cloud_load.sh, which sets up a server and the load
 * users (load0, load1, ... sharing the password in $SONO_LOAD_PASSWORD).
 * Three phases, each with two probe threads that send requests in a loop
 * and record their latency: GET / (served by an event loop without
 * storage) and GET /api/v1/me (which also looks the session up in the
 * database):
 *   1. control: the probes alone for 3 s;
 *   2. logins: --logins concurrent logins.  Every GET / and 99% of the
 *      GET /api/v1/me must finish within one PBKDF2 duration (measured in
 *      this process just before), which shows that no request waits behind
 *      a password check.  The slowest GET /api/v1/me is reported but not
 *      checked, because a stalled synchronous database write (on a shared
 *      machine, other programs' disk traffic) delays it for reasons that
 *      have nothing to do with password checks;
 *   3. combined: --clients uploaders (each creates an exam, puts it in
 *      parts, commits and checks the receipt) while the logins run again.
 * Afterwards the exam lists must contain every uploaded exam exactly once.
 * Exit status: 0 when every check passed, 1 otherwise, 2 for a usage error. */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"

#define LOAD_PBKDF2_ITERATIONS 600000u /* what sonocloud uses for passwords */
#define LOAD_TOKEN_LEN 65
#define LOAD_RESPONSE_MAX (4 * 1024 * 1024)
#define LOAD_PROBES_MAX 100000
#define LOAD_TRIES 3

struct load_config {
	const char *url;
	const char *cacert;
	const char *password;
	int users;
	int clients;
	int logins;
	size_t exam_bytes;
	size_t part_bytes;
	char (*tokens)[LOAD_TOKEN_LEN]; /* one session per load user */
};

struct load_exam {
	char uuid[CRYPTO_UUID_LEN];
	int user;
	int ok;
	int retries;
	double seconds;
};

#define LOAD_PROBE_COUNT 2

struct load_probe {
	const struct load_config *cfg;
	const char *path;
	volatile int stop;
	double latencies[LOAD_PROBES_MAX];
	size_t count;
	int errors;
};

struct load_login {
	const struct load_config *cfg;
	int user;
	int ok;
	double seconds;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t load_write_cb(char *data, size_t size, size_t n, void *arg)
{
	if (arg == NULL)
		return size * n;
	return sbuf_append(arg, data, size * n) == 0 ? size * n : 0;
}

/* One HTTP request.  resp (may be NULL) receives the body; *status gets
 * the HTTP status, or 0 when the transfer failed. */
static void load_request(CURL *c, const struct load_config *cfg, const char *method,
	const char *path, const char *token, const char *headers_extra[], const void *body,
	size_t len, struct sbuf *resp, long *status)
{
	struct curl_slist *headers = NULL;
	char url[512], line[256];
	size_t i;

	snprintf(url, sizeof(url), "%s%s", cfg->url, path);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, line);
	}
	for (i = 0; headers_extra != NULL && headers_extra[i] != NULL; i++)
		headers = curl_slist_append(headers, headers_extra[i]);
	/* curl would wait for "100 Continue" before a large body. */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, cfg->cacert);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, load_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (resp != NULL)
		sbuf_reset(resp);
	*status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(headers);
}

/* Logs user in and copies the session token.  Returns 0 or -1. */
static int load_login_user(CURL *c, const struct load_config *cfg, int user,
	char token[LOAD_TOKEN_LEN])
{
	static const char *json_header[] = { "Content-Type: application/json", NULL };
	struct sbuf resp, body;
	json_t *root = NULL;
	long status;
	int rc = -1;

	sbuf_init(&resp, LOAD_RESPONSE_MAX);
	sbuf_init(&body, 4096);
	if (sbuf_printf(&body, "{\"username\":\"load%d\",\"password\":\"%s\"}", user,
			cfg->password) < 0)
		goto out;
	load_request(c, cfg, "POST", "/api/v1/sessions", NULL, json_header, body.data, body.len,
		&resp, &status);
	if (status != 201 || resp.data == NULL)
		goto out;
	root = json_loads((const char *)resp.data, 0, NULL);
	if (root != NULL && json_is_string(json_object_get(root, "token"))) {
		snprintf(token, LOAD_TOKEN_LEN, "%s", json_string_value(json_object_get(root, "token")));
		rc = 0;
	}
out:
	json_decref(root);
	sbuf_free_wipe(&body);
	sbuf_free(&resp);
	return rc;
}

/* Fills buf with bytes that depend on seed, cheaply (xorshift64). */
static void load_fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)(x >> 24);
	}
}

/* Checks a receipt against the parts that were sent.  Returns 0 or -1. */
static int load_check_receipt(const char *text, const char *uuid, const uint8_t *data,
	size_t total, size_t part_bytes)
{
	json_t *root = json_loads(text, 0, NULL), *parts, *p;
	size_t nparts = (total + part_bytes - 1) / part_bytes, i;
	char hex[CRYPTO_SHA256_HEX_LEN];
	uint8_t sha[CRYPTO_SHA256_LEN];
	int rc = -1;

	parts = root ? json_object_get(root, "parts") : NULL;
	if (parts == NULL || json_array_size(parts) != nparts ||
	    !json_is_string(json_object_get(root, "receipt_id")) ||
	    strcmp(json_string_value(json_object_get(root, "uuid")), uuid) != 0)
		goto out;
	for (i = 0; i < nparts; i++) {
		size_t off = i * part_bytes;
		size_t len = total - off < part_bytes ? total - off : part_bytes;

		p = json_array_get(parts, i);
		crypto_sha256(data + off, len, sha);
		crypto_hex(sha, sizeof(sha), hex);
		if (json_integer_value(json_object_get(p, "n")) != (json_int_t)(i + 1) ||
		    json_integer_value(json_object_get(p, "size")) != (json_int_t)len ||
		    !json_is_string(json_object_get(p, "sha256")) ||
		    strcmp(json_string_value(json_object_get(p, "sha256")), hex) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Puts one part, retrying a failed transfer.  Returns the final status. */
static long load_put_part(CURL *c, const struct load_config *cfg, struct load_exam *e,
	unsigned n, const uint8_t *part, size_t len)
{
	char path[128], hash_header[128], hex[CRYPTO_SHA256_HEX_LEN];
	const char *headers[] = { "Content-Type: application/octet-stream", hash_header, NULL };
	uint8_t sha[CRYPTO_SHA256_LEN];
	long status = 0;
	int tries;

	crypto_sha256(part, len, sha);
	crypto_hex(sha, sizeof(sha), hex);
	snprintf(hash_header, sizeof(hash_header), "X-Content-SHA256: %s", hex);
	snprintf(path, sizeof(path), "/api/v1/exams/%s/parts/%u", e->uuid, n);
	for (tries = 0; tries < LOAD_TRIES && status != 200; tries++) {
		if (tries > 0)
			e->retries++;
		load_request(c, cfg, "PUT", path, cfg->tokens[e->user], headers, part, len, NULL,
			&status);
	}
	return status;
}

/* Creates the exam, puts every part, commits and checks the receipt. */
static int load_upload(CURL *c, const struct load_config *cfg, struct load_exam *e,
	const uint8_t *data, struct sbuf *resp)
{
	static const char *json_header[] = { "Content-Type: application/json", NULL };
	char body[256], path[128];
	size_t off;
	unsigned n = 1;
	long status;

	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"patient\":{\"name\":\"Load^Test\"},"
		"\"meta\":{\"source\":\"cloud_load\"}}", e->uuid);
	load_request(c, cfg, "POST", "/api/v1/exams", cfg->tokens[e->user], json_header, body,
		strlen(body), resp, &status);
	if (status != 201 && status != 200)
		return -1;
	for (off = 0; off < cfg->exam_bytes; off += cfg->part_bytes, n++) {
		size_t len = cfg->exam_bytes - off < cfg->part_bytes ? cfg->exam_bytes - off
			: cfg->part_bytes;

		if (load_put_part(c, cfg, e, n, data + off, len) != 200)
			return -1;
	}
	snprintf(path, sizeof(path), "/api/v1/exams/%s/commit", e->uuid);
	load_request(c, cfg, "POST", path, cfg->tokens[e->user], NULL, NULL, 0, resp, &status);
	if (status != 200 || resp->data == NULL)
		return -1;
	return load_check_receipt((const char *)resp->data, e->uuid, data, cfg->exam_bytes,
		cfg->part_bytes);
}

struct load_uploader {
	const struct load_config *cfg;
	struct load_exam *exam;
	int index;
};

static void *load_uploader_main(void *arg)
{
	struct load_uploader *u = arg;
	uint8_t *data = malloc(u->cfg->exam_bytes);
	CURL *c = curl_easy_init();
	struct sbuf resp;
	double start = now_seconds();

	sbuf_init(&resp, LOAD_RESPONSE_MAX);
	if (data != NULL && c != NULL) {
		load_fill(data, u->cfg->exam_bytes, (uint64_t)u->index + 1);
		u->exam->ok = load_upload(c, u->cfg, u->exam, data, &resp) == 0;
	}
	u->exam->seconds = now_seconds() - start;
	sbuf_free(&resp);
	curl_easy_cleanup(c);
	free(data);
	return NULL;
}

static void *load_login_main(void *arg)
{
	struct load_login *l = arg;
	char token[LOAD_TOKEN_LEN];
	CURL *c = curl_easy_init();
	double start = now_seconds();

	l->ok = c != NULL && load_login_user(c, l->cfg, l->user, token) == 0;
	l->seconds = now_seconds() - start;
	crypto_wipe(token, sizeof(token));
	curl_easy_cleanup(c);
	return NULL;
}

/* Sends GET p->path in a loop until stopped, recording each latency. */
static void *load_probe_main(void *arg)
{
	struct load_probe *p = arg;
	CURL *c = curl_easy_init();
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	long status;

	while (c != NULL && !p->stop && p->count < LOAD_PROBES_MAX) {
		double start = now_seconds();

		load_request(c, p->cfg, "GET", p->path, p->cfg->tokens[0], NULL, NULL, 0, NULL,
			&status);
		if (status != 200)
			p->errors++;
		else
			p->latencies[p->count++] = now_seconds() - start;
		nanosleep(&pause, NULL);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Returns the q-quantile (0..1) of n values, sorting them in place. */
static double quantile(double *values, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(values, n, sizeof(*values), compare_double);
	return values[(size_t)(q * (double)(n - 1))];
}

/* Starts the probe threads of probes[LOAD_PROBE_COUNT].  Returns how many
 * started. */
static int load_start_probes(struct load_probe *probes, pthread_t *threads)
{
	int i;

	for (i = 0; i < LOAD_PROBE_COUNT; i++)
		if (pthread_create(&threads[i], NULL, load_probe_main, &probes[i]) != 0)
			break;
	return i;
}

static void load_stop_probes(struct load_probe *probes, pthread_t *threads, int started)
{
	int i;

	for (i = 0; i < started; i++)
		probes[i].stop = 1;
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* Runs the logins, the probes and, when exams is not NULL, the uploads, all
 * at once.  Returns 0, or -1 when a thread could not be started. */
static int load_phase(const struct load_config *cfg, struct load_exam *exams,
	struct load_login *logins, struct load_probe *probes)
{
	int nup = exams ? cfg->clients : 0, i, rc = 0;
	pthread_t *threads = calloc((size_t)(nup + cfg->logins), sizeof(*threads));
	struct load_uploader *up = calloc((size_t)nup + 1, sizeof(*up));
	pthread_t probe_threads[LOAD_PROBE_COUNT];
	int started = 0, probes_started;

	probes_started = threads && up ? load_start_probes(probes, probe_threads) : 0;
	if (probes_started < LOAD_PROBE_COUNT) {
		load_stop_probes(probes, probe_threads, probes_started);
		free(threads);
		free(up);
		return -1;
	}
	for (i = 0; i < nup && rc == 0; i++) {
		up[i] = (struct load_uploader){ cfg, &exams[i], i };
		rc = pthread_create(&threads[started], NULL, load_uploader_main, &up[i]) ? -1 : 0;
		started += rc == 0;
	}
	for (i = 0; i < cfg->logins && rc == 0; i++) {
		logins[i] = (struct load_login){ cfg, i % cfg->users, 0, 0 };
		rc = pthread_create(&threads[started], NULL, load_login_main, &logins[i]) ? -1 : 0;
		started += rc == 0;
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	load_stop_probes(probes, probe_threads, LOAD_PROBE_COUNT);
	free(threads);
	free(up);
	return rc;
}

/* Counts how often uuid appears in list with the expected size. */
static int load_count_in_list(const json_t *list, const char *uuid, size_t bytes)
{
	size_t i;
	int count = 0;

	for (i = 0; i < json_array_size(list); i++) {
		const json_t *e = json_array_get(list, i);
		const char *u = json_string_value(json_object_get(e, "uuid"));

		if (u != NULL && strcmp(u, uuid) == 0 &&
		    json_integer_value(json_object_get(e, "bytes")) == (json_int_t)bytes)
			count++;
	}
	return count;
}

/* Checks that every uploaded exam is listed exactly once for its owner.
 * Returns the number of exams that are missing or duplicated. */
static int load_verify_lists(const struct load_config *cfg, const struct load_exam *exams)
{
	CURL *c = curl_easy_init();
	struct sbuf resp;
	json_t *root;
	long status;
	int u, i, bad = 0;

	sbuf_init(&resp, 64 * 1024 * 1024);
	for (u = 0; u < cfg->users; u++) {
		load_request(c, cfg, "GET", "/api/v1/exams", cfg->tokens[u], NULL, NULL, 0, &resp,
			&status);
		root = status == 200 && resp.data ? json_loads((const char *)resp.data, 0, NULL) : NULL;
		for (i = 0; i < cfg->clients; i++) {
			if (exams[i].user == u &&
			    load_count_in_list(json_object_get(root, "exams"), exams[i].uuid,
				    cfg->exam_bytes) != 1)
				bad++;
		}
		json_decref(root);
	}
	sbuf_free(&resp);
	curl_easy_cleanup(c);
	return bad;
}

/* Returns the shortest of three PBKDF2-HMAC-SHA256 runs with the server's
 * iteration count, in seconds. */
static double load_measure_pbkdf2(void)
{
	uint8_t salt[16] = { 0 }, out[32];
	double best = 1e9;
	int i;

	for (i = 0; i < 3; i++) {
		double start = now_seconds(), t;

		crypto_pbkdf2_sha256("load test password", 18, salt, sizeof(salt),
			LOAD_PBKDF2_ITERATIONS, out, sizeof(out));
		t = now_seconds() - start;
		if (t < best)
			best = t;
	}
	return best;
}

static void load_usage(FILE *out)
{
	fprintf(out,
		"Usage: cloud_load --url URL --cacert FILE [OPTION]...\n"
		"Load a sonocloud server with uploads and logins and check every receipt.\n"
		"The load users load0..loadN-1 share the password in $SONO_LOAD_PASSWORD.\n"
		"\n"
		"  --users N        load users, all clinicians (default 10)\n"
		"  --clients N      concurrent uploaders, one exam each (default 200)\n"
		"  --logins N       concurrent logins in each phase (default 50)\n"
		"  --exam-bytes N   bytes per exam (default 5242880)\n"
		"  --part-bytes N   bytes per part (default 1048576)\n");
}

static int load_parse(struct load_config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' }, { "cacert", required_argument, NULL, 'c' },
		{ "users", required_argument, NULL, 'n' }, { "clients", required_argument, NULL, 'C' },
		{ "logins", required_argument, NULL, 'l' },
		{ "exam-bytes", required_argument, NULL, 'e' },
		{ "part-bytes", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*cfg = (struct load_config){ .users = 10, .clients = 200, .logins = 50,
		.exam_bytes = 5u << 20, .part_bytes = 1u << 20 };
	cfg->password = getenv("SONO_LOAD_PASSWORD");
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u': cfg->url = optarg; break;
		case 'c': cfg->cacert = optarg; break;
		case 'n': cfg->users = atoi(optarg); break;
		case 'C': cfg->clients = atoi(optarg); break;
		case 'l': cfg->logins = atoi(optarg); break;
		case 'e': cfg->exam_bytes = strtoul(optarg, NULL, 10); break;
		case 'p': cfg->part_bytes = strtoul(optarg, NULL, 10); break;
		case 'h': load_usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (cfg->url == NULL || cfg->cacert == NULL || cfg->password == NULL || cfg->users < 1 ||
	    cfg->users > 1000 || cfg->clients < 0 || cfg->clients > 2000 || cfg->logins < 0 ||
	    cfg->logins > 1000 || cfg->part_bytes < 1 || cfg->exam_bytes < 1) {
		load_usage(stderr);
		return -1;
	}
	return 0;
}

/* Logs every load user in, sequentially, for the uploaders and the probe. */
static int load_sessions(struct load_config *cfg)
{
	CURL *c = curl_easy_init();
	int u;

	cfg->tokens = calloc((size_t)cfg->users, sizeof(*cfg->tokens));
	for (u = 0; c != NULL && cfg->tokens != NULL && u < cfg->users; u++) {
		if (load_login_user(c, cfg, u, cfg->tokens[u]) < 0) {
			fprintf(stderr, "cloud_load: login of load%d failed\n", u);
			break;
		}
	}
	curl_easy_cleanup(c);
	return u == cfg->users ? 0 : -1;
}

/* Prints one probe's latency figures; returns its errors. */
static int load_report_probe(const char *phase, struct load_probe *p)
{
	printf("%s: probe GET %s %zu requests, %d errors, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		phase, p->path, p->count, p->errors, 1000 * quantile(p->latencies, p->count, 0.5),
		1000 * quantile(p->latencies, p->count, 0.99),
		1000 * quantile(p->latencies, p->count, 1.0));
	return p->errors;
}

/* Prints one phase's login and probe figures; returns failed logins and
 * probe errors. */
static int load_report_phase(const char *name, const struct load_config *cfg,
	const struct load_login *logins, struct load_probe *probes)
{
	double worst = 0;
	int i, failed = 0;

	for (i = 0; i < cfg->logins; i++) {
		failed += !logins[i].ok;
		if (logins[i].seconds > worst)
			worst = logins[i].seconds;
	}
	printf("%s: logins %d of %d ok, slowest %.3f s\n", name, cfg->logins - failed,
		cfg->logins, worst);
	for (i = 0; i < LOAD_PROBE_COUNT; i++)
		failed += load_report_probe(name, &probes[i]);
	return failed;
}

/* Prints the upload figures; returns the number of failed uploads. */
static int load_report_uploads(const struct load_config *cfg, const struct load_exam *exams,
	double seconds)
{
	int i, failed = 0, retries = 0;

	for (i = 0; i < cfg->clients; i++) {
		failed += !exams[i].ok;
		retries += exams[i].retries;
	}
	printf("uploads: %d of %d receipts match what was sent, %d part retries, "
		"%.1f MB in %.1f s (%.1f MB/s)\n", cfg->clients - failed, cfg->clients, retries,
		(double)cfg->exam_bytes * cfg->clients / 1e6, seconds,
		(double)cfg->exam_bytes * cfg->clients / 1e6 / seconds);
	return failed;
}

/* Probe state per phase: [0] GET /, [1] GET /api/v1/me. */
static struct load_probe probe_control[LOAD_PROBE_COUNT], probe_logins[LOAD_PROBE_COUNT],
	probe_combined[LOAD_PROBE_COUNT];

static void load_init_probes(struct load_probe *probes, const struct load_config *cfg)
{
	probes[0].cfg = cfg;
	probes[0].path = "/";
	probes[1].cfg = cfg;
	probes[1].path = "/api/v1/me";
}

/* Runs the probes alone for a few seconds, for the latency they have
 * without logins or uploads. */
static int load_run_control(const struct load_config *cfg)
{
	struct timespec duration = { 3, 0 };
	pthread_t threads[LOAD_PROBE_COUNT];
	int started, errors = 0, i;

	load_init_probes(probe_control, cfg);
	started = load_start_probes(probe_control, threads);
	if (started == LOAD_PROBE_COUNT)
		nanosleep(&duration, NULL);
	load_stop_probes(probe_control, threads, started);
	for (i = 0; i < started; i++)
		errors += load_report_probe("control", &probe_control[i]);
	return started == LOAD_PROBE_COUNT ? errors : errors + 1;
}

/* Runs the logins with the probes, and checks them against one PBKDF2
 * measured just before.  Returns the number of failed checks. */
static int load_run_logins(const struct load_config *cfg, struct load_login *logins)
{
	double pbkdf2 = load_measure_pbkdf2(), loop_max, me_p99, me_max;
	int failures;

	printf("pbkdf2: one PBKDF2-HMAC-SHA256 of %u iterations takes %.1f ms here\n",
		LOAD_PBKDF2_ITERATIONS, pbkdf2 * 1000);
	load_init_probes(probe_logins, cfg);
	if (load_phase(cfg, NULL, logins, probe_logins) < 0)
		return 1;
	failures = load_report_phase("logins", cfg, logins, probe_logins);
	loop_max = quantile(probe_logins[0].latencies, probe_logins[0].count, 1.0);
	me_p99 = quantile(probe_logins[1].latencies, probe_logins[1].count, 0.99);
	me_max = quantile(probe_logins[1].latencies, probe_logins[1].count, 1.0);
	printf("logins: slowest GET / %.1f ms, GET /api/v1/me p99 %.1f ms (max %.1f ms), "
		"against one PBKDF2 of %.1f ms: %s\n", loop_max * 1000, me_p99 * 1000,
		me_max * 1000, pbkdf2 * 1000, loop_max < pbkdf2 && me_p99 < pbkdf2 ? "ok" : "TOO SLOW");
	return failures + (loop_max >= pbkdf2 || me_p99 >= pbkdf2 ||
		probe_logins[0].count == 0 || probe_logins[1].count == 0);
}

/* Runs uploads, logins and the probes together, then checks every exam
 * list.  Returns the number of failed checks. */
static int load_run_combined(const struct load_config *cfg, struct load_exam *exams,
	struct load_login *logins)
{
	double start = now_seconds();
	int failures, missing;

	load_init_probes(probe_combined, cfg);
	if (load_phase(cfg, exams, logins, probe_combined) < 0)
		return 1;
	failures = load_report_uploads(cfg, exams, now_seconds() - start);
	failures += load_report_phase("combined", cfg, logins, probe_combined);
	missing = load_verify_lists(cfg, exams);
	printf("lists: %d exams missing or listed more than once\n", missing);
	return failures + missing;
}

int main(int argc, char **argv)
{
	struct load_config cfg;
	struct load_exam *exams;
	struct load_login *logins;
	int i, failures = 0;

	if (load_parse(&cfg, argc, argv) < 0)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	exams = calloc((size_t)cfg.clients + 1, sizeof(*exams));
	logins = calloc((size_t)cfg.logins + 1, sizeof(*logins));
	if (exams == NULL || logins == NULL || load_sessions(&cfg) < 0)
		return 1;
	for (i = 0; i < cfg.clients; i++) {
		crypto_uuid(exams[i].uuid);
		exams[i].user = i % cfg.users;
	}

	/* Logins run before the uploads fill the database, so the probes'
	 * latency in that phase reflects the password checks, not the cost of
	 * writing to a large database. */
	failures += load_run_control(&cfg);
	failures += load_run_logins(&cfg, logins);
	failures += load_run_combined(&cfg, exams, logins);

	for (i = 0; i < cfg.users; i++)
		crypto_wipe(cfg.tokens[i], LOAD_TOKEN_LEN);
	free(cfg.tokens);
	free(exams);
	free(logins);
	curl_global_cleanup();
	printf("%s\n", failures == 0 ? "cloud_load: all checks passed" : "cloud_load: FAILED");
	return failures == 0 ? 0 : 1;
}
