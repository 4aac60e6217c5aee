/* `sonoterm` without a subcommand: reads the screen options and the
 * configuration, probes the terminal, then runs the ncurses shell with the
 * live screen. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sono/cli.h"
#include "sono/config.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/commands.h"
#include "station/cmd_cloud.h"
#include "station/flow.h"
#include "station/live.h"
#include "station/permit.h"
#include "station/screen_lock.h"
#include "station/screen_start.h"
#include "station/station_config.h"
#include "station/store_cli.h"

struct screen_args {
	const char *scanner;
	const char *pin;
	const char *render;
	const char *theme;
	const char *config;
	const char *test_source;
	const char *log_level;
	struct store_cli store;
	double cine_seconds;
	long cine_megabytes;
	int insecure;
	int mouse;
};

enum {
	OPT_SCANNER = 256, OPT_PIN, OPT_RENDER, OPT_THEME, OPT_CONFIG, OPT_DATA_DIR,
	OPT_TEST_SOURCE, OPT_CINE_SECONDS, OPT_INSECURE, OPT_NO_MOUSE, OPT_LOG_LEVEL,
	OPT_PASSPHRASE_FILE,
};

static const struct option long_options[] = {
	{ "scanner", required_argument, NULL, OPT_SCANNER },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "render", required_argument, NULL, OPT_RENDER },
	{ "theme", required_argument, NULL, OPT_THEME },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "test-source", required_argument, NULL, OPT_TEST_SOURCE },
	{ "cine-seconds", required_argument, NULL, OPT_CINE_SECONDS },
	{ "insecure-igtl", no_argument, NULL, OPT_INSECURE },
	{ "no-mouse", no_argument, NULL, OPT_NO_MOUSE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ NULL, 0, NULL, 0 },
};

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0.5 && v <= 120.0))
		return SONO_EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct screen_args *a)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SCANNER: a->scanner = optarg; break;
		case OPT_PIN: a->pin = optarg; break;
		case OPT_RENDER: a->render = optarg; break;
		case OPT_THEME: a->theme = optarg; break;
		case OPT_CONFIG: a->config = optarg; break;
		case OPT_DATA_DIR: a->store.data_dir = optarg; break;
		case OPT_PASSPHRASE_FILE: a->store.passphrase_file = optarg; break;
		case OPT_TEST_SOURCE: a->test_source = optarg; break;
		case OPT_INSECURE: a->insecure = 1; break;
		case OPT_NO_MOUSE: a->mouse = 0; break;
		case OPT_LOG_LEVEL: a->log_level = optarg; break;
		case OPT_CINE_SECONDS:
			if (parse_seconds(optarg, &a->cine_seconds) < 0) {
				cli_usage_error("sonoterm", "invalid --cine-seconds '%s' (0.5 to 120)", optarg);
				return SONO_EINVAL;
			}
			break;
		default:
			cli_usage_error("sonoterm", "invalid option");
			return SONO_EINVAL;
		}
	}
	if (optind < argc) {
		cli_usage_error("sonoterm", "unexpected argument '%s'", argv[optind]);
		return SONO_EINVAL;
	}
	return 0;
}

/* Fills the settings the command line left unset from the configuration
 * file.  Returns 0 or SONO_EINVAL after printing the file's error. */
static int apply_config(struct screen_args *a, struct config *cfg)
{
	char path[4096], err[512];
	const char *v;
	int rc = 0;

	config_init(cfg, station_config_keys);
	if (!a->config && config_default_path("sonoterm", path, sizeof(path)) < 0)
		return 0;
	if (config_load(cfg, a->config ? a->config : path, !a->config, err, sizeof(err)) < 0) {
		fprintf(stderr, "sonoterm: %s\n", err);
		return SONO_EINVAL;
	}
	if (!a->theme)
		a->theme = config_get(cfg, "ui", "theme");
	if (!a->theme)
		a->theme = config_get(cfg, "display", "theme");
	if (!a->render)
		a->render = config_get(cfg, "ui", "render");
	if (!a->render)
		a->render = config_get(cfg, "display", "render");
	if (!a->log_level)
		a->log_level = config_get(cfg, "ui", "log_level");
	if (!a->log_level)
		a->log_level = config_get(cfg, "log", "level");
	if (!a->store.data_dir)
		a->store.data_dir = config_get(cfg, "store", "data_dir");
	if (!a->scanner)
		a->scanner = config_get(cfg, "scanner", "address");
	if (!a->pin)
		a->pin = config_get(cfg, "scanner", "pin");
	v = config_get(cfg, "ui", "mouse");
	if (v && !strcasecmp(v, "no"))
		a->mouse = 0;
	v = config_get(cfg, "ui", "cine_seconds");
	if (v && a->cine_seconds == 0 && parse_seconds(v, &a->cine_seconds) < 0) {
		fprintf(stderr, "sonoterm: %s: invalid ui.cine_seconds '%s' (0.5 to 120)\n", cfg->path, v);
		return SONO_EINVAL;
	}
	a->cine_megabytes = config_get_long(cfg, "ui", "cine_megabytes",
		(long)(CINE_BYTES_DEFAULT >> 20), 8, 4096, &rc);
	if (rc < 0)
		fprintf(stderr, "sonoterm: %s: invalid ui.cine_megabytes (8 to 4096)\n", cfg->path);
	return rc;
}

