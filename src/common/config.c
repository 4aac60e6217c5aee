/* INI-style configuration files; see sono/config.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sono/buf.h"
#include "sono/config.h"
#include "sono/error.h"

/* Largest configuration file read; real ones are a few hundred bytes. */
#define CONFIG_FILE_MAX (256 * 1024)

void config_init(struct config *c, const struct config_key *known)
{
	memset(c, 0, sizeof(*c));
	c->known = known;
}

static const struct config_key *find_known(const struct config *c, const char *section,
	const char *key)
{
	const struct config_key *k;

	for (k = c->known; k && k->key; k++) {
		if (!strcmp(k->section, section) && !strcmp(k->key, key))
			return k;
	}
	return NULL;
}

static int section_known(const struct config *c, const char *section)
{
	const struct config_key *k;

	for (k = c->known; k && k->key; k++) {
		if (!strcmp(k->section, section))
			return 1;
	}
	return 0;
}

static struct config_entry *find_entry(const struct config *c, const char *section,
	const char *key)
{
	size_t i;

	for (i = 0; i < c->count; i++) {
		if (!strcmp(c->entries[i].section, section) && !strcmp(c->entries[i].key, key))
			return (struct config_entry *)&c->entries[i];
	}
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int line_error(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int line_error(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%d: ", path, line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return SONO_EINVAL;
}

/* Parses a "[section]" header into section. */
static int parse_section(struct config *c, char *s, char *section, const char *path, int line,
	char *err, size_t errlen)
{
	char *close = strchr(s, ']');
	char *name;

	if (!close || *trim(close + 1) != '\0')
		return line_error(err, errlen, path, line, "malformed section header; write [name]");
	*close = '\0';
	name = trim(s + 1);
	if (strlen(name) >= CONFIG_NAME_MAX || !section_known(c, name))
		return line_error(err, errlen, path, line, "unknown section [%.64s]", name);
	snprintf(section, CONFIG_NAME_MAX, "%s", name);
	return SONO_OK;
}

/* Parses a "key = value" line in section. */
static int parse_pair(struct config *c, char *s, const char *section, const char *path,
	int line, char *err, size_t errlen)
{
	char *eq = strchr(s, '=');
	char *key, *value;
	struct config_entry *e;

	if (!eq)
		return line_error(err, errlen, path, line, "expected 'key = value'");
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);

	if (!find_known(c, section, key))
		return line_error(err, errlen, path, line, "unknown key '%.64s'%s%.64s%s", key,
			section[0] ? " in section [" : "", section, section[0] ? "]" : "");
	if (strlen(value) >= CONFIG_VALUE_MAX)
		return line_error(err, errlen, path, line, "value of '%s' is longer than %d bytes",
			key, CONFIG_VALUE_MAX - 1);

	e = find_entry(c, section, key);
	if (!e) {
		if (c->count == CONFIG_ENTRIES_MAX)
			return line_error(err, errlen, path, line, "too many entries (maximum %d)",
				CONFIG_ENTRIES_MAX);
		e = &c->entries[c->count++];
		snprintf(e->section, sizeof(e->section), "%s", section);
		snprintf(e->key, sizeof(e->key), "%s", key);
	}
	snprintf(e->value, sizeof(e->value), "%s", value);
	e->line = line;
	return SONO_OK;
}

int config_parse(struct config *c, const char *path, const char *text, char *err, size_t errlen)
{
	char section[CONFIG_NAME_MAX] = "";
	char linebuf[CONFIG_VALUE_MAX + 2 * CONFIG_NAME_MAX];
	const char *p = text, *nl;
	char *s;
	size_t n;
	int line = 0, rc;

	while (*p) {
		line++;
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(linebuf))
			return line_error(err, errlen, path, line, "line longer than %zu bytes",
				sizeof(linebuf) - 1);
		memcpy(linebuf, p, n);
		linebuf[n] = '\0';
		p += n + (nl ? 1 : 0);

		s = trim(linebuf);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
			rc = parse_section(c, s, section, path, line, err, errlen);
		else
			rc = parse_pair(c, s, section, path, line, err, errlen);
		if (rc < 0)
			return rc;
	}
	return SONO_OK;
}

/* Reads a whole small file into b.  Returns 0, SONO_ENOTFOUND, SONO_EIO or
 * SONO_ETOOBIG. */
static int read_small_file(const char *path, struct sbuf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	int rc = SONO_OK;

	if (!f)
		return errno == ENOENT ? SONO_ENOTFOUND : SONO_EIO;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = sbuf_append(b, chunk, n);
		if (rc < 0)
			break;
	}
	if (rc == SONO_OK && ferror(f))
		rc = SONO_EIO;
	fclose(f);
	return rc;
}

