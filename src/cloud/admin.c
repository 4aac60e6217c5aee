/* sonocloud's administration commands (see admin.h).  Every command opens
 * the data folder's database directly, so it works whether or not
 * `sonocloud serve` is running (SQLite serialises the two writers). */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cloud/accounts.h"
#include "cloud/admin.h"
#include "cloud/audit.h"
#include "cloud/db.h"
#include "cloud/resets.h"
#include "cloud/scanners.h"
#include "cloud/settings.h"
#include "sono/cli.h"
#include "sono/config.h"
#include "sono/error.h"
#include "sono/sanitize.h"
#include "sono/tls.h"

#define PROGRAM "sonocloud"
#define ACTOR "admin-cli"
#define ARGS_MAX 4
#define CERT_DAYS 825

/* Options each command accepts, as bits. */
enum {
	OPT_DATA_DIR = 1 << 0,
	OPT_OUTBOX = 1 << 1,
	OPT_HOSTNAME = 1 << 2,
	OPT_EMAIL = 1 << 3,
	OPT_ROLE = 1 << 4,
	OPT_MODEL = 1 << 5,
	OPT_SINCE = 1 << 6,
	OPT_CERT = 1 << 7,
	OPT_KEY = 1 << 8,
};

struct admin_opts {
	const char *data_dir;
	const char *outbox;
	const char *hostname;
	const char *email;
	const char *role;
	const char *model;
	const char *since;
	const char *cert;
	const char *key;
	const char *args[ARGS_MAX];
	int nargs;
	int help;
	char data_dir_buf[4096];
	char outbox_buf[4096];
};

struct option_name {
	const char *name;
	int bit;
	size_t offset;
};

static const struct option_name option_names[] = {
	{ "--data-dir", OPT_DATA_DIR, offsetof(struct admin_opts, data_dir) },
	{ "--outbox", OPT_OUTBOX, offsetof(struct admin_opts, outbox) },
	{ "--hostname", OPT_HOSTNAME, offsetof(struct admin_opts, hostname) },
	{ "--email", OPT_EMAIL, offsetof(struct admin_opts, email) },
	{ "--role", OPT_ROLE, offsetof(struct admin_opts, role) },
	{ "--model", OPT_MODEL, offsetof(struct admin_opts, model) },
	{ "--since", OPT_SINCE, offsetof(struct admin_opts, since) },
	{ "--cert", OPT_CERT, offsetof(struct admin_opts, cert) },
	{ "--key", OPT_KEY, offsetof(struct admin_opts, key) },
};

/* Matches "--name VALUE" or "--name=VALUE".  Returns 1 when argv[*i] is an
 * allowed option (and consumes its value), 0 when it is no known option, or
 * -EXIT_USAGE after printing why. */
static int match_option(char **argv, int argc, int *i, int allowed, struct admin_opts *o)
{
	size_t k;

	for (k = 0; k < sizeof(option_names) / sizeof(option_names[0]); k++) {
		const struct option_name *on = &option_names[k];
		size_t len = strlen(on->name);
		const char **slot = (const char **)((char *)o + on->offset);

		if (strncmp(argv[*i], on->name, len) != 0
		    || (argv[*i][len] != '\0' && argv[*i][len] != '='))
			continue;
		if (!(allowed & on->bit)) {
			cli_usage_error(PROGRAM, "%s: option %s is not valid for this command", argv[0], on->name);
			return -EXIT_USAGE;
		}
		if (argv[*i][len] == '=') {
			*slot = argv[*i] + len + 1;
			return 1;
		}
		if (*i + 1 >= argc) {
			cli_usage_error(PROGRAM, "%s: option %s needs a value", argv[0], on->name);
			return -EXIT_USAGE;
		}
		*slot = argv[++*i];
		return 1;
	}
	return 0;
}

