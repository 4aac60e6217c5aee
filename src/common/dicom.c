/* DICOM Part 10 parser: file meta, transfer syntax and the data set walk
 * that collects image attributes (PS3.5 chapter 7, PS3.10 chapter 7).
 *
 * The file is held in memory and every element length is checked against
 * the bytes that remain in its enclosing span before it is used.  Elements
 * the reader does not need (patient and study attributes among them) are
 * skipped by length without decoding their values. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dicom_priv.h"
#include "sono/buf.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define TAG(g, e) (((uint32_t)(g) << 16) | (uint32_t)(e))
#define UNDEFINED_LENGTH 0xFFFFFFFFu
#define TAG_ITEM TAG(0xFFFE, 0xE000)
#define TAG_ITEM_END TAG(0xFFFE, 0xE00D)
#define TAG_SEQUENCE_END TAG(0xFFFE, 0xE0DD)
#define TAG_PIXEL_DATA TAG(0x7FE0, 0x0010)
#define TAG_REGIONS TAG(0x0018, 0x6011)
#define PREAMBLE_LEN 128
#define UNITS_CM 3 /* PhysicalUnitsX/YDirection value for centimetres */

/* Where an element sits, which decides what the parser keeps from it. */
enum context {
	CONTEXT_TOP,    /* the main data set */
	CONTEXT_REGION, /* an item of the Sequence of Ultrasound Regions */
	CONTEXT_OTHER,  /* any other nesting: walked only for its delimiters */
};

struct element {
	uint32_t tag;
	char vr[3];      /* "" for an implicit VR element not in the dictionary */
	uint32_t length; /* UNDEFINED_LENGTH for an undefined length */
	const uint8_t *value; /* NULL for an undefined length */
};

/* One item of the Sequence of Ultrasound Regions. */
struct region {
	uint16_t units_x;
	uint16_t units_y;
	double delta_x;
	double delta_y;
};

struct parser {
	struct dicom_image *img;
	int implicit; /* data set uses implicit VR */
	char *err;
	size_t errlen;
	int have_rows, have_columns, have_pixels;
	int have_window_center, have_window_width;
	uint16_t rows, columns, samples, bits_allocated, bits_stored, high_bit;
	uint16_t pixel_representation, planar_configuration;
	char photometric[17];
	uint32_t frames;
	double pixel_spacing[2]; /* row spacing (y), then column spacing (x) */
	int have_region_spacing;
	struct region region;
};

struct transfer_syntax {
	const char *uid;
	const char *name;
	const char *fix; /* how to convert a file to a syntax this reader accepts */
};

#define FIX_JPEG "convert it with 'dcmdjpeg IN OUT' (DCMTK) or 'gdcmconv --raw IN OUT'"
#define FIX_JPEGLS "convert it with 'dcmdjpls IN OUT' (DCMTK) or 'gdcmconv --raw IN OUT'"
#define FIX_J2K "convert it with 'gdcmconv --raw IN OUT' (GDCM; DCMTK's 'dcmdjpeg IN OUT' cannot decode JPEG 2000)"
#define FIX_RLE "convert it with 'dcmdrle IN OUT' (DCMTK) or 'gdcmconv --raw IN OUT'"
#define FIX_OTHER "convert it with 'dcmconv +te IN OUT' (DCMTK) or 'gdcmconv --raw IN OUT'"
#define FIX_VIDEO "export uncompressed frames from the source system"

static const struct transfer_syntax syntaxes[] = {
	{ "1.2.840.10008.1.2", "Implicit VR Little Endian", NULL },
	{ "1.2.840.10008.1.2.1", "Explicit VR Little Endian", NULL },
	{ "1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", FIX_OTHER },
	{ "1.2.840.10008.1.2.2", "Explicit VR Big Endian", FIX_OTHER },
	{ "1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", FIX_JPEG },
	{ "1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 and 4)", FIX_JPEG },
	{ "1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)", FIX_JPEG },
	{ "1.2.840.10008.1.2.4.70", "JPEG Lossless SV1 (Process 14, Selection Value 1)", FIX_JPEG },
	{ "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", FIX_JPEGLS },
	{ "1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", FIX_JPEGLS },
	{ "1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless", FIX_J2K },
	{ "1.2.840.10008.1.2.4.91", "JPEG 2000", FIX_J2K },
	{ "1.2.840.10008.1.2.4.100", "MPEG2 Main Profile", FIX_VIDEO },
	{ "1.2.840.10008.1.2.4.101", "MPEG2 High Profile", FIX_VIDEO },
	{ "1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile", FIX_VIDEO },
	{ "1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile", FIX_VIDEO },
	{ "1.2.840.10008.1.2.5", "RLE Lossless", FIX_RLE },
};

