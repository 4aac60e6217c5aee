/* `sonocloud serve`: opens the data folder, builds the TLS context and runs
 * the HTTPS server until SIGTERM or SIGINT. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sono/cli.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/tls.h"
#include "cloud/http.h"
#include "cloud/resets.h"
#include "cloud/routes.h"
#include "cloud/server.h"

/* Certificate and key that `sonocloud init` writes into the data folder. */
#define SERVE_CERT_NAME "cert.pem"
#define SERVE_KEY_NAME "key.pem"
#define SERVE_OUTBOX_NAME "outbox"
#define SERVE_PATH_MAX 4096

struct serve_options {
	const char *data_dir;
	const char *listen;
	const char *cert;
	const char *key;
	const char *outbox;
	const char *public_host;
	const char *log_file;
	enum log_level log_level;
	struct cloud_http_options http;
	struct sessions_limits limits;
	long reset_seconds;
	char host[256];
	char cert_buf[SERVE_PATH_MAX];
	char key_buf[SERVE_PATH_MAX];
	char outbox_buf[SERVE_PATH_MAX];
	char host_buf[256];
	char public_host_buf[300];
};

static void serve_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud serve --data-dir DIR [OPTION]...\n"
		"Serve the sonocloud API and pages over HTTPS until SIGTERM or SIGINT.\n"
		"\n"
		"  --data-dir DIR          data folder made by 'sonocloud init' (required)\n"
		"  --listen HOST:PORT      address to listen on (default 127.0.0.1:8443)\n"
		"  --cert FILE             PEM certificate (default DIR/" SERVE_CERT_NAME ")\n"
		"  --key FILE              PEM private key (default DIR/" SERVE_KEY_NAME ")\n"
		"  --outbox DIR            Maildir folder for reset and enrolment mail\n"
		"                          (default DIR/" SERVE_OUTBOX_NAME ")\n"
		"  --public-host HOST      host[:port] used in links sent by mail (default:\n"
		"                          the host name given to init, with the listen port)\n"
		"  --workers N             event-loop threads, 1-%d (default 4)\n"
		"  --slow-threads N        password-hashing threads, 1-%d (default 2)\n"
		"  --storage-threads N     threads for database calls, 1-%d (default 4)\n"
		"  --max-connections N     open connections before new ones are closed\n"
		"                          (default 1000, lowered to fit the open-file limit)\n"
		"  --request-timeout SEC   time allowed for one whole request, including the\n"
		"                          TLS handshake and the body (default 30)\n"
		"  --session-idle SEC      session idle expiry (default %d)\n"
		"  --session-absolute SEC  session absolute expiry (default %d)\n"
		"  --reset-lifetime SEC    lifetime of password reset links (default %d)\n"
		"  --log-file FILE         log to FILE (mode 0600) instead of stderr\n"
		"  --log-level LEVEL       error, warn, notice, info or debug (default notice)\n"
		"  -h, --help              show this help and exit\n"
		"\n"
		"Exit status: 0 after a clean stop, 1 when the server fails, 2 for a usage\n"
		"error, 3 when the certificate or key cannot be used.\n",
		CLOUD_HTTP_WORKERS_MAX, CLOUD_HTTP_SLOW_THREADS_MAX, CLOUD_HTTP_SLOW_THREADS_MAX,
		SESSIONS_IDLE_DEFAULT, SESSIONS_ABSOLUTE_DEFAULT, RESETS_RESET_SECONDS);
}

/* Parses a decimal integer option in [min, max]. */
static int serve_number(const char *name, const char *text, long min, long max, long *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (text[0] == '\0' || *end != '\0' || v < min || v > max) {
		cli_usage_error("sonocloud serve", "invalid %s '%s': expected %ld to %ld",
			name, text, min, max);
		return SONO_EINVAL;
	}
	*out = v;
	return 0;
}

enum {
	OPT_DATA_DIR = 256, OPT_LISTEN, OPT_CERT, OPT_KEY, OPT_OUTBOX, OPT_PUBLIC_HOST,
	OPT_WORKERS, OPT_SLOW, OPT_STORAGE, OPT_MAX_CONNECTIONS, OPT_TIMEOUT, OPT_IDLE, OPT_ABSOLUTE, OPT_RESET_LIFETIME, OPT_LOG_FILE, OPT_LOG_LEVEL,
};

static const struct option serve_longopts[] = {
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "outbox", required_argument, NULL, OPT_OUTBOX },
	{ "public-host", required_argument, NULL, OPT_PUBLIC_HOST },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "slow-threads", required_argument, NULL, OPT_SLOW },
	{ "storage-threads", required_argument, NULL, OPT_STORAGE },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "request-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "session-idle", required_argument, NULL, OPT_IDLE },
	{ "session-absolute", required_argument, NULL, OPT_ABSOLUTE },
	{ "reset-lifetime", required_argument, NULL, OPT_RESET_LIFETIME },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Applies one numeric option.  Returns 0 or SONO_EINVAL. */
