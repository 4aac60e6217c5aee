/* Sixel output for gray frames with some colour, such as a B-mode image
 * with coloured annotations or a small power Doppler region.  The palette
 * is the gray encoder's histogram levels plus the frame's colours, reduced
 * to RENDER_MIXED_COLORS_MAX by median cut when there are more, which is
 * faster than libsixel's quantiser.  Frames where many colours cover much
 * of the image (colour Doppler) stay with libsixel.
 *
 * The frame is split at its own resolution into luminance and a map of
 * its colour pixels.  The caller scales the luminance like a gray frame
 * and the colour map by nearest neighbour, so enlarging costs one channel,
 * not three, and colours keep sharp edges. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "station/render_priv.h"
#include "station/sixel.h"

/* Slots of the colour hash table: a power of two, at least four times
 * RENDER_MIXED_DISTINCT_MAX so probes stay short. */
#define HASH_SLOTS 1024

/* The distinct non-gray colours of a frame, with pixel counts.  Colour id
 * k + 1 is rgb[k]. */
struct distinct {
	uint8_t rgb[RENDER_MIXED_DISTINCT_MAX][3];
	size_t count[RENDER_MIXED_DISTINCT_MAX];
	unsigned n;
	uint32_t key[HASH_SLOTS];
	uint8_t id[HASH_SLOTS]; /* 0 = empty slot */
};

/* Returns the id of colour p (key is its 24-bit value), adding it when
 * new.  Returns 0 when it is new and the table is full. */
static unsigned distinct_id(struct distinct *d, uint32_t key, const uint8_t *p)
{
	unsigned h = (key * 2654435761u) >> 22;

	while (d->id[h] && d->key[h] != key)
		h = (h + 1) & (HASH_SLOTS - 1);
	if (d->id[h])
		return d->id[h];
	if (d->n == RENDER_MIXED_DISTINCT_MAX)
		return 0;
	memcpy(d->rgb[d->n], p, 3);
	d->count[d->n] = 0;
	d->key[h] = key;
	d->id[h] = (uint8_t)++d->n;
	return d->n;
}

/* Median cut: a box is a range of the colour ids in order[]. */
struct box {
	unsigned start, end;
};