int config_load(struct config *c, const char *path, int optional, char *err, size_t errlen)
{
	struct sbuf b;
	int rc;

	snprintf(c->path, sizeof(c->path), "%s", path);
	sbuf_init(&b, CONFIG_FILE_MAX);
	rc = read_small_file(path, &b);
	if (rc == SONO_ENOTFOUND && optional) {
		rc = SONO_OK;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read configuration: %s", path,
			rc == SONO_ETOOBIG ? "file larger than 256 KiB" : strerror(errno));
	} else if (b.data && memchr(b.data, '\0', b.len)) {
		snprintf(err, errlen, "%s: configuration contains a NUL byte", path);
		rc = SONO_EINVAL;
	} else {
		rc = config_parse(c, path, b.data ? (const char *)b.data : "", err, errlen);
	}
	sbuf_free(&b);
	return rc;
}

const char *config_get(const struct config *c, const char *section, const char *key)
{
	const struct config_entry *e = find_entry(c, section, key);

	return e ? e->value : NULL;
}

long config_get_long(const struct config *c, const char *section, const char *key,
	long def, long min, long max, int *rc)
{
	const char *v = config_get(c, section, key);
	char *end;
	long n;

	if (rc)
		*rc = SONO_OK;
	if (!v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < min || n > max) {
		if (rc)
			*rc = SONO_EINVAL;
		return def;
	}
	return n;
}

int config_set(struct config *c, const char *section, const char *key, const char *value)
{
	struct config_entry *e;

	if (!find_known(c, section, key) || strchr(value, '\n') || strchr(value, '\r'))
		return SONO_EINVAL;
	if (strlen(value) >= CONFIG_VALUE_MAX)
		return SONO_ETOOBIG;

	e = find_entry(c, section, key);
	if (!e) {
		if (c->count == CONFIG_ENTRIES_MAX)
			return SONO_ETOOBIG;
		e = &c->entries[c->count++];
		snprintf(e->section, sizeof(e->section), "%s", section);
		snprintf(e->key, sizeof(e->key), "%s", key);
	}
	snprintf(e->value, sizeof(e->value), "%s", value);
	e->line = 0;
	return SONO_OK;
}

static void write_section(const struct config *c, const char *section, FILE *f)
{
	size_t i;

	if (section[0])
		fprintf(f, "\n[%s]\n", section);
	for (i = 0; i < c->count; i++) {
		if (!strcmp(c->entries[i].section, section))
			fprintf(f, "%s = %s\n", c->entries[i].key, c->entries[i].value);
	}
}

/* Writes the entries grouped by section, the unnamed section first (its
 * keys must come before any header), then each section in order of first
 * appearance. */
static int write_entries(const struct config *c, FILE *f)
{
	size_t i, j;
	int seen;

	write_section(c, "", f);
	for (i = 0; i < c->count; i++) {
		const char *section = c->entries[i].section;

		seen = !section[0];
		for (j = 0; j < i && !seen; j++)
			seen = !strcmp(c->entries[j].section, section);
		if (!seen)
			write_section(c, section, f);
	}
	return ferror(f) ? SONO_EIO : SONO_OK;
}

int config_save(const struct config *c, const char *path, char *err, size_t errlen)
{
	char tmp[4200], dir[4096];
	char *slash;
	FILE *f;
	int fd, rc;

	path = path ? path : c->path;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		config_mkdirs(dir, 0700);
	}

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: cannot write configuration: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SONO_EIO;
	}
	fprintf(f, "# Written by Sonoterm; edits are kept.\n");
	rc = write_entries(c, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = SONO_EIO;
	if (fclose(f) != 0)
		rc = SONO_EIO;
	if (rc == SONO_OK && rename(tmp, path) != 0)
		rc = SONO_EIO;
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot write configuration: %s", path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

int config_xdg_dir(const char *kind, const char *program, char *out, size_t outlen)
{
	char var[32];
	const char *base, *home, *fallback;
	int n;

	snprintf(var, sizeof(var), "XDG_%s_HOME", kind);
	base = getenv(var);
	home = getenv("HOME");
	if (!strcmp(kind, "DATA"))
		fallback = ".local/share";
	else if (!strcmp(kind, "STATE"))
		fallback = ".local/state";
	else
		fallback = ".config";

	if (base && base[0] == '/')
		n = snprintf(out, outlen, "%s/%s", base, program);
	else
		n = snprintf(out, outlen, "%s/%s/%s", home && *home ? home : "/tmp", fallback,
			program);
	return n < 0 || (size_t)n >= outlen ? SONO_ETOOBIG : SONO_OK;
}

int config_default_path(const char *program, char *out, size_t outlen)
{
	char dir[4096];
	int n, rc = config_xdg_dir("CONFIG", program, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	n = snprintf(out, outlen, "%s/%s.conf", dir, program);
	return n < 0 || (size_t)n >= outlen ? SONO_ETOOBIG : SONO_OK;
}

int config_mkdirs(const char *dir, unsigned mode)
{
	char path[4096];
	char *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return SONO_ETOOBIG;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) != 0 && errno != EEXIST)
			return SONO_EIO;
		*p = '/';
	}
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return SONO_EIO;
	return SONO_OK;
}
