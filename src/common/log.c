/* Levelled logging to stderr, a file or syslog.  A mutex keeps lines from
 * different threads whole. */
#include "config.h"

/* syslog.h defines LOG_NOTICE, LOG_INFO and LOG_DEBUG as priorities, which
 * clash with our logging macros: take its values first, then drop its names. */
#include <syslog.h>
static const int level_syslog[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
#undef LOG_NOTICE
#undef LOG_INFO
#undef LOG_DEBUG

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sono/config.h"
#include "sono/error.h"
#include "sono/log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level log_max = LOG_LEVEL_NOTICE;
static enum log_target log_dest = LOG_TARGET_STDERR;
static FILE *log_file;
static char log_ident[32] = "sono";

static const char *const level_names[] = { "error", "warn", "notice", "info", "debug" };

static FILE *open_log_file(const char *path)
{
	char dir[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		config_mkdirs(dir, 0700);
	}

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	fchmod(fd, 0600);
	return fdopen(fd, "a");
}

int log_open(const char *ident, enum log_target target, const char *path)
{
	FILE *f = NULL;

	if (target == LOG_TARGET_FILE) {
		if (!path)
			return SONO_EINVAL;
		f = open_log_file(path);
		if (!f)
			return SONO_EIO;
	}

	log_close();
	pthread_mutex_lock(&log_lock);
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "sono");
	log_dest = target;
	log_file = f;
	if (target == LOG_TARGET_SYSLOG)
		openlog(log_ident, LOG_PID, LOG_DAEMON);
	pthread_mutex_unlock(&log_lock);
	return SONO_OK;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	if (log_dest == LOG_TARGET_SYSLOG)
		closelog();
	log_file = NULL;
	log_dest = LOG_TARGET_STDERR;
	pthread_mutex_unlock(&log_lock);
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

int log_parse_level(const char *name, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(name, level_names[i])) {
			*level = (enum log_level)i;
			return SONO_OK;
		}
	}
	return SONO_EINVAL;
}

void log_vwrite(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char msg[2048];
	char stamp[40];
	struct timespec ts;
	struct tm tm;
	FILE *out;
	int saved_errno = errno;

	if (level > log_max)
		return;

	vsnprintf(msg, sizeof(msg), fmt, ap);

	pthread_mutex_lock(&log_lock);
	if (log_dest == LOG_TARGET_SYSLOG) {
		syslog(level_syslog[level], "%s: %s", func, msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		out = log_file ? log_file : stderr;
		fprintf(out, "%s.%03ldZ %s[%ld] %s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
			log_ident, (long)getpid(), level_names[level], func, msg);
		fflush(out);
	}
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

void log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, func, fmt, ap);
	va_end(ap);
}
