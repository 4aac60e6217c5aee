/* One scanner connection: connect and verify, then a poll() loop that reads
 * and decodes messages, writes queued control messages and enforces the
 * message and idle timeouts. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/scanner_priv.h"

/* Read passes per poll wake-up, so a fast scanner cannot starve the timers
 * and the control queue. */
#define READS_PER_WAKE 32
#define POLL_INTERVAL_MS 100

static int fail(struct scanner_session *sess, enum scanner_error_kind kind, int rc,
	const char *reason)
{
	sess->error_kind = kind;
	snprintf(sess->error, sizeof(sess->error), "%s", reason);
	return rc;
}

static int scanner_is_stopping(struct scanner *s)
{
	int stopping;

	pthread_mutex_lock(&s->lock);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stopping;
}

/* Checks the certificate serial and records the TLS details. */
static int verify_peer(struct scanner *s, struct scanner_session *sess)
{
	char serial[SCANNER_TEXT_MAX] = "", clean[SCANNER_TEXT_MAX], msg[SCANNER_ERROR_MAX];

	if (tls_peer_serial(sess->conn.ssl, serial, sizeof(serial)) < 0)
		return fail(sess, SCANNER_ERROR_SECURITY, SONO_ETLS,
			"scanner certificate has no serialNumber or common name in its subject");
	sanitize_str(serial, clean, sizeof(clean));
	if (s->cfg.serial[0] && strcmp(serial, s->cfg.serial) != 0) {
		snprintf(msg, sizeof(msg), "scanner certificate serial \"%s\" is not the expected \"%s\"",
			clean, s->cfg.serial);
		return fail(sess, SCANNER_ERROR_SECURITY, SONO_EAUTH, msg);
	}
	pthread_mutex_lock(&s->lock);
	tls_describe(sess->conn.ssl, s->stats.tls, sizeof(s->stats.tls));
	snprintf(s->stats.serial, sizeof(s->stats.serial), "%s", clean);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Fails the session because the scanner rejected the station's
 * certificate, naming the fingerprint and the pairing command. */
static int fail_unpaired(struct scanner *s, struct scanner_session *sess)
{
	const char *fingerprint = s->cfg.identity.fingerprint;
	char msg[SCANNER_ERROR_MAX];

	if (fingerprint[0])
		snprintf(msg, sizeof(msg), "scanner rejected this station's certificate %s; "
			"pair this station: sonoprobe --allow-station %s", fingerprint, fingerprint);
	else
		snprintf(msg, sizeof(msg), "scanner requires a paired station certificate and "
			"this station presented none");
	return fail(sess, SCANNER_ERROR_SECURITY, SONO_EAUTH, msg);
}

int scanner_session_open(struct scanner *s, struct scanner_session *sess)
{
	char err[SCANNER_ERROR_MAX];
	int rc;

	conn_init(&sess->conn);
	igtl_decoder_init(&sess->decoder, s->cfg.max_frame_bytes);
	sbuf_init(&sess->out, 2 * SCANNER_CONTROL_MAX);

	rc = conn_connect(&sess->conn, s->cfg.host, s->cfg.port, s->cfg.connect_timeout_ms,
		err, sizeof(err));
	if (rc < 0)
		return fail(sess, SCANNER_ERROR_UNREACHABLE, rc, err);
	if (s->ctx) {
		rc = conn_tls_connect(&sess->conn, s->ctx, s->cfg.host, s->cfg.connect_timeout_ms,
			err, sizeof(err));
		if (rc == SONO_EAUTH)
			return fail_unpaired(s, sess);
		if (rc == SONO_ETLS)
			return fail(sess, SCANNER_ERROR_SECURITY, rc, err);
		if (rc < 0)
			return fail(sess, rc == SONO_ETIMEOUT ? SCANNER_ERROR_TIMEOUT :
				SCANNER_ERROR_CLOSED, rc, err);
		rc = verify_peer(s, sess);
		if (rc < 0)
			return rc;
	} else {
		pthread_mutex_lock(&s->lock);
		snprintf(s->stats.tls, sizeof(s->stats.tls), "none (plain OpenIGTLink)");
		pthread_mutex_unlock(&s->lock);
	}
	sess->last_byte_ms = scanner_now_ms();
	LOG_NOTICE("scanner %s:%u: connected (%s)", s->cfg.host, s->cfg.port,
		s->ctx ? "TLS" : "plain OpenIGTLink");
	return 0;
}

void scanner_session_close(struct scanner_session *sess)
{
	conn_close(&sess->conn);
	igtl_decoder_free(&sess->decoder);
	frame_free(&sess->frame);
	sbuf_free(&sess->out);
}

static void copy_text(char *dst, size_t size, json_t *obj, const char *key)
{
	const char *value = json_string_value(json_object_get(obj, key));

	if (value)
		sanitize_str(value, dst, size);
}

/* Stores the hello's identity.  The certificate serial, when present, wins,
 * and a hello that claims another serial is logged. */
static void handle_hello(struct scanner *s, json_t *obj)
{
	char model[SCANNER_TEXT_MAX] = "", serial[SCANNER_TEXT_MAX] = "";

	copy_text(model, sizeof(model), obj, "model");
	copy_text(serial, sizeof(serial), obj, "serial");
	pthread_mutex_lock(&s->lock);
	if (s->ctx && s->stats.serial[0] && serial[0] && strcmp(serial, s->stats.serial) != 0)
		LOG_WARN("scanner %s:%u: hello claims serial \"%s\" but the certificate serial is \"%s\"",
			s->cfg.host, s->cfg.port, serial, s->stats.serial);
	if (s->ctx == NULL || s->stats.serial[0] == '\0')
		copy_text(s->stats.serial, sizeof(s->stats.serial), obj, "serial");
	snprintf(s->stats.model, sizeof(s->stats.model), "%s", model);
	copy_text(s->stats.firmware, sizeof(s->stats.firmware), obj, "firmware");
	pthread_mutex_unlock(&s->lock);
	LOG_INFO("scanner %s:%u: hello from model \"%s\"", s->cfg.host, s->cfg.port, model);
}

static void handle_string(struct scanner *s, const struct igtl_string *str)
{
	json_t *obj = json_loadb(str->text, str->len, 0, NULL);

	if (!json_is_object(obj))
		LOG_DEBUG("scanner %s:%u: ignoring a STRING that is not a JSON object",
			s->cfg.host, s->cfg.port);
	else if (json_object_get(obj, "serial") || json_object_get(obj, "model"))
		handle_hello(s, obj);
	json_decref(obj);
}

static void handle_status(struct scanner *s, const struct igtl_status *st)
{
	json_t *obj = json_loadb(st->message, st->message_len, 0, NULL);
	json_t *value;

	if (!json_is_object(obj)) {
		json_decref(obj);
		return;
	}
	pthread_mutex_lock(&s->lock);
	value = json_object_get(obj, "battery_pct");
	if (json_is_integer(value) && json_integer_value(value) >= 0 &&
	    json_integer_value(value) <= 100)
		s->stats.battery_pct = (int)json_integer_value(value);
	value = json_object_get(obj, "temperature_c");
	if (json_is_number(value))
		s->stats.temperature_c = json_number_value(value);
	value = json_object_get(obj, "frames_sent");
	if (json_is_integer(value) && json_integer_value(value) >= 0)
		s->stats.frames_sent = (uint64_t)json_integer_value(value);
	pthread_mutex_unlock(&s->lock);
	json_decref(obj);
}

static void count_frame(struct scanner *s, uint64_t latency_ns)
{
	uint64_t now = frame_now_ns(), bucket = latency_ns / SCANNER_LATENCY_BUCKET_NS;

	if (bucket >= SCANNER_LATENCY_BUCKETS)
		bucket = SCANNER_LATENCY_BUCKETS - 1;
	pthread_mutex_lock(&s->lock);
	s->stats.frames_received++;
	s->stats.latency_ms = (double)latency_ns / 1e6;
	s->latency_hist[bucket]++;
	s->latency_count++;
	if (s->fps_window_start_ns == 0)
		s->fps_window_start_ns = now;
	s->fps_window_frames++;
	if (now - s->fps_window_start_ns >= 1000000000ULL) {
		s->stats.fps = (double)s->fps_window_frames * 1e9 /
			(double)(now - s->fps_window_start_ns);
		s->fps_window_start_ns = now;
		s->fps_window_frames = 0;
	}
	pthread_mutex_unlock(&s->lock);
}

static int handle_image(struct scanner *s, struct scanner_session *sess)
{
	struct igtl_decoder *d = &sess->decoder;
	char err[160], msg[SCANNER_ERROR_MAX];
	uint64_t now, latency;
	int rc;

	rc = igtl_decode_image(d->body.data, d->body.len, d->header.timestamp,
		s->cfg.max_frame_bytes, &sess->frame, err, sizeof(err));
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "closing the link: %s", err);
		return fail(sess, SCANNER_ERROR_PROTOCOL, rc, msg);
	}
	sess->frames++;
	sess->frame.seq = (uint32_t)sess->frames;
	now = frame_now_ns();
	latency = now > sess->frame.timestamp_ns ? now - sess->frame.timestamp_ns : 0;
	mailbox_put(s->mb, &sess->frame);
	count_frame(s, latency);
	return 0;
}

