/* sonoprobe's scanner server: one station at a time receives frames from a
 * source as OpenIGTLink IMAGE messages, a hello and a STATUS once a second,
 * and sends control STRING messages back. */
#ifndef PROBE_SERVER_H
#define PROBE_SERVER_H

#include <signal.h>

#include <openssl/ssl.h>

#include "sono/source.h"

struct probe_server_config {
	char host[256];
	unsigned port;           /* 0 picks a free port */
	unsigned fps;
	char serial[64];
	SSL_CTX *ctx;            /* NULL serves plain OpenIGTLink */
	struct source *source;
	unsigned long duration_s; /* stop after this long; 0 runs until *stop */
};

/* Listens, prints "listening HOST:PORT" to stdout, and serves until *stop is
 * set or the duration ends.  A new station replaces the current one.
 * Returns 0, or a negative SONO_E* code when listening or the source fails. */
int probe_server_run(const struct probe_server_config *cfg, volatile sig_atomic_t *stop);

#endif
