/* sonoterm capture: record a cine of N frames from a scanner into a new,
 * completed exam for the patient in a patient file, without the screens. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/cli.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/commands.h"
#include "station/exam.h"
#include "station/permit.h"
#include "station/scanner.h"
#include "station/store_cli.h"

#define CAPTURE_COMMAND "sonoterm capture"
#define CAPTURE_DEFAULT_TIMEOUT_S 30

struct capture_options {
	struct scanner_config cfg;
	struct store_cli cli;
	const char *patient_path;
	const char *preset;
	unsigned long frames;
	unsigned long timeout_s;
	double gain_db;
	int have_gain;
	int need_permit; /* no --pin: use the login's scanner permissions */
};

static void capture_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm capture --scanner HOST:PORT [--pin SHA256:HEX] --frames N\n"
		"                        --patient FILE|- [OPTION]...\n"
		"Record a cine of N frames into a new completed exam and print its UUID.\n"
		"\n"
		"      --scanner HOST:PORT    scanner address (IPv6 as [ADDR]:PORT)\n"
		"      --pin SHA256:HEX       fingerprint of the scanner certificate; without\n"
		"                             it the scanner must be one the logged-in user\n"
		"                             is permitted ('sonoterm login')\n"
		"      --frames N             frames to record (1 to %d)\n"
		"      --patient FILE         patient file of 'key = value' lines, or - for\n"
		"                             standard input; keys: patient_id, family_name,\n"
		"                             given_name, middle_name, birth_date (YYYY-MM-DD),\n"
		"                             sex (M, F, O or unknown), accession,\n"
		"                             referring_physician, indication, notes\n"
		"      --preset NAME          exam type recorded with the exam (default none)\n"
		"      --gain DB              set the scanner's gain in dB before recording\n"
		"      --timeout SECONDS      give up after this long (default %d)\n"
		STORE_CLI_HELP_DATA_DIR
		"                             (default $XDG_DATA_HOME/sonoterm)\n"
		STORE_CLI_HELP_PASSPHRASE_FILE
		STORE_CLI_HELP_LOG_VERBOSE_HELP
		"\n"
		"Patient data is read only from the file, never from the command line, where\n"
		"other users of the machine could see it.\n"
		"Exit status: 0 success, 1 failure, 2 usage or patient file error, 3 TLS or\n"
		"pin failure, scanner not permitted or wrong store key, 4 scanner unreachable.\n",
		EXAM_CINE_MAX_FRAMES, CAPTURE_DEFAULT_TIMEOUT_S);
}

static int parse_gain(const char *arg, struct capture_options *o)
{
	char *end;

	errno = 0;
	o->gain_db = strtod(arg, &end);
	if (errno || *end || arg[0] == '\0' || o->gain_db < -30 || o->gain_db > 30)
		return SONO_EINVAL;
	o->have_gain = 1;
	return SONO_OK;
}

