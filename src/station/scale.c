/* Separable image scaling: area averaging to shrink, bilinear to enlarge.
 *
 * Each axis gets a table of taps (first source index, count, 12-bit
 * weights summing to 4096).  The horizontal pass writes 16-bit values with
 * 8 fraction bits, and the vertical pass rounds them back to 8 bits. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sono/error.h"
#include "station/scale.h"

#define WEIGHT_BITS 12
#define WEIGHT_ONE (1u << WEIGHT_BITS)

struct taps {
	unsigned *first;   /* first source index of each destination index */
	unsigned *count;   /* taps of each destination index */
	unsigned *start;   /* offset of its weights in weight */
	uint16_t *weight;
	int two_taps;      /* every index has exactly two taps (bilinear) */
};

static void taps_free(struct taps *t)
{
	free(t->first);
	free(t->count);
	free(t->start);
	free(t->weight);
	memset(t, 0, sizeof(*t));
}

/* Makes the weights of one destination index sum to exactly WEIGHT_ONE by
 * giving the rounding remainder to its largest tap. */
static void taps_normalise(uint16_t *w, unsigned n)
{
	unsigned i, sum = 0, big = 0;

	for (i = 0; i < n; i++) {
		sum += w[i];
		if (w[i] > w[big])
			big = i;
	}
	w[big] = (uint16_t)(w[big] + WEIGHT_ONE - sum);
}

/* Area taps: destination index i covers source [i*s/d, (i+1)*s/d). */
static void taps_fill_area(struct taps *t, unsigned s, unsigned d)
{
	double ratio = (double)s / d;
	unsigned i, k, used = 0;

	for (i = 0; i < d; i++) {
		double lo = i * ratio, hi = (i + 1) * ratio;
		unsigned first = (unsigned)lo, last = (unsigned)ceil(hi);

		if (last > s)
			last = s;
		if (last <= first)
			last = first + 1;
		t->first[i] = first;
		t->count[i] = last - first;
		t->start[i] = used;
		for (k = first; k < last; k++) {
			double a = k < lo ? lo : k, b = k + 1 > hi ? hi : k + 1;

			t->weight[used++] = (uint16_t)lround((b - a) / ratio * WEIGHT_ONE);
		}
		taps_normalise(t->weight + t->start[i], t->count[i]);
	}
}

/* Bilinear taps with pixel centres aligned: source x = (i + 0.5) * s / d - 0.5. */
static void taps_fill_bilinear(struct taps *t, unsigned s, unsigned d)
{
	double ratio = (double)s / d;
	unsigned i;

	for (i = 0; i < d; i++) {
		double x = (i + 0.5) * ratio - 0.5;
		double f;
		unsigned x0;

		if (x < 0)
			x = 0;
		x0 = (unsigned)x;
		if (s >= 2 && x0 >= s - 1) {
			/* Past the last centre: all weight on the last pixel, read as
			 * the second tap so that every index has two. */
			x0 = s - 2;
			x = s - 1;
		} else if (x0 >= s - 1) {
			x0 = s - 1;
			x = x0;
		}
		f = x - x0;
		t->first[i] = x0;
		t->start[i] = 2 * i;
		t->count[i] = x0 + 1 < s ? 2 : 1;
		t->weight[2 * i] = (uint16_t)lround((1.0 - f) * WEIGHT_ONE);
		t->weight[2 * i + 1] = (uint16_t)(WEIGHT_ONE - t->weight[2 * i]);
		if (t->count[i] == 1)
			t->weight[2 * i] = WEIGHT_ONE;
	}
}

static int taps_build(struct taps *t, unsigned s, unsigned d)
{
	size_t nweights = d <= s ? (size_t)s + d : (size_t)2 * d;

	t->first = calloc(d, sizeof(*t->first));
	t->count = calloc(d, sizeof(*t->count));
	t->start = calloc(d, sizeof(*t->start));
	t->weight = calloc(nweights, sizeof(*t->weight));
	if (!t->first || !t->count || !t->start || !t->weight) {
		taps_free(t);
		return SONO_ENOMEM;
	}
	if (d <= s)
		taps_fill_area(t, s, d);
	else
		taps_fill_bilinear(t, s, d);
	t->two_taps = d > s && s >= 2;
	return 0;
}

/* Horizontal bilinear pass of one row: two taps for every index. */
static void scale_row_two_taps(const uint8_t *row, unsigned comp, const struct taps *tx,
	uint16_t *out, unsigned dw)
{
	const uint32_t round = 1u << (WEIGHT_BITS - 9);
	unsigned x, c;

	if (comp == 1) {
		for (x = 0; x < dw; x++) {
			const uint8_t *p = row + tx->first[x];
			uint32_t w0 = tx->weight[2 * x], w1 = tx->weight[2 * x + 1];

			out[x] = (uint16_t)((w0 * p[0] + w1 * p[1] + round) >> (WEIGHT_BITS - 8));
		}
		return;
	}
	for (x = 0; x < dw; x++) {
		const uint8_t *p = row + (size_t)tx->first[x] * comp;
		uint32_t w0 = tx->weight[2 * x], w1 = tx->weight[2 * x + 1];

		for (c = 0; c < comp; c++)
			out[x * comp + c] = (uint16_t)((w0 * p[c] + w1 * p[comp + c] + round) >>
				(WEIGHT_BITS - 8));
	}
}