/* VRs of the elements the reader uses, for implicit VR data sets. */
static const struct {
	uint32_t tag;
	const char *vr;
} dictionary[] = {
	{ TAG(0x0008, 0x0070), "LO" }, { TAG(0x0008, 0x1090), "LO" },
	{ TAG(0x0018, 0x6011), "SQ" }, { TAG(0x0018, 0x6012), "US" },
	{ TAG(0x0018, 0x6024), "US" }, { TAG(0x0018, 0x6026), "US" },
	{ TAG(0x0018, 0x602C), "FD" }, { TAG(0x0018, 0x602E), "FD" },
	{ TAG(0x0028, 0x0002), "US" }, { TAG(0x0028, 0x0004), "CS" },
	{ TAG(0x0028, 0x0006), "US" }, { TAG(0x0028, 0x0008), "IS" },
	{ TAG(0x0028, 0x0010), "US" }, { TAG(0x0028, 0x0011), "US" },
	{ TAG(0x0028, 0x0030), "DS" }, { TAG(0x0028, 0x0100), "US" },
	{ TAG(0x0028, 0x0101), "US" }, { TAG(0x0028, 0x0102), "US" },
	{ TAG(0x0028, 0x0103), "US" }, { TAG(0x0028, 0x1050), "DS" },
	{ TAG(0x0028, 0x1051), "DS" }, { TAG(0x0028, 0x1101), "US" },
	{ TAG(0x0028, 0x1102), "US" }, { TAG(0x0028, 0x1103), "US" },
	{ TAG(0x0028, 0x1201), "OW" }, { TAG(0x0028, 0x1202), "OW" },
	{ TAG(0x0028, 0x1203), "OW" }, { TAG(0x0028, 0x1221), "OW" },
	{ TAG(0x0028, 0x1222), "OW" }, { TAG(0x0028, 0x1223), "OW" },
	{ TAG(0x7FE0, 0x0010), "OW" },
};

static int parse_dataset(struct parser *p, struct breader *r, int implicit, int depth,
	enum context ctx, int in_undefined_item);

static int fail(struct parser *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *dictionary_vr(uint32_t tag)
{
	size_t i;

	for (i = 0; i < sizeof(dictionary) / sizeof(dictionary[0]); i++)
		if (dictionary[i].tag == tag)
			return dictionary[i].vr;
	return "";
}

/* VRs whose explicit encoding has two reserved bytes and a 32-bit length. */
static int vr_has_long_length(const char *vr)
{
	static const char *const long_vrs[] = { "OB", "OD", "OF", "OL", "OV", "OW",
		"SQ", "SV", "UC", "UN", "UR", "UT", "UV" };
	size_t i;

	for (i = 0; i < sizeof(long_vrs) / sizeof(long_vrs[0]); i++)
		if (!strcmp(vr, long_vrs[i]))
			return 1;
	return 0;
}

static int read_tag(struct breader *r, uint32_t *tag)
{
	uint16_t group, element;

	if (br_u16le(r, &group) < 0 || br_u16le(r, &element) < 0)
		return SONO_EINVAL;
	*tag = TAG(group, element);
	return SONO_OK;
}

/* Reads the VR and length after a tag in an explicit VR data set. */
static int read_explicit_header(struct parser *p, struct breader *r, struct element *el)
{
	const uint8_t *vr;
	uint16_t len16;

	if (br_bytes(r, 2, &vr) < 0)
		return fail(p, SONO_EINVAL, "element (%04X,%04X) is truncated", el->tag >> 16,
			el->tag & 0xFFFF);
	if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z')
		return fail(p, SONO_EINVAL, "element (%04X,%04X) has an invalid VR", el->tag >> 16,
			el->tag & 0xFFFF);
	el->vr[0] = (char)vr[0];
	el->vr[1] = (char)vr[1];
	el->vr[2] = '\0';

	if (vr_has_long_length(el->vr))
		return br_skip(r, 2) < 0 || br_u32le(r, &el->length) < 0 ? SONO_EINVAL : SONO_OK;
	if (br_u16le(r, &len16) < 0)
		return SONO_EINVAL;
	el->length = len16;
	return SONO_OK;
}

/* Reads one element header and, for a defined length, points el->value at
 * its value after checking the length against what remains in r. */
static int read_element(struct parser *p, struct breader *r, int implicit, struct element *el)
{
	int rc;

	memset(el, 0, sizeof(*el));
	if (read_tag(r, &el->tag) < 0)
		return fail(p, SONO_EINVAL, "data set is truncated inside an element tag");

	if (implicit || (el->tag >> 16) == 0xFFFE) {
		snprintf(el->vr, sizeof(el->vr), "%s", dictionary_vr(el->tag));
		rc = br_u32le(r, &el->length);
	} else {
		rc = read_explicit_header(p, r, el);
	}
	if (rc < 0)
		return fail(p, SONO_EINVAL, "element (%04X,%04X) is truncated", el->tag >> 16,
			el->tag & 0xFFFF);

	if (el->length == UNDEFINED_LENGTH)
		return SONO_OK;
	if (br_bytes(r, el->length, &el->value) < 0)
		return fail(p, SONO_EINVAL,
			"element (%04X,%04X) claims %u bytes but only %zu remain", el->tag >> 16,
			el->tag & 0xFFFF, el->length, br_remaining(r));
	return SONO_OK;
}

static int value_u16(const struct element *el, uint16_t *out)
{
	if (!el->value || el->length < 2)
		return SONO_EINVAL;
	*out = (uint16_t)(el->value[0] | el->value[1] << 8);
	return SONO_OK;
}

static int value_f64(const struct element *el, double *out)
{
	uint64_t bits = 0;
	int i;

	if (!el->value || el->length < 8)
		return SONO_EINVAL;
	for (i = 7; i >= 0; i--)
		bits = bits << 8 | el->value[i];
	memcpy(out, &bits, sizeof(*out));
	return SONO_OK;
}

/* Copies value number index of a backslash-separated string value into out
 * without padding; non-printable bytes become '?'.  Returns 0 or
 * SONO_EINVAL when the value has fewer parts. */
static int value_string(const struct element *el, unsigned index, char *out, size_t outlen)
{
	size_t i = 0, n = 0;

	out[0] = '\0';
	if (!el->value)
		return SONO_EINVAL;
	for (; index > 0; i++) {
		if (i >= el->length)
			return SONO_EINVAL;
		if (el->value[i] == '\\')
			index--;
	}
	while (i < el->length && el->value[i] == ' ')
		i++;
	for (; i < el->length && el->value[i] != '\\' && el->value[i] != '\0'; i++)
		if (n + 1 < outlen)
			out[n++] = el->value[i] >= 0x20 && el->value[i] < 0x7F ? (char)el->value[i] : '?';
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return SONO_OK;
}

/* Parses value number index of a DS or IS element as a finite number. */
static int value_number(const struct element *el, unsigned index, double *out)
{
	char text[32];
	char *end;
	double v;

	if (value_string(el, index, text, sizeof(text)) < 0 || text[0] == '\0')
		return SONO_EINVAL;
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || *end != '\0' || v != v || v > 1e300 || v < -1e300)
		return SONO_EINVAL;
	*out = v;
	return SONO_OK;
}

