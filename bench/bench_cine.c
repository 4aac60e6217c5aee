/* Measures the compressed cine buffer on frames from a frame source.  It
 * prints the time cine_push takes per frame, how many seconds of 30 fps
 * frames the budget holds, and the size of one frame compressed alone (a
 * key frame).  Then it times scrubbing the full buffer one frame back, one
 * frame forward, and to random frames.
 *
 * Usage: bench_cine SPEC [FRAMES [BUDGET_MIB]]
 * SPEC is a source spec ("phantom", "dicom:PATH"); DICOM stills are
 * replayed with the drift the scanner simulator uses.  Frames are taken at
 * 30 fps of real time, because the phantom's motion and the drift follow
 * the clock.  FRAMES defaults to 600 and BUDGET_MIB to the station's
 * default budget. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "sono/frame.h"
#include "sono/source.h"
#include "station/cine.h"

#define FRAME_PERIOD_NS 33333333ull /* 30 fps */

struct timings {
	double *ms;
	double *cpu_ms; /* thread CPU time of the same calls, or NULL */
	size_t n;
};

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

static void print_timings(const char *label, struct timings *t)
{
	double sum = 0;
	size_t i;

	if (t->n == 0)
		return;
	for (i = 0; i < t->n; i++)
		sum += t->ms[i];
	qsort(t->ms, t->n, sizeof(*t->ms), compare_double);
	printf("%s: %zu calls, wall mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", label,
		t->n, sum / (double)t->n, t->ms[t->n / 2], t->ms[(size_t)((double)t->n * 0.99)],
		t->ms[t->n - 1]);
	if (!t->cpu_ms)
		return;
	for (sum = 0, i = 0; i < t->n; i++)
		sum += t->cpu_ms[i];
	qsort(t->cpu_ms, t->n, sizeof(*t->cpu_ms), compare_double);
	printf("%s: CPU mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", label,
		sum / (double)t->n, t->cpu_ms[t->n / 2], t->cpu_ms[(size_t)((double)t->n * 0.99)],
		t->cpu_ms[t->n - 1]);
}

