/* DICOM pixel decoding: palette tables (plain and segmented) and the
 * conversion of stored frames to 8-bit gray or RGB. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dicom_priv.h"
#include "sono/error.h"

/* Expansion state of a Segmented Palette Color Lookup Table (PS3.3 C.7.9.2). */
struct segments {
	const uint8_t *data;
	size_t words;    /* 16-bit words in data */
	uint16_t *out;
	uint32_t entries;
	uint32_t count;  /* entries expanded so far */
	uint32_t segments_left; /* bound on segments expanded, indirect ones included */
};

/* Enough for any table of up to 65536 entries without empty segments. */
#define MAX_SEGMENTS (4u * 65536u)

static int lut_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int lut_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static uint16_t word_at(const uint8_t *data, size_t index)
{
	return (uint16_t)(data[2 * index] | data[2 * index + 1] << 8);
}

/* Entries past the descriptor's count are dropped. */
static void emit(struct segments *s, uint16_t value)
{
	if (s->count < s->entries)
		s->out[s->count++] = value;
}

/* A linear segment runs from the last entry y0 to y1 over n entries,
 * excluding y0 and ending exactly on y1. */
static void expand_linear(struct segments *s, uint16_t n, uint16_t y1)
{
	double y0 = s->out[s->count - 1];
	uint16_t i;

	for (i = 1; i <= n && s->count < s->entries; i++)
		emit(s, (uint16_t)lround(y0 + (y1 - y0) * i / n));
}

/* Expands the segment at word *pos and moves *pos past it.  An indirect
 * segment replays earlier segments but may not itself point at another
 * indirect segment, which rules out cycles.  s->segments_left bounds the
 * work of tables made of many empty or replayed segments. */
static int expand_segment(struct segments *s, size_t *pos, int allow_indirect)
{
	size_t i = *pos, k, offset, words;
	uint16_t opcode, n;
	int rc;

	if (i + 2 > s->words || s->segments_left == 0)
		return SONO_EINVAL;
	s->segments_left--;
	opcode = word_at(s->data, i);
	n = word_at(s->data, i + 1);

	switch (opcode) {
	case 0: /* discrete: n values follow */
		if (n > s->words - i - 2)
			return SONO_EINVAL;
		for (k = 0; k < n && s->count < s->entries; k++)
			emit(s, word_at(s->data, i + 2 + k));
		*pos = i + 2 + n;
		return SONO_OK;
	case 1: /* linear: n entries up to the value that follows */
		if (i + 3 > s->words || s->count == 0 || n == 0)
			return SONO_EINVAL;
		expand_linear(s, n, word_at(s->data, i + 2));
		*pos = i + 3;
		return SONO_OK;
	case 2: /* indirect: n segments starting at a 32-bit byte offset */
		if (!allow_indirect || i + 4 > s->words)
			return SONO_EINVAL;
		/* NOTE: the offset counts bytes from the start of the data, as GDCM
		 * 3.0 reads it.  No sample file with an indirect segment confirms it. */
		offset = ((size_t)word_at(s->data, i + 3) << 16 | word_at(s->data, i + 2)) / 2;
		for (words = offset, k = 0; k < n && s->count < s->entries; k++) {
			rc = expand_segment(s, &words, 0);
			if (rc < 0)
				return rc;
		}
		*pos = i + 4;
		return SONO_OK;
	default:
		return SONO_EINVAL;
	}
}

/* Expands segmented LUT data into lut->entries 16-bit values in out.  A
 * table whose segments end early is padded with its last value. */
static int expand_segmented(const struct dicom_lut *lut, uint16_t *out, const char *channel,
	char *err, size_t errlen)
{
	struct segments s = { lut->data, lut->data_len / 2, out, lut->entries, 0, MAX_SEGMENTS };
	size_t pos = 0;

	while (pos < s.words && s.count < s.entries) {
		if (expand_segment(&s, &pos, 1) < 0)
			return lut_fail(err, errlen, SONO_EINVAL,
				"segmented %s palette has an invalid segment at word %zu", channel, pos);
	}
	if (s.count == 0)
		return lut_fail(err, errlen, SONO_EINVAL, "segmented %s palette is empty", channel);
	while (s.count < s.entries) {
		out[s.count] = out[s.count - 1];
		s.count++;
	}
	return SONO_OK;
}

/* Reads plain LUT data into 16-bit values.  8-bit entries come either packed
 * two to a word (data length equals the entry count) or one to a word. */
static int read_plain(const struct dicom_lut *lut, uint16_t *out, const char *channel,
	char *err, size_t errlen)
{
	uint32_t i;

	if (lut->bits == 8 && lut->data_len == lut->entries) {
		for (i = 0; i < lut->entries; i++)
			out[i] = lut->data[i];
		return SONO_OK;
	}
	if (lut->data_len / 2 < lut->entries)
		return lut_fail(err, errlen, SONO_EINVAL,
			"%s palette data has %zu bytes but the descriptor promises %u entries", channel,
			lut->data_len, lut->entries);
	for (i = 0; i < lut->entries; i++)
		out[i] = word_at(lut->data, i);
	return SONO_OK;
}

