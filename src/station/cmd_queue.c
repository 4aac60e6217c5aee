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
	const char *config_path;
	const char *theme;
	struct store_cli store;
};

static void queue_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm queue [OPTION]...\n"
		"Show the exam queue while the uploader sends it to the cloud, with the\n"
		"login screen (F2) and the idle lock.\n"
		"\n"
		"      --config FILE          configuration file\n"
		"      --data-dir DIR         station database folder\n"
		"      --passphrase-file FILE read the store passphrase from FILE's first line\n"
		"      --theme NAME           colour theme\n"
		"  -h, --help                 show this help and exit\n");
}

static int parse_queue(int argc, char **argv, struct queue_options *o, int *help)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' }, { "data-dir", required_argument, NULL, 'd' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "theme", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': o->config_path = optarg; break;
		case 'd': o->store.data_dir = optarg; break;
		case 'P': o->store.passphrase_file = optarg; break;
		case 't': o->theme = optarg; break;
		case 'h': *help = 1; return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error(QUEUE_COMMAND, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
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
	if (rc != EXIT_OK || help) {
		if (help)
			queue_usage(stdout);
		return rc;
	}
	rc = cloud_cli_setup(QUEUE_COMMAND, o.config_path, &cfg, &opt);
	if (rc == EXIT_OK)
		rc = store_cli_open(QUEUE_COMMAND, &o.store, 1, &s, NULL);
	if (rc == EXIT_OK)
		rc = store_cli_open(QUEUE_COMMAND, &o.store, 0, &worker, NULL);
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
