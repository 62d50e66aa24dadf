/*
 * Stand-ins for what mbedTLS calls besides what stubs.c has (the C
 * library's calloc, and the device's entropy source): never run, never
 * counted as linger's or mbedTLS's (scripts/tls_size.sh).
 */
#include <stddef.h>

void *calloc(size_t n, size_t size);
void *calloc(size_t n, size_t size) { (void)n; (void)size; return 0; }
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    (void)out;
    *olen = len;
    return 0;
}
char *strcpy(char *d, const char *s);
char *strcpy(char *d, const char *s) { char *p = d; while ((*p++ = *s++)) ; return d; }
