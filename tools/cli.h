/* The linger tool's subcommands, one file each. Each returns the process's
 * exit status. */
#ifndef LG_CLI_H
#define LG_CLI_H

int cmd_parse(int argc, char **argv);  /* tools/cmd_parse.c: codec demo */
int cmd_serve(int argc, char **argv);  /* tools/cmd_serve.c: the demo server */
int cmd_get(int argc, char **argv);    /* tools/cmd_client.c: GET a URL */
int cmd_post(int argc, char **argv);   /* tools/cmd_client.c: POST to a URL */

#endif