/* Parses argv into o.  Returns EXIT_OK or EXIT_USAGE (with a message). */
static int parse_opts(int argc, char **argv, int allowed, struct admin_opts *o)
{
	int i, rc;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			o->help = 1;
			continue;
		}
		rc = match_option(argv, argc, &i, allowed | OPT_DATA_DIR | OPT_OUTBOX, o);
		if (rc < 0)
			return -rc;
		if (rc == 1)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_usage_error(PROGRAM, "%s: unknown option %s", argv[0], argv[i]);
			return EXIT_USAGE;
		}
		if (o->nargs == ARGS_MAX) {
			cli_usage_error(PROGRAM, "%s: too many arguments", argv[0]);
			return EXIT_USAGE;
		}
		o->args[o->nargs++] = argv[i];
	}
	return EXIT_OK;
}

/* Fills in the default data folder ($XDG_DATA_HOME/sonocloud) and outbox
 * (DATA_DIR/outbox).  Returns EXIT_OK or EXIT_USAGE. */
static int apply_defaults(struct admin_opts *o)
{
	if (o->data_dir == NULL) {
		if (config_xdg_dir("DATA", "sonocloud", o->data_dir_buf,
			sizeof(o->data_dir_buf)) != SONO_OK) {
			cli_usage_error(PROGRAM, "no --data-dir given and no home folder to default to");
			return EXIT_USAGE;
		}
		o->data_dir = o->data_dir_buf;
	}
	if (o->outbox == NULL) {
		if (snprintf(o->outbox_buf, sizeof(o->outbox_buf), "%s/%s", o->data_dir,
			ADMIN_OUTBOX_DIR) >= (int)sizeof(o->outbox_buf)) {
			cli_usage_error(PROGRAM, "--data-dir is too long");
			return EXIT_USAGE;
		}
		o->outbox = o->outbox_buf;
	}
	return EXIT_OK;
}

static int exit_code(int rc)
{
	switch (rc) {
	case SONO_OK:
		return EXIT_OK;
	case SONO_EINVAL:
		return EXIT_USAGE;
	case SONO_EAUTH:
	case SONO_ETLS:
		return EXIT_SECURITY;
	default:
		return EXIT_FAILURE_RUN;
	}
}

/* Opens the database of o->data_dir, printing why on failure. */
static int open_db(const struct admin_opts *o, struct db **db)
{
	char err[512] = "";
	int rc = db_open(db, o->data_dir, err, sizeof(err));

	if (rc != SONO_OK)
		fprintf(stderr, "%s: %s\n", PROGRAM, err[0] ? err : sono_strerror(rc));
	return exit_code(rc);
}

/* Parses argv, prints help when asked, checks the argument count and
 * opens the database.  Returns -1 after printing help (exit 0), else an
 * exit code; *db is open only when EXIT_OK is returned. */
static int begin_command(int argc, char **argv, int allowed, int min_args, int max_args,
	void (*help)(FILE *), struct admin_opts *o, struct db **db)
{
	int rc = parse_opts(argc, argv, allowed, o);

	*db = NULL;
	if (rc != EXIT_OK)
		return rc;
	if (o->help) {
		help(stdout);
		return -1;
	}
	if (o->nargs < min_args || o->nargs > max_args) {
		help(stderr);
		return EXIT_USAGE;
	}
	rc = apply_defaults(o);
	if (rc == EXIT_OK)
		rc = open_db(o, db);
	return rc;
}

static int finish_command(struct db *db, int rc)
{
	db_close(db);
	return rc < 0 ? EXIT_OK : rc;
}

static void report(int rc, const char *what, const char *detail)
{
	if (rc == SONO_OK)
		return;
	fprintf(stderr, "%s: %s failed: %s%s%s\n", PROGRAM, what, sono_strerror(rc),
		detail && detail[0] ? ": " : "", detail ? detail : "");
}

/* The host name for links in mail: --hostname, else the one init stored,
 * else "localhost". */
static void link_host(struct db *db, const struct admin_opts *o, char *out, size_t outlen)
{
	if (o->hostname != NULL)
		snprintf(out, outlen, "%s", o->hostname);
	else if (db_meta_get(db, "hostname", out, outlen) != SONO_OK)
		snprintf(out, outlen, "localhost");
}

/* Returns 1 for a DNS name or address of letters, digits, '.', '-' and, in
 * brackets, ':' for IPv6; with allow_port also a ":PORT" suffix. */
