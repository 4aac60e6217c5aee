/* sonoterm link-test: a headless diagnostic of the scanner link.  It runs
 * the station's scanner client until N frames have arrived intact, optionally
 * dumps them as PGM or PPM, and prints link statistics. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sono/cli.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/log.h"
#include "station/commands.h"
#include "station/scanner.h"

#define LINKTEST_DEFAULT_FRAMES 100
/* Default --timeout: this many seconds plus 0.1 s per requested frame, so a
 * long run at 10 frames per second or more is not cut short. */
#define LINKTEST_DEFAULT_TIMEOUT_S 30

struct linktest_options {
	struct scanner_config cfg;
	unsigned long frames;
	unsigned long timeout_s;
	const char *dump_dir;
	const char *data_dir;    /* folder of the station identity; NULL: the default */
};

/* Counts from the consumer side of the mailbox. */
struct linktest_result {
	unsigned long taken;
	unsigned long dumped;
	uint64_t first_ns, last_ns;
	int dump_failed;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void linktest_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm link-test --scanner HOST:PORT --pin SHA256:HEX [OPTION]...\n"
		"Receive frames from a scanner and report link statistics.\n"
		"\n"
		"      --scanner HOST:PORT  scanner address (IPv6 as [ADDR]:PORT)\n"
		"      --pin SHA256:HEX     fingerprint of the scanner certificate\n"
		"      --serial S           also require this certificate serial\n"
		"      --frames N           frames to receive (default %d)\n"
		"      --dump DIR           write each frame taken as DIR/frame-NNNNNN.pgm (gray)\n"
		"                           or .ppm (colour); DIR must exist\n"
		"      --timeout SECONDS    give up after this long (default %d plus 0.1 per\n"
		"                           frame)\n"
		"      --insecure-igtl      plain OpenIGTLink over TCP, no TLS and no pin\n"
		"      --tls1.2             cap the handshake at TLS 1.2\n"
		"      --data-dir DIR       folder of the station certificate presented to the\n"
		"                           scanner (default $XDG_DATA_HOME/sonoterm)\n"
		"      --keep-trying        retry after TLS, pin and connect failures until\n"
		"                           --timeout, as the live screen does\n"
		"  -v, --verbose            log the link's progress to stderr\n"
		"  -h, --help               show this help and exit\n"
		"\n"
		"Exit status: 0 when N frames arrived intact, 1 when they did not in time,\n"
		"2 usage error, 3 TLS, pin or serial failure or a scanner that rejects this\n"
		"station's certificate, 4 scanner unreachable.\n",
		LINKTEST_DEFAULT_FRAMES, LINKTEST_DEFAULT_TIMEOUT_S);
}

/* Parses the command line.  Returns 0, or EXIT_USAGE after printing why. */
static int parse_options(int argc, char **argv, struct linktest_options *o, int *help)
{
	static const struct option longopts[] = {
		{ "scanner", required_argument, NULL, 's' }, { "pin", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 'S' }, { "frames", required_argument, NULL, 'n' },
		{ "dump", required_argument, NULL, 'd' }, { "timeout", required_argument, NULL, 't' },
		{ "insecure-igtl", no_argument, NULL, 'I' }, { "tls1.2", no_argument, NULL, '2' },
		{ "keep-trying", no_argument, NULL, 'k' }, { "verbose", no_argument, NULL, 'v' },
		{ "data-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *scanner = NULL, *pin = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': scanner = optarg; break;
		case 'p': pin = optarg; break;
		case 'S': snprintf(o->cfg.serial, sizeof(o->cfg.serial), "%s", optarg); break;
		case 'n':
			if (cli_parse_count(optarg, 1000000, &o->frames) < 0)
				goto bad_number;
			break;
		case 't':
			if (cli_parse_count(optarg, 86400, &o->timeout_s) < 0)
				goto bad_number;
			break;
		case 'd': o->dump_dir = optarg; break;
		case 'D': o->data_dir = optarg; break;
		case 'I': o->cfg.insecure_igtl = 1; break;
		case '2': o->cfg.tls12_only = 1; break;
		case 'k':
			o->cfg.stop_on_security_error = 0;
			o->cfg.stop_on_connect_error = 0;
			break;
		case 'v': log_set_level(LOG_LEVEL_INFO); break;
		case 'h':
			linktest_usage(stdout);
			*help = 1;
			return 0;
		default: goto usage;
		}
	}
	if (cli_check_no_operands("sonoterm link-test", argc, argv) != EXIT_OK)
		return EXIT_USAGE;
	if (!scanner || cli_parse_hostport(scanner, o->cfg.host, sizeof(o->cfg.host), &o->cfg.port) < 0) {
		cli_usage_error("sonoterm link-test", "--scanner HOST:PORT is missing or invalid");
		return EXIT_USAGE;
	}
	if (!o->cfg.insecure_igtl && (!pin || tls_pin_normalize(pin, o->cfg.pin) < 0)) {
		cli_usage_error("sonoterm link-test",
			"--pin SHA256:<64 hex digits> is missing or invalid (or pass --insecure-igtl)");
		return EXIT_USAGE;
	}
	return 0;
bad_number:
	cli_usage_error("sonoterm link-test", "invalid number '%s'", optarg);
	return EXIT_USAGE;
usage:
	cli_usage_error("sonoterm link-test", "invalid option");
	return EXIT_USAGE;
}

