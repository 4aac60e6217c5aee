/* The scanner client: the receive thread's connect, back-off and reconnect
 * cycle, link statistics and the control API (see station/scanner.h).
 *
 * State machine of the receive thread:
 *   CONNECTING -> CONNECTED   handshake and serial check passed
 *   CONNECTING -> BACKOFF     connect or handshake failed
 *   CONNECTING -> FAILED      security failure with stop_on_security_error,
 *                             or first connect failed with stop_on_connect_error
 *   CONNECTED  -> BACKOFF     the link ended with an error or a timeout
 *   CONNECTED  -> FAILED      with stop_on_security_error, a TLS 1.3 scanner
 *                             rejected the station's certificate, which it
 *                             reports only after the client's handshake ends
 *   BACKOFF    -> CONNECTING  after the delay, which doubles up to
 *                             backoff_max_ms and resets after a frame arrives
 *   any        -> STOPPED     scanner_stop
 * Invariant: stats.state == CONNECTED exactly while connected_since_ns != 0. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sono/error.h"
#include "sono/frame.h"
#include "sono/log.h"
#include "station/scanner_priv.h"

int64_t scanner_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void scanner_config_defaults(struct scanner_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_frame_bytes = FRAME_MAX_BYTES;
	cfg->connect_timeout_ms = 5000;
	cfg->message_timeout_ms = 3000;
	cfg->idle_timeout_ms = 5000;
	cfg->backoff_min_ms = 250;
	cfg->backoff_max_ms = 8000;
}

const char *scanner_state_name(enum scanner_state state)
{
	switch (state) {
	case SCANNER_CONNECTING: return "connecting";
	case SCANNER_CONNECTED: return "connected";
	case SCANNER_BACKOFF: return "waiting to reconnect";
	case SCANNER_FAILED: return "failed";
	case SCANNER_STOPPED: return "stopped";
	}
	return "unknown";
}

/* Sets the state under the lock and wakes scanner_wait_state. */
static void set_state(struct scanner *s, enum scanner_state state)
{
	pthread_mutex_lock(&s->lock);
	assert(state != SCANNER_CONNECTED || s->connected_since_ns != 0);
	if (s->stats.state == SCANNER_CONNECTED && state != SCANNER_CONNECTED) {
		s->stats.seconds_connected +=
			(double)(frame_now_ns() - s->connected_since_ns) / 1e9;
		s->connected_since_ns = 0;
	}
	s->stats.state = state;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

static int is_stopping(struct scanner *s)
{
	int stopping;

	pthread_mutex_lock(&s->lock);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stopping;
}

void scanner_drain_wake(struct scanner *s)
{
	char buf[64];

	while (read(s->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* Sleeps up to ms, returning early only when scanner_stop is called (control
 * commands also write to the wake pipe; those are drained and ignored). */
static void sleep_interruptible(struct scanner *s, int ms)
{
	struct pollfd p = { .fd = s->wake[0], .events = POLLIN };
	int64_t deadline = scanner_now_ms() + ms, left;

	while (!is_stopping(s)) {
		left = deadline - scanner_now_ms();
		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) > 0)
			scanner_drain_wake(s);
	}
}

static void record_error(struct scanner *s, const struct scanner_session *sess)
{
	pthread_mutex_lock(&s->lock);
	s->stats.error_kind = sess->error_kind;
	snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", sess->error);
	s->stats.errors++;
	pthread_mutex_unlock(&s->lock);
}

static void mark_connected(struct scanner *s)
{
	pthread_mutex_lock(&s->lock);
	s->connected_since_ns = frame_now_ns();
	s->stats.connects++;
	sbuf_reset(&s->control); /* commands from before this link are stale */
	pthread_mutex_unlock(&s->lock);
	set_state(s, SCANNER_CONNECTED);
}

/* Runs one connection from connect to close.  Returns 1 when the thread
 * should stop (FAILED), 0 to retry; *delivered tells whether a frame came. */
static int run_once(struct scanner *s, int first, int *delivered)
{
	struct scanner_session *sess = calloc(1, sizeof(*sess));
	int rc, final = 0;

	*delivered = 0;
	if (!sess) {
		LOG_ERROR("out of memory for a scanner session");
		return 0;
	}
	set_state(s, SCANNER_CONNECTING);
	rc = scanner_session_open(s, sess);
	if (rc == 0) {
		mark_connected(s);
		rc = scanner_session_run(s, sess);
		*delivered = sess->frames > 0;
	}
	if (rc < 0 && ((sess->error_kind == SCANNER_ERROR_SECURITY && s->cfg.stop_on_security_error) ||
	    (first && sess->error_kind == SCANNER_ERROR_UNREACHABLE &&
	     s->cfg.stop_on_connect_error)))
		final = 1;
	if (rc < 0) {
		LOG_WARN("scanner %s:%u: %s", s->cfg.host, s->cfg.port, sess->error);
		record_error(s, sess);
	}
	scanner_session_close(sess);
	free(sess);
	return final;
}

static void *receive_thread(void *arg)
{
	struct scanner *s = arg;
	int backoff = s->cfg.backoff_min_ms, first = 1, delivered;

	while (!is_stopping(s)) {
		if (run_once(s, first, &delivered)) {
			set_state(s, SCANNER_FAILED);
			return NULL;
		}
		first = 0;
		if (is_stopping(s))
			break;
		if (delivered)
			backoff = s->cfg.backoff_min_ms;
		set_state(s, SCANNER_BACKOFF);
		LOG_INFO("scanner %s:%u: reconnecting in %d ms", s->cfg.host, s->cfg.port, backoff);
		sleep_interruptible(s, backoff);
		backoff = backoff * 2 > s->cfg.backoff_max_ms ? s->cfg.backoff_max_ms : backoff * 2;
	}
	set_state(s, SCANNER_STOPPED);
	return NULL;
}

static int build_context(struct scanner *s)
{
	struct tls_trust trust = { .pin = s->cfg.pin };
	char err[512];

	if (s->cfg.insecure_igtl) {
		LOG_WARN("scanner %s:%u: plain OpenIGTLink without TLS (--insecure-igtl); "
			"frames and commands travel unencrypted and the scanner is not verified",
			s->cfg.host, s->cfg.port);
		return 0;
	}
	s->ctx = tls_client_ctx(&trust, err, sizeof(err));
	if (!s->ctx) {
		LOG_ERROR("cannot build the scanner TLS context: %s", err);
		return SONO_ETLS;
	}
	if (s->cfg.identity.cert_file[0] && tls_ctx_use_identity(s->ctx, s->cfg.identity.cert_file,
	    s->cfg.identity.key_file, err, sizeof(err)) < 0) {
		LOG_ERROR("cannot load the station identity: %s", err);
		return SONO_ETLS;
	}
	if (s->cfg.tls12_only && !SSL_CTX_set_max_proto_version(s->ctx, TLS1_2_VERSION)) {
		LOG_ERROR("cannot cap the scanner link at TLS 1.2");
		return SONO_ETLS;
	}
	return 0;
}

static int check_config(const struct scanner_config *cfg)
{
	if (cfg->host[0] == '\0' || cfg->port == 0 || cfg->port > 65535)
		return SONO_EINVAL;
	if (!cfg->insecure_igtl && !tls_pin_valid(cfg->pin))
		return SONO_EINVAL;
	if (cfg->max_frame_bytes == 0 || cfg->backoff_min_ms <= 0 ||
	    cfg->backoff_max_ms < cfg->backoff_min_ms)
		return SONO_EINVAL;
	return 0;
}

static struct scanner *scanner_new(const struct scanner_config *cfg, struct mailbox *mb)
{
	struct scanner *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->mb = mb;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	sbuf_init(&s->control, SCANNER_CONTROL_MAX);
	s->stats.battery_pct = -1;
	snprintf(s->stats.tls, sizeof(s->stats.tls), "none");
	return s;
}

static void scanner_free(struct scanner *s)
{
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	SSL_CTX_free(s->ctx);
	sbuf_free(&s->control);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int scanner_start(struct scanner **out, const struct scanner_config *cfg, struct mailbox *mb)
{
	struct scanner *s = NULL;
	int rc;

	*out = NULL;
	rc = check_config(cfg);
	if (rc < 0)
		return rc;
	s = scanner_new(cfg, mb);
	if (!s)
		return SONO_ENOMEM;
	rc = build_context(s);
	if (rc < 0)
		goto fail;

	/* A write to a scanner that has just gone away must be an error return,
	 * not a signal that ends the station. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe(s->wake) < 0 || fcntl(s->wake[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(s->wake[1], F_SETFL, O_NONBLOCK) < 0) {
		rc = SONO_EIO;
		goto fail;
	}
	s->stats.state = SCANNER_CONNECTING;
	if (pthread_create(&s->thread, NULL, receive_thread, s) != 0) {
		rc = SONO_ENOMEM;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	scanner_free(s);
	return rc;
}

static void wake_thread(struct scanner *s)
{
	ssize_t ignored = write(s->wake[1], "x", 1);

	(void)ignored; /* a full pipe already wakes the thread */
}

void scanner_stop(struct scanner *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_mutex_unlock(&s->lock);
	wake_thread(s);
	pthread_join(s->thread, NULL);
	scanner_free(s);
}

/* Returns the latency below which fraction of the frames fall, in ms. */
static double latency_percentile(const struct scanner *s, double fraction)
{
	uint64_t target, seen = 0;
	size_t i;

	if (s->latency_count == 0)
		return 0;
	target = (uint64_t)(fraction * (double)s->latency_count);
	if (target == 0)
		target = 1;
	for (i = 0; i < SCANNER_LATENCY_BUCKETS; i++) {
		seen += s->latency_hist[i];
		if (seen >= target)
			break;
	}
	return (double)(i + 1) * (double)SCANNER_LATENCY_BUCKET_NS / 1e6;
}

void scanner_get_stats(struct scanner *s, struct scanner_stats *out)
{
	uint64_t put, dropped;

	mailbox_counts(s->mb, &put, &dropped);
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	out->frames_dropped = dropped;
	out->latency_p50_ms = latency_percentile(s, 0.50);
	out->latency_p99_ms = latency_percentile(s, 0.99);
	if (s->connected_since_ns)
		out->seconds_connected += (double)(frame_now_ns() - s->connected_since_ns) / 1e9;
	pthread_mutex_unlock(&s->lock);
}

enum scanner_state scanner_wait_state(struct scanner *s, int timeout_ms)
{
	struct timespec deadline;
	enum scanner_state state;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while ((s->stats.state == SCANNER_CONNECTING || s->stats.state == SCANNER_BACKOFF) &&
	       pthread_cond_timedwait(&s->changed, &s->lock, &deadline) != ETIMEDOUT)
		;
	state = s->stats.state;
	pthread_mutex_unlock(&s->lock);
	return state;
}

/* Encodes a control object as a STRING message and queues it; takes
 * ownership of obj. */
static int queue_control(struct scanner *s, json_t *obj)
{
	char *text;
	int rc;

	if (!obj)
		return SONO_ENOMEM;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!text)
		return SONO_ENOMEM;
	pthread_mutex_lock(&s->lock);
	rc = igtl_encode_string(&s->control, "sonoterm", frame_now_ns(), IGTL_ENCODING_UTF8,
		text, strlen(text));
	pthread_mutex_unlock(&s->lock);
	free(text);
	if (rc == 0)
		wake_thread(s);
	return rc;
}

int scanner_set_depth(struct scanner *s, double depth_mm)
{
	if (!(depth_mm >= 10 && depth_mm <= 300))
		return SONO_EINVAL;
	return queue_control(s, json_pack("{s:f}", "depth_mm", depth_mm));
}

int scanner_set_gain(struct scanner *s, double gain_db)
{
	if (!(gain_db >= -30 && gain_db <= 30))
		return SONO_EINVAL;
	return queue_control(s, json_pack("{s:f}", "gain_db", gain_db));
}

int scanner_set_freeze(struct scanner *s, int frozen)
{
	return queue_control(s, json_pack("{s:b}", "freeze", frozen != 0));
}

int scanner_set_preset(struct scanner *s, const char *preset)
{
	size_t i, len = strlen(preset);

	if (len == 0 || len > 31)
		return SONO_EINVAL;
	for (i = 0; i < len; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", preset[i]))
			return SONO_EINVAL;
	}
	return queue_control(s, json_pack("{s:s}", "preset", preset));
}
