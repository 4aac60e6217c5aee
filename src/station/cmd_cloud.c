/* sonoterm login, upload and logout: the headless cloud commands. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sono/cli.h"
#include "sono/config.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/cmd_cloud.h"
#include "station/commands.h"
#include "station/session.h"
#include "station/station_config.h"
#include "station/store_cli.h"
#include "station/uploader.h"

int cloud_cli_load_config(const char *command, const char *path, struct config *cfg)
{
	char err[1200];
	char def[4096];

	config_init(cfg, station_config_keys);
	if (path == NULL && config_default_path("sonoterm", def, sizeof(def)) < 0) {
		fprintf(stderr, "%s: the configuration path is too long\n", command);
		return EXIT_USAGE;
	}
	/* A missing file is an empty configuration: login creates it. */
	if (config_load(cfg, path ? path : def, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", command, err);
		return EXIT_USAGE;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", path ? path : def);
	return EXIT_OK;
}

int cloud_cli_options(const char *command, const struct config *cfg,
	struct uploader_options *opt)
{
	const char *value;
	int bad = 0, rc = 0;

	uploader_options_defaults(opt);
	value = config_get(cfg, "cloud", "url");
	snprintf(opt->cloud.url, sizeof(opt->cloud.url), "%s", value ? value : "");
	value = config_get(cfg, "cloud", "pin");
	snprintf(opt->cloud.pin, sizeof(opt->cloud.pin), "%s", value ? value : "");
	value = config_get(cfg, "cloud", "ca_file");
	snprintf(opt->cloud.ca_file, sizeof(opt->cloud.ca_file), "%s", value ? value : "");
	opt->cloud.connect_timeout_s = config_get_long(cfg, "cloud", "connect_timeout",
		opt->cloud.connect_timeout_s, 1, 300, &rc);
	bad |= rc;
	opt->cloud.low_speed_time_s = config_get_long(cfg, "cloud", "low_speed_time",
		opt->cloud.low_speed_time_s, 1, 3600, &rc);
	bad |= rc;
	opt->max_attempts = (unsigned)config_get_long(cfg, "upload", "max_attempts",
		opt->max_attempts, 1, 1000, &rc);
	bad |= rc;
	opt->backoff_min_ms = config_get_long(cfg, "upload", "backoff_min_ms", opt->backoff_min_ms,
		1, 3600000, &rc);
	bad |= rc;
	opt->backoff_max_ms = config_get_long(cfg, "upload", "backoff_max_ms", opt->backoff_max_ms,
		1, 86400000, &rc);
	bad |= rc;
	if (bad || opt->backoff_max_ms < opt->backoff_min_ms) {
		fprintf(stderr, "%s: %s has an invalid [cloud] or [upload] value; allowed are "
			"connect_timeout 1 to 300 s, low_speed_time 1 to 3600 s, max_attempts 1 to "
			"1000, and backoff_min_ms up to backoff_max_ms (1 ms to 24 h)\n", command,
			cfg->path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cloud_cli_exit_code(enum cloud_error_kind kind, int rc)
{
	if (rc == SONO_EAUTH)
		return EXIT_FAILURE_RUN; /* wrong credentials, also offline */
	switch (kind) {
	case CLOUD_ERR_CERTIFICATE:
		return EXIT_SECURITY;
	case CLOUD_ERR_UNREACHABLE:
		return EXIT_UNAVAILABLE;
	default:
		return rc == SONO_ETLS ? EXIT_SECURITY : EXIT_FAILURE_RUN;
	}
}

int cloud_cli_setup(const char *command, const char *config_path, struct config *cfg,
	struct uploader_options *opt)
{
	int rc = cloud_cli_load_config(command, config_path, cfg);

	if (rc == EXIT_OK)
		rc = cloud_cli_options(command, cfg, opt);
	return rc;
}

int cloud_cli_start(const char *command, const struct store_cli *cli, int verbose,
	struct config *cfg, struct uploader_options *opt)
{
	int rc = store_cli_log(command, cli->log_path);

	if (rc == EXIT_OK && verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	if (rc == EXIT_OK)
		rc = cloud_cli_setup(command, cli->config_path, cfg, opt);
	return rc;
}

/* Reads one line from f into out without its line end.  Returns its
 * length, -1 when empty or longer than outlen - 2 bytes, or -2 when it
 * contains a NUL byte, which fgets would silently cut the password at. */
static long read_password_line(FILE *f, char *out, size_t outlen)
{
	size_t len = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0' || len + 2 > outlen) {
			crypto_wipe(out, outlen);
			return ch == '\0' ? -2 : -1;
		}
		out[len++] = (char)ch;
	}
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	return len > 0 ? (long)len : -1;
}

/* Reads the password from path, or from standard input (without echo on a
 * terminal) when path is NULL.  Returns EXIT_OK or EXIT_USAGE. */
int cloud_cli_read_password(const char *command, const char *path, char *out, size_t outlen)
{
	struct termios old, quiet;
	int tty = path == NULL && isatty(STDIN_FILENO);
	FILE *f = stdin;
	long len;

	if (path != NULL && (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open password file %s: %s\n", command, path,
			strerror(errno));
		return EXIT_USAGE;
	}
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "Password: ");
	} else {
		tty = 0;
	}
	len = read_password_line(f, out, outlen);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (path != NULL)
		fclose(f);
	if (len == -2) {
		fprintf(stderr, "%s: the password contains a NUL byte; write it as one line of "
			"text\n", command);
		return EXIT_USAGE;
	}
	if (len < 0) {
		fprintf(stderr, "%s: the password is missing or longer than %zu bytes\n", command,
			outlen - 2);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
