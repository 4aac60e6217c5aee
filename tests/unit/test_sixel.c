/* Tests of the sixel encoders, the scaler and the renderers.  Sixel output
 * is decoded with libsixel and compared with the source scaled to the same
 * size.  Edge frames must not crash, and text renderers produce cells. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#undef PACKAGE_VERSION
#include <sixel.h>

#include "sono/buf.h"
#include "sono/dicom.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "station/render.h"
#include "station/render_priv.h"
#include "station/scale.h"
#include "station/sixel.h"

struct decoded {
	unsigned char *pixels; /* palette indices */
	unsigned char *palette; /* RGB triplets */
	int w, h, ncolors;
};

/* Decodes the first sixel image in data[0, len) with libsixel. */
static void decode(const uint8_t *data, size_t len, struct decoded *d)
{
	const uint8_t *start = NULL;
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (data[i] == '\033' && data[i + 1] == 'P') {
			start = data + i;
			break;
		}
	}
	assert_non_null(start);
	memset(d, 0, sizeof(*d));
	assert_int_equal(sixel_decode_raw((unsigned char *)start, (int)(len - (size_t)(start - data)),
		&d->pixels, &d->w, &d->h, &d->palette, &d->ncolors, NULL), SIXEL_OK);
}

static void decoded_free(struct decoded *d)
{
	free(d->pixels);
	free(d->palette);
}

/* Channel c (0 red, 1 green, 2 blue) of decoded pixel i. */
static uint8_t decoded_channel(const struct decoded *d, size_t i, unsigned c)
{
	return d->palette[3 * d->pixels[i] + c];
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
	double se = 0;
	size_t i;

	for (i = 0; i < n; i++)
		se += (double)(a[i] - b[i]) * (a[i] - b[i]);
	if (se == 0)
		return 99.0;
	return 10.0 * log10(255.0 * 255.0 / (se / n));
}

static double decoded_psnr_gray(const struct decoded *d, const uint8_t *gray)
{
	size_t i, n = (size_t)d->w * d->h;
	uint8_t *red = malloc(n);
	double p;

	assert_non_null(red);
	for (i = 0; i < n; i++)
		red[i] = decoded_channel(d, i, 0);
	p = psnr(red, gray, n);
	free(red);
	return p;
}

/* A B-mode-like test image: black outside a sector, speckle inside whose
 * mean brightness falls with depth, and a bright horizontal reflector. */
static uint8_t *make_speckle(unsigned w, unsigned h)
{
	uint8_t *g = malloc((size_t)w * h);
	unsigned x, y, seed = 12345;

	assert_non_null(g);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			double dx = (double)x - w / 2.0, half = 0.1 * w + 0.4 * w * y / h;
			double mean = 200.0 * (1.0 - 0.7 * y / h), v;

			seed = seed * 1103515245u + 12345u;
			v = mean * sqrt(-2.0 * log(((seed >> 8) & 0xffff) / 65536.0 + 1e-6)) / 1.25;
			if (fabs(dx) > half)
				v = 0;
			else if (y > h / 2 && y < h / 2 + 4)
				v = 250;
			g[(size_t)y * w + x] = (uint8_t)(v > 255 ? 255 : v);
		}
	}
	return g;
}

static void gray_levels_ascending_and_bounded(void **state)
{
	uint8_t *g = make_speckle(320, 240), levels[SIXELENC_LEVELS_MAX], lut[256];
	unsigned count, v, nlevels;

	(void)state;
	for (nlevels = 8; nlevels <= 80; nlevels += 24) {
		sixelenc_gray_levels(g, 320 * 240, nlevels, levels, &count, lut);
		assert_true(count >= 2);
		assert_true(count <= SIXELENC_LEVELS_MAX);
		assert_true(count <= (nlevels < SIXELENC_LEVELS_MIN ? SIXELENC_LEVELS_MIN : nlevels));
		for (v = 1; v < count; v++)
			assert_true(levels[v - 1] < levels[v]);
		for (v = 1; v < 256; v++)
			assert_true(lut[v - 1] <= lut[v]);
		assert_true(lut[255] < count);
	}
	free(g);
}

