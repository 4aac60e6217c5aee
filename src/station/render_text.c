/* Text renderers: half-block cells with 24-bit or 256-colour SGR, and an
 * ASCII brightness ramp for terminals without colour or UTF-8. */
#include "config.h"

#include <string.h>

#include "sono/error.h"
#include "station/render_priv.h"

/* Maximum bytes of one cell: two 24-bit SGR sequences and U+2580. */
#define CELL_BYTES_MAX 44

static const unsigned cube_steps[6] = { 0, 95, 135, 175, 215, 255 };

static unsigned nearest_cube_step(unsigned v)
{
	unsigned i, best = 0;

	for (i = 1; i < 6; i++) {
		if ((v > cube_steps[i] ? v - cube_steps[i] : cube_steps[i] - v) <
		    (v > cube_steps[best] ? v - cube_steps[best] : cube_steps[best] - v))
			best = i;
	}
	return best;
}

static unsigned distance2(unsigned r, unsigned g, unsigned b, unsigned r2, unsigned g2, unsigned b2)
{
	int dr = (int)r - (int)r2, dg = (int)g - (int)g2, db = (int)b - (int)b2;

	return (unsigned)(dr * dr + dg * dg + db * db);
}

unsigned render_rgb_to_256(unsigned r, unsigned g, unsigned b)
{
	unsigned ri = nearest_cube_step(r), gi = nearest_cube_step(g), bi = nearest_cube_step(b);
	unsigned gray = (r + g + b) / 3, gray_index, gray_value;
	unsigned cube_dist, gray_dist;

	/* The ramp runs from 8 to 238 in steps of 10. */
	gray_index = gray < 8 ? 0 : (gray - 8 + 5) / 10;
	if (gray_index > 23)
		gray_index = 23;
	gray_value = 8 + 10 * gray_index;

	cube_dist = distance2(r, g, b, cube_steps[ri], cube_steps[gi], cube_steps[bi]);
	gray_dist = distance2(r, g, b, gray_value, gray_value, gray_value);
	if (gray_dist < cube_dist)
		return 232 + gray_index;
	return 16 + 36 * ri + 6 * gi + bi;
}

static uint32_t pixel_rgb(const struct render_image *img, size_t i)
{
	const uint8_t *p;

	if (img->mask && img->mask[i])
		p = img->overlay_rgb;
	else if (img->components == 3)
		p = img->pixels + 3 * i;
	else if (img->colormap)
		p = img->colormap[img->pixels[i]];
	else
		return (uint32_t)img->pixels[i] * 0x010101u;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint8_t *put_uint(uint8_t *p, unsigned v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = (uint8_t)digits[--n];
	return p;
}

/* Writes an SGR colour: layer is 38 (foreground) or 48 (background). */
static uint8_t *put_color(uint8_t *p, unsigned layer, uint32_t rgb, int truecolor)
{
	unsigned r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;

	*p++ = '\033';
	*p++ = '[';
	p = put_uint(p, layer);
	if (truecolor) {
		memcpy(p, ";2;", 3);
		p = put_uint(p + 3, r);
		*p++ = ';';
		p = put_uint(p, g);
		*p++ = ';';
		p = put_uint(p, b);
	} else {
		memcpy(p, ";5;", 3);
		p = put_uint(p + 3, render_rgb_to_256(r, g, b));
	}
	*p++ = 'm';
	return p;
}

/* Writes one row of cells.  A cell whose halves match is a space in the
 * background colour, which needs no foreground change. */
static uint8_t *halfblock_row(const struct render_image *img, unsigned y, int truecolor,
	uint8_t *p)
{
	uint32_t fg = 0xffffffffu, bg = 0xffffffffu;
	unsigned x;

	for (x = 0; x < img->w; x++) {
		uint32_t top = pixel_rgb(img, (size_t)y * img->w + x);
		uint32_t bottom = y + 1 < img->h ? pixel_rgb(img, (size_t)(y + 1) * img->w + x) : 0;

		if (bottom != bg) {
			p = put_color(p, 48, bottom, truecolor);
			bg = bottom;
		}
		if (top == bottom) {
			*p++ = ' ';
			continue;
		}
		if (top != fg) {
			p = put_color(p, 38, top, truecolor);
			fg = top;
		}
		memcpy(p, "\xe2\x96\x80", 3);
		p += 3;
	}
	return p;
}

int render_halfblock(const struct render_image *img, const struct render_rect *cells,
	int truecolor, struct sbuf *out)
{
	unsigned row;
	int rc;

	rc = sbuf_append_str(out, "\0337");
	for (row = 0; rc == 0 && row < cells->rows; row++) {
		uint8_t *start, *p;

		rc = sbuf_printf(out, "\033[%u;%uH", cells->row + row + 1, cells->col + 1);
		if (rc != 0)
			break;
		start = sbuf_reserve(out, (size_t)img->w * CELL_BYTES_MAX + 8);
		if (!start) {
			rc = out->len + (size_t)img->w * CELL_BYTES_MAX + 8 > out->max ?
				SONO_ETOOBIG : SONO_ENOMEM;
			break;
		}
		p = halfblock_row(img, 2 * row, truecolor, start);
		memcpy(p, "\033[0m", 4);
		sbuf_commit(out, (size_t)(p + 4 - start));
	}
	if (rc == 0)
		rc = sbuf_append_str(out, "\0338");
	return rc;
}

/* From dark to bright; the overlay uses '+', which is not in the ramp. */
static const char ascii_ramp[] = " .:-=oO#%@";

int render_ascii(const struct render_image *img, const struct render_rect *cells,
	struct sbuf *out)
{
	unsigned row, x;
	int rc;

	rc = sbuf_append_str(out, "\0337\033[0m");
	for (row = 0; rc == 0 && row < cells->rows && row < img->h; row++) {
		char line[FRAME_MAX_DIM + 1];

		for (x = 0; x < img->w && x < FRAME_MAX_DIM; x++) {
			size_t i = (size_t)row * img->w + x;
			uint32_t rgb = img->components == 3 ? pixel_rgb(img, i) : img->pixels[i] * 0x010101u;
			unsigned luma = ((rgb >> 16 & 0xff) * 77 + (rgb >> 8 & 0xff) * 150 + (rgb & 0xff) * 29) >> 8;

			line[x] = img->mask && img->mask[i] ? '+' : ascii_ramp[luma * 10 / 256];
		}
		rc = sbuf_printf(out, "\033[%u;%uH", cells->row + row + 1, cells->col + 1);
		if (rc == 0)
			rc = sbuf_append(out, line, x);
	}
	if (rc == 0)
		rc = sbuf_append_str(out, "\0338");
	return rc;
}
