/* Sixel encoders: our own for gray frames, libsixel for colour frames.
 *
 * The gray encoder picks 16 to 64 levels from the frame's histogram, maps
 * each pixel to a nearby level through a 256-entry table and writes
 * run-length encoded sixel bands.  On the Aloka B-mode frame it takes about
 * half the CPU time of libsixel 1.10 in-process at 640x480 and a third at
 * 1280x960, with smaller output (bench/RESULTS.md).  Functions here use the
 * prefix sixelenc_ because libsixel owns sixel_. */
#ifndef STATION_SIXEL_H
#define STATION_SIXEL_H

#include <stddef.h>
#include <stdint.h>

#include "sono/buf.h"

#define SIXELENC_LEVELS_MIN 16
#define SIXELENC_LEVELS_MAX 64
#define SIXELENC_COLORS_MAX 256
/* Mapping tolerance: 0 to 255 gray values, or SIXELENC_TOLERANCE_AUTO.
 * AUTO starts at 12 and raises the tolerance up to 16 after a band when
 * the output runs over SIXELENC_BUDGET_PERMILLE bytes per 1000 pixels
 * (98 KB at 640x480).  On the 640x480 frames of bench/render.sh it stays
 * at 12 for the luminance of the GE US1_UNCR.dcm frame (94 KB, 34.6 dB
 * PSNR) and the Aloka B-mode frame (68 KB, 34.1 dB).  US1 with its colours
 * through render_frame needs more and gives 100 KB at 34.5 dB.
 * NOTE: the budget is a target, not a limit.  At tolerance 16 a busier
 * frame still exceeds it: 640x480 random speckle gives about 300 KB. */
#define SIXELENC_TOLERANCE_AUTO 256u
#define SIXELENC_TOLERANCE_DEFAULT SIXELENC_TOLERANCE_AUTO
#define SIXELENC_BUDGET_PERMILLE 320
/* Largest image either encoder accepts, in pixels per side. */
#define SIXELENC_DIM_MAX 8192

/* Chooses nlevels gray levels (clamped to 16..64) at quantiles of the
 * histogram of the n pixels of gray, so busy gray ranges get finer steps.
 * Each level is one that a sixel palette entry can carry exactly (a whole
 * percent).  Writes the levels in ascending order to levels, their count to
 * *count (fewer than nlevels for a frame with few distinct values) and, for
 * every gray value, the index of the nearest level to lut. */
void sixelenc_gray_levels(const uint8_t *gray, size_t n, unsigned nlevels,
	uint8_t levels[SIXELENC_LEVELS_MAX], unsigned *count, uint8_t lut[256]);

/* Gray tolerance steps that SIXELENC_TOLERANCE_AUTO chooses from. */
#define SIXELENC_AUTO_STEPS 5

/* A producer of palette indices, called by the encoder for each band just
 * before it reads the band.  fill_band writes rows y to y + rows - 1 of
 * the index image; written is the number of bytes of sixel output so far. */
struct sixelenc_source {
	void (*fill_band)(struct sixelenc_source *source, unsigned y, unsigned rows, size_t written);
};

/* Maps a gray image to level indices band by band.  A pixel takes the
 * level of a neighbour in its band (above, the column's top, left) or the
 * band's likely base level when that level is within the tolerance of its
 * value, and otherwise its nearest level.  Fewer levels per band column
 * and longer runs make the output shorter.  With SIXELENC_TOLERANCE_AUTO
 * the tolerance is steered after each band, giving each band a share of
 * the budget that follows its count of level changes between rows.  The
 * struct is about 16 KB, too large for small thread stacks. */
struct sixelenc_gray_map {
	struct sixelenc_source source;
	const uint8_t *gray, *levels, *lut;
	uint8_t *index;
	unsigned w, h;
	uint64_t within[SIXELENC_AUTO_STEPS][256]; /* level bit sets per tolerance step */
	unsigned nsteps, step, base;
	size_t budget;                             /* bytes, with SIXELENC_TOLERANCE_AUTO */
	uint32_t activity[(SIXELENC_DIM_MAX + 5) / 6]; /* running sum per band */
	/* Called after each band is mapped, to paint overlay or colour
	 * indices over the gray levels; NULL for none. */
	void (*patch)(void *ctx, uint8_t *index, unsigned y, unsigned rows);
	void *patch_ctx;
};

/* Prepares map for the w x h gray image with levels and lut from
 * sixelenc_gray_levels, writing to index (w * h bytes).  tolerance is
 * SIXELENC_TOLERANCE_AUTO or 0 to 255 gray values. */
void sixelenc_gray_map_init(struct sixelenc_gray_map *map, const uint8_t *gray, unsigned w,
	unsigned h, const uint8_t *levels, const uint8_t lut[256], unsigned tolerance,
	uint8_t *index);

/* Appends a sixel image (DCS q ... ST) of w x h palette indices to out.
 * Palette entries are RGB bytes, stored as whole percents; ncolors is 1 to
 * 256 and every index must be below it.  Returns 0, SONO_EINVAL for a bad
 * size or palette, SONO_ETOOBIG past out's maximum, or SONO_ENOMEM. */
int sixelenc_encode_indexed(const uint8_t *index, unsigned w, unsigned h,
	const uint8_t (*palette)[3], unsigned ncolors, struct sbuf *out);

/* As sixelenc_encode_indexed, but source (NULL for none) fills each band of
 * index just before it is encoded. */
int sixelenc_encode_source(const uint8_t *index, unsigned w, unsigned h,
	const uint8_t (*palette)[3], unsigned ncolors, struct sixelenc_source *source,
	struct sbuf *out);

/* Encodes a w x h gray image with nlevels histogram levels, mapped with
 * tolerance as struct sixelenc_gray_map does, each level shown in colormap's
 * colour (NULL = gray).  Returns as sixelenc_encode_indexed. */
int sixelenc_encode_gray(const uint8_t *gray, unsigned w, unsigned h, unsigned nlevels,
	unsigned tolerance, const uint8_t (*colormap)[3], struct sbuf *out);

/* Encodes a w x h RGB image through libsixel with an adaptive palette of
 * ncolors (2 to 256) and no diffusion.  Returns as sixelenc_encode_indexed,
 * or SONO_EIO when libsixel fails. */
int sixelenc_encode_rgb(const uint8_t *rgb, unsigned w, unsigned h, unsigned ncolors,
	struct sbuf *out);

#endif