static void gray_levels_keep_few_values(void **state)
{
	uint8_t img[6] = { 0, 0, 255, 255, 0, 255 }, levels[SIXELENC_LEVELS_MAX], lut[256];
	unsigned count;

	(void)state;
	sixelenc_gray_levels(img, sizeof(img), 32, levels, &count, lut);
	assert_int_equal(count, 2);
	assert_int_equal(levels[0], 0);
	assert_int_equal(levels[1], 255);
	assert_int_equal(lut[0], 0);
	assert_int_equal(lut[255], 1);
}

/* Encodes w x h gray pixels, decodes them and returns the PSNR. */
static double gray_round_trip(const uint8_t *g, unsigned w, unsigned h, unsigned levels,
	unsigned tolerance, size_t *bytes)
{
	struct sbuf out;
	struct decoded d;
	double p;

	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(sixelenc_encode_gray(g, w, h, levels, tolerance, NULL, &out), 0);
	decode(out.data, out.len, &d);
	assert_int_equal(d.w, (int)w);
	assert_int_equal(d.h, (int)h);
	p = decoded_psnr_gray(&d, g);
	if (bytes)
		*bytes = out.len;
	decoded_free(&d);
	sbuf_free(&out);
	return p;
}

static void gray_speckle_psnr(void **state)
{
	uint8_t *g = make_speckle(640, 480);
	size_t bytes;
	double p16, p32, p64;

	(void)state;
	p16 = gray_round_trip(g, 640, 480, 16, 0, &bytes);
	p32 = gray_round_trip(g, 640, 480, 32, 0, &bytes);
	p64 = gray_round_trip(g, 640, 480, 64, 0, &bytes);
	print_message("speckle 640x480: PSNR %.1f / %.1f / %.1f dB at 16/32/64 levels\n", p16, p32, p64);
	assert_true(p16 >= 30.0);
	assert_true(p32 >= 34.0);
	assert_true(p64 >= p32);
	p16 = gray_round_trip(g, 640, 480, 16, SIXELENC_TOLERANCE_DEFAULT, &bytes);
	print_message("speckle 640x480 with tolerance: PSNR %.1f dB, %zu bytes\n", p16, bytes);
	assert_true(p16 >= 30.0);
	free(g);
}

static void gray_odd_heights(void **state)
{
	uint8_t *g = make_speckle(37, 13);
	unsigned h;

	(void)state;
	for (h = 1; h <= 13; h++)
		assert_true(gray_round_trip(g, 37, h, 32, SIXELENC_TOLERANCE_DEFAULT, NULL) >= 30.0);
	free(g);
}

static void indexed_rejects_bad_input(void **state)
{
	uint8_t index[4] = { 0, 1, 2, 1 }, palette[2][3] = { { 0, 0, 0 }, { 255, 255, 255 } };
	struct sbuf out;

	(void)state;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(sixelenc_encode_indexed(index, 2, 2, (const uint8_t (*)[3])palette, 2, &out),
		SONO_EINVAL);
	assert_int_equal(sixelenc_encode_indexed(index, 0, 2, (const uint8_t (*)[3])palette, 2, &out),
		SONO_EINVAL);
	assert_int_equal(sixelenc_encode_indexed(index, 2, 2, (const uint8_t (*)[3])palette, 0, &out),
		SONO_EINVAL);
	sbuf_free(&out);
}

static void indexed_respects_maximum(void **state)
{
	uint8_t *g = make_speckle(200, 120);
	struct sbuf out;

	(void)state;
	sbuf_init(&out, 2000);
	assert_int_equal(sixelenc_encode_gray(g, 200, 120, 32, 0, NULL, &out), SONO_ETOOBIG);
	assert_true(out.len <= 2000);
	sbuf_free(&out);
	free(g);
}