static int handle_message(struct scanner *s, struct scanner_session *sess)
{
	struct igtl_decoder *d = &sess->decoder;
	struct igtl_string str;
	struct igtl_status st;
	char msg[SCANNER_ERROR_MAX];

	if (strcmp(d->header.type, "IMAGE") == 0)
		return handle_image(s, sess);
	if (strcmp(d->header.type, "STRING") == 0) {
		if (igtl_decode_string(d->body.data, d->body.len, &str) < 0)
			goto malformed;
		handle_string(s, &str);
	} else if (strcmp(d->header.type, "STATUS") == 0) {
		if (igtl_decode_status(d->body.data, d->body.len, &st) < 0)
			goto malformed;
		handle_status(s, &st);
	} else {
		LOG_DEBUG("scanner %s:%u: ignoring a %s message", s->cfg.host, s->cfg.port,
			d->header.type);
	}
	return 0;
malformed:
	snprintf(msg, sizeof(msg), "closing the link: malformed %s body of %zu bytes",
		d->header.type, d->body.len);
	return fail(sess, SCANNER_ERROR_PROTOCOL, SONO_EPROTO, msg);
}

/* Feeds n received bytes to the decoder and handles each complete message. */
static int feed(struct scanner *s, struct scanner_session *sess, size_t n)
{
	char msg[SCANNER_ERROR_MAX];
	size_t off = 0, used;
	int rc;

	while (off < n) {
		if (sess->message_start_ms == 0)
			sess->message_start_ms = scanner_now_ms();
		rc = igtl_decoder_feed(&sess->decoder, sess->chunk + off, n - off, &used);
		off += used;
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "closing the link: %s", sess->decoder.err);
			return fail(sess, SCANNER_ERROR_PROTOCOL, rc, msg);
		}
		if (rc == 1) {
			rc = handle_message(s, sess);
			if (rc < 0)
				return rc;
			igtl_decoder_next(&sess->decoder);
			sess->message_start_ms = 0;
		}
	}
	return 0;
}