static int handle_region_element(struct parser *p, const struct element *el)
{
	switch (el->tag) {
	case TAG(0x0018, 0x6024):
		return value_u16(el, &p->region.units_x);
	case TAG(0x0018, 0x6026):
		return value_u16(el, &p->region.units_y);
	case TAG(0x0018, 0x602C):
		return value_f64(el, &p->region.delta_x);
	case TAG(0x0018, 0x602E):
		return value_f64(el, &p->region.delta_y);
	default:
		return SONO_OK;
	}
}

/* Takes the spacing of the first region calibrated in cm on both axes. */
static void finish_region(struct parser *p)
{
	const struct region *rg = &p->region;

	if (p->have_region_spacing || rg->units_x != UNITS_CM || rg->units_y != UNITS_CM)
		return;
	if (!(rg->delta_x > 0 && rg->delta_x < 100) || !(rg->delta_y > 0 && rg->delta_y < 100))
		return;
	p->img->info.spacing_mm[0] = rg->delta_x * 10.0;
	p->img->info.spacing_mm[1] = rg->delta_y * 10.0;
	p->have_region_spacing = 1;
}

/* Parses one item (its tag already read) of a sequence. */
static int parse_item(struct parser *p, struct breader *r, const struct element *item,
	int implicit, int depth, enum context ctx)
{
	struct breader sub;
	int rc;

	if (ctx == CONTEXT_REGION)
		memset(&p->region, 0, sizeof(p->region));
	if (item->length == UNDEFINED_LENGTH) {
		rc = parse_dataset(p, r, implicit, depth, ctx, 1);
	} else {
		br_init(&sub, item->value, item->length);
		rc = parse_dataset(p, &sub, implicit, depth, ctx, 0);
	}
	if (rc == 0 && ctx == CONTEXT_REGION)
		finish_region(p);
	return rc;
}

/* Walks the items of a sequence whose value is in r: the whole span for a
 * defined length, else up to the sequence delimitation item. */
