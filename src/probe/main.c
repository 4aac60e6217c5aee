/* sonoprobe: the scanner simulator.  Parses the command line, loads or
 * creates the TLS identity, opens the frame source and runs the server. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sono/cli.h"
#include "sono/config.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/tls.h"
#include "probe/server.h"
#include "probe/stations.h"

#define DEFAULT_LISTEN "127.0.0.1:18944"
#define DEFAULT_FPS 30
#define IDENTITY_DAYS 3650

struct probe_options {
	struct probe_server_config server;
	const char *source_spec;
	enum source_motion motion;
	const char *identity_dir;
	struct station_list stations; /* empty: any station may connect (lab mode) */
	int insecure;
	int serial_given;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoprobe [OPTION]...\n"
		"Stream ultrasound frames to a Sonoterm station over TLS (OpenIGTLink).\n"
		"\n"
		"      --source SPEC        phantom (default) or dicom:PATH, a file or a folder\n"
		"      --motion MODE        none (default: pixels as stored) or drift\n"
		"      --listen HOST:PORT   address to serve on (default " DEFAULT_LISTEN ");\n"
		"                           port 0 picks a free port\n"
		"      --fps N              frames per second, 1 to 120 (default %d)\n"
		"      --serial S           scanner serial for a new identity and the hello\n"
		"      --identity DIR       certificate and key folder, created on first run\n"
		"                           (default $XDG_DATA_HOME/sonoprobe)\n"
		"      --duration SECONDS   stop after this long (default: until SIGINT/SIGTERM)\n"
		"      --allow-station SHA256:HEX\n"
		"                           stream only to a station whose certificate has\n"
		"                           this fingerprint ('sonoterm identity' prints it);\n"
		"                           repeatable\n"
		"      --stations FILE      allowed station fingerprints, one a line, '#'\n"
		"                           starts a comment; repeatable\n"
		"                           Without either, any station may connect (lab mode).\n"
		"      --insecure-igtl      serve plain OpenIGTLink over TCP for lab tools\n"
		"  -v, --verbose            log control commands and connections in detail\n"
		"  -h, --help               show this help and exit\n"
		"  -V, --version            show version information and exit\n"
		"\n"
		"At start it prints 'fingerprint SHA256:<hex>' (TLS only) and\n"
		"'listening HOST:PORT' on standard output.\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 identity or TLS failure.\n",
		DEFAULT_FPS);
}

static int parse_fps(const char *arg, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || arg[0] == '-' || v < 1 || v > 120)
		return SONO_EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Parses HOST:PORT, where PORT may be 0 (cli_parse_hostport rejects it). */
static int parse_listen(const char *arg, struct probe_server_config *s)
{
	char copy[300];
	size_t len = strlen(arg);

	if (len >= sizeof(copy) - 1)
		return SONO_EINVAL;
	memcpy(copy, arg, len + 1);
	if (len >= 2 && strcmp(copy + len - 2, ":0") == 0) {
		copy[len - 1] = '1';
		if (cli_parse_hostport(copy, s->host, sizeof(s->host), &s->port) < 0)
			return SONO_EINVAL;
		s->port = 0;
		return 0;
	}
	return cli_parse_hostport(copy, s->host, sizeof(s->host), &s->port);
}

static int parse_one(struct probe_options *o, int c, const char *arg)
{
	switch (c) {
	case 's': o->source_spec = arg; return 0;
	case 'm':
		if (strcmp(arg, "none") == 0)
			o->motion = SOURCE_MOTION_NONE;
		else if (strcmp(arg, "drift") == 0)
			o->motion = SOURCE_MOTION_DRIFT;
		else
			return SONO_EINVAL;
		return 0;
	case 'l': return parse_listen(arg, &o->server);
	case 'f': return parse_fps(arg, &o->server.fps);
	case 'S':
		if (arg[0] == '\0' || strlen(arg) >= sizeof(o->server.serial) ||
		    strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(arg))
			return SONO_EINVAL;
		snprintf(o->server.serial, sizeof(o->server.serial), "%s", arg);
		o->serial_given = 1;
		return 0;
	case 'i': o->identity_dir = arg; return 0;
	case 'd': {
		char *end;

		errno = 0;
		o->server.duration_s = strtoul(arg, &end, 10);
		return (errno || *end || arg[0] == '-' || o->server.duration_s == 0) ? SONO_EINVAL : 0;
	}
	case 'A': return station_list_add(&o->stations, arg);
	case 'F': {
		char err[600];
		int rc = station_list_load(&o->stations, arg, err, sizeof(err));

		if (rc < 0)
			fprintf(stderr, "sonoprobe: %s\n", err);
		return rc;
	}
	case 'I': o->insecure = 1; return 0;
	case 'v': log_set_level(LOG_LEVEL_INFO); return 0;
	}
	return SONO_EINVAL;
}

