/* Placeholder for `sonocloud serve` until the HTTPS server lands; it is
 * replaced by the libevent server (see server.h). */
#include "config.h"

#include <stdio.h>

#include "cloud/server.h"
#include "sono/cli.h"

int cloud_serve_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sonocloud: serve is not built yet\n");
	return EXIT_FAILURE_RUN;
}
