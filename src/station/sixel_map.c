/* Mapping of gray values to palette levels for the sixel gray encoder.
 *
 * The encoder writes, for each six-row band, one character per column for
 * every level in that column other than the band's base level, which is
 * painted under the whole band first.  A level that starts a new run of
 * columns also costs a colour switch.  So a pixel takes a level that a
 * neighbour in its band already uses, or the base level, whenever one is
 * within the tolerance of its value. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "station/sixel.h"

/* Tolerances, in gray values, that SIXELENC_TOLERANCE_AUTO steers
 * between, and the step it starts at.  It starts at the lowest because
 * spending a budget on lower tolerances made 1280x960 frames slower for a
 * PSNR already past the goal. */
static const unsigned auto_tolerance[SIXELENC_AUTO_STEPS] = { 12, 13, 14, 15, 16 };
#define AUTO_START 0

/* Fills within[v] with the set of levels within tolerance of gray value v.
 * A pixel at the darkest level keeps it.  The black background is half of
 * the GE US1_UNCR.dcm frame, and without this rule it turned dark gray next
 * to tissue: 30.6 dB against 33.8 dB at tolerance 14 and 640x480. */
static void fill_within(const uint8_t *levels, unsigned count, unsigned tolerance,
	uint64_t within[256])
{
	unsigned v, k;

	for (v = 0; v < 256; v++) {
		within[v] = 0;
		for (k = 0; k < count; k++) {
			if ((v > levels[k] ? v - levels[k] : levels[k] - v) <= tolerance)
				within[v] |= UINT64_C(1) << k;
		}
	}
	within[levels[0]] = 1;
}

/* Maps rows (at most six) image rows starting at row y.  The candidates
 * are, in order, the levels of the pixel above, of the column's top pixel
 * in the band and of the pixel to the left (below the band's top row), and
 * the band's expected base level.  A pixel takes the first candidate
 * within tolerance, else its nearest level, and keeps its nearest level
 * when that is the base.  Then sets map->base to the most frequent level
 * of the band's last row, the likely base of the next band. */
static void map_band(struct sixelenc_gray_map *map, unsigned y, unsigned rows)
{
	const uint64_t *within = map->within[map->step];
	const uint8_t *lut = map->lut, *gray = map->gray + (size_t)y * map->w;
	uint8_t *index = map->index + (size_t)y * map->w;
	unsigned count[SIXELENC_LEVELS_MAX] = { 0 };
	unsigned w = map->w, base = map->base, r, x, k;

	for (x = 0; x < w; x++) {
		unsigned v = gray[x];

		index[x] = (uint8_t)(within[v] >> base & 1 ? base : lut[v]);
	}
	for (r = 1; r < rows; r++) {
		const uint8_t *in = gray + (size_t)r * w;
		const uint8_t *above = index + (size_t)(r - 1) * w;
		uint8_t *out = index + (size_t)r * w;
		unsigned left = index[0];

		for (x = 0; x < w; x++) {
			unsigned v = in[x], up = above[x], top = index[x];
			unsigned pick = within[v] >> base & 1 ? base : lut[v];

			pick = within[v] >> left & 1 ? left : pick;
			pick = within[v] >> top & 1 ? top : pick;
			pick = within[v] >> up & 1 ? up : pick;
			left = lut[v] == base ? base : pick;
			out[x] = (uint8_t)left;
		}
	}

	for (x = 0; x < w; x++)
		count[index[(size_t)(rows - 1) * w + x]]++;
	map->base = 0;
	for (k = 1; k < SIXELENC_LEVELS_MAX; k++) {
		if (count[k] > count[map->base])
			map->base = k;
	}
}

/* Raises the tolerance one step when the output so far is over the
 * budget's share for the bands so far by a tenth, and lowers it again when
 * under by a fifth.  Each band's share follows its activity, so detailed bands
 * get more of the budget than the dark margins and text bands. */
static void steer(struct sixelenc_gray_map *map, unsigned y, size_t written)
{
	size_t allowed = (size_t)((double)map->budget * map->activity[y / 6 - 1] /
		map->activity[(map->h + 5) / 6 - 1]);

	if (written > allowed + allowed / 10 && map->step + 1 < map->nsteps)
		map->step++;
	else if (written < allowed - allowed / 5 && map->step > 0)
		map->step--;
}

/* Fills map->activity with the running sum, band by band, of the pixels
 * that differ from the pixel above by more than ACTIVITY_STEP gray values,
 * plus a twentieth of each row for the band's fixed cost.  Only every
 * third row is compared, with weight 3, which keeps the pass cheap. */
#define ACTIVITY_STEP 8

static void measure_activity(struct sixelenc_gray_map *map)
{
	unsigned w = map->w, y, x;
	uint32_t sum = 0;

	for (y = 0; y < map->h; y++) {
		const uint8_t *row = map->gray + (size_t)y * w;
		uint32_t changed = w / 20 + 1;

		if (y % 3 == 1) {
			const uint8_t *above = row - w;
			uint32_t count = 0;

			for (x = 0; x < w; x++)
				count += (unsigned)abs(row[x] - above[x]) > ACTIVITY_STEP;
			changed += 3 * count;
		}
		sum += changed;
		if (y % 6 == 5 || y + 1 == map->h)
			map->activity[y / 6] = sum;
	}
}

static void fill_band(struct sixelenc_source *source, unsigned y, unsigned rows, size_t written)
{
	struct sixelenc_gray_map *map = (struct sixelenc_gray_map *)source;

	if (map->nsteps > 1 && y > 0)
		steer(map, y, written);
	map_band(map, y, rows);
	if (map->patch)
		map->patch(map->patch_ctx, map->index, y, rows);
}

void sixelenc_gray_map_init(struct sixelenc_gray_map *map, const uint8_t *gray, unsigned w,
	unsigned h, const uint8_t *levels, const uint8_t lut[256], unsigned tolerance,
	uint8_t *index)
{
	unsigned count = lut[255] + 1u, s;

	memset(map, 0, sizeof(*map));
	map->source.fill_band = fill_band;
	map->gray = gray;
	map->levels = levels;
	map->lut = lut;
	map->index = index;
	map->w = w;
	map->h = h;
	map->base = lut[gray[0]];

	if (tolerance == SIXELENC_TOLERANCE_AUTO) {
		map->nsteps = SIXELENC_AUTO_STEPS;
		map->step = AUTO_START;
		map->budget = (size_t)w * h * SIXELENC_BUDGET_PERMILLE / 1000;
		for (s = 0; s < SIXELENC_AUTO_STEPS; s++)
			fill_within(levels, count, auto_tolerance[s], map->within[s]);
		measure_activity(map);
	} else {
		map->nsteps = 1;
		fill_within(levels, count, tolerance, map->within[0]);
	}
}