static int serve_set_number(struct serve_options *o, int opt, const char *arg)
{
	long v = 0;
	int rc;

	switch (opt) {
	case OPT_WORKERS:
		rc = serve_number("--workers", arg, 1, CLOUD_HTTP_WORKERS_MAX, &v);
		o->http.workers = (int)v;
		return rc;
	case OPT_SLOW:
		rc = serve_number("--slow-threads", arg, 1, CLOUD_HTTP_SLOW_THREADS_MAX, &v);
		o->http.slow_threads = (int)v;
		return rc;
	case OPT_STORAGE:
		rc = serve_number("--storage-threads", arg, 1, CLOUD_HTTP_SLOW_THREADS_MAX, &v);
		o->http.storage_threads = (int)v;
		return rc;
	case OPT_MAX_CONNECTIONS:
		rc = serve_number("--max-connections", arg, 1, 1000000, &v);
		o->http.max_connections = (int)v;
		return rc;
	case OPT_TIMEOUT:
		rc = serve_number("--request-timeout", arg, 1, 3600, &v);
		o->http.request_timeout_s = (int)v;
		return rc;
	case OPT_IDLE:
		rc = serve_number("--session-idle", arg, 1, 7 * 86400, &v);
		o->limits.idle_seconds = v;
		return rc;
	case OPT_RESET_LIFETIME:
		rc = serve_number("--reset-lifetime", arg, 1, 7 * 86400, &v);
		o->reset_seconds = v;
		return rc;
	default:
		rc = serve_number("--session-absolute", arg, 1, 30 * 86400, &v);
		o->limits.absolute_seconds = v;
		return rc;
	}
}

static int serve_set_option(struct serve_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DATA_DIR: o->data_dir = arg; return 0;
	case OPT_LISTEN: o->listen = arg; return 0;
	case OPT_CERT: o->cert = arg; return 0;
	case OPT_KEY: o->key = arg; return 0;
	case OPT_OUTBOX: o->outbox = arg; return 0;
	case OPT_PUBLIC_HOST: o->public_host = arg; return 0;
	case OPT_LOG_FILE: o->log_file = arg; return 0;
	case OPT_LOG_LEVEL:
		if (log_parse_level(arg, &o->log_level) == 0)
			return 0;
		cli_usage_error("sonocloud serve", "invalid --log-level '%s'", arg);
		return SONO_EINVAL;
	default:
		return serve_set_number(o, opt, arg);
	}
}

/* Fills the defaults that depend on the data folder. */
static int serve_fill_defaults(struct serve_options *o)
{
	if (o->data_dir == NULL) {
		cli_usage_error("sonocloud serve", "missing --data-dir");
		return SONO_EINVAL;
	}
	if (cli_parse_hostport(o->listen, o->host, sizeof(o->host), &o->http.port) < 0) {
		cli_usage_error("sonocloud serve", "invalid --listen '%s': expected HOST:PORT",
			o->listen);
		return SONO_EINVAL;
	}
	o->http.host = o->host;
	if (o->cert == NULL) {
		snprintf(o->cert_buf, sizeof(o->cert_buf), "%s/%s", o->data_dir, SERVE_CERT_NAME);
		o->cert = o->cert_buf;
	}
	if (o->key == NULL) {
		snprintf(o->key_buf, sizeof(o->key_buf), "%s/%s", o->data_dir, SERVE_KEY_NAME);
		o->key = o->key_buf;
	}
	if (o->outbox == NULL) {
		snprintf(o->outbox_buf, sizeof(o->outbox_buf), "%s/%s", o->data_dir,
			SERVE_OUTBOX_NAME);
		o->outbox = o->outbox_buf;
	}
	return 0;
}

static int serve_parse(struct serve_options *o, int argc, char **argv)
{
	int opt;

	memset(o, 0, sizeof(*o));
	cloud_http_default_options(&o->http);
	o->listen = "127.0.0.1:8443";
	o->log_level = LOG_LEVEL_NOTICE;
	o->limits.idle_seconds = SESSIONS_IDLE_DEFAULT;
	o->limits.absolute_seconds = SESSIONS_ABSOLUTE_DEFAULT;
	o->reset_seconds = RESETS_RESET_SECONDS;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", serve_longopts, NULL)) != -1) {
		if (opt == 'h') {
			serve_usage(stdout);
			return 1;
		}
		if (opt == '?' || serve_set_option(o, opt, optarg) < 0)
			return SONO_EINVAL;
	}
	if (optind < argc) {
		cli_usage_error("sonocloud serve", "unexpected argument '%s'", argv[optind]);
		return SONO_EINVAL;
	}
	return serve_fill_defaults(o);
}