/* Writes f as binary PGM (1 component) or PPM (3 components).  The file is
 * mode 0600 and a symbolic link in its place is not followed, because a
 * frame can show patient details burned into the image. */
static int dump_frame(const char *dir, unsigned long index, const struct frame *f)
{
	char path[4096];
	size_t n = (size_t)f->width * f->height * f->components;
	FILE *out = NULL;
	int fd, ok;

	snprintf(path, sizeof(path), "%s/frame-%06lu.%s", dir, index,
		f->components == 1 ? "pgm" : "ppm");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && (fchmod(fd, 0600) != 0 || (out = fdopen(fd, "wb")) == NULL))
		close(fd);
	if (!out) {
		fprintf(stderr, "sonoterm link-test: cannot write %s: %s\n", path, strerror(errno));
		return SONO_EIO;
	}
	fprintf(out, "P%c\n%u %u\n255\n", f->components == 1 ? '5' : '6', f->width, f->height);
	ok = fwrite(f->pixels, 1, n, out) == n;
	if (fclose(out) != 0 || !ok) {
		fprintf(stderr, "sonoterm link-test: cannot write %s\n", path);
		return SONO_EIO;
	}
	return 0;
}

static void print_report(const struct linktest_options *o, const struct scanner_stats *st,
	const struct linktest_result *r)
{
	double seconds = r->last_ns > r->first_ns ? (double)(r->last_ns - r->first_ns) / 1e9 : 0;
	double rate = seconds > 0 && st->frames_received > 1 ?
		(double)(st->frames_received - 1) / seconds : 0;
	double mbps = st->seconds_connected > 0 ?
		(double)st->bytes_received / st->seconds_connected / 1e6 : 0;
	/* The client thread may count a frame or two past the target before
	 * receive_frames() reads the count; those were not requested. */
	uint64_t received = st->frames_received < o->frames ? st->frames_received : o->frames;

	printf("frames received: %llu of %lu\n", (unsigned long long)received, o->frames);
	printf("frames taken: %lu (dropped in the mailbox: %llu)\n", r->taken,
		(unsigned long long)st->frames_dropped);
	if (o->dump_dir)
		printf("frames dumped: %lu to %s\n", r->dumped, o->dump_dir);
	printf("frames per second: %.1f\n", rate);
	printf("latency p50: %.2f ms\n", st->latency_p50_ms);
	printf("latency p99: %.2f ms\n", st->latency_p99_ms);
	printf("throughput: %.2f MB/s (%llu bytes)\n", mbps, (unsigned long long)st->bytes_received);
	printf("tls: %s\n", st->tls);
	printf("scanner serial: %s\n", st->serial[0] ? st->serial : "unknown");
	printf("scanner model: %s\n", st->model[0] ? st->model : "unknown");
	printf("scanner frames sent: %llu (from its last STATUS)\n", (unsigned long long)st->frames_sent);
	printf("connections: %llu (errors: %llu)\n", (unsigned long long)st->connects,
		(unsigned long long)st->errors);
	if (st->last_error[0])
		printf("last error: %s\n", st->last_error);
}