static int parse_items(struct parser *p, struct breader *r, int undefined, int implicit,
	int depth, enum context ctx)
{
	struct element item;
	int rc;

	while (br_remaining(r) > 0) {
		if (read_tag(r, &item.tag) < 0 || br_u32le(r, &item.length) < 0)
			return fail(p, SONO_EINVAL, "sequence item is truncated");
		if (item.tag == TAG_SEQUENCE_END && undefined)
			return item.length == 0 ? SONO_OK
				: fail(p, SONO_EINVAL, "sequence delimiter has a non-zero length");
		if (item.tag != TAG_ITEM)
			return fail(p, SONO_EINVAL, "sequence contains (%04X,%04X) where an item was expected",
				item.tag >> 16, item.tag & 0xFFFF);
		item.value = NULL;
		if (item.length != UNDEFINED_LENGTH && br_bytes(r, item.length, &item.value) < 0)
			return fail(p, SONO_EINVAL, "sequence item claims %u bytes but only %zu remain",
				item.length, br_remaining(r));
		rc = parse_item(p, r, &item, implicit, depth, ctx);
		if (rc < 0)
			return rc;
	}
	return undefined ? fail(p, SONO_EINVAL, "sequence has no delimitation item") : SONO_OK;
}

/* Parses the sequence element el.  An undefined-length UN element is encoded
 * as implicit VR little endian whatever the data set uses (PS3.5 6.2.2). */
static int parse_sequence(struct parser *p, struct breader *r, const struct element *el,
	int implicit, int depth)
{
	enum context ctx = CONTEXT_OTHER;
	struct breader sub;

	if (depth >= DICOM_MAX_DEPTH)
		return fail(p, SONO_EINVAL, "sequences are nested deeper than %d levels",
			DICOM_MAX_DEPTH);
	if (el->tag == TAG_REGIONS && depth == 0)
		ctx = CONTEXT_REGION;
	if (strcmp(el->vr, "SQ") != 0)
		implicit = 1;

	if (el->length == UNDEFINED_LENGTH)
		return parse_items(p, r, 1, implicit, depth + 1, ctx);
	br_init(&sub, el->value, el->length);
	return parse_items(p, &sub, 0, implicit, depth + 1, ctx);
}

static int get_u16(struct parser *p, const struct element *el, uint16_t *out, const char *name)
{
	if (value_u16(el, out) < 0)
		return fail(p, SONO_EINVAL, "%s (%04X,%04X) has no value", name, el->tag >> 16,
			el->tag & 0xFFFF);
	return SONO_OK;
}

static int handle_frames(struct parser *p, const struct element *el)
{
	double frames;

	if (value_number(el, 0, &frames) < 0 || frames != floor(frames))
		return fail(p, SONO_EINVAL, "NumberOfFrames (0028,0008) is not an integer");
	if (frames < 1)
		return fail(p, SONO_EINVAL, "NumberOfFrames %.0f is less than 1", frames);
	if (frames > DICOM_MAX_FRAMES)
		return fail(p, SONO_ETOOBIG, "NumberOfFrames %.0f exceeds the maximum of %u", frames,
			DICOM_MAX_FRAMES);
	p->frames = (uint32_t)frames;
	return SONO_OK;
}

/* Keeps the first value of an optional DS pair such as PixelSpacing; a
 * malformed value is ignored like an absent one. */
static void handle_spacing(struct parser *p, const struct element *el)
{
	double row, column;

	if (value_number(el, 0, &row) < 0 || value_number(el, 1, &column) < 0)
		return;
	if (row > 0 && row < 1000 && column > 0 && column < 1000) {
		p->pixel_spacing[0] = row;
		p->pixel_spacing[1] = column;
	}
}

static void handle_window(struct parser *p, const struct element *el)
{
	double v;

	if (value_number(el, 0, &v) < 0)
		return;
	if (el->tag == TAG(0x0028, 0x1050)) {
		p->img->window_center = v;
		p->have_window_center = 1;
	} else if (v >= 1) {
		p->img->window_width = v;
		p->have_window_width = 1;
	}
}

static int handle_lut_element(struct parser *p, const struct element *el)
{
	unsigned element = el->tag & 0xFFFF;
	struct dicom_lut *lut;

	if (element >= 0x1101 && element <= 0x1103) {
		lut = &p->img->lut[element - 0x1101];
		if (!el->value || el->length < 6)
			return fail(p, SONO_EINVAL, "palette descriptor (0028,%04X) has fewer than 3 values",
				element);
		lut->entries = (uint32_t)(el->value[0] | el->value[1] << 8);
		if (lut->entries == 0)
			lut->entries = 65536;
		lut->first_mapped = (uint16_t)(el->value[2] | el->value[3] << 8);
		lut->bits = (unsigned)(el->value[4] | el->value[5] << 8);
		lut->have_descriptor = 1;
		return SONO_OK;
	}
	if (element >= 0x1201 && element <= 0x1203)
		lut = &p->img->lut[element - 0x1201];
	else if (element >= 0x1221 && element <= 0x1223)
		lut = &p->img->lut[element - 0x1221];
	else
		return SONO_OK;
	lut->data = el->value;
	lut->data_len = el->length;
	lut->segmented = element >= 0x1221;
	return SONO_OK;
}

