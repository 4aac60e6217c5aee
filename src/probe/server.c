/* The scanner server loop: accept a station, stream frames at the configured
 * rate without building a backlog, report status and apply control
 * commands.  Everything runs in one thread around poll(). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sono/conn.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/igtl.h"
#include "sono/log.h"
#include "sono/tls.h"
#include "probe/server.h"

#define DEVICE_NAME "sonoprobe"
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define HANDSHAKE_TIMEOUT_MS 5000
#define CONTROL_TIMEOUT_MS 10000 /* from a control message's first byte to its last */
#define OUT_MAX (FRAME_MAX_BYTES + ((size_t)1 << 20))

/* At most one message a second for a kind of event that a flood of
 * connections can repeat, with the count of those not logged. */
struct log_limit {
	int64_t logged_ns; /* when the last message was logged */
	unsigned unlogged; /* events since then */
};

struct probe_server {
	const struct probe_server_config *cfg;
	int listen_fd;
	struct conn client;
	char peer[96];
	struct conn pending;      /* a station whose TLS handshake is in progress */
	char pending_peer[96];
	int64_t pending_deadline_ns;
	struct log_limit abandoned; /* handshakes abandoned for a newer connection */
	struct log_limit rejected;  /* certificates rejected by the allowed list */
	struct log_limit failed;    /* other failed handshakes while a list is set */
	struct igtl_decoder decoder;
	int64_t control_start_ns;
	struct sbuf out;          /* messages queued for the station */
	size_t out_off;           /* bytes of out already written */
	size_t frame_end;         /* end offset in out of the last queued frame */
	struct source_params params;
	struct frame frame;
	uint64_t frames_sent, frames_skipped;
	int64_t started_ns, next_frame_ns, next_status_ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void drop_client(struct probe_server *ps, const char *reason)
{
	if (ps->client.fd < 0)
		return;
	LOG_NOTICE("station %s disconnected: %s (frames sent %llu, skipped %llu)", ps->peer, reason,
		(unsigned long long)ps->frames_sent, (unsigned long long)ps->frames_skipped);
	conn_close(&ps->client);
	igtl_decoder_next(&ps->decoder);
	sbuf_reset(&ps->out);
	ps->out_off = ps->frame_end = 0;
}

/* Queues the hello STRING: identity and capabilities, never patient data. */
static int queue_hello(struct probe_server *ps)
{
	json_t *hello = json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s,s]}",
		"serial", ps->cfg->serial, "model", source_model(ps->cfg->source),
		"firmware", PACKAGE_VERSION, "capabilities",
		"image", "status", "depth", "gain", "freeze", "preset");
	char *text = hello ? json_dumps(hello, JSON_COMPACT) : NULL;
	int rc = SONO_ENOMEM;

	if (text)
		rc = igtl_encode_string(&ps->out, DEVICE_NAME, frame_now_ns(), IGTL_ENCODING_UTF8,
			text, strlen(text));
	free(text);
	json_decref(hello);
	return rc;
}

/* Simulated battery (drains 1 % every two minutes, never below 5 %) and
 * transducer temperature (warms from 30 to 38 degrees C over ten minutes). */
static int queue_status(struct probe_server *ps, int64_t now)
{
	double minutes = (double)(now - ps->started_ns) / 60e9;
	int battery = 100 - (int)(minutes / 2);
	double temperature = 30.0 + 8.0 * (minutes > 10 ? 1.0 : minutes / 10);
	char text[256];

	snprintf(text, sizeof(text),
		"{\"battery_pct\":%d,\"temperature_c\":%.1f,\"frames_sent\":%llu,\"frames_skipped\":%llu}",
		battery < 5 ? 5 : battery, temperature, (unsigned long long)ps->frames_sent,
		(unsigned long long)ps->frames_skipped);
	return igtl_encode_status(&ps->out, DEVICE_NAME, frame_now_ns(), IGTL_STATUS_OK, 0, "", text);
}

/* Produces and queues one frame, or skips it while the previous frame is
 * still being written, so a slow station never builds a backlog here. */
static int queue_frame(struct probe_server *ps)
{
	int rc;

	if (ps->out_off < ps->frame_end) {
		ps->frames_skipped++;
		return 0;
	}
	rc = source_next(ps->cfg->source, &ps->params, &ps->frame);
	if (rc < 0) {
		LOG_ERROR("frame source failed: %s", sono_strerror(rc));
		return rc;
	}
	ps->frame.timestamp_ns = frame_now_ns();
	rc = igtl_encode_image(&ps->out, DEVICE_NAME, &ps->frame);
	if (rc < 0) {
		LOG_ERROR("cannot encode a %ux%u frame: %s", ps->frame.width, ps->frame.height,
			sono_strerror(rc));
		return rc;
	}
	ps->frame_end = ps->out.len;
	ps->frames_sent++;
	return 0;
}

