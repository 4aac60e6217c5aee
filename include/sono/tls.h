/* The project's one TLS policy.
 *
 * Every SSL_CTX in Sonoterm comes from here: the scanner link, the cloud
 * server, the cloud client (applied to libcurl through tls_ctx_apply_policy)
 * and DICOM TLS.  The policy: TLS 1.3 and 1.2 only; TLS 1.3 suites
 * TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256; TLS 1.2 suites
 * ECDHE-RSA-AES256-GCM-SHA384 and ECDHE-ECDSA-AES256-GCM-SHA384; no
 * compression, no renegotiation; the peer is always verified, either against
 * a CA file or against a pinned SHA-256 certificate fingerprint.  A server
 * verifies clients only when given a list of allowed fingerprints.
 *
 * Fingerprints are written "SHA256:" followed by 64 lowercase hex digits. */
#ifndef SONO_TLS_H
#define SONO_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

#define TLS_CIPHERSUITES_13 "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_CIPHERS_12 "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384"
#define TLS_FINGERPRINT_LEN 72 /* "SHA256:" + 64 hex + NUL */

/* How a client or server verifies its peer.  Exactly one of ca_file and pin
 * is set for a client; a server that does not ask for client certificates
 * passes NULL. */
struct tls_trust {
	const char *ca_file;
	const char *pin;
};

/* Applies the version, suite and option policy to an existing context (used
 * for contexts that libraries such as libcurl create).  Returns 0 or SONO_ETLS. */
int tls_ctx_apply_policy(SSL_CTX *ctx);

/* Builds a server context from PEM certificate and key files.
 * Returns NULL and fills err on failure.  The caller frees with SSL_CTX_free. */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Builds a client context that verifies the server against trust.  With a
 * pin, the leaf certificate's fingerprint must equal it and the chain is not
 * otherwise checked (scanners and lab clouds have self-signed certificates);
 * with a CA file, the chain and, when set with tls_client_set_host(), the
 * host name are checked.  Returns NULL and fills err on failure. */
SSL_CTX *tls_client_ctx(const struct tls_trust *trust, char *err, size_t errlen);

/* Installs the pin check of tls_client_ctx on ctx (for libcurl's context).
 * The pin string is copied.  Returns 0, SONO_EINVAL for a malformed pin. */
int tls_ctx_set_pin(SSL_CTX *ctx, const char *pin);

/* Makes a server context request a client certificate and accept only the
 * listed SHA-256 fingerprints (judged by the leaf alone, like a pin).  A
 * rejected client receives a bad_certificate alert, and a client without a
 * certificate a certificate_required (TLS 1.3) or handshake_failure alert.
 * Returns 0, SONO_EINVAL for an empty list or a malformed fingerprint. */
int tls_server_allow_clients(SSL_CTX *ctx, const char *const *fingerprints, size_t count);

/* Loads a PEM certificate and matching key into ctx: a server's identity or
 * the certificate a client presents.  Returns 0 or SONO_ETLS with err set. */
int tls_ctx_use_identity(SSL_CTX *ctx, const char *cert_file, const char *key_file,
	char *err, size_t errlen);

/* After a failed server handshake, returns the fingerprint of the client
 * certificate that the allowed list rejected, or NULL. */
const char *tls_rejected_fingerprint(const SSL *ssl);

/* Returns 1 when the first error in this thread's OpenSSL error queue is a
 * peer's bad_certificate or certificate_required alert, else 0.  The queue
 * is left as it is. */
int tls_error_is_certificate_rejected(void);

/* Requests host name verification and SNI for a client connection. */
int tls_client_set_host(SSL *ssl, const char *host);

/* After a failed handshake, writes why verification failed (for a pin
 * mismatch: both the expected and the presented fingerprint) to err.
 * Returns 1 when there was a verification failure, else 0. */
int tls_verify_error(SSL *ssl, char *err, size_t errlen);

/* Writes "SHA256:<hex>" of a certificate's DER encoding. */
int tls_cert_fingerprint(X509 *cert, char out[TLS_FINGERPRINT_LEN]);
int tls_file_fingerprint(const char *cert_file, char out[TLS_FINGERPRINT_LEN]);

/* Returns 1 when s is a well-formed "SHA256:<64 hex>" pin (hex in either
 * case), else 0.  tls_pin_normalize writes the lowercase form. */
int tls_pin_valid(const char *s);
int tls_pin_normalize(const char *s, char out[TLS_FINGERPRINT_LEN]);

/* Writes "TLSv1.3 TLS_AES_256_GCM_SHA384" for an established connection. */
void tls_describe(const SSL *ssl, char *out, size_t outlen);

/* Copies the serialNumber attribute of the peer certificate's subject (or,
 * when absent, its common name) to out.  Returns 0 or SONO_ENOTFOUND. */
int tls_peer_serial(const SSL *ssl, char *out, size_t outlen);

/* Creates a self-signed P-256 certificate and key for a first run or a test.
 * The subject has CN=common_name and, when serial is not NULL,
 * serialNumber=serial; dns_name (may be NULL) goes into subjectAltName along
 * with 127.0.0.1 and ::1.  Files are written with mode 0600.
 * rsa selects a 3072-bit RSA key instead (for the TLS 1.2 ECDHE-RSA suite). */
int tls_generate_identity(const char *cert_file, const char *key_file,
	const char *common_name, const char *serial, const char *dns_name, int rsa,
	int days, char *err, size_t errlen);

/* Appends OpenSSL's error queue to err (after a ": ") and clears it. */
void tls_error_string(const char *what, char *err, size_t errlen);

#endif
