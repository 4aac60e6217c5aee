/* Frame delivery for the live screen.  The scanner client or a synthetic
 * test source fills the link mailbox.  A forwarder thread records the cine,
 * moves each frame to the UI mailbox and wakes the main loop. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/live.h"

#define TESTSRC_FPS 30

/* A synthetic source for demos without a scanner and for edge-case tests.
 * kind names the pattern; see testsrc_geometry(). */
struct live_testsrc {
	pthread_t thread;
	struct mailbox *mb;
	atomic_int stop;
	char kind[32];
	uint32_t width, height;
	unsigned components;
};

static int testsrc_geometry(struct live_testsrc *t)
{
	static const struct { const char *kind; uint32_t w, h; unsigned comp; } kinds[] = {
		{ "pattern", 640, 480, 1 }, { "black", 640, 480, 1 }, { "white", 640, 480, 1 },
		{ "1x1", 1, 1, 1 }, { "641x479", 641, 479, 1 }, { "colour", 640, 480, 3 },
		{ "large", 1280, 960, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(t->kind, kinds[i].kind)) {
			t->width = kinds[i].w;
			t->height = kinds[i].h;
			t->components = kinds[i].comp;
			return 0;
		}
	}
	return SONO_EINVAL;
}

/* Draws frame number seq of the moving pattern: a gradient, a bright ring
 * that drifts sideways, and hashed speckle. */
static void testsrc_pattern(uint8_t *p, uint32_t w, uint32_t h, uint32_t seq)
{
	double cx = w * (0.3 + 0.2 * sin(seq * 0.05)), cy = h * 0.5, r = h * 0.2;
	uint32_t x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			uint32_t hash = (x * 73856093u) ^ (y * 19349663u) ^ (seq * 83492791u);
			double d = hypot(x - cx, y - cy);
			double v = 40 + 120.0 * y / (h ? h : 1) + (hash >> 27);

			if (fabs(d - r) < 6)
				v = 240;
			p[(size_t)y * w + x] = (uint8_t)(v > 255 ? 255 : v);
		}
	}
}

static void testsrc_fill(struct live_testsrc *t, struct frame *f, uint32_t seq)
{
	size_t n = (size_t)f->width * f->height * f->components;

	if (!strcmp(t->kind, "black"))
		memset(f->pixels, 0, n);
	else if (!strcmp(t->kind, "white"))
		memset(f->pixels, 255, n);
	else if (!strcmp(t->kind, "1x1"))
		f->pixels[0] = (uint8_t)(seq * 8);
	else if (!strcmp(t->kind, "colour")) {
		for (size_t i = 0; i < n; i += 3) {
			f->pixels[i] = 200;
			f->pixels[i + 1] = 40;
			f->pixels[i + 2] = 40;
		}
	} else
		testsrc_pattern(f->pixels, f->width, f->height, seq);
}

static void *testsrc_main(void *arg)
{
	struct live_testsrc *t = arg;
	struct timespec period = { 0, 1000000000L / TESTSRC_FPS };
	struct frame f = { 0 };
	uint32_t seq = 0;

	while (!atomic_load(&t->stop)) {
		if (!f.pixels || f.width != t->width || f.height != t->height ||
		    f.components != t->components) {
			frame_free(&f);
			if (frame_alloc(&f, t->width, t->height, t->components, FRAME_MAX_BYTES) < 0) {
				LOG_ERROR("test source: cannot allocate a %ux%u frame", t->width, t->height);
				break;
			}
		}
		testsrc_fill(t, &f, seq);
		f.spacing_mm[0] = 0.2;
		f.spacing_mm[1] = 0.2;
		f.seq = seq++;
		f.timestamp_ns = frame_now_ns();
		mailbox_put(t->mb, &f);
		nanosleep(&period, NULL);
	}
	frame_free(&f);
	return NULL;
}

static int testsrc_start(struct live *lv, char *err, size_t errlen)
{
	struct live_testsrc *t = calloc(1, sizeof(*t));

	if (!t)
		return SONO_ENOMEM;
	snprintf(t->kind, sizeof(t->kind), "%s", lv->opt.test_source);
	if (testsrc_geometry(t) < 0) {
		snprintf(err, errlen, "unknown test source \"%.31s\" (pattern, black, white, 1x1, "
			"641x479, colour or large)", lv->opt.test_source);
		free(t);
		return SONO_EINVAL;
	}
	t->mb = lv->link_mb;
	if (pthread_create(&t->thread, NULL, testsrc_main, t) != 0) {
		snprintf(err, errlen, "cannot start the test source thread");
		free(t);
		return SONO_ENOMEM;
	}
	lv->testsrc = t;
	LOG_NOTICE("test source %s started (%ux%u, %u components)", t->kind, t->width, t->height,
		t->components);
	return 0;
}

