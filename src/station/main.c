/* sonoterm: the ultrasound station.  Dispatches to a subcommand, or with no
 * subcommand opens the interactive screens. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sono/cli.h"
#include "station/commands.h"

static const struct station_command commands[] = {
	{ "doctor", cmd_doctor, "print what the station detects about the terminal and its peers" },
	{ "link-test", cmd_link_test, "receive frames from a scanner and report link statistics" },
	{ "capture", cmd_capture, "record a cine from a scanner into a new completed exam" },
	{ "exams", cmd_exams, "list, check, complete or delete the exams in the station store" },
	{ "login", cmd_login, "log in to the cloud and cache permitted scanners and settings" },
	{ "upload", cmd_upload, "send completed exams to the cloud and delete them once confirmed" },
	{ "logout", cmd_logout, "revoke the cloud session and end the station's login" },
	{ "queue", cmd_queue, "show the exam queue and upload it, with login and idle lock" },
	{ "identity", cmd_identity, "print this station's certificate fingerprint for pairing" },
	/* station-commands-end */
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	const struct station_command *c;

	fprintf(out,
		"Usage: sonoterm [OPTION]...            open the station screens\n"
		"       sonoterm COMMAND [OPTION]...    run a headless command\n"
		"\n"
		"Commands:\n");
	for (c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"Options for the screens:\n"
		"      --scanner HOST:PORT    open the live screen on this scanner\n"
		"      --pin SHA256:HEX       the scanner certificate's fingerprint; without\n"
		"                             it the logged-in user must be permitted the\n"
		"                             scanner ('sonoterm login')\n"
		"      --insecure-igtl        plain TCP to an OpenIGTLink server (lab use only)\n"
		"      --test-source PATTERN  synthetic frames instead of a scanner: pattern,\n"
		"                             black, white, 1x1, 641x479, colour or large\n"
		"      --render MODE          auto, sixel, halfblock or ascii (default auto)\n"
		"      --theme NAME           dark (default), high-contrast, night, mono or a\n"
		"                             theme file's path\n"
		"      --cine-seconds N       length of the cine buffer in seconds, 0.5 to 120\n"
		"                             (default 10)\n"
		"      --no-mouse             do not enable mouse reporting\n"
		"      --data-dir DIR         station database folder (default\n"
		"                             $XDG_DATA_HOME/sonoterm)\n"
		"      --passphrase-file FILE read the store passphrase from FILE's first line\n"
		"      --log-level LEVEL      error, warn, notice (default), info or debug\n"
		"      --config FILE          configuration file (default\n"
		"                             $XDG_CONFIG_HOME/sonoterm/sonoterm.conf)\n"
		"  -h, --help                 show this help and exit\n"
		"  -V, --version              show version information and exit\n"
		"\n"
		"On the live screen a enters the patient, s and c capture a still and a\n"
		"cine, f completes the exam, e opens the exam list and u the upload queue;\n"
		"l locks the screen and o logs out.  F1 shows every key.\n"
		"\n"
		"With a [cloud] url configured and no --pin, the login screen opens first\n"
		"and the live screen then opens only on a scanner the user is permitted.\n"
		"While someone is logged in, every screen locks after the site's idle time\n"
		"and only that user's password unlocks it; the --pin mode without a login\n"
		"does not lock.  While the screens are open the log goes to\n"
		"$XDG_STATE_HOME/sonoterm/sonoterm.log.\n"
		"\n"
		"Run 'sonoterm COMMAND --help' for a command's options.\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 security (TLS, pin,\n"
		"permission) failure, 4 peer unreachable.\n");
}

int main(int argc, char **argv)
{
	const struct station_command *c;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		cli_print_version(stdout, "sonoterm");
		return EXIT_OK;
	}

	if (argc > 1 && argv[1][0] != '-') {
		for (c = commands; c->name; c++) {
			if (!strcmp(c->name, argv[1]))
				return c->run(argc - 1, argv + 1);
		}
		cli_usage_error("sonoterm", "unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}

	return cmd_screens(argc, argv);
}