/* Checks the settings and turns them into live options. */
static int build_options(const struct screen_args *a, struct live_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->cine_seconds = a->cine_seconds > 0 ? a->cine_seconds : CINE_SECONDS_DEFAULT;
	opt->cine_bytes = (size_t)a->cine_megabytes << 20;
	opt->test_source = a->test_source;
	opt->insecure_igtl = a->insecure;
	if (render_mode_parse(a->render ? a->render : "auto", &opt->render) < 0) {
		cli_usage_error("sonoterm", "invalid --render '%s' (auto, sixel, halfblock or ascii)",
			a->render);
		return SONO_EINVAL;
	}
	if (a->test_source)
		return 0;
	if (!a->scanner) {
		cli_usage_error("sonoterm", "no scanner given: use --scanner HOST:PORT --pin SHA256:HEX");
		return SONO_EINVAL;
	}
	if (cli_parse_hostport(a->scanner, opt->host, sizeof(opt->host), &opt->port) < 0) {
		cli_usage_error("sonoterm", "invalid --scanner '%s' (expected HOST:PORT)", a->scanner);
		return SONO_EINVAL;
	}
	/* Without --pin the scanner must be one the logged-in user is
	 * permitted; run_screens resolves its pin from the store. */
	if (!a->insecure && a->pin && tls_pin_normalize(a->pin, opt->pin) < 0) {
		cli_usage_error("sonoterm", "invalid --pin (expected SHA256: and 64 hex digits)");
		return SONO_EINVAL;
	}
	return 0;
}

/* Loads the certificate the station presents to the scanner.  Returns
 * EXIT_OK, or EXIT_SECURITY after printing why. */
static int load_station_identity(const struct screen_args *a, struct live_options *opt)
{
	char err[1200];

	if (a->test_source || a->insecure)
		return EXIT_OK;
	if (station_identity_load(a->store.data_dir, &opt->identity, err, sizeof(err)) < 0) {
		fprintf(stderr, "sonoterm: cannot load the station identity: %s\n", err);
		return EXIT_SECURITY;
	}
	return EXIT_OK;
}

/* Fills the pin and serial of a scanner given without --pin from the
 * logged-in user's permitted scanners.  Returns EXIT_OK, or an exit code
 * after printing why the scanner is refused. */
static int resolve_permitted_scanner(struct store *s, struct live_options *opt)
{
	struct scanner_config cfg;
	char err[1024];
	int rc;

	if (opt->test_source || opt->insecure_igtl || opt->pin[0])
		return EXIT_OK;
	if (!s) {
		fprintf(stderr, "sonoterm: without --pin the store must open to check the scanner "
			"permissions\n");
		return EXIT_SECURITY;
	}
	scanner_config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "%s", opt->host);
	cfg.port = opt->port;
	cfg.identity = opt->identity;
	rc = permit_resolve(s, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sonoterm: %s\n", err);
		return rc == SONO_EIO || rc == SONO_ETIMEOUT ? EXIT_UNAVAILABLE : EXIT_SECURITY;
	}
	snprintf(opt->pin, sizeof(opt->pin), "%s", cfg.pin);
	snprintf(opt->serial, sizeof(opt->serial), "%s", cfg.serial);
	return EXIT_OK;
}

