/* libFuzzer target for the DICOM reader: parses the input as a Part 10 file
 * and decodes up to four of its frames.  The seed corpus is written by
 * tests/fuzz/make_dicom_corpus.py. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "sono/dicom.h"
#include "sono/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dicom_image *img = NULL;
	struct frame f = { 0 };
	char err[512];
	uint32_t i, frames;

	if (dicom_open_memory(&img, data, size, err, sizeof(err)) != 0)
		return 0;
	frames = dicom_get_info(img)->frames;
	for (i = 0; i < frames && i < 4; i++)
		if (dicom_get_frame(img, i, &f) != 0)
			abort(); /* an image that opened must decode every frame */
	frame_free(&f);
	dicom_free(img);
	return 0;
}
