/* Maildir-style outbox (see outbox.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloud/outbox.h"
#include "sono/buf.h"
#include "sono/config.h"
#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"

#define MESSAGE_MAX (64 * 1024)

static int header_safe(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

static int make_dirs(const char *dir)
{
	static const char *const subdirs[] = { "tmp", "new", "cur" };
	char path[4096];
	size_t i;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);

		if (n < 0 || (size_t)n >= sizeof(path))
			return SONO_ETOOBIG;
		if (config_mkdirs(path, 0700) != SONO_OK) {
			LOG_ERROR("cannot create outbox folder %s: %s", path, strerror(errno));
			return SONO_EIO;
		}
	}
	return SONO_OK;
}

static int format_message(struct sbuf *msg, const char *from, const char *to,
	const char *subject, const char *body, const char *id)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	return sbuf_printf(msg, "From: %s\nTo: %s\nSubject: %s\nDate: %s\n"
		"Message-ID: <%s@sonocloud>\nMIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s%s",
		from, to, subject, date, id, body,
		body[0] != '\0' && body[strlen(body) - 1] == '\n' ? "" : "\n");
}

/* Writes data to path (created 0600, must not exist) and syncs it. */
static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = SONO_OK;

	if (fd < 0)
		return SONO_EIO;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
		rc = SONO_EIO;
	if (close(fd) != 0)
		rc = SONO_EIO;
	if (rc != SONO_OK)
		unlink(path);
	return rc;
}

int outbox_write(const char *dir, const char *from, const char *to,
	const char *subject, const char *body, char *path, size_t pathlen)
{
	char id[CRYPTO_UUID_LEN], tmp_path[4096], new_path[4096];
	time_t now = time(NULL);
	struct sbuf msg;
	int rc;

	if (from == NULL)
		from = OUTBOX_FROM_DEFAULT;
	if (!header_safe(from) || !header_safe(to) || !header_safe(subject) || body == NULL)
		return SONO_EINVAL;
	rc = make_dirs(dir);
	if (rc != SONO_OK)
		return rc;
	rc = crypto_uuid(id);
	if (rc != SONO_OK)
		return rc;
	if (snprintf(tmp_path, sizeof(tmp_path), "%s/tmp/%lld.%s.sonocloud", dir,
		(long long)now, id) >= (int)sizeof(tmp_path)
	    || snprintf(new_path, sizeof(new_path), "%s/new/%lld.%s.sonocloud", dir,
		(long long)now, id) >= (int)sizeof(new_path))
		return SONO_ETOOBIG;
	sbuf_init(&msg, MESSAGE_MAX);
	rc = format_message(&msg, from, to, subject, body, id);
	if (rc == SONO_OK)
		rc = write_file(tmp_path, msg.data, msg.len);
	if (rc == SONO_OK && rename(tmp_path, new_path) != 0) {
		LOG_ERROR("cannot move %s into the outbox: %s", tmp_path, strerror(errno));
		unlink(tmp_path);
		rc = SONO_EIO;
	}
	sbuf_free_wipe(&msg);
	if (rc != SONO_OK) {
		LOG_ERROR("cannot write a message to outbox %s: %s", dir, sono_strerror(rc));
		return rc;
	}
	if (path != NULL)
		snprintf(path, pathlen, "%s", new_path);
	return SONO_OK;
}
