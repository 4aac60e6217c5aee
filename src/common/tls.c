/* The project's one TLS policy; see sono/tls.h for the policy itself.
 *
 * Pinning: a client with a pin installs a verify callback that judges the
 * connection by the leaf certificate alone.  At depth 0 the certificate's
 * SHA-256 fingerprint must equal the pin; chain errors (a self-signed
 * scanner certificate) are then cleared.  The presented fingerprint is kept
 * in the SSL's ex_data so a failed handshake can name both fingerprints.
 * A server with an allowed client list uses the same callback, with the
 * list in place of the pin. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sono/crypto.h"
#include "sono/error.h"
#include "sono/log.h"
#include "sono/tls.h"

static int pin_ctx_index = -1;  /* SSL_CTX ex_data: the expected pin */
static int allow_ctx_index = -1; /* SSL_CTX ex_data: "\nFP1\nFP2\n", the allowed clients */
static int seen_ssl_index = -1; /* SSL ex_data: the fingerprint presented */

static void free_ex_string(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
	void *argp)
{
	OPENSSL_free(ptr);
}

/* Allocates the ex_data indexes once.  OpenSSL's own lock makes concurrent
 * first calls safe; a lost race merely wastes an index. */
static int ensure_indexes(void)
{
	if (pin_ctx_index < 0)
		pin_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_ex_string);
	if (allow_ctx_index < 0)
		allow_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_ex_string);
	if (seen_ssl_index < 0)
		seen_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_ex_string);
	return pin_ctx_index >= 0 && allow_ctx_index >= 0 && seen_ssl_index >= 0 ?
		SONO_OK : SONO_ETLS;
}

void tls_error_string(const char *what, char *err, size_t errlen)
{
	unsigned long e;
	size_t used;
	char line[256];

	snprintf(err, errlen, "%s", what);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, line, sizeof(line));
		used = strlen(err);
		if (used + 2 < errlen)
			snprintf(err + used, errlen - used, ": %s", line);
	}
}

int tls_ctx_apply_policy(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		return SONO_ETLS;
	if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_CIPHERSUITES_13) != 1)
		return SONO_ETLS;
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
		return SONO_ETLS;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
		SSL_OP_CIPHER_SERVER_PREFERENCE);
	return SONO_OK;
}

/* Warns when a private key file is readable by others: the process still
 * works, but the operator should know. */
static void check_key_mode(const char *key_file)
{
	struct stat st;

	if (stat(key_file, &st) == 0 && (st.st_mode & 077))
		LOG_WARN("private key %s has mode %03o; run chmod 600 on it", key_file,
			(unsigned)(st.st_mode & 0777));
}

SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || tls_ctx_apply_policy(ctx) < 0) {
		tls_error_string("cannot create a TLS server context", err, errlen);
		goto fail;
	}
	if (tls_ctx_use_identity(ctx, cert_file, key_file, err, errlen) < 0)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Returns 1 when seen is the context's pin or one of its allowed clients. */
static int fingerprint_trusted(SSL_CTX *ctx, const char *seen)
{
	const char *pin = SSL_CTX_get_ex_data(ctx, pin_ctx_index);
	const char *allowed = SSL_CTX_get_ex_data(ctx, allow_ctx_index);
	char needle[TLS_FINGERPRINT_LEN + 2];

	if (pin)
		return strcmp(seen, pin) == 0;
	snprintf(needle, sizeof(needle), "\n%s\n", seen);
	return allowed && strstr(allowed, needle) != NULL;
}

/* Verify callback for pinned servers and allow-listed clients; see the
 * file comment. */
static int pin_verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	SSL_CTX *ctx = ssl ? SSL_get_SSL_CTX(ssl) : NULL;
	char seen[TLS_FINGERPRINT_LEN];
	X509 *cert;

	if (!ctx || (!SSL_CTX_get_ex_data(ctx, pin_ctx_index) &&
	    !SSL_CTX_get_ex_data(ctx, allow_ctx_index)))
		return preverify_ok;
	if (X509_STORE_CTX_get_error_depth(store) > 0)
		return 1; /* the leaf's pin decides, not the chain */

	cert = X509_STORE_CTX_get_current_cert(store);
	if (!cert || tls_cert_fingerprint(cert, seen) < 0)
		return 0;
	if (fingerprint_trusted(ctx, seen)) {
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	}

	if (!SSL_get_ex_data(ssl, seen_ssl_index))
		SSL_set_ex_data(ssl, seen_ssl_index, OPENSSL_strdup(seen));
	/* CERT_REJECTED makes a server send bad_certificate, which the client
	 * can tell apart from other handshake failures. */
	X509_STORE_CTX_set_error(store, SSL_is_server(ssl) ? X509_V_ERR_CERT_REJECTED :
		X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

int tls_ctx_set_pin(SSL_CTX *ctx, const char *pin)
{
	char norm[TLS_FINGERPRINT_LEN];
	char *copy;

	if (ensure_indexes() < 0)
		return SONO_ETLS;
	if (tls_pin_normalize(pin, norm) < 0)
		return SONO_EINVAL;
	copy = OPENSSL_strdup(norm);
	if (!copy)
		return SONO_ENOMEM;
	OPENSSL_free(SSL_CTX_get_ex_data(ctx, pin_ctx_index));
	SSL_CTX_set_ex_data(ctx, pin_ctx_index, copy);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, pin_verify_cb);
	return SONO_OK;
}

