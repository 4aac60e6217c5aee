/* The renderer interface: fits a frame into a cell rectangle, scales it,
 * draws the overlay and hands the image to the sixel, half-block or ASCII
 * writer. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "station/render.h"
#include "station/render_priv.h"
#include "station/scale.h"
#include "station/sixel.h"

struct render {
	uint8_t *image;    /* scaled frame, components as the frame */
	size_t image_cap;
	uint8_t *mask;     /* 1 where the overlay paints, same size in pixels */
	size_t mask_cap;
	uint8_t *index;    /* sixel palette indices */
	size_t index_cap;
	uint8_t *split;    /* mixed path: source luminance, then source colour map */
	size_t split_cap;
	uint8_t *gray;     /* mixed path: scaled luminance, then scaled colour map */
	size_t gray_cap;
	struct sixelenc_gray_map *map; /* gray level mapping state, about 16 KB */
};

struct render *render_new(void)
{
	return calloc(1, sizeof(struct render));
}

void render_free(struct render *r)
{
	if (!r)
		return;
	free(r->image);
	free(r->mask);
	free(r->index);
	free(r->split);
	free(r->gray);
	free(r->map);
	free(r);
}

/* Grows *buf to at least n bytes.  Returns 0 or SONO_ENOMEM. */
static int scratch(uint8_t **buf, size_t *cap, size_t n)
{
	uint8_t *p;

	if (*cap >= n)
		return 0;
	p = realloc(*buf, n);
	if (!p)
		return SONO_ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static int frame_valid(const struct frame *f)
{
	return f && f->pixels && f->width && f->height && f->width <= FRAME_MAX_DIM &&
		f->height <= FRAME_MAX_DIM && (f->components == 1 || f->components == 3);
}

/* The physical width over height of the frame, from its pixel spacing when
 * both spacings are known. */
static double frame_aspect(const struct frame *f)
{
	double aspect = (double)f->width / f->height;

	if (f->spacing_mm[0] > 0 && f->spacing_mm[1] > 0)
		aspect *= f->spacing_mm[0] / f->spacing_mm[1];
	return aspect;
}

/* Size of one image unit (a pixel, a half cell or a cell) in any common
 * length, and how many units each cell holds. */
static void unit_geometry(const struct render_target *t, double *unit_w, double *unit_h,
	unsigned *per_col, unsigned *per_row)
{
	double cw = t->cell_w ? t->cell_w : 1, ch = t->cell_h ? t->cell_h : 2;

	if (!t->cell_w || !t->cell_h) {
		cw = 1;
		ch = 2;
	}
	switch (t->mode) {
	case RENDER_MODE_SIXEL:
		*unit_w = 1;
		*unit_h = 1;
		*per_col = t->cell_w;
		*per_row = t->cell_h;
		break;
	case RENDER_MODE_ASCII:
		*unit_w = cw;
		*unit_h = ch;
		*per_col = 1;
		*per_row = 1;
		break;
	default:
		*unit_w = cw;
		*unit_h = ch / 2;
		*per_col = 1;
		*per_row = 2;
		break;
	}
}

/* Usable rows of the rectangle: a sixel image that reaches the screen's
 * last row would make the terminal scroll. */
static unsigned usable_rows(const struct render_target *t)
{
	unsigned rows = t->rect.rows;

	if (t->mode == RENDER_MODE_SIXEL && t->screen_rows && rows > 0 &&
	    t->rect.row + rows >= t->screen_rows)
		rows = t->screen_rows > t->rect.row + 1 ? t->screen_rows - 1 - t->rect.row : 0;
	return rows;
}

static unsigned clamp_dim(unsigned long long v)
{
	return v > RENDER_DIM_MAX ? RENDER_DIM_MAX : (unsigned)v;
}

/* Fits the frame into the rectangle, keeping its physical aspect ratio, and
 * centres the covered cells.  Sixel heights are whole bands of six pixels
 * and half-block heights whole cells.  Returns 0 or SONO_EINVAL when the
 * rectangle cannot hold an image. */
static int fit_layout(const struct render_target *t, const struct frame *f,
	struct render_layout *l)
{
	double unit_w, unit_h, aspect = frame_aspect(f), w, h;
	unsigned per_col, per_row, area_w, area_h, step, rows = usable_rows(t);

	unit_geometry(t, &unit_w, &unit_h, &per_col, &per_row);
	area_w = clamp_dim((unsigned long long)t->rect.cols * per_col);
	area_h = clamp_dim((unsigned long long)rows * per_row);
	step = t->mode == RENDER_MODE_SIXEL ? 6 : per_row;
	if (area_w == 0 || area_h < step)
		return SONO_EINVAL;

	h = area_h;
	w = aspect * h * unit_h / unit_w;
	if (w > area_w) {
		w = area_w;
		h = w * unit_w / (aspect * unit_h);
	}
	l->px_w = w < 1 ? 1 : (unsigned)lround(w);
	l->px_h = (unsigned)lround(h) / step * step;
	if (l->px_w > area_w)
		l->px_w = area_w;
	if (l->px_h < step)
		l->px_h = step;

	l->cells.cols = (l->px_w + per_col - 1) / per_col;
	l->cells.rows = (l->px_h + per_row - 1) / per_row;
	l->cells.col = t->rect.col + (t->rect.cols - l->cells.cols) / 2;
	l->cells.row = t->rect.row + (rows - l->cells.rows) / 2;
	l->offset_x = 0;
	l->offset_y = 0;
	l->scale_x = (double)l->px_w / f->width;
	l->scale_y = (double)l->px_h / f->height;
	return 0;
}

static void plot(uint8_t *mask, unsigned w, unsigned h, long x, long y)
{
	if (x >= 0 && y >= 0 && (unsigned long)x < w && (unsigned long)y < h)
		mask[(size_t)y * w + (size_t)x] = 1;
}

static void draw_line(uint8_t *mask, unsigned w, unsigned h, long x0, long y0, long x1, long y1)
{
	long dx = labs(x1 - x0), dy = -labs(y1 - y0);
	long sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;

	for (;;) {
		/* Both steps test the error from before either update; testing
		 * the updated error can step past (x1, y1) and never stop. */
		long e2 = 2 * err;

		plot(mask, w, h, x0, y0);
		if (x0 == x1 && y0 == y1)
			break;
		if (e2 >= dy) {
			err += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			err += dx;
			y0 += sy;
		}
	}
}

static void draw_cross(uint8_t *mask, unsigned w, unsigned h, long x, long y, long arm)
{
	draw_line(mask, w, h, x - arm, y, x + arm, y);
	draw_line(mask, w, h, x, y - arm, x, y + arm);
}

/* Maps a frame coordinate to the nearest image unit. */
static long to_image(double v, double scale)
{
	double u = (v + 0.5) * scale - 0.5;

	if (u < -1e6)
		return -1000000;
	if (u > 1e6)
		return 1000000;
	return lround(u);
}

/* Paints calipers and depth ticks into mask (px_w x px_h, cleared here). */
static void draw_overlay(const struct render_overlay *o, const struct render_layout *l,
	uint8_t *mask)
{
	unsigned w = l->px_w, h = l->px_h;
	long arm = w / 80 > 2 ? (long)(w / 80) : 2, tick = w / 40 > 2 ? (long)(w / 40) : 2;
	size_t i;

	memset(mask, 0, (size_t)w * h);
	for (i = 0; i < o->ncalipers; i++) {
		const struct render_caliper *c = &o->calipers[i];
		long ax = to_image(c->a.x, l->scale_x), ay = to_image(c->a.y, l->scale_y);
		long bx = to_image(c->b.x, l->scale_x), by = to_image(c->b.y, l->scale_y);

		draw_cross(mask, w, h, ax, ay, arm);
		if (ax != bx || ay != by) {
			draw_cross(mask, w, h, bx, by, arm);
			draw_line(mask, w, h, ax, ay, bx, by);
		}
	}
	for (i = 0; i < o->nticks; i++) {
		long y = to_image(o->tick_rows[i], l->scale_y);

		draw_line(mask, w, h, (long)w - tick, y, (long)w - 1, y);
	}
}

/* Paints the overlay's palette entry over a band of mapped gray levels. */
struct overlay_patch {
	const uint8_t *mask;
	unsigned w;
	uint8_t overlay;
};

static void patch_overlay(void *ctx, uint8_t *index, unsigned y, unsigned rows)
{
	const struct overlay_patch *p = ctx;
	size_t i, end = (size_t)(y + rows) * p->w;

	for (i = (size_t)y * p->w; i < end; i++) {
		if (p->mask[i])
			index[i] = p->overlay;
	}
}

/* Allocates the renderer's gray mapping state on first use.  Returns 0 or
 * SONO_ENOMEM. */
static int map_scratch(struct render *r)
{
	if (!r->map)
		r->map = malloc(sizeof(*r->map));
	return r->map ? 0 : SONO_ENOMEM;
}

/* Gray sixel: histogram levels for the image, one more palette entry for
 * the overlay colour. */
static int sixel_gray(struct render *r, const struct render_image *img, unsigned levels,
	struct sbuf *out)
{
	uint8_t lv[SIXELENC_LEVELS_MAX], lut[256], palette[SIXELENC_LEVELS_MAX + 1][3];
	size_t n = (size_t)img->w * img->h;
	struct overlay_patch patch;
	unsigned count, k;
	int rc;

	rc = scratch(&r->index, &r->index_cap, n);
	if (rc == 0)
		rc = map_scratch(r);
	if (rc != 0)
		return rc;
	sixelenc_gray_levels(img->pixels, n, levels ? levels : RENDER_GRAY_LEVELS_DEFAULT,
		lv, &count, lut);
	for (k = 0; k < count; k++) {
		const uint8_t *rgb = img->colormap ? img->colormap[lv[k]] : NULL;

		palette[k][0] = rgb ? rgb[0] : lv[k];
		palette[k][1] = rgb ? rgb[1] : lv[k];
		palette[k][2] = rgb ? rgb[2] : lv[k];
	}
	memcpy(palette[count], img->overlay_rgb, 3);

	sixelenc_gray_map_init(r->map, img->pixels, img->w, img->h, lv, lut,
		SIXELENC_TOLERANCE_DEFAULT, r->index);
	if (img->mask) {
		patch.mask = img->mask;
		patch.w = img->w;
		patch.overlay = (uint8_t)count;
		r->map->patch = patch_overlay;
		r->map->patch_ctx = &patch;
	}
	return sixelenc_encode_source(r->index, img->w, img->h, (const uint8_t (*)[3])palette,
		count + (img->mask ? 1 : 0), &r->map->source, out);
}

/* Colour sixel through libsixel, with the overlay painted into the pixels. */
static int sixel_rgb(struct render *r, struct render_image *img, struct sbuf *out)
{
	size_t i, n = (size_t)img->w * img->h;

	if (img->mask) {
		/* img->pixels is r->image, the scaled copy, so painting is safe. */
		for (i = 0; i < n; i++) {
			if (img->mask[i])
				memcpy(r->image + 3 * i, img->overlay_rgb, 3);
		}
	}
	return sixelenc_encode_rgb(img->pixels, img->w, img->h, SIXELENC_COLORS_MAX, out);
}

static int render_sixel(struct render *r, const struct render_target *t,
	struct render_image *img, const struct render_rect *cells, struct sbuf *out)
{
	int rc;

	rc = sbuf_printf(out, "\0337\033[%u;%uH", cells->row + 1, cells->col + 1);
	if (rc == 0 && img->components == 1)
		rc = sixel_gray(r, img, t->gray_levels, out);
	else if (rc == 0)
		rc = sixel_rgb(r, img, out);
	if (rc == 0)
		rc = sbuf_append_str(out, "\0338");
	return rc;
}

static int target_valid(const struct render_target *t)
{
	if (t->mode != RENDER_MODE_SIXEL && t->mode != RENDER_MODE_HALFBLOCK &&
	    t->mode != RENDER_MODE_HALFBLOCK_24 && t->mode != RENDER_MODE_HALFBLOCK_256 &&
	    t->mode != RENDER_MODE_ASCII)
		return 0;
	if (!t->rect.cols || !t->rect.rows)
		return 0;
	if (t->mode == RENDER_MODE_SIXEL && (!t->cell_w || !t->cell_h))
		return 0;
	return 1;
}

/* Turns n RGB pixels into n gray bytes in place when every pixel has equal
 * channels (a palette DICOM frame of a B-mode image, say), so they take the
 * faster gray path.  Returns 1 when it did, else 0. */
static int rgb_to_gray_if_gray(uint8_t *pixels, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *p = pixels + 3 * i;

		if (p[0] != p[1] || p[1] != p[2])
			return 0;
	}
	for (i = 0; i < n; i++)
		pixels[i] = pixels[3 * i];
	return 1;
}

