/* sonocloud: the cloud service. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sono/cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: sonocloud [OPTION]...\n"
		"Serve accounts, scanner permissions, settings and exam storage over HTTPS.\n"
		"\n"
		"  -h, --help      show this help and exit\n"
		"  -V, --version   show version information and exit\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		cli_print_version(stdout, "sonocloud");
		return EXIT_OK;
	}
	usage(stderr);
	return EXIT_USAGE;
}
