/* The terminal text sanitiser; see sono/sanitize.h for what it removes.
 *
 * Input is decoded as UTF-8 one code point at a time.  Escape sequences are
 * recognised by their introducer (ESC, or the C1 code points U+0080..U+009F
 * in either UTF-8 or raw 8-bit form) and skipped up to their terminator, so
 * the parameters of a sequence never leak out as visible garbage. */
#include "config.h"

#include <string.h>

#include "sono/sanitize.h"

#define REPLACEMENT 0xFFFDu
#define NO_CHAR 0xFFFFFFFFu

struct cursor {
	const unsigned char *p;
	size_t len;
	size_t off;
};

/* Decodes the next code point.  Invalid, overlong or surrogate sequences
 * yield U+FFFD and consume one byte; a lone byte 0x80..0x9F yields that value
 * so raw 8-bit C1 controls are treated like their UTF-8 forms. */
static unsigned long next_char(struct cursor *c)
{
	const unsigned char *p = c->p + c->off;
	size_t left = c->len - c->off;
	unsigned long cp;
	size_t n, i;

	if (left == 0)
		return NO_CHAR;
	if (p[0] < 0x80) {
		c->off++;
		return p[0];
	}

	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		cp = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		c->off++;
		return (p[0] >= 0x80 && p[0] <= 0x9F) ? p[0] : REPLACEMENT;
	}

	if (left < n)
		goto invalid;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto invalid;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		goto invalid;
	c->off += n;
	return cp;

invalid:
	c->off++;
	return REPLACEMENT;
}

/* Skips a control string (OSC, DCS, SOS, PM, APC) up to BEL, ESC \ or ST. */
static void skip_string(struct cursor *c)
{
	unsigned long cp;
	size_t before;

	for (;;) {
		before = c->off;
		cp = next_char(c);
		if (cp == NO_CHAR || cp == 0x07 || cp == 0x9C)
			return;
		if (cp == 0x1B) {
			if (c->off < c->len && c->p[c->off] == '\\')
				c->off++;
			else
				c->off = before + 1;
			return;
		}
	}
}

/* Skips the parameter (0x30..0x3F), intermediate (0x20..0x2F) and final
 * (0x40..0x7E) bytes of a CSI sequence.  Any other byte ends the sequence
 * without being consumed, so a following control is still filtered. */
static void skip_csi(struct cursor *c)
{
	while (c->off < c->len) {
		unsigned char b = c->p[c->off];

		if (b >= 0x40 && b <= 0x7E) {
			c->off++;
			return;
		}
		if (b < 0x20 || b > 0x3F)
			return;
		c->off++;
	}
}

/* Handles a C1 control (as code point 0x80..0x9F). */
static void skip_c1(struct cursor *c, unsigned long cp)
{
	if (cp == 0x9B)
		skip_csi(c);
	else if (cp == 0x9D || cp == 0x90 || cp == 0x98 || cp == 0x9E || cp == 0x9F)
		skip_string(c);
}

/* Handles the bytes after ESC. */
static void skip_escape(struct cursor *c)
{
	unsigned char b;

	if (c->off >= c->len)
		return;
	b = c->p[c->off++];
	switch (b) {
	case '[':
		skip_csi(c);
		return;
	case ']': case 'P': case 'X': case '^': case '_':
		skip_string(c);
		return;
	default:
		/* nF sequences: intermediates 0x20..0x2F, then a final byte. */
		while (b >= 0x20 && b <= 0x2F && c->off < c->len)
			b = c->p[c->off++];
		return;
	}
}

static int is_bidi_control(unsigned long cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

/* Invisible format characters that would let two different names look the
 * same on screen: zero width space, word joiner and invisible operators,
 * byte order mark, interlinear annotation marks and tag characters.  The
 * zero width joiner and non-joiner (U+200C, U+200D) stay because some
 * scripts need them to render a name correctly. */
static int is_invisible(unsigned long cp)
{
	return cp == 0x200B || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF ||
	       (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xE0000 && cp <= 0xE007F);
}

static size_t encode_utf8(unsigned long cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Maps one code point to what is written: NO_CHAR to drop it. */
static unsigned long filter_char(struct cursor *c, unsigned long cp, int keep_newlines)
{
	if (cp == 0x1B) {
		skip_escape(c);
		return NO_CHAR;
	}
	if (cp >= 0x80 && cp <= 0x9F) {
		skip_c1(c, cp);
		return NO_CHAR;
	}
	if (cp == '\n')
		return keep_newlines ? '\n' : ' ';
	if (cp == '\t' || cp == 0x2028 || cp == 0x2029)
		return ' ';
	if (cp < 0x20 || cp == 0x7F || is_bidi_control(cp) || is_invisible(cp))
		return NO_CHAR;
	return cp;
}

size_t sanitize_text(const char *in, size_t inlen, char *out, size_t outsize, int keep_newlines)
{
	struct cursor c = { (const unsigned char *)in, inlen, 0 };
	unsigned long cp;
	size_t used = 0, n;
	char enc[4];

	if (outsize == 0)
		return 0;

	while ((cp = next_char(&c)) != NO_CHAR) {
		cp = filter_char(&c, cp, keep_newlines);
		if (cp == NO_CHAR)
			continue;
		n = encode_utf8(cp, enc);
		if (used + n >= outsize)
			break; /* never split a character */
		memcpy(out + used, enc, n);
		used += n;
	}
	out[used] = '\0';
	return used;
}

size_t sanitize_str(const char *in, char *out, size_t outsize)
{
	return sanitize_text(in, strlen(in), out, outsize, 0);
}

/* Zero-width code points: combining marks and joiners (main blocks). */
static int is_zero_width(unsigned long cp)
{
	return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) ||
	       (cp >= 0x0591 && cp <= 0x05BD) || (cp >= 0x0610 && cp <= 0x061A) ||
	       (cp >= 0x064B && cp <= 0x065F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
	       (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x200C && cp <= 0x200D) ||
	       (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	       (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* East Asian wide and fullwidth ranges (main blocks). */
static int is_wide(unsigned long cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
	       (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	       (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
	       (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

int sanitize_width(const char *s)
{
	struct cursor c = { (const unsigned char *)s, strlen(s), 0 };
	unsigned long cp;
	int width = 0;

	while ((cp = next_char(&c)) != NO_CHAR) {
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_zero_width(cp))
			continue;
		width += is_wide(cp) ? 2 : 1;
	}
	return width;
}