static void rgb_single_colour(void **state)
{
	uint8_t *rgb = malloc(64 * 30 * 3);
	struct sbuf out;
	struct decoded d;
	size_t i;

	(void)state;
	assert_non_null(rgb);
	for (i = 0; i < 64 * 30; i++) {
		rgb[3 * i] = 200;
		rgb[3 * i + 1] = 40;
		rgb[3 * i + 2] = 90;
	}
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(sixelenc_encode_rgb(rgb, 64, 30, 256, &out), 0);
	decode(out.data, out.len, &d);
	assert_int_equal(d.w, 64);
	assert_int_equal(d.h, 30);
	assert_true(abs(decoded_channel(&d, 100, 0) - 200) <= 3);
	assert_true(abs(decoded_channel(&d, 100, 1) - 40) <= 3);
	assert_true(abs(decoded_channel(&d, 100, 2) - 90) <= 3);
	decoded_free(&d);
	sbuf_free(&out);
	free(rgb);
}

static void scale_constant_stays_constant(void **state)
{
	uint8_t src[7 * 5], dst[13 * 11];
	size_t i;

	(void)state;
	memset(src, 77, sizeof(src));
	assert_int_equal(scale_image(src, 7, 5, 1, dst, 13, 11), 0);
	for (i = 0; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 77);
	assert_int_equal(scale_image(src, 7, 5, 1, dst, 3, 2), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(dst[i], 77);
}

static void scale_halves_by_averaging(void **state)
{
	uint8_t src[4 * 2] = { 0, 100, 200, 50, 20, 40, 0, 10 }, dst[2];

	(void)state;
	assert_int_equal(scale_image(src, 4, 2, 1, dst, 2, 1), 0);
	assert_int_equal(dst[0], 40);  /* (0 + 100 + 20 + 40) / 4 */
	assert_int_equal(dst[1], 65);  /* (200 + 50 + 0 + 10) / 4 */
	assert_int_equal(scale_image(src, 0, 2, 1, dst, 2, 1), SONO_EINVAL);
	assert_int_equal(scale_image(src, 4, 2, 1, dst, SCALE_DIM_MAX + 1, 1), SONO_EINVAL);
}

static void scale_nearest_keeps_labels(void **state)
{
	uint8_t src[4] = { 0, 1, 2, 3 }, dst[16];
	size_t i;

	(void)state;
	assert_int_equal(scale_nearest(src, 2, 2, dst, 4, 4), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(dst[i], src[(i / 4 / 2) * 2 + (i % 4) / 2]);
	assert_int_equal(scale_nearest(dst, 4, 4, src, 2, 2), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(src[i], i);
	assert_int_equal(scale_nearest(src, 0, 2, dst, 4, 4), SONO_EINVAL);
}

static void make_frame(struct frame *f, unsigned w, unsigned h, unsigned components, uint8_t value)
{
	assert_int_equal(frame_alloc(f, w, h, components, FRAME_MAX_BYTES), 0);
	memset(f->pixels, value, (size_t)w * h * components);
}

static struct render_target sixel_target(unsigned cols, unsigned rows)
{
	struct render_target t;

	memset(&t, 0, sizeof(t));
	t.mode = RENDER_MODE_SIXEL;
	t.rect.cols = cols;
	t.rect.rows = rows;
	t.cell_w = 8;
	t.cell_h = 16;
	return t;
}

/* Renders f as sixel into t, decodes the image and checks it against the
 * frame scaled to the image size.  Returns the PSNR. */
static double render_sixel_psnr(const struct frame *f, const struct render_target *t)
{
	struct render *r = render_new();
	struct render_layout l;
	struct sbuf out;
	struct decoded d;
	uint8_t *ref;
	double p;

	assert_non_null(r);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, t, f, NULL, &out, &l), 0);
	decode(out.data, out.len, &d);
	assert_int_equal(d.w, (int)l.px_w);
	assert_int_equal(d.h, (int)l.px_h);
	assert_int_equal(l.px_h % 6, 0);
	ref = malloc((size_t)l.px_w * l.px_h);
	assert_non_null(ref);
	assert_int_equal(scale_image(f->pixels, f->width, f->height, 1, ref, l.px_w, l.px_h), 0);
	p = decoded_psnr_gray(&d, ref);
	free(ref);
	decoded_free(&d);
	sbuf_free(&out);
	render_free(r);
	return p;
}

static void render_sixel_speckle(void **state)
{
	struct frame f = { 0 };
	struct render_target t = sixel_target(100, 40);
	double p;

	(void)state;
	f.width = 640;
	f.height = 480;
	f.components = 1;
	f.pixels = make_speckle(640, 480);
	p = render_sixel_psnr(&f, &t);
	print_message("speckle rendered into 100x40 cells: PSNR %.1f dB\n", p);
	assert_true(p >= 30.0);
	frame_free(&f);
}

/* Loads the Aloka B-mode frame as gray (its palette is gray except for a
 * few coloured annotations, which become their luminance). */
static void load_aloka_gray(struct frame *g)
{
	const char *dir = getenv("SONO_SHARED_DATA");
	char path[4096], err[256];
	struct dicom_image *img = NULL;
	struct frame f = { 0 };
	size_t i;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/ultrasound/gdcm-US-ALOKA-16.dcm", dir);
	if (dicom_open_file(&img, path, err, sizeof(err)) != 0)
		fail_msg("cannot open %s: %s", path, err);
	assert_int_equal(dicom_get_frame(img, 0, &f), 0);
	assert_int_equal(f.components, 3);
	make_frame(g, f.width, f.height, 1, 0);
	g->spacing_mm[0] = f.spacing_mm[0];
	g->spacing_mm[1] = f.spacing_mm[1];
	for (i = 0; i < (size_t)f.width * f.height; i++) {
		const uint8_t *p = f.pixels + 3 * i;

		g->pixels[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
	}
	frame_free(&f);
	dicom_free(img);
}

static void aloka_frame_quality(void **state)
{
	struct frame g = { 0 };
	struct render_target t = sixel_target(160, 61);
	size_t bytes;
	double p;

	(void)state;
	load_aloka_gray(&g);
	p = gray_round_trip(g.pixels, g.width, g.height, RENDER_GRAY_LEVELS_DEFAULT,
		SIXELENC_TOLERANCE_DEFAULT, &bytes);
	print_message("Aloka 640x480: PSNR %.1f dB, %zu bytes\n", p, bytes);
	assert_true(p >= 34.0);
	assert_true(bytes <= 100 * 1024);

	/* 160x61 cells of 8x16 pixels hold the frame at 1280x960. */
	p = render_sixel_psnr(&g, &t);
	print_message("Aloka at 1280x960: PSNR %.1f dB\n", p);
	assert_true(p >= 34.0);
	frame_free(&g);
}

/* Renders f in every mode; sixel output must decode to the layout size. */
static void render_all_modes(const struct frame *f)
{
	static const enum render_mode modes[] = { RENDER_MODE_SIXEL, RENDER_MODE_HALFBLOCK_24,
		RENDER_MODE_HALFBLOCK_256, RENDER_MODE_ASCII };
	struct render_caliper cal = { { 0, 0 }, { f->width - 1.0, f->height - 1.0 } };
	double ticks[2] = { 0, f->height / 2.0 };
	struct render_overlay o = { &cal, 1, ticks, 2, { 255, 255, 0 } };
	struct render *r = render_new();
	struct render_target t = sixel_target(50, 20);
	struct render_layout l;
	struct sbuf out;
	struct decoded d;
	size_t m;

	assert_non_null(r);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		t.mode = modes[m];
		sbuf_init(&out, RENDER_OUTPUT_MAX);
		assert_int_equal(render_frame(r, &t, f, NULL, &out, &l), 0);
		assert_int_equal(render_frame(r, &t, f, &o, &out, &l), 0);
		assert_true(l.cells.cols >= 1 && l.cells.cols <= t.rect.cols);
		assert_true(l.cells.rows >= 1 && l.cells.rows <= t.rect.rows);
		if (t.mode == RENDER_MODE_SIXEL) {
			decode(out.data, out.len, &d);
			assert_int_equal(d.w, (int)l.px_w);
			assert_int_equal(d.h, (int)l.px_h);
			decoded_free(&d);
		}
		sbuf_free(&out);
	}
	render_free(r);
}

static void render_edge_frames(void **state)
{
	static const struct {
		unsigned w, h, components;
		uint8_t value;
	} cases[] = {
		{ 640, 480, 1, 0 }, { 640, 480, 1, 255 }, { 1, 1, 1, 128 }, { 1, 1, 3, 9 },
		{ 641, 479, 1, 60 }, { 641, 479, 3, 200 }, { 4096, 2, 1, 255 }, { 2, 4096, 3, 0 },
	};
	struct frame f = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_frame(&f, cases[i].w, cases[i].h, cases[i].components, cases[i].value);
		render_all_modes(&f);
		frame_free(&f);
	}
}

