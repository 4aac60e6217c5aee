/* Non-blocking TCP and TLS byte streams with connect, accept and handshake
 * timeouts (see sono/conn.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "sono/conn.h"
#include "sono/error.h"
#include "sono/tls.h"

void conn_init(struct conn *c)
{
	c->fd = -1;
	c->ssl = NULL;
	c->want_write = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or deadline (monotonic ms) passes.
 * Returns 1 when ready, 0 on timeout, SONO_EIO on a poll failure. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return SONO_EIO;
	}
}

static int set_socket_options(int fd)
{
	int one = 1;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return SONO_EIO;
	/* Frames are latency-sensitive; do not hold back small writes. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* Tries one resolved address.  Returns 0, SONO_ETIMEOUT or SONO_EIO. */
static int connect_one(struct conn *c, const struct addrinfo *ai, int64_t deadline)
{
	int fd, rc, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0 || set_socket_options(fd) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail;
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc == 0) {
		close(fd);
		return SONO_ETIMEOUT;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	c->fd = fd;
	return 0;
fail:
	rc = errno;
	if (fd >= 0)
		close(fd);
	errno = rc;
	return SONO_EIO;
}

int conn_connect(struct conn *c, const char *host, unsigned port, int timeout_ms,
	char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *list = NULL, *ai;
	int64_t deadline = now_ms() + timeout_ms;
	char service[16];
	int rc, gai;

	conn_init(c);
	snprintf(service, sizeof(service), "%u", port);
	gai = getaddrinfo(host, service, &hints, &list);
	if (gai != 0) {
		snprintf(err, errlen, "resolve %s: %s", host, gai_strerror(gai));
		return SONO_EIO;
	}
	rc = SONO_EIO;
	errno = EHOSTUNREACH;
	for (ai = list; ai; ai = ai->ai_next) {
		rc = connect_one(c, ai, deadline);
		if (rc != SONO_EIO)
			break;
	}
	if (rc == SONO_ETIMEOUT)
		snprintf(err, errlen, "connect %s:%u: timed out after %d ms", host, port, timeout_ms);
	else if (rc < 0)
		snprintf(err, errlen, "connect %s:%u: %s", host, port, strerror(errno));
	freeaddrinfo(list);
	return rc;
}

int conn_tls_step(struct conn *c, char *err, size_t errlen)
{
	int ret, code;

	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	c->want_write = 0;
	if (ret == 1)
		return 0;
	code = SSL_get_error(c->ssl, ret);
	if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
		c->want_write = code == SSL_ERROR_WANT_WRITE;
		return 1;
	}
	if (tls_verify_error(c->ssl, err, errlen))
		return SONO_ETLS;
	if (code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
		snprintf(err, errlen, "peer closed the connection during the TLS handshake");
		return SONO_ECLOSED;
	}
	if (tls_error_is_certificate_rejected()) {
		tls_error_string("peer rejected our certificate", err, errlen);
		return SONO_EAUTH;
	}
	tls_error_string("TLS handshake failed", err, errlen);
	return SONO_ETLS;
}

int conn_tls_begin(struct conn *c, SSL_CTX *ctx, const char *host, int is_client,
	char *err, size_t errlen)
{
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		tls_error_string("cannot create the TLS connection", err, errlen);
		return SONO_ETLS;
	}
	/* Non-blocking writes of large frames: let a write complete in pieces and
	 * let the caller's buffer move (it grows while a frame is queued). */
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (is_client) {
		SSL_set_connect_state(c->ssl);
		if (host && tls_client_set_host(c->ssl, host) < 0) {
			snprintf(err, errlen, "cannot set the TLS server name %s", host);
			return SONO_ETLS;
		}
	} else {
		SSL_set_accept_state(c->ssl);
	}
	return 0;
}

/* Runs a whole handshake, waiting on the socket between steps. */
static int handshake(struct conn *c, SSL_CTX *ctx, const char *host, int is_client,
	int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	int rc, ready;

	rc = conn_tls_begin(c, ctx, host, is_client, err, errlen);
	while (rc == 0 && (rc = conn_tls_step(c, err, errlen)) == 1) {
		ready = wait_fd(c->fd, c->want_write ? POLLOUT : POLLIN, deadline);
		if (ready == 0) {
			snprintf(err, errlen, "TLS handshake timed out after %d ms", timeout_ms);
			return SONO_ETIMEOUT;
		}
		if (ready < 0) {
			snprintf(err, errlen, "poll during the TLS handshake failed: %s", strerror(errno));
			return SONO_EIO;
		}
		rc = 0;
	}
	return rc;
}