/* Blocks the stop signals before any thread starts (threads inherit the
 * mask), so that only the main thread takes them, in sigwait. */
static void serve_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Raises the open-file limit to its hard maximum and keeps the connection
 * limit below it, with room for the database, logs and listening sockets.
 * Without this, accept() failing with EMFILE would leave new connections
 * waiting in the backlog. */
static void serve_fit_connections(struct serve_options *o)
{
	struct rlimit limit;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return;
	if (limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
			getrlimit(RLIMIT_NOFILE, &limit);
	}
	room = limit.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)limit.rlim_cur - 64 - o->http.workers;
	if (room < 1)
		room = 1;
	if (o->http.max_connections > room) {
		LOG_WARN("lowering the connection limit from %d to %ld to fit the open-file limit "
			"of %llu", o->http.max_connections, room, (unsigned long long)limit.rlim_cur);
		o->http.max_connections = (int)room;
	}
}

/* Opens the database and loads the common-password list into app.
 * Returns 0, or a negative SONO_E* code after logging why. */
static int serve_open_storage(struct serve_options *o, struct cloud_app *app)
{
	char err[512];
	int rc;

	rc = db_open(&app->db, o->data_dir, err, sizeof(err));
	if (rc < 0) {
		LOG_ERROR("cannot open the data folder %s: %s", o->data_dir, err);
		return rc;
	}
	rc = accounts_load_password_list(NULL);
	if (rc < 0) {
		LOG_ERROR("cannot load the common-password list (set SONOCLOUD_PASSWORD_LIST "
			"or install common-passwords.txt): %s", sono_strerror(rc));
		return rc;
	}
	if (o->public_host == NULL) {
		if (db_meta_get(app->db, "hostname", o->host_buf, sizeof(o->host_buf)) < 0)
			snprintf(o->host_buf, sizeof(o->host_buf), "localhost");
		snprintf(o->public_host_buf, sizeof(o->public_host_buf), "%s:%u", o->host_buf,
			o->http.port);
		o->public_host = o->public_host_buf;
	}
	resets_set_reset_seconds(o->reset_seconds);
	app->outbox_dir = o->outbox;
	app->public_host = o->public_host;
	app->limits = o->limits;
	return 0;
}

/* Serves until SIGTERM or SIGINT.  Returns a process exit code. */
static int serve_run(struct serve_options *o)
{
	struct cloud_app app = { 0 };
	struct cloud_http *http = NULL;
	char err[512], fingerprint[TLS_FINGERPRINT_LEN], address[128];
	int code = EXIT_FAILURE_RUN, sig = 0;
	sigset_t set;

	o->http.ssl_ctx = tls_server_ctx(o->cert, o->key, err, sizeof(err));
	if (o->http.ssl_ctx == NULL || tls_file_fingerprint(o->cert, fingerprint) < 0) {
		LOG_ERROR("cannot use certificate %s with key %s: %s", o->cert, o->key, err);
		code = EXIT_SECURITY;
		goto out;
	}
	if (serve_open_storage(o, &app) < 0)
		goto out;

	serve_fit_connections(o);
	serve_block_signals(&set);
	o->http.head_check = cloud_routes_check_head;
	o->http.head_work = cloud_routes_check_session;
	o->http.head_arg = &app;
	if (cloud_http_start(&http, &o->http, cloud_routes_handle, &app, err, sizeof(err)) < 0) {
		LOG_ERROR("cannot start the server on %s: %s", o->listen, err);
		goto out;
	}
	cloud_http_address(http, address, sizeof(address));
	LOG_NOTICE("serving https://%s/ with certificate %s, %d workers, %d password and %d "
		"storage threads, at most %d connections", address, fingerprint, o->http.workers,
		o->http.slow_threads, o->http.storage_threads, o->http.max_connections);

	while (sigwait(&set, &sig) != 0)
		;
	LOG_NOTICE("stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	cloud_http_stop(http);
	LOG_NOTICE("stopped");
	code = EXIT_OK;
out:
	db_close(app.db);
	accounts_free_password_list();
	SSL_CTX_free(o->http.ssl_ctx);
	return code;
}

int cloud_serve_main(int argc, char **argv)
{
	struct serve_options o;
	int rc, code;

	rc = serve_parse(&o, argc, argv);
	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (o.log_file != NULL &&
	    log_open("sonocloud", LOG_TARGET_FILE, o.log_file) < 0) {
		fprintf(stderr, "sonocloud serve: cannot open log file %s\n", o.log_file);
		return EXIT_USAGE;
	}
	log_set_level(o.log_level);
	code = serve_run(&o);
	log_close();
	return code;
}