static void render_black_decodes_black(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(20, 10);
	struct sbuf out;
	struct decoded d;
	int i;

	(void)state;
	make_frame(&f, 64, 48, 1, 0);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), 0);
	decode(out.data, out.len, &d);
	for (i = 0; i < d.w * d.h; i++)
		assert_int_equal(decoded_channel(&d, (size_t)i, 0), 0);
	decoded_free(&d);
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

static void render_overlay_paints_caliper(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(8, 3);
	struct render_caliper cal = { { 8, 24 }, { 56, 24 } };
	struct render_overlay o = { &cal, 1, NULL, 0, { 255, 255, 0 } };
	struct render_layout l;
	struct sbuf out;
	struct decoded d;
	size_t mid;

	(void)state;
	make_frame(&f, 64, 48, 1, 30);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, &o, &out, &l), 0);
	assert_int_equal(l.px_w, 64);
	assert_int_equal(l.px_h, 48);
	decode(out.data, out.len, &d);
	mid = (size_t)24 * d.w + 32;
	assert_int_equal(decoded_channel(&d, mid, 0), 255);
	assert_int_equal(decoded_channel(&d, mid, 2), 0);
	assert_int_equal(decoded_channel(&d, 0, 0), decoded_channel(&d, 0, 2));
	decoded_free(&d);
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

