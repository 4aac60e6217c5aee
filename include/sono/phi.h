/* A wrapper type for protected health information.
 *
 * Patient names, ids, birth dates and accession numbers are kept in
 * struct phi_text rather than plain char arrays.  Passing one to LOG_* or any
 * printf-style function is a compile-time error, so the only way to print a
 * patient field is phi_text_get(), which makes each use easy to audit with
 * grep.  The buffer is wiped when the value is cleared. */
#ifndef SONO_PHI_H
#define SONO_PHI_H

#include <stddef.h>

/* Largest stored field in bytes: DICOM LO and PN components allow 64
 * characters, which is up to 256 bytes in UTF-8. */
#define PHI_TEXT_MAX 256

struct phi_text {
	char value[PHI_TEXT_MAX + 1];
};

/* Copies src (UTF-8, at most PHI_TEXT_MAX bytes) into t.
 * Returns 0, or SONO_ETOOBIG and leaves t empty. */
int phi_text_set(struct phi_text *t, const char *src);

/* Returns the NUL-terminated value.  Every caller is a deliberate display or
 * storage path; never pass the result to the log. */
const char *phi_text_get(const struct phi_text *t);

/* Wipes the value. */
void phi_text_clear(struct phi_text *t);

#endif