int tls_server_allow_clients(SSL_CTX *ctx, const char *const *fingerprints, size_t count)
{
	char *list;
	size_t i;

	if (ensure_indexes() < 0)
		return SONO_ETLS;
	if (count == 0 || count > SIZE_MAX / TLS_FINGERPRINT_LEN - 1)
		return SONO_EINVAL;
	list = OPENSSL_malloc(count * TLS_FINGERPRINT_LEN + 2);
	if (!list)
		return SONO_ENOMEM;

	strcpy(list, "\n");
	for (i = 0; i < count; i++) {
		char *end = list + strlen(list);

		if (tls_pin_normalize(fingerprints[i], end) < 0) {
			OPENSSL_free(list);
			return SONO_EINVAL;
		}
		strcat(end, "\n");
	}
	/* Without a session ID context OpenSSL fails every resumption attempt
	 * on a server that verifies clients. */
	if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sono-clients", 12) != 1) {
		OPENSSL_free(list);
		return SONO_ETLS;
	}
	OPENSSL_free(SSL_CTX_get_ex_data(ctx, allow_ctx_index));
	SSL_CTX_set_ex_data(ctx, allow_ctx_index, list);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, pin_verify_cb);
	return SONO_OK;
}

int tls_ctx_use_identity(SSL_CTX *ctx, const char *cert_file, const char *key_file,
	char *err, size_t errlen)
{
	char what[4200];

	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		snprintf(what, sizeof(what), "cannot load certificate %s", cert_file);
		tls_error_string(what, err, errlen);
		return SONO_ETLS;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "cannot load private key %s or it does not match %s",
			key_file, cert_file);
		tls_error_string(what, err, errlen);
		return SONO_ETLS;
	}
	check_key_mode(key_file);
	return SONO_OK;
}

const char *tls_rejected_fingerprint(const SSL *ssl)
{
	return seen_ssl_index >= 0 ? SSL_get_ex_data(ssl, seen_ssl_index) : NULL;
}

int tls_error_is_certificate_rejected(void)
{
	int reason = ERR_GET_REASON(ERR_peek_error());

	return reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
		reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
}

SSL_CTX *tls_client_ctx(const struct tls_trust *trust, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (!trust || (!trust->ca_file == !trust->pin)) {
		snprintf(err, errlen, "set exactly one of a CA file or a SHA256 pin to verify the peer");
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || tls_ctx_apply_policy(ctx) < 0 || ensure_indexes() < 0) {
		tls_error_string("cannot create a TLS client context", err, errlen);
		goto fail;
	}

	if (trust->pin) {
		if (tls_ctx_set_pin(ctx, trust->pin) < 0) {
			snprintf(err, errlen, "invalid pin '%.80s'; expected SHA256: and 64 hex digits",
				trust->pin);
			goto fail;
		}
		return ctx;
	}

	if (SSL_CTX_load_verify_locations(ctx, trust->ca_file, NULL) != 1) {
		char what[4200];

		snprintf(what, sizeof(what), "cannot load CA file %s", trust->ca_file);
		tls_error_string(what, err, errlen);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Returns 1 when host is an IPv4 or IPv6 literal. */
static int inet_pton_any(const char *host, unsigned char addr[16])
{
	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int tls_client_set_host(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	unsigned char addr[16];
	int is_ip = inet_pton_any(host, addr);

	if (is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? SONO_OK : SONO_ETLS;
	if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1)
		return SONO_ETLS;
	return SONO_OK;
}

int tls_verify_error(SSL *ssl, char *err, size_t errlen)
{
	const char *pin = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_ctx_index);
	const char *seen = seen_ssl_index >= 0 ? SSL_get_ex_data(ssl, seen_ssl_index) : NULL;
	long result = SSL_get_verify_result(ssl);

	if (pin && seen) {
		snprintf(err, errlen,
			"certificate fingerprint %s does not match the pinned %s; check the pin or "
			"the peer's identity", seen, pin);
		return 1;
	}
	if (seen && SSL_is_server(ssl)) {
		snprintf(err, errlen, "client certificate %s is not in the allowed list", seen);
		return 1;
	}
	if (result != X509_V_OK) {
		snprintf(err, errlen, "certificate verification failed: %s",
			X509_verify_cert_error_string(result));
		return 1;
	}
	return 0;
}

int tls_cert_fingerprint(X509 *cert, char out[TLS_FINGERPRINT_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != CRYPTO_SHA256_LEN)
		return SONO_ETLS;
	memcpy(out, "SHA256:", 7);
	crypto_hex(md, len, out + 7);
	return SONO_OK;
}

int tls_file_fingerprint(const char *cert_file, char out[TLS_FINGERPRINT_LEN])
{
	FILE *f = fopen(cert_file, "r");
	X509 *cert;
	int rc;

	if (!f)
		return SONO_ENOTFOUND;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!cert)
		return SONO_ETLS;
	rc = tls_cert_fingerprint(cert, out);
	X509_free(cert);
	return rc;
}

int tls_pin_normalize(const char *s, char out[TLS_FINGERPRINT_LEN])
{
	size_t i;

	if (strncmp(s, "SHA256:", 7) != 0 || strlen(s) != TLS_FINGERPRINT_LEN - 1)
		return SONO_EINVAL;
	memcpy(out, "SHA256:", 7);
	for (i = 7; i < TLS_FINGERPRINT_LEN - 1; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return SONO_EINVAL;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[i] = '\0';
	return SONO_OK;
}

int tls_pin_valid(const char *s)
{
	char norm[TLS_FINGERPRINT_LEN];

	return tls_pin_normalize(s, norm) == SONO_OK;
}

void tls_describe(const SSL *ssl, char *out, size_t outlen)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);

	snprintf(out, outlen, "%s %s", SSL_get_version(ssl),
		cipher ? SSL_CIPHER_get_name(cipher) : "(none)");
}