static int handle_image_element(struct parser *p, const struct element *el)
{
	switch (el->tag) {
	case TAG(0x0028, 0x0002):
		return get_u16(p, el, &p->samples, "SamplesPerPixel");
	case TAG(0x0028, 0x0004):
		value_string(el, 0, p->photometric, sizeof(p->photometric));
		return SONO_OK;
	case TAG(0x0028, 0x0006):
		return get_u16(p, el, &p->planar_configuration, "PlanarConfiguration");
	case TAG(0x0028, 0x0008):
		return handle_frames(p, el);
	case TAG(0x0028, 0x0010):
		p->have_rows = 1;
		return get_u16(p, el, &p->rows, "Rows");
	case TAG(0x0028, 0x0011):
		p->have_columns = 1;
		return get_u16(p, el, &p->columns, "Columns");
	case TAG(0x0028, 0x0030):
		handle_spacing(p, el);
		return SONO_OK;
	case TAG(0x0028, 0x0100):
		return get_u16(p, el, &p->bits_allocated, "BitsAllocated");
	case TAG(0x0028, 0x0101):
		return get_u16(p, el, &p->bits_stored, "BitsStored");
	case TAG(0x0028, 0x0102):
		return get_u16(p, el, &p->high_bit, "HighBit");
	case TAG(0x0028, 0x0103):
		return get_u16(p, el, &p->pixel_representation, "PixelRepresentation");
	case TAG(0x0028, 0x1050):
	case TAG(0x0028, 0x1051):
		handle_window(p, el);
		return SONO_OK;
	default:
		return handle_lut_element(p, el);
	}
}

/* Keeps what the reader needs from an element of the main data set. */
static int handle_top_element(struct parser *p, const struct element *el)
{
	struct dicom_info *info = &p->img->info;

	switch (el->tag >> 16) {
	case 0x0008:
		if (el->tag == TAG(0x0008, 0x0070))
			value_string(el, 0, info->manufacturer, sizeof(info->manufacturer));
		else if (el->tag == TAG(0x0008, 0x1090))
			value_string(el, 0, info->model, sizeof(info->model));
		return SONO_OK;
	case 0x0028:
		return handle_image_element(p, el);
	case 0x7FE0:
		if (el->tag != TAG_PIXEL_DATA)
			return SONO_OK;
		p->img->pixels = el->value;
		p->img->pixels_len = el->length;
		p->have_pixels = 1;
		return SONO_OK;
	default:
		return SONO_OK;
	}
}

static int is_sequence(const struct element *el)
{
	if (!strcmp(el->vr, "SQ"))
		return 1;
	return el->length == UNDEFINED_LENGTH && (!strcmp(el->vr, "UN") || el->vr[0] == '\0');
}

/* Handles one element read by parse_dataset(). */
static int dispatch_element(struct parser *p, struct breader *r, const struct element *el,
	int implicit, int depth, enum context ctx)
{
	if (is_sequence(el)) {
		/* Defined-length sequences the reader does not use are skipped whole. */
		if (el->length != UNDEFINED_LENGTH && !(ctx == CONTEXT_TOP && el->tag == TAG_REGIONS))
			return SONO_OK;
		return parse_sequence(p, r, el, implicit, depth);
	}
	if (el->length == UNDEFINED_LENGTH) {
		if (el->tag == TAG_PIXEL_DATA)
			return fail(p, SONO_EUNSUPPORTED,
				"Pixel Data is encapsulated (compressed) although the transfer syntax is uncompressed");
		return fail(p, SONO_EINVAL, "element (%04X,%04X) with VR %s has an undefined length",
			el->tag >> 16, el->tag & 0xFFFF, el->vr[0] ? el->vr : "unknown");
	}
	if (ctx == CONTEXT_TOP)
		return handle_top_element(p, el);
	if (ctx == CONTEXT_REGION)
		return handle_region_element(p, el);
	return SONO_OK;
}

/* Walks the elements in r.  Inside an undefined-length item the walk ends at
 * the item delimitation item; otherwise it ends with r. */
static int parse_dataset(struct parser *p, struct breader *r, int implicit, int depth,
	enum context ctx, int in_undefined_item)
{
	struct element el;
	int rc;

	while (br_remaining(r) > 0) {
		rc = read_element(p, r, implicit, &el);
		if (rc < 0)
			return rc;
		if (el.tag == TAG_ITEM_END && in_undefined_item)
			return SONO_OK;
		if ((el.tag >> 16) == 0xFFFE)
			return fail(p, SONO_EINVAL, "unexpected delimiter (FFFE,%04X) in a data set",
				el.tag & 0xFFFF);
		rc = dispatch_element(p, r, &el, implicit, depth, ctx);
		if (rc < 0)
			return rc;
	}
	if (in_undefined_item)
		return fail(p, SONO_EINVAL, "item has no delimitation item");
	return SONO_OK;
}

