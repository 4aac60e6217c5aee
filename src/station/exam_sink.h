/* A capture sink (station/capture.h) that saves the live screen's stills and
 * cines into an exam of the station store. */
#ifndef STATION_EXAM_SINK_H
#define STATION_EXAM_SINK_H

#include "station/capture.h"
#include "station/store.h"

/* Fills sink with a target that saves into the exam uuid of s.  A draft exam
 * moves to scanning with the first capture.  s must stay open until the
 * sink's close callback has run.  Returns 0, SONO_EINVAL for a malformed
 * UUID, SONO_ENOTFOUND for an unknown exam, or SONO_ENOMEM. */
int exam_capture_sink(struct capture_sink *sink, struct store *s, const char *uuid);

#endif