int dicom_lut_build(struct dicom_lut *lut, const char *channel, char *err, size_t errlen)
{
	uint16_t *values;
	uint16_t max = 0;
	uint32_t i;
	int rc;

	if (!lut->have_descriptor || !lut->data)
		return lut_fail(err, errlen, SONO_EINVAL,
			"PALETTE COLOR image lacks the %s palette descriptor or data", channel);
	if (lut->bits != 8 && lut->bits != 16)
		return lut_fail(err, errlen, SONO_EUNSUPPORTED,
			"%s palette entries of %u bits are not supported (8 or 16 are)", channel, lut->bits);
	values = malloc(lut->entries * sizeof(*values));
	lut->table = malloc(lut->entries);
	if (!values || !lut->table) {
		rc = SONO_ENOMEM;
		goto out;
	}

	if (lut->segmented)
		rc = expand_segmented(lut, values, channel, err, errlen);
	else
		rc = read_plain(lut, values, channel, err, errlen);
	if (rc < 0)
		goto out;

	/* 16-bit entries keep their high byte.  A table whose values all fit in
	 * 8 bits is taken as 8-bit data stored in 16-bit words, as DCMTK does. */
	for (i = 0; i < lut->entries; i++)
		if (values[i] > max)
			max = values[i];
	for (i = 0; i < lut->entries; i++)
		lut->table[i] = (uint8_t)(max > 0xFF ? values[i] >> 8 : values[i]);
out:
	free(values);
	return rc;
}

static uint32_t stored_value(const uint8_t *src, size_t index, unsigned bytes, uint32_t mask)
{
	if (bytes == 1)
		return src[index] & mask;
	return (uint32_t)(src[2 * index] | src[2 * index + 1] << 8) & mask;
}

static void decode_palette(const struct dicom_image *img, const uint8_t *src, uint8_t *out)
{
	const struct dicom_info *info = &img->info;
	size_t n = (size_t)info->width * info->height, i;
	unsigned bytes = info->bits_allocated / 8;
	uint32_t mask = (uint32_t)((1ul << info->bits_stored) - 1);
	int64_t index;
	int c;

	for (i = 0; i < n; i++) {
		uint32_t v = stored_value(src, i, bytes, mask);

		for (c = 0; c < 3; c++) {
			const struct dicom_lut *lut = &img->lut[c];

			index = (int64_t)v - lut->first_mapped;
			if (index < 0)
				index = 0;
			if (index >= lut->entries)
				index = lut->entries - 1;
			out[3 * i + c] = lut->table[index];
		}
	}
}

static uint8_t clamp_u8(double v)
{
	if (v <= 0)
		return 0;
	if (v >= 255)
		return 255;
	return (uint8_t)lround(v);
}

/* Maps a monochrome stored value to 8 bits: through the linear VOI window
 * of PS3.3 C.11.2.1.2.1 when the file has one, else by dropping the low
 * bits (signed values are first offset to unsigned). */
static uint8_t mono_to_8bit(const struct dicom_image *img, int32_t v)
{
	const struct dicom_info *info = &img->info;
	double c, w, y;

	if (img->have_window) {
		c = img->window_center - 0.5;
		w = img->window_width - 1;
		if (w <= 0)
			return v <= c ? 0 : 255;
		y = ((v - c) / w + 0.5) * 255.0;
		return clamp_u8(y);
	}
	if (info->pixel_representation)
		v += 1 << (info->bits_stored - 1);
	if (info->bits_stored > 8)
		return (uint8_t)(v >> (info->bits_stored - 8));
	return (uint8_t)(v << (8 - info->bits_stored));
}

static void decode_mono(const struct dicom_image *img, const uint8_t *src, uint8_t *out)
{
	const struct dicom_info *info = &img->info;
	size_t n = (size_t)info->width * info->height, i;
	unsigned bytes = info->bits_allocated / 8;
	uint32_t mask = (uint32_t)((1ul << info->bits_stored) - 1);
	uint32_t sign = 1u << (info->bits_stored - 1);
	int plain = bytes == 1 && info->bits_stored == 8 && !info->pixel_representation &&
		!img->have_window;
	int32_t v;

	if (plain)
		memcpy(out, src, n);
	for (i = 0; i < n && !plain; i++) {
		v = (int32_t)stored_value(src, i, bytes, mask);
		if (info->pixel_representation && (v & sign))
			v -= (int32_t)(sign << 1);
		out[i] = mono_to_8bit(img, v);
	}
	if (info->photometric == DICOM_MONOCHROME1)
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(255 - out[i]);
}


/* Converts full-range YCbCr (PS3.3 C.7.6.3.1.2) to RGB in place. */
static void ybr_to_rgb(uint8_t *px, size_t n)
{
	size_t i;
	double y, cb, cr;

	for (i = 0; i < n; i++, px += 3) {
		y = px[0];
		cb = px[1] - 128.0;
		cr = px[2] - 128.0;
		px[0] = clamp_u8(y + 1.402 * cr);
		px[1] = clamp_u8(y - 0.344136 * cb - 0.714136 * cr);
		px[2] = clamp_u8(y + 1.772 * cb);
	}
}

static void decode_color(const struct dicom_image *img, const uint8_t *src, uint8_t *out)
{
	const struct dicom_info *info = &img->info;
	size_t n = (size_t)info->width * info->height, i;

	if (info->planar_configuration == 0) {
		memcpy(out, src, 3 * n);
	} else {
		for (i = 0; i < n; i++) {
			out[3 * i] = src[i];
			out[3 * i + 1] = src[n + i];
			out[3 * i + 2] = src[2 * n + i];
		}
	}
	if (info->photometric == DICOM_YBR_FULL)
		ybr_to_rgb(out, n);
}

void dicom_decode_frame(const struct dicom_image *img, const uint8_t *src, uint8_t *out)
{
	switch (img->info.photometric) {
	case DICOM_MONOCHROME1:
	case DICOM_MONOCHROME2:
		decode_mono(img, src, out);
		break;
	case DICOM_RGB:
	case DICOM_YBR_FULL:
		decode_color(img, src, out);
		break;
	case DICOM_PALETTE_COLOR:
		decode_palette(img, src, out);
		break;
	}
}