static int hostname_valid(const char *h, int allow_port)
{
	size_t i, len = strlen(h);
	int in_brackets = 0, seen_port = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '[' && i == 0)
			in_brackets = 1;
		else if (c == ']' && in_brackets)
			in_brackets = 0;
		else if (c == ':' && !in_brackets && allow_port && !seen_port)
			seen_port = 1;
		else if (!(c == '.' || c == '-' || (c == ':' && in_brackets) || isalnum(c)))
			return 0;
	}
	return !in_brackets;
}

static void init_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud init [--data-dir DIR] [--hostname NAME] [--cert FILE --key FILE]\n"
		"Create the encrypted database, its key file (mode 0600) and, unless --cert and\n"
		"--key name an existing certificate, a self-signed RSA certificate for NAME.\n"
		"Prints the certificate's fingerprint for pinning on stations.\n"
		"\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n"
		"  --hostname NAME   host name in the certificate and in mailed links\n"
		"                    (default localhost)\n"
		"  --cert FILE       existing PEM certificate to report instead of creating one\n"
		"  --key FILE        its private key\n");
}

/* Creates DIR/cert.pem and DIR/key.pem unless they exist, or uses --cert,
 * and writes the certificate's fingerprint to fp. */
static int init_certificate(const struct admin_opts *o, const char *host,
	char fp[TLS_FINGERPRINT_LEN], char *cert, size_t certlen)
{
	char key[4096], err[512] = "";
	int rc;

	if (o->cert != NULL) {
		snprintf(cert, certlen, "%s", o->cert);
	} else {
		snprintf(cert, certlen, "%s/%s", o->data_dir, ADMIN_CERT_FILE);
		snprintf(key, sizeof(key), "%s/%s", o->data_dir, ADMIN_KEY_FILE);
		if (access(cert, F_OK) != 0) {
			rc = tls_generate_identity(cert, key, host, NULL, host, 1, CERT_DAYS, err,
				sizeof(err));
			if (rc != SONO_OK) {
				fprintf(stderr, "%s: cannot create a certificate: %s\n", PROGRAM, err);
				return rc;
			}
		}
	}
	rc = tls_file_fingerprint(cert, fp);
	if (rc != SONO_OK)
		fprintf(stderr, "%s: cannot read certificate %s: %s\n", PROGRAM, cert,
			sono_strerror(rc));
	return rc;
}

int admin_init_main(int argc, char **argv)
{
	char err[512] = "", fp[TLS_FINGERPRINT_LEN], cert[4096];
	struct admin_opts o;
	struct db *db = NULL;
	const char *host;
	int rc;

	rc = parse_opts(argc, argv, OPT_HOSTNAME | OPT_CERT | OPT_KEY, &o);
	if (rc != EXIT_OK || o.help) {
		if (o.help)
			init_help(stdout);
		return rc;
	}
	host = o.hostname ? o.hostname : "localhost";
	if (o.nargs != 0 || !hostname_valid(host, 0) || (o.cert == NULL) != (o.key == NULL)) {
		init_help(stderr);
		return EXIT_USAGE;
	}
	rc = apply_defaults(&o);
	if (rc != EXIT_OK)
		return rc;
	rc = db_create(o.data_dir, err, sizeof(err));
	if (rc != SONO_OK) {
		fprintf(stderr, "%s: %s\n", PROGRAM, err[0] ? err : sono_strerror(rc));
		return exit_code(rc);
	}
	rc = db_open(&db, o.data_dir, err, sizeof(err));
	if (rc == SONO_OK)
		rc = db_meta_set(db, "hostname", host);
	if (rc == SONO_OK)
		rc = init_certificate(&o, host, fp, cert, sizeof(cert));
	if (rc == SONO_OK) {
		audit_write(db, ACTOR, "init", host, "", "ok");
		printf("database %s/%s\nkey file %s/%s\ncertificate %s\nfingerprint %s\n",
			o.data_dir, DB_FILE_NAME, o.data_dir, DB_KEY_FILE_NAME, cert, fp);
	} else if (err[0] != '\0') {
		fprintf(stderr, "%s: %s\n", PROGRAM, err);
	}
	db_close(db);
	return exit_code(rc);
}

