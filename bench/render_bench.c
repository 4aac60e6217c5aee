/* Times the station's image encoders against libsixel on real ultrasound
 * frames.  Prints one Markdown table row per file, size and method with the
 * median CPU time per frame, the output bytes, and the PSNR of the sixel
 * (decoded by libsixel) against the frame scaled to the same size.
 *
 * Usage: render_bench [-n ITERATIONS] [-o DIR] FILE...
 *          encodes frame 0 of each DICOM file at 640x480 and 1280x960; with
 *          -o, also writes the scaled frames to DIR as NAME-WxH-gray.pgm and
 *          NAME-WxH-rgb.ppm for the external tools
 *        render_bench --psnr REFERENCE.pnm IMAGE.six
 *          prints the PSNR of a sixel file against a PGM or PPM image */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#undef PACKAGE_VERSION
#include <sixel.h>

#include "sono/buf.h"
#include "sono/dicom.h"
#include "sono/frame.h"
#include "station/render.h"
#include "station/scale.h"
#include "station/sixel.h"

#define ITERATIONS_MAX 10000

/* One frame at one size, in gray (luminance) and RGB. */
struct image {
	unsigned w, h;
	uint8_t *gray;
	uint8_t *rgb;
	const struct frame *source; /* the frame before scaling */
};

struct method {
	const char *name;
	int rgb_input; /* compares against the RGB image, else the gray one */
	int (*encode)(const struct image *img, struct sbuf *out);
};

/* One renderer for all runs, as the station keeps one, so its scratch
 * buffers are allocated once and not timed. */
static struct render *renderer;

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int ours_gray16(const struct image *img, struct sbuf *out)
{
	return sixelenc_encode_gray(img->gray, img->w, img->h, 16, SIXELENC_TOLERANCE_DEFAULT, NULL, out);
}

static int ours_gray16_fixed(const struct image *img, struct sbuf *out)
{
	return sixelenc_encode_gray(img->gray, img->w, img->h, 16, 12, NULL, out);
}

static int ours_gray16_exact(const struct image *img, struct sbuf *out)
{
	return sixelenc_encode_gray(img->gray, img->w, img->h, 16, 0, NULL, out);
}

static int ours_gray32(const struct image *img, struct sbuf *out)
{
	return sixelenc_encode_gray(img->gray, img->w, img->h, 32, SIXELENC_TOLERANCE_DEFAULT, NULL, out);
}

static int ours_rgb(const struct image *img, struct sbuf *out)
{
	return sixelenc_encode_rgb(img->rgb, img->w, img->h, 256, out);
}

static int sink(char *data, int size, void *priv)
{
	return sbuf_append(priv, data, (size_t)size) == 0 ? size : -1;
}

/* libsixel in-process on the gray frame as RGB, as an application using
 * its API would call it: ncolors adaptive colours, and its default
 * diffusion unless no_diffusion is set. */
static int libsixel_encode(const struct image *img, int ncolors, int no_diffusion,
	struct sbuf *out)
{
	size_t i, n = (size_t)img->w * img->h;
	unsigned char *px = malloc(3 * n);
	sixel_dither_t *dither = NULL;
	sixel_output_t *output = NULL;
	int rc = -1;

	if (!px)
		return -1;
	for (i = 0; i < n; i++)
		memset(px + 3 * i, img->gray[i], 3);
	if (SIXEL_FAILED(sixel_dither_new(&dither, ncolors, NULL)) ||
	    SIXEL_FAILED(sixel_dither_initialize(dither, px, (int)img->w, (int)img->h,
		    SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO, SIXEL_REP_AUTO, SIXEL_QUALITY_AUTO)))
		goto out;
	if (no_diffusion)
		sixel_dither_set_diffusion_type(dither, SIXEL_DIFFUSE_NONE);
	if (SIXEL_FAILED(sixel_output_new(&output, sink, out, NULL)))
		goto out;
	rc = SIXEL_FAILED(sixel_encode(px, (int)img->w, (int)img->h, 3, dither, output)) ? -1 : 0;
out:
	if (output)
		sixel_output_unref(output);
	if (dither)
		sixel_dither_unref(dither);
	free(px);
	return rc;
}

static int libsixel_default(const struct image *img, struct sbuf *out)
{
	return libsixel_encode(img, 256, 0, out);
}

static int libsixel_64_flat(const struct image *img, struct sbuf *out)
{
	return libsixel_encode(img, 64, 1, out);
}

/* Half-block cells into a cols x rows rectangle.  With cols 0 each cell
 * covers one pixel column and two pixel rows, so the image keeps its pixel
 * size.  No terminal is that wide, so that case measures the encoder alone. */
static int halfblock(const struct image *img, enum render_mode mode, unsigned cols,
	unsigned rows, struct sbuf *out)
{
	struct frame f = { .width = img->w, .height = img->h, .components = 1, .pixels = img->gray };
	struct render_target t = { .mode = mode, .rect = { 0, 0, cols ? cols : img->w,
		cols ? rows : img->h / 2 } };

	return render_frame(renderer, &t, &f, NULL, out, NULL);
}

