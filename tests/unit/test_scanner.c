/* Tests of the station's newest-frame mailbox and scanner client, against a
 * small OpenIGTLink server thread on loopback (plain TCP and TLS). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sono/conn.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/igtl.h"
#include "sono/log.h"
#include "sono/tls.h"
#include "station/mailbox.h"
#include "station/scanner.h"

#define FRAMES_PER_CONNECTION 20

/* A scripted scanner.  With garbage_first, connection 1 sends only an
 * invalid header.  Every other connection gets a hello, a STATUS and frames,
 * and the server then records the control messages the client sends. */
struct test_server {
	int listen_fd;
	unsigned port;
	SSL_CTX *ctx;            /* NULL for plain TCP */
	int garbage_first;       /* connection 1 sends an invalid header */
	int connections;         /* served by the thread */
	int max_connections;
	struct sbuf received;    /* control STRING texts, concatenated */
	pthread_mutex_t lock;
	pthread_t thread;
};

static char tls_dir[64], cert_file[128], key_file[128], cert_pin[TLS_FINGERPRINT_LEN];

static int write_all(struct conn *c, const uint8_t *data, size_t n)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	ssize_t put;

	while (n > 0) {
		put = conn_write(c, data, n);
		if (put < 0)
			return -1;
		if (put == 0 && poll(&p, 1, 1000) <= 0)
			return -1;
		data += put;
		n -= (size_t)put;
	}
	return 0;
}

static void send_script(struct test_server *ts, struct conn *c, int garbage)
{
	struct frame f;
	struct sbuf b;
	const char *hello = "{\"serial\":\"SN-HELLO\",\"model\":\"unit scanner\",\"firmware\":\"1\"}";
	int i;

	sbuf_init(&b, 1 << 20);
	if (garbage) {
		memset(sbuf_reserve(&b, IGTL_HEADER_SIZE), 0x07, IGTL_HEADER_SIZE);
		sbuf_commit(&b, IGTL_HEADER_SIZE);
		write_all(c, b.data, b.len);
		sbuf_free(&b);
		return;
	}
	igtl_encode_string(&b, "unit", frame_now_ns(), IGTL_ENCODING_UTF8, hello, strlen(hello));
	igtl_encode_status(&b, "unit", frame_now_ns(), IGTL_STATUS_OK, 0, "",
		"{\"battery_pct\":77,\"temperature_c\":31.5,\"frames_sent\":20}");
	write_all(c, b.data, b.len);
	frame_alloc(&f, 16, 8, 1, FRAME_MAX_BYTES);
	for (i = 0; i < FRAMES_PER_CONNECTION; i++) {
		memset(f.pixels, i, 16 * 8);
		f.timestamp_ns = frame_now_ns();
		sbuf_reset(&b);
		igtl_encode_image(&b, "unit", &f);
		if (write_all(c, b.data, b.len) < 0)
			break;
		usleep(10000);
	}
	frame_free(&f);
	sbuf_free(&b);
	(void)ts;
}

/* Reads control messages for up to ms milliseconds. */
static void collect_control(struct test_server *ts, struct conn *c, int ms)
{
	struct igtl_decoder d;
	struct igtl_string str;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	uint8_t chunk[4096];
	size_t off, used;
	ssize_t n;
	int waited;

	igtl_decoder_init(&d, 0);
	for (waited = 0; waited < ms; waited += 50) {
		poll(&p, 1, 50);
		while ((n = conn_read(c, chunk, sizeof(chunk))) > 0) {
			for (off = 0; off < (size_t)n; off += used) {
				if (igtl_decoder_feed(&d, chunk + off, (size_t)n - off, &used) != 1)
					continue;
				if (igtl_decode_string(d.body.data, d.body.len, &str) == 0) {
					pthread_mutex_lock(&ts->lock);
					sbuf_append(&ts->received, str.text, str.len);
					pthread_mutex_unlock(&ts->lock);
				}
				igtl_decoder_next(&d);
			}
		}
		if (n < 0)
			break;
	}
	igtl_decoder_free(&d);
}

static void *server_thread(void *arg)
{
	struct test_server *ts = arg;
	struct pollfd p = { .fd = ts->listen_fd, .events = POLLIN };
	struct conn c;
	char peer[64], err[256];

	while (ts->connections < ts->max_connections && poll(&p, 1, 5000) > 0) {
		if (conn_accept(ts->listen_fd, &c, peer, sizeof(peer)) != 0)
			continue;
		if (ts->ctx && conn_tls_accept(&c, ts->ctx, 2000, err, sizeof(err)) < 0) {
			conn_close(&c);
			ts->connections++;
			continue;
		}
		send_script(ts, &c, ts->garbage_first && ts->connections == 0);
		if (!(ts->garbage_first && ts->connections == 0))
			collect_control(ts, &c, 1500);
		conn_close(&c);
		ts->connections++;
	}
	return NULL;
}

