/* Reader for DICOM Part 10 files that hold uncompressed ultrasound images.
 *
 * The reader accepts the explicit and implicit VR little endian transfer
 * syntaxes; MONOCHROME1 and MONOCHROME2 (8 or 16 bits allocated); RGB and
 * YBR_FULL (8 bits, both planar configurations); PALETTE COLOR (8- or 16-bit
 * pixels, 8- or 16-bit entries, plain or segmented tables); single- and
 * multi-frame images.  Frames come out as 8-bit struct frame: 1 component
 * for monochrome, 3 for the colour models.
 *
 * Only pixels, geometry, calibration and the device's manufacturer and model
 * are kept.  Patient and study attributes are skipped without being decoded,
 * and the rest of the file is wiped from memory once it is parsed, so
 * nothing a caller gets from this module can carry them. */
#ifndef SONO_DICOM_H
#define SONO_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "sono/frame.h"

/* Largest file the reader loads (the whole file is held in memory). */
#define DICOM_MAX_FILE_BYTES ((size_t)1 << 30)
/* Largest NumberOfFrames accepted. */
#define DICOM_MAX_FRAMES 100000u
/* Deepest nesting of sequences the parser follows. */
#define DICOM_MAX_DEPTH 16

enum dicom_photometric {
	DICOM_MONOCHROME1, /* 0 is white */
	DICOM_MONOCHROME2, /* 0 is black */
	DICOM_RGB,
	DICOM_YBR_FULL, /* full-range YCbCr, converted to RGB on decoding */
	DICOM_PALETTE_COLOR,
};

/* Geometry and calibration of an opened image. */
struct dicom_info {
	uint32_t width;  /* Columns */
	uint32_t height; /* Rows */
	uint32_t frames; /* NumberOfFrames, 1 when absent */
	unsigned components; /* of the decoded 8-bit frames: 1 or 3 */
	enum dicom_photometric photometric;
	unsigned samples_per_pixel;
	unsigned bits_allocated; /* 8 or 16 */
	unsigned bits_stored;
	unsigned planar_configuration; /* 0 interleaved, 1 one plane per colour */
	unsigned pixel_representation; /* 0 unsigned, 1 two's complement */
	/* Physical size of one pixel in mm, x (columns) then y (rows), from the
	 * Sequence of Ultrasound Regions or else PixelSpacing; 0 when unknown. */
	double spacing_mm[2];
	char transfer_syntax[65]; /* UID */
	char manufacturer[65];    /* (0008,0070), "" when absent */
	char model[65];           /* ManufacturerModelName (0008,1090) */
};

struct dicom_image;

/* Parses len bytes of a Part 10 file (preamble, "DICM", file meta, data set).
 * The bytes are copied, so data may be freed after the call.  Returns 0 and
 * sets *out, or a negative SONO_E* code with a message in err: SONO_EINVAL
 * for a malformed file, SONO_EUNSUPPORTED for a valid file this reader
 * cannot decode (the message then names the transfer syntax or attribute and
 * how to convert the file), SONO_ETOOBIG past a maximum, SONO_ENOMEM. */
int dicom_open_memory(struct dicom_image **out, const void *data, size_t len, char *err,
	size_t errlen);

/* Reads and parses the file at path; same returns as dicom_open_memory(),
 * plus SONO_ENOTFOUND and SONO_EIO.  Messages name the file. */
int dicom_open_file(struct dicom_image **out, const char *path, char *err, size_t errlen);

/* Returns the geometry of an open image; valid until dicom_free(). */
const struct dicom_info *dicom_get_info(const struct dicom_image *img);

/* Decodes frame index (0-based) into out as 8-bit pixels, with spacing set
 * and timestamp and seq left for the caller.  out's pixels are reused when
 * the size matches, else freed and reallocated, so out must be zeroed or
 * hold a frame from frame_alloc().  Returns 0, SONO_EINVAL for an index out
 * of range, or SONO_ENOMEM. */
int dicom_get_frame(const struct dicom_image *img, uint32_t index, struct frame *out);

/* Frees the image; accepts NULL. */
void dicom_free(struct dicom_image *img);

#endif
