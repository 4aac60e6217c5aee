/* Helpers shared by exam.c and exam_part.c; not for other modules. */
#ifndef STATION_EXAM_INTERNAL_H
#define STATION_EXAM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "station/exam.h"

/* Finds the exam's row id, state and tombstone flag.  Returns SONO_EINVAL for
 * a malformed UUID and SONO_ENOTFOUND for an unknown one. */
int exam_lookup(struct store *s, const char *uuid, int64_t *row, enum exam_state *state);

/* Checks the lifecycle invariants listed in exam.h for one exam.  Returns 0,
 * or SONO_EDB with the broken invariant in err. */
int exam_check_invariants(struct store *s, int64_t row, char *err, size_t errlen);

/* Runs exam_check_invariants() in debug builds and aborts on a violation. */
void exam_assert_invariants(struct store *s, int64_t row);

#endif
