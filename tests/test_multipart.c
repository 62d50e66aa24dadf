/*
 * The multipart/form-data decoder: bodies as curl and browsers send them,
 * RFC 2046's corners (preamble, epilogue, padding after a boundary,
 * boundary-like bytes inside content, CRLFs inside content, empty parts),
 * and every refusal with its code and status — each fed whole, cut at
 * every byte, cut at every pair of bytes, and a byte at a time, with the
 * same transcript of events every time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"
#include "test.h"

/* A transcript of the events: P[name|filename|type] for a part (filename
 * "-" when it is not a file, type "-" when none), the content as it came
 * (pieces joined: how the input was cut must not show), E at a part's
 * end, $ at the final boundary, !CODE on an error, ? when the input ran
 * out first. */
typedef struct transcript {
    char text[8192];
    size_t len;
    int in_data;
} transcript;

static void put(transcript *t, const char *s, size_t n)
{
    if (t->len + n >= sizeof t->text) n = sizeof t->text - 1 - t->len;
    memcpy(t->text + t->len, s, n);
    t->len += n;
    t->text[t->len] = 0;
}

static void put_str(transcript *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_slice(transcript *t, lg_str s)
{
    if (s.ptr) put(t, s.ptr, s.len);
    else put_str(t, "-");
}

/* Feed `body` to a fresh decoder in pieces cut at `cuts` (ascending
 * offsets), as a server would: unconsumed bytes are kept and presented
 * again with the next piece. */
static void run(const char *ctype, const char *body, size_t len, const size_t *cuts, size_t ncuts,
                uint32_t max_parts, uint16_t max_header, transcript *t)
{
    memset(t, 0, sizeof *t);
    lg_multipart mp;
    lg_str ct = { ctype, strlen(ctype) };
    int rc = lg_multipart_init(&mp, ct, max_parts, max_header);
    if (rc) {
        char e[32];
        snprintf(e, sizeof e, "!%d", rc);
        put_str(t, e);
        return;
    }
    char *buf = malloc(len + 1);
    size_t have = 0, fed = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t upto = c < ncuts ? cuts[c] : len;
        memcpy(buf + have, body + fed, upto - fed);
        have += upto - fed;
        fed = upto;
        size_t off = 0;
        for (;;) {
            size_t used;
            lg_multipart_event ev;
            int e = lg_multipart_parse(&mp, buf + off, have - off, &used, &ev);
            CHECK(used <= have - off);
            off += used;
            if (e < 0) {
                char s[32];
                snprintf(s, sizeof s, "!%d", e);
                put_str(t, s);
                free(buf);
                return;
            }
            if (e == LG_MP_PART) {
                put_str(t, "P[");
                put_slice(t, ev.name);
                put_str(t, "|");
                put_slice(t, ev.filename);
                put_str(t, "|");
                put_slice(t, ev.content_type);
                put_str(t, "]");
            } else if (e == LG_MP_DATA) {
                CHECK(ev.data.len > 0);
                put(t, ev.data.ptr, ev.data.len);
            } else if (e == LG_MP_PART_END) {
                put_str(t, "E");
            } else if (e == LG_MP_DONE) {
                CHECK_EQ_INT(off, have); /* the epilogue is consumed */
                put_str(t, "$");
                CHECK_EQ_INT(lg_multipart_finish(&mp), LG_OK);
                free(buf);
                return;
            } else {
                break;
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    int fin = lg_multipart_finish(&mp);
    char s[32];
    snprintf(s, sizeof s, "?%d", fin);
    put_str(t, s);
    free(buf);
}

/* Whole, cut once at every offset, twice at every pair (for short bodies),
 * and a byte at a time: the transcript must be `want` every time. */
static void check_body(const char *what, const char *ctype, const char *body, const char *want,
                       uint32_t max_parts, uint16_t max_header)
{
    size_t len = strlen(body);
    transcript t;
    int bad = 0;
    run(ctype, body, len, NULL, 0, max_parts, max_header, &t);
    if (strcmp(t.text, want) != 0) {
        fprintf(stderr, "%s, whole:\n  got  %s\n  want %s\n", what, t.text, want);
        bad++;
    }
    for (size_t i = 1; i < len && !bad; i++) {
        run(ctype, body, len, &i, 1, max_parts, max_header, &t);
        if (strcmp(t.text, want) != 0) {
            fprintf(stderr, "%s, cut at %lu:\n  got  %s\n  want %s\n", what, (unsigned long)i,
                    t.text, want);
            bad++;
        }
    }
    if (len <= 400)
        for (size_t i = 1; i < len && !bad; i++)
            for (size_t j = i + 1; j < len && !bad; j++) {
                size_t cuts[2] = { i, j };
                run(ctype, body, len, cuts, 2, max_parts, max_header, &t);
                if (strcmp(t.text, want) != 0) {
                    fprintf(stderr, "%s, cut at %lu and %lu:\n  got  %s\n  want %s\n", what,
                            (unsigned long)i, (unsigned long)j, t.text, want);
                    bad++;
                }
            }
    size_t *all = calloc(len + 1, sizeof *all);
    for (size_t i = 0; i < len; i++) all[i] = i + 1;
    run(ctype, body, len, all, len ? len - 1 : 0, max_parts, max_header, &t);
    free(all);
    if (!bad && strcmp(t.text, want) != 0) {
        fprintf(stderr, "%s, a byte at a time:\n  got  %s\n  want %s\n", what, t.text, want);
        bad++;
    }
    CHECK(bad == 0);
}

#define CT "multipart/form-data; boundary=XyZ"

static char expect[256];
static const char *err_after(const char *prefix, int code)
{
    snprintf(expect, sizeof expect, "%s!%d", prefix, code);
    return expect;
}

static void test_bodies(void)
{
    /* curl -F a=1 -F f=@x.txt */
    check_body("curl", CT,
               "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
               "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n"
               "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n\r\n--XyZ--\r\n",
               "P[a|-|-]1EP[f|x.txt|text/plain]line one\r\nline two\r\nE$", 0, 0);
    /* a preamble, padding after boundaries, an epilogue, an empty part */
    check_body("preamble and epilogue", CT,
               "This is a preamble.\r\n--XyZ  \t\r\nContent-Disposition: form-data; name=e\r\n"
               "\r\n\r\n--XyZ\r\ncontent-disposition: FORM-DATA; NAME=\"b\"\r\n\r\nx\r\n--XyZ--"
               "and an epilogue\r\n--XyZ\r\nnot a part",
               "P[e|-|-]EP[b|-|-]xE$", 0, 0);
    /* bytes that look like a boundary inside content: CR, CRLF, CRLF "--",
     * "--XyZ" not at a line's start, a prefix of the delimiter at the end */
    check_body("boundary-like content", CT,
               "--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n"
               "\r\r\n\r\n-\r\n--\r\n--X\r\n--Xy--XyZ\r\n--XyZ--",
               "P[c|-|-]\r\r\n\r\n-\r\n--\r\n--X\r\n--Xy--XyZE$", 0, 0);
}

static void test_refusals(void)
{
    /* not multipart, or no usable boundary */
    static const char *const bad_types[] = {
        "text/plain; boundary=x", "multipart/form-data", "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=a b ",
        "multipart/form-data; boundary=x; boundary=y", "multipart/form-data; boundary=\"x",
        "multipart/form-data; boundary=x{}",
        ("multipart/form-data; boundary=12345678901234567890123456789012345678901234567890"
         "123456789012345678901"), /* 71 characters */
    };
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        transcript t;
        run(bad_types[i], "", 0, NULL, 0, 0, 0, &t);
        snprintf(expect, sizeof expect, "!%d", LG_ERR_MULTIPART_BOUNDARY);
        if (strcmp(t.text, expect) != 0) fprintf(stderr, "type %lu: %s\n", (unsigned long)i, t.text);
        CHECK(strcmp(t.text, expect) == 0);
    }
    transcript t;
    run("Multipart/Form-Data ; Boundary=\"a b'()+_,-./:=?\"", "--a b'()+_,-./:=?--", 19, NULL, 0, 0,
        0, &t);
    CHECK(strcmp(t.text, "$") == 0); /* every bchar, quoted, a space inside */

    const char *part = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
    /* the body ends before the final boundary: an error, never a short
     * file taken for whole */
    char body[1024];
    snprintf(body, sizeof body, "%s", part);
    snprintf(expect, sizeof expect, "P[a|-|-]1?%d", LG_ERR_MULTIPART_TRUNCATED);
    check_body("no final boundary", CT, body, expect, 0, 0);
    snprintf(expect, sizeof expect, "?%d", LG_ERR_MULTIPART_TRUNCATED);
    check_body("nothing at all", CT, "", expect, 0, 0);
    /* a delimiter followed by anything but "--" or padding CRLF */
    check_body("boundary run on", CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZZ",
               err_after("P[a|-|-]1E", LG_ERR_MULTIPART), 0, 0);
    check_body("boundary dash", CT, "--XyZ-\r\n", err_after("", LG_ERR_MULTIPART), 0, 0);
    /* parts without a proper Content-Disposition */
    check_body("no disposition", CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("no fields", CT, "--XyZ\r\n\r\nx\r\n--XyZ--", err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("not form-data", CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("no name", CT, "--XyZ\r\nContent-Disposition: form-data; filename=a\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("obs-fold", CT, "--XyZ\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("bare LF", CT, "--XyZ\r\nContent-Disposition: form-data; name=a\n\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("unterminated quote", CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("control character", CT,
               "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX: a\001b\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);
    check_body("two dispositions", CT,
               "--XyZ\r\nContent-Disposition: form-data; name=a\r\n"
               "Content-Disposition: form-data; name=b\r\n\r\nx",
               err_after("", LG_ERR_MULTIPART), 0, 0);

    /* limits: parts, and a part's header section (413 both) */
    char many[4096];
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(many + n, sizeof many - n,
                              "--XyZ\r\nContent-Disposition: form-data; name=p%d\r\n\r\n%d\r\n", i, i);
    snprintf(many + n, sizeof many - n, "--XyZ--");
    check_body("five parts, five allowed", CT, many,
               "P[p0|-|-]0EP[p1|-|-]1EP[p2|-|-]2EP[p3|-|-]3EP[p4|-|-]4E$", 5, 0);
    check_body("five parts, four allowed", CT, many,
               err_after("P[p0|-|-]0EP[p1|-|-]1EP[p2|-|-]2EP[p3|-|-]3E", LG_ERR_MULTIPART_PARTS), 4, 0);
    const char *hdr = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--";
    size_t section = strlen("Content-Disposition: form-data; name=a\r\n");
    check_body("header at its limit", CT, hdr, "P[a|-|-]xE$", 0, (uint16_t)section);
    check_body("header over its limit", CT, hdr, err_after("", LG_ERR_MULTIPART_HEADER), 0,
               (uint16_t)(section - 1));
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_MULTIPART_HEADER), 413);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_MULTIPART_PARTS), 413);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_MULTIPART), 400);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_MULTIPART_TRUNCATED), 400);
}

