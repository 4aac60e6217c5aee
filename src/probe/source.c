/* Frame sources of sonoprobe: the phantom and DICOM replay (sono/source.h).
 *
 * DICOM replay opens every file once at source_open() to check it, then
 * keeps only the file being played in memory.  Frames leave here with
 * pixels, geometry and calibration only: the DICOM reader keeps no patient
 * attribute, so none can reach the station. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "probe/phantom.h"
#include "sono/dicom.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/source.h"

#define PHANTOM_WIDTH 640
#define PHANTOM_HEIGHT 480
#define PHANTOM_SEED 0x50484E544Full
#define SOURCE_MAX_FILES 10000
#define DRIFT_MAX_PX 12.0 /* lateral drift amplitude of replayed frames */
#define SKIP_LOG_MAX 10   /* unreadable files logged one by one at open */

enum source_kind {
	SOURCE_PHANTOM,
	SOURCE_DICOM,
};

struct source {
	enum source_kind kind;
	enum source_motion motion;
	uint64_t start_ns;     /* CLOCK_MONOTONIC at open; drives the motion */
	struct frame last;     /* most recent frame, repeated while frozen */
	char model[160];
	/* phantom */
	struct phantom *phantom;
	/* DICOM replay */
	char **paths;          /* readable files in play order */
	size_t path_count;
	size_t path_index;     /* file being played */
	uint32_t frame_index;  /* next frame of that file */
	struct dicom_image *image; /* open file, or NULL */
	struct frame decoded;  /* scratch frame for drift */
	double default_depth_mm;
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double elapsed_s(const struct source *s)
{
	return (double)(monotonic_ns() - s->start_ns) / 1e9;
}

/* Parses "phantom" or "phantom:WIDTHxHEIGHT". */
static int open_phantom(struct source *s, const char *size, char *err, size_t errlen)
{
	unsigned long width = PHANTOM_WIDTH, height = PHANTOM_HEIGHT;
	char *end;
	int rc;

	if (size) {
		width = strtoul(size, &end, 10);
		if (*end != 'x' || width == 0)
			goto bad_size;
		height = strtoul(end + 1, &end, 10);
		if (*end != '\0' || height == 0)
			goto bad_size;
	}
	if (width < 64 || height < 64 || width > FRAME_MAX_DIM || height > FRAME_MAX_DIM)
		goto bad_size;

	rc = phantom_new(&s->phantom, (uint32_t)width, (uint32_t)height, PHANTOM_SEED);
	if (rc < 0) {
		snprintf(err, errlen, "phantom: %s", sono_strerror(rc));
		return rc;
	}
	s->kind = SOURCE_PHANTOM;
	snprintf(s->model, sizeof(s->model), "Sonoterm phantom");
	return SONO_OK;

bad_size:
	snprintf(err, errlen, "invalid phantom size \"%s\"; use WIDTHxHEIGHT with sides from 64 to %d",
		size, FRAME_MAX_DIM);
	return SONO_EINVAL;
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct source *s, const char *path)
{
	char **grown;
	char *copy;

	if (s->path_count >= SOURCE_MAX_FILES)
		return SONO_ETOOBIG;
	grown = realloc(s->paths, (s->path_count + 1) * sizeof(*grown));
	if (!grown)
		return SONO_ENOMEM;
	s->paths = grown;
	copy = strdup(path);
	if (!copy)
		return SONO_ENOMEM;
	s->paths[s->path_count++] = copy;
	return SONO_OK;
}

/* Lists the regular, non-hidden files of folder in s->paths, sorted. */
static int list_folder(struct source *s, const char *folder, char *err, size_t errlen)
{
	char path[4096];
	struct dirent *entry;
	struct stat st;
	DIR *dir;
	int rc = SONO_OK, n;

	dir = opendir(folder);
	if (!dir) {
		snprintf(err, errlen, "%s: cannot open folder: %s", folder, strerror(errno));
		return SONO_EIO;
	}
	while (rc == 0 && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", folder, entry->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		rc = add_path(s, path);
	}
	closedir(dir);
	if (rc == SONO_ETOOBIG)
		snprintf(err, errlen, "%s: more than %d files; replay a smaller folder", folder,
			SOURCE_MAX_FILES);
	if (rc == 0 && s->path_count > 1)
		qsort(s->paths, s->path_count, sizeof(*s->paths), compare_paths);
	return rc;
}

/* Sets the model string and default depth from the first playable file. */
static void describe_replay(struct source *s, const struct dicom_info *info)
{
	const char *space = info->manufacturer[0] && info->model[0] ? " " : "";

	if (info->manufacturer[0] || info->model[0])
		snprintf(s->model, sizeof(s->model), "%s%s%s", info->manufacturer, space, info->model);
	else
		snprintf(s->model, sizeof(s->model), "DICOM replay");
	s->default_depth_mm = info->spacing_mm[1] * info->height;
}

/* Opens each listed file once, drops (and logs) those the reader rejects
 * and keeps the first playable one open.  Fails when none is playable. */
static int check_files(struct source *s, const char *spec_path, char *err, size_t errlen)
{
	char reason[512] = "";
	struct dicom_image *img;
	size_t i, playable = 0, skipped = 0;
	int rc, last_rc = SONO_ENOTFOUND;

	for (i = 0; i < s->path_count; i++) {
		rc = dicom_open_file(&img, s->paths[i], reason, sizeof(reason));
		if (rc < 0) {
			if (++skipped <= SKIP_LOG_MAX)
				LOG_WARN("skipping %s", reason);
			last_rc = rc;
			free(s->paths[i]);
			continue;
		}
		if (playable == 0) {
			describe_replay(s, dicom_get_info(img));
			s->image = img;
		} else {
			dicom_free(img);
		}
		s->paths[playable++] = s->paths[i];
	}
	s->path_count = playable;
	if (skipped > SKIP_LOG_MAX)
		LOG_WARN("skipped %zu more unreadable files in %s", skipped - SKIP_LOG_MAX, spec_path);
	if (playable > 0)
		return SONO_OK;
	if (i == 1)
		snprintf(err, errlen, "%s", reason);
	else
		snprintf(err, errlen, "%s: no readable DICOM file among %zu files (last error: %s)",
			spec_path, i, reason[0] ? reason : "folder is empty");
	return last_rc;
}

static int open_dicom(struct source *s, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
	}
	if (S_ISDIR(st.st_mode))
		rc = list_folder(s, path, err, errlen);
	else
		rc = add_path(s, path);
	if (rc < 0) {
		if (rc == SONO_ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		return rc;
	}

	rc = check_files(s, path, err, errlen);
	if (rc < 0)
		return rc;
	s->kind = SOURCE_DICOM;
	LOG_INFO("replaying %zu DICOM file(s) from %s (model \"%s\")", s->path_count, path,
		s->model);
	return SONO_OK;
}

int source_open(struct source **out, const char *spec, enum source_motion motion, char *err,
	size_t errlen)
{
	struct source *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return SONO_ENOMEM;
	}
	s->motion = motion;
	s->start_ns = monotonic_ns();