static void user_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud user add NAME --email ADDR [--role ROLE] [--hostname HOST]\n"
		"       sonocloud user disable NAME\n"
		"       sonocloud user enable NAME\n"
		"       sonocloud user reset NAME [--hostname HOST]\n"
		"       sonocloud user list\n"
		"Manage accounts.  add writes an enrolment message with a single-use link to\n"
		"the outbox, where the user chooses a password; reset does the same for an\n"
		"existing user.  disable also ends every session of the user.  No command\n"
		"shows or sets a password.\n"
		"\n"
		"  --email ADDR      the user's mail address\n"
		"  --role ROLE       clinician (default), observer or administrator\n"
		"  --hostname HOST   HOST[:PORT] in the mailed link (default: from init)\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n"
		"  --outbox DIR      mail outbox folder (default DIR/outbox)\n");
}

static int send_link(struct db *db, const struct admin_opts *o, const char *name,
	enum resets_kind kind)
{
	char host[256];
	struct resets_mail mail = { o->outbox, host, NULL };
	struct account a;
	int rc;

	link_host(db, o, host, sizeof(host));
	rc = accounts_get_by_name(db, name, &a);
	if (rc == SONO_OK)
		rc = resets_issue(db, &mail, a.id, kind, ACTOR, "");
	if (rc == SONO_OK)
		printf("%s message for %s written to %s/new\n",
			kind == RESETS_ENROL ? "enrolment" : "reset", name, o->outbox);
	else
		report(rc, kind == RESETS_ENROL ? "enrolment" : "reset",
			rc == SONO_ESTATE ? "the account is disabled" : name);
	return rc;
}

static int user_add(struct db *db, const struct admin_opts *o, const char *name)
{
	enum account_role role = ROLE_CLINICIAN;
	int rc;

	if (o->email == NULL || (o->role && accounts_parse_role(o->role, &role) != SONO_OK)
	    || !accounts_name_valid(name) || !accounts_email_valid(o->email)) {
		cli_usage_error(PROGRAM, "user add needs a NAME of lowercase letters, digits, '.',"
			" '_' or '-', a valid --email, and a --role of clinician, observer or"
			" administrator");
		return SONO_EINVAL;
	}
	rc = accounts_add(db, name, o->email, role, NULL);
	audit_write(db, ACTOR, "user.add", name, "", rc == SONO_OK ? "ok" : "failed");
	if (rc == SONO_ESTATE) {
		fprintf(stderr, "%s: user add failed: a user named %s already exists\n", PROGRAM, name);
		return rc;
	}
	if (rc != SONO_OK) {
		report(rc, "user add", name);
		return rc;
	}
	printf("user %s added with role %s\n", name, accounts_role_name(role));
	return send_link(db, o, name, RESETS_ENROL);
}

static int user_set_disabled(struct db *db, const char *name, int disabled)
{
	int rc = accounts_set_disabled(db, name, disabled);

	audit_write(db, ACTOR, disabled ? "user.disable" : "user.enable", name, "",
		rc == SONO_OK ? "ok" : "failed");
	if (rc == SONO_OK)
		printf("user %s %s\n", name, disabled ? "disabled; its sessions are revoked" : "enabled");
	report(rc, disabled ? "user disable" : "user enable", name);
	return rc;
}

static int print_user(void *arg, const struct db_value *c, size_t n)
{
	char email[ACCOUNTS_EMAIL_MAX * 3 + 1];

	(void)arg;
	if (n != 5 || c[0].type != DB_TEXT || c[1].type != DB_TEXT || c[2].type != DB_TEXT)
		return SONO_EDB;
	sanitize_text(c[1].text, c[1].len, email, sizeof(email), 0);
	printf("%s\t%s\t%s\t%s\t%s\n", c[0].text, email, c[2].text,
		c[3].i ? "disabled" : "enabled", c[4].type == DB_NULL ? "enrolling" : "active");
	return 0;
}

