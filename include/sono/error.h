/* Error codes shared by the core, the store and the network layers.
 *
 * Functions in those layers return 0 on success or one of the negative codes
 * below.  sono_strerror() gives a short English phrase for a code. */
#ifndef SONO_ERROR_H
#define SONO_ERROR_H

enum {
	SONO_OK = 0,
	SONO_EINVAL = -1,    /* invalid argument or malformed input */
	SONO_ENOMEM = -2,    /* allocation failed */
	SONO_EIO = -3,       /* read, write or socket call failed */
	SONO_ETLS = -4,      /* TLS handshake, policy or certificate failure */
	SONO_EPROTO = -5,    /* peer broke the protocol */
	SONO_ETOOBIG = -6,   /* input exceeds a configured maximum */
	SONO_ENOTFOUND = -7, /* no such file, key, exam or user */
	SONO_EAUTH = -8,     /* wrong credentials or permission denied */
	SONO_ECRYPTO = -9,   /* cryptographic operation failed */
	SONO_ETIMEOUT = -10, /* operation timed out */
	SONO_ESTATE = -11,   /* operation not allowed in the current state */
	SONO_EDB = -12,      /* database error */
	SONO_EUNSUPPORTED = -13, /* valid input that this build cannot handle */
	SONO_ECLOSED = -14,  /* peer closed the connection */
};

/* Returns a static English description of a SONO_E* code. */
const char *sono_strerror(int code);

#endif
