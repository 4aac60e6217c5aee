/* Sixel encoders: histogram-levelled gray frames and libsixel colour frames.
 *
 * A sixel image is sent in bands six pixel rows high.  "#n" selects palette
 * entry n, and each following character paints, in one column, the rows of
 * the band whose bits it sets.  "!count c" repeats character c.  "$" returns
 * to the start of the band and "-" moves to the next band. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libsixel 1.10's sixel.h defines PACKAGE_VERSION unconditionally; this
 * file does not use ours. */
#undef PACKAGE_VERSION
#include <sixel.h>

#include "sono/error.h"
#include "station/sixel.h"

/* Sixel palette entries are whole percents.  percent_to_channel rounds as
 * libsixel 1.10's decoder does (25% decodes to 64, 50% to 128). */
static unsigned channel_to_percent(unsigned v)
{
	return (v * 100 + 127) / 255;
}

static unsigned percent_to_channel(unsigned p)
{
	return (p * 255 + 50) / 100;
}

static void histogram(const uint8_t *gray, size_t n, size_t hist[256])
{
	size_t i;

	memset(hist, 0, 256 * sizeof(hist[0]));
	for (i = 0; i < n; i++)
		hist[gray[i]]++;
}

/* Places up to k levels at the quantiles (i + 0.5) / k of the histogram
 * with each count replaced by its square root.  Plain quantiles would spend
 * most levels on the black background around an ultrasound sector.  The
 * square root keeps a share of them on the sparse bright echoes. */
static unsigned levels_from_quantiles(const size_t hist[256], unsigned k, double *level)
{
	double weight[256], total = 0, seen = 0;
	unsigned v, i, count = 0;

	for (v = 0; v < 256; v++) {
		weight[v] = sqrt((double)hist[v]);
		total += weight[v];
	}
	for (i = 0, v = 0; i < k; i++) {
		double target = (i + 0.5) * total / k;

		while (v < 255 && seen + weight[v] <= target)
			seen += weight[v++];
		if (count == 0 || level[count - 1] < v)
			level[count++] = v;
	}
	return count;
}

/* Uses every distinct value as a level when there are at most k of them.
 * Returns their count, or 0 when there are more. */
static unsigned levels_from_values(const size_t hist[256], unsigned k, double *level)
{
	unsigned v, count = 0;

	for (v = 0; v < 256; v++) {
		if (!hist[v])
			continue;
		if (count == k)
			return 0;
		level[count++] = v;
	}
	return count;
}

/* Refines sorted levels with Lloyd iterations on the histogram, which
 * lowers the mean squared error of the nearest-level mapping. */
static void levels_refine(const size_t hist[256], double *level, unsigned count)
{
	unsigned iter, i, v;

	for (iter = 0; iter < 8; iter++) {
		double sum[SIXELENC_LEVELS_MAX] = { 0 }, weight[SIXELENC_LEVELS_MAX] = { 0 };

		for (v = 0, i = 0; v < 256; v++) {
			while (i + 1 < count && v > (level[i] + level[i + 1]) / 2)
				i++;
			sum[i] += (double)v * hist[v];
			weight[i] += hist[v];
		}
		for (i = 0; i < count; i++) {
			if (weight[i] > 0)
				level[i] = sum[i] / weight[i];
		}
	}
}

/* Snaps levels to values a palette entry carries exactly, drops
 * duplicates and returns how many remain. */
static unsigned levels_snap(const double *level, unsigned count, uint8_t *out)
{
	unsigned i, n = 0;

	for (i = 0; i < count; i++) {
		unsigned v = percent_to_channel(channel_to_percent((unsigned)(level[i] + 0.5)));

		if (n == 0 || out[n - 1] < v)
			out[n++] = (uint8_t)v;
	}
	return n;
}

static void levels_fill_lut(const uint8_t *levels, unsigned count, uint8_t lut[256])
{
	unsigned v, i = 0;

	for (v = 0; v < 256; v++) {
		while (i + 1 < count && 2 * v > (unsigned)levels[i] + levels[i + 1])
			i++;
		lut[v] = (uint8_t)i;
	}
}

void sixelenc_gray_levels(const uint8_t *gray, size_t n, unsigned nlevels,
	uint8_t levels[SIXELENC_LEVELS_MAX], unsigned *count, uint8_t lut[256])
{
	size_t hist[256];
	double level[SIXELENC_LEVELS_MAX];
	unsigned k;

	if (nlevels < SIXELENC_LEVELS_MIN)
		nlevels = SIXELENC_LEVELS_MIN;
	if (nlevels > SIXELENC_LEVELS_MAX)
		nlevels = SIXELENC_LEVELS_MAX;
	histogram(gray, n, hist);

	k = levels_from_values(hist, nlevels, level);
	if (k == 0) {
		k = levels_from_quantiles(hist, nlevels, level);
		levels_refine(hist, level, k);
	}
	if (k == 0) {
		level[0] = 0;
		k = 1;
	}
	*count = levels_snap(level, k, levels);
	levels_fill_lut(levels, *count, lut);
}

