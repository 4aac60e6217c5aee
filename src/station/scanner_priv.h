/* Internals shared by scanner.c (thread, states, API) and scanner_session.c
 * (one connection: I/O, messages, timeouts). */
#ifndef STATION_SCANNER_PRIV_H
#define STATION_SCANNER_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "sono/buf.h"
#include "sono/conn.h"
#include "sono/igtl.h"
#include "station/scanner.h"

/* Latency histogram: 0.1 ms buckets up to 2 s; later values land in the
 * last bucket. */
#define SCANNER_LATENCY_BUCKETS 20000
#define SCANNER_LATENCY_BUCKET_NS 100000ULL

#define SCANNER_CONTROL_MAX 65536
#define SCANNER_READ_CHUNK 65536

struct scanner {
	struct scanner_config cfg;
	struct mailbox *mb;
	SSL_CTX *ctx;            /* NULL in insecure mode */
	pthread_t thread;
	int wake[2];             /* self-pipe that interrupts the thread's poll */

	pthread_mutex_t lock;    /* guards everything below */
	pthread_cond_t changed;  /* signalled on every state change */
	int stopping;
	struct scanner_stats stats;
	struct sbuf control;     /* encoded control messages waiting to be sent */
	uint32_t latency_hist[SCANNER_LATENCY_BUCKETS];
	uint64_t latency_count;
	uint64_t fps_window_start_ns;
	uint64_t fps_window_frames;
	uint64_t connected_since_ns; /* 0 while not connected */
};

/* One connection's working state, owned by the receive thread. */
struct scanner_session {
	struct conn conn;
	struct igtl_decoder decoder;
	struct frame frame;      /* decode target, swapped with the mailbox */
	struct sbuf out;         /* bytes queued for the scanner */
	size_t out_off;          /* bytes of out already written */
	int64_t last_byte_ms;
	int64_t message_start_ms;
	uint64_t frames;         /* frames received on this connection */
	enum scanner_error_kind error_kind;
	char error[SCANNER_ERROR_MAX];
	uint8_t chunk[SCANNER_READ_CHUNK];
};

/* Connects, runs the handshake and checks the serial.  Returns 0 or a
 * negative SONO_E* code with sess->error and sess->error_kind set. */
int scanner_session_open(struct scanner *s, struct scanner_session *sess);

/* Exchanges messages until an error, a timeout or scanner_stop.  Returns 0
 * when stopped, else a negative code with the reason in sess. */
int scanner_session_run(struct scanner *s, struct scanner_session *sess);

void scanner_session_close(struct scanner_session *sess);

/* Empties the wake pipe after poll() reported it readable. */
void scanner_drain_wake(struct scanner *s);

/* Monotonic milliseconds, for timeouts. */
int64_t scanner_now_ms(void);

#endif