int conn_tls_connect(struct conn *c, SSL_CTX *ctx, const char *host, int timeout_ms,
	char *err, size_t errlen)
{
	return handshake(c, ctx, host, 1, timeout_ms, err, errlen);
}

int conn_tls_accept(struct conn *c, SSL_CTX *ctx, int timeout_ms, char *err, size_t errlen)
{
	return handshake(c, ctx, NULL, 0, timeout_ms, err, errlen);
}

int conn_listen(const char *host, unsigned port, unsigned *bound_port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *list = NULL;
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	char service[16];
	int fd = -1, one = 1, gai;

	snprintf(service, sizeof(service), "%u", port);
	gai = getaddrinfo(host, service, &hints, &list);
	if (gai != 0) {
		snprintf(err, errlen, "resolve %s: %s", host, gai_strerror(gai));
		return SONO_EIO;
	}
	fd = socket(list->ai_family, list->ai_socktype | SOCK_CLOEXEC, list->ai_protocol);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, list->ai_addr, list->ai_addrlen) < 0 || listen(fd, 4) < 0 ||
	    set_socket_options(fd) < 0 || getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		goto fail;
	*bound_port = ntohs(addr.ss_family == AF_INET6 ?
		((struct sockaddr_in6 *)&addr)->sin6_port : ((struct sockaddr_in *)&addr)->sin_port);
	freeaddrinfo(list);
	return fd;
fail:
	snprintf(err, errlen, "listen on %s:%u: %s", host, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(list);
	return SONO_EIO;
}

int conn_accept(int listen_fd, struct conn *c, char *peer, size_t peerlen)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	char host[NI_MAXHOST], service[NI_MAXSERV];
	int fd;

	conn_init(c);
	fd = accept(listen_fd, (struct sockaddr *)&addr, &len);
	if (fd < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 1 : SONO_EIO;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || set_socket_options(fd) < 0) {
		close(fd);
		return SONO_EIO;
	}
	if (getnameinfo((struct sockaddr *)&addr, len, host, sizeof(host), service,
	    sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(peer, peerlen, "%s:%s", host, service);
	else
		snprintf(peer, peerlen, "unknown peer");
	c->fd = fd;
	return 0;
}

/* Maps the result of a non-blocking SSL_read or SSL_write. */
static ssize_t tls_result(struct conn *c, int ret)
{
	int code = SSL_get_error(c->ssl, ret);

	c->want_write = 0;
	switch (code) {
	case SSL_ERROR_NONE:
		return ret;
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->want_write = 1;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return SONO_ECLOSED;
	case SSL_ERROR_SYSCALL:
		return ERR_peek_error() == 0 ? SONO_ECLOSED : SONO_EIO;
	case SSL_ERROR_SSL:
		/* OpenSSL 3 reports a TCP close without close_notify this way. */
		if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return SONO_ECLOSED;
		/* A TLS 1.3 server judges the client certificate after the
		 * client's handshake ended, so its alert arrives here. */
		if (tls_error_is_certificate_rejected())
			return SONO_EAUTH;
		return SONO_ETLS;
	default:
		return SONO_ETLS;
	}
}

ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
	ssize_t got;
	int ret;

	if (c->ssl) {
		ERR_clear_error();
		ret = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		return ret > 0 ? ret : tls_result(c, ret);
	}
	got = recv(c->fd, buf, n, 0);
	if (got > 0)
		return got;
	if (got == 0)
		return SONO_ECLOSED;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return errno == ECONNRESET ? SONO_ECLOSED : SONO_EIO;
}

ssize_t conn_write(struct conn *c, const void *buf, size_t n)
{
	ssize_t put;
	int ret;

	if (c->ssl) {
		ERR_clear_error();
		ret = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		return ret > 0 ? ret : tls_result(c, ret);
	}
	put = send(c->fd, buf, n, MSG_NOSIGNAL);
	if (put >= 0)
		return put;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return (errno == EPIPE || errno == ECONNRESET) ? SONO_ECLOSED : SONO_EIO;
}

int conn_pending(const struct conn *c)
{
	return c->ssl && SSL_pending(c->ssl) > 0;
}

void conn_close(struct conn *c)
{
	if (c->ssl) {
		/* One close_notify attempt; the socket is non-blocking, so this
		 * never waits for the peer. */
		if (SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	conn_init(c);
}
