/* The live scanning screen: image area, depth scale, side panel with the
 * imaging parameters and link state, and the keys and clicks that control
 * the scanner, freeze and scrub the cine, measure and capture. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sono/cli.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/sanitize.h"
#include "station/live.h"

#define LIVE_CAPTURE_MEMORY_MAX ((size_t)256 << 20)
#define LIVE_NUDGE_PX 2.0
/* Frames between two progress reports of a cine save on the status line. */
#define LIVE_CINE_PROGRESS_FRAMES 50

const char *const live_presets[] = {
	"abdomen", "obstetric", "vascular", "cardiac", "msk", "small-parts",
};
const size_t live_preset_count = sizeof(live_presets) / sizeof(live_presets[0]);

static const char live_help[] =
	"Live scanning\n"
	"\n"
	"  Space or F3   freeze / unfreeze the image\n"
	"  Left/Right    while frozen: previous / next cine frame\n"
	"  Home/End      while frozen: first / last cine frame\n"
	"  Up/Down       depth -/+ 10 mm (sent to the scanner)\n"
	"  + / -         gain +/- 2 dB (sent to the scanner)\n"
	"  p or F4       next preset\n"
	"  s or F5       capture a still into the current exam\n"
	"  c or F6       capture the cine buffer into the current exam\n"
	"  m or F7       place a caliper point at the image centre\n"
	"  Shift+arrows  move the last caliper point\n"
	"  x or F8       clear the calipers\n"
	"  r or F2       next renderer (sixel, half-block, ASCII)\n"
	"  Mouse click   on the image: place caliper point A, then B\n"
	"\n"
	"The current exam (its short UUID ends the status line and the panel):\n"
	"  a             enter or edit the patient of the current exam\n"
	"  f             finish: complete the current exam (y confirms) and\n"
	"                start a new unassigned one\n"
	"  e or F9       exam list; Enter there resumes a draft or scanning exam\n"
	"                here, and the captures go to it\n"
	"  u             exam queue and cloud upload\n"
	"\n"
	"The login (when someone is logged in):\n"
	"  l             lock the screen now; the user's password unlocks it.\n"
	"                It also locks itself after the site's idle time.\n"
	"  o             log out (y confirms): revokes the session and returns to\n"
	"                the login screen, or quits without one (--pin mode)\n"
	"\n"
	"The status line shows painted frames per second, the age of the last\n"
	"frame (scanner timestamp to screen), link state, TLS version and cipher,\n"
	"scanner serial, battery and temperature.";

const struct frame *live_view_frame(struct live *lv)
{
	if (atomic_load(&lv->frozen) && cine_count(lv->cine) > 0) {
		if (lv->cine_pos >= cine_count(lv->cine))
			lv->cine_pos = cine_count(lv->cine) - 1;
		return cine_get(lv->cine, lv->cine_pos);
	}
	return lv->have_frame ? &lv->current : NULL;
}

static void live_destroy(void *state)
{
	struct live *lv = state;

	if (!lv)
		return;
	live_sources_stop(lv);
	if (lv->opt.hooks && lv->opt.hooks->closed)
		lv->opt.hooks->closed(lv->opt.hooks_arg, lv);
	if (lv->sink.close)
		lv->sink.close(lv->sink.ctx);
	cine_free(lv->cine);
	pthread_mutex_destroy(&lv->cine_lock);
	render_free(lv->render);
	sbuf_free(&lv->out);
	frame_free(&lv->current);
	LOG_NOTICE("live screen closed after %llu frames painted", (unsigned long long)lv->paints);
	if (lv->opt.exit_status) {
		*lv->opt.exit_status = EXIT_OK;
		if (lv->link.state == SCANNER_FAILED)
			*lv->opt.exit_status = lv->link.error_kind == SCANNER_ERROR_SECURITY ?
				EXIT_SECURITY : EXIT_UNAVAILABLE;
	}
	free(lv);
}