static void server_start(struct test_server *ts, int tls, int garbage_first, int max_connections)
{
	char err[256];

	memset(ts, 0, sizeof(*ts));
	pthread_mutex_init(&ts->lock, NULL);
	sbuf_init(&ts->received, 1 << 16);
	ts->garbage_first = garbage_first;
	ts->max_connections = max_connections;
	ts->listen_fd = conn_listen("127.0.0.1", 0, &ts->port, err, sizeof(err));
	assert_true(ts->listen_fd >= 0);
	if (tls) {
		ts->ctx = tls_server_ctx(cert_file, key_file, err, sizeof(err));
		assert_non_null(ts->ctx);
	}
	assert_int_equal(pthread_create(&ts->thread, NULL, server_thread, ts), 0);
}

/* Joins the thread and closes the socket; ts->received stays readable until
 * the test frees it. */
static void server_stop(struct test_server *ts)
{
	pthread_join(ts->thread, NULL);
	close(ts->listen_fd);
	SSL_CTX_free(ts->ctx);
	pthread_mutex_destroy(&ts->lock);
}

static void client_config(struct scanner_config *cfg, const struct test_server *ts)
{
	scanner_config_defaults(cfg);
	snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
	cfg->port = ts->port;
	cfg->backoff_min_ms = 50;
	cfg->backoff_max_ms = 200;
	if (ts->ctx)
		snprintf(cfg->pin, sizeof(cfg->pin), "%s", cert_pin);
	else
		cfg->insecure_igtl = 1;
}

