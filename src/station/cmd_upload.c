/* sonoterm upload: sends the queue of completed exams to the cloud and
 * prints progress. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sono/cli.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/cmd_cloud.h"
#include "station/commands.h"
#include "station/session.h"
#include "station/store_cli.h"
#include "station/uploader.h"

#define UPLOAD_COMMAND "sonoterm upload"
#define UPLOAD_POLL_MS 250

struct upload_options {
	struct store_cli cli;
	int wait;
	int retry_failed;
	int verbose;
};

/* The queue as the station store has it. */
struct queue_counts {
	unsigned waiting;   /* queued, uploading, or failed with a retry pending */
	unsigned given_up;  /* failed without further automatic retries */
	unsigned max_attempts;
	int print_failures;
};

static void upload_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm upload [--wait] [OPTION]...\n"
		"Queue every completed exam and send the queue to the cloud of the current\n"
		"login.  An exam confirmed by the cloud's receipt loses its patient data and\n"
		"images on this station; only a tombstone with its UUID and receipt remains.\n"
		"\n"
		"      --wait                 keep sending, with retries, until the queue is\n"
		"                             empty or only exams that need the operator remain\n"
		"      --retry-failed         queue exams that failed for good or were held\n"
		"                             once more\n"
		STORE_CLI_HELP_CONFIG
		STORE_CLI_HELP_DATA_DIR
		STORE_CLI_HELP_PASSPHRASE_FILE
		STORE_CLI_HELP_LOG_VERBOSE_HELP
		"\n"
		"Exit status: 0 the queue is empty, 1 exams remain or failed, 2 usage error,\n"
		"3 cloud certificate mismatch, 4 cloud unreachable.\n");
}

