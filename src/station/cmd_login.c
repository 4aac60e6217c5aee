/* sonoterm login and sonoterm logout. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sono/cli.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "station/cmd_cloud.h"
#include "station/commands.h"
#include "station/session.h"
#include "station/store_cli.h"

#define LOGIN_COMMAND "sonoterm login"
#define LOGOUT_COMMAND "sonoterm logout"

struct login_options {
	const char *cloud;
	const char *user;
	const char *pin;
	const char *ca_file;
	const char *password_file;
	struct store_cli cli;
	int no_offline;
	int verbose;
};

static void login_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm login --user NAME [--cloud URL] [--cloud-pin SHA256:HEX |\n"
		"                      --cloud-ca FILE] [OPTION]...\n"
		"Log in to the cloud, cache the user's permitted scanners and the site\n"
		"settings, and save the cloud URL and its trust to the configuration file.\n"
		"When the cloud is unreachable, a user who logged in online on this station\n"
		"within the site's offline window is logged in offline.\n"
		"\n"
		"      --cloud URL            cloud address, https://HOST[:PORT] (default:\n"
		"                             [cloud] url of the configuration)\n"
		"      --user NAME            cloud user name\n"
		"      --cloud-pin SHA256:HEX trust the cloud certificate with this fingerprint\n"
		"      --cloud-ca FILE        trust cloud certificates issued by this PEM CA\n"
		"      --password-file FILE   read the password from FILE's first line\n"
		"                             (default: standard input)\n"
		"      --no-offline           fail instead of logging in offline\n"
		STORE_CLI_HELP_CONFIG
		"                             (default $XDG_CONFIG_HOME/sonoterm/sonoterm.conf)\n"
		STORE_CLI_HELP_DATA_DIR
		STORE_CLI_HELP_PASSPHRASE_FILE
		STORE_CLI_HELP_LOG_VERBOSE_HELP
		"\n"
		"The password is never taken from the command line.\n"
		"Exit status: 0 logged in, 1 wrong credentials, locked account or other\n"
		"failure, 2 usage error, 3 certificate mismatch, 4 cloud unreachable and no\n"
		"offline login possible.\n");
}

static int parse_login(int argc, char **argv, struct login_options *o, int *help)
{
	static const struct option longopts[] = {
		{ "cloud", required_argument, NULL, 'c' }, { "user", required_argument, NULL, 'u' },
		{ "cloud-pin", required_argument, NULL, 'p' },
		{ "cloud-ca", required_argument, NULL, 'a' },
		{ "password-file", required_argument, NULL, 'w' },
		{ "no-offline", no_argument, NULL, 'n' }, STORE_CLI_LONGOPT_CONFIG,
		STORE_CLI_LONGOPTS_STORE, STORE_CLI_LONGOPT_LOG,
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = store_cli_getopt(argc, argv, "vh", longopts, &o->cli)) != -1) {
		switch (ch) {
		case 'c': o->cloud = optarg; break;
		case 'u': o->user = optarg; break;
		case 'p': o->pin = optarg; break;
		case 'a': o->ca_file = optarg; break;
		case 'w': o->password_file = optarg; break;
		case 'n': o->no_offline = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h':
			login_usage(stdout);
			*help = 1;
			return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_usage_error(LOGIN_COMMAND, "unexpected argument '%s'; the password is read from "
			"standard input or --password-file", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->user == NULL) {
		cli_usage_error(LOGIN_COMMAND, "--user NAME is missing");
		return EXIT_USAGE;
	}
	if (o->pin != NULL && o->ca_file != NULL) {
		cli_usage_error(LOGIN_COMMAND, "give either --cloud-pin or --cloud-ca, not both");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Applies the command line over the configuration's cloud options. */
static int resolve_cloud(const struct login_options *o, struct cloud_options *cloud)
{
	char err[1200];

	if (o->cloud != NULL)
		snprintf(cloud->url, sizeof(cloud->url), "%s", o->cloud);
	if (o->pin != NULL) {
		snprintf(cloud->pin, sizeof(cloud->pin), "%s", o->pin);
		cloud->ca_file[0] = '\0';
	}
	if (o->ca_file != NULL) {
		snprintf(cloud->ca_file, sizeof(cloud->ca_file), "%s", o->ca_file);
		cloud->pin[0] = '\0';
	}
	if (cloud->url[0] == '\0') {
		cli_usage_error(LOGIN_COMMAND, "--cloud URL is missing and the configuration has "
			"no [cloud] url");
		return EXIT_USAGE;
	}
	if (cloud_options_check(cloud, err, sizeof(err)) < 0) {
		cli_usage_error(LOGIN_COMMAND, "%s", err);
		return EXIT_USAGE;
	}
	if (cloud->pin[0])
		tls_pin_normalize(cloud->pin, cloud->pin);
	return EXIT_OK;
}

