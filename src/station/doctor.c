/* `sonoterm doctor`: prints what the station detects about the terminal,
 * the locale, its configuration and its peers, for support calls. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sono/cli.h"
#include "sono/config.h"
#include "sono/error.h"
#include "sono/sanitize.h"
#include "station/commands.h"
#include "station/doctor.h"
#include "station/render.h"
#include "station/station_config.h"
#include "station/termcaps.h"

/* The configuration file as the doctor found it. */
struct doctor_config {
	char path[4096];   /* "" when no path could be formed */
	char status[700];  /* the "parses:" line's text */
	int loaded;        /* cfg contains the parsed file */
	struct config cfg;
};

static void print_field(FILE *out, const char *name, const char *untrusted)
{
	char clean[256];

	sanitize_str(untrusted, clean, sizeof(clean));
	fprintf(out, "  %-12s %s\n", name, clean[0] ? clean : "(unset)");
}

static const char *colors_name(unsigned colors)
{
	if (colors >= 1u << 24)
		return "24-bit";
	if (colors >= 256)
		return "256";
	if (colors >= 8)
		return "8";
	return "none (monochrome)";
}

static void print_terminal(FILE *out, const struct termcaps *tc, unsigned timeout_ms)
{
	char da1[128];

	fprintf(out, "Terminal\n");
	print_field(out, "TERM:", tc->term);
	print_field(out, "COLORTERM:", tc->colorterm);
	fprintf(out, "  %-12s %s\n", "tty:", tc->is_tty ? "yes" : "no (queries not sent)");
	if (tc->da1_received) {
		sanitize_str(tc->da1, da1, sizeof(da1));
		fprintf(out, "  %-12s %s (after %u ms)\n", "DA1 reply:", da1, tc->elapsed_ms);
	} else if (tc->queried) {
		fprintf(out, "  %-12s none within %u ms\n", "DA1 reply:", timeout_ms);
	} else if (tc->is_tty) {
		fprintf(out, "  %-12s not queried (TERM is unset or \"dumb\")\n", "DA1 reply:");
	} else {
		fprintf(out, "  %-12s not queried\n", "DA1 reply:");
	}
	fprintf(out, "  %-12s %s\n", "sixel:", tc->sixel ? "yes" : "no");
	if (tc->cols && tc->rows)
		fprintf(out, "  %-12s %ux%u cells\n", "window:", tc->cols, tc->rows);
	else
		fprintf(out, "  %-12s unknown\n", "window:");
	if (tc->cell_w && tc->cell_h)
		fprintf(out, "  %-12s %ux%u pixels (from %s)\n", "cell size:", tc->cell_w, tc->cell_h,
			termcaps_cell_source_name(tc->cell_source));
	else
		fprintf(out, "  %-12s unknown\n", "cell size:");
	fprintf(out, "  %-12s %s\n", "colours:", colors_name(tc->colors));
}

static void print_locale(FILE *out, const struct termcaps *tc)
{
	const char *name = setlocale(LC_CTYPE, NULL);
	const char *codeset = nl_langinfo(CODESET);

	fprintf(out, "Locale\n");
	print_field(out, "LC_CTYPE:", name ? name : "");
	print_field(out, "charset:", codeset ? codeset : "");
	fprintf(out, "  %-12s %s\n", "UTF-8:", tc->utf8 ? "yes" : "no (half-block needs UTF-8)");
}

/* Loads the file at path_arg, or at the default path, into dc. */
static void doctor_load_config(const char *path_arg, struct doctor_config *dc)
{
	char err[512];
	int rc;

	dc->loaded = 0;
	snprintf(dc->status, sizeof(dc->status), "no file to read");
	if (path_arg)
		snprintf(dc->path, sizeof(dc->path), "%s", path_arg);
	else if (config_default_path("sonoterm", dc->path, sizeof(dc->path)) != 0)
		dc->path[0] = '\0';
	if (!dc->path[0])
		return;

	config_init(&dc->cfg, station_config_keys);
	err[0] = '\0';
	rc = config_load(&dc->cfg, dc->path, 0, err, sizeof(err));
	if (rc == 0) {
		dc->loaded = 1;
		snprintf(dc->status, sizeof(dc->status), "yes (%zu settings)", dc->cfg.count);
	} else if (rc == SONO_ENOTFOUND || access(dc->path, F_OK) != 0) {
		snprintf(dc->status, sizeof(dc->status), "no such file (defaults apply)");
	} else {
		snprintf(dc->status, sizeof(dc->status), "no: %s", err[0] ? err : sono_strerror(rc));
	}
}