/* A large file's content comes through in few pieces, none of them
 * copied: each DATA slice points into the input. */
static void test_large_content_is_sliced(void)
{
    size_t size = 1u << 20;
    const char *head = "--XyZ\r\nContent-Disposition: form-data; name=f; filename=big.bin\r\n\r\n";
    const char *tail = "\r\n--XyZ--\r\n";
    size_t hl = strlen(head), tl = strlen(tail), len = hl + size + tl;
    char *body = malloc(len);
    memcpy(body, head, hl);
    for (size_t i = 0; i < size; i++) body[hl + i] = (char)(i % 13 == 0 ? '\r' : 'a' + i % 26);
    memcpy(body + hl + size, tail, tl);
    lg_multipart mp;
    lg_str ct = { CT, strlen(CT) };
    CHECK_EQ_INT(lg_multipart_init(&mp, ct, 0, 0), LG_OK);
    size_t off = 0, got = 0;
    int pieces = 0, done = 0;
    while (off < len && !done) {
        size_t used;
        lg_multipart_event ev;
        int e = lg_multipart_parse(&mp, body + off, len - off, &used, &ev);
        CHECK(e >= 0);
        if (e == LG_MP_DATA) {
            CHECK(ev.data.ptr == body + off);
            CHECK(memcmp(ev.data.ptr, body + hl + got, ev.data.len) == 0);
            got += ev.data.len;
            pieces++;
        }
        if (e == LG_MP_DONE || e < 0) done = 1;
        off += used;
    }
    CHECK(done);
    CHECK_EQ_INT(got, size);
    CHECK_EQ_INT(pieces, 1); /* CRs inside content do not cut it */
    free(body);
}

int main(void)
{
    test_bodies();
    test_refusals();
    test_large_content_is_sliced();
    TEST_MAIN_END();
}