static void usage(void)
{
	printf("Usage: sonoterm --scanner HOST:PORT --pin SHA256:HEX [OPTION]...\n"
		"       sonoterm --test-source PATTERN [OPTION]...\n"
		"Open the live scanning screen.\n\n"
		"  --scanner HOST:PORT    the paired scanner\n"
		"  --pin SHA256:HEX       the scanner certificate's fingerprint; without it\n"
		"                         the scanner must be one the logged-in user is\n"
		"                         permitted ('sonoterm login')\n"
		"  --insecure-igtl        plain TCP to an OpenIGTLink server (lab use only)\n"
		"  --render MODE          auto, sixel, halfblock or ascii (default auto)\n"
		"  --theme NAME           dark, high-contrast, night, mono or a file path\n"
		"  --cine-seconds N       length of the cine buffer (default 10)\n"
		"  --test-source PATTERN  synthetic frames instead of a scanner: pattern,\n"
		"                         black, white, 1x1, 641x479, colour or large\n"
		"  --data-dir DIR         station store folder (default\n"
		"                         $XDG_DATA_HOME/sonoterm); captures go to an\n"
		"                         unassigned exam there\n"
		"  --passphrase-file FILE the store passphrase, when it has one\n"
		"  --no-mouse             do not enable mouse reporting\n"
		"  --log-level LEVEL      error, warn, notice (default), info or debug\n"
		"  --config FILE          configuration file (default\n"
		"                         $XDG_CONFIG_HOME/sonoterm/sonoterm.conf)\n\n"
		"With a [cloud] url in the configuration and no --pin, the login screen\n"
		"opens first (unless a login is still valid); the live screen then opens\n"
		"on the scanner only when the user is permitted it, and shows the reason\n"
		"when not.  --pin (or [scanner] pin) opens the live screen without a login.\n\n"
		"On the live screen a enters the patient, s and c capture a still and a\n"
		"cine, f completes the exam, e opens the exam list and u the upload queue;\n"
		"l locks the screen and o logs out (after a y).  While someone is logged\n"
		"in, every screen locks itself after the site's idle time (idle_lock_minutes)\n"
		"and only that user's password unlocks it.  Without a login (the direct\n"
		"--pin mode) the screens do not lock.\n"
		"The log goes to $XDG_STATE_HOME/sonoterm/sonoterm.log while the screens\n"
		"are open.  Press F1 on any screen for its keys.\n");
}

/* Opens the station store and the workflow around the live screen.  When
 * the store cannot be opened, store_cli_open prints the reason on stderr
 * and captures stay in memory.  The queue screen gets a second store
 * connection for the uploader when upload is not NULL, that is when a
 * cloud URL is configured (login saves it) and the [cloud] and [upload]
 * settings are valid.  Without a URL the second connection, which repeats
 * the passphrase's key derivation, is not opened. */
static struct flow *open_flow(const struct screen_args *a, const struct uploader_options *upload)
{
	struct store *s = NULL, *worker = NULL;

	if (store_cli_open("sonoterm", &a->store, 1, &s, NULL) != EXIT_OK) {
		fprintf(stderr, "sonoterm: captures will be kept in memory only\n");
		LOG_WARN("station store not opened; captures are kept in memory only");
	} else if (upload && store_cli_open("sonoterm", &a->store, 0, &worker, NULL) != EXIT_OK) {
		fprintf(stderr, "sonoterm: the exam queue screen will not be available\n");
	}
	return flow_new(s, worker, worker ? upload : NULL);
}

/* Reads the [cloud] and [upload] settings when a cloud URL is configured.
 * Returns upload, or NULL without a URL or with an invalid setting (then
 * printed on stderr). */
static const struct uploader_options *cloud_settings(const struct config *cfg,
	struct uploader_options *upload)
{
	if (!config_get(cfg, "cloud", "url"))
		return NULL;
	if (cloud_cli_options("sonoterm", cfg, upload) != EXIT_OK) {
		fprintf(stderr, "sonoterm: the exam queue screen and the login will not be "
			"available\n");
		return NULL;
	}
	return upload;
}

/* Starts the first exam of the live screen, once the log is in its file. */
static void begin_exam(struct ui *ui, struct flow *flow, struct live_options *opt)
{
	int rc = flow_begin(flow, opt);

	if (rc < 0 && flow_store(flow)) {
		ui_message(ui, "No exam for captures (%s): they stay in memory", sono_strerror(rc));
		LOG_WARN("exam for captures not created: %s", sono_strerror(rc));
	}
}

/* The flow, options and terminal capabilities of the live screen, kept
 * while the shell runs because the start screen opens a live screen after
 * every login. */
struct live_start {
	struct flow *flow;
	struct live_options opt;
	struct termcaps caps;
};

/* Starts a new exam and pushes the live screen on the scanner with pin
 * and serial.  Returns 0, or SONO_EIO with the reason in err. */
