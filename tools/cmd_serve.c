/* `linger serve`: the demo server (not built yet). */
#include <stdio.h>

#include "cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "linger serve: the server is not built yet\n");
    return 1;
}