/* Scales the frame into r->image and, when there are marks, draws them
 * into r->mask.  Fills img. */
static int prepare_image(struct render *r, const struct render_target *t, const struct frame *f,
	const struct render_overlay *overlay, const struct render_layout *l,
	struct render_image *img)
{
	size_t n = (size_t)l->px_w * l->px_h;
	int rc;

	rc = scratch(&r->image, &r->image_cap, n * f->components);
	if (rc == 0)
		rc = scale_image(f->pixels, f->width, f->height, f->components, r->image,
			l->px_w, l->px_h);
	if (rc != 0)
		return rc;

	memset(img, 0, sizeof(*img));
	img->pixels = r->image;
	img->w = l->px_w;
	img->h = l->px_h;
	img->components = f->components;
	if (f->components == 3 && rgb_to_gray_if_gray(r->image, n))
		img->components = 1;
	img->colormap = t->colormap;
	if (overlay && (overlay->ncalipers || overlay->nticks)) {
		rc = scratch(&r->mask, &r->mask_cap, n);
		if (rc != 0)
			return rc;
		draw_overlay(overlay, l, r->mask);
		img->mask = r->mask;
		memcpy(img->overlay_rgb, overlay->rgb, 3);
	}
	return 0;
}

/* Sixel for an RGB frame within the limits of the mixed path (see
 * render_priv.h): its luminance is scaled as a gray frame and its colour
 * ids by nearest neighbour.  Returns SONO_EUNSUPPORTED, with nothing
 * written, for other frames. */