static int parse_upload(int argc, char **argv, struct upload_options *o, int *help)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'W' }, { "retry-failed", no_argument, NULL, 'R' },
		STORE_CLI_LONGOPT_CONFIG, STORE_CLI_LONGOPTS_STORE, STORE_CLI_LONGOPT_LOG,
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = store_cli_getopt(argc, argv, "vh", longopts, &o->cli)) != -1) {
		switch (ch) {
		case 'W': o->wait = 1; break;
		case 'R': o->retry_failed = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h':
			upload_usage(stdout);
			*help = 1;
			return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	return cli_check_no_operands(UPLOAD_COMMAND, argc, argv);
}

static int count_job(const struct uploader_job *job, void *arg)
{
	struct queue_counts *q = arg;

	if (strcmp(job->state, "failed") == 0 && job->attempts >= q->max_attempts) {
		q->given_up++;
		if (q->print_failures)
			printf("exam %s failed after %u attempts: %s\n", job->uuid, job->attempts,
				job->last_error);
	} else {
		q->waiting++;
	}
	return 0;
}

struct retry_ctx {
	struct store *s;
	unsigned max_attempts;
};

/* Queues a failed exam again, and resets a held queued one. */
static int retry_job(const struct uploader_job *job, void *arg)
{
	struct retry_ctx *r = arg;

	if (strcmp(job->state, "failed") == 0 || job->attempts >= r->max_attempts)
		uploader_retry(r->s, job->uuid);
	return 0;
}

static void print_progress(const struct uploader_status *st, const struct queue_counts *q)
{
	if (st->current[0] && st->current_total > 0)
		printf("exam %s: %3.0f%% of %.1f MB; ", st->current,
			100.0 * (double)st->current_sent / (double)st->current_total,
			(double)st->current_total / 1e6);
	printf("queue: %u waiting, %u failed; %u uploaded\n", q->waiting, q->given_up,
		st->uploaded);
	fflush(stdout);
}

/* Maps the end of the run to the exit code and prints why. */
static int finish(const struct uploader_status *st, struct store *s, unsigned max_attempts)
{
	struct queue_counts q = { 0, 0, max_attempts, 1 };

	uploader_list(s, count_job, &q);
	if (st->halt == UPLOADER_HALT_LOGIN || st->halt == UPLOADER_HALT_CERTIFICATE) {
		fprintf(stderr, UPLOAD_COMMAND ": %s\n", st->message);
		return st->halt == UPLOADER_HALT_CERTIFICATE ? EXIT_SECURITY : EXIT_FAILURE_RUN;
	}
	if (q.waiting == 0 && q.given_up == 0) {
		printf("the upload queue is empty; %u exams uploaded\n", st->uploaded);
		return EXIT_OK;
	}
	fprintf(stderr, UPLOAD_COMMAND ": %u exams still waiting and %u failed%s%s\n", q.waiting,
		q.given_up, st->message[0] ? "; last error: " : "", st->message);
	return EXIT_FAILURE_RUN;
}

/* Sends the queue from the uploader thread and prints progress.  Stops
 * when the queue is empty or only exams that need the operator remain, when
 * the login or the certificate fails, or on a signal. */
static void wait_for_queue(struct uploader *u, struct store *s, unsigned max_attempts)
{
	struct timespec poll = { 0, UPLOAD_POLL_MS * 1000000L };
	struct uploader_status st, last;
	struct queue_counts q;
	int printed = 0;

	memset(&last, 0, sizeof(last));
	for (;;) {
		nanosleep(&poll, NULL);
		uploader_get_status(u, &st);
		memset(&q, 0, sizeof(q));
		q.max_attempts = max_attempts;
		uploader_list(s, count_job, &q);
		if (!printed || st.uploaded != last.uploaded || strcmp(st.current, last.current) ||
		    st.current_sent != last.current_sent) {
			print_progress(&st, &q);
			printed = 1;
			last = st;
		}
		if (cli_stop_requested() || st.halt == UPLOADER_HALT_LOGIN ||
		    st.halt == UPLOADER_HALT_CERTIFICATE || q.waiting == 0)
			break;
	}
	uploader_request_stop(u);
}

/* Fills the cloud URL from the login when the configuration has none. */
static int check_login(struct store *s, struct uploader_options *opt)
{
	struct store_cloud_session sess;
	char err[512];
	int rc;

	rc = session_current(s, &sess, err, sizeof(err));
	crypto_wipe(sess.token, sizeof(sess.token));
	if (rc < 0) {
		fprintf(stderr, UPLOAD_COMMAND ": %s\n", err);
		return EXIT_FAILURE_RUN;
	}
	if (opt->cloud.url[0] == '\0')
		snprintf(opt->cloud.url, sizeof(opt->cloud.url), "%s", sess.cloud_url);
	if (cloud_options_check(&opt->cloud, err, sizeof(err)) < 0) {
		fprintf(stderr, UPLOAD_COMMAND ": %s; run 'sonoterm login' with the cloud's trust\n",
			err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int run_upload(const struct upload_options *o, struct uploader_options *opt,
	struct store *s, struct store *worker)
{
	struct uploader *u = NULL;
	struct uploader_status st;
	int rc;

	rc = check_login(s, opt);
	if (rc != EXIT_OK)
		return rc;
	if (o->retry_failed) {
		struct retry_ctx retry = { s, opt->max_attempts };

		uploader_list(s, retry_job, &retry);
	}
	if (uploader_new(&u, worker, opt) < 0) {
		fprintf(stderr, UPLOAD_COMMAND ": out of memory\n");
		return EXIT_FAILURE_RUN;
	}
	cli_catch_stop_signals();
	if (o->wait && uploader_start(u) == 0)
		wait_for_queue(u, s, opt->max_attempts);
	else
		uploader_run_pass(u);
	uploader_join(u);
	uploader_get_status(u, &st);
	uploader_free(u);
	rc = finish(&st, s, opt->max_attempts);
	if (rc == EXIT_FAILURE_RUN && st.last_kind == CLOUD_ERR_UNREACHABLE)
		rc = EXIT_UNAVAILABLE;
	if (cli_stop_requested())
		rc = EXIT_FAILURE_RUN;
	return rc;
}

int cmd_upload(int argc, char **argv)
{
	struct upload_options o;
	struct uploader_options opt;
	struct store *s = NULL, *worker = NULL;
	struct config cfg;
	int help = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = parse_upload(argc, argv, &o, &help);
	if (rc != EXIT_OK || help)
		return rc;
	rc = cloud_cli_start(UPLOAD_COMMAND, &o.cli, o.verbose, &cfg, &opt);
	if (rc == EXIT_OK)
		rc = store_cli_open(UPLOAD_COMMAND, &o.cli, 0, &s, NULL);
	if (rc == EXIT_OK)
		rc = store_cli_open(UPLOAD_COMMAND, &o.cli, 0, &worker, NULL);
	if (rc == EXIT_OK)
		rc = run_upload(&o, &opt, s, worker);
	store_close(worker);
	store_close(s);
	log_close();
	return rc;
}
