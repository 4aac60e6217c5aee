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
/* Mapping tolerance in gray values.  On the 640x480 Aloka B-mode frame,
 * 16 levels with tolerance 12 encode to 98 KB at 35.1 dB PSNR, against
 * 139 KB at 39.0 dB with tolerance 0 (bench/render.sh). */
#define SIXELENC_TOLERANCE_DEFAULT 12
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

/* Maps a w x h gray image to level indices for sixelenc_encode_indexed,
 * with levels and lut from sixelenc_gray_levels.  With tolerance 0 each
 * pixel takes its nearest level.  Otherwise a pixel takes the level of the
 * pixel above it, or of the top pixel of its column in the six-row band,
 * when that level is within tolerance gray values.  Fewer colours per band
 * column make the sixel output shorter. */
void sixelenc_map_gray(const uint8_t *gray, unsigned w, unsigned h, const uint8_t *levels,
	const uint8_t lut[256], unsigned tolerance, uint8_t *index);

/* Appends a sixel image (DCS q ... ST) of w x h palette indices to out.
 * Palette entries are RGB bytes, stored as whole percents; ncolors is 1 to
 * 256 and every index must be below it.  Returns 0, SONO_EINVAL for a bad
 * size or palette, SONO_ETOOBIG past out's maximum, or SONO_ENOMEM. */
int sixelenc_encode_indexed(const uint8_t *index, unsigned w, unsigned h,
	const uint8_t (*palette)[3], unsigned ncolors, struct sbuf *out);

/* Encodes a w x h gray image with nlevels histogram levels, mapped with
 * tolerance as sixelenc_map_gray does, each level shown in colormap's
 * colour (NULL = gray).  Returns as sixelenc_encode_indexed. */
int sixelenc_encode_gray(const uint8_t *gray, unsigned w, unsigned h, unsigned nlevels,
	unsigned tolerance, const uint8_t (*colormap)[3], struct sbuf *out);

/* Encodes a w x h RGB image through libsixel with an adaptive palette of
 * ncolors (2 to 256) and no diffusion.  Returns as sixelenc_encode_indexed,
 * or SONO_EIO when libsixel fails. */
int sixelenc_encode_rgb(const uint8_t *rgb, unsigned w, unsigned h, unsigned ncolors,
	struct sbuf *out);

#endif