struct live *live_new(struct ui *ui, const struct live_options *opt,
	const struct termcaps *caps, char *err, size_t errlen)
{
	struct live *lv = ui_xcalloc(1, sizeof(*lv));

	lv->ui = ui;
	lv->opt = *opt;
	lv->caps = *caps;
	pthread_mutex_init(&lv->cine_lock, NULL);
	lv->render = render_new();
	lv->cine = cine_new(opt->cine_seconds, opt->cine_bytes);
	if (opt->sink.save_still)
		lv->sink = opt->sink;
	else if (capture_memory_sink(&lv->sink, LIVE_CAPTURE_MEMORY_MAX) < 0)
		memset(&lv->sink, 0, sizeof(lv->sink));
	if (!lv->render || !lv->cine || !lv->sink.save_still) {
		snprintf(err, errlen, "cannot set up the live screen (cine %.1f s, %zu bytes): "
			"invalid size or out of memory", opt->cine_seconds, opt->cine_bytes);
		live_destroy(lv);
		return NULL;
	}
	sbuf_init(&lv->out, RENDER_OUTPUT_MAX);
	lv->mode = termcaps_choose(caps, opt->render);
	lv->adapt.area_scale = 1.0;
	lv->adapt.gray_levels = RENDER_GRAY_LEVELS_DEFAULT;
	lv->depth_mm = 100;
	lv->fps_start_ms = lv->stats_log_ms = ui_now_ms();
	lv->link.battery_pct = -1;
	live_layout(lv);
	if (live_sources_start(lv, err, errlen) < 0) {
		live_destroy(lv);
		return NULL;
	}
	LOG_NOTICE("live screen opened: renderer %s, cell %ux%u px, cine %.1f s",
		render_mode_name(lv->mode), caps->cell_w, caps->cell_h, opt->cine_seconds);
	return lv;
}

static void toggle_freeze(struct live *lv)
{
	int frozen = !atomic_load(&lv->frozen);

	pthread_mutex_lock(&lv->cine_lock);
	atomic_store(&lv->frozen, frozen);
	lv->cine_pos = cine_count(lv->cine) > 0 ? cine_count(lv->cine) - 1 : 0;
	pthread_mutex_unlock(&lv->cine_lock);
	if (!frozen)
		calipers_clear(&lv->calipers);
	live_send_freeze(lv);
	lv->dirty = 1;
	LOG_INFO("image %s", frozen ? "frozen" : "live");
}

/* Moves the cine position by delta frames, or to the first (delta ==
 * -LONG_MAX) or last (LONG_MAX) frame. */
static void scrub(struct live *lv, long delta)
{
	size_t n;

	if (!atomic_load(&lv->frozen))
		return;
	pthread_mutex_lock(&lv->cine_lock);
	n = cine_count(lv->cine);
	if (n > 0) {
		if (delta < 0)
			lv->cine_pos = (size_t)-delta > lv->cine_pos ? 0 : lv->cine_pos - (size_t)-delta;
		else
			lv->cine_pos = (size_t)delta > n - 1 - lv->cine_pos ? n - 1 : lv->cine_pos + (size_t)delta;
	}
	pthread_mutex_unlock(&lv->cine_lock);
	lv->dirty = 1;
}

/* Fills meta from the controls and, when both caliper points are placed
 * and f has a pixel spacing, the measurement in mm. */
static void fill_meta(const struct live *lv, const struct frame *f, struct capture_meta *meta)
{
	const struct calipers *c = &lv->calipers;

	memset(meta, 0, sizeof(*meta));
	meta->depth_mm = lv->depth_mm;
	meta->gain_db = lv->gain_db;
	snprintf(meta->preset, sizeof(meta->preset), "%s", live_presets[lv->preset]);
	snprintf(meta->scanner_serial, sizeof(meta->scanner_serial), "%s", lv->link.serial);
	if (f && calipers_distance_mm(c, f->spacing_mm) >= 0) {
		meta->has_caliper = 1;
		meta->caliper_mm[0] = c->a.x * f->spacing_mm[0];
		meta->caliper_mm[1] = c->a.y * f->spacing_mm[1];
		meta->caliper_mm[2] = c->b.x * f->spacing_mm[0];
		meta->caliper_mm[3] = c->b.y * f->spacing_mm[1];
	}
}