static unsigned box_widest_channel(const struct distinct *d, const uint8_t *order,
	const struct box *b, unsigned *range)
{
	unsigned c, i, best = 0;

	*range = 0;
	for (c = 0; c < 3; c++) {
		unsigned lo = 255, hi = 0;

		for (i = b->start; i < b->end; i++) {
			unsigned v = d->rgb[order[i]][c];

			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		if (hi - lo > *range || c == 0) {
			*range = hi - lo;
			best = c;
		}
	}
	return best;
}

/* Splits box b at the pixel-weighted median of its widest channel into b
 * and *upper.  Returns 0 when b contains one colour. */
static int box_split(const struct distinct *d, uint8_t *order, struct box *b, struct box *upper)
{
	unsigned range, c = box_widest_channel(d, order, b, &range), i, j;
	size_t total = 0, seen = 0;

	if (b->end - b->start < 2)
		return 0;
	for (i = b->start + 1; i < b->end; i++) {
		uint8_t id = order[i];

		for (j = i; j > b->start && d->rgb[order[j - 1]][c] > d->rgb[id][c]; j--)
			order[j] = order[j - 1];
		order[j] = id;
	}
	for (i = b->start; i < b->end; i++)
		total += d->count[order[i]];
	for (i = b->start; i + 1 < b->end && 2 * (seen + d->count[order[i]]) <= total; i++)
		seen += d->count[order[i]];
	if (i == b->start)
		i++;
	upper->start = i;
	upper->end = b->end;
	b->end = i;
	return 1;
}

/* Picks the box to split next: the largest pixel count times widest
 * channel range.  Returns the box count when none contains two colours. */
static unsigned box_pick(const struct distinct *d, const uint8_t *order, const struct box *boxes,
	unsigned nboxes)
{
	unsigned k, i, best = nboxes;
	double best_score = 0;

	for (k = 0; k < nboxes; k++) {
		size_t total = 0;
		unsigned range;
		double score;

		if (boxes[k].end - boxes[k].start < 2)
			continue;
		box_widest_channel(d, order, &boxes[k], &range);
		for (i = boxes[k].start; i < boxes[k].end; i++)
			total += d->count[order[i]];
		score = (double)total * (range + 1);
		if (best == nboxes || score > best_score) {
			best = k;
			best_score = score;
		}
	}
	return best;
}

/* Reduces the distinct colours to at most RENDER_MIXED_COLORS_MAX palette
 * entries, each the pixel-weighted mean of a median-cut box, and fills
 * colors->slot.  With few enough colours each keeps its own entry. */
static void reduce_colors(const struct distinct *d, struct render_mixed_colors *colors)
{
	struct box boxes[RENDER_MIXED_COLORS_MAX];
	uint8_t order[RENDER_MIXED_DISTINCT_MAX];
	unsigned nboxes = 1, k, i, c;

	for (i = 0; i < d->n; i++)
		order[i] = (uint8_t)i;
	boxes[0].start = 0;
	boxes[0].end = d->n;
	while (nboxes < RENDER_MIXED_COLORS_MAX) {
		k = box_pick(d, order, boxes, nboxes);
		if (k == nboxes || !box_split(d, order, &boxes[k], &boxes[nboxes]))
			break;
		nboxes++;
	}

	colors->count = d->n ? nboxes : 0;
	colors->slot[0] = 0;
	for (k = 0; k < colors->count; k++) {
		double sum[3] = { 0 }, total = 0;

		for (i = boxes[k].start; i < boxes[k].end; i++) {
			uint8_t id = order[i];

			for (c = 0; c < 3; c++)
				sum[c] += (double)d->rgb[id][c] * d->count[id];
			total += d->count[id];
			colors->slot[id + 1] = (uint8_t)k;
		}
		for (c = 0; c < 3; c++)
			colors->rgb[k][c] = (uint8_t)(total > 0 ? sum[c] / total + 0.5 : 0);
	}
}

int render_mixed_split(const struct frame *f, struct render_mixed_colors *colors,
	uint8_t *gray, uint8_t *color_id)
{
	size_t i, n = (size_t)f->width * f->height, colored = 0;
	uint32_t last = UINT32_MAX;
	unsigned id = 0;
	struct distinct *d = calloc(1, sizeof(*d));

	if (!d)
		return SONO_ENOMEM;
	for (i = 0; i < n; i++) {
		const uint8_t *p = f->pixels + 3 * i;
		uint32_t key = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;

		/* A gray pixel is its own luminance: the weights sum to 256. */
		if (((key ^ key >> 8) & 0xffff) == 0) {
			gray[i] = p[0];
			color_id[i] = 0;
			continue;
		}
		gray[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
		if (key != last) {
			id = distinct_id(d, key, p);
			if (id == 0)
				break;
			last = key;
		}
		d->count[id - 1]++;
		color_id[i] = (uint8_t)id;
		colored++;
	}

	/* Colour Doppler that fills much of the frame needs more colours
	 * than the mixed palette has room for, so it stays with libsixel.  Few
	 * colours keep their own entries however many pixels they cover. */
	if (i < n || (d->n > RENDER_MIXED_COLORS_MAX &&
		colored * 100 > n * RENDER_MIXED_SHARE_MAX_PERCENT)) {
		free(d);
		return SONO_EUNSUPPORTED;
	}
	reduce_colors(d, colors);
	free(d);
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
	memcpy(palette[nlevels], m->colors->rgb, 3 * (size_t)m->colors->count);
	memcpy(palette[nlevels + m->colors->count], m->overlay_rgb, 3);
	return nlevels + m->colors->count;
}

/* Paints colour and overlay entries over a band of mapped gray levels.  A
 * colour pixel takes the entry of the colour pixel above it, or of its
 * column's top pixel in the band, when that entry is close to its own
 * (near[k] is the set of entries close to entry k), as the gray mapping does. */
struct mixed_patch {
	const struct render_mixed *m;
	unsigned first_color, overlay; /* palette entries */
	uint32_t near[RENDER_MIXED_COLORS_MAX];
};

/* Largest sum of channel differences between two colour entries that a
 * colour pixel may swap.  On the GE US1_UNCR.dcm frame at 640x480, 32
 * takes the sixel from 107 to 100 KB for 0.3 dB of RGB PSNR
 * (bench/render.sh). */
#define COLOR_TOLERANCE_SUM 32

static void fill_near(struct mixed_patch *p)
{
	const struct render_mixed_colors *c = p->m->colors;
	unsigned j, k, ch;

	for (k = 0; k < c->count; k++) {
		p->near[k] = 0;
		for (j = 0; j < c->count; j++) {
			unsigned sum = 0;

			for (ch = 0; ch < 3; ch++)
				sum += (unsigned)abs((int)c->rgb[j][ch] - c->rgb[k][ch]);
			if (sum <= COLOR_TOLERANCE_SUM)
				p->near[k] |= UINT32_C(1) << j;
		}
	}
}

/* Returns the colour entry (0 to count - 1) of palette index v, or -1. */
static int color_entry(const struct mixed_patch *p, unsigned v)
{
	return v >= p->first_color && v < p->overlay ? (int)(v - p->first_color) : -1;
}

/* Paints the colour pixel at column x of band row r (image row y + r). */
static void paint_color(const struct mixed_patch *p, uint8_t *index, unsigned y, unsigned r,
	unsigned x)
{
	const struct render_mixed *m = p->m;
	size_t i = (size_t)(y + r) * m->w + x;
	unsigned k = m->colors->slot[m->color_id[i]];
	int up = r ? color_entry(p, index[i - m->w]) : -1;
	int top = r ? color_entry(p, index[(size_t)y * m->w + x]) : -1;

	if (up >= 0 && (p->near[k] >> up & 1))
		k = (unsigned)up;
	else if (top >= 0 && (p->near[k] >> top & 1))
		k = (unsigned)top;
	index[i] = (uint8_t)(p->first_color + k);
}

static void patch_mixed(void *ctx, uint8_t *index, unsigned y, unsigned rows)
{
	const struct mixed_patch *p = ctx;
	const struct render_mixed *m = p->m;
	unsigned w = m->w, r, x;
	size_t i, end = (size_t)(y + rows) * w;

	for (r = 0; r < rows; r++) {
		const uint8_t *ids = m->color_id + (size_t)(y + r) * w;

		/* Most pixels are gray, so skip eight colour ids of 0 at once. */
		for (x = 0; x < w; x++) {
			uint64_t word;

			if (x + 8 <= w) {
				memcpy(&word, ids + x, 8);
				if (!word) {
					x += 7;
					continue;
				}
			}
			if (ids[x])
				paint_color(p, index, y, r, x);
		}
	}
	for (i = (size_t)y * w; m->mask && i < end; i++) {
		if (m->mask[i])
			index[i] = (uint8_t)p->overlay;
	}
}

int render_mixed_encode(const struct render_mixed *m, uint8_t *index,
	struct sixelenc_gray_map *map, struct sbuf *out)
{
	uint8_t levels[SIXELENC_LEVELS_MAX], lut[256];
	uint8_t palette[SIXELENC_LEVELS_MAX + RENDER_MIXED_COLORS_MAX + 1][3];
	size_t n = (size_t)m->w * m->h;
	struct mixed_patch patch = { m, 0, 0, { 0 } };
	unsigned count;

	sixelenc_gray_levels(m->gray, n, m->nlevels, levels, &count, lut);
	patch.first_color = count;
	patch.overlay = fill_palette(m, levels, count, palette);
	fill_near(&patch);
	sixelenc_gray_map_init(map, m->gray, m->w, m->h, levels, lut, SIXELENC_TOLERANCE_DEFAULT,
		index);
	map->patch = patch_mixed;
	map->patch_ctx = &patch;
	return sixelenc_encode_source(index, m->w, m->h, (const uint8_t (*)[3])palette,
		patch.overlay + (m->mask ? 1 : 0), &map->source, out);
}