static int setup_identity(void **state)
{
	char err[512];

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/sono-test-scanner-XXXXXX");
	assert_non_null(mkdtemp(tls_dir));
	snprintf(cert_file, sizeof(cert_file), "%s/s.crt", tls_dir);
	snprintf(key_file, sizeof(key_file), "%s/s.key", tls_dir);
	assert_int_equal(tls_generate_identity(cert_file, key_file, "unit", "SN-UNIT", NULL, 0, 1,
		err, sizeof(err)), 0);
	assert_int_equal(tls_file_fingerprint(cert_file, cert_pin), 0);
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

static int teardown_identity(void **state)
{
	unlink(cert_file);
	unlink(key_file);
	rmdir(tls_dir);
	return 0;
}

static void mailbox_keeps_newest(void **state)
{
	struct mailbox *mb = mailbox_new();
	struct frame in = { 0 }, out = { 0 };
	uint64_t put, dropped;
	int i;

	assert_non_null(mb);
	assert_int_equal(mailbox_take(mb, &out, 0), 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(frame_alloc(&in, 4, 4, 1, FRAME_MAX_BYTES), 0);
		in.seq = (uint32_t)i;
		assert_int_equal(mailbox_put(mb, &in), i > 1);
		frame_free(&in);
	}
	assert_int_equal(mailbox_take(mb, &out, 100), 1);
	assert_int_equal(out.seq, 3);
	assert_int_equal(mailbox_take(mb, &out, 20), 0);
	mailbox_counts(mb, &put, &dropped);
	assert_int_equal(put, 3);
	assert_int_equal(dropped, 2);
	mailbox_close(mb);
	assert_int_equal(mailbox_take(mb, &out, -1), 0);
	frame_free(&out);
	mailbox_free(mb);
}

/* Waits up to 5 s for a frame. */
static int take_frame(struct mailbox *mb, struct frame *f)
{
	return mailbox_take(mb, f, 5000);
}

static void scanner_plain_frames_and_control(void **state)
{
	struct mailbox *mb = mailbox_new();
	struct scanner_config cfg;
	struct scanner_stats st;
	struct test_server ts;
	struct scanner *s;
	struct frame f = { 0 };

	server_start(&ts, 0, 0, 1);
	client_config(&cfg, &ts);
	assert_int_equal(scanner_start(&s, &cfg, mb), 0);
	assert_int_equal(take_frame(mb, &f), 1);
	assert_int_equal(f.width, 16);
	assert_int_equal(f.height, 8);
	assert_int_equal(scanner_set_depth(s, 80), 0);
	assert_int_equal(scanner_set_freeze(s, 1), 0);
	assert_int_equal(scanner_set_preset(s, "vascular"), 0);
	usleep(400000);

	scanner_get_stats(s, &st);
	assert_int_equal(st.state, SCANNER_CONNECTED);
	assert_string_equal(st.model, "unit scanner");
	assert_string_equal(st.serial, "SN-HELLO");
	assert_int_equal(st.battery_pct, 77);
	assert_true(st.temperature_c > 31.4 && st.temperature_c < 31.6);
	assert_int_equal(st.frames_sent, 20);
	assert_true(st.frames_received >= 1);
	assert_string_equal(st.tls, "none (plain OpenIGTLink)");
	scanner_stop(s);
	server_stop(&ts);

	assert_non_null(ts.received.data);
	assert_non_null(strstr((char *)ts.received.data, "\"depth_mm\":80"));
	assert_non_null(strstr((char *)ts.received.data, "\"freeze\":true"));
	assert_non_null(strstr((char *)ts.received.data, "\"preset\":\"vascular\""));
	sbuf_free(&ts.received);
	frame_free(&f);
	mailbox_free(mb);
}

static void scanner_tls_pin_and_serial(void **state)
{
	struct mailbox *mb = mailbox_new();
	struct scanner_config cfg;
	struct scanner_stats st;
	struct test_server ts;
	struct scanner *s;
	struct frame f = { 0 };

	server_start(&ts, 1, 0, 2);
	client_config(&cfg, &ts);
	snprintf(cfg.serial, sizeof(cfg.serial), "SN-UNIT");
	assert_int_equal(scanner_start(&s, &cfg, mb), 0);
	assert_int_equal(take_frame(mb, &f), 1);
	scanner_get_stats(s, &st);
	assert_string_equal(st.serial, "SN-UNIT");
	assert_non_null(strstr(st.tls, "TLSv1.3"));
	scanner_stop(s);

	/* The right pin with the wrong serial is a security failure. */
	snprintf(cfg.serial, sizeof(cfg.serial), "SN-OTHER");
	cfg.stop_on_security_error = 1;
	assert_int_equal(scanner_start(&s, &cfg, mb), 0);
	assert_int_equal(scanner_wait_state(s, 5000), SCANNER_FAILED);
	scanner_get_stats(s, &st);
	assert_int_equal(st.error_kind, SCANNER_ERROR_SECURITY);
	assert_non_null(strstr(st.last_error, "SN-OTHER"));
	scanner_stop(s);
	server_stop(&ts);
	sbuf_free(&ts.received);
	frame_free(&f);
	mailbox_free(mb);
}

static void scanner_reconnects_after_garbage(void **state)
{
	struct mailbox *mb = mailbox_new();
	struct scanner_config cfg;
	struct scanner_stats st;
	struct test_server ts;
	struct scanner *s;
	struct frame f = { 0 };

	server_start(&ts, 0, 1, 2);
	client_config(&cfg, &ts);
	assert_int_equal(scanner_start(&s, &cfg, mb), 0);
	assert_int_equal(take_frame(mb, &f), 1);
	scanner_get_stats(s, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.error_kind, SCANNER_ERROR_PROTOCOL);
	assert_non_null(strstr(st.last_error, "invalid message header"));
	scanner_stop(s);
	server_stop(&ts);
	sbuf_free(&ts.received);
	frame_free(&f);
	mailbox_free(mb);
}

static void scanner_rejects_bad_values(void **state)
{
	struct mailbox *mb = mailbox_new();
	struct scanner_config cfg;
	struct test_server ts;
	struct scanner *s;

	server_start(&ts, 0, 0, 1);
	client_config(&cfg, &ts);
	assert_int_equal(scanner_start(&s, &cfg, mb), 0);
	assert_int_equal(scanner_set_depth(s, 5), SONO_EINVAL);
	assert_int_equal(scanner_set_gain(s, 40), SONO_EINVAL);
	assert_int_equal(scanner_set_preset(s, "Bad!"), SONO_EINVAL);
	assert_int_equal(scanner_set_preset(s, ""), SONO_EINVAL);
	scanner_stop(s);
	server_stop(&ts);
	sbuf_free(&ts.received);
	mailbox_free(mb);

	/* A config without a pin is rejected unless it is insecure. */
	scanner_config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	cfg.port = 1;
	assert_int_equal(scanner_start(&s, &cfg, NULL), SONO_EINVAL);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mailbox_keeps_newest),
		cmocka_unit_test(scanner_plain_frames_and_control),
		cmocka_unit_test(scanner_tls_pin_and_serial),
		cmocka_unit_test(scanner_reconnects_after_garbage),
		cmocka_unit_test(scanner_rejects_bad_values),
	};

	return cmocka_run_group_tests(tests, setup_identity, teardown_identity);
}
