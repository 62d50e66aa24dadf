/* The vector head parser against the scalar one (LG_NO_SIMD, linked in
 * from codec_scalar_twin.c), on inputs made to hit the places where the
 * vector code takes decisions of its own: field lines ending at every
 * offset around the 16-byte loads and the 64-byte line masks (a CR as the
 * last byte of a mask and its LF in the next one), lines longer than a
 * mask, tails shorter than a load, buffers shorter than 16 bytes, and the
 * bytes that send a line to the scalar path (HTAB, '_' and other token
 * characters in a name, control bytes, bare CR and LF). Then random edits
 * of realistic heads. Each input sits at the end of a guard page and at its
 * start (where the tail load looks back), and every result must be the
 * same: the return value, every member of the head, every slice. */
#include "guard.h"
#include "linger.h"
#include "test.h"

int lg_scalar_parse_request(lg_head *head, const char *buf, size_t len, size_t prev_len,
                            size_t max_head);
int lg_scalar_parse_response(lg_head *head, const char *buf, size_t len, size_t prev_len,
                             size_t max_head, int request_method);
int lg_scalar_parse_trailers(lg_head *head, const char *buf, size_t len, size_t prev_len,
                             size_t max_trailers);

#define MAX_INPUT 1024
#define SLOTS 40

static guard_buf guard;
static long compared;

static int same_str(lg_str a, lg_str b) { return a.ptr == b.ptr && a.len == b.len; }

static int same_head(const lg_head *a, const lg_head *b)
{
    if (a->num_headers != b->num_headers || !same_str(a->method, b->method) ||
        !same_str(a->target, b->target) || !same_str(a->host, b->host) ||
        !same_str(a->reason, b->reason) || a->content_length != b->content_length ||
        a->status != b->status || a->version_minor != b->version_minor ||
        a->method_id != b->method_id || a->target_form != b->target_form ||
        a->framing != b->framing || a->flags != b->flags)
        return 0;
    for (unsigned i = 0; i < a->num_headers; i++)
        if (!same_str(a->headers[i].name, b->headers[i].name) ||
            !same_str(a->headers[i].value, b->headers[i].value))
            return 0;
    return 1;
}

static void report(const char *what, const char *p, size_t len, int ra, int rb)
{
    test_failures++;
    if (test_failures > 5) return;
    fprintf(stderr, "%s: vector %d (%s), scalar %d (%s) on %zu bytes:\n  \"", what, ra,
            ra < 0 ? lg_err_name(ra) : "", rb, rb < 0 ? lg_err_name(rb) : "", len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') fputc(c, stderr);
        else fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
}

/* One input, one placement: request, response and trailers, whole, under
 * a limit, with few slots, and as the growth of a shorter prefix. */
static void compare_at(const char *p, size_t len, unsigned variant)
{
    lg_header ha[SLOTS], hb[SLOTS];
    size_t max_head = variant % 5 == 0 ? len / 2 + 1 : 0;
    uint16_t slots = variant % 7 == 0 ? 2 : SLOTS;
    size_t prev = variant % 3 == 0 && len ? (variant / 3) % len : 0;
    for (int kind = 0; kind < 3; kind++) {
        lg_head a = { .headers = ha, .max_headers = slots };
        lg_head b = { .headers = hb, .max_headers = slots };
        int method = (int)(variant % 10), ra, rb;
        if (kind == 0) {
            ra = lg_parse_request(&a, p, len, prev, max_head);
            rb = lg_scalar_parse_request(&b, p, len, prev, max_head);
        } else if (kind == 1) {
            ra = lg_parse_response(&a, p, len, prev, max_head, method);
            rb = lg_scalar_parse_response(&b, p, len, prev, max_head, method);
        } else {
            ra = lg_parse_trailers(&a, p, len, prev, max_head);
            rb = lg_scalar_parse_trailers(&b, p, len, prev, max_head);
        }
        compared++;
        test_checks++;
        if (ra != rb || (ra > 0 && !same_head(&a, &b)))
            report(kind == 0 ? "request" : kind == 1 ? "response" : "trailers", p, len, ra, rb);
    }
}

static void compare(const char *in, size_t len, unsigned variant)
{
    compare_at(guard_place(&guard, in, len), len, variant);
    compare_at(guard_place_front(&guard, in, len), len, variant + 1);
}

/* A request line, field lines, the empty line. */
static size_t build(char *out, const char *start, const char *const *lines, size_t n)
{
    size_t len = 0;
    len += (size_t)sprintf(out + len, "%s\r\n", start);
    for (size_t i = 0; i < n; i++) len += (size_t)sprintf(out + len, "%s\r\n", lines[i]);
    len += (size_t)sprintf(out + len, "\r\n");
    return len;
}

/* Every line ending at every offset: a filler field whose value grows a
 * byte at a time moves all that follows across the 16- and 64-byte
 * boundaries; each line after it is one of the interesting kinds. */
static void sweep_offsets(void)
{
    static const char *const kinds[] = {
        "Host: example.com:8080",
        "Content-Length: 42",
        "Transfer-Encoding: chunked",
        "Connection: keep-alive, Upgrade",
        "X-Tab:\tvalue\twith tabs\t",
        "X_Under_Score: v",
        "!#$%&'*+-.^_`|~: token name",
        "X-Empty:",
        "X-Spaces:    padded    ",
        "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "X-Obs-Text: caf\xc3\xa9",
        "Bad Name: v",
        "Space-Before-Colon : v",
        "X-Nul: a\x01z",
        "X-Del: a\x7fz",
        "X-Bare-CR: a\rz",
        " obs-fold",
        "NoColon",
        ": empty name",
    };
    char filler[200], in[MAX_INPUT];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t pad = 0; pad < 140; pad++) {
            memset(filler, 0, sizeof filler);
            memcpy(filler, "X-Pad: ", 7);
            memset(filler + 7, 'p', pad);
            const char *lines[] = { "Host: a", filler, kinds[k], "Accept: */*", kinds[k] };
            size_t len = build(in, "GET /index.html HTTP/1.1", lines, 5);
            compare(in, len, (unsigned)(k * 131 + pad));
            /* and every prefix of the part around the kind of line */
            for (size_t cut = len > 60 ? len - 60 : 0; cut < len; cut += 7) compare(in, cut, (unsigned)cut);
        }
    }
}

