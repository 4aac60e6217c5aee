/* Shared command-line helpers: version text, usage errors, HOST:PORT,
 * counts and stop signals. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/opensslv.h>

#include "sono/cli.h"
#include "sono/error.h"

void cli_print_version(FILE *out, const char *program)
{
	fprintf(out, "%s (Sonoterm) %s\n", program, PACKAGE_VERSION);
	fprintf(out, "Built with %s.\n", OPENSSL_VERSION_TEXT);
}

void cli_usage_error(const char *program, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", program);
}

int cli_parse_hostport(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon, *start = s, *end;
	char *stop;
	unsigned long p;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return SONO_EINVAL;
		start = s + 1;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return SONO_EINVAL;
		end = colon;
	}

	if (end == start || (size_t)(end - start) >= hostlen)
		return SONO_EINVAL;
	p = strtoul(colon + 1, &stop, 10);
	if (colon[1] == '\0' || *stop != '\0' || p == 0 || p > 65535)
		return SONO_EINVAL;

	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = (unsigned)p;
	return SONO_OK;
}

int cli_check_no_operands(const char *program, int argc, char **argv)
{
	if (optind >= argc)
		return EXIT_OK;
	cli_usage_error(program, "unexpected argument '%s'", argv[optind]);
	return EXIT_USAGE;
}

int cli_parse_count(const char *arg, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(arg, &end, 10);
	if (errno || *end || arg[0] == '\0' || arg[0] == '-' || value == 0 || value > max)
		return SONO_EINVAL;
	*out = value;
	return SONO_OK;
}

static volatile sig_atomic_t stop_signalled;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_signalled = 1;
}

void cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cli_stop_requested(void)
{
	return stop_signalled;
}
