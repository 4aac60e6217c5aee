/* sonoterm queue: the exam queue screen with the background uploader, the
 * login screen and the idle lock. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "sono/cli.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "station/cmd_cloud.h"
#include "station/commands.h"
#include "station/screen_lock.h"
#include "station/screen_queue.h"
#include "station/session.h"
#include "station/store_cli.h"

#define QUEUE_COMMAND "sonoterm queue"

struct queue_options {
	const char *theme;
	struct store_cli cli;
};

static void queue_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm queue [OPTION]...\n"
		"Show the exam queue while the uploader sends it to the cloud, with the\n"
		"login screen (F2) and the idle lock.\n"
		"\n"
		STORE_CLI_HELP_CONFIG
		STORE_CLI_HELP_DATA_DIR
		STORE_CLI_HELP_PASSPHRASE_FILE
		"      --theme NAME           colour theme\n"
		"  -h, --help                 show this help and exit\n");
}

static int parse_queue(int argc, char **argv, struct queue_options *o, int *help)
{
	static const struct option longopts[] = {
		STORE_CLI_LONGOPT_CONFIG, STORE_CLI_LONGOPTS_STORE,
		{ "theme", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = store_cli_getopt(argc, argv, "h", longopts, &o->cli)) != -1) {
		switch (ch) {
		case 't': o->theme = optarg; break;
		case 'h':
			queue_usage(stdout);
			*help = 1;
			return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	return cli_check_no_operands(QUEUE_COMMAND, argc, argv);
}

/* Runs the shell with the queue screen, and the login screen on top when
 * nobody is logged in online. */
static int run_queue(const struct queue_options *o, struct uploader_options *opt,
	struct store *s, struct uploader *u)
{
	struct ui_options uo = { o->theme, 0 };
	struct lock_policy lock = { .store = s, .logout_act = UI_ACT_QUIT };
	struct store_cloud_session sess;
	char err[256];
	struct ui *ui;
	void *view;
	int sig, logged_in;

	logged_in = session_current(s, &sess, err, sizeof(err)) == 0;
	crypto_wipe(sess.token, sizeof(sess.token));
	if (logged_in && opt->cloud.url[0] == '\0')
		snprintf(opt->cloud.url, sizeof(opt->cloud.url), "%s", sess.cloud_url);
	setlocale(LC_ALL, "");
	ui = ui_open(&uo);
	if (ui == NULL)
		return EXIT_FAILURE_RUN;
	lock.cloud = opt->cloud;
	lock_install(ui, &lock);
	view = queue_view_new(ui, s, u, &opt->cloud);
	ui_push(ui, &queue_screen, view);
	if (!logged_in)
		queue_view_push_login(ui, view);
	uploader_start(u);
	sig = ui_run(ui);
	uploader_join(u);
	ui_close(ui);
	return sig ? 128 + sig : EXIT_OK;
}

int cmd_queue(int argc, char **argv)
{
	struct queue_options o;
	struct uploader_options opt;
	struct store *s = NULL, *worker = NULL;
	struct uploader *u = NULL;
	struct config cfg;
	int help = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = parse_queue(argc, argv, &o, &help);
	if (rc != EXIT_OK || help)
		return rc;
	rc = cloud_cli_setup(QUEUE_COMMAND, o.cli.config_path, &cfg, &opt);
	if (rc == EXIT_OK)
		rc = store_cli_open(QUEUE_COMMAND, &o.cli, 1, &s, NULL);
	if (rc == EXIT_OK)
		rc = store_cli_open(QUEUE_COMMAND, &o.cli, 0, &worker, NULL);
	if (rc == EXIT_OK && uploader_new(&u, worker, &opt) < 0) {
		fprintf(stderr, QUEUE_COMMAND ": out of memory\n");
		rc = EXIT_FAILURE_RUN;
	}
	if (rc == EXIT_OK)
		rc = run_queue(&o, &opt, s, u);
	uploader_free(u);
	store_close(worker);
	store_close(s);
	return rc;
}