static int sixel_mixed(struct render *r, const struct render_target *t, const struct frame *f,
	const struct render_overlay *overlay, const struct render_layout *l, struct sbuf *out)
{
	struct render_mixed_colors colors;
	size_t ns = (size_t)f->width * f->height, n = (size_t)l->px_w * l->px_h;
	struct render_mixed m = { 0 };
	int rc;

	rc = scratch(&r->split, &r->split_cap, 2 * ns);
	if (rc == 0)
		rc = scratch(&r->gray, &r->gray_cap, 2 * n);
	if (rc == 0)
		rc = scratch(&r->index, &r->index_cap, n);
	if (rc == 0)
		rc = map_scratch(r);
	if (rc == 0)
		rc = render_mixed_split(f, &colors, r->split, r->split + ns);
	if (rc == 0)
		rc = scale_image(r->split, f->width, f->height, 1, r->gray, l->px_w, l->px_h);
	if (rc == 0)
		rc = scale_nearest(r->split + ns, f->width, f->height, r->gray + n, l->px_w, l->px_h);
	if (rc == 0 && overlay && (overlay->ncalipers || overlay->nticks)) {
		rc = scratch(&r->mask, &r->mask_cap, n);
		if (rc == 0)
			draw_overlay(overlay, l, r->mask);
		m.mask = r->mask;
		memcpy(m.overlay_rgb, overlay->rgb, 3);
	}
	if (rc != 0)
		return rc;

	m.gray = r->gray;
	m.color_id = r->gray + n;
	m.w = l->px_w;
	m.h = l->px_h;
	m.colors = &colors;
	m.nlevels = t->gray_levels ? t->gray_levels : RENDER_GRAY_LEVELS_DEFAULT;
	m.colormap = t->colormap;
	rc = sbuf_printf(out, "\0337\033[%u;%uH", l->cells.row + 1, l->cells.col + 1);
	if (rc == 0)
		rc = render_mixed_encode(&m, r->index, r->map, out);
	if (rc == 0)
		rc = sbuf_append_str(out, "\0338");
	return rc;
}

