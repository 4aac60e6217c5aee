/* Sixel output for gray frames with a few colours, such as a B-mode image
 * with coloured annotations.  The palette is the gray encoder's histogram
 * levels plus the frame's own colours, which is faster than libsixel's
 * quantiser.  Frames with more colours (colour Doppler) stay with libsixel.
 *
 * The frame is split at its own resolution into luminance and a map of
 * its colour pixels.  The caller scales the luminance like a gray frame
 * and the colour map by nearest neighbour, so enlarging costs one channel,
 * not three, and colours keep sharp edges. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "sono/error.h"
#include "station/render_priv.h"
#include "station/sixel.h"

static int is_gray(const uint8_t *p)
{
	return p[0] == p[1] && p[1] == p[2];
}

/* Returns the index of colour p in colors, adding it when new.  Returns
 * -1 when it is new and colors is full. */
static int color_slot(uint8_t (*colors)[3], unsigned *ncolors, const uint8_t *p)
{
	unsigned k;

	for (k = 0; k < *ncolors; k++) {
		if (!memcmp(colors[k], p, 3))
			return (int)k;
	}
	if (*ncolors == RENDER_MIXED_COLORS_MAX)
		return -1;
	memcpy(colors[*ncolors], p, 3);
	return (int)(*ncolors)++;
}

int render_mixed_split(const struct frame *f, uint8_t (*colors)[3], unsigned *ncolors,
	uint8_t *gray, uint8_t *color_index)
{
	size_t i, n = (size_t)f->width * f->height;
	uint32_t last = UINT32_MAX;
	int slot = 0;

	*ncolors = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *p = f->pixels + 3 * i;
		uint32_t key = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

		gray[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
		if (is_gray(p)) {
			color_index[i] = 0;
			continue;
		}
		if (key != last) {
			slot = color_slot(colors, ncolors, p);
			if (slot < 0)
				return SONO_EUNSUPPORTED;
			last = key;
		}
		color_index[i] = (uint8_t)(slot + 1);
	}
	return 0;
}

/* Fills the palette: gray levels (through the colour map), then the
 * frame's colours, then the overlay colour.  Returns the number of entries
 * before the overlay. */
static unsigned fill_palette(const struct render_mixed *m, const uint8_t *levels,
	unsigned nlevels, uint8_t (*palette)[3])
{
	unsigned k;

	for (k = 0; k < nlevels; k++) {
		const uint8_t *rgb = m->colormap ? m->colormap[levels[k]] : NULL;

		palette[k][0] = rgb ? rgb[0] : levels[k];
		palette[k][1] = rgb ? rgb[1] : levels[k];
		palette[k][2] = rgb ? rgb[2] : levels[k];
	}
	memcpy(palette[nlevels], m->colors, 3 * (size_t)m->ncolors);
	memcpy(palette[nlevels + m->ncolors], m->overlay_rgb, 3);
	return nlevels + m->ncolors;
}

int render_mixed_encode(const struct render_mixed *m, uint8_t *index, struct sbuf *out)
{
	uint8_t levels[SIXELENC_LEVELS_MAX], lut[256];
	uint8_t palette[SIXELENC_LEVELS_MAX + RENDER_MIXED_COLORS_MAX + 1][3];
	size_t i, n = (size_t)m->w * m->h;
	unsigned count, used;

	sixelenc_gray_levels(m->gray, n, m->nlevels, levels, &count, lut);
	sixelenc_map_gray(m->gray, m->w, m->h, levels, lut, SIXELENC_TOLERANCE_DEFAULT, index);
	used = fill_palette(m, levels, count, palette);

	for (i = 0; i < n; i++) {
		if (m->mask && m->mask[i])
			index[i] = (uint8_t)used;
		else if (m->color_index[i])
			index[i] = (uint8_t)(count + m->color_index[i] - 1);
	}
	return sixelenc_encode_indexed(index, m->w, m->h, (const uint8_t (*)[3])palette,
		used + (m->mask ? 1 : 0), out);
}