/* Returns -1 to continue, or an exit code. */
static int parse_options(int argc, char **argv, struct probe_options *o)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' }, { "motion", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' }, { "fps", required_argument, NULL, 'f' },
		{ "serial", required_argument, NULL, 'S' }, { "identity", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' }, { "insecure-igtl", no_argument, NULL, 'I' },
		{ "allow-station", required_argument, NULL, 'A' },
		{ "stations", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	int c, index = 0;

	while ((c = getopt_long(argc, argv, "vhV", longopts, &index)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == 'V') {
			cli_print_version(stdout, "sonoprobe");
			return EXIT_OK;
		}
		if (c == '?' || parse_one(o, c, optarg) < 0) {
			if (c != '?')
				cli_usage_error("sonoprobe", "invalid value '%s' for --%s", optarg,
					longopts[index].name);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error("sonoprobe", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->insecure && o->stations.count > 0) {
		cli_usage_error("sonoprobe", "--allow-station and --stations need TLS; "
			"drop --insecure-igtl");
		return EXIT_USAGE;
	}
	return -1;
}

/* Reads the serialNumber of a certificate file's subject into out. */
static int certificate_serial(const char *cert_file, char *out, size_t outlen)
{
	FILE *f = fopen(cert_file, "r");
	X509 *cert;
	int n = -1;

	if (!f)
		return SONO_ENOTFOUND;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!cert)
		return SONO_EINVAL;
	if (outlen <= 0x7fffffff)
		n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_serialNumber, out,
			(int)outlen);
	X509_free(cert);
	return n < 0 ? SONO_ENOTFOUND : 0;
}

static void default_serial(char *out, size_t outlen)
{
	uint8_t bytes[4] = { 0 };
	char hex[9];

	crypto_random(bytes, sizeof(bytes));
	crypto_hex(bytes, sizeof(bytes), hex);
	snprintf(out, outlen, "SP-%s", hex);
}

/* Loads the identity in dir, creating it with mode 0600 on first run, and
 * builds the server context.  Returns 0 or an exit code. */
static int load_identity(struct probe_options *o, char *cert, char *key, size_t pathlen)
{
	char dir[4096], serial[64] = "", err[512], fingerprint[TLS_FINGERPRINT_LEN];

	if (o->identity_dir)
		snprintf(dir, sizeof(dir), "%s", o->identity_dir);
	else if (config_xdg_dir("DATA", "sonoprobe", dir, sizeof(dir)) < 0)
		return EXIT_USAGE;
	if (config_mkdirs(dir, 0700) < 0) {
		fprintf(stderr, "sonoprobe: cannot create the identity folder %s: %s\n", dir, strerror(errno));
		return EXIT_SECURITY;
	}
	snprintf(cert, pathlen, "%s/scanner.crt", dir);
	snprintf(key, pathlen, "%s/scanner.key", dir);

	if (access(cert, F_OK) == 0) {
		if (certificate_serial(cert, serial, sizeof(serial)) < 0) {
			fprintf(stderr, "sonoprobe: %s has no serialNumber in its subject; "
				"remove the folder to create a new identity\n", cert);
			return EXIT_SECURITY;
		}
		if (o->serial_given && strcmp(serial, o->server.serial) != 0) {
			fprintf(stderr, "sonoprobe: the identity in %s has serial %s, not %s; "
				"pass another --identity folder for a new serial\n", dir, serial,
				o->server.serial);
			return EXIT_USAGE;
		}
		snprintf(o->server.serial, sizeof(o->server.serial), "%s", serial);
	} else {
		if (!o->serial_given)
			default_serial(o->server.serial, sizeof(o->server.serial));
		/* RSA, so that a TLS 1.2 station negotiates ECDHE-RSA-AES256-GCM-SHA384. */
		if (tls_generate_identity(cert, key, "sonoprobe", o->server.serial, NULL, 1,
		    IDENTITY_DAYS, err, sizeof(err)) < 0) {
			fprintf(stderr, "sonoprobe: cannot create an identity in %s: %s\n", dir, err);
			return EXIT_SECURITY;
		}
		LOG_NOTICE("created a new identity with serial %s in %s", o->server.serial, dir);
	}
	if (tls_file_fingerprint(cert, fingerprint) < 0) {
		fprintf(stderr, "sonoprobe: cannot read %s\n", cert);
		return EXIT_SECURITY;
	}
	printf("fingerprint %s\n", fingerprint);
	fflush(stdout);
	return 0;
}

/* Makes the server require a listed station certificate, or warns that
 * any station may connect.  Returns 0 or an exit code. */
static int restrict_stations(struct probe_options *o)
{
	if (o->stations.count == 0) {
		LOG_WARN("no --allow-station or --stations given: any station that reaches this "
			"port may connect and control the scanner (lab mode)");
		return 0;
	}
	if (tls_server_allow_clients(o->server.ctx, (const char *const *)o->stations.fingerprints,
	    o->stations.count) < 0) {
		fprintf(stderr, "sonoprobe: cannot install the allowed station list\n");
		return EXIT_SECURITY;
	}
	LOG_NOTICE("streaming only to %zu paired station%s", o->stations.count,
		o->stations.count == 1 ? "" : "s");
	return 0;
}

static int setup_tls(struct probe_options *o)
{
	char cert[4200], key[4200], err[512];
	int rc;

	if (o->insecure) {
		LOG_WARN("serving plain OpenIGTLink without TLS (--insecure-igtl): frames travel "
			"unencrypted and stations cannot verify this scanner");
		if (!o->serial_given)
			snprintf(o->server.serial, sizeof(o->server.serial), "unverified");
		return 0;
	}
	rc = load_identity(o, cert, key, sizeof(cert));
	if (rc)
		return rc;
	o->server.ctx = tls_server_ctx(cert, key, err, sizeof(err));
	if (!o->server.ctx) {
		fprintf(stderr, "sonoprobe: cannot set up TLS with %s: %s\n", cert, err);
		return EXIT_SECURITY;
	}
	return restrict_stations(o);
}

static int open_source(struct probe_options *o)
{
	char err[512];
	int rc;

	rc = source_open(&o->server.source, o->source_spec, o->motion, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sonoprobe: cannot open source '%s': %s\n", o->source_spec, err);
		return (rc == SONO_ENOMEM || rc == SONO_EIO) ? EXIT_FAILURE_RUN : EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct probe_options o = { .source_spec = "phantom", .motion = SOURCE_MOTION_NONE };
	struct sigaction sa;
	int rc;

	o.server.fps = DEFAULT_FPS;
	parse_listen(DEFAULT_LISTEN, &o.server);
	log_open("sonoprobe", LOG_TARGET_STDERR, NULL);
	rc = parse_options(argc, argv, &o);
	if (rc >= 0) {
		station_list_free(&o.stations);
		return rc;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = open_source(&o);
	if (rc == 0)
		rc = setup_tls(&o);
	if (rc == 0) {
		LOG_NOTICE("scanner %s starting with source %s", o.server.serial, o.source_spec);
		rc = probe_server_run(&o.server, &stop_requested) < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
		LOG_NOTICE("scanner %s stopped", o.server.serial);
	}
	SSL_CTX_free(o.server.ctx);
	source_close(o.server.source);
	station_list_free(&o.stations);
	return rc;
}
