/* The live image pipeline: takes the frame to show, waits until the
 * terminal has drained the previous one, renders it with the overlay and
 * writes it behind ncurses' back into the image area.  The image size and
 * sixel palette adapt to the measured terminal throughput so one frame's
 * output takes about LIVE_FRAME_BUDGET_MS to reach the terminal. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sono/error.h"
#include "sono/log.h"
#include "station/live.h"

/* Time one frame's output may take to drain.  Over a slow link this bounds
 * how long a key's echo can wait behind an image. */
#define LIVE_FRAME_BUDGET_MS 60.0
#define LIVE_AREA_SCALE_MIN 0.1
#define LIVE_STATS_LOG_MS 5000
#define LIVE_TICKS_MAX 64

void live_layout(struct live *lv)
{
	struct ui_rect body = ui_body(lv->ui);
	int panel = body.cols >= 60 ? LIVE_PANEL_COLS : 0;
	int scale = body.cols >= 40 ? LIVE_SCALE_COLS : 0;
	struct ui_rect area = body;

	area.cols = body.cols - panel - scale;
	if (area.cols < 4 || area.rows < 2)
		memset(&area, 0, sizeof(area));
	lv->area = area;
	lv->layout_valid = 0;
	lv->dirty = 1;
	ui_set_image_area(lv->ui, &area);
	if (lv->caps.cell_w == 0 || lv->caps.cell_h == 0)
		LOG_DEBUG("cell size unknown; sixel is not available");
}

/* Fills the render target: the image area shrunk by the adaptation and
 * centred. */
static void fill_target(struct live *lv)
{
	double linear = sqrt(lv->adapt.area_scale);
	struct render_target *t = &lv->target;
	unsigned cols = (unsigned)lround(lv->area.cols * linear);
	unsigned rows = (unsigned)lround(lv->area.rows * linear);

	if (cols < 4)
		cols = lv->area.cols < 4 ? (unsigned)lv->area.cols : 4;
	if (rows < 2)
		rows = lv->area.rows < 2 ? (unsigned)lv->area.rows : 2;
	t->mode = lv->mode;
	t->rect.col = (unsigned)lv->area.col + ((unsigned)lv->area.cols - cols) / 2;
	t->rect.row = (unsigned)lv->area.row + ((unsigned)lv->area.rows - rows) / 2;
	t->rect.cols = cols;
	t->rect.rows = rows;
	t->cell_w = lv->caps.cell_w;
	t->cell_h = lv->caps.cell_h;
	t->screen_rows = (unsigned)LINES;
	t->colormap = ui_theme(lv->ui)->image_gray ? NULL :
		(const uint8_t (*)[3])ui_theme(lv->ui)->image_lut;
	t->gray_levels = lv->adapt.gray_levels;
}

double live_tick_step_mm(double depth_mm)
{
	if (depth_mm <= 40)
		return 5;
	if (depth_mm <= 150)
		return 10;
	return 20;
}

static size_t depth_ticks(const struct frame *f, double rows[LIVE_TICKS_MAX])
{
	double step, depth;
	size_t n = 0;

	if (!(f->spacing_mm[1] > 0))
		return 0;
	depth = f->height * f->spacing_mm[1];
	step = live_tick_step_mm(depth);
	for (double mm = step; mm < depth && n < LIVE_TICKS_MAX; mm += step)
		rows[n++] = mm / f->spacing_mm[1];
	return n;
}

/* Records the age of the frame whose output just left the queue: the
 * time from acquisition to the terminal reading its last byte.  The
 * scanner's clock is taken to match ours, as it does on one machine. */
static void record_age(struct live *lv)
{
	if (!lv->adapt.frame_ts_ns)
		return;
	lv->frame_age_ms = (double)(frame_now_ns() - lv->adapt.frame_ts_ns) / 1e6;
	if (lv->frame_age_ms > lv->frame_age_max_ms)
		lv->frame_age_max_ms = lv->frame_age_ms;
	if (lv->ages_count < LIVE_AGES_MAX)
		lv->ages[lv->ages_count++] = lv->frame_age_ms;
}

/* Returns 1 when the terminal's output queue is empty (or cannot be
 * queried), and records the throughput of the last frame when it drained. */
