/* The store's schema as ordered migrations.  store_open() applies every
 * migration newer than the database, each in its own transaction.  Append a
 * new migration at the end with the next version number; never edit one that
 * has shipped, because existing databases have already run it. */
#include "config.h"

#include <stddef.h>

#include "station/store.h"
#include "station/store_cloud.h"

/* Version 1: exams, their patient, and their parts (stills and cines) with
 * one row per frame.  A patient row and the parts belong to one exam and go
 * with it (ON DELETE CASCADE).  A tombstone is an exams row whose patient and
 * parts were deleted after the cloud confirmed the upload. */
static const char schema_v1[] =
	"CREATE TABLE exams ("
	" id INTEGER PRIMARY KEY,"
	" uuid TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL CHECK (state IN ('draft', 'scanning', 'completed', 'queued',"
	"  'uploading', 'uploaded', 'failed', 'exported')),"
	" preset TEXT NOT NULL DEFAULT '',"
	" created_ns INTEGER NOT NULL,"
	" started_ns INTEGER NOT NULL DEFAULT 0,"
	" completed_ns INTEGER NOT NULL DEFAULT 0,"
	" updated_ns INTEGER NOT NULL,"
	" uploaded_ns INTEGER NOT NULL DEFAULT 0,"
	" receipt_id TEXT NOT NULL DEFAULT '',"
	" tombstone INTEGER NOT NULL DEFAULT 0 CHECK (tombstone IN (0, 1)));"
	"CREATE TABLE patients ("
	" exam_id INTEGER PRIMARY KEY REFERENCES exams (id) ON DELETE CASCADE,"
	" patient_id TEXT NOT NULL,"
	" family_name TEXT NOT NULL,"
	" given_name TEXT NOT NULL DEFAULT '',"
	" middle_name TEXT NOT NULL DEFAULT '',"
	" birth_date TEXT NOT NULL DEFAULT '',"
	" sex TEXT NOT NULL DEFAULT '',"
	" accession TEXT NOT NULL DEFAULT '',"
	" referring_physician TEXT NOT NULL DEFAULT '',"
	" indication TEXT NOT NULL DEFAULT '',"
	" notes TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE parts ("
	" id INTEGER PRIMARY KEY,"
	" exam_id INTEGER NOT NULL REFERENCES exams (id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL CHECK (kind IN ('still', 'cine')),"
	" acquired_ns INTEGER NOT NULL,"
	" scanner_serial TEXT NOT NULL,"
	" depth_mm REAL NOT NULL,"
	" gain_db REAL NOT NULL,"
	" spacing_x_mm REAL NOT NULL,"
	" spacing_y_mm REAL NOT NULL,"
	" width INTEGER NOT NULL,"
	" height INTEGER NOT NULL,"
	" components INTEGER NOT NULL,"
	" frame_count INTEGER NOT NULL,"
	" frame_rate REAL NOT NULL DEFAULT 0,"
	" measurements TEXT NOT NULL DEFAULT '[]',"
	" raw_bytes INTEGER NOT NULL,"
	" stored_bytes INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL);"
	"CREATE INDEX parts_exam ON parts (exam_id);"
	"CREATE TABLE frames ("
	" id INTEGER PRIMARY KEY,"
	" part_id INTEGER NOT NULL REFERENCES parts (id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" timestamp_ns INTEGER NOT NULL,"
	" sha256 BLOB NOT NULL,"
	" data BLOB NOT NULL,"
	" UNIQUE (part_id, idx));";

/* Version 3: a cine frame may be compressed with the previous frame of its
 * part as a zstd prefix (delta = 1), which stores a slowly changing cine in
 * a fraction of the space.  Earlier rows are independent frames. */
static const char schema_v3[] =
	"ALTER TABLE frames ADD COLUMN delta INTEGER NOT NULL DEFAULT 0 CHECK (delta IN (0, 1));";

const struct store_migration store_migrations[] = {
	{ 1, schema_v1 },
	{ 2, store_cloud_schema }, /* cloud session, verifiers, scanners, settings, uploads */
	{ 3, schema_v3 },
	/* store-migrations-end */
	{ 0, NULL },
};
