/* Placeholder for the interactive screens until the live view lands. */
#include "config.h"

#include <stdio.h>

#include "sono/cli.h"
#include "station/commands.h"

int cmd_screens(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* TODO: replace with the ncurses application shell. */
	fprintf(stderr, "sonoterm: the interactive screens are not built yet\n");
	return EXIT_FAILURE_RUN;
}