static int output_drained(struct live *lv)
{
	struct live_adapt *a = &lv->adapt;
	int queued = 0;
	long long now;

	if (ioctl(ui_tty_fd(lv->ui), TIOCOUTQ, &queued) < 0)
		queued = 0;
	if (queued > 0)
		return 0;
	if (a->draining) {
		now = ui_now_ms();
		a->draining = 0;
		record_age(lv);
		if (now > a->write_ms && a->last_bytes > 0) {
			double rate = a->last_bytes * 1000.0 / (double)(now - a->write_ms);

			a->link_bytes_per_s = a->link_bytes_per_s > 0 ?
				0.7 * a->link_bytes_per_s + 0.3 * rate : rate;
		}
	}
	return 1;
}

/* Shrinks the image quickly when a frame's output exceeds the budget at the
 * measured throughput, and grows it slowly (at most once a second) when
 * there is room, so a noisy throughput estimate does not make it swing.  A
 * change clears the terminal so the larger old image does not linger. */
static void adapt_size(struct live *lv)
{
	struct live_adapt *a = &lv->adapt;
	double target, ratio, scale = a->area_scale;
	long long now = ui_now_ms();

	if (a->link_bytes_per_s <= 0 || a->last_bytes == 0)
		return;
	target = a->link_bytes_per_s * LIVE_FRAME_BUDGET_MS / 1000.0;
	ratio = target / (double)a->last_bytes;
	if (ratio < 0.9) {
		scale *= ratio > 0.5 ? ratio : 0.5;
	} else if (ratio > 1.5 && scale < 1.0 && now - a->grow_ms >= 1000) {
		scale *= 1.1;
		a->grow_ms = now;
	}
	if (scale < LIVE_AREA_SCALE_MIN)
		scale = LIVE_AREA_SCALE_MIN;
	if (scale > 1.0)
		scale = 1.0;
	if (fabs(scale - a->area_scale) < 0.02)
		return;
	LOG_INFO("image area %.0f%% -> %.0f%% (%zu bytes a frame, terminal %.0f KB/s)",
		a->area_scale * 100, scale * 100, a->last_bytes, a->link_bytes_per_s / 1000);
	a->area_scale = scale;
	a->gray_levels = scale < 0.6 ? 16 : RENDER_GRAY_LEVELS_DEFAULT;
	lv->layout_valid = 0;
	ui_request_full(lv->ui);
}

/* Writes all of buf, waiting for the terminal when it is not ready.
 * Returns 0 or SONO_EIO. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 100);
			continue;
		}
		if (n <= 0)
			return SONO_EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Returns the 95th percentile of the frame ages since the last stats line,
 * or 0 without any. */
static double age_p95(struct live *lv)
{
	if (lv->ages_count == 0)
		return 0;
	qsort(lv->ages, lv->ages_count, sizeof(lv->ages[0]), compare_double);
	return lv->ages[lv->ages_count * 95 / 100]; /* below ages_count for any count >= 1 */
}

static void count_paint(struct live *lv, const struct frame *f)
{
	long long now = ui_now_ms();

	lv->adapt.frame_ts_ns = atomic_load(&lv->frozen) ? 0 : f->timestamp_ns;
	lv->paints++;
	lv->fps_frames++;
	lv->last_paint_ms = now;
	if (now - lv->fps_start_ms >= 1000) {
		lv->fps = lv->fps_frames * 1000.0 / (double)(now - lv->fps_start_ms);
		lv->fps_frames = 0;
		lv->fps_start_ms = now;
	}
	if (now - lv->stats_log_ms >= LIVE_STATS_LOG_MS) {
		LOG_INFO("live: %.1f fps painted, frame age %.0f ms (p95 %.0f ms, max %.0f ms), "
			"%zu bytes a frame, area %.0f%%, renderer %s", lv->fps, lv->frame_age_ms,
			age_p95(lv), lv->frame_age_max_ms, lv->adapt.last_bytes,
			lv->adapt.area_scale * 100, render_mode_name(lv->mode));
		lv->frame_age_max_ms = 0;
		lv->ages_count = 0;
		lv->stats_log_ms = now;
	}
}

/* Logs where the image lands whenever that changes; tests read this line
 * to find the image in a screenshot. */
