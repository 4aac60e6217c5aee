/* Sixel encoders: histogram-levelled gray frames and libsixel colour frames.
 *
 * A sixel image is sent in bands six pixel rows high.  For each palette
 * entry used in a band the encoder writes "#n" and one character per column
 * whose six bits mark the rows painted in that colour, runs of a repeated
 * character as "!count c", then "$" to go back to the band's start; "-"
 * moves to the next band. */
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

/* Sixel palette entries are whole percents; these convert a channel as
 * libsixel's decoder and xterm do. */
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
 * most levels on the black background around an ultrasound sector; the
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

/* Scratch state of the band encoder: one row of sixel characters per
 * palette entry, and the entries that occur in the current band. */
struct band {
	uint8_t *bits;   /* ncolors rows of w six-bit patterns */
	unsigned w;
	uint8_t seen[SIXELENC_COLORS_MAX];
	uint16_t used[SIXELENC_COLORS_MAX];
	unsigned nused;
};

static void band_collect(struct band *b, const uint8_t *index, unsigned rows)
{
	unsigned r, x;

	b->nused = 0;
	for (r = 0; r < rows; r++) {
		const uint8_t *row = index + (size_t)r * b->w;
		uint8_t bit = (uint8_t)(1u << r);

		for (x = 0; x < b->w; x++) {
			uint8_t c = row[x];

			b->bits[(size_t)c * b->w + x] |= bit;
			if (!b->seen[c]) {
				b->seen[c] = 1;
				b->used[b->nused++] = c;
			}
		}
	}
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

/* Writes "#c", the run-length encoded characters of row up to its last
 * painted column, and end ('$' or '-').  Clears the row.  Returns the
 * bytes written; the caller reserved w + 16. */
static size_t band_emit_row(uint8_t *out, uint8_t *row, unsigned w, unsigned color, uint8_t end)
{
	uint8_t *p = out;
	unsigned x = 0, last = w;

	while (last > 0 && row[last - 1] == 0)
		last--;
	*p++ = '#';
	p = put_uint(p, color);
	while (x < last) {
		uint8_t ch = row[x];
		unsigned run = 1;

		while (x + run < last && row[x + run] == ch)
			run++;
		if (run > 3) {
			*p++ = '!';
			p = put_uint(p, run);
			*p++ = (uint8_t)('?' + ch);
		} else {
			memset(p, '?' + ch, run);
			p += run;
		}
		x += run;
	}
	*p++ = end;
	memset(row, 0, last);
	return (size_t)(p - out);
}

static int band_emit(struct band *b, int last_band, struct sbuf *out)
{
	unsigned i;

	for (i = 0; i < b->nused; i++) {
		unsigned c = b->used[i];
		uint8_t end = i + 1 < b->nused ? '$' : '-';
		uint8_t *p = sbuf_reserve(out, (size_t)b->w + 16);

		if (!p)
			return out->len + b->w + 16 > out->max ? SONO_ETOOBIG : SONO_ENOMEM;
		if (last_band && end == '-')
			end = '$';
		sbuf_commit(out, band_emit_row(p, b->bits + (size_t)c * b->w, b->w, c, end));
		b->seen[c] = 0;
	}
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

int sixelenc_encode_indexed(const uint8_t *index, unsigned w, unsigned h,
	const uint8_t (*palette)[3], unsigned ncolors, struct sbuf *out)
{
	struct band b = { 0 };
	unsigned y;
	int rc;

	if (!index || !palette || !w || !h || w > SIXELENC_DIM_MAX || h > SIXELENC_DIM_MAX ||
	    ncolors < 1 || ncolors > SIXELENC_COLORS_MAX)
		return SONO_EINVAL;
	b.w = w;
	b.bits = calloc(ncolors, w);
	if (!b.bits)
		return SONO_ENOMEM;

	rc = emit_header(palette, ncolors, w, h, out);
	for (y = 0; rc == 0 && y < h; y += 6) {
		unsigned rows = h - y < 6 ? h - y : 6;
		unsigned i;

		for (i = 0; i < rows * w; i++) {
			if (index[(size_t)y * w + i] >= ncolors) {
				rc = SONO_EINVAL;
				goto out;
			}
		}
		band_collect(&b, index + (size_t)y * w, rows);
		rc = band_emit(&b, y + 6 >= h, out);
	}
	if (rc == 0)
		rc = sbuf_append(out, "\033\\", 2);

out:
	free(b.bits);
	return rc;
}

int sixelenc_encode_gray(const uint8_t *gray, unsigned w, unsigned h, unsigned nlevels,
	const uint8_t (*colormap)[3], struct sbuf *out)
{
	uint8_t levels[SIXELENC_LEVELS_MAX], lut[256], palette[SIXELENC_LEVELS_MAX][3];
	uint8_t *index = NULL;
	size_t i, n;
	unsigned count, k;
	int rc;

	if (!gray || !w || !h || w > SIXELENC_DIM_MAX || h > SIXELENC_DIM_MAX)
		return SONO_EINVAL;
	n = (size_t)w * h;
	index = malloc(n);
	if (!index)
		return SONO_ENOMEM;

	sixelenc_gray_levels(gray, n, nlevels, levels, &count, lut);
	for (k = 0; k < count; k++) {
		const uint8_t *rgb = colormap ? colormap[levels[k]] : NULL;

		palette[k][0] = rgb ? rgb[0] : levels[k];
		palette[k][1] = rgb ? rgb[1] : levels[k];
		palette[k][2] = rgb ? rgb[2] : levels[k];
	}
	for (i = 0; i < n; i++)
		index[i] = lut[gray[i]];

	rc = sixelenc_encode_indexed(index, w, h, (const uint8_t (*)[3])palette, count, out);
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