/* Reads the preamble, "DICM" and the file meta group (always explicit VR
 * little endian), leaving r at the start of the data set. */
static int parse_meta(struct parser *p, struct breader *r)
{
	char *uid = p->img->info.transfer_syntax;
	struct element el;
	int rc;

	if (br_remaining(r) < PREAMBLE_LEN + 4 || memcmp(r->p + PREAMBLE_LEN, "DICM", 4) != 0)
		return fail(p, SONO_EINVAL,
			"not a DICOM Part 10 file (no \"DICM\" after the 128-byte preamble)");
	br_skip(r, PREAMBLE_LEN + 4);

	while (br_remaining(r) >= 2 && (r->p[r->off] | r->p[r->off + 1] << 8) == 0x0002) {
		rc = read_element(p, r, 0, &el);
		if (rc < 0)
			return rc;
		if (el.length == UNDEFINED_LENGTH)
			return fail(p, SONO_EINVAL, "file meta element (0002,%04X) has an undefined length",
				el.tag & 0xFFFF);
		if (el.tag == TAG(0x0002, 0x0010))
			value_string(&el, 0, uid, sizeof(p->img->info.transfer_syntax));
	}
	if (uid[0] == '\0')
		return fail(p, SONO_EINVAL, "file meta has no TransferSyntaxUID (0002,0010)");
	return SONO_OK;
}

/* Sets p->implicit for a supported transfer syntax, or explains why the
 * syntax is not read and how to convert the file. */
static int select_syntax(struct parser *p)
{
	const char *uid = p->img->info.transfer_syntax;
	const struct transfer_syntax *ts = NULL;
	size_t i;

	for (i = 0; i < sizeof(syntaxes) / sizeof(syntaxes[0]); i++)
		if (!strcmp(uid, syntaxes[i].uid))
			ts = &syntaxes[i];
	if (!ts)
		return fail(p, SONO_EUNSUPPORTED,
			"unknown transfer syntax %s; this reader reads only uncompressed little endian files, "
			FIX_OTHER, uid);
	if (ts->fix)
		return fail(p, SONO_EUNSUPPORTED,
			"transfer syntax %s (%s) is not supported, because this reader reads only "
			"uncompressed little endian files; %s", ts->name, uid, ts->fix);
	p->implicit = !strcmp(uid, "1.2.840.10008.1.2");
	return SONO_OK;
}

static int check_bits(struct parser *p)
{
	if (!p->have_pixels)
		return fail(p, SONO_EINVAL, "file has no Pixel Data (7FE0,0010)");
	if (!p->have_rows || !p->have_columns || p->rows == 0 || p->columns == 0)
		return fail(p, SONO_EINVAL, "Rows or Columns is missing or zero");
	if (p->rows > FRAME_MAX_DIM || p->columns > FRAME_MAX_DIM)
		return fail(p, SONO_ETOOBIG, "image of %ux%u pixels exceeds the maximum of %u per side",
			p->columns, p->rows, FRAME_MAX_DIM);
	if (p->bits_allocated != 8 && p->bits_allocated != 16)
		return fail(p, SONO_EUNSUPPORTED, "BitsAllocated %u is not supported (only 8 and 16 are)",
			p->bits_allocated);
	if (p->bits_stored == 0 || p->bits_stored > p->bits_allocated)
		return fail(p, SONO_EINVAL, "BitsStored %u does not fit BitsAllocated %u",
			p->bits_stored, p->bits_allocated);
	if (p->high_bit != p->bits_stored - 1)
		return fail(p, SONO_EUNSUPPORTED, "HighBit %u is not BitsStored - 1 (%u)", p->high_bit,
			p->bits_stored - 1);
	if (p->pixel_representation > 1)
		return fail(p, SONO_EINVAL, "PixelRepresentation %u is not 0 or 1",
			p->pixel_representation);
	if (p->planar_configuration > 1)
		return fail(p, SONO_EINVAL, "PlanarConfiguration %u is not 0 or 1",
			p->planar_configuration);
	return SONO_OK;
}

/* Maps PhotometricInterpretation to the decoder's colour model and checks
 * that SamplesPerPixel and the bit depth fit it. */
