/* The public headers are C99 with nothing beyond it: a program compiled
 * with -std=c99 -pedantic -Werror includes them (the ctest header_c99). */
#include "linger.h"
#include "linger_port.h"
#include "linger_ws.h"
#include "linger_tls.h" /* (its declarations only: no mbedTLS header) */

int main(void)
{
    return (int)sizeof(lg_stream) > 0 ? 0 : 1;
}