	if (!strcmp(spec, "phantom")) {
		rc = open_phantom(s, NULL, err, errlen);
	} else if (!strncmp(spec, "phantom:", 8)) {
		rc = open_phantom(s, spec + 8, err, errlen);
	} else if (!strncmp(spec, "dicom:", 6) && spec[6] != '\0') {
		rc = open_dicom(s, spec + 6, err, errlen);
	} else {
		snprintf(err, errlen, "unknown source \"%s\"; use phantom, phantom:WIDTHxHEIGHT or dicom:PATH",
			spec);
		rc = SONO_EINVAL;
	}
	if (rc < 0) {
		source_close(s);
		return rc;
	}
	*out = s;
	return SONO_OK;
}

/* Removes the file at index from the play list. */
static void drop_path(struct source *s, size_t index)
{
	free(s->paths[index]);
	memmove(s->paths + index, s->paths + index + 1,
		(s->path_count - index - 1) * sizeof(*s->paths));
	s->path_count--;
}

/* Moves to the next file that still opens, wrapping around.  A file that
 * no longer opens (changed or removed since source_open()) is logged once
 * and dropped from the play list.  Fails when no file is left. */
static int advance_file(struct source *s)
{
	char reason[512];
	size_t next;
	int rc;

	s->frame_index = 0;
	if (s->path_count == 1 && s->image)
		return SONO_OK;
	dicom_free(s->image);
	s->image = NULL;
	next = s->path_index + 1;
	while (s->path_count > 0) {
		next %= s->path_count;
		rc = dicom_open_file(&s->image, s->paths[next], reason, sizeof(reason));
		if (rc == 0) {
			s->path_index = next;
			return SONO_OK;
		}
		LOG_WARN("dropped from the replay: %s", reason);
		drop_path(s, next);
	}
	LOG_ERROR("no playable DICOM file is left to replay");
	return SONO_ENOTFOUND;
}

