/* `sonoterm doctor`: a report of what the station detects, for support calls. */
#ifndef STATION_DOCTOR_H
#define STATION_DOCTOR_H

#include <stdio.h>

#include "sono/config.h"

/* Writes one "  name: state" line for each peer the configuration names
 * (scanner, cloud) to out.  cfg is NULL when no configuration was loaded.
 * This is the hook where the scanner link and the cloud client add their
 * reachability checks; until they do, it prints the configured addresses
 * only. */
void doctor_report_peers(FILE *out, const struct config *cfg);

#endif
