/* The linger command-line tool: a demo server and an HTTP client, built on
 * the public API only. Each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "linger.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: linger <command> [options]\n"
               "  serve   run the demo HTTP server (linger serve --help)\n"
               "  get     fetch a URL (linger get --help)\n"
               "  post    send data to a URL (linger post --help)\n"
               "  ws      a WebSocket: stdin lines out, messages in (linger ws --help)\n"
               "  parse   read an HTTP request from stdin and print it as JSON\n"
               "linger %s\n",
            LG_VERSION_STRING);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "get") == 0) return cmd_get(argc - 1, argv + 1);
    if (strcmp(cmd, "post") == 0) return cmd_post(argc - 1, argv + 1);
    if (strcmp(cmd, "ws") == 0) return cmd_ws(argc - 1, argv + 1);
    if (strcmp(cmd, "parse") == 0) return cmd_parse(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("linger %s\n", LG_VERSION_STRING);
        return 0;
    }
    fprintf(stderr, "linger: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
