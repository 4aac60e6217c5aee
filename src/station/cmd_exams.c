/* sonoterm exams: list, show, check, complete and delete the exams in the
 * station store without the screens. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/cli.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/commands.h"
#include "station/exam.h"
#include "station/screen_exams.h"
#include "station/store_cli.h"

#define EXAMS_COMMAND "sonoterm exams"

struct exams_options {
	struct store_cli cli;
	int show_phi;
	const char *action;
	const char *uuid;
};

static void exams_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm exams list [--show-phi] [OPTION]...\n"
		"       sonoterm exams show UUID [--show-phi] [OPTION]...\n"
		"       sonoterm exams check [OPTION]...\n"
		"       sonoterm exams complete UUID [OPTION]...\n"
		"       sonoterm exams delete UUID [OPTION]...\n"
		"       sonoterm exams browse [OPTION]...\n"
		"List, show, verify, complete or delete the exams in the station's encrypted store.\n"
		"\n"
		"  list       one line per exam: UUID, state, stills, cines, creation and\n"
		"             completion time (UTC) and stored size; no patient data\n"
		"  show       one exam and each still and cine: size, frames, acquisition\n"
		"             time, scanner serial, depth, gain, pixel spacing, SHA-256\n"
		"             and the caliper measurements in mm; no patient data\n"
		"  check      run the database integrity check and verify every frame's\n"
		"             SHA-256; exit 1 when anything is damaged\n"
		"  complete   mark a scanning exam as completed\n"
		"  delete     delete an exam with its patient data and images\n"
		"  browse     open the exam list screen (new exam, attach patient,\n"
		"             complete, delete) in the terminal\n"
		"\n"
		"      --show-phi             list, show: add the patient's name, ID and\n"
		"                             birth date\n"
		STORE_CLI_HELP_DATA_DIR
		"                             (default $XDG_DATA_HOME/sonoterm)\n"
		STORE_CLI_HELP_PASSPHRASE_FILE
		STORE_CLI_HELP_LOG_VERBOSE_HELP
		"\n"
		"Exit status: 0 success, 1 failure or damage found, 2 usage error,\n"
		"3 wrong key or passphrase.\n");
}

static int parse_options(int argc, char **argv, struct exams_options *o, int *help)
{
	static const struct option longopts[] = {
		{ "show-phi", no_argument, NULL, 'P' }, STORE_CLI_LONGOPTS_STORE,
		STORE_CLI_LONGOPT_LOG, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = store_cli_getopt(argc, argv, "vh", longopts, &o->cli)) != -1) {
		switch (c) {
		case 'P': o->show_phi = 1; break;
		case 'v': log_set_level(LOG_LEVEL_INFO); break;
		case 'h':
			exams_usage(stdout);
			*help = 1;
			return EXIT_OK;
		default:
			cli_usage_error(EXAMS_COMMAND, "invalid option");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_usage_error(EXAMS_COMMAND, "missing action: list, show, check, complete, delete "
			"or browse");
		return EXIT_USAGE;
	}
	o->action = argv[optind++];
	if (!strcmp(o->action, "complete") || !strcmp(o->action, "delete") ||
	    !strcmp(o->action, "show")) {
		if (optind >= argc || !crypto_uuid_valid(argv[optind])) {
			cli_usage_error(EXAMS_COMMAND, "%s needs an exam UUID (see 'sonoterm exams list')",
				o->action);
			return EXIT_USAGE;
		}
		o->uuid = argv[optind++];
	} else if (strcmp(o->action, "list") && strcmp(o->action, "check") &&
		   strcmp(o->action, "browse")) {
		cli_usage_error(EXAMS_COMMAND, "unknown action '%s'", o->action);
		return EXIT_USAGE;
	}
	return cli_check_no_operands(EXAMS_COMMAND, argc, argv);
}

/* Writes a CLOCK_REALTIME nanosecond time as UTC ISO 8601, or "-" for 0. */
static void format_time(uint64_t ns, char *out, size_t outlen)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (ns == 0 || !gmtime_r(&t, &tm)) {
		snprintf(out, outlen, "-");
		return;
	}
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Prints the patient columns, every value through the sanitiser. */
static void print_patient(struct store *s, const struct exam_summary *e)
{
	struct patient p;
	char name[3 * PHI_TEXT_MAX + 8];
	char clean[sizeof(name)];
	char id[PHI_TEXT_MAX + 1];
	char birth[PHI_TEXT_MAX + 1];

	if (!e->has_patient || exam_load_patient(s, e->uuid, &p) != 0) {
		printf("  (no patient)");
		return;
	}
	patient_format_name(&p, name, sizeof(name));
	sanitize_str(name, clean, sizeof(clean));
	sanitize_str(phi_text_get(&p.patient_id), id, sizeof(id));
	sanitize_str(phi_text_get(&p.birth_date), birth, sizeof(birth));
	printf("  %s  %s  %s", clean, id, birth[0] ? birth : "-");
	patient_clear(&p);
	crypto_wipe(name, sizeof(name));
	crypto_wipe(clean, sizeof(clean));
	crypto_wipe(id, sizeof(id));
	crypto_wipe(birth, sizeof(birth));
}