static int halfblock_24(const struct image *img, struct sbuf *out)
{
	return halfblock(img, RENDER_MODE_HALFBLOCK_24, 0, 0, out);
}

static int halfblock_256(const struct image *img, struct sbuf *out)
{
	return halfblock(img, RENDER_MODE_HALFBLOCK_256, 0, 0, out);
}

static int halfblock_24_screen(const struct image *img, struct sbuf *out)
{
	return halfblock(img, RENDER_MODE_HALFBLOCK_24, 160, 50, out);
}

static int halfblock_256_screen(const struct image *img, struct sbuf *out)
{
	return halfblock(img, RENDER_MODE_HALFBLOCK_256, 160, 50, out);
}

/* The station's sixel path: render_frame scales the source RGB frame into
 * a cell rectangle of exactly the image size.  A mostly gray source frame
 * (see RENDER_MIXED_SHARE_MAX_PERCENT) takes the gray levels plus up to 32
 * colour entries, others go to libsixel.  The time includes the scaling. */
static int render_rgb(const struct image *img, struct sbuf *out)
{
	struct render_target t = { .mode = RENDER_MODE_SIXEL, .rect = { 0, 0, img->w / 8, img->h / 16 },
		.cell_w = 8, .cell_h = 16 };

	return render_frame(renderer, &t, img->source, NULL, out, NULL);
}

static const struct method methods[] = {
	{ "ours, gray, 16 levels, tolerance auto (default)", 0, ours_gray16 },
	{ "ours, gray, 16 levels, tolerance 12", 0, ours_gray16_fixed },
	{ "ours, gray, 16 levels, tolerance 0", 0, ours_gray16_exact },
	{ "ours, gray, 32 levels, tolerance auto", 0, ours_gray32 },
	{ "libsixel in-process, defaults (256 colours, diffusion)", 0, libsixel_default },
	{ "libsixel in-process, 64 colours, no diffusion", 0, libsixel_64_flat },
	{ "ours, colour path (libsixel, 256 colours, no diffusion) on RGB", 1, ours_rgb },
	{ "ours, render_frame on the RGB frame (scaling included)", 1, render_rgb },
	{ "ours, half-block 24-bit, one cell per 1x2 pixels", -1, halfblock_24 },
	{ "ours, half-block 256 colours, one cell per 1x2 pixels", -1, halfblock_256 },
	{ "ours, half-block 24-bit into 160x50 cells", -1, halfblock_24_screen },
	{ "ours, half-block 256 colours into 160x50 cells", -1, halfblock_256_screen },
};

/* PSNR over components channels of a decoded sixel against ref.
 * Returns -1 when the data does not decode to ref's size. */
static double sixel_psnr(const uint8_t *six, size_t len, const uint8_t *ref, unsigned w,
	unsigned h, unsigned components)
{
	unsigned char *px = NULL, *pal = NULL;
	int dw = 0, dh = 0, nc = 0;
	double se = 0;
	size_t i, n = (size_t)w * h;
	unsigned c;

	if (SIXEL_FAILED(sixel_decode_raw((unsigned char *)six, (int)len, &px, &dw, &dh, &pal, &nc, NULL)) ||
	    dw != (int)w || dh != (int)h) {
		free(px);
		free(pal);
		return -1;
	}
	for (i = 0; i < n; i++) {
		for (c = 0; c < components; c++) {
			double d = (double)pal[3 * px[i] + c] - ref[i * components + c];

			se += d * d;
		}
	}
	free(px);
	free(pal);
	return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 * n * components / se);
}

/* Runs one method iterations times; prints its table row. */
static int run_method(const struct method *m, const struct image *img, const char *name,
	long iterations)
{
	double *times = calloc((size_t)iterations, sizeof(double)), p = -1;
	struct sbuf out;
	long i;
	int rc = 0;

	if (!times)
		return -1;
	sbuf_init(&out, RENDER_OUTPUT_MAX);
	for (i = 0; i < iterations && rc == 0; i++) {
		double start = cpu_ms();

		sbuf_reset(&out);
		rc = m->encode(img, &out);
		times[i] = cpu_ms() - start;
	}
	if (rc == 0 && m->rgb_input >= 0)
		p = sixel_psnr(out.data, out.len, m->rgb_input ? img->rgb : img->gray, img->w, img->h,
			m->rgb_input ? 3 : 1);
	qsort(times, (size_t)iterations, sizeof(double), compare_double);
	if (rc == 0 && p >= 0)
		printf("| %s | %ux%u | %s | %.2f | %zu | %.1f |\n", name, img->w, img->h, m->name,
			times[iterations / 2], out.len, p);
	else if (rc == 0)
		printf("| %s | %ux%u | %s | %.2f | %zu | n/a |\n", name, img->w, img->h, m->name,
			times[iterations / 2], out.len);
	else
		fprintf(stderr, "render_bench: %s failed on %s\n", m->name, name);
	sbuf_free(&out);
	free(times);
	return rc;
}

