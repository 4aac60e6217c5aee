/* Tests of the DICOM reader: real ultrasound files from the shared data
 * folder (checked against the file bytes and against DCMTK), and synthetic
 * files built here for each encoding, colour model and kind of bad input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dicom_priv.h"
#include "sono/buf.h"
#include "sono/dicom.h"
#include "sono/error.h"
#include "sono/frame.h"

#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define IMPLICIT_LE "1.2.840.10008.1.2"

/* ------------------------------------------------------------ file helpers */

static char *shared_file(const char *name)
{
	const char *dir = getenv("SONO_SHARED_DATA");
	static char path[4096];

	if (!dir)
		dir = "../shared/data";
	snprintf(path, sizeof(path), "%s/ultrasound/%s", dir, name);
	return path;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	data = malloc((size_t)size);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return data;
}

static int contains_bytes(const uint8_t *data, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(data + i, needle, n))
			return 1;
	return 0;
}

static int have_command(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Reads a binary PPM (P6, maxval 255) written by dcm2pnm. */
static uint8_t *read_ppm(const char *path, unsigned *width, unsigned *height)
{
	size_t len, n;
	uint8_t *data = read_file(path, &len), *pixels;
	int offset = 0;
	unsigned maxval;

	assert_int_equal(sscanf((char *)data, "P6 %u %u %u%n", width, height, &maxval, &offset), 3);
	assert_int_equal(maxval, 255);
	offset++; /* the single whitespace byte after maxval */
	n = (size_t)*width * *height * 3;
	assert_int_equal(len - (size_t)offset, n);
	pixels = malloc(n);
	assert_non_null(pixels);
	memcpy(pixels, data + offset, n);
	free(data);
	return pixels;
}

/* ------------------------------------------------------- synthetic files */

struct builder {
	struct sbuf b;
	int implicit;
};

static void put(struct builder *d, const void *p, size_t n)
{
	assert_int_equal(sbuf_append(&d->b, p, n), 0);
}

static void put_u16(struct builder *d, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(d, b, 2);
}

static void put_u32(struct builder *d, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(d, b, 4);
}

/* Writes an element header; length may be 0xFFFFFFFF (undefined). */
static void element_header(struct builder *d, uint16_t group, uint16_t element, const char *vr,
	uint32_t length, int implicit)
{
	put_u16(d, group);
	put_u16(d, element);
	if (implicit) {
		put_u32(d, length);
		return;
	}
	put(d, vr, 2);
	if (!strcmp(vr, "OB") || !strcmp(vr, "OW") || !strcmp(vr, "SQ") || !strcmp(vr, "UN") ||
		!strcmp(vr, "UT")) {
		put_u16(d, 0);
		put_u32(d, length);
	} else {
		put_u16(d, (uint16_t)length);
	}
}

static void element(struct builder *d, uint16_t group, uint16_t element_no, const char *vr,
	const void *value, uint32_t length)
{
	element_header(d, group, element_no, vr, length, d->implicit);
	put(d, value, length);
}

static void element_u16(struct builder *d, uint16_t group, uint16_t element_no, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	element(d, group, element_no, "US", b, 2);
}

/* Writes a text element padded to an even length with pad. */
static void element_text(struct builder *d, uint16_t group, uint16_t element_no, const char *vr,
	const char *text)
{
	size_t n = strlen(text);
	char padded[256];

	assert_true(n + 1 < sizeof(padded));
	memcpy(padded, text, n);
	if (n % 2)
		padded[n++] = !strcmp(vr, "UI") ? '\0' : ' ';
	element(d, group, element_no, vr, padded, (uint32_t)n);
}

/* Starts a Part 10 file: preamble, "DICM" and a file meta group. */
static void begin_file(struct builder *d, const char *syntax)
{
	uint8_t preamble[128] = { 0 };

	memset(d, 0, sizeof(*d));
	sbuf_init(&d->b, (size_t)1 << 24);
	put(d, preamble, sizeof(preamble));
	put(d, "DICM", 4);
	d->implicit = 0;
	element_text(d, 0x0002, 0x0010, "UI", syntax);
	d->implicit = !strcmp(syntax, IMPLICIT_LE);
}

/* Writes the image pixel module for a rows x columns image. */
static void image_module_stored(struct builder *d, const char *photometric, uint16_t samples,
	uint16_t rows, uint16_t columns, uint16_t allocated, uint16_t stored)
{
	element_u16(d, 0x0028, 0x0002, samples);
	element_text(d, 0x0028, 0x0004, "CS", photometric);
	element_u16(d, 0x0028, 0x0010, rows);
	element_u16(d, 0x0028, 0x0011, columns);
	element_u16(d, 0x0028, 0x0100, allocated);
	element_u16(d, 0x0028, 0x0101, stored);
	element_u16(d, 0x0028, 0x0102, (uint16_t)(stored - 1));
	element_u16(d, 0x0028, 0x0103, 0);
}

static void image_module(struct builder *d, const char *photometric, uint16_t samples,
	uint16_t rows, uint16_t columns, uint16_t bits)
{
	image_module_stored(d, photometric, samples, rows, columns, bits, bits);
}

static void pixel_data(struct builder *d, const void *pixels, uint32_t n, const char *vr)
{
	element(d, 0x7FE0, 0x0010, vr, pixels, n);
}

static int open_built(struct builder *d, struct dicom_image **img, char *err, size_t errlen)
{
	return dicom_open_memory(img, d->b.data, d->b.len, err, errlen);
}

/* Opens the built file, expects success and decodes frame index into f. */
static struct dicom_image *open_ok(struct builder *d, uint32_t index, struct frame *f)
{
	struct dicom_image *img = NULL;
	char err[512] = "";
	int rc = open_built(d, &img, err, sizeof(err));

	if (rc != 0)
		fail_msg("open failed (%d): %s", rc, err);
	assert_int_equal(dicom_get_frame(img, index, f), 0);
	return img;
}

/* Expects the built file to be rejected with code, and the message to
 * contain needle when it is not NULL. */
static void expect_reject(struct builder *d, int code, const char *needle)
{
	struct dicom_image *img = NULL;
	char err[512] = "";

	assert_int_equal(open_built(d, &img, err, sizeof(err)), code);
	assert_null(img);
	assert_true(err[0] != '\0');
	if (needle && !strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

/* ------------------------------------------------------------- real files */

/* Returns the offset of US1_UNCR's native Pixel Data value: the header is
 * (7FE0,0010) OB 00 00 and a 32-bit length of 640 * 480 * 3. */
static size_t find_pixel_data(const uint8_t *file, size_t len)
{
	static const uint8_t header[12] = { 0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0,
		0x00, 0x10, 0x0E, 0x00 };
	size_t i;

	for (i = 0; i + sizeof(header) <= len; i++)
		if (!memcmp(file + i, header, sizeof(header)))
			return i + sizeof(header);
	fail_msg("no Pixel Data header in US1_UNCR.dcm");
	return 0;
}

static void us1_rgb_matches_file_bytes(void **state)
{
	struct dicom_image *img = NULL;
	struct frame f = { 0 };
	char err[512] = "";
	size_t len, offset;
	uint8_t *file = read_file(shared_file("US1_UNCR.dcm"), &len);
	const struct dicom_info *info;

	(void)state;
	assert_int_equal(dicom_open_file(&img, shared_file("US1_UNCR.dcm"), err, sizeof(err)), 0);
	info = dicom_get_info(img);
	assert_int_equal(info->width, 640);
	assert_int_equal(info->height, 480);
	assert_int_equal(info->frames, 1);
	assert_int_equal(info->components, 3);
	assert_int_equal(info->photometric, DICOM_RGB);
	assert_string_equal(info->transfer_syntax, EXPLICIT_LE);
	assert_string_equal(info->manufacturer, "G.E. Medical Systems");
	assert_string_equal(info->model, "LOGIQ 700");
	assert_true(info->spacing_mm[0] == 0 && info->spacing_mm[1] == 0);

	assert_int_equal(dicom_get_frame(img, 0, &f), 0);
	offset = find_pixel_data(file, len);
	assert_true(offset + 640 * 480 * 3 <= len);
	assert_memory_equal(f.pixels, file + offset, 640 * 480 * 3);
	/* A few pixels by position: row 240, columns 0, 320 and 639. */
	assert_memory_equal(f.pixels + (240 * 640 + 320) * 3, file + offset + (240 * 640 + 320) * 3, 3);
	assert_memory_equal(f.pixels + (240 * 640 + 639) * 3, file + offset + (240 * 640 + 639) * 3, 3);
	assert_int_equal(dicom_get_frame(img, 1, &f), SONO_EINVAL);

	frame_free(&f);
	dicom_free(img);
	free(file);
}

/* Checks the Aloka palette lookup against DCMTK.  DCMTK 3.6.7 does not read
 * segmented palettes, so GDCM first rewrites them as plain 16-bit tables
 * (gdcmconv --decompress-lut) and dcm2pnm renders that file. */
static void aloka_palette_matches_dcmtk(void **state)
{
	char dir[] = "/tmp/test_dicom.XXXXXX", cmd[8192], plain[600], ppm[600];
	struct dicom_image *img = NULL, *img_plain = NULL;
	struct frame f = { 0 }, f_plain = { 0 };
	const struct dicom_info *info;
	unsigned width, height;
	uint8_t *reference;
	char err[512] = "";

	(void)state;
	if (!have_command("gdcmconv") || !have_command("dcm2pnm"))
		skip(); /* reference tools from libgdcm-tools and dcmtk are absent */
	assert_non_null(mkdtemp(dir));
	snprintf(plain, sizeof(plain), "%s/plain.dcm", dir);
	snprintf(ppm, sizeof(ppm), "%s/reference.ppm", dir);
	snprintf(cmd, sizeof(cmd), "gdcmconv --decompress-lut '%s' '%s' && dcm2pnm --write-raw-pnm '%s' '%s'",
		shared_file("gdcm-US-ALOKA-16.dcm"), plain, plain, ppm);
	assert_int_equal(system(cmd), 0);
	reference = read_ppm(ppm, &width, &height);
	assert_int_equal(width, 640);
	assert_int_equal(height, 480);

	assert_int_equal(dicom_open_file(&img, shared_file("gdcm-US-ALOKA-16.dcm"), err, sizeof(err)), 0);
	info = dicom_get_info(img);
	assert_int_equal(info->photometric, DICOM_PALETTE_COLOR);
	assert_string_equal(info->transfer_syntax, IMPLICIT_LE);
	assert_string_equal(info->model, "SSD-4000");
	assert_int_equal(info->components, 3);
	/* PhysicalDeltaX/Y are 0.038265306502580643 cm in the first region. */
	assert_true(fabs(info->spacing_mm[0] - 0.38265306502580643) < 1e-12);
	assert_true(fabs(info->spacing_mm[1] - 0.38265306502580643) < 1e-12);
	assert_int_equal(dicom_get_frame(img, 0, &f), 0);
	assert_memory_equal(f.pixels, reference, 640 * 480 * 3);
	assert_true(f.spacing_mm[1] > 0.38 && f.spacing_mm[1] < 0.39);

	/* The plain-table file takes the non-segmented path to the same pixels. */
	assert_int_equal(dicom_open_file(&img_plain, plain, err, sizeof(err)), 0);
	assert_int_equal(dicom_get_frame(img_plain, 0, &f_plain), 0);
	assert_memory_equal(f_plain.pixels, reference, 640 * 480 * 3);

	frame_free(&f);
	frame_free(&f_plain);
	dicom_free(img);
	dicom_free(img_plain);
	free(reference);
	unlink(plain);
	unlink(ppm);
	rmdir(dir);
}

/* GDCM rewrites US1 as YBR_FULL; converting back must give the original
 * RGB within one level, the rounding of the forward conversion. */
static void ybr_full_round_trip_of_us1(void **state)
{
	char dir[] = "/tmp/test_dicom.XXXXXX", cmd[8192], ybr[600];
	struct dicom_image *img = NULL, *img_ybr = NULL;
	struct frame rgb = { 0 }, back = { 0 };
	char err[512] = "";
	size_t i, off_by_one = 0;
	int diff;

	(void)state;
	if (!have_command("gdcmconv"))
		skip(); /* the converter from libgdcm-tools is absent */
	assert_non_null(mkdtemp(dir));
	snprintf(ybr, sizeof(ybr), "%s/ybr.dcm", dir);
	snprintf(cmd, sizeof(cmd), "gdcmconv -P YBR_FULL '%s' '%s'", shared_file("US1_UNCR.dcm"), ybr);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(dicom_open_file(&img, shared_file("US1_UNCR.dcm"), err, sizeof(err)), 0);
	assert_int_equal(dicom_open_file(&img_ybr, ybr, err, sizeof(err)), 0);
	assert_int_equal(dicom_get_info(img_ybr)->photometric, DICOM_YBR_FULL);
	assert_int_equal(dicom_get_frame(img, 0, &rgb), 0);
	assert_int_equal(dicom_get_frame(img_ybr, 0, &back), 0);
	for (i = 0; i < (size_t)640 * 480 * 3; i++) {
		diff = abs(rgb.pixels[i] - back.pixels[i]);
		if (diff > 1)
			fail_msg("byte %zu is %d levels off", i, diff);
		off_by_one += diff;
	}
	assert_true(off_by_one < (size_t)640 * 480 * 3 / 20);

	frame_free(&rgb);
	frame_free(&back);
	dicom_free(img);
	dicom_free(img_ybr);
	unlink(ybr);
	rmdir(dir);
}

static void jpeg2000_error_names_syntax_and_fix(void **state)
{
	struct dicom_image *img = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(dicom_open_file(&img, shared_file("US1_J2KR.dcm"), err, sizeof(err)),
		SONO_EUNSUPPORTED);
	assert_null(img);
	assert_non_null(strstr(err, "US1_J2KR.dcm"));
	assert_non_null(strstr(err, "JPEG 2000"));
	assert_non_null(strstr(err, "1.2.840.10008.1.2.4.90"));
	assert_non_null(strstr(err, "gdcmconv --raw IN OUT"));
	assert_non_null(strstr(err, "dcmdjpeg"));
}

static void missing_file_names_path(void **state)
{
	struct dicom_image *img = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(dicom_open_file(&img, "/nonexistent/x.dcm", err, sizeof(err)),
		SONO_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/x.dcm"));
}

/* A FIFO must be rejected at once instead of blocking in open() until a
 * writer appears.  The alarm turns a hang into a failure. */
static void fifo_rejected_without_blocking(void **state)
{
	struct dicom_image *img = NULL;
	char path[] = "/tmp/test-dicom-fifo-XXXXXX";
	char fifo[64];
	char err[512] = "";

	(void)state;
	assert_non_null(mkdtemp(path));
	snprintf(fifo, sizeof(fifo), "%s/x.dcm", path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_int_equal(dicom_open_file(&img, fifo, err, sizeof(err)), SONO_EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(fifo);
	rmdir(path);
}

/* -------------------------------------------------------- synthetic files */

static void implicit_monochrome2_with_spacing(void **state)
{
	static const uint8_t pixels[12] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;
	const struct dicom_info *info;

	(void)state;
	begin_file(&d, IMPLICIT_LE);
	element_text(&d, 0x0008, 0x0070, "LO", "ACME");
	element_text(&d, 0x0010, 0x0010, "PN", "DOE^JANE"); /* skipped, never decoded */
	image_module(&d, "MONOCHROME2", 1, 3, 4, 8);
	element_text(&d, 0x0028, 0x0030, "DS", "0.5\\0.25");
	pixel_data(&d, pixels, sizeof(pixels), "OW");
	img = open_ok(&d, 0, &f);
	info = dicom_get_info(img);

	assert_int_equal(info->width, 4);
	assert_int_equal(info->height, 3);
	assert_int_equal(info->components, 1);
	assert_string_equal(info->manufacturer, "ACME");
	assert_string_equal(info->model, "");
	assert_true(info->spacing_mm[0] == 0.25);
	assert_true(info->spacing_mm[1] == 0.5);
	assert_int_equal(f.components, 1);
	assert_memory_equal(f.pixels, pixels, sizeof(pixels));
	/* White-box: the open image keeps the pixel data and nothing else. */
	assert_int_equal(img->file_len, sizeof(pixels));
	assert_false(contains_bytes(img->file, img->file_len, "DOE^JANE"));

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void multiframe_frames_in_order(void **state)
{
	uint8_t pixels[3 * 4];
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;
	uint32_t i;

	(void)state;
	for (i = 0; i < sizeof(pixels); i++)
		pixels[i] = (uint8_t)(i * 20);
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
	element_text(&d, 0x0028, 0x0008, "IS", "3");
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	img = open_ok(&d, 0, &f);

	assert_int_equal(dicom_get_info(img)->frames, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(dicom_get_frame(img, i, &f), 0);
		assert_memory_equal(f.pixels, pixels + 4 * i, 4);
	}
	assert_int_equal(dicom_get_frame(img, 3, &f), SONO_EINVAL);

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void monochrome1_is_inverted(void **state)
{
	static const uint8_t pixels[4] = { 0, 55, 200, 255 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME1", 1, 2, 2, 8);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	img = open_ok(&d, 0, &f);

	assert_int_equal(f.pixels[0], 255);
	assert_int_equal(f.pixels[1], 200);
	assert_int_equal(f.pixels[2], 55);
	assert_int_equal(f.pixels[3], 0);

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void monochrome16_shift_and_window(void **state)
{
	/* 12 bits stored: 0, 0x800, 0xFFF and a value with bits above HighBit. */
	static const uint8_t pixels[8] = { 0x00, 0x00, 0x00, 0x08, 0xFF, 0x0F, 0x10, 0xF0 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	image_module_stored(&d, "MONOCHROME2", 1, 2, 2, 16, 12);
	pixel_data(&d, pixels, sizeof(pixels), "OW");
	img = open_ok(&d, 0, &f);
	assert_int_equal(f.pixels[0], 0);
	assert_int_equal(f.pixels[1], 0x80);
	assert_int_equal(f.pixels[2], 0xFF);
	assert_int_equal(f.pixels[3], 0x01); /* 0xF010 masked to 0x010 */
	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);

	/* Window centre 2048, width 2049: 0 -> 0, 2048 -> 128, 4095 -> 255. */
	begin_file(&d, EXPLICIT_LE);
	image_module_stored(&d, "MONOCHROME2", 1, 2, 2, 16, 12);
	element_text(&d, 0x0028, 0x1050, "DS", "2048");
	element_text(&d, 0x0028, 0x1051, "DS", "2049");
	pixel_data(&d, pixels, sizeof(pixels), "OW");
	img = open_ok(&d, 0, &f);
	assert_int_equal(f.pixels[0], 0);
	assert_int_equal(f.pixels[1], 128);
	assert_int_equal(f.pixels[2], 255);
	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void rgb_planar_is_interleaved(void **state)
{
	/* Two pixels, stored as the red plane, the green plane, the blue plane. */
	static const uint8_t planes[6] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t expected[6] = { 1, 3, 5, 2, 4, 6 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "RGB", 3, 1, 2, 8);
	element_u16(&d, 0x0028, 0x0006, 1);
	pixel_data(&d, planes, sizeof(planes), "OB");
	img = open_ok(&d, 0, &f);

	assert_int_equal(f.components, 3);
	assert_memory_equal(f.pixels, expected, sizeof(expected));

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void ybr_full_converts_to_rgb(void **state)
{
	/* Gray (Cb = Cr = 128) stays gray; Cr = 255 makes the pixel red. */
	static const uint8_t ybr[6] = { 100, 128, 128, 76, 85, 255 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "YBR_FULL", 3, 1, 2, 8);
	element_u16(&d, 0x0028, 0x0006, 0);
	pixel_data(&d, ybr, sizeof(ybr), "OB");
	img = open_ok(&d, 0, &f);

	assert_int_equal(f.pixels[0], 100);
	assert_int_equal(f.pixels[1], 100);
	assert_int_equal(f.pixels[2], 100);
	assert_true(f.pixels[3] > 240);
	assert_true(f.pixels[4] < 10);
	assert_true(f.pixels[5] < 10);

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

/* Writes the three palette descriptors with entries, first mapped value and bits. */
static void palette_descriptors(struct builder *d, uint16_t entries, uint16_t first,
	uint16_t bits)
{
	uint8_t desc[6] = { (uint8_t)entries, (uint8_t)(entries >> 8), (uint8_t)first,
		(uint8_t)(first >> 8), (uint8_t)bits, 0 };
	uint16_t e;

	for (e = 0x1101; e <= 0x1103; e++)
		element(d, 0x0028, e, "US", desc, sizeof(desc));
}

static void palette_8bit_with_first_mapped(void **state)
{
	/* Four entries per channel, one per 16-bit word; first mapped value 10. */
	static const uint8_t red[8] = { 10, 0, 20, 0, 30, 0, 40, 0 };
	static const uint8_t green[8] = { 1, 0, 2, 0, 3, 0, 4, 0 };
	static const uint8_t blue[8] = { 5, 0, 6, 0, 7, 0, 8, 0 };
	/* Below the range, the first two entries, and above the range. */
	static const uint8_t pixels[4] = { 0, 10, 11, 200 };
	static const uint8_t expected[12] = { 10, 1, 5, 10, 1, 5, 20, 2, 6, 40, 4, 8 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "PALETTE COLOR", 1, 2, 2, 8);
	palette_descriptors(&d, 4, 10, 8);
	element(&d, 0x0028, 0x1201, "OW", red, sizeof(red));
	element(&d, 0x0028, 0x1202, "OW", green, sizeof(green));
	element(&d, 0x0028, 0x1203, "OW", blue, sizeof(blue));
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	img = open_ok(&d, 0, &f);

	assert_memory_equal(f.pixels, expected, sizeof(expected));

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void segmented_palette_expands(void **state)
{
	/* Discrete 0x0000, 0x1000; linear over 2 entries to 0x3000; discrete 0xFF00;
	 * then an indirect segment replaying the first segment (byte offset 0). */
	static const uint16_t words[] = { 0, 2, 0x0000, 0x1000, 1, 2, 0x3000, 0, 1, 0xFF00,
		2, 1, 0, 0 };
	static const uint8_t pixels[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t expected_red[8] = { 0x00, 0x10, 0x20, 0x30, 0xFF, 0x00, 0x10, 0x10 };
	uint8_t lut[sizeof(words)];
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;
	uint16_t e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / 2; i++) {
		lut[2 * i] = (uint8_t)words[i];
		lut[2 * i + 1] = (uint8_t)(words[i] >> 8);
	}
	begin_file(&d, IMPLICIT_LE);
	image_module(&d, "PALETTE COLOR", 1, 2, 4, 8);
	palette_descriptors(&d, 8, 0, 16);
	for (e = 0x1221; e <= 0x1223; e++)
		element(&d, 0x0028, e, "OW", lut, sizeof(lut));
	pixel_data(&d, pixels, sizeof(pixels), "OW");
	img = open_ok(&d, 0, &f);

	/* Seven entries come from the segments; the eighth repeats the last. */
	for (i = 0; i < 8; i++)
		assert_int_equal(f.pixels[3 * i], expected_red[i]);

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

/* A segmented table of 200 empty segments replayed by 2000 indirect
 * segments would take 400,000 segment expansions; the reader stops at its
 * bound and rejects the table instead of spinning. */
static void segmented_palette_work_bounded(void **state)
{
	enum { EMPTY = 200, INDIRECT = 2000 };
	static uint8_t lut[(2 * EMPTY + 4 * INDIRECT) * 2];
	static const uint8_t pixels[4] = { 0 };
	struct builder d;
	size_t w = 0;
	uint16_t e;
	int i;

	(void)state;
	memset(lut, 0, sizeof(lut)); /* [0, 0] is a discrete segment of no entries */
	w = 2 * EMPTY;
	for (i = 0; i < INDIRECT; i++, w += 4) {
		lut[2 * w] = 2;                    /* opcode: indirect */
		lut[2 * (w + 1)] = (uint8_t)EMPTY; /* segments to replay; offset 0 follows */
	}
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "PALETTE COLOR", 1, 2, 2, 8);
	palette_descriptors(&d, 256, 0, 16);
	for (e = 0x1221; e <= 0x1223; e++)
		element(&d, 0x0028, e, "OW", lut, sizeof(lut));
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_EINVAL, "invalid segment");
	sbuf_free(&d.b);
}

/* Writes a Sequence of Ultrasound Regions of undefined length with two
 * items: a region in seconds (ignored), then one in cm. */
static void ultrasound_regions(struct builder *d, int undefined_items)
{
	uint8_t fd[8];
	double delta = 0.05; /* cm per pixel */
	uint16_t units;
	int item;

	element_header(d, 0x0018, 0x6011, "SQ", 0xFFFFFFFF, d->implicit);
	for (item = 0; item < 2; item++) {
		put_u16(d, 0xFFFE);
		put_u16(d, 0xE000);
		/* Two US elements of 10 bytes and two FD elements of 16 bytes, in
		 * either VR encoding. */
		put_u32(d, undefined_items ? 0xFFFFFFFF : 52);
		units = item == 0 ? 4 : 3;
		element_u16(d, 0x0018, 0x6024, units);
		element_u16(d, 0x0018, 0x6026, units);
		memcpy(fd, &delta, sizeof(fd)); /* the test host is little endian */
		element(d, 0x0018, 0x602C, "FD", fd, 8);
		element(d, 0x0018, 0x602E, "FD", fd, 8);
		if (undefined_items) {
			put_u16(d, 0xFFFE);
			put_u16(d, 0xE00D);
			put_u32(d, 0);
		}
	}
	put_u16(d, 0xFFFE);
	put_u16(d, 0xE0DD);
	put_u32(d, 0);
}

/* An unknown private sequence of undefined length, with a nested one. */
static void private_sequence(struct builder *d)
{
	element_header(d, 0x0009, 0x1010, "SQ", 0xFFFFFFFF, d->implicit);
	put_u16(d, 0xFFFE);
	put_u16(d, 0xE000);
	put_u32(d, 0xFFFFFFFF);
	element_text(d, 0x0009, 0x1011, "LO", "private");
	element_header(d, 0x0009, 0x1012, "SQ", 0xFFFFFFFF, d->implicit);
	put_u16(d, 0xFFFE);
	put_u16(d, 0xE0DD);
	put_u32(d, 0);
	put_u16(d, 0xFFFE);
	put_u16(d, 0xE00D);
	put_u32(d, 0);
	put_u16(d, 0xFFFE);
	put_u16(d, 0xE0DD);
	put_u32(d, 0);
}

static void regions_spacing_cm_to_mm(void **state)
{
	static const uint8_t pixels[4] = { 1, 2, 3, 4 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;
	int implicit, undefined_items;

	(void)state;
	for (implicit = 0; implicit < 2; implicit++) {
		for (undefined_items = 0; undefined_items < 2; undefined_items++) {
			begin_file(&d, implicit ? IMPLICIT_LE : EXPLICIT_LE);
			private_sequence(&d);
			ultrasound_regions(&d, undefined_items);
			image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
			element_text(&d, 0x0028, 0x0030, "DS", "9\\9"); /* regions take precedence */
			pixel_data(&d, pixels, sizeof(pixels), "OB");
			img = open_ok(&d, 0, &f);

			assert_true(fabs(f.spacing_mm[0] - 0.5) < 1e-12);
			assert_true(fabs(f.spacing_mm[1] - 0.5) < 1e-12);
			assert_memory_equal(f.pixels, pixels, 4);
			frame_free(&f);
			dicom_free(img);
			sbuf_free(&d.b);
		}
	}
}

/* A valid small file whose every proper prefix must be rejected. */
static void truncated_files_rejected(void **state)
{
	static const uint8_t pixels[16] = { 0 };
	struct dicom_image *img;
	struct builder d;
	char err[256];
	size_t n;
	int rc;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	ultrasound_regions(&d, 1);
	image_module(&d, "MONOCHROME2", 1, 4, 4, 8);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	for (n = 0; n < d.b.len; n++) {
		img = NULL;
		rc = dicom_open_memory(&img, d.b.data, n, err, sizeof(err));
		if (rc >= 0)
			fail_msg("prefix of %zu of %zu bytes was accepted", n, d.b.len);
		assert_null(img);
	}
	assert_int_equal(dicom_open_memory(&img, d.b.data, d.b.len, err, sizeof(err)), 0);
	dicom_free(img);
	sbuf_free(&d.b);
}

static void hostile_element_length(void **state)
{
	struct builder d;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
	element_header(&d, 0x7FE0, 0x0010, "OB", 0xFFFFFFF0u, 0);
	put(&d, "abcd", 4);
	expect_reject(&d, SONO_EINVAL, "claims");
	sbuf_free(&d.b);

	begin_file(&d, IMPLICIT_LE);
	element_header(&d, 0x0008, 0x0070, "", 0x7FFFFFFFu, 1);
	expect_reject(&d, SONO_EINVAL, "claims");
	sbuf_free(&d.b);
}

static void hostile_geometry_rejected(void **state)
{
	static const uint8_t pixels[4] = { 0 };
	struct builder d;

	(void)state;
	/* 65535 x 65535 pixels with 4 bytes of data. */
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 65535, 65535, 8);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_ETOOBIG, "exceeds");
	sbuf_free(&d.b);

	/* A million frames. */
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
	element_text(&d, 0x0028, 0x0008, "IS", "1000000");
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_ETOOBIG, "NumberOfFrames");
	sbuf_free(&d.b);

	/* Two frames promised, one present. */
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
	element_text(&d, 0x0028, 0x0008, "IS", "2");
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_EINVAL, "Pixel Data has 4 bytes");
	sbuf_free(&d.b);

	/* Zero rows. */
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 0, 2, 8);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_EINVAL, "Rows");
	sbuf_free(&d.b);

	/* A palette that promises 256 entries with 4 bytes of table. */
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "PALETTE COLOR", 1, 2, 2, 8);
	palette_descriptors(&d, 256, 0, 16);
	element(&d, 0x0028, 0x1201, "OW", pixels, 4);
	element(&d, 0x0028, 0x1202, "OW", pixels, 4);
	element(&d, 0x0028, 0x1203, "OW", pixels, 4);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_EINVAL, "palette data has 4 bytes");
	sbuf_free(&d.b);
}

static void frame_count_values_rejected(void **state)
{
	static const uint8_t pixels[4] = { 0 };
	static const struct {
		const char *value;
		int code;
	} counts[] = { { "1e30", SONO_ETOOBIG }, { "2.5", SONO_EINVAL }, { "0", SONO_EINVAL },
		{ "-3", SONO_EINVAL }, { "x", SONO_EINVAL } };
	struct builder d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		begin_file(&d, EXPLICIT_LE);
		image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
		element_text(&d, 0x0028, 0x0008, "IS", counts[i].value);
		pixel_data(&d, pixels, sizeof(pixels), "OB");
		expect_reject(&d, counts[i].code, "NumberOfFrames");
		sbuf_free(&d.b);
	}
}

static void deep_nesting_rejected(void **state)
{
	struct builder d;
	int i;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	for (i = 0; i < 1000; i++) {
		element_header(&d, 0x0009, 0x1010, "SQ", 0xFFFFFFFF, 0);
		put_u16(&d, 0xFFFE);
		put_u16(&d, 0xE000);
		put_u32(&d, 0xFFFFFFFF);
	}
	expect_reject(&d, SONO_EINVAL, "nested deeper");
	sbuf_free(&d.b);
}

static void bad_structure_rejected(void **state)
{
	static const uint8_t junk[200] = { 0 };
	struct builder d;

	(void)state;
	/* No "DICM" marker. */
	memset(&d, 0, sizeof(d));
	sbuf_init(&d.b, 1024);
	put(&d, junk, sizeof(junk));
	expect_reject(&d, SONO_EINVAL, "DICM");
	sbuf_free(&d.b);

	/* No transfer syntax in the file meta. */
	begin_file(&d, EXPLICIT_LE);
	d.b.len = 132;
	expect_reject(&d, SONO_EINVAL, "TransferSyntaxUID");
	sbuf_free(&d.b);

	/* An item delimiter at the top level. */
	begin_file(&d, EXPLICIT_LE);
	put_u16(&d, 0xFFFE);
	put_u16(&d, 0xE00D);
	put_u32(&d, 0);
	expect_reject(&d, SONO_EINVAL, "unexpected delimiter");
	sbuf_free(&d.b);

	/* A sequence that never ends. */
	begin_file(&d, EXPLICIT_LE);
	element_header(&d, 0x0009, 0x1010, "SQ", 0xFFFFFFFF, 0);
	expect_reject(&d, SONO_EINVAL, "delimitation");
	sbuf_free(&d.b);

	/* No Pixel Data. */
	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
	expect_reject(&d, SONO_EINVAL, "Pixel Data");
	sbuf_free(&d.b);
}

static void unsupported_inputs_explained(void **state)
{
	static const uint8_t pixels[12] = { 0 };
	static const struct {
		const char *uid, *name, *tool;
	} compressed[] = {
		{ "1.2.840.10008.1.2.4.50", "JPEG Baseline", "dcmdjpeg IN OUT" },
		{ "1.2.840.10008.1.2.4.80", "JPEG-LS", "dcmdjpls IN OUT" },
		{ "1.2.840.10008.1.2.4.91", "JPEG 2000", "gdcmconv --raw IN OUT" },
		{ "1.2.840.10008.1.2.5", "RLE Lossless", "dcmdrle IN OUT" },
		{ "1.2.840.10008.1.2.1.99", "Deflated", "dcmconv +te IN OUT" },
		{ "1.2.3.4", "unknown transfer syntax", "gdcmconv --raw IN OUT" },
	};
	struct builder d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++) {
		begin_file(&d, compressed[i].uid);
		expect_reject(&d, SONO_EUNSUPPORTED, compressed[i].name);
		expect_reject(&d, SONO_EUNSUPPORTED, compressed[i].uid);
		expect_reject(&d, SONO_EUNSUPPORTED, compressed[i].tool);
		sbuf_free(&d.b);
	}

	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "YBR_FULL_422", 3, 2, 2, 8);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_EUNSUPPORTED, "YBR_FULL_422");
	sbuf_free(&d.b);

	begin_file(&d, EXPLICIT_LE);
	image_module(&d, "MONOCHROME2", 1, 2, 2, 32);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	expect_reject(&d, SONO_EUNSUPPORTED, "BitsAllocated 32");
	sbuf_free(&d.b);
}

static void device_strings_made_printable(void **state)
{
	static const uint8_t pixels[4] = { 0 };
	struct builder d;
	struct frame f = { 0 };
	struct dicom_image *img;

	(void)state;
	begin_file(&d, EXPLICIT_LE);
	element_text(&d, 0x0008, 0x1090, "LO", "X\x1b[2JY");
	image_module(&d, "MONOCHROME2", 1, 2, 2, 8);
	pixel_data(&d, pixels, sizeof(pixels), "OB");
	img = open_ok(&d, 0, &f);

	assert_string_equal(dicom_get_info(img)->model, "X?[2JY");

	frame_free(&f);
	dicom_free(img);
	sbuf_free(&d.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(us1_rgb_matches_file_bytes),
		cmocka_unit_test(aloka_palette_matches_dcmtk),
		cmocka_unit_test(ybr_full_round_trip_of_us1),
		cmocka_unit_test(jpeg2000_error_names_syntax_and_fix),
		cmocka_unit_test(missing_file_names_path),
		cmocka_unit_test(fifo_rejected_without_blocking),
		cmocka_unit_test(implicit_monochrome2_with_spacing),
		cmocka_unit_test(multiframe_frames_in_order),
		cmocka_unit_test(monochrome1_is_inverted),
		cmocka_unit_test(monochrome16_shift_and_window),
		cmocka_unit_test(rgb_planar_is_interleaved),
		cmocka_unit_test(ybr_full_converts_to_rgb),
		cmocka_unit_test(palette_8bit_with_first_mapped),
		cmocka_unit_test(segmented_palette_expands),
		cmocka_unit_test(segmented_palette_work_bounded),
		cmocka_unit_test(regions_spacing_cm_to_mm),
		cmocka_unit_test(truncated_files_rejected),
		cmocka_unit_test(hostile_element_length),
		cmocka_unit_test(hostile_geometry_rejected),
		cmocka_unit_test(frame_count_values_rejected),
		cmocka_unit_test(deep_nesting_rejected),
		cmocka_unit_test(bad_structure_rejected),
		cmocka_unit_test(unsupported_inputs_explained),
		cmocka_unit_test(device_strings_made_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
