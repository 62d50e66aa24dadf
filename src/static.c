/* Static files under a URL prefix. (Being written: for now the mount is
 * refused so nobody mistakes it for working.) */
#include "server_internal.h"

int lg_server_static(lg_server *srv, const char *prefix, const char *root)
{
    (void)srv;
    (void)prefix;
    (void)root;
    return LG_ERR_UNSUPPORTED;
}

void lg__static_free(lg_server *srv)
{
    (void)srv;
}
