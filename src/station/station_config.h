/* The keys of sonoterm's configuration file.
 *
 * Every part of the station that reads $XDG_CONFIG_HOME/sonoterm/sonoterm.conf
 * must load it with this one table: config_load() rejects keys it does not
 * list, so a command with a shorter table would refuse a file that another
 * command wrote. */
#ifndef STATION_STATION_CONFIG_H
#define STATION_STATION_CONFIG_H

#include "sono/config.h"

/* All known sections and keys, ending with a { NULL } entry. */
extern const struct config_key station_config_keys[];

#endif
