/* Levelled logging to stderr, a file or syslog.
 *
 * Messages go through LOG_* macros that add the function name.  Formats must
 * be string literals (the build enables -Wformat-nonliteral), and patient
 * fields are stored in struct phi_text (see phi.h), which printf-style
 * formats reject at compile time, so patient data cannot reach a log by
 * accident.  Log exam UUIDs, scanner serials and error details instead.
 *
 * Do not include <syslog.h> next to this header: it defines LOG_NOTICE,
 * LOG_INFO and LOG_DEBUG itself. */
#ifndef SONO_LOG_H
#define SONO_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_FILE,
	LOG_TARGET_SYSLOG,
};

/* Opens the log.  ident names the program; path is used only for
 * LOG_TARGET_FILE and is created with mode 0600 (its folder 0700).
 * Returns 0 or a negative SONO_E* code; on failure the log stays on stderr. */
int log_open(const char *ident, enum log_target target, const char *path);

/* Closes a log file or syslog and returns to stderr. */
void log_close(void);

/* Messages above level are dropped.  The default is LOG_LEVEL_NOTICE. */
void log_set_level(enum log_level level);

/* Parses "error", "warn", "notice", "info" or "debug".
 * Returns 0 and sets *level, or SONO_EINVAL. */
int log_parse_level(const char *name, enum log_level *level);

void log_write(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *func, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define LOG_ERROR(...) log_write(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define LOG_WARN(...) log_write(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define LOG_NOTICE(...) log_write(LOG_LEVEL_NOTICE, __func__, __VA_ARGS__)
#define LOG_INFO(...) log_write(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define LOG_DEBUG(...) log_write(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)

#endif