int admin_user_main(int argc, char **argv)
{
	struct admin_opts o;
	struct db *db;
	const char *verb;
	int rc;

	rc = begin_command(argc, argv, OPT_EMAIL | OPT_ROLE | OPT_HOSTNAME, 1, 2, user_help, &o, &db);
	if (rc != EXIT_OK)
		return finish_command(db, rc);
	verb = o.args[0];
	if (o.hostname != NULL && !hostname_valid(o.hostname, 1)) {
		cli_usage_error(PROGRAM, "user: --hostname %s is not HOST or HOST:PORT", o.hostname);
		return finish_command(db, EXIT_USAGE);
	}
	if (strcmp(verb, "list") == 0 && o.nargs == 1)
		rc = db_exec(db, "SELECT name, email, role, disabled, pw_hash FROM users ORDER BY name",
			NULL, 0, print_user, NULL);
	else if (o.nargs != 2)
		rc = SONO_EINVAL;
	else if (strcmp(verb, "add") == 0)
		rc = user_add(db, &o, o.args[1]);
	else if (strcmp(verb, "disable") == 0)
		rc = user_set_disabled(db, o.args[1], 1);
	else if (strcmp(verb, "enable") == 0)
		rc = user_set_disabled(db, o.args[1], 0);
	else if (strcmp(verb, "reset") == 0)
		rc = send_link(db, &o, o.args[1], RESETS_RESET);
	else
		rc = SONO_EINVAL;
	if (rc == SONO_EINVAL)
		user_help(stderr);
	return finish_command(db, exit_code(rc));
}

static void scanner_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud scanner add SERIAL FINGERPRINT [--model MODEL]\n"
		"       sonocloud scanner list\n"
		"Register a scanner by the serial in its certificate subject and the\n"
		"certificate's fingerprint (SHA256:<64 hex digits>, as sonoprobe prints it).\n"
		"Adding a known serial again replaces its fingerprint and model.\n"
		"\n"
		"  --model MODEL     model name shown to users\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n");
}

static int print_scanner(void *arg, const struct db_value *c, size_t n)
{
	char model[SCANNERS_MODEL_MAX * 3 + 1];

	(void)arg;
	if (n != 3 || c[0].type != DB_TEXT || c[1].type != DB_TEXT || c[2].type != DB_TEXT)
		return SONO_EDB;
	sanitize_text(c[1].text, c[1].len, model, sizeof(model), 0);
	printf("%s\t%s\t%s\n", c[0].text, c[2].text, model);
	return 0;
}

int admin_scanner_main(int argc, char **argv)
{
	struct admin_opts o;
	struct db *db;
	int rc;

	rc = begin_command(argc, argv, OPT_MODEL, 1, 3, scanner_help, &o, &db);
	if (rc != EXIT_OK)
		return finish_command(db, rc);
	if (strcmp(o.args[0], "list") == 0 && o.nargs == 1) {
		rc = db_exec(db, "SELECT serial, model, fingerprint FROM scanners ORDER BY serial",
			NULL, 0, print_scanner, NULL);
	} else if (strcmp(o.args[0], "add") == 0 && o.nargs == 3) {
		rc = scanners_add(db, o.args[1], o.args[2], o.model);
		audit_write(db, ACTOR, "scanner.add", o.args[1], "", rc == SONO_OK ? "ok" : "failed");
		if (rc == SONO_OK)
			printf("scanner %s added\n", o.args[1]);
		else if (rc == SONO_EINVAL)
			fprintf(stderr, "%s: scanner add failed: the serial must be 1 to 64 letters,"
				" digits, '.', '_' or '-', the fingerprint SHA256:<64 hex digits> and"
				" the --model at most %d bytes without control characters\n",
				PROGRAM, SCANNERS_MODEL_MAX);
		else
			fprintf(stderr, "%s: scanner add failed: %s\n", PROGRAM, sono_strerror(rc));
	} else {
		scanner_help(stderr);
		rc = SONO_EINVAL;
	}
	return finish_command(db, exit_code(rc));
}

static void grant_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud grant USER SERIAL\n"
		"Allow a user to use a registered scanner.  Granting twice is harmless.\n"
		"\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n");
}

static void revoke_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud revoke USER SERIAL\n"
		"Stop a user's use of a scanner.  Revoking a grant that does not exist fails.\n"
		"\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n");
}