/* Ensures f has pixels for the given geometry, reusing them when they fit. */
static int ensure_frame(struct frame *f, uint32_t width, uint32_t height, unsigned components)
{
	if (f->pixels && f->width == width && f->height == height && f->components == components)
		return SONO_OK;
	frame_free(f);
	return frame_alloc(f, width, height, components, FRAME_MAX_BYTES);
}

static long clamp_index(long v, long size)
{
	if (v < 0)
		return 0;
	if (v >= size)
		return size - 1;
	return v;
}

/* Copies src into dst shifted by a slow sway (10 s period, DRIFT_MAX_PX)
 * and breathing (4.5 s, a quarter of that), repeating the edge pixels. */
static int drift_frame(const struct frame *src, double t_s, struct frame *dst)
{
	long dx = lround(DRIFT_MAX_PX * sin(2 * M_PI * t_s / 10.0));
	long dy = lround(DRIFT_MAX_PX / 4 * sin(2 * M_PI * t_s / 4.5));
	size_t c = src->components, row_bytes = (size_t)src->width * c;
	long x, y, sx, sy;
	int rc;

	rc = ensure_frame(dst, src->width, src->height, src->components);
	if (rc < 0)
		return rc;
	for (y = 0; y < (long)src->height; y++) {
		sy = clamp_index(y - dy, src->height);
		for (x = 0; x < (long)src->width; x++) {
			sx = clamp_index(x - dx, src->width);
			memcpy(dst->pixels + (size_t)y * row_bytes + (size_t)x * c,
				src->pixels + (size_t)sy * row_bytes + (size_t)sx * c, c);
		}
	}
	dst->spacing_mm[0] = src->spacing_mm[0];
	dst->spacing_mm[1] = src->spacing_mm[1];
	return SONO_OK;
}

static int next_dicom_frame(struct source *s, struct frame *out)
{
	int rc;

	if (!s->image || s->frame_index >= dicom_get_info(s->image)->frames) {
		rc = advance_file(s);
		if (rc < 0)
			return rc;
	}
	if (s->motion == SOURCE_MOTION_NONE)
		return dicom_get_frame(s->image, s->frame_index++, out);

	rc = dicom_get_frame(s->image, s->frame_index++, &s->decoded);
	if (rc == 0)
		rc = drift_frame(&s->decoded, elapsed_s(s), out);
	return rc;
}

/* While frozen the last frame repeats with its pixels and seq unchanged;
 * timestamp_ns is always the time source_next() produced the frame. */
int source_next(struct source *s, const struct source_params *params, struct frame *out)
{
	uint32_t seq = s->last.seq;
	int rc;

	if (params->frozen && s->last.pixels) {
		rc = frame_copy(out, &s->last);
		out->timestamp_ns = frame_now_ns();
		return rc;
	}
	if (s->kind == SOURCE_PHANTOM)
		rc = phantom_render(s->phantom, params, elapsed_s(s), out);
	else
		rc = next_dicom_frame(s, out);
	if (rc < 0)
		return rc;

	out->timestamp_ns = frame_now_ns();
	out->seq = s->last.pixels ? seq + 1 : 0;
	return frame_copy(&s->last, out);
}

const char *source_model(const struct source *s)
{
	return s->model;
}

void source_default_params(const struct source *s, struct source_params *params)
{
	memset(params, 0, sizeof(*params));
	if (s->kind == SOURCE_PHANTOM)
		params->depth_mm = PHANTOM_DEFAULT_DEPTH_MM;
	else
		params->depth_mm = s->default_depth_mm;
}

void source_close(struct source *s)
{
	size_t i;

	if (!s)
		return;
	phantom_free(s->phantom);
	dicom_free(s->image);
	for (i = 0; i < s->path_count; i++)
		free(s->paths[i]);
	free(s->paths);
	frame_free(&s->last);
	frame_free(&s->decoded);
	free(s);
}
