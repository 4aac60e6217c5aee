/* The HTTPS server behind `sonocloud serve`.
 *
 * serve.c in this folder is a placeholder that reports the command as not
 * built; the server's owner replaces it with the libevent implementation
 * (http*.c, server.c, routes*.c) and keeps this declaration. */
#ifndef CLOUD_SERVER_H
#define CLOUD_SERVER_H

/* Runs `sonocloud serve`.  argv[0] is "serve".  Returns a process exit code
 * from sono/cli.h. */
int cloud_serve_main(int argc, char **argv);

#endif
