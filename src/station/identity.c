/* The station's TLS client identity and the `sonoterm identity` command. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sono/cli.h"
#include "sono/config.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/commands.h"
#include "station/identity.h"
#include "station/store.h"

#define IDENTITY_DAYS 3650

/* Creates the certificate and key unless both exist.  A lock on the folder
 * keeps two commands started at once from writing a mismatched pair. */
static int create_if_missing(const char *dir, const struct station_identity *id,
	char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		snprintf(err, errlen, "cannot lock the data folder %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SONO_EIO;
	}
	if (access(id->cert_file, F_OK) != 0 || access(id->key_file, F_OK) != 0) {
		rc = tls_generate_identity(id->cert_file, id->key_file, "sonoterm station", NULL,
			NULL, 0, IDENTITY_DAYS, err, errlen);
		if (rc == 0)
			LOG_NOTICE("created a new station identity in %s", dir);
	}
	close(fd); /* releases the lock */
	return rc;
}

int station_identity_load(const char *data_dir, struct station_identity *id,
	char *err, size_t errlen)
{
	char dir[STATION_IDENTITY_PATH_MAX - 16];
	int rc;

	memset(id, 0, sizeof(*id));
	if (data_dir)
		rc = snprintf(dir, sizeof(dir), "%s", data_dir) < (int)sizeof(dir) ? 0 : SONO_ETOOBIG;
	else
		rc = store_default_dir(dir, sizeof(dir));
	if (rc < 0) {
		snprintf(err, errlen, "the data folder path is too long");
		return SONO_ETOOBIG;
	}
	if (config_mkdirs(dir, 0700) != 0) {
		snprintf(err, errlen, "cannot create the data folder %s: %s", dir, strerror(errno));
		return SONO_EIO;
	}
	snprintf(id->cert_file, sizeof(id->cert_file), "%s/station.crt", dir);
	snprintf(id->key_file, sizeof(id->key_file), "%s/station.key", dir);

	rc = create_if_missing(dir, id, err, errlen);
	if (rc < 0)
		return rc;
	if (tls_file_fingerprint(id->cert_file, id->fingerprint) < 0) {
		snprintf(err, errlen, "cannot read the station certificate %s; remove it and its key "
			"to create a new identity", id->cert_file);
		return SONO_ETLS;
	}
	return 0;
}

static void identity_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm identity [--data-dir DIR]\n"
		"Print the fingerprint of the certificate this station presents to scanners,\n"
		"creating the certificate and key (mode 0600) in the data folder on first use.\n"
		"Pair the station with: sonoprobe --allow-station SHA256:<hex>.\n"
		"\n"
		"      --data-dir DIR         station data folder (default $XDG_DATA_HOME/sonoterm)\n"
		"  -h, --help                 show this help and exit\n"
		"\n"
		"Output: 'fingerprint SHA256:<64 hex>'.\n"
		"Exit status: 0 success, 2 usage error, 3 the identity cannot be created or read.\n");
}

int cmd_identity(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data-dir", required_argument, NULL, 'D' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct station_identity id;
	const char *data_dir = NULL;
	char err[512];
	int c;

	log_open("sonoterm", LOG_TARGET_STDERR, NULL);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'D') {
			data_dir = optarg;
		} else if (c == 'h') {
			identity_usage(stdout);
			return EXIT_OK;
		} else {
			cli_usage_error("sonoterm identity", "invalid option");
			return EXIT_USAGE;
		}
	}
	if (cli_check_no_operands("sonoterm identity", argc, argv) != EXIT_OK)
		return EXIT_USAGE;

	if (station_identity_load(data_dir, &id, err, sizeof(err)) < 0) {
		fprintf(stderr, "sonoterm identity: %s\n", err);
		return EXIT_SECURITY;
	}
	printf("fingerprint %s\n", id.fingerprint);
	return EXIT_OK;
}