struct list_ctx {
	struct store *store;
	int show_phi;
	unsigned count;
	unsigned shown;
};

static int print_exam(const struct exam_summary *e, void *arg)
{
	struct list_ctx *l = arg;
	char created[32];
	char completed[32];
	char state[32];

	format_time(e->created_ns, created, sizeof(created));
	format_time(e->completed_ns, completed, sizeof(completed));
	snprintf(state, sizeof(state), "%s", exam_state_name(e->state));
	printf("%s  %-10s %6u %5u  %-20s  %-20s  %10llu", e->uuid, state, e->stills, e->cines,
		created, completed, (unsigned long long)e->stored_bytes);
	if (e->tombstone)
		printf("  receipt %s", e->receipt_id);
	else if (l->show_phi) {
		print_patient(l->store, e);
		l->shown += e->has_patient;
	}
	printf("\n");
	l->count++;
	return 0;
}

static int run_list(struct store *s, const struct exams_options *o)
{
	struct list_ctx l = { .store = s, .show_phi = o->show_phi };
	int rc;

	printf("%-36s  %-10s %6s %5s  %-20s  %-20s  %10s%s\n", "UUID", "STATE", "STILLS", "CINES",
		"CREATED", "COMPLETED", "BYTES", o->show_phi ? "  PATIENT  ID  BIRTH" : "");
	rc = exam_list(s, print_exam, &l);
	if (rc != 0) {
		fprintf(stderr, EXAMS_COMMAND ": listing failed: %s\n", sono_strerror(rc));
		return EXIT_FAILURE_RUN;
	}
	if (o->show_phi)
		LOG_NOTICE("exams list showed patient data of %u exams", l.shown);
	return EXIT_OK;
}

static int run_check(struct store *s)
{
	char err[512] = "";

	if (store_integrity_check(s, err, sizeof(err)) != 0 ||
	    exam_verify_all(s, err, sizeof(err)) != 0) {
		fprintf(stderr, EXAMS_COMMAND ": %s\n", err);
		return EXIT_FAILURE_RUN;
	}
	printf("ok: %s passed the integrity check and every frame matches its SHA-256\n",
		store_path(s));
	return EXIT_OK;
}

static int run_change(struct store *s, const struct exams_options *o)
{
	int rc;

	if (!strcmp(o->action, "delete"))
		rc = exam_delete(s, o->uuid);
	else
		rc = exam_set_state(s, o->uuid, EXAM_COMPLETED);
	if (rc == 0) {
		printf("%s %s\n", o->uuid, !strcmp(o->action, "delete") ? "deleted" : "completed");
		return EXIT_OK;
	}
	fprintf(stderr, EXAMS_COMMAND ": %s %s failed: %s\n", o->action, o->uuid,
		rc == SONO_ESTATE ? "not allowed in the exam's current state" : sono_strerror(rc));
	return EXIT_FAILURE_RUN;
}

/* Prints a part's measurements JSON through the sanitiser: the store
 * wrote it, but a damaged or altered database must not reach the terminal
 * with escape sequences.  Each invalid byte can become a 3-byte U+FFFD. */
static int print_measurements(const char *json)
{
	size_t len = strlen(json);
	char *clean;

	if (len > EXAM_MEASUREMENTS_MAX)
		return SONO_ETOOBIG;
	clean = malloc(3 * len + 1);
	if (!clean)
		return SONO_ENOMEM;
	sanitize_str(json, clean, 3 * len + 1);
	printf("  measurements %s\n", clean);
	free(clean);
	return 0;
}

/* Prints one part of an exam: geometry, acquisition values, hash and
 * measurements.  The scanner serial came from the scanner and is sanitised. */