/* Saves the cloud URL and trust of a successful online login. */
static int save_cloud_config(struct config *cfg, const struct cloud_options *cloud)
{
	char err[1200];
	int rc;

	rc = config_set(cfg, "cloud", "url", cloud->url);
	if (rc == 0)
		rc = config_set(cfg, "cloud", "pin", cloud->pin);
	if (rc == 0)
		rc = config_set(cfg, "cloud", "ca_file", cloud->ca_file);
	if (rc == 0)
		rc = config_save(cfg, NULL, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "a cloud setting does not fit the configuration");
	if (rc < 0) {
		fprintf(stderr, LOGIN_COMMAND ": logged in, but the configuration was not saved: "
			"%s\n", err);
		return EXIT_FAILURE_RUN;
	}
	return EXIT_OK;
}

static void print_login(const struct store_cloud_session *sess)
{
	if (sess->offline)
		printf("logged in offline as %s (%s); uploads wait until the cloud is reachable\n",
			sess->username, sess->role);
	else
		printf("logged in to %s as %s (%s)\n", sess->cloud_url, sess->username, sess->role);
}

/* Runs the login once the options, store and password are ready. */
static int run_login(const struct login_options *o, struct config *cfg,
	const struct cloud_options *cloud, struct store *s, const char *password)
{
	struct store_cloud_session sess;
	struct cloud_result res;
	char err[CLOUD_MESSAGE_MAX + 256];
	int rc;

	rc = session_login(s, cloud, o->user, password, !o->no_offline, NULL, &sess, &res, err,
		sizeof(err));
	if (rc < 0) {
		fprintf(stderr, LOGIN_COMMAND ": login failed (%s): %s\n",
			rc == SONO_EAUTH ? "wrong credentials" : res.kind == CLOUD_OK ?
			sono_strerror(rc) : cloud_error_kind_name(res.kind), err);
		return cloud_cli_exit_code(res.kind, rc);
	}
	crypto_wipe(sess.token, sizeof(sess.token));
	print_login(&sess);
	if (sess.offline)
		return EXIT_OK;
	return save_cloud_config(cfg, cloud);
}

int cmd_login(int argc, char **argv)
{
	struct login_options o;
	struct uploader_options opt;
	char password[CLOUD_CLI_PASSWORD_MAX + 2];
	struct store *s = NULL;
	struct config cfg;
	int help = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = parse_login(argc, argv, &o, &help);
	if (rc != EXIT_OK || help)
		return rc;
	rc = cloud_cli_start(LOGIN_COMMAND, &o.cli, o.verbose, &cfg, &opt);
	if (rc == EXIT_OK)
		rc = resolve_cloud(&o, &opt.cloud);
	if (rc == EXIT_OK)
		rc = cloud_cli_read_password(LOGIN_COMMAND, o.password_file, password,
			sizeof(password));
	if (rc != EXIT_OK)
		goto out;
	rc = store_cli_open(LOGIN_COMMAND, &o.cli, 1, &s, NULL);
	if (rc == EXIT_OK)
		rc = run_login(&o, &cfg, &opt.cloud, s, password);

out:
	crypto_wipe(password, sizeof(password));
	store_close(s);
	log_close();
	return rc;
}

static void logout_usage(FILE *out)
{
	fprintf(out,
		"Usage: sonoterm logout [--config FILE] [--data-dir DIR]\n"
		"                       [--passphrase-file FILE]\n"
		"Revoke the session token on the cloud and end the station's login.\n"
		"Exit status: 0 logged out, 2 usage error, 4 logged out on the station but\n"
		"the cloud could not revoke the token.\n");
}

static int parse_logout(int argc, char **argv, struct login_options *o, int *help)
{
	static const struct option longopts[] = {
		STORE_CLI_LONGOPT_CONFIG, STORE_CLI_LONGOPTS_STORE,
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = store_cli_getopt(argc, argv, "h", longopts, &o->cli)) != -1) {
		switch (ch) {
		case 'h':
			logout_usage(stdout);
			*help = 1;
			return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	return cli_check_no_operands(LOGOUT_COMMAND, argc, argv);
}

int cmd_logout(int argc, char **argv)
{
	struct login_options o;
	struct uploader_options opt;
	char err[CLOUD_MESSAGE_MAX + 256];
	struct store *s = NULL;
	struct config cfg;
	int help = 0, rc;

	memset(&o, 0, sizeof(o));
	rc = parse_logout(argc, argv, &o, &help);
	if (rc != EXIT_OK || help)
		return rc;
	rc = cloud_cli_setup(LOGOUT_COMMAND, o.cli.config_path, &cfg, &opt);
	if (rc == EXIT_OK)
		rc = store_cli_open(LOGOUT_COMMAND, &o.cli, 0, &s, NULL);
	if (rc != EXIT_OK)
		goto out;
	rc = session_logout(s, &opt.cloud, err, sizeof(err));
	if (rc == SONO_ENOTFOUND) {
		printf("nobody was logged in\n");
		rc = EXIT_OK;
	} else if (rc < 0) {
		fprintf(stderr, LOGOUT_COMMAND ": logged out on this station, but %s\n", err);
		rc = EXIT_UNAVAILABLE;
	} else {
		printf("logged out\n");
		rc = EXIT_OK;
	}

out:
	store_close(s);
	return rc;
}
