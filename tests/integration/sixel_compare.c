/* Compares the last sixel image a program wrote to a terminal with a
 * reference image scaled to the same size.
 *
 * Usage: sixel_compare REFERENCE.ppm CAPTURE
 *
 * CAPTURE is everything the program wrote (escape sequences and text).  The
 * last complete sixel image (ESC P ... q ... ESC \) in it is decoded with
 * libsixel, the reference (binary PPM, maxval 255) is scaled to the decoded
 * size with the station's scaler, and "WIDTHxHEIGHT PSNR" is printed, the
 * PSNR over the three channels in dB.  Exits 1 when no image decodes. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#undef PACKAGE_VERSION
#include <sixel.h>

#include "sono/buf.h"
#include "sono/frame.h"
#include "station/scale.h"

#define CAPTURE_MAX ((size_t)256 << 20)

static int read_file(const char *path, struct sbuf *out)
{
	FILE *f = fopen(path, "rb");
	uint8_t chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return -1;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = sbuf_append(out, chunk, n);
	fclose(f);
	return rc;
}

static uint8_t *read_ppm(const char *path, unsigned *w, unsigned *h)
{
	FILE *f = fopen(path, "rb");
	unsigned maxval = 0;
	uint8_t *px = NULL;
	size_t n;

	if (!f)
		return NULL;
	if (fscanf(f, "P6 %u %u %u", w, h, &maxval) == 3 && maxval == 255 && *w && *h &&
	    *w <= FRAME_MAX_DIM && *h <= FRAME_MAX_DIM && fgetc(f) != EOF) {
		n = (size_t)*w * *h * 3;
		px = malloc(n);
		if (px && fread(px, 1, n, f) != n) {
			free(px);
			px = NULL;
		}
	}
	fclose(f);
	return px;
}

/* Finds the last "ESC P ... ESC \" that contains a 'q' (a sixel DCS). */
static int last_sixel(const struct sbuf *cap, size_t *start, size_t *len)
{
	size_t i = cap->len;

	while (i >= 2) {
		i--;
		if (cap->data[i - 1] == '\033' && cap->data[i] == 'P') {
			const uint8_t *end = NULL;
			size_t k;

			for (k = i + 1; k + 1 < cap->len; k++) {
				if (cap->data[k] == '\033' && cap->data[k + 1] == '\\') {
					end = cap->data + k + 2;
					break;
				}
			}
			if (end && memchr(cap->data + i, 'q', (size_t)(end - cap->data) - i)) {
				*start = i - 1;
				*len = (size_t)(end - cap->data) - *start;
				return 0;
			}
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sbuf cap;
	unsigned char *px = NULL, *pal = NULL;
	uint8_t *ref, *scaled;
	unsigned rw, rh;
	int w = 0, h = 0, ncolors = 0;
	size_t start, len, i, n;
	double se = 0;

	if (argc != 3) {
		fprintf(stderr, "Usage: sixel_compare REFERENCE.ppm CAPTURE\n");
		return 2;
	}
	sbuf_init(&cap, CAPTURE_MAX);
	ref = read_ppm(argv[1], &rw, &rh);
	if (!ref || read_file(argv[2], &cap) != 0 || last_sixel(&cap, &start, &len) != 0 ||
	    SIXEL_FAILED(sixel_decode_raw(cap.data + start, (int)len, &px, &w, &h, &pal, &ncolors, NULL)) ||
	    w < 1 || h < 1) {
		fprintf(stderr, "sixel_compare: no sixel image decodes from %s (or %s is not a PPM)\n",
			argv[2], argv[1]);
		return 1;
	}
	n = (size_t)w * h;
	scaled = malloc(3 * n);
	if (!scaled || scale_image(ref, rw, rh, 3, scaled, (unsigned)w, (unsigned)h) != 0)
		return 1;
	for (i = 0; i < 3 * n; i++) {
		double d = (double)pal[3 * px[i / 3] + i % 3] - scaled[i];

		se += d * d;
	}
	printf("%dx%d %.1f\n", w, h, se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 * 3 * n / se));
	free(scaled);
	free(ref);
	free(px);
	free(pal);
	sbuf_free(&cap);
	return 0;
}