/* Columns of '?' a segment may span before it is split in two.  Splitting
 * costs a colour switch ("#n", 2 to 4 bytes) but lets other colours fill the
 * gap in the same pass. */
#define SEGMENT_GAP_MAX 1

/* A run of columns of one colour in the current band. */
struct segment {
	unsigned color;
	unsigned start, end; /* columns [start, end) */
	int next;            /* next segment starting at the same column, -1 at the end */
};

/* Scratch state of the band encoder.  bits contains one row of six-bit
 * patterns per palette entry, and head lists the segments by start column. */
struct band {
	uint8_t *bits;
	unsigned w, ncolors;
	struct segment *seg; /* at most 6 * w a band */
	unsigned nseg;
	size_t painted;      /* sum of segment lengths */
	int *head;
	int open[SIXELENC_COLORS_MAX]; /* each colour's latest segment, -1 none */
	uint64_t *present;   /* per column, nwords bit sets of the colours in it */
	unsigned nwords;     /* 64-bit words a colour set takes */
	unsigned base;       /* the band's most frequent colour, painted first */
	unsigned rows;       /* rows in the band: 6, fewer in a last partial band */
	unsigned count[4][SIXELENC_COLORS_MAX];
};

static int band_init(struct band *b, unsigned w, unsigned ncolors)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->ncolors = ncolors;
	b->bits = calloc(ncolors, w);
	b->seg = malloc((size_t)6 * w * sizeof(*b->seg));
	b->head = malloc((size_t)w * sizeof(*b->head));
	b->nwords = (ncolors + 63) / 64;
	b->present = malloc((size_t)w * b->nwords * sizeof(*b->present));
	return b->bits && b->seg && b->head && b->present ? 0 : SONO_ENOMEM;
}

static void band_free(struct band *b)
{
	free(b->bits);
	free(b->seg);
	free(b->head);
	free(b->present);
}

/* Extends colour c's latest segment to column x, or starts a new one. */
static void band_mark(struct band *b, unsigned c, unsigned x)
{
	int s = b->open[c];
	struct segment *g;

	if (s >= 0 && b->seg[s].end > x)
		return;
	if (s >= 0 && x - b->seg[s].end <= SEGMENT_GAP_MAX) {
		b->painted += x + 1 - b->seg[s].end;
		b->seg[s].end = x + 1;
		return;
	}
	g = &b->seg[b->nseg];
	g->color = c;
	g->start = x;
	g->end = x + 1;
	g->next = b->head[x];
	b->head[x] = (int)b->nseg;
	b->open[c] = (int)b->nseg++;
	b->painted++;
}

/* Sets the pattern bits and the colour sets of rows (at most six) of
 * palette indices, and counts each colour.  Four interleaved count tables
 * keep a run of one colour from waiting on its own previous increment.
 * Returns 0 or SONO_EINVAL for an index past the palette. */
static int band_scan(struct band *b, const uint8_t *index, unsigned rows)
{
	unsigned r, x, w = b->w, nwords = b->nwords;

	memset(b->count, 0, sizeof(b->count));
	memset(b->present, 0, (size_t)w * nwords * sizeof(*b->present));
	for (r = 0; r < rows; r++) {
		const uint8_t *row = index + (size_t)r * w;
		uint8_t bit = (uint8_t)(1u << r);

		for (x = 0; x < w; x++) {
			unsigned c = row[x];

			if (c >= b->ncolors)
				return SONO_EINVAL;
			b->bits[(size_t)c * w + x] |= bit;
			b->present[(size_t)x * nwords + (c >> 6)] |= UINT64_C(1) << (c & 63);
			b->count[x & 3][c]++;
		}
	}
	return 0;
}

/* Picks the most frequent colour as the band's base, which is painted over
 * the whole band first ("!w~"), so its pixels cost nothing afterwards. */
static void band_pick_base(struct band *b)
{
	unsigned c;

	b->base = 0;
	for (c = 0; c < b->ncolors; c++) {
		b->count[0][c] += b->count[1][c] + b->count[2][c] + b->count[3][c];
		if (b->count[0][c] > b->count[0][b->base])
			b->base = c;
	}
	memset(b->bits + (size_t)b->base * b->w, 0, b->w);
}

