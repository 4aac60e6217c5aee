/* The mail outbox: a Maildir-style folder that a mail transfer agent, or a
 * lab's tester, picks messages up from.
 *
 * Each message is written to DIR/tmp/ with mode 0600, flushed, and renamed
 * into DIR/new/, so a reader never sees a partial message.  Messages are
 * RFC 5322 plain text (UTF-8, 8bit) with LF line ends, as Maildir files are
 * stored; the transfer agent sends them with CRLF.  Header values are
 * checked for CR and LF so an address or subject cannot add headers. */
#ifndef CLOUD_OUTBOX_H
#define CLOUD_OUTBOX_H

#include <stddef.h>

#define OUTBOX_FROM_DEFAULT "sonocloud@localhost"

/* Writes one message to the outbox folder dir, creating dir, dir/tmp,
 * dir/new and dir/cur (mode 0700) when missing.  path (may be NULL) gets
 * the final file name.  Returns 0, SONO_EINVAL for a header value with a
 * line break, or SONO_EIO. */
int outbox_write(const char *dir, const char *from, const char *to,
	const char *subject, const char *body, char *path, size_t pathlen);

#endif