static int render_encode(struct render *r, const struct render_target *t,
	struct render_image *img, const struct render_rect *cells, struct sbuf *out)
{
	switch (t->mode) {
	case RENDER_MODE_SIXEL:
		return render_sixel(r, t, img, cells, out);
	case RENDER_MODE_HALFBLOCK_256:
		return render_halfblock(img, cells, 0, out);
	case RENDER_MODE_ASCII:
		return render_ascii(img, cells, out);
	default:
		return render_halfblock(img, cells, 1, out);
	}
}

int render_frame(struct render *r, const struct render_target *t, const struct frame *f,
	const struct render_overlay *overlay, struct sbuf *out, struct render_layout *layout)
{
	struct render_layout l;
	struct render_image img;
	int rc;

	if (!r || !t || !out || !frame_valid(f) || !target_valid(t))
		return SONO_EINVAL;
	rc = fit_layout(t, f, &l);
	if (rc != 0)
		return rc;

	rc = SONO_EUNSUPPORTED;
	if (t->mode == RENDER_MODE_SIXEL && f->components == 3)
		rc = sixel_mixed(r, t, f, overlay, &l, out);
	if (rc == SONO_EUNSUPPORTED) {
		rc = prepare_image(r, t, f, overlay, &l, &img);
		if (rc == 0)
			rc = render_encode(r, t, &img, &l.cells, out);
	}
	if (rc == 0 && layout)
		*layout = l;
	return rc;
}