/* Heads shorter than one 16-byte load, and just longer. */
static void sweep_short(void)
{
    static const char *const heads[] = {
        "GET / HTTP/1.0\r\n\r\n", "a:b\r\n\r\n", "\r\n", "A: b\r\n\r\nX",
        "HTTP/1.1 200 OK\r\n\r\n", "X:\t\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        size_t n = strlen(heads[i]);
        for (size_t len = 0; len <= n; len++) compare(heads[i], len, (unsigned)len);
    }
}

static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

/* Random edits of realistic heads: bytes replaced, inserted, deleted, runs
 * of letters or spaces inserted to move lines across the boundaries. */
static void random_edits(void)
{
    static const char *const seeds[] = {
        "GET /js/app.js?v=3f2a9c1 HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive\r\n"
        "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36\r\nAccept: */*\r\nCookie: a=b; c=d\r\n\r\n",
        "POST /api/v1/sensors/42/readings HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUser-Agent: linger/0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 27\r\nAccept: */*\r\n\r\n{}",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX_a: \t b \t\r\n"
        "Connection: close, upgrade\r\nUpgrade: h2c\r\n\r\nhello",
        "PUT * HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5, 5\r\n\r\n",
        "Trailer-One: 1\r\nTrailer-Two:\t2\r\n\r\n",
        /* the host from the target, not the Host field; a newer minor version */
        "GET http://[::1]:8080/a?b HTTP/1.2\r\nHost: other.example:80\r\nContent-Length: 0\r\n\r\n",
    };
    static const char alphabet[] = "\r\n\t :,;-_aZ09\x7f\x80HTP/1.chunked@[]";
    char in[MAX_INPUT];
    for (unsigned it = 0; it < 60000; it++) {
        const char *seed = seeds[next() % (sizeof seeds / sizeof seeds[0])];
        size_t n = strlen(seed);
        memcpy(in, seed, n);
        for (unsigned m = next() % 6; m > 0; m--) {
            size_t at = n ? next() % n : 0, k = next() % 40;
            char c = alphabet[next() % (sizeof alphabet - 1)];
            switch (next() % 5) {
            case 0:
                if (n) in[at] = c;
                break;
            case 1:
                memmove(in + at + 1, in + at, n - at);
                in[at] = c;
                n++;
                break;
            case 2:
                if (n) {
                    memmove(in + at, in + at + 1, n - at - 1);
                    n--;
                }
                break;
            default:
                memmove(in + at + k, in + at, n - at);
                memset(in + at, next() % 2 ? 'x' : ' ', k);
                n += k;
                break;
            }
            if (n > MAX_INPUT - 64) break;
        }
        size_t len = next() % 4 == 0 ? next() % (n + 1) : n;
        compare(in, len, next());
    }
}

int main(void)
{
    guard_init(&guard, MAX_INPUT);
    sweep_offsets();
    sweep_short();
    random_edits();
    guard_free(&guard);
    printf("%ld comparisons\n", compared);
    TEST_MAIN_END();
}
