/* `sonoterm doctor`: a report of what the station detects, for support calls. */
#ifndef STATION_DOCTOR_H
#define STATION_DOCTOR_H

#include <stdio.h>

#include "sono/config.h"

/* Writes the "Peers" section: the configured scanner and cloud, and for
 * each the outcome of a connection with the station's TLS policy and trust
 * (at most a few seconds each).  cfg is NULL when no configuration was
 * loaded. */
void doctor_report_peers(FILE *out, const struct config *cfg);

#endif
