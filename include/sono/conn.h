/* A non-blocking byte stream over plain TCP or TLS, for the scanner link.
 *
 * Both ends of the link (sonoprobe and the station's receive thread) run a
 * poll() loop.  Reads and writes never block, and connect, accept and the
 * blocking handshakes take a timeout, so a peer that stalls holds up other
 * work for at most that long.  The SSL_CTX always comes from sono/tls.h;
 * this module only moves bytes. */
#ifndef SONO_CONN_H
#define SONO_CONN_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

struct conn {
	int fd;          /* -1 when closed */
	SSL *ssl;        /* NULL for plain TCP */
	int want_write;  /* the last TLS call is waiting for the socket to be writable */
};

/* Marks c closed (fd -1) so conn_close is safe on it. */
void conn_init(struct conn *c);

/* Opens a TCP connection to host:port (a name, IPv4 or IPv6 address) within
 * timeout_ms.  Returns 0, SONO_ETIMEOUT, or SONO_EIO with the failing call and
 * errno in err (for example "connect 127.0.0.1:18944: Connection refused"). */
int conn_connect(struct conn *c, const char *host, unsigned port, int timeout_ms,
	char *err, size_t errlen);

/* Runs the TLS client or server handshake on a connected c within timeout_ms.
 * host, when not NULL, is sent as SNI.  Returns 0, SONO_ETIMEOUT, SONO_ECLOSED,
 * SONO_EAUTH when the peer rejected our certificate or wanted one, or
 * SONO_ETLS with the reason in err (for a pin mismatch, both fingerprints,
 * from tls_verify_error). */
int conn_tls_connect(struct conn *c, SSL_CTX *ctx, const char *host, int timeout_ms,
	char *err, size_t errlen);
int conn_tls_accept(struct conn *c, SSL_CTX *ctx, int timeout_ms, char *err, size_t errlen);

/* The same handshake in steps, for a poll() loop that must not wait on it.
 * conn_tls_begin prepares the client or server side; each conn_tls_step
 * returns 0 when the handshake is done, 1 while it needs the socket to be
 * readable (or writable when c->want_write is set), or an error as above. */
int conn_tls_begin(struct conn *c, SSL_CTX *ctx, const char *host, int is_client,
	char *err, size_t errlen);
int conn_tls_step(struct conn *c, char *err, size_t errlen);

/* Opens a listening TCP socket on host:port (port 0 picks a free port, which
 * is written to *bound_port).  Returns the socket, or SONO_EIO with err set. */
int conn_listen(const char *host, unsigned port, unsigned *bound_port, char *err, size_t errlen);

/* Accepts one pending connection into c and writes the peer address to peer.
 * Returns 0, 1 when none is pending, or SONO_EIO. */
int conn_accept(int listen_fd, struct conn *c, char *peer, size_t peerlen);

/* Reads up to n bytes.  Returns the count (> 0), 0 when no data is ready,
 * SONO_ECLOSED at the end of the stream, SONO_EAUTH when a TLS 1.3 peer
 * rejected our certificate after the handshake, or SONO_EIO / SONO_ETLS. */
ssize_t conn_read(struct conn *c, void *buf, size_t n);

/* Writes up to n bytes.  Returns the count written (0 when the socket is
 * full), or SONO_ECLOSED / SONO_EIO / SONO_ETLS.  After a TLS write returned
 * 0, retry with the same bytes (more may follow them). */
ssize_t conn_write(struct conn *c, const void *buf, size_t n);

/* Returns 1 when TLS holds decrypted bytes that poll() cannot see. */
int conn_pending(const struct conn *c);

/* Shuts down TLS without waiting, closes the socket and resets c. */
void conn_close(struct conn *c);

#endif