static int write_pnm(const char *dir, const char *name, const struct image *img, int rgb)
{
	char path[4096];
	FILE *f;
	size_t n = (size_t)img->w * img->h * (rgb ? 3 : 1);
	int ok;

	snprintf(path, sizeof(path), "%s/%s-%ux%u-%s.%s", dir, name, img->w, img->h,
		rgb ? "rgb" : "gray", rgb ? "ppm" : "pgm");
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fprintf(f, "P%d\n%u %u\n255\n", rgb ? 6 : 5, img->w, img->h);
	ok = fwrite(rgb ? img->rgb : img->gray, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Scales frame f to w x h and fills img's gray and RGB versions. */
static int make_image(const struct frame *f, unsigned w, unsigned h, struct image *img)
{
	size_t i, n = (size_t)w * h;

	img->w = w;
	img->h = h;
	img->source = f;
	img->rgb = malloc(3 * n);
	img->gray = malloc(n);
	if (!img->rgb || !img->gray || f->components != 3 ||
	    scale_image(f->pixels, f->width, f->height, 3, img->rgb, w, h) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		const uint8_t *p = img->rgb + 3 * i;

		img->gray[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
	}
	return 0;
}

static int bench_file(const char *path, long iterations, const char *dir)
{
	static const unsigned sizes[][2] = { { 640, 480 }, { 1280, 960 } };
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct dicom_image *dcm = NULL;
	struct frame f = { 0 };
	char err[512];
	size_t s, m;
	int rc = 0;

	if (dicom_open_file(&dcm, path, err, sizeof(err)) != 0 || dicom_get_frame(dcm, 0, &f) != 0) {
		fprintf(stderr, "render_bench: %s\n", err);
		dicom_free(dcm);
		return -1;
	}
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]) && rc == 0; s++) {
		struct image img = { 0 };

		rc = make_image(&f, sizes[s][0], sizes[s][1], &img);
		if (rc == 0 && dir)
			rc = write_pnm(dir, name, &img, 0) | write_pnm(dir, name, &img, 1);
		for (m = 0; m < sizeof(methods) / sizeof(methods[0]) && rc == 0; m++)
			rc = run_method(&methods[m], &img, name, iterations);
		free(img.gray);
		free(img.rgb);
	}
	frame_free(&f);
	dicom_free(dcm);
	return rc;
}

/* Reads a binary PGM or PPM with maxval 255 (no comments).  Returns the
 * pixels, or NULL. */
static uint8_t *read_pnm(const char *path, unsigned *w, unsigned *h, unsigned *components)
{
	FILE *f = fopen(path, "rb");
	uint8_t *px = NULL;
	int type = 0;
	unsigned maxval = 0;
	size_t n;

	if (!f)
		return NULL;
	if (fscanf(f, "P%d %u %u %u", &type, w, h, &maxval) == 4 && (type == 5 || type == 6) &&
	    maxval == 255 && *w && *h && *w <= FRAME_MAX_DIM && *h <= FRAME_MAX_DIM && fgetc(f) != EOF) {
		*components = type == 6 ? 3 : 1;
		n = (size_t)*w * *h * *components;
		px = malloc(n);
		if (px && fread(px, 1, n, f) != n) {
			free(px);
			px = NULL;
		}
	}
	fclose(f);
	return px;
}

static int psnr_main(const char *ref_path, const char *six_path)
{
	unsigned w, h, components;
	uint8_t *ref = read_pnm(ref_path, &w, &h, &components);
	struct sbuf six;
	FILE *f = fopen(six_path, "rb");
	uint8_t chunk[65536];
	size_t n;
	double p;

	sbuf_init(&six, RENDER_OUTPUT_MAX);
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 && sbuf_append(&six, chunk, n) == 0)
		;
	if (f)
		fclose(f);
	p = ref && six.len ? sixel_psnr(six.data, six.len, ref, w, h, components) : -1;
	if (p < 0)
		fprintf(stderr, "render_bench: %s does not decode to the size of %s\n", six_path, ref_path);
	else
		printf("%.1f\n", p);
	free(ref);
	sbuf_free(&six);
	return p < 0;
}

int main(int argc, char **argv)
{
	long iterations = 50;
	const char *dir = NULL;
	int i = 1, rc = 0;

	if (argc == 4 && !strcmp(argv[1], "--psnr"))
		return psnr_main(argv[2], argv[3]);
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-n"))
			iterations = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "-o"))
			dir = argv[i + 1];
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-' || iterations < 1 || iterations > ITERATIONS_MAX) {
		fprintf(stderr, "Usage: render_bench [-n ITERATIONS (1 to %d)] [-o DIR] FILE...\n"
			"       render_bench --psnr REFERENCE.pnm IMAGE.six\n", ITERATIONS_MAX);
		return 2;
	}
	renderer = render_new();
	if (!renderer)
		return 1;
	printf("| file | size | method | CPU ms (median) | bytes | PSNR dB |\n");
	printf("| --- | --- | --- | --- | --- | --- |\n");
	for (; i < argc; i++)
		rc |= bench_file(argv[i], iterations, dir);
	render_free(renderer);
	return rc ? 1 : 0;
}