static void capture_still(struct live *lv)
{
	struct capture_meta meta;
	const struct frame *f;
	int frozen = atomic_load(&lv->frozen);
	int rc;

	if (frozen)
		pthread_mutex_lock(&lv->cine_lock);
	f = live_view_frame(lv);
	fill_meta(lv, f, &meta);
	rc = f ? lv->sink.save_still(lv->sink.ctx, f, &meta) : SONO_ENOTFOUND;
	if (frozen)
		pthread_mutex_unlock(&lv->cine_lock);
	if (rc < 0) {
		ui_message(lv->ui, "Still not saved: %s", sono_strerror(rc));
		LOG_WARN("still not saved: %s", sono_strerror(rc));
		return;
	}
	lv->stills_saved++;
	ui_message(lv->ui, "Still saved to %s", lv->sink.describe(lv->sink.ctx));
	LOG_NOTICE("still saved to %s", lv->sink.describe(lv->sink.ctx));
}

/* Shows a cine save's progress on the status line every
 * LIVE_CINE_PROGRESS_FRAMES frames and at the last one.  Only the status
 * line is drawn, because the draw and paint callbacks take the cine lock,
 * which the save holds. */
static void report_cine_progress(void *arg, size_t done, size_t total)
{
	struct live *lv = arg;

	if (done % LIVE_CINE_PROGRESS_FRAMES != 0 && done != total)
		return;
	ui_message(lv->ui, "Saving cine: %zu of %zu frames", done, total);
	ui_refresh_status(lv->ui);
}

/* Stores the clip on the UI thread and counts its frames on the status
 * line.  It uses no worker thread, which could keep the image moving,
 * because:
 * - A struct store is one SQLite connection for one thread at a time, and
 *   the workflow's hooks, the lock, the exam list and the patient form use
 *   the UI thread's connection whenever they run.
 * - A second connection would hold the write lock for the whole clip, which
 *   is one transaction so that a killed station leaves no partial cine.
 *   Writes from those screens would wait up to the busy timeout meanwhile,
 *   and the exam could be completed, deleted or replaced (live_set_sink)
 *   while its cine is half written.
 * - The clip is decoded from the ring under cine_lock, which the forwarder
 *   thread takes for every new frame, so the image would stop anyway
 *   without a copy of the clip's compressed entries.
 * NOTE: 264 frames of --test-source pattern took 0.6 s, and speckle
 * compresses worse. */
static void capture_cine(struct live *lv)
{
	const struct cine_progress progress = { report_cine_progress, lv };
	struct capture_meta meta;
	size_t n = 0;
	int rc;

	ui_message(lv->ui, "Saving cine...");
	ui_refresh(lv->ui);
	fill_meta(lv, NULL, &meta);
	pthread_mutex_lock(&lv->cine_lock);
	rc = cine_save_clip(lv->cine, &lv->sink, &meta, &progress, &n);
	pthread_mutex_unlock(&lv->cine_lock);
	if (rc < 0) {
		ui_message(lv->ui, "Cine not saved: %s", sono_strerror(rc));
		LOG_WARN("cine of %zu frames not saved: %s", n, sono_strerror(rc));
		return;
	}
	lv->cines_saved++;
	ui_message(lv->ui, "Cine of %zu frames saved to %s", n, lv->sink.describe(lv->sink.ctx));
	LOG_NOTICE("cine of %zu frames saved to %s", n, lv->sink.describe(lv->sink.ctx));
}

