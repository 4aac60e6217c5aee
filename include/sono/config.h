/* INI-style configuration files.
 *
 * A file has "[section]" headers and "key = value" lines; '#' and ';' start
 * comment lines.  Each program passes the table of keys it knows: an unknown
 * section or key is an error naming the file and line, so a typo is never
 * silently ignored.  Values set later (command-line flags) override the file.
 * config_save() writes the file atomically with mode 0600. */
#ifndef SONO_CONFIG_H
#define SONO_CONFIG_H

#include <stddef.h>

#define CONFIG_NAME_MAX 64
#define CONFIG_VALUE_MAX 1024
#define CONFIG_ENTRIES_MAX 128

/* One known key.  section "" is the part of the file before any header. */
struct config_key {
	const char *section;
	const char *key;
	const char *help;
};

struct config_entry {
	char section[CONFIG_NAME_MAX];
	char key[CONFIG_NAME_MAX];
	char value[CONFIG_VALUE_MAX];
	int line; /* 0 when set by config_set() */
};

struct config {
	const struct config_key *known; /* terminated by a {NULL} entry */
	struct config_entry entries[CONFIG_ENTRIES_MAX];
	size_t count;
	char path[4096];
};

/* Prepares an empty configuration that accepts the keys in known. */
void config_init(struct config *c, const struct config_key *known);

/* Reads path.  A missing file is not an error when optional is non-zero.
 * On a syntax error, unknown key or oversized value, returns SONO_EINVAL and
 * writes "FILE:LINE: reason" to err. */
int config_load(struct config *c, const char *path, int optional, char *err, size_t errlen);

/* Parses text as if read from the file named path; used by config_load and tests. */
int config_parse(struct config *c, const char *path, const char *text, char *err, size_t errlen);

/* Returns the value of section.key, or NULL when unset. */
const char *config_get(const struct config *c, const char *section, const char *key);

/* Returns the value as an integer in [min, max], or def when unset.
 * Returns SONO_EINVAL through *rc (when non-NULL) for a malformed value. */
long config_get_long(const struct config *c, const char *section, const char *key,
	long def, long min, long max, int *rc);

/* Sets or replaces section.key.  Returns SONO_EINVAL for an unknown key or a
 * value with a newline, SONO_ETOOBIG when too long or the table is full. */
int config_set(struct config *c, const char *section, const char *key, const char *value);

/* Writes all entries to path (or c->path when NULL) through a temporary file
 * and rename, mode 0600, creating the folder with mode 0700. */
int config_save(const struct config *c, const char *path, char *err, size_t errlen);

/* Writes $XDG_CONFIG_HOME/<program>/<program>.conf (or ~/.config/...) to out.
 * Returns 0 or SONO_ETOOBIG. */
int config_default_path(const char *program, char *out, size_t outlen);

/* Writes $XDG_<kind>_HOME/<program> to out, where kind is "DATA", "STATE" or
 * "CONFIG", falling back to ~/.local/share, ~/.local/state or ~/.config. */
int config_xdg_dir(const char *kind, const char *program, char *out, size_t outlen);

/* Creates dir and its parents with the given mode where missing. */
int config_mkdirs(const char *dir, unsigned mode);

#endif