static int check_photometric(struct parser *p)
{
	struct dicom_info *info = &p->img->info;
	unsigned samples = 3;

	info->components = 3;
	if (!strcmp(p->photometric, "MONOCHROME1") || !strcmp(p->photometric, "MONOCHROME2")) {
		info->photometric = p->photometric[10] == '1' ? DICOM_MONOCHROME1 : DICOM_MONOCHROME2;
		info->components = 1;
		samples = 1;
	} else if (!strcmp(p->photometric, "RGB")) {
		info->photometric = DICOM_RGB;
	} else if (!strcmp(p->photometric, "YBR_FULL")) {
		info->photometric = DICOM_YBR_FULL;
	} else if (!strcmp(p->photometric, "PALETTE COLOR")) {
		info->photometric = DICOM_PALETTE_COLOR;
		samples = 1;
	} else {
		return fail(p, SONO_EUNSUPPORTED, "PhotometricInterpretation \"%s\" is not supported "
			"(MONOCHROME1, MONOCHROME2, RGB, YBR_FULL and PALETTE COLOR are)", p->photometric);
	}

	if (p->samples != samples)
		return fail(p, SONO_EINVAL, "SamplesPerPixel is %u but %s needs %u", p->samples,
			p->photometric, samples);
	if (samples == 3 && p->bits_allocated != 8)
		return fail(p, SONO_EUNSUPPORTED, "%s with %u bits allocated is not supported (8 only)",
			p->photometric, p->bits_allocated);
	if (info->components == 3 && p->pixel_representation != 0)
		return fail(p, SONO_EINVAL, "%s pixels must be unsigned", p->photometric);
	return SONO_OK;
}

/* Checks that Pixel Data contains every frame and that a decoded frame fits
 * FRAME_MAX_BYTES. */
static int check_pixel_length(struct parser *p)
{
	struct dicom_image *img = p->img;
	size_t frame_bytes, total;

	if (frame_size(p->columns, p->rows, img->info.components, FRAME_MAX_BYTES) == 0)
		return fail(p, SONO_ETOOBIG, "decoded frame of %ux%u pixels exceeds the maximum",
			p->columns, p->rows);
	frame_bytes = (size_t)p->columns * p->rows * p->samples * (p->bits_allocated / 8u);
	if (size_mul(frame_bytes, p->frames, &total) < 0 || total > img->pixels_len)
		return fail(p, SONO_EINVAL,
			"Pixel Data has %zu bytes but %u frame(s) of %ux%u need %zu bytes each",
			img->pixels_len, p->frames, p->columns, p->rows, frame_bytes);
	img->frame_bytes = frame_bytes;
	return SONO_OK;
}

static int build_palette(struct parser *p)
{
	static const char *const channels[3] = { "red", "green", "blue" };
	int rc, i;

	for (i = 0; i < 3; i++) {
		rc = dicom_lut_build(&p->img->lut[i], channels[i], p->err, p->errlen);
		if (rc < 0)
			return rc;
	}
	return SONO_OK;
}

/* Checks the collected attributes and fills in the image's info. */
static int finish_image(struct parser *p)
{
	struct dicom_info *info = &p->img->info;
	int rc;

	rc = check_bits(p);
	if (rc == 0)
		rc = check_photometric(p);
	if (rc == 0)
		rc = check_pixel_length(p);
	if (rc == 0 && info->photometric == DICOM_PALETTE_COLOR)
		rc = build_palette(p);
	if (rc < 0)
		return rc;

	info->width = p->columns;
	info->height = p->rows;
	info->frames = p->frames;
	info->samples_per_pixel = p->samples;
	info->bits_allocated = p->bits_allocated;
	info->bits_stored = p->bits_stored;
	info->planar_configuration = p->planar_configuration;
	info->pixel_representation = p->pixel_representation;
	p->img->have_window = p->have_window_center && p->have_window_width;
	if (!p->have_region_spacing) {
		info->spacing_mm[0] = p->pixel_spacing[1];
		info->spacing_mm[1] = p->pixel_spacing[0];
	}
	return SONO_OK;
}

/* Parses img->file into img.  Returns 0 or a negative SONO_E* code with a
 * message in err. */
static int parse_file(struct dicom_image *img, char *err, size_t errlen)
{
	struct parser p;
	struct breader r;
	int rc;

	memset(&p, 0, sizeof(p));
	p.img = img;
	p.err = err;
	p.errlen = errlen;
	p.frames = 1;
	p.samples = 1;
	br_init(&r, img->file, img->file_len);

	rc = parse_meta(&p, &r);
	if (rc == 0)
		rc = select_syntax(&p);
	if (rc == 0)
		rc = parse_dataset(&p, &r, p.implicit, 0, CONTEXT_TOP, 0);
	if (rc == 0)
		rc = finish_image(&p);
	return rc;
}

/* Drops every byte of the file but the pixel data, wiping the rest first,
 * so patient attributes do not stay in the process's memory.  Palette
 * tables have been built by now, so their data pointers are cleared. */
