/* Opening the station store from a headless command. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sono/cli.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/store_cli.h"

#define PASSPHRASE_MAX 1024

/* Reads the first line of path as the passphrase, without its line end.
 * A NUL byte or a line longer than PASSPHRASE_MAX bytes is an error, not a
 * silent cut.  A cut passphrase would wrap the key with only the bytes
 * before the cut, which for a random binary file can be a few bytes. */
static int read_passphrase(const char *command, const char *path, char *out, size_t outlen,
	size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: cannot open passphrase file %s: %s\n", command, path,
			strerror(errno));
		return EXIT_USAGE;
	}
	n = fread(out, 1, outlen - 1, f);
	fclose(f);
	*len = 0;
	while (*len < n && out[*len] != '\n' && out[*len] != '\r')
		(*len)++;
	out[*len] = '\0';
	if (memchr(out, '\0', *len) != NULL) {
		fprintf(stderr, "%s: passphrase file %s contains a NUL byte; write the passphrase "
			"as one line of text\n", command, path);
		return EXIT_USAGE;
	}
	if (*len > PASSPHRASE_MAX) {
		fprintf(stderr, "%s: the first line of passphrase file %s is longer than %d bytes\n",
			command, path, PASSPHRASE_MAX);
		return EXIT_USAGE;
	}
	if (*len == 0) {
		fprintf(stderr, "%s: passphrase file %s is empty\n", command, path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int exit_code_for(int rc)
{
	switch (rc) {
	case SONO_EAUTH:
		return EXIT_SECURITY;
	default:
		return EXIT_FAILURE_RUN;
	}
}

int store_cli_open(const char *command, const struct store_cli *o, int create,
	struct store **out, int *missing)
{
	struct store_options opt = { .data_dir = o->data_dir, .create = create };
	char passphrase[PASSPHRASE_MAX + 2];
	char err[1024] = "";
	size_t len = 0;
	int rc;

	*out = NULL;
	if (missing)
		*missing = 0;
	if (o->passphrase_file) {
		rc = read_passphrase(command, o->passphrase_file, passphrase, sizeof(passphrase), &len);
		if (rc != EXIT_OK) {
			crypto_wipe(passphrase, sizeof(passphrase));
			return rc;
		}
		opt.passphrase = passphrase;
		opt.passphrase_len = len;
	}
	rc = store_open(out, &opt, err, sizeof(err));
	crypto_wipe(passphrase, sizeof(passphrase));
	if (rc == 0)
		return EXIT_OK;
	if (missing && rc == SONO_ENOTFOUND && !create)
		*missing = 1;
	fprintf(stderr, "%s: %s\n", command, err[0] ? err : sono_strerror(rc));
	return exit_code_for(rc);
}

int store_cli_log(const char *command, const char *path)
{
	if (!path) {
		log_open("sonoterm", LOG_TARGET_STDERR, NULL);
		return EXIT_OK;
	}
	if (log_open("sonoterm", LOG_TARGET_FILE, path) != 0) {
		fprintf(stderr, "%s: cannot open log file %s: %s\n", command, path, strerror(errno));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Stores arg in the field of o that the getopt_long code belongs to.
 * Returns 1 when code is a STORE_CLI_OPT_* code, else 0. */
static int store_option(struct store_cli *o, int code, const char *arg)
{
	switch (code) {
	case STORE_CLI_OPT_DATA_DIR: o->data_dir = arg; return 1;
	case STORE_CLI_OPT_PASSPHRASE_FILE: o->passphrase_file = arg; return 1;
	case STORE_CLI_OPT_LOG: o->log_path = arg; return 1;
	case STORE_CLI_OPT_CONFIG: o->config_path = arg; return 1;
	default: return 0;
	}
}

int store_cli_getopt(int argc, char **argv, const char *shortopts,
	const struct option *longopts, struct store_cli *o)
{
	int code;

	do
		code = getopt_long(argc, argv, shortopts, longopts, NULL);
	while (code != -1 && store_option(o, code, optarg));
	return code;
}