static void testsrc_stop(struct live_testsrc *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, 1);
	pthread_join(t->thread, NULL);
	free(t);
}

static void *forwarder_main(void *arg)
{
	struct live *lv = arg;
	struct frame f = { 0 };

	while (!atomic_load(&lv->stop)) {
		if (!mailbox_take(lv->link_mb, &f, 100))
			continue;
		/* frozen is tested under the lock, so once toggle_freeze() has
		 * set it the cine does not change until it is cleared. */
		pthread_mutex_lock(&lv->cine_lock);
		if (!atomic_load(&lv->frozen) && cine_push(lv->cine, &f) < 0)
			LOG_DEBUG("frame %u not kept in the cine buffer", f.seq);
		pthread_mutex_unlock(&lv->cine_lock);
		mailbox_put(lv->ui_mb, &f);
		atomic_fetch_add(&lv->frames_in, 1);
		ui_wakeup(lv->ui);
	}
	frame_free(&f);
	return NULL;
}

static int scanner_connect(struct live *lv, char *err, size_t errlen)
{
	struct scanner_config cfg;
	int rc;

	scanner_config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "%s", lv->opt.host);
	cfg.port = lv->opt.port;
	snprintf(cfg.pin, sizeof(cfg.pin), "%s", lv->opt.pin);
	snprintf(cfg.serial, sizeof(cfg.serial), "%s", lv->opt.serial);
	cfg.insecure_igtl = lv->opt.insecure_igtl;
	cfg.identity = lv->opt.identity;
	/* A wrong pin or serial does not fix itself; the panel shows the error
	 * and the station exits with EXIT_SECURITY. */
	cfg.stop_on_security_error = 1;
	rc = scanner_start(&lv->scanner, &cfg, lv->link_mb);
	if (rc < 0)
		snprintf(err, errlen, "cannot start the scanner link to %s:%u: %s", cfg.host, cfg.port,
			sono_strerror(rc));
	else
		LOG_NOTICE("scanner link to %s:%u started", cfg.host, cfg.port);
	return rc;
}

int live_sources_start(struct live *lv, char *err, size_t errlen)
{
	int rc;

	lv->link_mb = mailbox_new();
	lv->ui_mb = mailbox_new();
	if (!lv->link_mb || !lv->ui_mb) {
		snprintf(err, errlen, "out of memory");
		return SONO_ENOMEM;
	}
	if (pthread_create(&lv->forwarder, NULL, forwarder_main, lv) != 0) {
		snprintf(err, errlen, "cannot start the frame forwarder thread");
		return SONO_ENOMEM;
	}
	lv->forwarder_started = 1;
	if (lv->opt.test_source)
		rc = testsrc_start(lv, err, errlen);
	else
		rc = scanner_connect(lv, err, errlen);
	return rc;
}

void live_sources_stop(struct live *lv)
{
	scanner_stop(lv->scanner);
	lv->scanner = NULL;
	testsrc_stop(lv->testsrc);
	lv->testsrc = NULL;
	atomic_store(&lv->stop, 1);
	if (lv->link_mb)
		mailbox_close(lv->link_mb);
	if (lv->forwarder_started)
		pthread_join(lv->forwarder, NULL);
	lv->forwarder_started = 0;
	mailbox_free(lv->link_mb);
	mailbox_free(lv->ui_mb);
	lv->link_mb = NULL;
	lv->ui_mb = NULL;
}

void live_send_depth(struct live *lv)
{
	if (lv->scanner && scanner_set_depth(lv->scanner, lv->depth_mm) < 0)
		LOG_WARN("depth %.0f mm not sent", lv->depth_mm);
}

void live_send_gain(struct live *lv)
{
	if (lv->scanner && scanner_set_gain(lv->scanner, lv->gain_db) < 0)
		LOG_WARN("gain %.0f dB not sent", lv->gain_db);
}

void live_send_preset(struct live *lv)
{
	if (lv->scanner && scanner_set_preset(lv->scanner, live_presets[lv->preset]) < 0)
		LOG_WARN("preset %s not sent", live_presets[lv->preset]);
}

void live_send_freeze(struct live *lv)
{
	if (lv->scanner && scanner_set_freeze(lv->scanner, atomic_load(&lv->frozen)) < 0)
		LOG_WARN("freeze state not sent");
}
