/* Numeric address parsing and formatting (portable: no inet_pton). */
#include "linger.h"
#include "test.h"

static void roundtrip(const char *in, int family, uint16_t port, const char *out)
{
    lg_addr a;
    char buf[64];
    int rc = lg_addr_parse(&a, in, 80);
    CHECK_EQ_INT(rc, LG_OK);
    if (rc) {
        fprintf(stderr, "  parsing \"%s\"\n", in);
        return;
    }
    CHECK_EQ_INT(a.family, family);
    CHECK_EQ_INT(a.port, port);
    CHECK(lg_addr_format(&a, buf, sizeof buf) > 0);
    if (strcmp(buf, out) != 0) {
        test_failures++;
        fprintf(stderr, "  \"%s\" formats as \"%s\", expected \"%s\"\n", in, buf, out);
    }
}

static void bad(const char *in)
{
    lg_addr a;
    if (lg_addr_parse(&a, in, 80) != LG_ERR_ADDR_INVALID) {
        test_failures++;
        fprintf(stderr, "  \"%s\" should not parse\n", in);
    }
    test_checks++;
}

int main(void)
{
    roundtrip("127.0.0.1:8080", 4, 8080, "127.0.0.1:8080");
    roundtrip("0.0.0.0", 4, 80, "0.0.0.0:80");
    roundtrip("255.255.255.255:65535", 4, 65535, "255.255.255.255:65535");
    roundtrip("[::1]:8080", 6, 8080, "[::1]:8080");
    roundtrip("[::]:0", 6, 0, "[::]:0");
    roundtrip("::1", 6, 80, "[::1]:80");
    roundtrip("[2001:db8::1]:443", 6, 443, "[2001:db8::1]:443");
    roundtrip("[2001:DB8:0:0:1:0:0:1]:1", 6, 1, "[2001:db8::1:0:0:1]:1");
    roundtrip("[1::]:2", 6, 2, "[1::]:2");
    roundtrip("[1:2:3:4:5:6:7:8]:9", 6, 9, "[1:2:3:4:5:6:7:8]:9");
    roundtrip("[::ffff:10.0.0.1]:5", 6, 5, "[::ffff:a00:1]:5");
    roundtrip("[fe80::1%3]:7", 6, 7, "[fe80::1]:7");
    bad("");
    bad("1.2.3");
    bad("1.2.3.4.5");
    bad("256.1.1.1");
    bad("1.2.3.4:");
    bad("1.2.3.4:65536");
    bad("1.2.3.4:x");
    bad("01234.1.1.1");
    bad("localhost:80");
    bad("[::1");
    bad("[::1]80");
    bad("[1:2:3:4:5:6:7:8:9]");
    bad("[1::2::3]");
    bad("[12345::]");
    bad("[:1]");
    bad("[1:]");
    lg_addr a;
    char small[8];
    lg_addr_parse(&a, "127.0.0.1:1", 0);
    CHECK_EQ_INT(lg_addr_format(&a, small, sizeof small), LG_ERR_BUFFER_TOO_SMALL);
    TEST_MAIN_END();
}