static void render_text_modes_output(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(40, 10);
	struct sbuf out;
	size_t i;

	(void)state;
	make_frame(&f, 80, 40, 1, 0);
	for (i = 0; i < 80 * 20; i++)
		f.pixels[i] = 255; /* top half white */

	t.mode = RENDER_MODE_HALFBLOCK_24;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), 0);
	assert_non_null(strstr((char *)out.data, "48;2;255;255;255m"));
	assert_non_null(strstr((char *)out.data, "\0337"));
	assert_non_null(strstr((char *)out.data, "\0338"));
	sbuf_free(&out);

	t.mode = RENDER_MODE_HALFBLOCK_256;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), 0);
	assert_non_null(strstr((char *)out.data, "48;5;231m"));
	assert_null(strstr((char *)out.data, ";2;"));
	sbuf_free(&out);

	t.mode = RENDER_MODE_ASCII;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), 0);
	assert_non_null(strstr((char *)out.data, "@@@@"));
	for (i = 0; i < out.len; i++)
		assert_true(out.data[i] == '\033' || (out.data[i] >= 0x20 && out.data[i] < 0x7f));
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

static void render_spares_last_row(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(200, 30);
	struct render_layout l;
	struct sbuf out;

	(void)state;
	make_frame(&f, 64, 64, 1, 100);
	t.rect.row = 0;
	t.screen_rows = 30;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, &l), 0);
	assert_true(l.cells.row + l.cells.rows <= 29);
	assert_true(l.px_h <= 29 * 16);
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