/* Horizontal pass: each source row into a row of dw 8.8 fixed-point values. */
static void scale_rows(const uint8_t *src, unsigned sw, unsigned sh, unsigned comp,
	const struct taps *tx, uint16_t *mid, unsigned dw)
{
	unsigned y, x, c, k;

	for (y = 0; y < sh; y++) {
		const uint8_t *row = src + (size_t)y * sw * comp;
		uint16_t *out = mid + (size_t)y * dw * comp;

		if (tx->two_taps) {
			scale_row_two_taps(row, comp, tx, out, dw);
			continue;
		}
		for (x = 0; x < dw; x++) {
			const uint16_t *w = tx->weight + tx->start[x];
			const uint8_t *p = row + (size_t)tx->first[x] * comp;

			for (c = 0; c < comp; c++) {
				uint32_t sum = 0;

				for (k = 0; k < tx->count[x]; k++)
					sum += (uint32_t)w[k] * p[k * comp + c];
				out[x * comp + c] = (uint16_t)((sum + (1u << (WEIGHT_BITS - 9))) >> (WEIGHT_BITS - 8));
			}
		}
	}
}

/* Combines two rows with weights w0 and w1 (summing to WEIGHT_ONE).  A
 * separate loop for the bilinear case lets the compiler vectorise it. */
static void blend_two_rows(const uint16_t *a, const uint16_t *b, uint32_t w0, uint32_t w1,
	uint8_t *out, unsigned rowlen)
{
	unsigned i;

	/* No clamp is needed: the weights sum to WEIGHT_ONE and the inputs are
	 * at most 255 << 8, so the result is at most 255. */
	for (i = 0; i < rowlen; i++)
		out[i] = (uint8_t)((w0 * a[i] + w1 * b[i] + (1u << (WEIGHT_BITS + 7))) >> (WEIGHT_BITS + 8));
}

/* Vertical pass: combines rows of mid into the 8-bit destination. */
static void scale_cols(const uint16_t *mid, unsigned rowlen, const struct taps *ty,
	uint8_t *dst, unsigned dh)
{
	unsigned y, i, k;

	for (y = 0; y < dh; y++) {
		const uint16_t *w = ty->weight + ty->start[y];
		const uint16_t *base = mid + (size_t)ty->first[y] * rowlen;
		uint8_t *out = dst + (size_t)y * rowlen;

		if (ty->count[y] == 2) {
			blend_two_rows(base, base + rowlen, w[0], w[1], out, rowlen);
			continue;
		}
		for (i = 0; i < rowlen; i++) {
			uint32_t sum = 0;

			for (k = 0; k < ty->count[y]; k++)
				sum += (uint32_t)w[k] * base[(size_t)k * rowlen + i];
			sum = (sum + (1u << (WEIGHT_BITS + 7))) >> (WEIGHT_BITS + 8);
			out[i] = (uint8_t)(sum > 255 ? 255 : sum);
		}
	}
}

int scale_image(const uint8_t *src, unsigned sw, unsigned sh, unsigned components,
	uint8_t *dst, unsigned dw, unsigned dh)
{
	struct taps tx = { 0 }, ty = { 0 };
	uint16_t *mid = NULL;
	int rc;

	if (!src || !dst || components < 1 || components > 4 || !sw || !sh || !dw || !dh ||
	    sw > SCALE_DIM_MAX || sh > SCALE_DIM_MAX || dw > SCALE_DIM_MAX || dh > SCALE_DIM_MAX)
		return SONO_EINVAL;
	if (sw == dw && sh == dh) {
		memcpy(dst, src, (size_t)sw * sh * components);
		return 0;
	}

	rc = SONO_ENOMEM;
	mid = malloc((size_t)dw * sh * components * sizeof(*mid));
	if (!mid)
		goto out;
	rc = taps_build(&tx, sw, dw);
	if (rc == 0)
		rc = taps_build(&ty, sh, dh);
	if (rc != 0)
		goto out;

	scale_rows(src, sw, sh, components, &tx, mid, dw);
	scale_cols(mid, dw * components, &ty, dst, dh);

out:
	taps_free(&tx);
	taps_free(&ty);
	free(mid);
	return rc;
}

int scale_nearest(const uint8_t *src, unsigned sw, unsigned sh, uint8_t *dst, unsigned dw,
	unsigned dh)
{
	unsigned x, y, *column;

	if (!src || !dst || !sw || !sh || !dw || !dh || sw > SCALE_DIM_MAX || sh > SCALE_DIM_MAX ||
	    dw > SCALE_DIM_MAX || dh > SCALE_DIM_MAX)
		return SONO_EINVAL;
	if (sw == dw && sh == dh) {
		memcpy(dst, src, (size_t)sw * sh);
		return 0;
	}
	column = malloc((size_t)dw * sizeof(*column));
	if (!column)
		return SONO_ENOMEM;
	for (x = 0; x < dw; x++)
		column[x] = (unsigned)((2 * (uint64_t)x + 1) * sw / (2 * (uint64_t)dw));
	for (y = 0; y < dh; y++) {
		const uint8_t *row = src + (size_t)((2 * (uint64_t)y + 1) * sh / (2 * (uint64_t)dh)) * sw;
		uint8_t *out = dst + (size_t)y * dw;

		for (x = 0; x < dw; x++)
			out[x] = row[column[x]];
	}
	free(column);
	return 0;
}
