/*
 * Routes of the interop server where bodies move: streamed uploads, the
 * answer that does not read the body (the original bug), 100-continue
 * accepted and refused, answers from a timer, streamed and file answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interop.h"

uint32_t interop_crc32(uint32_t crc, const void *data, size_t len)
{
    static uint32_t table[256];
    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void send_text(lg_res *res, int status, const char *text)
{
    lg_res_header(res, "Content-Type", "text/plain; charset=utf-8");
    lg_res_send_str(res, status, text);
}

/* --- POST /upload?max=N: the body as it streams in; answers its length
 * and CRC-32 once it is complete. ?refuse_after=N answers 422 as soon as N
 * bytes have come, in the middle of the body (the rest is the server's to
 * discard or drain), and frees its state there: no call may follow. --- */

typedef struct upload {
    lg_res *res;
    uint64_t bytes, refuse_after;
    uint32_t crc;
} upload;

static void upload_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    upload *u = user;
    (void)req;
    if (status == LG_OK && len) {
        u->bytes += len;
        u->crc = interop_crc32(u->crc, data, len);
        if (u->refuse_after && u->bytes >= u->refuse_after) {
            char out[64];
            snprintf(out, sizeof out, "refused after %llu bytes\n", (unsigned long long)u->bytes);
            send_text(u->res, 422, out);
            free(u);
        }
        return;
    }
    if (status == LG_OK) {
        char out[64];
        snprintf(out, sizeof out, "bytes=%llu crc=%08x\n", (unsigned long long)u->bytes, u->crc);
        send_text(u->res, 200, out);
    } else if (status == LG_ERR_BODY_TOO_LARGE) {
        lg_res_error(u->res, 413, "upload larger than ?max");
    } else {
        /* The client left or stalled: the answer goes nowhere, but every
         * request gets one (it frees the request). */
        lg_res_error(u->res, 400, lg_strerror(status));
    }
    free(u);
}

static void start_upload(lg_req *req, lg_res *res)
{
    upload *u = calloc(1, sizeof *u);
    if (!u) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    u->res = res;
    u->refuse_after = interop_query_u64(req, "refuse_after", 0);
    int rc = lg_req_read_body(req, interop_query_u64(req, "max", 0), upload_chunk, u);
    if (rc != LG_OK) {
        free(u);
        lg_res_error(res, rc == LG_ERR_BODY_TOO_LARGE ? 413 : 500, lg_strerror(rc));
    }
}

static void on_upload(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    start_upload(req, res);
}

/* POST /upload-auth: 100-continue refused. Without "X-Token: secret" the
 * answer (401) goes out before the body is asked for, so a client waiting
 * for "100 Continue" never sends it (RFC 9110 10.1.1). */
static void on_upload_auth(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str t = lg_req_header(req, "X-Token");
    if (!t.ptr || t.len != 6 || memcmp(t.ptr, "secret", 6) != 0) {
        lg_res_header(res, "WWW-Authenticate", "Token");
        lg_res_error(res, 401, "X-Token required");
        return;
    }
    start_upload(req, res);
}

/* Any method, /early: "OK" at once, body unread. The original bug: whatever the size
 * of the body, the client must get this answer and no reset. */
static void on_early(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    send_text(res, 200, "OK");
}

/* --- GET /deferred?ms=50: the answer comes from a timer --- */

typedef struct deferred {
    lg_timer t;
    lg_res *res;
    uint64_t ms;
} deferred;

static void deferred_fire(lg_timer *t)
{
    deferred *k = LG_CONTAINER_OF(t, deferred, t);
    char out[48];
    snprintf(out, sizeof out, "deferred %llu ms\n", (unsigned long long)k->ms);
    send_text(k->res, 200, out);
    free(k);
}

static void on_deferred(lg_req *req, lg_res *res, void *user)
{
    interop *d = user;
    deferred *k = calloc(1, sizeof *k);
    if (!k) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    k->res = res;
    k->ms = interop_query_u64(req, "ms", 50);
    lg_timer_init(d->loop, &k->t, deferred_fire);
    lg_timer_start(&k->t, (uint32_t)k->ms);
}