/* How our encoder starts an image; libsixel 1.10 writes "ESC P q". */
#define OUR_SIXEL_START "\033P0;1;0q"

/* Counts palette definitions ("#n;2;r;g;b") in sixel output. */
static unsigned count_palette_entries(const struct sbuf *out)
{
	const char *p = (const char *)out->data;
	unsigned n = 0;

	while ((p = strstr(p, ";2;")) != NULL) {
		n++;
		p += 3;
	}
	return n;
}

/* PSNR over the three channels of decoded output d, laid out by l, against
 * frame f scaled bilinearly to the layout size. */
static double decoded_psnr_rgb(const struct decoded *d, const struct frame *f,
	const struct render_layout *l)
{
	size_t i, n = (size_t)l->px_w * l->px_h * 3;
	uint8_t *ref = malloc(n);
	double se = 0;

	assert_non_null(ref);
	assert_int_equal(d->w, (int)l->px_w);
	assert_int_equal(d->h, (int)l->px_h);
	assert_int_equal(scale_image(f->pixels, f->width, f->height, 3, ref, l->px_w, l->px_h), 0);
	for (i = 0; i < n; i++) {
		double e = (double)decoded_channel(d, i / 3, (unsigned)(i % 3)) - ref[i];

		se += e * e;
	}
	free(ref);
	return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 * (double)n / se);
}

static void render_gray_rgb_uses_levels(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(40, 15);
	uint8_t *g = make_speckle(320, 240);
	struct sbuf out;
	size_t i;

	(void)state;
	make_frame(&f, 320, 240, 3, 0);
	for (i = 0; i < 320 * 240; i++)
		memset(f.pixels + 3 * i, g[i], 3);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), 0);
	assert_true(count_palette_entries(&out) <= RENDER_GRAY_LEVELS_DEFAULT);
	assert_non_null(strstr((char *)out.data, OUR_SIXEL_START));

	/* More distinct colours than RENDER_MIXED_COLORS_MAX on over
	 * RENDER_MIXED_SHARE_MAX_PERCENT of the pixels go through libsixel. */
	for (i = 0; i < 320 * 240 / 5; i++) {
		f.pixels[3 * i] = (uint8_t)(i % 100 + 100);
		f.pixels[3 * i + 1] = 0;
	}
	sbuf_reset(&out);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), 0);
	assert_null(strstr((char *)out.data, OUR_SIXEL_START));
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
	free(g);
}

/* A gray speckle frame with a yellow box and a cyan line, as annotations
 * on a B-mode image look, at w x h. */
static void make_annotated(struct frame *f, unsigned w, unsigned h)
{
	uint8_t *g = make_speckle(w, h);
	size_t i, x, y;

	make_frame(f, w, h, 3, 0);
	for (i = 0; i < (size_t)w * h; i++)
		memset(f->pixels + 3 * i, g[i], 3);
	for (y = h / 8; y < h / 4; y++) {
		for (x = w / 8; x < w / 4; x++)
			memcpy(f->pixels + 3 * (y * w + x), "\xff\xff\x00", 3);
	}
	for (x = 0; x < w; x++)
		memcpy(f->pixels + 3 * ((size_t)(h - 3) * w + x), "\x00\xc0\xc0", 3);
	free(g);
}

/* Renders RGB frame f as sixel into 80x30 cells of 8x16 pixels, checks
 * that our encoder wrote it and decodes it into d.  Returns the PSNR of d
 * against f scaled to the layout l. */
static double render_mixed_round_trip(const struct frame *f, struct sbuf *out,
	struct render_layout *l, struct decoded *d)
{
	struct render *r = render_new();
	struct render_target t = sixel_target(80, 30);

