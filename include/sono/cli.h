/* Command-line conventions shared by the three programs: exit codes, the
 * --version text, option values and stop signals. */
#ifndef SONO_CLI_H
#define SONO_CLI_H

#include <stdio.h>

/* Exit codes, documented in each man page. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUN = 1,  /* the requested work failed */
	EXIT_USAGE = 2,        /* bad command line or configuration */
	EXIT_SECURITY = 3,     /* TLS, certificate, pin or permission failure */
	EXIT_UNAVAILABLE = 4,  /* a peer (scanner, cloud, PACS) is unreachable */
};

/* Prints "<program> (Sonoterm) VERSION" and the library versions. */
void cli_print_version(FILE *out, const char *program);

/* Prints "PROGRAM: message" and a hint to run --help to stderr. */
void cli_usage_error(const char *program, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses a "HOST:PORT" or "[V6]:PORT" string.  Returns 0 or SONO_EINVAL. */
int cli_parse_hostport(const char *s, char *host, size_t hostlen, unsigned *port);

/* Prints a usage error naming argv[optind] when getopt left an operand
 * there.  Returns EXIT_OK when there is none, else EXIT_USAGE. */
int cli_check_no_operands(const char *program, int argc, char **argv);

/* Parses a decimal count from 1 to max, with no sign or trailing text.
 * Returns 0 and sets *out, or SONO_EINVAL and leaves *out alone. */
int cli_parse_count(const char *arg, unsigned long max, unsigned long *out);

/* Makes SIGINT and SIGTERM set a flag instead of ending the process, so a
 * command can stop its work and clean up. */
void cli_catch_stop_signals(void);

/* Returns 1 once SIGINT or SIGTERM has arrived after
 * cli_catch_stop_signals(), else 0. */
int cli_stop_requested(void);

#endif
