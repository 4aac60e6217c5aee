/* Tests of DICOM replay through sono/source.h: byte-exact frames, folders
 * with unreadable files, drift motion and freeze. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sono/dicom.h"
#include "sono/error.h"
#include "sono/frame.h"
#include "sono/source.h"

static const char *shared_file(const char *name, char *path, size_t size)
{
	const char *dir = getenv("SONO_SHARED_DATA");

	snprintf(path, size, "%s/ultrasound/%s", dir ? dir : "../shared/data", name);
	return path;
}

/* Decodes frame 0 of a shared file directly with the DICOM reader. */
static void reference_frame(const char *name, struct frame *f)
{
	struct dicom_image *img = NULL;
	char path[4096], err[512];

	assert_int_equal(dicom_open_file(&img, shared_file(name, path, sizeof(path)), err,
		sizeof(err)), 0);
	assert_int_equal(dicom_get_frame(img, 0, f), 0);
	dicom_free(img);
}

static size_t frame_bytes(const struct frame *f)
{
	return (size_t)f->width * f->height * f->components;
}

static void replay_file_is_byte_exact(void **state)
{
	struct frame ref = { 0 }, f = { 0 };
	struct source_params params;
	struct source *s = NULL;
	char spec[4200], path[4096], err[512] = "";
	int i;

	(void)state;
	snprintf(spec, sizeof(spec), "dicom:%s", shared_file("US1_UNCR.dcm", path, sizeof(path)));
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)), 0);
	assert_string_equal(source_model(s), "G.E. Medical Systems LOGIQ 700");
	source_default_params(s, &params);
	assert_true(params.depth_mm == 0); /* the file has no calibration */

	reference_frame("US1_UNCR.dcm", &ref);
	for (i = 0; i < 3; i++) {
		assert_int_equal(source_next(s, &params, &f), 0);
		assert_int_equal(f.width, 640);
		assert_int_equal(f.components, 3);
		assert_int_equal(f.seq, (uint32_t)i);
		assert_memory_equal(f.pixels, ref.pixels, frame_bytes(&ref));
	}
	frame_free(&ref);
	frame_free(&f);
	source_close(s);
}

static void replay_aloka_has_calibrated_depth(void **state)
{
	struct source_params params;
	struct source *s = NULL;
	char spec[4200], path[4096], err[512] = "";

	(void)state;
	snprintf(spec, sizeof(spec), "dicom:%s",
		shared_file("gdcm-US-ALOKA-16.dcm", path, sizeof(path)));
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)), 0);
	assert_string_equal(source_model(s), "ALOKA CO., LTD. SSD-4000");
	source_default_params(s, &params);
	/* 480 rows of 0.38265 mm each. */
	assert_true(params.depth_mm > 183.6 && params.depth_mm < 183.7);
	source_close(s);
}

/* Builds a folder of links: two playable files, a JPEG 2000 file and a
 * text file, named so that sorted order is known. */
static void make_folder(char *dir, char names[4][4200])
{
	static const char *const targets[4] = { "US1_UNCR.dcm", "gdcm-US-ALOKA-16.dcm",
		"US1_J2KR.dcm", NULL };
	static const char *const links[4] = { "a.dcm", "b.dcm", "c.dcm", "d.txt" };
	char path[4096];
	FILE *f;
	int i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 4; i++) {
		snprintf(names[i], 4200, "%s/%s", dir, links[i]);
		if (targets[i]) {
			assert_int_equal(symlink(shared_file(targets[i], path, sizeof(path)), names[i]), 0);
		} else {
			f = fopen(names[i], "w");
			assert_non_null(f);
			fputs("not DICOM\n", f);
			fclose(f);
		}
	}
}

static void replay_folder_skips_unreadable(void **state)
{
	struct frame us1 = { 0 }, aloka = { 0 }, f = { 0 };
	struct source_params params;
	struct source *s = NULL;
	char dir[] = "/tmp/test_source.XXXXXX", names[4][4200], spec[4200], err[512] = "";
	int i;

	(void)state;
	make_folder(dir, names);
	reference_frame("US1_UNCR.dcm", &us1);
	reference_frame("gdcm-US-ALOKA-16.dcm", &aloka);
	snprintf(spec, sizeof(spec), "dicom:%s", dir);
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)), 0);
	source_default_params(s, &params);

	/* a.dcm, b.dcm, then around again; c.dcm and d.txt are skipped. */
	for (i = 0; i < 4; i++) {
		const struct frame *expected = i % 2 ? &aloka : &us1;

		assert_int_equal(source_next(s, &params, &f), 0);
		assert_int_equal(frame_bytes(&f), frame_bytes(expected));
		assert_memory_equal(f.pixels, expected->pixels, frame_bytes(expected));
	}

	/* Freeze repeats the current frame. */
	params.frozen = 1;
	assert_int_equal(source_next(s, &params, &f), 0);
	assert_memory_equal(f.pixels, aloka.pixels, frame_bytes(&aloka));

	source_close(s);
	for (i = 0; i < 4; i++)
		unlink(names[i]);
	rmdir(dir);
	frame_free(&us1);
	frame_free(&aloka);
	frame_free(&f);
}

