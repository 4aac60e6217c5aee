/* sonocloud's administration commands: init, user, scanner, grant, revoke,
 * settings and audit.  Each entry point takes the command's own argv
 * (argv[0] is the command name) and returns a process exit code from
 * sono/cli.h.  Staff can start an enrolment or a reset but no command shows
 * or sets a password. */
#ifndef CLOUD_ADMIN_H
#define CLOUD_ADMIN_H

/* Files that init creates beside the database. */
#define ADMIN_CERT_FILE "cert.pem"
#define ADMIN_KEY_FILE "key.pem"
#define ADMIN_OUTBOX_DIR "outbox"

int admin_init_main(int argc, char **argv);
int admin_user_main(int argc, char **argv);
int admin_scanner_main(int argc, char **argv);
int admin_grant_main(int argc, char **argv);
int admin_revoke_main(int argc, char **argv);
int admin_settings_main(int argc, char **argv);
int admin_audit_main(int argc, char **argv);

#endif