/* Checks the options after parsing.  Returns EXIT_OK or EXIT_USAGE. */
static int check_options(struct capture_options *o, const char *scanner, const char *pin)
{
	char msg[160];

	if (!scanner || cli_parse_hostport(scanner, o->cfg.host, sizeof(o->cfg.host), &o->cfg.port)) {
		cli_usage_error(CAPTURE_COMMAND, "--scanner HOST:PORT is missing or invalid");
		return EXIT_USAGE;
	}
	if (!pin)
		o->need_permit = 1;
	else if (tls_pin_normalize(pin, o->cfg.pin) != 0) {
		cli_usage_error(CAPTURE_COMMAND, "--pin SHA256:<64 hex digits> is invalid");
		return EXIT_USAGE;
	}
	if (o->frames == 0) {
		cli_usage_error(CAPTURE_COMMAND, "--frames N is missing");
		return EXIT_USAGE;
	}
	if (!o->patient_path) {
		cli_usage_error(CAPTURE_COMMAND, "--patient FILE (or - for standard input) is missing");
		return EXIT_USAGE;
	}
	if (exam_check_preset(o->preset, msg, sizeof(msg)) != 0) {
		cli_usage_error(CAPTURE_COMMAND, "--preset: %s", msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int parse_options(int argc, char **argv, struct capture_options *o, int *help)
{
	static const struct option longopts[] = {
		{ "scanner", required_argument, NULL, 's' }, { "pin", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' }, { "patient", required_argument, NULL, 'P' },
		{ "preset", required_argument, NULL, 'r' }, { "gain", required_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' }, STORE_CLI_LONGOPTS_STORE,
		STORE_CLI_LONGOPT_LOG, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *scanner = NULL, *pin = NULL;
	int c;

	while ((c = store_cli_getopt(argc, argv, "vh", longopts, &o->cli)) != -1) {
		switch (c) {
		case 's': scanner = optarg; break;
		case 'p': pin = optarg; break;
		case 'n':
			if (cli_parse_count(optarg, EXAM_CINE_MAX_FRAMES, &o->frames) != 0)
				goto bad_number;
			break;
		case 't':
			if (cli_parse_count(optarg, 86400, &o->timeout_s) != 0)
				goto bad_number;
			break;
		case 'g':
			if (parse_gain(optarg, o) != 0)
				goto bad_number;
			break;
		case 'P': o->patient_path = optarg; break;
		case 'r': o->preset = optarg; break;
		case 'v': log_set_level(LOG_LEVEL_INFO); break;
		case 'h':
			capture_usage(stdout);
			*help = 1;
			return EXIT_OK;
		default:
			cli_usage_error(CAPTURE_COMMAND, "invalid option");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error(CAPTURE_COMMAND, "unexpected argument '%s'; patient data belongs in "
			"the --patient file", argv[optind]);
		return EXIT_USAGE;
	}
	return check_options(o, scanner, pin);
bad_number:
	cli_usage_error(CAPTURE_COMMAND, "invalid number '%s'", optarg);
	return EXIT_USAGE;
}

/* Reads and validates the patient file.  Returns EXIT_OK or EXIT_USAGE. */
static int load_patient(const char *path, struct patient *p)
{
	char msg[512];
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	int rc;

	if (!f) {
		fprintf(stderr, CAPTURE_COMMAND ": cannot open patient file %s: %s\n", path,
			strerror(errno));
		return EXIT_USAGE;
	}
	rc = patient_read(p, f, NULL, msg, sizeof(msg));
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		fprintf(stderr, CAPTURE_COMMAND ": patient file %s: %s\n",
			strcmp(path, "-") ? path : "(standard input)", msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One capture run: the scanner link, the store and the cine being written. */
struct capture_run {
	const struct capture_options *o;
	struct scanner *scanner;
	struct mailbox *mb;
	struct store *store;
	struct exam_cine *cine;
	char uuid[CRYPTO_UUID_LEN];
	unsigned long stored;
	int64_t deadline_ms;
};

/* Waits for the next frame.  Returns 1 with a frame in f, or 0 after the
 * deadline, a signal or a failed link. */
static int next_frame(struct capture_run *r, struct frame *f)
{
	struct scanner_stats st;

	while (!cli_stop_requested() && now_ms() < r->deadline_ms) {
		if (mailbox_take(r->mb, f, 100) == 1)
			return 1;
		scanner_get_stats(r->scanner, &st);
		if (st.state == SCANNER_FAILED)
			return 0;
	}
	return 0;
}

/* Explains why frames stopped and returns the matching exit code. */
static int link_failure(struct capture_run *r)
{
	struct scanner_stats st;

	scanner_get_stats(r->scanner, &st);
	fprintf(stderr, CAPTURE_COMMAND ": %lu of %lu frames recorded; %s\n", r->stored,
		r->o->frames, cli_stop_requested() ? "interrupted by a signal" :
		st.last_error[0] ? st.last_error : "timed out waiting for frames");
	if (st.state == SCANNER_FAILED && st.error_kind == SCANNER_ERROR_SECURITY)
		return EXIT_SECURITY;
	if (st.connects == 0 && st.error_kind == SCANNER_ERROR_UNREACHABLE)
		return EXIT_UNAVAILABLE;
	return EXIT_FAILURE_RUN;
}

static void fill_acquisition(struct capture_run *r, const struct frame *first,
	struct exam_acquisition *acq)
{
	struct scanner_stats st;

	memset(acq, 0, sizeof(*acq));
	scanner_get_stats(r->scanner, &st);
	snprintf(acq->scanner_serial, sizeof(acq->scanner_serial), "%s", st.serial);
	acq->depth_mm = first->height * first->spacing_mm[1];
	acq->gain_db = r->o->have_gain ? r->o->gain_db : 0;
}

/* Creates the exam, records the cine starting with the frame in f, and
 * completes the exam.  Runs inside the caller's transaction. */
static int record_cine(struct capture_run *r, const struct patient *p, struct frame *f)
{
	struct exam_acquisition acq;
	int rc;

	fill_acquisition(r, f, &acq);
	rc = exam_create(r->store, p, r->o->preset, r->uuid);
	if (rc == 0)
		rc = exam_set_state(r->store, r->uuid, EXAM_SCANNING);
	if (rc == 0)
		rc = exam_cine_begin(r->store, r->uuid, &acq, &r->cine);
	while (rc == 0) {
		rc = exam_cine_add(r->cine, f);
		if (rc != 0 || ++r->stored == r->o->frames)
			break;
		if (!next_frame(r, f))
			return SONO_ETIMEOUT;
	}
	if (rc == 0) {
		rc = exam_cine_end(r->cine, NULL);
		r->cine = NULL;
	}
	if (rc == 0)
		rc = exam_set_state(r->store, r->uuid, EXAM_COMPLETED);
	return rc;
}

/* Rolls back the exam whose recording did not finish, so no empty or
 * partial exam stays. */
static void discard_exam(struct capture_run *r)
{
	exam_cine_abort(r->cine);
	r->cine = NULL;
	store_rollback(r->store);
	if (r->uuid[0])
		LOG_NOTICE("exam %s discarded because its recording did not finish", r->uuid);
}

static int run_capture(struct capture_run *r, const struct patient *p)
{
	struct frame f = { 0 };
	int rc;

	r->deadline_ms = now_ms() + (int64_t)r->o->timeout_s * 1000;
	if (r->o->have_gain)
		scanner_set_gain(r->scanner, r->o->gain_db);
	if (!next_frame(r, &f))
		return link_failure(r);
	/* One transaction from the new exam to its completion: a crash or a
	 * failed link at any point leaves no trace of this exam. */
	rc = store_begin(r->store);
	if (rc == 0)
		rc = record_cine(r, p, &f);
	if (rc == 0)
		rc = store_commit(r->store);
	frame_free(&f);
	if (rc == SONO_ETIMEOUT) {
		discard_exam(r);
		return link_failure(r);
	}
	if (rc != 0) {
		fprintf(stderr, CAPTURE_COMMAND ": storing the exam failed: %s\n", sono_strerror(rc));
		discard_exam(r);
		return EXIT_FAILURE_RUN;
	}
	printf("%s\n", r->uuid);
	LOG_NOTICE("exam %s completed with a cine of %lu frames", r->uuid, r->stored);
	return EXIT_OK;
}

/* Picks the pin and serial of a permitted scanner at the address. */
static int capture_permit(struct store *s, struct scanner_config *cfg)
{
	char err[1024];
	int rc;

	rc = permit_resolve(s, cfg, err, sizeof(err));
	if (rc == 0)
		return EXIT_OK;
	fprintf(stderr, CAPTURE_COMMAND ": %s\n", err);
	if (rc == SONO_EIO || rc == SONO_ETIMEOUT)
		return EXIT_UNAVAILABLE;
	return rc == SONO_ESTATE || rc == SONO_EAUTH ? EXIT_SECURITY : EXIT_FAILURE_RUN;
}

/* Loads the certificate the station presents to the scanner, from the
 * store's data folder.  Returns EXIT_OK or EXIT_SECURITY. */
static int load_identity(struct capture_options *o)
{
	char err[1200];

	if (station_identity_load(o->cli.data_dir, &o->cfg.identity, err, sizeof(err)) < 0) {
		fprintf(stderr, CAPTURE_COMMAND ": cannot load the station identity: %s\n", err);
		return EXIT_SECURITY;
	}
	return EXIT_OK;
}

int cmd_capture(int argc, char **argv)
{
	struct capture_options o = { .timeout_s = CAPTURE_DEFAULT_TIMEOUT_S };
	struct capture_run r = { .o = &o };
	struct patient p;
	int help = 0;
	int rc;

	scanner_config_defaults(&o.cfg);
	o.cfg.stop_on_security_error = 1;
	o.cfg.stop_on_connect_error = 1;
	patient_init(&p);
	rc = parse_options(argc, argv, &o, &help);
	if (rc != EXIT_OK || help)
		return rc;
	rc = store_cli_log(CAPTURE_COMMAND, o.cli.log_path);
	if (rc == EXIT_OK)
		rc = load_patient(o.patient_path, &p);
	if (rc == EXIT_OK)
		rc = store_cli_open(CAPTURE_COMMAND, &o.cli, 1, &r.store, NULL);
	if (rc == EXIT_OK)
		rc = load_identity(&o);
	if (rc == EXIT_OK && o.need_permit)
		rc = capture_permit(r.store, &o.cfg);
	if (rc != EXIT_OK)
		goto out;

	cli_catch_stop_signals();
	r.mb = mailbox_new();
	if (!r.mb || scanner_start(&r.scanner, &o.cfg, r.mb) != 0) {
		fprintf(stderr, CAPTURE_COMMAND ": cannot start the scanner client\n");
		rc = EXIT_FAILURE_RUN;
		goto out;
	}
	rc = run_capture(&r, &p);
out:
	scanner_stop(r.scanner);
	mailbox_free(r.mb);
	store_close(r.store);
	patient_clear(&p);
	log_close();
	return rc;
}
