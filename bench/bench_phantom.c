/* Times phantom frames rendered through the frame source API (the phantom
 * render plus the copy kept for freeze).  Prints the mean, median, 99th
 * percentile and maximum wall time per frame, and the mean CPU time, which
 * a loaded machine disturbs less.  One frame
 * before the timed ones builds the per-depth geometry maps, which the
 * phantom rebuilds only when depth or preset changes.
 *
 * Usage: bench_phantom [FRAMES [WIDTHxHEIGHT]]   (defaults 600, 640x480) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sono/frame.h"
#include "sono/source.h"

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long frames = argc > 1 ? strtol(argv[1], NULL, 10) : 600;
	const char *size = argc > 2 ? argv[2] : "640x480";
	struct source_params params;
	struct frame f = { 0 };
	struct source *s = NULL;
	char spec[64], err[256];
	double *times, start, total = 0, cpu_start;
	long i;

	if (frames < 1 || frames > 1000000) {
		fprintf(stderr, "bench_phantom: FRAMES must be from 1 to 1000000\n");
		return 2;
	}
	snprintf(spec, sizeof(spec), "phantom:%s", size);
	if (source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_phantom: %s\n", err);
		return 1;
	}
	times = calloc((size_t)frames, sizeof(*times));
	if (!times)
		return 1;
	source_default_params(s, &params);
	if (source_next(s, &params, &f) != 0) {
		fprintf(stderr, "bench_phantom: the first frame failed\n");
		return 1;
	}

	cpu_start = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < frames; i++) {
		start = now_ms(CLOCK_MONOTONIC);
		if (source_next(s, &params, &f) != 0) {
			fprintf(stderr, "bench_phantom: source_next failed at frame %ld\n", i);
			return 1;
		}
		times[i] = now_ms(CLOCK_MONOTONIC) - start;
		total += times[i];
	}
	qsort(times, (size_t)frames, sizeof(*times), compare_double);
	printf("phantom %s: %ld frames, wall mean %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
		"CPU mean %.2f ms\n", size, frames, total / (double)frames, times[frames / 2],
		times[(size_t)((double)frames * 0.99)], times[frames - 1],
		(now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / (double)frames);

	free(times);
	frame_free(&f);
	source_close(s);
	return 0;
}