static int read_available(struct scanner *s, struct scanner_session *sess)
{
	char msg[SCANNER_ERROR_MAX];
	ssize_t n;
	int i, rc;

	for (i = 0; i < READS_PER_WAKE; i++) {
		n = conn_read(&sess->conn, sess->chunk, sizeof(sess->chunk));
		if (n == 0)
			break;
		if (n == SONO_ECLOSED)
			return fail(sess, SCANNER_ERROR_CLOSED, SONO_ECLOSED,
				igtl_decoder_in_message(&sess->decoder) ?
				"scanner closed the connection in the middle of a message" :
				"scanner closed the connection");
		if (n == SONO_EAUTH)
			return fail_unpaired(s, sess);
		if (n < 0) {
			snprintf(msg, sizeof(msg), "reading from the scanner failed: %s",
				sono_strerror((int)n));
			return fail(sess, SCANNER_ERROR_CLOSED, (int)n, msg);
		}
		sess->last_byte_ms = scanner_now_ms();
		pthread_mutex_lock(&s->lock);
		s->stats.bytes_received += (uint64_t)n;
		pthread_mutex_unlock(&s->lock);
		rc = feed(s, sess, (size_t)n);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_timeouts(struct scanner *s, struct scanner_session *sess)
{
	int64_t now = scanner_now_ms();
	char msg[SCANNER_ERROR_MAX];

	if (igtl_decoder_in_message(&sess->decoder) && sess->message_start_ms &&
	    now - sess->message_start_ms > s->cfg.message_timeout_ms) {
		snprintf(msg, sizeof(msg), "closing the link: a %s message stalled after %zu body bytes "
			"(timeout %d ms)", sess->decoder.head_len == IGTL_HEADER_SIZE ?
			sess->decoder.header.type : "partial", sess->decoder.body.len,
			s->cfg.message_timeout_ms);
		return fail(sess, SCANNER_ERROR_TIMEOUT, SONO_ETIMEOUT, msg);
	}
	if (now - sess->last_byte_ms > s->cfg.idle_timeout_ms) {
		snprintf(msg, sizeof(msg), "closing the link: no data from the scanner for %d ms",
			s->cfg.idle_timeout_ms);
		return fail(sess, SCANNER_ERROR_TIMEOUT, SONO_ETIMEOUT, msg);
	}
	return 0;
}

/* Moves queued control messages to the session and writes what the socket
 * accepts. */
static int write_pending(struct scanner *s, struct scanner_session *sess)
{
	char msg[SCANNER_ERROR_MAX];
	ssize_t n;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->control.len > 0) {
		rc = sbuf_append(&sess->out, s->control.data, s->control.len);
		sbuf_reset(&s->control);
	}
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		LOG_WARN("scanner %s:%u: control queue full; dropping commands", s->cfg.host, s->cfg.port);

	while (sess->out_off < sess->out.len) {
		n = conn_write(&sess->conn, sess->out.data + sess->out_off, sess->out.len - sess->out_off);
		if (n == 0)
			return 0;
		if (n < 0) {
			snprintf(msg, sizeof(msg), "writing to the scanner failed: %s",
				sono_strerror((int)n));
			return fail(sess, SCANNER_ERROR_CLOSED, (int)n, msg);
		}
		sess->out_off += (size_t)n;
	}
	sbuf_reset(&sess->out);
	sess->out_off = 0;
	return 0;
}

int scanner_session_run(struct scanner *s, struct scanner_session *sess)
{
	struct pollfd p[2];
	int rc;

	while (!scanner_is_stopping(s)) {
		rc = write_pending(s, sess);
		if (rc < 0)
			return rc;
		p[0].fd = sess->conn.fd;
		p[0].events = POLLIN;
		if (sess->out_off < sess->out.len || sess->conn.want_write)
			p[0].events |= POLLOUT;
		p[1].fd = s->wake[0];
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		poll(p, 2, conn_pending(&sess->conn) ? 0 : POLL_INTERVAL_MS);
		if (p[1].revents)
			scanner_drain_wake(s);

		rc = read_available(s, sess);
		if (rc == 0)
			rc = check_timeouts(s, sess);
		if (rc < 0)
			return rc;
	}
	return 0;
}