static void replay_without_playable_file_fails(void **state)
{
	char dir[] = "/tmp/test_source.XXXXXX", spec[4200], path[4096], err[512] = "";
	struct source *s = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "dicom:%s", dir);
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)),
		SONO_ENOTFOUND);
	assert_null(s);
	assert_non_null(strstr(err, "no readable DICOM file"));
	rmdir(dir);

	snprintf(spec, sizeof(spec), "dicom:%s", shared_file("US1_J2KR.dcm", path, sizeof(path)));
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)),
		SONO_EUNSUPPORTED);
	assert_non_null(strstr(err, "JPEG 2000"));

	assert_int_equal(source_open(&s, "dicom:/nonexistent/folder", SOURCE_MOTION_NONE, err,
		sizeof(err)), SONO_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/folder"));
}

static void replay_drops_vanished_files(void **state)
{
	struct frame us1 = { 0 }, f = { 0 };
	struct source_params params;
	struct source *s = NULL;
	char dir[] = "/tmp/test_source.XXXXXX", names[4][4200], spec[4200], err[512] = "";
	int i;

	(void)state;
	make_folder(dir, names);
	reference_frame("US1_UNCR.dcm", &us1);
	snprintf(spec, sizeof(spec), "dicom:%s", dir);

	/* b.dcm disappears after the first frame: replay goes on with a.dcm. */
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)), 0);
	source_default_params(s, &params);
	assert_int_equal(source_next(s, &params, &f), 0);
	assert_int_equal(unlink(names[1]), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(source_next(s, &params, &f), 0);
		assert_memory_equal(f.pixels, us1.pixels, frame_bytes(&us1));
	}
	source_close(s);

	/* Both playable files disappear after the first frame: an error. */
	assert_int_equal(symlink(names[0], names[1]), 0); /* b.dcm again, now a link to a.dcm */
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)), 0);
	assert_int_equal(source_next(s, &params, &f), 0);
	assert_int_equal(unlink(names[1]), 0);
	assert_int_equal(unlink(names[0]), 0);
	assert_int_equal(source_next(s, &params, &f), SONO_ENOTFOUND);
	source_close(s);

	for (i = 2; i < 4; i++)
		unlink(names[i]);
	rmdir(dir);
	frame_free(&us1);
	frame_free(&f);
}

/* The fuzz corpus contains a 2-frame 2x2 RGB file with planar configuration 1
 * whose stored bytes are 0, 1, ..., 23. */
static void replay_multiframe_plays_cine(void **state)
{
	static const uint8_t frame0[12] = { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 };
	static const uint8_t frame1[12] = { 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23 };
	const char *top = getenv("top_srcdir");
	struct source_params params;
	struct frame f = { 0 };
	struct source *s = NULL;
	char spec[4200], err[512] = "";
	int i;

	(void)state;
	snprintf(spec, sizeof(spec), "dicom:%s/tests/fuzz/corpus/fuzz_dicom/rgb_planar1_multiframe.dcm",
		top ? top : ".");
	if (source_open(&s, spec, SOURCE_MOTION_NONE, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	source_default_params(s, &params);
	for (i = 0; i < 5; i++) {
		assert_int_equal(source_next(s, &params, &f), 0);
		assert_memory_equal(f.pixels, i % 2 ? frame1 : frame0, sizeof(frame0));
	}
	frame_free(&f);
	source_close(s);
}

static void drift_shifts_but_keeps_geometry(void **state)
{
	struct frame ref = { 0 }, f = { 0 };
	struct source_params params;
	struct source *s = NULL;
	char spec[4200], path[4096], err[512] = "";
	int i, differs = 0;

	(void)state;
	reference_frame("US1_UNCR.dcm", &ref);
	snprintf(spec, sizeof(spec), "dicom:%s", shared_file("US1_UNCR.dcm", path, sizeof(path)));
	assert_int_equal(source_open(&s, spec, SOURCE_MOTION_DRIFT, err, sizeof(err)), 0);
	source_default_params(s, &params);
	/* The drift is a function of time since open: sample it for up to 2 s. */
	for (i = 0; i < 40 && !differs; i++) {
		assert_int_equal(source_next(s, &params, &f), 0);
		assert_int_equal(f.width, ref.width);
		assert_int_equal(f.height, ref.height);
		assert_int_equal(f.components, ref.components);
		differs = memcmp(f.pixels, ref.pixels, frame_bytes(&ref)) != 0;
		if (!differs)
			usleep(50000);
	}
	assert_true(differs);
	frame_free(&ref);
	frame_free(&f);
	source_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replay_file_is_byte_exact),
		cmocka_unit_test(replay_aloka_has_calibrated_depth),
		cmocka_unit_test(replay_folder_skips_unreadable),
		cmocka_unit_test(replay_without_playable_file_fails),
		cmocka_unit_test(replay_drops_vanished_files),
		cmocka_unit_test(replay_multiframe_plays_cine),
		cmocka_unit_test(drift_shifts_but_keeps_geometry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