static int open_live(struct ui *ui, void *arg, const char *pin, const char *serial, char *err,
	size_t errlen)
{
	struct live_start *ls = arg;
	struct live_options opt = ls->opt;
	struct live *lv;

	snprintf(opt.pin, sizeof(opt.pin), "%s", pin);
	snprintf(opt.serial, sizeof(opt.serial), "%s", serial);
	begin_exam(ui, ls->flow, &opt);
	lv = live_new(ui, &opt, &ls->caps, err, errlen);
	if (!lv)
		return SONO_EIO;
	ui_push(ui, &live_screen, lv);
	return 0;
}

/* Returns non-zero when the station logs in before it scans: a cloud URL
 * is configured, the store is open, and the scanner has no pin from the
 * operator (the direct mode of an administrator's pairing). */
static int wants_login(const struct uploader_options *upload, const struct live_options *opt,
	const struct store *s)
{
	return upload && s && !opt->pin[0] && !opt->test_source && !opt->insecure_igtl;
}

/* Puts the first screen on the stack: the start screen, which logs in
 * first, or the live screen directly.  Returns 0, or -1 after printing why
 * the live screen did not open. */
static int push_first_screen(struct ui *ui, struct live_start *ls, struct lock_policy *lock,
	int login_first)
{
	struct start_options so = {
		.lock = lock, .port = ls->opt.port, .open_live = open_live, .open_live_arg = ls,
	};
	char err[512] = "";

	if (login_first) {
		snprintf(so.host, sizeof(so.host), "%s", ls->opt.host);
		so.identity = ls->opt.identity;
		start_screen_push(ui, &so);
		return 0;
	}
	if (open_live(ui, ls, ls->opt.pin, ls->opt.serial, err, sizeof(err)) == 0)
		return 0;
	ui_close_screens(ui);
	ui_close(ui);
	fprintf(stderr, "sonoterm: %s\n", err);
	return -1;
}

static int run_screens(const struct screen_args *a, const struct config *cfg,
	const struct live_options *opt_in)
{
	struct ui_options uo = { a->theme, a->mouse };
	struct live_start ls = { .opt = *opt_in };
	struct lock_policy lock = { .logout_act = UI_ACT_QUIT };
	const struct uploader_options *cloud;
	struct uploader_options upload;
	char kept[CRYPTO_UUID_LEN];
	int status = EXIT_OK, sig, login_first;
	struct ui *ui;

	setlocale(LC_ALL, "");
	status = load_station_identity(a, &ls.opt);
	if (status != EXIT_OK)
		return status;
	cloud = cloud_settings(cfg, &upload);
	ls.flow = open_flow(a, cloud);
	login_first = wants_login(cloud, &ls.opt, flow_store(ls.flow));
	status = login_first ? EXIT_OK : resolve_permitted_scanner(flow_store(ls.flow), &ls.opt);
	if (status != EXIT_OK) {
		flow_close(ls.flow, kept);
		return status;
	}
	if (termcaps_detect(&ls.caps, STDIN_FILENO, STDOUT_FILENO, TERMCAPS_TIMEOUT_MS) < 0)
		fprintf(stderr, "sonoterm: could not query the terminal; using a text renderer\n");
	ui = ui_open(&uo);
	if (!ui) {
		flow_close(ls.flow, kept);
		return EXIT_FAILURE_RUN;
	}
	ls.opt.exit_status = &status;
	lock.store = flow_store(ls.flow);
	if (cloud)
		lock.cloud = cloud->cloud;
	if (login_first)
		lock.logout_act = UI_ACT_UNWIND;
	lock_install(ui, &lock);
	flow_set_lock(ls.flow, &lock);
	if (push_first_screen(ui, &ls, &lock, login_first) < 0) {
		flow_close(ls.flow, kept);
		return EXIT_FAILURE_RUN;
	}
	sig = ui_run(ui);
	/* The live screen closes the sink first; then the flow checks the
	 * current exam while the log still goes to the file. */
	ui_close_screens(ui);
	flow_close(ls.flow, kept);
	ui_close(ui);
	if (kept[0])
		printf("sonoterm: captures are in exam %s\n", kept);
	return sig ? 128 + sig : status;
}

int cmd_screens(int argc, char **argv)
{
	struct screen_args a = { .mouse = 1 };
	struct live_options opt;
	enum log_level level;
	struct config cfg;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			return EXIT_OK;
		}
	}
	if (parse_args(argc, argv, &a) < 0 || apply_config(&a, &cfg) < 0 ||
	    build_options(&a, &opt) < 0)
		return EXIT_USAGE;
	if (a.log_level) {
		if (log_parse_level(a.log_level, &level) < 0) {
			cli_usage_error("sonoterm", "invalid log level '%s'", a.log_level);
			return EXIT_USAGE;
		}
		log_set_level(level);
	}
	return run_screens(&a, &cfg, &opt);
}
