/* DICOM Part 10 parser: file meta, transfer syntax and the data set walk
 * that collects image attributes (PS3.5 chapter 7, PS3.10 chapter 7).
 *
 * The file is held in memory and every element length is checked against
 * the bytes that remain in its enclosing span before it is used.  Elements
 * the reader does not need (patient and study attributes among them) are
 * skipped by length without decoding their values. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/dicom_priv.h"
#include "sono/buf.h"
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
