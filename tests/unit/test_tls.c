/* Tests of the TLS policy against OpenSSL's own s_client and s_server. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sono/error.h"
#include "sono/tls.h"

static char dir[256];
static char cert_a[300], key_a[300], cert_b[300], key_b[300];

static int setup_identities(void **state)
{
	char err[512];

	snprintf(dir, sizeof(dir), "/tmp/sono-test-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cert_a, sizeof(cert_a), "%s/a.crt", dir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", dir);
	snprintf(cert_b, sizeof(cert_b), "%s/b.crt", dir);
	snprintf(key_b, sizeof(key_b), "%s/b.key", dir);
	assert_int_equal(tls_generate_identity(cert_a, key_a, "scanner-a", "SN-A", NULL, 1, 1,
		err, sizeof(err)), SONO_OK);
	assert_int_equal(tls_generate_identity(cert_b, key_b, "scanner-b", "SN-B", NULL, 0, 1,
		err, sizeof(err)), SONO_OK);
	return 0;
}

static int teardown_identities(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Returns a listening loopback socket and its port. */
static int listen_loopback(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int connect_loopback(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, tries;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (tries = 0; tries < 100; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		usleep(50000);
	}
	fail_msg("cannot connect to 127.0.0.1:%u", port);
	return -1;
}

struct server_run {
	SSL_CTX *ctx;
	int listen_fd;
	int accepted; /* 1 when SSL_accept succeeded */
};

static void *serve_once(void *arg)
{
	struct server_run *run = arg;
	int fd = accept(run->listen_fd, NULL, NULL);
	SSL *ssl = SSL_new(run->ctx);

	SSL_set_fd(ssl, fd);
	run->accepted = SSL_accept(ssl) == 1;
	if (run->accepted)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return NULL;
}

/* Runs "openssl s_client" with extra arguments against a policy server,
 * which accepts only the client fingerprint allowed when that is not NULL,
 * and returns whether the handshake succeeded on the server side. */
static int s_client_against(const char *allowed, const char *args)
{
	struct server_run run = { 0 };
	pthread_t thread;
	unsigned port;
	char err[512], cmd[512];
	int status;

	run.ctx = tls_server_ctx(cert_a, key_a, err, sizeof(err));
	assert_non_null(run.ctx);
	if (allowed)
		assert_int_equal(tls_server_allow_clients(run.ctx, &allowed, 1), SONO_OK);
	run.listen_fd = listen_loopback(&port);
	pthread_create(&thread, NULL, serve_once, &run);

	snprintf(cmd, sizeof(cmd),
		"openssl s_client -connect 127.0.0.1:%u %s </dev/null >/dev/null 2>&1", port, args);
	status = system(cmd);
	pthread_join(thread, NULL);
	close(run.listen_fd);
	SSL_CTX_free(run.ctx);
	(void)status;
	return run.accepted;
}

static int s_client_against_policy(const char *args)
{
	return s_client_against(NULL, args);
}

static void server_accepts_tls13(void **state)
{
	assert_true(s_client_against_policy("-tls1_3"));
}

static void server_accepts_tls12_aes256_gcm(void **state)
{
	assert_true(s_client_against_policy("-tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384"));
}

static void server_rejects_tls11(void **state)
{
	assert_false(s_client_against_policy("-tls1_1 -cipher DEFAULT@SECLEVEL=0"));
}

static void server_rejects_tls12_cbc(void **state)
{
	assert_false(s_client_against_policy("-tls1_2 -cipher ECDHE-RSA-AES256-SHA384"));
}

static void server_rejects_tls12_aes128_gcm(void **state)
{
	assert_false(s_client_against_policy("-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"));
}

/* Returns whether a server that allows only cert_b accepts s_client
 * presenting cert and key with the version option. */
static int allows_only_b(const char *version, const char *cert, const char *key)
{
	char fingerprint[TLS_FINGERPRINT_LEN], args[700];

	assert_int_equal(tls_file_fingerprint(cert_b, fingerprint), SONO_OK);
	snprintf(args, sizeof(args), "%s -cert %s -key %s", version, cert, key);
	return s_client_against(fingerprint, args);
}

static void server_accepts_listed_client(void **state)
{
	assert_true(allows_only_b("-tls1_3", cert_b, key_b));
	assert_true(allows_only_b("-tls1_2", cert_b, key_b));
}

static void server_rejects_unlisted_client(void **state)
{
	assert_false(allows_only_b("-tls1_3", cert_a, key_a));
	assert_false(allows_only_b("-tls1_2", cert_a, key_a));
}

static void server_rejects_client_without_certificate(void **state)
{
	char fingerprint[TLS_FINGERPRINT_LEN];

	assert_int_equal(tls_file_fingerprint(cert_b, fingerprint), SONO_OK);
	assert_false(s_client_against(fingerprint, "-tls1_3"));
	assert_false(s_client_against(fingerprint, "-tls1_2"));
}

static void allow_list_rejects_malformed(void **state)
{
	const char *bad[] = { "SHA256:abc" };
	char err[512];
	SSL_CTX *ctx = tls_server_ctx(cert_a, key_a, err, sizeof(err));

	assert_non_null(ctx);
	assert_int_equal(tls_server_allow_clients(ctx, bad, 1), SONO_EINVAL);
	assert_int_equal(tls_server_allow_clients(ctx, bad, 0), SONO_EINVAL);
	SSL_CTX_free(ctx);
}

/* Starts "openssl s_server" with extra arguments; returns its pid. */
static pid_t start_s_server(unsigned port, const char *args)
{
	char cmd[1024];
	pid_t pid;

	snprintf(cmd, sizeof(cmd),
		"exec openssl s_server -www -accept 127.0.0.1:%u -cert %s -key %s -naccept 1 %s "
		">/dev/null 2>&1 </dev/null", port, cert_a, key_a, args);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Connects a policy client to s_server started with args; returns the
 * SSL_connect result and fills err with the verification error if any. */
static int policy_client_against(const char *args, const char *pin, char *err, size_t errlen)
{
	struct tls_trust trust = { .pin = pin };
	unsigned port;
	int lfd = listen_loopback(&port);
	SSL_CTX *ctx;
	SSL *ssl;
	pid_t pid;
	int fd, ok;

	close(lfd); /* reuse the free port number for s_server */
	pid = start_s_server(port, args);
	ctx = tls_client_ctx(&trust, err, errlen);
	assert_non_null(ctx);
	fd = connect_loopback(port);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	err[0] = '\0';
	ok = SSL_connect(ssl) == 1;
	if (!ok)
		tls_verify_error(ssl, err, errlen);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ERR_clear_error();
	return ok;
}

static void client_connects_with_right_pin(void **state)
{
	char pin[TLS_FINGERPRINT_LEN], err[512];

	assert_int_equal(tls_file_fingerprint(cert_a, pin), SONO_OK);
	assert_true(policy_client_against("", pin, err, sizeof(err)));
}

static void client_rejects_tls11_server(void **state)
{
	char pin[TLS_FINGERPRINT_LEN], err[512];

	assert_int_equal(tls_file_fingerprint(cert_a, pin), SONO_OK);
	assert_false(policy_client_against("-tls1_1 -cipher DEFAULT@SECLEVEL=0", pin, err,
		sizeof(err)));
}

static void client_rejects_cbc_server(void **state)
{
	char pin[TLS_FINGERPRINT_LEN], err[512];

	assert_int_equal(tls_file_fingerprint(cert_a, pin), SONO_OK);
	assert_false(policy_client_against("-tls1_2 -cipher AES256-SHA256:ECDHE-RSA-AES256-SHA384",
		pin, err, sizeof(err)));
}

static void client_rejects_wrong_pin_naming_both(void **state)
{
	char pin_a[TLS_FINGERPRINT_LEN], pin_b[TLS_FINGERPRINT_LEN], err[512];

	assert_int_equal(tls_file_fingerprint(cert_a, pin_a), SONO_OK);
	assert_int_equal(tls_file_fingerprint(cert_b, pin_b), SONO_OK);
	assert_false(policy_client_against("", pin_b, err, sizeof(err)));
	assert_non_null(strstr(err, pin_a));
	assert_non_null(strstr(err, pin_b));
}

static void pin_parsing(void **state)
{
	char norm[TLS_FINGERPRINT_LEN];
	const char *upper =
		"SHA256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789";

	assert_true(tls_pin_valid(upper));
	assert_int_equal(tls_pin_normalize(upper, norm), SONO_OK);
	assert_string_equal(norm + 7, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_false(tls_pin_valid("SHA256:abc"));
	assert_false(tls_pin_valid("sha1:abcdef"));
	assert_false(tls_pin_valid(
		"SHA256:zbcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
}

static void identity_files_are_private(void **state)
{
	struct stat st;

	assert_int_equal(stat(key_a, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(cert_a, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void client_needs_exactly_one_trust(void **state)
{
	struct tls_trust none = { 0 };
	struct tls_trust both = { .ca_file = "x", .pin = "y" };
	char err[256];

	assert_null(tls_client_ctx(&none, err, sizeof(err)));
	assert_null(tls_client_ctx(&both, err, sizeof(err)));
	assert_non_null(strstr(err, "exactly one"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_accepts_tls13),
		cmocka_unit_test(server_accepts_tls12_aes256_gcm),
		cmocka_unit_test(server_rejects_tls11),
		cmocka_unit_test(server_rejects_tls12_cbc),
		cmocka_unit_test(server_rejects_tls12_aes128_gcm),
		cmocka_unit_test(server_accepts_listed_client),
		cmocka_unit_test(server_rejects_unlisted_client),
		cmocka_unit_test(server_rejects_client_without_certificate),
		cmocka_unit_test(allow_list_rejects_malformed),
		cmocka_unit_test(client_connects_with_right_pin),
		cmocka_unit_test(client_rejects_tls11_server),
		cmocka_unit_test(client_rejects_cbc_server),
		cmocka_unit_test(client_rejects_wrong_pin_naming_both),
		cmocka_unit_test(pin_parsing),
		cmocka_unit_test(identity_files_are_private),
		cmocka_unit_test(client_needs_exactly_one_trust),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_identities, teardown_identities);
}
