/* Entry points of sonoterm's subcommands.  Each takes argv with the command
 * name in argv[0] and returns a process exit code from sono/cli.h. */
#ifndef STATION_COMMANDS_H
#define STATION_COMMANDS_H

struct station_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* The interactive screens (no subcommand). */
int cmd_screens(int argc, char **argv);

int cmd_doctor(int argc, char **argv);
int cmd_link_test(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_exams(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_upload(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_identity(int argc, char **argv);
/* station-command-decls-end */

#endif
