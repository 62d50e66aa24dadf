/* `linger get` and `linger post` (not built yet). */
#include <stdio.h>

#include "cli.h"

int cmd_get(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "linger get: the client is not built yet\n");
    return 1;
}

int cmd_post(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "linger post: the client is not built yet\n");
    return 1;
}