/* Switches to the next renderer the terminal supports. */
static void next_renderer(struct live *lv)
{
	static const enum render_mode order[] = {
		RENDER_MODE_SIXEL, RENDER_MODE_HALFBLOCK_24, RENDER_MODE_HALFBLOCK_256, RENDER_MODE_ASCII,
	};
	size_t n = sizeof(order) / sizeof(order[0]), i, k;

	for (i = 0; i < n && order[i] != lv->mode; i++)
		;
	for (k = 1; k <= n; k++) {
		enum render_mode m = order[(i + k) % n];

		if (m == RENDER_MODE_SIXEL && !(lv->caps.sixel && lv->caps.cell_w && lv->caps.cell_h))
			continue;
		if ((m == RENDER_MODE_HALFBLOCK_24 || m == RENDER_MODE_HALFBLOCK_256) && !lv->caps.utf8)
			continue;
		lv->mode = m;
		break;
	}
	lv->layout_valid = 0;
	ui_message(lv->ui, "Renderer: %s", render_mode_name(lv->mode));
	LOG_INFO("renderer switched to %s", render_mode_name(lv->mode));
}

static void change_depth(struct live *lv, double delta)
{
	double d = lv->depth_mm + delta;

	lv->depth_known = 1;

	lv->depth_mm = d < LIVE_DEPTH_MIN_MM ? LIVE_DEPTH_MIN_MM : d > LIVE_DEPTH_MAX_MM ?
		LIVE_DEPTH_MAX_MM : d;
	live_send_depth(lv);
}

static void change_gain(struct live *lv, double delta)
{
	double g = lv->gain_db + delta;

	lv->gain_db = g < LIVE_GAIN_MIN_DB ? LIVE_GAIN_MIN_DB : g > LIVE_GAIN_MAX_DB ?
		LIVE_GAIN_MAX_DB : g;
	live_send_gain(lv);
}

/* Places a caliper point at the centre of the shown frame. */
static void caliper_at_centre(struct live *lv)
{
	const struct frame *f = live_view_frame(lv);
	struct render_point p;

	if (!f)
		return;
	p.x = f->width / 2.0;
	p.y = f->height / 2.0;
	if (lv->calipers.npoints == 1) {
		p.x += f->width / 8.0;
		p.y += f->height / 8.0;
	}
	calipers_add(&lv->calipers, p);
	lv->dirty = 1;
}

static void nudge_caliper(struct live *lv, double dx, double dy)
{
	const struct frame *f = live_view_frame(lv);

	if (!f)
		return;
	calipers_nudge(&lv->calipers, dx, dy, f->width, f->height);
	lv->dirty = 1;
}

/* Keys that change the scanner or the image; returns 1 when key was one. */
static int imaging_key(struct live *lv, int key)
{
	switch (key) {
	case KEY_UP: change_depth(lv, -LIVE_DEPTH_STEP_MM); return 1;
	case KEY_DOWN: change_depth(lv, LIVE_DEPTH_STEP_MM); return 1;
	case '+': case '=': change_gain(lv, LIVE_GAIN_STEP_DB); return 1;
	case '-': case '_': change_gain(lv, -LIVE_GAIN_STEP_DB); return 1;
	case ' ': case KEY_F(3): toggle_freeze(lv); return 1;
	case KEY_LEFT: scrub(lv, -1); return 1;
	case KEY_RIGHT: scrub(lv, 1); return 1;
	case KEY_HOME: scrub(lv, -(long)CINE_FRAMES_MAX); return 1;
	case KEY_END: scrub(lv, (long)CINE_FRAMES_MAX); return 1;
	case 'p': case KEY_F(4):
		lv->preset = (lv->preset + 1) % live_preset_count;
		live_send_preset(lv);
		return 1;
	default:
		return 0;
	}
}

void live_set_sink(struct live *lv, const struct capture_sink *sink, unsigned stills,
	unsigned cines)
{
	if (lv->sink.close)
		lv->sink.close(lv->sink.ctx);
	lv->sink = *sink;
	lv->stills_saved = stills;
	lv->cines_saved = cines;
	lv->dirty = 1;
}

