/* The station's scanner client: one connection to a sonoprobe (or any
 * OpenIGTLink server in insecure mode), a receive thread that decodes frames
 * into a single-slot mailbox, control commands and link statistics.
 *
 * Link states (the receive thread moves between them; see scanner.c):
 *   CONNECTING -> CONNECTED -> BACKOFF -> CONNECTING ... and STOPPED at the
 *   end.  A link that fails a security check (pin, serial, handshake policy)
 *   goes to FAILED instead of BACKOFF when the config asks for it.
 *
 * All functions are safe to call from any thread while the client runs. */
#ifndef STATION_SCANNER_H
#define STATION_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#include "sono/tls.h"
#include "station/identity.h"
#include "station/mailbox.h"

#define SCANNER_TEXT_MAX 64
#define SCANNER_ERROR_MAX 256

struct scanner_config {
	char host[256];
	unsigned port;
	char pin[TLS_FINGERPRINT_LEN];  /* "SHA256:<hex>"; ignored when insecure */
	char serial[SCANNER_TEXT_MAX];  /* expected certificate serial; "" = any */
	int insecure_igtl;              /* plain TCP, no certificate check */
	int tls12_only;                 /* cap the handshake at TLS 1.2 */
	struct station_identity identity; /* client certificate; empty cert_file = none */
	int stop_on_security_error;     /* go to FAILED rather than retry */
	int stop_on_connect_error;      /* go to FAILED when the first connect fails */
	size_t max_frame_bytes;         /* largest IMAGE body accepted */
	int connect_timeout_ms;         /* TCP connect plus TLS handshake */
	int message_timeout_ms;         /* from a message's first byte to its last */
	int idle_timeout_ms;            /* no byte at all for this long */
	int backoff_min_ms;             /* first reconnect delay, doubled per failure */
	int backoff_max_ms;
};

enum scanner_state {
	SCANNER_CONNECTING,
	SCANNER_CONNECTED,
	SCANNER_BACKOFF,
	SCANNER_FAILED,  /* stopped by a security or first-connect error */
	SCANNER_STOPPED,
};

/* Kind of the last error, for exit codes and the live screen. */
enum scanner_error_kind {
	SCANNER_ERROR_NONE,
	SCANNER_ERROR_UNREACHABLE, /* connect refused or timed out */
	SCANNER_ERROR_SECURITY,    /* TLS handshake, pin or serial */
	SCANNER_ERROR_PROTOCOL,    /* malformed or oversized message, CRC */
	SCANNER_ERROR_TIMEOUT,     /* stalled mid-message or idle */
	SCANNER_ERROR_CLOSED,      /* scanner closed the connection */
};

/* A snapshot of the link.  Text fields from the scanner are sanitised. */
struct scanner_stats {
	enum scanner_state state;
	uint64_t frames_received;  /* intact IMAGE messages */
	uint64_t frames_dropped;   /* replaced in the mailbox before being taken */
	uint64_t frames_sent;      /* the scanner's own count, from its last STATUS */
	uint64_t bytes_received;   /* payload bytes after TLS */
	uint64_t connects;         /* successful connections */
	uint64_t errors;           /* connections that ended with an error */
	double fps;                /* frames per second over the last second */
	double latency_ms;         /* scanner timestamp to mailbox, last frame */
	double latency_p50_ms;     /* over all frames since scanner_start */
	double latency_p99_ms;
	double seconds_connected;  /* total time in CONNECTED */
	char tls[SCANNER_TEXT_MAX];      /* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "none" */
	char serial[SCANNER_TEXT_MAX];   /* certificate serial, else the hello's */
	char model[SCANNER_TEXT_MAX];
	char firmware[SCANNER_TEXT_MAX];
	int battery_pct;           /* -1 until the first STATUS */
	double temperature_c;
	enum scanner_error_kind error_kind;
	char last_error[SCANNER_ERROR_MAX];
};

struct scanner;

/* Fills cfg with defaults: frames up to FRAME_MAX_BYTES, 5 s connect, 3 s
 * message, 5 s idle, back-off 250 ms doubling to 8 s, retry on every error. */
void scanner_config_defaults(struct scanner_config *cfg);

/* Starts the receive thread, which delivers frames into mb (owned by the
 * caller, who frees it after scanner_stop).  Returns 0, SONO_EINVAL for an
 * incomplete config (no host, or no valid pin without insecure_igtl),
 * SONO_ETLS when the TLS context cannot be built, or SONO_ENOMEM. */
int scanner_start(struct scanner **out, const struct scanner_config *cfg, struct mailbox *mb);

/* Stops the thread, closes the connection and frees s; accepts NULL.
 * Takes at most a fraction of a second. */
void scanner_stop(struct scanner *s);

/* Copies the current statistics. */
void scanner_get_stats(struct scanner *s, struct scanner_stats *out);

/* Waits up to timeout_ms for the state to leave CONNECTING and BACKOFF, or
 * for FAILED/STOPPED.  Returns the state at return. */
enum scanner_state scanner_wait_state(struct scanner *s, int timeout_ms);

/* Queue a control message for the scanner; it is sent on the next pass of
 * the receive thread and dropped when not connected.  Each returns 0,
 * SONO_EINVAL for a value out of range, or SONO_ENOMEM. */
int scanner_set_depth(struct scanner *s, double depth_mm);   /* 10 to 300 mm */
int scanner_set_gain(struct scanner *s, double gain_db);     /* -30 to 30 dB */
int scanner_set_freeze(struct scanner *s, int frozen);
int scanner_set_preset(struct scanner *s, const char *preset); /* [a-z0-9_-]{1,31} */

/* Returns a static name for a state, e.g. "connected". */
const char *scanner_state_name(enum scanner_state state);

#endif
