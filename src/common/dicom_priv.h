/* Internals shared by the DICOM parser (dicom.c) and the pixel decoder
 * (dicom_pixel.c).  Nothing outside those two files includes this header. */
#ifndef SONO_DICOM_PRIV_H
#define SONO_DICOM_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "sono/dicom.h"

/* One channel of a palette colour lookup table (PS3.3 C.7.6.3). */
struct dicom_lut {
	int have_descriptor;
	uint32_t entries;     /* 1 to 65536; a descriptor value of 0 means 65536 */
	uint16_t first_mapped; /* pixel value that maps to the first entry */
	unsigned bits;        /* 8 or 16 bits per entry */
	const uint8_t *data;  /* LUT data inside the file buffer while parsing, else NULL */
	size_t data_len;
	int segmented;        /* data is a Segmented ... Palette Color LUT Data */
	uint8_t *table;       /* entries 8-bit output values, built at open */
};

struct dicom_image {
	struct dicom_info info;
	uint8_t *file;        /* owned copy of the file; only its Pixel Data once open */
	size_t file_len;
	const uint8_t *pixels; /* native Pixel Data inside file */
	size_t pixels_len;
	size_t frame_bytes;   /* stored bytes of one frame */
	int have_window;
	double window_center; /* first value of (0028,1050) */
	double window_width;  /* first value of (0028,1051) */
	struct dicom_lut lut[3]; /* red, green, blue */
};

/* Builds lut->table from the descriptor and data.  Returns 0, SONO_EINVAL
 * with a message in err for inconsistent tables, or SONO_ENOMEM. */
int dicom_lut_build(struct dicom_lut *lut, const char *channel, char *err, size_t errlen);

/* Decodes stored frame bytes src of img into the 8-bit pixels of out, whose
 * geometry the caller has already set up to match img->info. */
void dicom_decode_frame(const struct dicom_image *img, const uint8_t *src, uint8_t *out);

#endif