/* Writes queued bytes until the socket is full. */
static void flush_out(struct probe_server *ps)
{
	ssize_t n;

	while (ps->client.fd >= 0 && ps->out_off < ps->out.len) {
		n = conn_write(&ps->client, ps->out.data + ps->out_off, ps->out.len - ps->out_off);
		if (n == 0)
			return;
		if (n < 0) {
			drop_client(ps, sono_strerror((int)n));
			return;
		}
		ps->out_off += (size_t)n;
	}
	sbuf_reset(&ps->out);
	ps->out_off = ps->frame_end = 0;
}

static int preset_valid(const char *preset)
{
	size_t len = strlen(preset);

	return len > 0 && len < sizeof(((struct source_params *)0)->preset) &&
		strspn(preset, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* Applies one control object.  Out-of-range values are logged and ignored,
 * and unknown keys are ignored. */
static void apply_control(struct probe_server *ps, json_t *obj)
{
	json_t *v;

	if ((v = json_object_get(obj, "depth_mm")) != NULL) {
		if (json_is_number(v) && json_number_value(v) >= 10 && json_number_value(v) <= 300)
			ps->params.depth_mm = json_number_value(v);
		else
			LOG_WARN("station %s: ignoring an invalid depth_mm", ps->peer);
	}
	if ((v = json_object_get(obj, "gain_db")) != NULL) {
		if (json_is_number(v) && json_number_value(v) >= -30 && json_number_value(v) <= 30)
			ps->params.gain_db = json_number_value(v);
		else
			LOG_WARN("station %s: ignoring an invalid gain_db", ps->peer);
	}
	if ((v = json_object_get(obj, "freeze")) != NULL && json_is_boolean(v))
		ps->params.frozen = json_is_true(v);
	if ((v = json_object_get(obj, "preset")) != NULL) {
		if (json_is_string(v) && preset_valid(json_string_value(v)))
			snprintf(ps->params.preset, sizeof(ps->params.preset), "%s", json_string_value(v));
		else
			LOG_WARN("station %s: ignoring an invalid preset", ps->peer);
	}
	LOG_INFO("station %s: depth %.0f mm, gain %.1f dB, %s, preset \"%s\"", ps->peer,
		ps->params.depth_mm, ps->params.gain_db, ps->params.frozen ? "frozen" : "live",
		ps->params.preset);
}

static void handle_message(struct probe_server *ps)
{
	struct igtl_string str;
	json_t *obj;

	if (strcmp(ps->decoder.header.type, "STRING") != 0) {
		LOG_DEBUG("station %s: ignoring a %s message", ps->peer, ps->decoder.header.type);
		return;
	}
	if (igtl_decode_string(ps->decoder.body.data, ps->decoder.body.len, &str) < 0) {
		LOG_WARN("station %s: ignoring a malformed STRING", ps->peer);
		return;
	}
	obj = json_loadb(str.text, str.len, 0, NULL);
	if (json_is_object(obj))
		apply_control(ps, obj);
	else
		LOG_WARN("station %s: ignoring a STRING that is not a JSON object", ps->peer);
	json_decref(obj);
}

/* Reads and handles what the station sent; drops it on errors. */
static void read_client(struct probe_server *ps)
{
	uint8_t chunk[4096];
	size_t off, used;
	ssize_t n;
	int rc;

	while (ps->client.fd >= 0 && (n = conn_read(&ps->client, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			drop_client(ps, n == SONO_ECLOSED ? "closed by the station" : sono_strerror((int)n));
			return;
		}
		for (off = 0; off < (size_t)n; off += used) {
			if (!igtl_decoder_in_message(&ps->decoder))
				ps->control_start_ns = mono_ns();
			rc = igtl_decoder_feed(&ps->decoder, chunk + off, (size_t)n - off, &used);
			if (rc < 0) {
				LOG_WARN("station %s: %s", ps->peer, ps->decoder.err);
				drop_client(ps, "protocol error");
				return;
			}
			if (rc == 1) {
				handle_message(ps);
				igtl_decoder_next(&ps->decoder);
			}
		}
	}
}

/* Makes c the current station, replacing the previous one, and queues the
 * hello. */
static void promote_client(struct probe_server *ps, struct conn *c, const char *peer)
{
	if (ps->client.fd >= 0)
		drop_client(ps, "replaced by a new station");
	ps->client = *c;
	conn_init(c);
	snprintf(ps->peer, sizeof(ps->peer), "%s", peer);
	ps->frames_sent = ps->frames_skipped = 0;
	ps->next_frame_ns = ps->next_status_ns = mono_ns();
	LOG_NOTICE("station %s connected (%s)", peer, ps->cfg->ctx ? "TLS" : "plain OpenIGTLink");
	if (queue_hello(ps) < 0)
		drop_client(ps, "cannot encode the hello");
}

/* Returns 1 when an event may be logged now and writes the count of events
 * not logged since the last message to *skipped.  Otherwise it counts the
 * event and returns 0. */
static int log_limit_pass(struct log_limit *limit, unsigned *skipped)
{
	int64_t now = mono_ns();

	if (limit->logged_ns && now - limit->logged_ns < NS_PER_S) {
		limit->unlogged++;
		return 0;
	}
	*skipped = limit->unlogged;
	limit->logged_ns = now;
	limit->unlogged = 0;
	return 1;
}

/* Logs a handshake abandoned for a newer connection, rate-limited so a
 * flood of connections cannot fill the log. */
static void log_abandoned(struct probe_server *ps)
{
	unsigned skipped;

	if (!log_limit_pass(&ps->abandoned, &skipped))
		return;
	if (skipped > 0)
		LOG_WARN("station %s: handshake abandoned for a newer connection (%u more since the "
			"last such message)", ps->pending_peer, skipped);
	else
		LOG_WARN("station %s: handshake abandoned for a newer connection", ps->pending_peer);
}

/* Logs a failed handshake.  When the probe accepts only listed stations,
 * the messages are rate-limited like log_abandoned, because every unpaired
 * station that retries would otherwise add a line.  Rejected certificates
 * and other failures (such as a client without a certificate) are limited
 * separately, so a flood of one kind does not hide the other. */
static void log_handshake_failure(struct probe_server *ps, const char *err)
{
	const char *fingerprint = tls_rejected_fingerprint(ps->pending.ssl);
	int listed_only = SSL_CTX_get_verify_mode(ps->cfg->ctx) & SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	char reason[600];
	unsigned skipped;

	if (!listed_only) {
		LOG_WARN("station %s: %s", ps->pending_peer, err);
		return;
	}
	if (!log_limit_pass(fingerprint ? &ps->rejected : &ps->failed, &skipped))
		return;

	if (fingerprint)
		snprintf(reason, sizeof(reason), "rejected certificate %s, which is not an allowed "
			"station (--allow-station, --stations)", fingerprint);
	else
		snprintf(reason, sizeof(reason), "%s", err);
	if (skipped > 0)
		LOG_WARN("station %s: %s (%u more since the last such message)",
			ps->pending_peer, reason, skipped);
	else
		LOG_WARN("station %s: %s", ps->pending_peer, reason);
}

/* Advances the pending TLS handshake; the current station keeps streaming
 * while a slow or silent client takes its time. */
static void step_pending(struct probe_server *ps)
{
	char err[512];
	int rc;

	rc = conn_tls_step(&ps->pending, err, sizeof(err));
	if (rc == 1 && mono_ns() > ps->pending_deadline_ns) {
		snprintf(err, sizeof(err), "TLS handshake timed out after %d ms", HANDSHAKE_TIMEOUT_MS);
		rc = SONO_ETIMEOUT;
	}
	if (rc == 1)
		return;
	if (rc < 0) {
		log_handshake_failure(ps, err);
		conn_close(&ps->pending);
		return;
	}
	promote_client(ps, &ps->pending, ps->pending_peer);
}

/* Accepts a connection: plain ones become the station at once, TLS ones
 * start their handshake (a newer one replaces an unfinished one). */
static void accept_client(struct probe_server *ps)
{
	struct conn c;
	char peer[96], err[512];

	if (conn_accept(ps->listen_fd, &c, peer, sizeof(peer)) != 0)
		return;
	if (!ps->cfg->ctx) {
		promote_client(ps, &c, peer);
		return;
	}
	if (ps->pending.fd >= 0) {
		log_abandoned(ps);
		conn_close(&ps->pending);
	}
	if (conn_tls_begin(&c, ps->cfg->ctx, NULL, 0, err, sizeof(err)) < 0) {
		LOG_WARN("station %s: %s", peer, err);
		conn_close(&c);
		return;
	}
	ps->pending = c;
	snprintf(ps->pending_peer, sizeof(ps->pending_peer), "%s", peer);
	ps->pending_deadline_ns = mono_ns() + (int64_t)HANDSHAKE_TIMEOUT_MS * NS_PER_MS;
	step_pending(ps);
}

/* Runs the timers: frames at the configured rate, status once a second. */
static int run_timers(struct probe_server *ps, int64_t now)
{
	int64_t period = NS_PER_S / ps->cfg->fps;
	int rc = 0;

	if (ps->client.fd < 0)
		return 0;
	if (now >= ps->next_frame_ns) {
		rc = queue_frame(ps);
		ps->next_frame_ns += period;
		if (ps->next_frame_ns < now)
			ps->next_frame_ns = now + period;
	}
	if (rc == 0 && now >= ps->next_status_ns) {
		rc = queue_status(ps, now);
		ps->next_status_ns += NS_PER_S;
	}
	return rc;
}

static int poll_timeout_ms(const struct probe_server *ps, int64_t now)
{
	int64_t next = ps->next_frame_ns < ps->next_status_ns ? ps->next_frame_ns : ps->next_status_ns;

	if (ps->client.fd < 0)
		return 200;
	if (next <= now)
		return 0;
	return (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
}

static void poll_once(struct probe_server *ps, int64_t now)
{
	struct pollfd p[3] = { { .fd = ps->listen_fd, .events = POLLIN }, { .fd = -1 }, { .fd = -1 } };
	int timeout = poll_timeout_ms(ps, now);

	if (ps->client.fd >= 0) {
		p[1].fd = ps->client.fd;
		p[1].events = POLLIN;
		if (ps->out_off < ps->out.len || ps->client.want_write)
			p[1].events |= POLLOUT;
		if (conn_pending(&ps->client))
			timeout = 0;
	}
	if (ps->pending.fd >= 0) {
		p[2].fd = ps->pending.fd;
		p[2].events = ps->pending.want_write ? POLLOUT : POLLIN;
		if (timeout > 100)
			timeout = 100; /* check the handshake deadline */
	}
	if (poll(p, 3, timeout) < 0 && errno != EINTR)
		LOG_WARN("poll failed: %s", strerror(errno));
	if (ps->pending.fd >= 0)
		step_pending(ps);
	if (p[0].revents & POLLIN)
		accept_client(ps);
	if (ps->client.fd >= 0 && (p[1].revents || conn_pending(&ps->client)))
		read_client(ps);
	if (ps->client.fd >= 0 && ps->control_start_ns && igtl_decoder_in_message(&ps->decoder) &&
	    mono_ns() - ps->control_start_ns > CONTROL_TIMEOUT_MS * NS_PER_MS)
		drop_client(ps, "a control message stalled");
}

static int serve(struct probe_server *ps, volatile sig_atomic_t *stop)
{
	int64_t now, end = ps->cfg->duration_s ?
		ps->started_ns + (int64_t)ps->cfg->duration_s * NS_PER_S : 0;
	int rc;

	while (!*stop) {
		now = mono_ns();
		if (end && now >= end) {
			LOG_NOTICE("stopping after %lu s as requested", ps->cfg->duration_s);
			break;
		}
		rc = run_timers(ps, now);
		if (rc < 0)
			return rc;
		flush_out(ps);
		poll_once(ps, now);
	}
	return 0;
}

int probe_server_run(const struct probe_server_config *cfg, volatile sig_atomic_t *stop)
{
	struct probe_server ps;
	char err[512];
	unsigned port;
	int rc;

	memset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	conn_init(&ps.client);
	conn_init(&ps.pending);
	igtl_decoder_init(&ps.decoder, 0);
	sbuf_init(&ps.out, OUT_MAX);
	source_default_params(cfg->source, &ps.params);
	ps.started_ns = mono_ns();

	ps.listen_fd = conn_listen(cfg->host, cfg->port, &port, err, sizeof(err));
	if (ps.listen_fd < 0) {
		LOG_ERROR("%s", err);
		rc = ps.listen_fd;
		goto out;
	}
	if (strchr(cfg->host, ':'))
		printf("listening [%s]:%u\n", cfg->host, port);
	else
		printf("listening %s:%u\n", cfg->host, port);
	fflush(stdout);
	LOG_NOTICE("serving %u frames per second on %s port %u (%s)", cfg->fps, cfg->host, port,
		cfg->ctx ? "TLS" : "plain OpenIGTLink");
	rc = serve(&ps, stop);
out:
	drop_client(&ps, "server stopping");
	conn_close(&ps.pending);
	if (ps.listen_fd >= 0)
		close(ps.listen_fd);
	igtl_decoder_free(&ps.decoder);
	sbuf_free(&ps.out);
	frame_free(&ps.frame);
	return rc;
}
