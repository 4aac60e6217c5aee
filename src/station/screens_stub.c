/* Placeholders for station commands that are not built yet.  Every command
 * it once held is now implemented elsewhere. */
#include "config.h"

#include <stdio.h>

#include "sono/cli.h"
#include "station/commands.h"