static void keep_pixels_only(struct dicom_image *img)
{
	size_t start = (size_t)(img->pixels - img->file), end = start + img->pixels_len;
	uint8_t *shrunk;
	int i;

	crypto_wipe(img->file, start);
	crypto_wipe(img->file + end, img->file_len - end);
	memmove(img->file, img->pixels, img->pixels_len);
	shrunk = realloc(img->file, img->pixels_len > 0 ? img->pixels_len : 1);
	if (shrunk)
		img->file = shrunk;
	img->file_len = img->pixels_len;
	img->pixels = img->file;
	for (i = 0; i < 3; i++) {
		img->lut[i].data = NULL;
		img->lut[i].data_len = 0;
	}
}

/* Takes ownership of file (len bytes) and parses it into a new image. */
static int open_owned(struct dicom_image **out, uint8_t *file, size_t len, char *err,
	size_t errlen)
{
	struct dicom_image *img;
	int rc;

	*out = NULL;
	img = calloc(1, sizeof(*img));
	if (!img) {
		free(file);
		return SONO_ENOMEM;
	}
	img->file = file;
	img->file_len = len;

	rc = parse_file(img, err, errlen);
	if (rc < 0) {
		dicom_free(img);
		return rc;
	}
	keep_pixels_only(img);
	*out = img;
	return SONO_OK;
}

int dicom_open_memory(struct dicom_image **out, const void *data, size_t len, char *err,
	size_t errlen)
{
	uint8_t *copy;

	*out = NULL;
	if (len > DICOM_MAX_FILE_BYTES) {
		snprintf(err, errlen, "file of %zu bytes exceeds the maximum of %zu", len,
			DICOM_MAX_FILE_BYTES);
		return SONO_ETOOBIG;
	}
	copy = malloc(len > 0 ? len : 1);
	if (!copy)
		return SONO_ENOMEM;
	if (len > 0)
		memcpy(copy, data, len);
	return open_owned(out, copy, len, err, errlen);
}

/* Reads the whole regular file at path into *data.  Returns 0 or a negative
 * SONO_E* code with a message (without the path) in err. */
static int read_whole_file(const char *path, uint8_t **data, size_t *len, char *err,
	size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t size, got = 0;
	FILE *f;
	int fd;
	int rc = SONO_OK;

	/* O_NONBLOCK keeps open() from waiting for a writer when path is a FIFO,
	 * which the regular-file check below then rejects. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		rc = errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		rc = SONO_EINVAL;
		goto out;
	}
	if ((uintmax_t)st.st_size > DICOM_MAX_FILE_BYTES) {
		snprintf(err, errlen, "file of %jd bytes exceeds the maximum of %zu",
			(intmax_t)st.st_size, DICOM_MAX_FILE_BYTES);
		rc = SONO_ETOOBIG;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size > 0 ? size : 1);
	if (!buf) {
		rc = SONO_ENOMEM;
		goto out;
	}
	got = fread(buf, 1, size, f);
	if (got != size) {
		snprintf(err, errlen, "read failed after %zu of %zu bytes", got, size);
		rc = SONO_EIO;
		goto out;
	}
	*data = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return rc;
}

int dicom_open_file(struct dicom_image **out, const char *path, char *err, size_t errlen)
{
	char reason[256] = "";
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = read_whole_file(path, &data, &len, reason, sizeof(reason));
	if (rc == 0)
		rc = open_owned(out, data, len, reason, sizeof(reason));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, reason[0] ? reason : sono_strerror(rc));
	return rc;
}

const struct dicom_info *dicom_get_info(const struct dicom_image *img)
{
	return &img->info;
}

int dicom_get_frame(const struct dicom_image *img, uint32_t index, struct frame *out)
{
	const struct dicom_info *info = &img->info;
	size_t n = frame_size(info->width, info->height, info->components, FRAME_MAX_BYTES);
	size_t have = 0;
	int rc;

	if (index >= info->frames || n == 0)
		return SONO_EINVAL;
	if (out->pixels)
		have = frame_size(out->width, out->height, out->components, FRAME_MAX_BYTES);
	if (have != n) {
		frame_free(out);
		rc = frame_alloc(out, info->width, info->height, info->components, FRAME_MAX_BYTES);
		if (rc < 0)
			return rc;
	}

	out->width = info->width;
	out->height = info->height;
	out->components = (uint8_t)info->components;
	out->spacing_mm[0] = info->spacing_mm[0];
	out->spacing_mm[1] = info->spacing_mm[1];
	dicom_decode_frame(img, img->pixels + (size_t)index * img->frame_bytes, out->pixels);
	return SONO_OK;
}

void dicom_free(struct dicom_image *img)
{
	int i;

	if (!img)
		return;
	for (i = 0; i < 3; i++)
		free(img->lut[i].table);
	free(img->file);
	free(img);
}