static int print_part(const struct exam_part *part, void *arg)
{
	struct store *s = arg;
	char acquired[32];
	char serial[EXAM_SERIAL_MAX];
	char *json = NULL;
	int rc;

	format_time(part->acquired_ns, acquired, sizeof(acquired));
	sanitize_str(part->scanner_serial, serial, sizeof(serial));
	printf("part %lld  %s  %ux%ux%u  frames %u  acquired %s  serial %s\n",
		(long long)part->id, part->kind == EXAM_PART_CINE ? "cine" : "still", part->width,
		part->height, (unsigned)part->components, part->frame_count, acquired,
		serial[0] ? serial : "-");
	printf("  depth %.1f mm  gain %+.1f dB  spacing %.4f x %.4f mm  rate %.1f fps\n",
		part->depth_mm, part->gain_db, part->spacing_mm[0], part->spacing_mm[1],
		part->frame_rate);
	printf("  bytes %llu raw, %llu stored  sha256 %s\n", (unsigned long long)part->raw_bytes,
		(unsigned long long)part->stored_bytes, part->sha256);
	rc = exam_part_measurements(s, part->id, &json);
	if (rc == 0)
		rc = print_measurements(json);
	free(json);
	return rc;
}

/* Prints an exam and its parts; patient data only with --show-phi. */
static int run_show(struct store *s, const struct exams_options *o)
{
	struct exam_summary e;
	char created[32], started[32], completed[32];
	int rc;

	rc = exam_get(s, o->uuid, &e);
	if (rc != 0) {
		fprintf(stderr, EXAMS_COMMAND ": exam %s %s\n", o->uuid,
			rc == SONO_ENOTFOUND ? "not found" : sono_strerror(rc));
		return EXIT_FAILURE_RUN;
	}
	format_time(e.created_ns, created, sizeof(created));
	format_time(e.started_ns, started, sizeof(started));
	format_time(e.completed_ns, completed, sizeof(completed));
	printf("exam %s\nstate %s\nexam type %s\ncreated %s\nstarted %s\ncompleted %s\n"
		"stills %u\ncines %u\n", e.uuid, exam_state_name(e.state),
		e.preset[0] ? e.preset : "-", created, started, completed, e.stills, e.cines);
	printf("patient %s", e.tombstone ? "deleted after upload" : e.has_patient ? "yes" : "none");
	if (o->show_phi && e.has_patient) {
		print_patient(s, &e);
		LOG_NOTICE("exams show showed the patient data of exam %s", e.uuid);
	}
	printf("\n");
	rc = exam_parts(s, e.uuid, print_part, s);
	if (rc != 0) {
		fprintf(stderr, EXAMS_COMMAND ": parts of exam %s not read: %s\n", e.uuid,
			sono_strerror(rc));
		return EXIT_FAILURE_RUN;
	}
	return EXIT_OK;
}

/* Runs the exam list screen of a local operator, who may see patient data. */
static int run_browse(struct store *s)
{
	struct ui_options uo = { NULL, 1 };
	struct screen_exams_options opt = { .show_patients = 1 };
	struct ui *ui;
	int sig;

	setlocale(LC_ALL, "");
	ui = ui_open(&uo);
	if (!ui)
		return EXIT_FAILURE_RUN;
	screen_exams_push(ui, s, &opt);
	sig = ui_run(ui);
	ui_close(ui);
	return sig ? 128 + sig : EXIT_OK;
}

int cmd_exams(int argc, char **argv)
{
	struct exams_options o = { 0 };
	struct store *s = NULL;
	int help = 0;
	int missing = 0;
	int rc;

	rc = parse_options(argc, argv, &o, &help);
	if (rc != EXIT_OK || help)
		return rc;
	rc = store_cli_log(EXAMS_COMMAND, o.cli.log_path);
	if (rc == EXIT_OK)
		rc = store_cli_open(EXAMS_COMMAND, &o.cli, 0, &s, &missing);
	if (rc != EXIT_OK)
		return missing && !strcmp(o.action, "list") ? EXIT_OK : rc;

	if (!strcmp(o.action, "list"))
		rc = run_list(s, &o);
	else if (!strcmp(o.action, "check"))
		rc = run_check(s);
	else if (!strcmp(o.action, "show"))
		rc = run_show(s, &o);
	else if (!strcmp(o.action, "browse"))
		rc = run_browse(s);
	else
		rc = run_change(s, &o);
	store_close(s);
	log_close();
	return rc;
}
