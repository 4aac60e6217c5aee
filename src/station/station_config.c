/* The one table of keys of sonoterm.conf. */
#include "config.h"

#include <stddef.h>

#include "station/station_config.h"

const struct config_key station_config_keys[] = {
	{ "cloud", "url", "cloud base URL, https://HOST[:PORT]" },
	{ "cloud", "pin", "cloud certificate fingerprint, SHA256:<hex>" },
	{ "cloud", "ca_file", "CA bundle that verifies the cloud's certificate" },
	{ "cloud", "connect_timeout", "seconds for TCP connect and TLS handshake (1 to 300)" },
	{ "cloud", "low_speed_time", "seconds below 1 byte/s before a transfer is cut (1 to 3600)" },
	{ "upload", "max_attempts", "automatic upload attempts per exam (1 to 1000)" },
	{ "upload", "backoff_min_ms", "first retry delay in ms (1 to 3600000)" },
	{ "upload", "backoff_max_ms", "longest retry delay in ms (1 to 86400000)" },
	{ "scanner", "address", "HOST:PORT of the paired scanner" },
	{ "scanner", "pin", "the scanner certificate's SHA256:HEX fingerprint" },
	{ "ui", "theme", "colour theme name" },
	{ "ui", "render", "auto, sixel, halfblock or ascii" },
	{ "ui", "cine_seconds", "length of the cine buffer in seconds (0.5 to 120)" },
	{ "ui", "cine_megabytes", "memory for the cine buffer in MiB (8 to 4096)" },
	{ "ui", "mouse", "yes or no" },
	{ "ui", "log_level", "error, warn, notice, info or debug" },
	{ "display", "render", "auto, sixel, halfblock or ascii" },
	{ "display", "theme", "colour theme name" },
	{ "store", "data_dir", "station database folder" },
	{ "log", "level", "error, warn, notice, info or debug" },
	{ "log", "file", "log file path" },
	{ NULL, NULL, NULL },
};