	assert_non_null(r);
	assert_int_equal(render_frame(r, &t, f, NULL, out, l), 0);
	assert_non_null(strstr((char *)out->data, OUR_SIXEL_START));
	render_free(r);
	decode(out->data, out->len, d);
	return decoded_psnr_rgb(d, f, l);
}

static void render_annotated_uses_levels(void **state)
{
	struct frame f = { 0 };
	struct render_layout l;
	struct decoded d;
	struct sbuf out;
	double p;
	size_t mid;

	(void)state;
	make_annotated(&f, 640, 480);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	p = render_mixed_round_trip(&f, &out, &l, &d);
	print_message("annotated frame rendered at %ux%u: PSNR %.1f dB\n", l.px_w, l.px_h, p);
	assert_true(count_palette_entries(&out) <= RENDER_GRAY_LEVELS_DEFAULT + 2);
	assert_true(p >= 30.0);

	/* The middle of the yellow box decodes yellow. */
	mid = (size_t)(l.px_h * 3 / 16) * l.px_w + l.px_w * 3 / 16;
	assert_int_equal(decoded_channel(&d, mid, 0), 255);
	assert_int_equal(decoded_channel(&d, mid, 1), 255);
	assert_int_equal(decoded_channel(&d, mid, 2), 0);
	decoded_free(&d);
	sbuf_free(&out);
	frame_free(&f);
}

/* A gray speckle frame with a power Doppler patch: a red to yellow ramp of
 * 95 colours over a 64 x 48 box of a 640 x 480 frame (1 % of the pixels),
 * more colours than the mixed palette holds. */
static void make_doppler(struct frame *f)
{
	uint8_t *g = make_speckle(640, 480);
	size_t i, x, y;

	make_frame(f, 640, 480, 3, 0);
	for (i = 0; i < (size_t)640 * 480; i++)
		memset(f->pixels + 3 * i, g[i], 3);
	for (y = 200; y < 248; y++) {
		for (x = 300; x < 364; x++) {
			uint8_t *p = f->pixels + 3 * (y * 640 + x);
			unsigned k = (unsigned)((x - 300 + y - 200) * 96 / 112);

			p[0] = (uint8_t)(160 + k);
			p[1] = (uint8_t)(k * 255 / 95);
			p[2] = 0;
		}
	}
	free(g);
}

static void render_doppler_patch_mixed(void **state)
{
	struct frame f = { 0 };
	struct render_layout l;
	struct decoded d;
	struct sbuf out;
	size_t mid;
	double p;

	(void)state;
	make_doppler(&f);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	p = render_mixed_round_trip(&f, &out, &l, &d);
	print_message("Doppler patch frame rendered at %ux%u: PSNR %.1f dB\n", l.px_w, l.px_h, p);
	assert_true(count_palette_entries(&out) <=
		RENDER_GRAY_LEVELS_DEFAULT + RENDER_MIXED_COLORS_MAX);
	assert_true(p >= 30.0);

	/* The middle of the patch decodes as a red to yellow colour. */
	mid = (size_t)(l.px_h * 224 / 480) * l.px_w + l.px_w * 332 / 640;
	assert_true(decoded_channel(&d, mid, 0) >= 190);
	assert_true(decoded_channel(&d, mid, 1) >= 60);
	assert_true(decoded_channel(&d, mid, 1) <= 200);
	assert_true(decoded_channel(&d, mid, 2) <= 16);
	decoded_free(&d);
	sbuf_free(&out);
	frame_free(&f);
}

static void render_caps_huge_rectangle(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(60000, 30000);
	struct render_layout l;
	struct sbuf out;

	(void)state;
	make_frame(&f, 8, 8, 1, 100);
	t.cell_w = 64;
	t.cell_h = 128;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, &l), 0);
	assert_true(l.px_w <= RENDER_DIM_MAX);
	assert_true(l.px_h <= RENDER_DIM_MAX);
	/* 8192x4096 half-block cells exceed the output maximum. */
	t.mode = RENDER_MODE_HALFBLOCK_24;
	sbuf_reset(&out);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, &l), SONO_ETOOBIG);
	assert_true(out.len <= RENDER_OUTPUT_MAX);
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