static int grant_or_revoke(int argc, char **argv, int grant)
{
	char target[ACCOUNTS_NAME_MAX + SCANNERS_SERIAL_MAX + 2];
	struct admin_opts o;
	struct db *db;
	int rc;

	rc = begin_command(argc, argv, 0, 2, 2, grant ? grant_help : revoke_help, &o, &db);
	if (rc != EXIT_OK)
		return finish_command(db, rc);
	rc = grant ? scanners_grant(db, o.args[0], o.args[1])
		: scanners_revoke(db, o.args[0], o.args[1]);
	snprintf(target, sizeof(target), "%.64s:%.64s", o.args[0], o.args[1]);
	audit_write(db, ACTOR, grant ? "grant.add" : "grant.revoke", target, "",
		rc == SONO_OK ? "ok" : "failed");
	if (rc == SONO_OK)
		printf("%s %s scanner %s\n", o.args[0], grant ? "may now use" : "may no longer use",
			o.args[1]);
	else
		report(rc, grant ? "grant" : "revoke",
			rc == SONO_ENOTFOUND ? "unknown user, scanner or grant" : NULL);
	return finish_command(db, exit_code(rc));
}

int admin_grant_main(int argc, char **argv)
{
	return grant_or_revoke(argc, argv, 1);
}

int admin_revoke_main(int argc, char **argv)
{
	return grant_or_revoke(argc, argv, 0);
}

static void settings_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud settings set KEY VALUE\n"
		"       sonocloud settings show\n"
		"Set a site setting that stations fetch after login, or print all of them.\n"
		"\n"
		"  presets             JSON array of preset names\n"
		"  retention_days      days a station keeps an exported exam (0-3650)\n"
		"  idle_lock_minutes   minutes before an idle station locks (1-240)\n"
		"  offline_login_days  days a cached login works offline (0-90)\n"
		"  dicom_destinations  JSON array of {name, host, port, ae_title, tls}\n"
		"\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n");
}

static int settings_show(struct db *db)
{
	json_t *all = NULL;
	int rc = settings_get_all(db, &all);

	if (rc == SONO_OK) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
		putchar('\n');
	}
	json_decref(all);
	return rc;
}

int admin_settings_main(int argc, char **argv)
{
	char reason[256] = "";
	struct admin_opts o;
	struct db *db;
	int rc;

	rc = begin_command(argc, argv, 0, 1, 3, settings_help, &o, &db);
	if (rc != EXIT_OK)
		return finish_command(db, rc);
	if (strcmp(o.args[0], "show") == 0 && o.nargs == 1) {
		rc = settings_show(db);
	} else if (strcmp(o.args[0], "set") == 0 && o.nargs == 3) {
		rc = settings_set(db, o.args[1], o.args[2], reason, sizeof(reason));
		audit_write(db, ACTOR, "settings.set", o.args[1], "", rc == SONO_OK ? "ok" : "failed");
		if (rc == SONO_OK)
			printf("%s set\n", o.args[1]);
		else
			report(rc, "settings set", reason);
	} else {
		settings_help(stderr);
		rc = SONO_EINVAL;
	}
	return finish_command(db, exit_code(rc));
}

static void audit_help(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud audit [--since TIME]\n"
		"Print the audit table, oldest first, one tab-separated line a row:\n"
		"TIME ACTOR ACTION TARGET ADDRESS OUTCOME.\n"
		"\n"
		"  --since TIME      only rows at or after TIME: YYYY-MM-DD or\n"
		"                    YYYY-MM-DDTHH:MM:SSZ (UTC), or seconds since the epoch\n"
		"  --data-dir DIR    data folder (default $XDG_DATA_HOME/sonocloud)\n");
}

int admin_audit_main(int argc, char **argv)
{
	struct admin_opts o;
	struct db *db;
	int64_t since = 0;
	int rc;

	rc = parse_opts(argc, argv, OPT_SINCE, &o);
	if (rc == EXIT_OK && o.since != NULL && audit_parse_time(o.since, &since) != SONO_OK) {
		cli_usage_error(PROGRAM, "audit: --since %s is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ"
			" or a number of seconds", o.since);
		return EXIT_USAGE;
	}
	rc = begin_command(argc, argv, OPT_SINCE, 0, 0, audit_help, &o, &db);
	if (rc != EXIT_OK)
		return finish_command(db, rc);
	rc = audit_print(db, since, stdout);
	report(rc, "audit", NULL);
	return finish_command(db, exit_code(rc));
}