/* Sleeps until frame i of a 30 fps sequence that began at start_ns. */
static void pace(uint64_t start_ns, long i)
{
	uint64_t due = start_ns + (uint64_t)i * FRAME_PERIOD_NS;
	struct timespec ts = { .tv_sec = (time_t)(due / 1000000000u),
		.tv_nsec = (long)(due % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Prints the size of f compressed alone at the cine's zstd level, and the
 * seconds at 30 fps that the budget would hold if every frame compressed
 * that way.  That is an estimate for clips whose speckle changes
 * throughout. */
static void print_key_size(const struct frame *f, size_t budget)
{
	size_t n = (size_t)f->width * f->height * f->components;
	size_t cap = ZSTD_compressBound(n), r;
	void *out = malloc(cap);

	if (!out)
		return;
	r = ZSTD_compress(out, cap, f->pixels, n, CINE_ZSTD_LEVEL);
	if (!ZSTD_isError(r))
		printf("one frame alone: %zu bytes (ratio %.2f); the budget holds %.1f s of such "
			"frames\n", r, (double)n / (double)r, (double)budget / (double)r / 30.0);
	free(out);
}

/* Pushes frames from s into c at 30 fps, with 30 fps timestamps, records
 * the time of each push in t, and prints the key frame size of the last
 * frame.  Returns 0, or 1 when the
 * source or the cine fails. */
static int fill(struct cine *c, struct source *s, long frames, size_t budget, struct timings *t)
{
	struct source_params params;
	struct frame f = { 0 };
	uint64_t start_ns = monotonic_ns();
	double start, cpu_start;
	long i;

	source_default_params(s, &params);
	for (i = 0; i < frames; i++) {
		pace(start_ns, i);
		if (source_next(s, &params, &f) != 0) {
			fprintf(stderr, "bench_cine: source_next failed at frame %ld\n", i);
			return 1;
		}
		f.timestamp_ns = (uint64_t)(i + 1) * FRAME_PERIOD_NS;
		f.seq = (uint32_t)i;
		start = now_ms(CLOCK_MONOTONIC);
		cpu_start = now_ms(CLOCK_THREAD_CPUTIME_ID);
		if (cine_push(c, &f) != 0) {
			fprintf(stderr, "bench_cine: cine_push failed at frame %ld\n", i);
			return 1;
		}
		t->cpu_ms[t->n] = now_ms(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
		t->ms[t->n++] = now_ms(CLOCK_MONOTONIC) - start;
	}
	printf("frame %ux%u, %u components, %zu bytes\n", f.width, f.height, f.components,
		(size_t)f.width * f.height * f.components);
	print_key_size(&f, budget);
	frame_free(&f);
	return 0;
}

/* Times cine_get for each index in order[0 .. n-1]. */
static int scrub(struct cine *c, const size_t *order, size_t n, struct timings *t)
{
	double start;
	size_t i;

	double cpu_start;

	t->n = 0;
	for (i = 0; i < n; i++) {
		start = now_ms(CLOCK_MONOTONIC);
		cpu_start = now_ms(CLOCK_THREAD_CPUTIME_ID);
		if (!cine_get(c, order[i])) {
			fprintf(stderr, "bench_cine: cine_get(%zu) failed\n", order[i]);
			return 1;
		}
		t->cpu_ms[t->n] = now_ms(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
		t->ms[t->n++] = now_ms(CLOCK_MONOTONIC) - start;
	}
	return 0;
}

static int scrub_all(struct cine *c, struct timings *t, size_t *order)
{
	size_t n = cine_count(c), i;
	int rc;

	for (i = 0; i < n; i++)
		order[i] = n - 1 - i;
	rc = scrub(c, order, n, t);
	print_timings("scrub one frame back", t);
	for (i = 0; i < n; i++)
		order[i] = i;
	rc |= scrub(c, order, n, t);
	print_timings("scrub one frame forward", t);
	srand(1);
	for (i = 0; i < n; i++)
		order[i] = (size_t)rand() % n;
	rc |= scrub(c, order, n, t);
	print_timings("jump to a random frame", t);
	return rc;
}

int main(int argc, char **argv)
{
	long frames = argc > 2 ? strtol(argv[2], NULL, 10) : 600;
	long mib = argc > 3 ? strtol(argv[3], NULL, 10) : (long)(CINE_BYTES_DEFAULT >> 20);
	struct timings t = { 0 };
	struct source *s = NULL;
	struct cine *c = NULL;
	size_t *order = NULL;
	char err[256];
	int rc = 1;

	if (argc < 2 || frames < 1 || frames > 100000 || mib < 1 || mib > 4096) {
		fprintf(stderr, "usage: bench_cine SPEC [FRAMES (1 to 100000) [BUDGET_MIB (1 to 4096)]]\n");
		return 2;
	}
	if (source_open(&s, argv[1], SOURCE_MOTION_DRIFT, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_cine: %s\n", err);
		return 1;
	}
	c = cine_new(CINE_SECONDS_DEFAULT, (size_t)mib << 20);
	t.ms = calloc((size_t)frames, sizeof(*t.ms));
	t.cpu_ms = calloc((size_t)frames, sizeof(*t.cpu_ms));
	order = calloc((size_t)frames, sizeof(*order));
	if (!c || !t.ms || !t.cpu_ms || !order)
		goto out;

	printf("%s: %ld frames at 30 fps into a %ld MiB, %.0f s cine\n", argv[1], frames, mib,
		CINE_SECONDS_DEFAULT);
	if (fill(c, s, frames, (size_t)mib << 20, &t) != 0)
		goto out;
	print_timings("cine_push", &t);
	printf("held: %zu frames, %.2f s, %zu bytes compressed, %.0f bytes per frame\n",
		cine_count(c), cine_span_seconds(c), cine_bytes(c),
		(double)cine_bytes(c) / (double)cine_count(c));
	rc = scrub_all(c, &t, order);

out:
	free(order);
	free(t.ms);
	free(t.cpu_ms);
	cine_free(c);
	source_close(s);
	return rc;
}