/* Collects the band's segments, one colour set per column at a time.
 * Returns 0 or SONO_EINVAL for an index past the palette. */
static int band_collect(struct band *b, const uint8_t *index, unsigned rows)
{
	unsigned x, k, w = b->w;
	int rc;

	b->nseg = 0;
	b->painted = 0;
	b->rows = rows;
	memset(b->open, 0xff, sizeof(b->open));
	memset(b->head, 0xff, (size_t)w * sizeof(*b->head));
	rc = band_scan(b, index, rows);
	if (rc != 0)
		return rc;
	band_pick_base(b);

	for (x = 0; x < w; x++) {
		for (k = 0; k < b->nwords; k++) {
			uint64_t set = b->present[(size_t)x * b->nwords + k];

			if (k == b->base >> 6)
				set &= ~(UINT64_C(1) << (b->base & 63));
			while (set) {
				band_mark(b, k * 64 + (unsigned)__builtin_ctzll(set), x);
				set &= set - 1;
			}
		}
	}
	return 0;
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

/* Writes count copies of sixel character ch, as "!count ch" when shorter. */
static uint8_t *put_run(uint8_t *p, uint8_t ch, unsigned count)
{
	if (count > 3) {
		*p++ = '!';
		p = put_uint(p, count);
		*p++ = ch;
	} else {
		memset(p, ch, count);
		p += count;
	}
	return p;
}

/* Writes the characters of a segment, run-length encoded, and clears them. */
static uint8_t *put_segment(uint8_t *p, uint8_t *row, unsigned start, unsigned end)
{
	unsigned x = start;

	while (x < end) {
		uint8_t bits = row[x];
		unsigned run = 1;

		while (x + run < end && row[x + run] == bits)
			run++;
		p = put_run(p, (uint8_t)('?' + bits), run);
		x += run;
	}
	memset(row + start, 0, end - start);
	return p;
}

/* Writes one pass over the band: from left to right, the first unwritten
 * segment starting at or after the current column, with '?' filling the
 * gaps.  Returns the new write position and the segments written. */
static uint8_t *band_pass(struct band *b, uint8_t *p, unsigned *written)
{
	unsigned col = 0, x = 0, color = UINT_MAX;

	while (col < b->w) {
		int s = b->head[col];
		struct segment *g;

		if (s < 0) {
			col++;
			continue;
		}
		g = &b->seg[s];
		b->head[col] = g->next;
		p = put_run(p, '?', col - x);
		if (g->color != color) {
			*p++ = '#';
			p = put_uint(p, g->color);
			color = g->color;
		}
		p = put_segment(p, b->bits + (size_t)g->color * b->w, g->start, g->end);
		x = col = g->end;
		(*written)++;
	}
	return p;
}

/* Writes the band's passes, separated by '$', and '-' unless last. */
static int band_emit(struct band *b, int last_band, struct sbuf *out)
{
	/* Each segment costs at most its length, a colour switch and a gap
	 * fill of up to 12 bytes each; each pass one separator. */
	size_t bound = b->painted + 24 * (size_t)b->nseg + 32;
	uint8_t *start = sbuf_reserve(out, bound), *p = start;
	unsigned written = 0;

	if (!start)
		return out->len + bound > out->max ? SONO_ETOOBIG : SONO_ENOMEM;
	*p++ = '#';
	p = put_uint(p, b->base);
	p = put_run(p, (uint8_t)('?' + (1u << b->rows) - 1), b->w);
	if (b->nseg)
		*p++ = '$';
	while (written < b->nseg) {
		p = band_pass(b, p, &written);
		if (written < b->nseg)
			*p++ = '$';
	}
	if (!last_band)
		*p++ = '-';
	sbuf_commit(out, (size_t)(p - start));
	return 0;
}

static int emit_header(const uint8_t (*palette)[3], unsigned ncolors, unsigned w, unsigned h,
	struct sbuf *out)
{
	unsigned i;
	int rc;

	rc = sbuf_printf(out, "\033P0;1;0q\"1;1;%u;%u", w, h);
	for (i = 0; rc == 0 && i < ncolors; i++)
		rc = sbuf_printf(out, "#%u;2;%u;%u;%u", i, channel_to_percent(palette[i][0]),
			channel_to_percent(palette[i][1]), channel_to_percent(palette[i][2]));
	return rc;
}

int sixelenc_encode_source(const uint8_t *index, unsigned w, unsigned h,
	const uint8_t (*palette)[3], unsigned ncolors, struct sixelenc_source *source,
	struct sbuf *out)
{
	struct band b;
	size_t start;
	unsigned y;
	int rc;

	if (!index || !palette || !out || !w || !h || w > SIXELENC_DIM_MAX ||
	    h > SIXELENC_DIM_MAX || ncolors < 1 || ncolors > SIXELENC_COLORS_MAX)
		return SONO_EINVAL;
	rc = band_init(&b, w, ncolors);
	if (rc != 0)
		goto out;

	start = out->len;
	rc = emit_header(palette, ncolors, w, h, out);
	for (y = 0; rc == 0 && y < h; y += 6) {
		unsigned rows = h - y < 6 ? h - y : 6;

		if (source)
			source->fill_band(source, y, rows, out->len - start);
		rc = band_collect(&b, index + (size_t)y * w, rows);
		if (rc == 0)
			rc = band_emit(&b, y + 6 >= h, out);
	}
	if (rc == 0)
		rc = sbuf_append(out, "\033\\", 2);

out:
	band_free(&b);
	return rc;
}

int sixelenc_encode_indexed(const uint8_t *index, unsigned w, unsigned h,
	const uint8_t (*palette)[3], unsigned ncolors, struct sbuf *out)
{
	return sixelenc_encode_source(index, w, h, palette, ncolors, NULL, out);
}

int sixelenc_encode_gray(const uint8_t *gray, unsigned w, unsigned h, unsigned nlevels,
	unsigned tolerance, const uint8_t (*colormap)[3], struct sbuf *out)
{
	uint8_t levels[SIXELENC_LEVELS_MAX], lut[256], palette[SIXELENC_LEVELS_MAX][3];
	struct sixelenc_gray_map *map;
	uint8_t *index;
	size_t n;
	unsigned count, k;
	int rc;

	if (!gray || !w || !h || w > SIXELENC_DIM_MAX || h > SIXELENC_DIM_MAX)
		return SONO_EINVAL;
	n = (size_t)w * h;
	index = malloc(n);
	map = malloc(sizeof(*map));
	if (!index || !map) {
		free(index);
		free(map);
		return SONO_ENOMEM;
	}

	sixelenc_gray_levels(gray, n, nlevels, levels, &count, lut);
	for (k = 0; k < count; k++) {
		const uint8_t *rgb = colormap ? colormap[levels[k]] : NULL;

		palette[k][0] = rgb ? rgb[0] : levels[k];
		palette[k][1] = rgb ? rgb[1] : levels[k];
		palette[k][2] = rgb ? rgb[2] : levels[k];
	}
	sixelenc_gray_map_init(map, gray, w, h, levels, lut, tolerance, index);

	rc = sixelenc_encode_source(index, w, h, (const uint8_t (*)[3])palette, count,
		&map->source, out);
	free(map);
	free(index);
	return rc;
}

struct sixel_sink {
	struct sbuf *out;
	int rc;
};

static int sixel_sink_write(char *data, int size, void *priv)
{
	struct sixel_sink *sink = priv;

	if (sink->rc == 0 && size > 0)
		sink->rc = sbuf_append(sink->out, data, (size_t)size);
	return size;
}

int sixelenc_encode_rgb(const uint8_t *rgb, unsigned w, unsigned h, unsigned ncolors,
	struct sbuf *out)
{
	struct sixel_sink sink = { out, 0 };
	sixel_dither_t *dither = NULL;
	sixel_output_t *output = NULL;
	unsigned char *copy = NULL;
	size_t n;
	int rc = SONO_EIO;

	if (!rgb || !w || !h || w > SIXELENC_DIM_MAX || h > SIXELENC_DIM_MAX ||
	    ncolors < 2 || ncolors > SIXELENC_COLORS_MAX)
		return SONO_EINVAL;

	/* sixel_dither_initialize and sixel_encode take non-const pixels. */
	n = (size_t)w * h * 3;
	copy = malloc(n);
	if (!copy)
		return SONO_ENOMEM;
	memcpy(copy, rgb, n);

	if (SIXEL_FAILED(sixel_dither_new(&dither, (int)ncolors, NULL)))
		goto out;
	if (SIXEL_FAILED(sixel_dither_initialize(dither, copy, (int)w, (int)h,
		    SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO, SIXEL_REP_AUTO, SIXEL_QUALITY_AUTO)))
		goto out;
	sixel_dither_set_diffusion_type(dither, SIXEL_DIFFUSE_NONE);
	if (SIXEL_FAILED(sixel_output_new(&output, sixel_sink_write, &sink, NULL)))
		goto out;
	if (SIXEL_FAILED(sixel_encode(copy, (int)w, (int)h, 3, dither, output)))
		goto out;
	rc = sink.rc;

out:
	if (output)
		sixel_output_unref(output);
	if (dither)
		sixel_dither_unref(dither);
	free(copy);
	return rc;
}