static void render_rejects_bad_targets(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(20, 10);
	struct sbuf out;

	(void)state;
	make_frame(&f, 16, 16, 1, 1);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	t.mode = RENDER_MODE_AUTO;
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), SONO_EINVAL);
	t = sixel_target(20, 10);
	t.cell_w = 0;
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), SONO_EINVAL);
	t = sixel_target(0, 10);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), SONO_EINVAL);
	t = sixel_target(20, 10);
	f.components = 2;
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, NULL), SONO_EINVAL);
	f.components = 1;
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

static void render_cell_maps_back(void **state)
{
	struct frame f = { 0 };
	struct render *r = render_new();
	struct render_target t = sixel_target(80, 24);
	struct render_layout l;
	struct render_point p;
	struct sbuf out;

	(void)state;
	make_frame(&f, 320, 240, 1, 1);
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	assert_int_equal(render_frame(r, &t, &f, NULL, &out, &l), 0);
	assert_int_equal(render_cell_to_frame(&l, &t, l.cells.col, l.cells.row, &p), 0);
	assert_true(p.x >= 0 && p.x < 320 * 8.0 / l.px_w * 1.01);
	assert_true(p.y >= 0 && p.y < 240.0 * 16 / l.px_h * 1.01);
	assert_int_equal(render_cell_to_frame(&l, &t, l.cells.col + l.cells.cols, l.cells.row, &p),
		SONO_EINVAL);
	sbuf_free(&out);
	render_free(r);
	frame_free(&f);
}

static void render_mode_names(void **state)
{
	enum render_mode m;

	(void)state;
	assert_int_equal(render_mode_parse("sixel", &m), 0);
	assert_int_equal(m, RENDER_MODE_SIXEL);
	assert_int_equal(render_mode_parse("halfblock", &m), 0);
	assert_int_equal(m, RENDER_MODE_HALFBLOCK);
	assert_int_equal(render_mode_parse("ascii", &m), 0);
	assert_int_equal(render_mode_parse("auto", &m), 0);
	assert_int_equal(render_mode_parse("kitty", &m), SONO_EINVAL);
	assert_string_equal(render_mode_name(RENDER_MODE_HALFBLOCK_256), "halfblock-256");
	assert_int_equal(render_rgb_to_256(0, 0, 0), 16);
	assert_int_equal(render_rgb_to_256(255, 255, 255), 231);
	assert_int_equal(render_rgb_to_256(128, 128, 128), 244);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gray_levels_ascending_and_bounded),
		cmocka_unit_test(gray_levels_keep_few_values),
		cmocka_unit_test(gray_speckle_psnr),
		cmocka_unit_test(gray_odd_heights),
		cmocka_unit_test(indexed_rejects_bad_input),
		cmocka_unit_test(indexed_respects_maximum),
		cmocka_unit_test(rgb_single_colour),
		cmocka_unit_test(scale_constant_stays_constant),
		cmocka_unit_test(scale_halves_by_averaging),
		cmocka_unit_test(scale_nearest_keeps_labels),
		cmocka_unit_test(render_sixel_speckle),
		cmocka_unit_test(aloka_frame_quality),
		cmocka_unit_test(render_edge_frames),
		cmocka_unit_test(render_black_decodes_black),
		cmocka_unit_test(render_overlay_paints_caliper),
		cmocka_unit_test(render_text_modes_output),
		cmocka_unit_test(render_spares_last_row),
		cmocka_unit_test(render_gray_rgb_uses_levels),
		cmocka_unit_test(render_annotated_uses_levels),
		cmocka_unit_test(render_doppler_patch_mixed),
		cmocka_unit_test(render_caps_huge_rectangle),
		cmocka_unit_test(render_rejects_bad_targets),
		cmocka_unit_test(render_cell_maps_back),
		cmocka_unit_test(render_mode_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