int render_cell_to_frame(const struct render_layout *layout, const struct render_target *t,
	unsigned col, unsigned row, struct render_point *out)
{
	double ux, uy;

	if (!layout || !t || !out || col < layout->cells.col || row < layout->cells.row ||
	    layout->scale_x <= 0 || layout->scale_y <= 0)
		return SONO_EINVAL;
	if (t->mode == RENDER_MODE_SIXEL) {
		ux = (col - layout->cells.col + 0.5) * t->cell_w;
		uy = (row - layout->cells.row + 0.5) * t->cell_h;
	} else if (t->mode == RENDER_MODE_ASCII) {
		ux = col - layout->cells.col + 0.5;
		uy = row - layout->cells.row + 0.5;
	} else {
		ux = col - layout->cells.col + 0.5;
		uy = (row - layout->cells.row) * 2.0 + 1.0;
	}
	ux -= layout->offset_x;
	uy -= layout->offset_y;
	if (ux < 0 || uy < 0 || ux >= layout->px_w || uy >= layout->px_h)
		return SONO_EINVAL;
	out->x = ux / layout->scale_x - 0.5;
	out->y = uy / layout->scale_y - 0.5;
	return 0;
}

static const struct {
	const char *name;
	enum render_mode mode;
} mode_names[] = {
	{ "auto", RENDER_MODE_AUTO },
	{ "sixel", RENDER_MODE_SIXEL },
	{ "halfblock", RENDER_MODE_HALFBLOCK },
	{ "halfblock-24", RENDER_MODE_HALFBLOCK_24 },
	{ "halfblock-256", RENDER_MODE_HALFBLOCK_256 },
	{ "ascii", RENDER_MODE_ASCII },
};

int render_mode_parse(const char *name, enum render_mode *mode)
{
	size_t i;

	for (i = 0; name && i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(name, mode_names[i].name)) {
			*mode = mode_names[i].mode;
			return 0;
		}
	}
	return SONO_EINVAL;
}

const char *render_mode_name(enum render_mode mode)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (mode_names[i].mode == mode)
			return mode_names[i].name;
	}
	return "unknown";
}
