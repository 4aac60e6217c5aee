/* Command-line conventions shared by the three programs: exit codes and
 * the --version text. */
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

#endif