/* --- GET /stream?bytes=N&piece=M: N pattern bytes from a producer, in
 * pieces of M, as fast as the client takes them (back-pressure:
 * lg_res_write says LG_ERR_LIMIT and the server calls fill again later).
 * ?length=1 announces a Content-Length instead of chunking. --- */

typedef struct producer {
    interop *d;
    uint64_t sent, total;
    size_t piece;
    char buf[];
} producer;

/* The pattern from any offset, copied rather than computed a byte at a
 * time: the producer must outpace the slow-reader tests' clients in the
 * sanitizer and fuzzing build on a loaded machine too. */
static const char *pattern_from(uint64_t offset)
{
    static char cycle[251 + (1u << 20)];
    static int made;
    if (!made) {
        for (size_t i = 0; i < sizeof cycle; i++) cycle[i] = (char)interop_pattern(i);
        made = 1;
    }
    return cycle + offset % 251;
}

static void produce(lg_res *res, void *user)
{
    producer *p = user;
    while (p->sent < p->total) {
        size_t n = p->total - p->sent < p->piece ? (size_t)(p->total - p->sent) : p->piece;
        memcpy(p->buf, pattern_from(p->sent), n);
        int rc = lg_res_write(res, p->buf, n);
        if (rc == LG_ERR_LIMIT) {
            p->d->stream_refusals++; /* back-pressure happened */
            return; /* called again when the client has taken some */
        }
        if (rc != LG_OK) break; /* the client is gone */
        p->sent += n;
    }
    lg_res_end(res);
    free(p);
}

static void on_stream(lg_req *req, lg_res *res, void *user)
{
    uint64_t total = interop_query_u64(req, "bytes", 4u << 20);
    size_t piece = (size_t)interop_query_u64(req, "piece", 16384);
    if (piece == 0 || piece > (1u << 20)) piece = 16384;
    producer *p = malloc(sizeof *p + piece);
    if (!p) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    p->sent = 0;
    p->total = total;
    p->piece = piece;
    p->d = user;
    lg_res_header(res, "Content-Type", "application/octet-stream");
    if (interop_query_u64(req, "length", 0)) {
        char len[24];
        snprintf(len, sizeof len, "%llu", (unsigned long long)total);
        lg_res_header(res, "Content-Length", len);
    }
    if (lg_res_stream(res, 200, produce, p) != LG_OK) free(p);
}

/* GET /file?offset=&len=: a file by sendfile (the server closes the
 * descriptor it is given, so each answer gets its own dup). */
static void on_file(lg_req *req, lg_res *res, void *user)
{
    interop *d = user;
    uint64_t off = interop_query_u64(req, "offset", 0);
    if (off > d->file_bytes) off = d->file_bytes;
    uint64_t len = interop_query_u64(req, "len", d->file_bytes - off);
    if (len > d->file_bytes - off) len = d->file_bytes - off;
    int fd = dup(d->file_fd);
    if (fd < 0) {
        lg_res_error(res, 500, "dup failed");
        return;
    }
    lg_res_header(res, "Content-Type", "application/octet-stream");
    lg_res_send_fd(res, 200, fd, off, len);
}

void interop_routes_bodies(interop *d)
{
    lg_server *s = d->srv;
    lg_route_ex(s, "POST", "/upload", LG_ROUTE_STREAM_BODY, on_upload, d);
    lg_route_ex(s, "PUT", "/upload", LG_ROUTE_STREAM_BODY, on_upload, d);
    lg_route_ex(s, "POST", "/upload-auth", LG_ROUTE_STREAM_BODY, on_upload_auth, d);
    lg_route_ex(s, "*", "/early", LG_ROUTE_STREAM_BODY, on_early, d);
    lg_route(s, "GET", "/deferred", on_deferred, d);
    lg_route(s, "GET", "/stream", on_stream, d);
    lg_route(s, "GET", "/file", on_file, d);
}