static void log_placement(struct live *lv)
{
	const struct render_layout *l = &lv->layout;

	if (lv->layout_valid && !memcmp(&lv->logged_layout, l, sizeof(*l)))
		return;
	lv->logged_layout = *l;
	LOG_INFO("image placed: col %u row %u, %ux%u px, cell %ux%u px, renderer %s",
		l->cells.col, l->cells.row, l->px_w, l->px_h, lv->target.cell_w, lv->target.cell_h,
		render_mode_name(lv->mode));
}

/* Renders f with calipers and depth ticks into lv->out.  Returns 0 or a
 * negative SONO_E* code from the renderer. */
static int render_view(struct live *lv, const struct frame *f)
{
	struct render_caliper caliper;
	double ticks[LIVE_TICKS_MAX];
	struct render_overlay overlay;
	const struct theme *theme = ui_theme(lv->ui);

	memset(&overlay, 0, sizeof(overlay));
	overlay.ncalipers = calipers_overlay(&lv->calipers, &caliper);
	overlay.calipers = &caliper;
	overlay.nticks = depth_ticks(f, ticks);
	overlay.tick_rows = ticks;
	memcpy(overlay.rgb, theme->image_marker, 3);

	fill_target(lv);
	sbuf_reset(&lv->out);
	return render_frame(lv->render, &lv->target, f, &overlay, &lv->out, &lv->layout);
}

void live_paint(struct live *lv, int full)
{
	const struct frame *f;
	int frozen = atomic_load(&lv->frozen);
	long long start;
	int rc;

	if (full)
		lv->dirty = 1;
	if (!output_drained(lv) || !lv->dirty || lv->area.rows == 0)
		return;
	adapt_size(lv);

	if (frozen)
		pthread_mutex_lock(&lv->cine_lock);
	f = live_view_frame(lv);
	rc = f ? render_view(lv, f) : SONO_ENOTFOUND;
	if (rc == 0)
		count_paint(lv, f);
	if (frozen)
		pthread_mutex_unlock(&lv->cine_lock);

	lv->dirty = 0;
	if (rc == SONO_ENOTFOUND)
		return;
	if (rc < 0) {
		/* Logged once per change of error, not once per frame. */
		if (rc != lv->last_render_rc)
			LOG_WARN("frame not rendered with %s into %ux%u cells: %s",
				render_mode_name(lv->mode), lv->target.rect.cols, lv->target.rect.rows,
				sono_strerror(rc));
		lv->last_render_rc = rc;
		return;
	}
	lv->last_render_rc = 0;
	log_placement(lv);
	lv->layout_valid = 1;
	start = ui_now_ms();
	if (write_all(ui_tty_fd(lv->ui), lv->out.data, lv->out.len) < 0)
		LOG_WARN("writing the image failed: %s", strerror(errno));
	lv->adapt.write_ms = start;
	lv->adapt.last_bytes = lv->out.len;
	lv->adapt.draining = 1;
}

int live_paint_timeout(const struct live *lv)
{
	int queued = 0;

	if (!lv->dirty && !lv->adapt.draining)
		return -1;
	if (ioctl(ui_tty_fd(lv->ui), TIOCOUTQ, &queued) < 0 || queued == 0)
		return 0;
	if (lv->adapt.link_bytes_per_s > 0) {
		double ms = queued * 1000.0 / lv->adapt.link_bytes_per_s;

		if (ms < 1)
			return 1;
		return ms > 50 ? 50 : (int)ms;
	}
	return 5;
}

int live_cell_to_frame(const struct live *lv, int row, int col, struct render_point *out)
{
	if (!lv->layout_valid || row < 0 || col < 0)
		return SONO_EINVAL;
	return render_cell_to_frame(&lv->layout, &lv->target, (unsigned)col, (unsigned)row, out);
}

int live_frame_row_to_cell(const struct live *lv, double y)
{
	unsigned per_row;
	double units;

	if (!lv->layout_valid)
		return -1;
	switch (lv->target.mode) {
	case RENDER_MODE_SIXEL:
		per_row = lv->target.cell_h ? lv->target.cell_h : 1;
		break;
	case RENDER_MODE_ASCII:
		per_row = 1;
		break;
	default:
		per_row = 2;
		break;
	}
	units = lv->layout.offset_y + y * lv->layout.scale_y;
	if (units < 0 || units >= lv->layout.px_h + lv->layout.offset_y)
		return -1;
	return (int)lv->layout.cells.row + (int)(units / per_row);
}
