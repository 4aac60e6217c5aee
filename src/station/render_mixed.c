/* Sixel output for gray frames with a few colours, such as a B-mode image
 * with coloured annotations.  The palette is the gray encoder's histogram
 * levels plus the frame's own colours, which is faster than libsixel's
 * quantiser.  Frames with more colours (colour Doppler) stay with libsixel. */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "sono/error.h"
#include "station/render_priv.h"
#include "station/sixel.h"

#define MEMO_SIZE 1024 /* a power of two */

/* Colour-to-palette-index cache, so each distinct colour of the scaled
 * image is matched once.  key is the 24-bit colour plus 1; 0 is empty. */
struct memo {
	uint32_t key[MEMO_SIZE];
	uint8_t index[MEMO_SIZE];
};

static int is_gray(const uint8_t *p)
{
	return p[0] == p[1] && p[1] == p[2];
}

/* Collects the distinct non-gray colours of the source frame.  Returns 0,
 * or SONO_EUNSUPPORTED past RENDER_MIXED_COLORS_MAX of them. */
static int source_colors(const struct frame *f, uint8_t colors[][3], unsigned *count)
{
	size_t i, n = (size_t)f->width * f->height;
	uint32_t last = UINT32_MAX;
	unsigned k;

	*count = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *p = f->pixels + 3 * i;
		uint32_t key = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

		if (is_gray(p) || key == last)
			continue;
		last = key;
		for (k = 0; k < *count && memcmp(colors[k], p, 3) != 0; k++)
			;
		if (k < *count)
			continue;
		if (*count == RENDER_MIXED_COLORS_MAX)
			return SONO_EUNSUPPORTED;
		memcpy(colors[(*count)++], p, 3);
	}
	return 0;
}

static unsigned nearest_entry(const uint8_t (*palette)[3], unsigned n, const uint8_t *p)
{
	unsigned k, best = 0;
	long best_d = LONG_MAX;

	for (k = 0; k < n; k++) {
		long dr = (long)p[0] - palette[k][0], dg = (long)p[1] - palette[k][1];
		long db = (long)p[2] - palette[k][2], d = dr * dr + dg * dg + db * db;

		if (d < best_d) {
			best_d = d;
			best = k;
		}
	}
	return best;
}

static unsigned memo_lookup(struct memo *m, const uint8_t (*palette)[3], unsigned n,
	const uint8_t *p)
{
	uint32_t key = ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) + 1;
	uint32_t slot = (key * 2654435761u) >> 22 & (MEMO_SIZE - 1);

	if (m->key[slot] != key) {
		m->key[slot] = key;
		m->index[slot] = (uint8_t)nearest_entry(palette, n, p);
	}
	return m->index[slot];
}

/* Fills the palette: gray levels (through the colour map), then colors,
 * then the overlay colour.  Returns the number of entries before the
 * overlay. */
static unsigned fill_palette(const struct render_image *img, const uint8_t *levels,
	unsigned nlevels, const uint8_t (*colors)[3], unsigned ncolors,
	uint8_t (*palette)[3])
{
	unsigned k;

	for (k = 0; k < nlevels; k++) {
		const uint8_t *rgb = img->colormap ? img->colormap[levels[k]] : NULL;

		palette[k][0] = rgb ? rgb[0] : levels[k];
		palette[k][1] = rgb ? rgb[1] : levels[k];
		palette[k][2] = rgb ? rgb[2] : levels[k];
	}
	memcpy(palette[nlevels], colors, 3 * (size_t)ncolors);
	memcpy(palette[nlevels + ncolors], img->overlay_rgb, 3);
	return nlevels + ncolors;
}

int render_sixel_mixed(const struct frame *f, const struct render_image *img, unsigned nlevels,
	uint8_t *gray, uint8_t *index, struct sbuf *out)
{
	uint8_t colors[RENDER_MIXED_COLORS_MAX][3], levels[SIXELENC_LEVELS_MAX], lut[256];
	uint8_t palette[SIXELENC_LEVELS_MAX + RENDER_MIXED_COLORS_MAX + 1][3];
	struct memo memo;
	size_t i, n = (size_t)img->w * img->h;
	unsigned ncolors, count, used;
	int rc;

	rc = source_colors(f, colors, &ncolors);
	if (rc != 0)
		return rc;
	memset(memo.key, 0, sizeof(memo.key));
	for (i = 0; i < n; i++) {
		const uint8_t *p = img->pixels + 3 * i;

		gray[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
	}
	sixelenc_gray_levels(gray, n, nlevels, levels, &count, lut);
	sixelenc_map_gray(gray, img->w, img->h, levels, lut, SIXELENC_TOLERANCE_DEFAULT, index);
	used = fill_palette(img, levels, count, (const uint8_t (*)[3])colors, ncolors, palette);

	for (i = 0; i < n; i++) {
		const uint8_t *p = img->pixels + 3 * i;

		if (img->mask && img->mask[i])
			index[i] = (uint8_t)used;
		else if (!is_gray(p))
			index[i] = (uint8_t)memo_lookup(&memo, (const uint8_t (*)[3])palette, used, p);
	}
	return sixelenc_encode_indexed(index, img->w, img->h, (const uint8_t (*)[3])palette,
		used + (img->mask ? 1 : 0), out);
}