static int live_key(struct ui *ui, void *state, int key)
{
	struct live *lv = state;
	int act;

	if (lv->opt.hooks && lv->opt.hooks->key) {
		act = lv->opt.hooks->key(ui, lv->opt.hooks_arg, lv, key);
		if (act & UI_ACT_HANDLED)
			return act;
	}
	if (imaging_key(lv, key))
		return UI_ACT_REDRAW | UI_ACT_HANDLED;
	switch (key) {
	case 's': case KEY_F(5): capture_still(lv); break;
	case 'c': case KEY_F(6): capture_cine(lv); break;
	case 'm': case KEY_F(7): caliper_at_centre(lv); break;
	case 'x': case KEY_F(8): calipers_clear(&lv->calipers); lv->dirty = 1; break;
	case KEY_SLEFT: nudge_caliper(lv, -LIVE_NUDGE_PX, 0); break;
	case KEY_SRIGHT: nudge_caliper(lv, LIVE_NUDGE_PX, 0); break;
	case KEY_SR: nudge_caliper(lv, 0, -LIVE_NUDGE_PX); break;
	case KEY_SF: nudge_caliper(lv, 0, LIVE_NUDGE_PX); break;
	case 'r': case KEY_F(2):
		next_renderer(lv);
		return UI_ACT_FULL | UI_ACT_HANDLED;
	default:
		return UI_ACT_NONE;
	}
	(void)ui;
	return UI_ACT_REDRAW | UI_ACT_HANDLED;
}

static int live_click(struct ui *ui, void *state, int row, int col)
{
	struct live *lv = state;
	struct render_point p;

	(void)ui;
	if (live_cell_to_frame(lv, row, col, &p) < 0)
		return UI_ACT_NONE;
	calipers_add(&lv->calipers, p);
	lv->dirty = 1;
	return UI_ACT_REDRAW;
}

static void live_resize(struct ui *ui, void *state, int rows, int cols)
{
	struct live *lv = state;

	(void)ui;
	(void)rows;
	(void)cols;
	if (termcaps_update_size(&lv->caps, ui_tty_fd(lv->ui)) < 0)
		LOG_WARN("window size not read after a resize");
	live_layout(lv);
}

/* Takes the image area back and lets the workflow check the current exam,
 * which the closed screen may have completed, deleted or given a patient. */
static void live_uncover(struct ui *ui, void *state)
{
	struct live *lv = state;

	live_resize(ui, state, 0, 0);
	if (lv->opt.hooks && lv->opt.hooks->uncover)
		lv->opt.hooks->uncover(ui, lv->opt.hooks_arg, lv);
}

static int live_tick(struct ui *ui, void *state)
{
	struct live *lv = state;

	if (mailbox_take(lv->ui_mb, &lv->current, 0) == 1) {
		lv->have_frame = 1;
		if (!atomic_load(&lv->frozen))
			lv->dirty = 1;
		if (!lv->depth_known && lv->current.spacing_mm[1] > 0) {
			/* Start the depth control from what the scanner shows. */
			lv->depth_mm = round(lv->current.height * lv->current.spacing_mm[1]);
			lv->depth_known = 1;
		}
	}
	if (lv->scanner) {
		enum scanner_state before = lv->link.state;

		scanner_get_stats(lv->scanner, &lv->link);
		/* The panel has room for the start of an error only; the status
		 * line shows all of it for a few seconds when the link changes. */
		if (lv->link.state != before && lv->link.state != SCANNER_CONNECTED &&
		    lv->link.last_error[0])
			ui_message(ui, "Scanner %s: %s", scanner_state_name(lv->link.state),
				lv->link.last_error);
	}
	return UI_ACT_REDRAW;
}

static void live_paint_cb(struct ui *ui, void *state, int full)
{
	(void)ui;
	live_paint(state, full);
}

static int live_timeout(struct ui *ui, void *state)
{
	(void)ui;
	return live_paint_timeout(state);
}

const struct ui_screen live_screen = {
	.name = "Live",
	.help = live_help,
	.keys = { "Help", "Render", "Freeze", "Preset", "Still", "Cine", "Measure", "Clear", "Exams",
		NULL },
	.draw = live_draw,
	.key = live_key,
	.click = live_click,
	.resize = live_resize,
	.uncover = live_uncover,
	.tick = live_tick,
	.status = live_status,
	.paint = live_paint_cb,
	.timeout_ms = live_timeout,
	.destroy = live_destroy,
};