int tls_peer_serial(const SSL *ssl, char *out, size_t outlen)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	X509_NAME *name;
	int n = -1;

	if (!cert)
		return SONO_ENOTFOUND;
	name = X509_get_subject_name(cert);
	if (outlen <= INT32_MAX) {
		n = X509_NAME_get_text_by_NID(name, NID_serialNumber, out, (int)outlen);
		if (n < 0)
			n = X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)outlen);
	}
	X509_free(cert);
	return n < 0 ? SONO_ENOTFOUND : SONO_OK;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Fills in a self-signed certificate for key. */
static int build_certificate(X509 *cert, EVP_PKEY *key, const char *common_name,
	const char *serial, const char *dns_name, int days)
{
	X509_NAME *name = X509_get_subject_name(cert);
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	char san[600];
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return 0;
	rnd[0] &= 0x7f; /* positive serial */
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);

	ok = ok && X509_set_version(cert, 2) == 1;
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL;
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400) != NULL;
	ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		(const unsigned char *)common_name, -1, -1, 0) == 1;
	if (ok && serial)
		ok = X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_UTF8,
			(const unsigned char *)serial, -1, -1, 0) == 1;
	ok = ok && X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1;

	snprintf(san, sizeof(san), "%s%.255s%sDNS:localhost,IP:127.0.0.1,IP:::1",
		dns_name ? "DNS:" : "", dns_name ? dns_name : "", dns_name ? "," : "");
	/* CA:TRUE lets tests and lab clients use the self-signed certificate
	 * directly as their trust anchor (curl --cacert). */
	ok = ok && add_ext(cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	ok = ok && add_ext(cert, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign");
	ok = ok && add_ext(cert, NID_ext_key_usage, "serverAuth,clientAuth");
	ok = ok && add_ext(cert, NID_subject_key_identifier, "hash");
	ok = ok && add_ext(cert, NID_subject_alt_name, san);
	return ok && X509_sign(cert, key, EVP_sha256()) > 0;
}

/* Opens path for writing with mode 0600 whatever the umask. */
static FILE *open_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fchmod(fd, 0600) != 0 || !(f = fdopen(fd, "w"))) {
		close(fd);
		return NULL;
	}
	return f;
}

int tls_generate_identity(const char *cert_file, const char *key_file,
	const char *common_name, const char *serial, const char *dns_name, int rsa,
	int days, char *err, size_t errlen)
{
	EVP_PKEY *key = rsa ? EVP_RSA_gen(3072) : EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	FILE *f = NULL;
	int rc = SONO_ETLS;

	if (!key || !cert || !build_certificate(cert, key, common_name, serial, dns_name, days)) {
		tls_error_string("cannot generate a certificate", err, errlen);
		goto out;
	}

	f = open_private(key_file);
	if (!f || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0) {
		snprintf(err, errlen, "cannot write private key %s", key_file);
		f = NULL;
		rc = SONO_EIO;
		goto out;
	}
	f = open_private(cert_file);
	if (!f || PEM_write_X509(f, cert) != 1 || fclose(f) != 0) {
		snprintf(err, errlen, "cannot write certificate %s", cert_file);
		f = NULL;
		rc = SONO_EIO;
		goto out;
	}
	f = NULL;
	rc = SONO_OK;
out:
	if (f)
		fclose(f);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
