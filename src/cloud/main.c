/* sonocloud: the cloud service.  main() dispatches to one subcommand from
 * a table; serve runs the HTTPS server and the others administer the data
 * folder. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cloud/admin.h"
#include "cloud/server.h"
#include "sono/cli.h"
#include "sono/log.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "init", admin_init_main, "create the encrypted database, key file and certificate" },
	{ "serve", cloud_serve_main, "serve the HTTPS API and pages" },
	{ "user", admin_user_main, "add, disable, enable, reset or list users" },
	{ "scanner", admin_scanner_main, "register scanners by serial and certificate fingerprint" },
	{ "grant", admin_grant_main, "allow a user to use a scanner" },
	{ "revoke", admin_revoke_main, "stop a user's use of a scanner" },
	{ "settings", admin_settings_main, "set or show site settings for stations" },
	{ "audit", admin_audit_main, "print the audit table" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: sonocloud COMMAND [OPTION]...\n"
		"Serve accounts, scanner permissions, settings and exam storage over HTTPS,\n"
		"and administer them from the command line.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Run sonocloud COMMAND --help for a command's options.  Every command takes\n"
		"--data-dir DIR (default $XDG_DATA_HOME/sonocloud).\n"
		"\n"
		"  -h, --help      show this help and exit\n"
		"  -V, --version   show version information and exit\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 security failure\n"
		"(key file mode, TLS or certificate), 4 peer unreachable.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		cli_print_version(stdout, "sonocloud");
		return EXIT_OK;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		/* serve sets up its own log; the administration commands report
		 * on stdout and stderr and log only warnings. */
		if (commands[i].run != cloud_serve_main)
			log_set_level(LOG_LEVEL_WARN);
		return commands[i].run(argc - 1, argv + 1);
	}
	cli_usage_error("sonocloud", "unknown command %s", argv[1]);
	return EXIT_USAGE;
}
