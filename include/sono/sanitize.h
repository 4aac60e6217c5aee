/* The one sanitiser for untrusted text on its way to a terminal.
 *
 * Patient fields, scanner strings, file names and cloud messages all pass
 * through sanitize_text() before ncurses or stdout sees them.  It removes
 * escape sequences (ESC, CSI, OSC, DCS, SOS, PM and APC, in their 7-bit and
 * 8-bit forms), C0 and C1 controls and DEL, Unicode bidirectional overrides,
 * embeddings and isolates, invisible format characters (zero width space,
 * byte order mark, tag characters), and replaces each invalid UTF-8 byte with
 * U+FFFD.
 * Printable UTF-8 (accents, combining marks, CJK) passes unchanged and a
 * multibyte character is never split, even when out is too small. */
#ifndef SONO_SANITIZE_H
#define SONO_SANITIZE_H

#include <stddef.h>

/* Sanitises inlen bytes of in into out (outsize > 0), always NUL-terminated.
 * Tabs and newlines become spaces unless keep_newlines is set, which keeps
 * '\n' (for multi-line notes).  Returns the number of bytes written, not
 * counting the NUL. */
size_t sanitize_text(const char *in, size_t inlen, char *out, size_t outsize, int keep_newlines);

/* Convenience for a NUL-terminated string with newlines folded to spaces. */
size_t sanitize_str(const char *in, char *out, size_t outsize);

/* Returns the number of terminal columns that sanitised UTF-8 text s takes
 * (wide CJK characters count 2, combining marks 0). */
int sanitize_width(const char *s);

#endif