static void print_config(FILE *out, const struct doctor_config *dc)
{
	fprintf(out, "Configuration\n");
	print_field(out, "file:", dc->path);
	print_field(out, "parses:", dc->status);
}

static void doctor_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm doctor [OPTION]...\n"
		"Print what the station detects about the terminal, the locale, its\n"
		"configuration and its peers.\n"
		"\n"
		"      --config FILE     configuration file (default ~/.config/sonoterm/sonoterm.conf)\n"
		"      --render MODE     requested renderer: auto, sixel, halfblock or ascii\n"
		"                        (default: [ui] render of the configuration, else auto)\n"
		"      --timeout MS      how long to wait for terminal replies, 10 to 2000 ms (default %d)\n"
		"  -h, --help            show this help and exit\n",
		TERMCAPS_TIMEOUT_MS);
}

struct doctor_options {
	const char *config;
	enum render_mode render;
	int render_set;      /* --render was given */
	unsigned timeout_ms;
};

/* Returns -1 to go on, or the exit code to stop with. */
static int doctor_parse(int argc, char **argv, struct doctor_options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "render", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'r':
			o->render_set = 1;
			if (render_mode_parse(optarg, &o->render) != 0) {
				cli_usage_error("sonoterm doctor",
					"invalid --render '%s': expected auto, sixel, halfblock or ascii", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 10 || v > 2000) {
				cli_usage_error("sonoterm doctor",
					"invalid --timeout '%s': expected 10 to 2000 (ms)", optarg);
				return EXIT_USAGE;
			}
			o->timeout_ms = (unsigned)v;
			break;
		case 'h':
			doctor_usage(stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error("sonoterm doctor", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

/* Detects capabilities on stdin and stdout when both are a terminal, else
 * on /dev/tty, so `sonoterm doctor > report.txt` still queries it. */
static void doctor_detect(struct termcaps *tc, unsigned timeout_ms)
{
	int fd;

	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		termcaps_detect(tc, STDIN_FILENO, STDOUT_FILENO, timeout_ms);
		return;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	termcaps_detect(tc, fd >= 0 ? fd : STDIN_FILENO, fd >= 0 ? fd : STDOUT_FILENO, timeout_ms);
	if (fd >= 0)
		close(fd);
}

/* The renderer request: --render, else the file's [ui] render, else auto. */
static enum render_mode doctor_requested(const struct doctor_options *o,
	const struct doctor_config *dc)
{
	const char *value = dc->loaded ? config_get(&dc->cfg, "ui", "render") : NULL;
	enum render_mode mode;

	if (o->render_set || !value || render_mode_parse(value, &mode) != 0)
		return o->render;
	return mode;
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor_options o = { NULL, RENDER_MODE_AUTO, 0, TERMCAPS_TIMEOUT_MS };
	struct doctor_config *dc;
	struct termcaps tc;
	enum render_mode requested;
	int rc;

	rc = doctor_parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	setlocale(LC_ALL, "");
	dc = calloc(1, sizeof(*dc));
	if (!dc) {
		fprintf(stderr, "sonoterm doctor: out of memory\n");
		return EXIT_FAILURE_RUN;
	}
	doctor_load_config(o.config, dc);
	requested = doctor_requested(&o, dc);

	doctor_detect(&tc, o.timeout_ms);
	print_terminal(stdout, &tc, o.timeout_ms);
	fprintf(stdout, "  %-12s %s (requested %s)\n", "renderer:",
		render_mode_name(termcaps_choose(&tc, requested)), render_mode_name(requested));
	print_locale(stdout, &tc);
	print_config(stdout, dc);
	doctor_report_peers(stdout, dc->loaded ? &dc->cfg : NULL);
	free(dc);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_RUN;
}