/* Takes frames until enough have arrived, the deadline passes or the client
 * fails.  Returns the final statistics in *st. */
static void receive_frames(const struct linktest_options *o, struct scanner *s,
	struct mailbox *mb, struct scanner_stats *st, struct linktest_result *r)
{
	int64_t deadline = now_ms() + (int64_t)o->timeout_s * 1000;
	struct frame f = { 0 };

	for (;;) {
		if (mailbox_take(mb, &f, 100) == 1) {
			r->taken++;
			r->last_ns = frame_now_ns();
			if (r->first_ns == 0)
				r->first_ns = r->last_ns;
			if (o->dump_dir && !r->dump_failed) {
				if (dump_frame(o->dump_dir, r->taken, &f) < 0)
					r->dump_failed = 1;
				else
					r->dumped++;
			}
		}
		scanner_get_stats(s, st);
		if (st->frames_received >= o->frames || st->state == SCANNER_FAILED ||
		    r->dump_failed || now_ms() > deadline)
			break;
	}
	/* Dump a frame that arrived with the last count, so it is not lost. */
	if (r->taken < st->frames_received && mailbox_take(mb, &f, 0) == 1) {
		r->taken++;
		if (o->dump_dir && !r->dump_failed && dump_frame(o->dump_dir, r->taken, &f) == 0)
			r->dumped++;
	}
	frame_free(&f);
}

static int exit_code(const struct linktest_options *o, const struct scanner_stats *st,
	const struct linktest_result *r)
{
	if (st->frames_received >= o->frames && !r->dump_failed)
		return EXIT_OK;
	if (st->state == SCANNER_FAILED && st->error_kind == SCANNER_ERROR_SECURITY)
		return EXIT_SECURITY;
	if (st->connects == 0 && st->error_kind == SCANNER_ERROR_UNREACHABLE)
		return EXIT_UNAVAILABLE;
	return EXIT_FAILURE_RUN;
}

static int check_dump_dir(const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		cli_usage_error("sonoterm link-test", "--dump folder '%s' does not exist", dir);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_link_test(int argc, char **argv)
{
	struct linktest_options o = { .frames = LINKTEST_DEFAULT_FRAMES };
	struct linktest_result r = { 0 };
	struct scanner_stats st;
	struct mailbox *mb;
	struct scanner *s;
	char err[1200];
	int help = 0, rc;

	log_open("sonoterm", LOG_TARGET_STDERR, NULL);
	scanner_config_defaults(&o.cfg);
	o.cfg.stop_on_security_error = 1;
	o.cfg.stop_on_connect_error = 1;
	rc = parse_options(argc, argv, &o, &help);
	if (rc || help)
		return rc;
	if (o.dump_dir && check_dump_dir(o.dump_dir))
		return EXIT_USAGE;
	if (!o.cfg.insecure_igtl && station_identity_load(o.data_dir, &o.cfg.identity, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "sonoterm link-test: cannot load the station identity: %s\n", err);
		return EXIT_SECURITY;
	}
	if (o.timeout_s == 0)
		o.timeout_s = LINKTEST_DEFAULT_TIMEOUT_S + o.frames / 10;

	mb = mailbox_new();
	if (!mb || scanner_start(&s, &o.cfg, mb) < 0) {
		fprintf(stderr, "sonoterm link-test: cannot start the scanner client\n");
		mailbox_free(mb);
		return EXIT_FAILURE_RUN;
	}
	receive_frames(&o, s, mb, &st, &r);
	scanner_stop(s);
	mailbox_free(mb);

	print_report(&o, &st, &r);
	rc = exit_code(&o, &st, &r);
	if (rc != EXIT_OK)
		fprintf(stderr, "sonoterm link-test: %llu of %lu frames arrived; %s\n",
			(unsigned long long)st.frames_received, o.frames,
			st.last_error[0] ? st.last_error : "timed out");
	return rc;
}
