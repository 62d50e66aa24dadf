/*
 * An OTA-style firmware upload: POST /ota?size=N&sha256=HEX with the image
 * as the "firmware" file of a multipart form (a browser's file input, or
 * curl -F firmware=@fw.bin). The image streams into a sink piece by piece
 * — never whole in RAM — while its size and SHA-256 are checked as it
 * goes; the answer says whether the image is valid, and only a valid one
 * is committed. While the sink is busy (a flash page being written, an
 * erase) the upload pauses: nothing more is read, the client waits in
 * TCP's window, and the server holds no more than its receive buffer.
 *
 *   ./example_ota [port] [dir]          (port 0: any; prints "listening on PORT")
 *   curl -F firmware=@fw.bin "http://127.0.0.1:PORT/ota?size=$(stat -c%s fw.bin)&sha256=$(sha256sum fw.bin | cut -c1-64)"
 *
 * The sink is the small interface below: on Linux a file (written a page
 * at a time, with a pretend flash's busy time after each page); a device
 * maps the same three calls onto its partition API (esp_ota_begin /
 * esp_ota_write / esp_ota_end, or HAL_FLASH_Program with its own erase).
 * For tests, ?busy_ms=N makes each page busy for N ms and ?stall_ms=N
 * stalls the sink once, for N ms, at the image's half.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linger.h"

/* --- the sink: what a device maps onto its flash --- */

#define PAGE 4096

typedef struct ota_sink ota_sink;
struct ota_sink {
    /* Get ready for an image of `size` bytes (erase): LG_OK or an error. */
    int (*begin)(ota_sink *s, uint64_t size);
    /* Take up to len bytes; the count taken. Fewer (even 0): busy — the
     * sink calls s->ready(s) once it can take more. Negative: failed. */
    long (*write)(ota_sink *s, const char *data, size_t len);
    /* The image ended: keep it (commit 1: it is valid) or drop it. */
    int (*end)(ota_sink *s, int commit);
    void (*ready)(ota_sink *s); /* set by the route */
    void *route;                /* the route's state, for ready */
};

/* A file, a page at a time, as flash takes it: a page buffer fills, then
 * goes out whole, and the "flash" is busy for busy_ms after each page. */
typedef struct file_sink {
    ota_sink base;
    lg_loop *loop;
    const char *dir;
    char path[256], tmp[256];
    int fd;
    char page[PAGE];
    size_t page_len;
    uint64_t written, stall_at;
    uint32_t busy_ms, stall_ms;
    int busy;
    lg_timer timer;
} file_sink;

static void file_not_busy(lg_timer *t)
{
    file_sink *f = LG_CONTAINER_OF(t, file_sink, timer);
    f->busy = 0;
    f->base.ready(&f->base);
}

static int file_begin(ota_sink *s, uint64_t size)
{
    file_sink *f = (file_sink *)s;
    (void)size;
    snprintf(f->path, sizeof f->path, "%s/firmware.bin", f->dir);
    snprintf(f->tmp, sizeof f->tmp, "%s/firmware.bin.part", f->dir);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    f->page_len = 0;
    f->written = 0;
    return f->fd < 0 ? LG_ERR_IO : LG_OK;
}

static int flush_page(file_sink *f)
{
    if (f->page_len && write(f->fd, f->page, f->page_len) != (ssize_t)f->page_len) return LG_ERR_IO;
    f->written += f->page_len;
    f->page_len = 0;
    return LG_OK;
}

static long file_write(ota_sink *s, const char *data, size_t len)
{
    file_sink *f = (file_sink *)s;
    size_t took = 0;
    while (took < len && !f->busy) {
        size_t n = PAGE - f->page_len < len - took ? PAGE - f->page_len : len - took;
        memcpy(f->page + f->page_len, data + took, n);
        f->page_len += n;
        took += n;
        if (f->page_len < PAGE) break;
        if (flush_page(f)) return LG_ERR_IO;
        uint32_t ms = f->busy_ms;
        if (f->stall_ms && f->written >= f->stall_at) {
            ms = f->stall_ms; /* once */
            f->stall_ms = 0;
        }
        if (ms) {
            f->busy = 1; /* ready() comes when the timer fires */
            lg_timer_start(&f->timer, ms);
        }
    }
    return (long)took;
}

static int file_end(ota_sink *s, int commit)
{
    file_sink *f = (file_sink *)s;
    lg_timer_stop(&f->timer);
    f->busy = 0;
    int rc = commit ? flush_page(f) : LG_OK;
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (commit && rc == LG_OK && rename(f->tmp, f->path) != 0) rc = LG_ERR_IO;
    if (!commit || rc) unlink(f->tmp);
    return rc;
}

/* --- the route --- */

typedef struct ota {
    lg_res *res;
    ota_sink *sink;
    lg_form *form;
    lg_sha256_ctx hash;
    uint64_t expected, got;
    char want_sha[65];
    int started, in_image;
} ota;

static file_sink the_sink; /* one image at a time: a device has one partition */
static int busy_route;

static void sink_ready(ota_sink *s)
{
    ota *o = s->route;
    lg_form_resume(o->form);
}

static void answer(ota *o, int status, int valid, const char *why)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"valid\": %s, \"size\": %llu, \"reason\": \"%s\"}\n",
                     valid ? "true" : "false", (unsigned long long)o->got, why);
    lg_res_header(o->res, "Content-Type", "application/json");
    lg_res_send(o->res, status, body, (size_t)n);
}

static int on_form(lg_form *form, const lg_form_event *ev, void *user)
{
    ota *o = user;
    o->form = form;
    switch (ev->type) {
    case LG_FORM_PART:
        if (!ev->filename.ptr) return LG_OK; /* other fields: kept, ignored */
        if (o->started || ev->name.len != 8 || memcmp(ev->name.ptr, "firmware", 8) != 0)
            return LG_ERR_INVALID_ARG; /* one image, as "firmware" */
        o->started = o->in_image = 1;
        lg_sha256_init(&o->hash);
        return o->sink->begin(o->sink, o->expected);
    case LG_FORM_DATA: {
        /* Size as it goes: a byte past the promise stops it now. */
        if (o->got + ev->data.len > o->expected) return LG_ERR_BODY_TOO_LARGE;
        long n = o->sink->write(o->sink, ev->data.ptr, ev->data.len);
        if (n < 0) return (int)n;
        lg_sha256_update(&o->hash, ev->data.ptr, (size_t)n);
        o->got += (uint64_t)n;
        return (int)n; /* fewer than offered: paused until sink_ready */
    }
    case LG_FORM_PART_END:
        if (ev->filename.ptr) o->in_image = 0;
        return LG_OK;
    default: {
        uint8_t sum[LG_SHA256_BYTES];
        char hex[65];
        lg_sha256_final(&o->hash, sum);
        lg_hex_encode(sum, sizeof sum, hex, sizeof hex);
        int valid = ev->status == LG_OK && o->started && o->got == o->expected &&
                    strcmp(hex, o->want_sha) == 0;
        int rc = o->started ? o->sink->end(o->sink, valid) : LG_OK;
        if (ev->status != LG_OK) {
            int st = lg_err_http_status(ev->status);
            answer(o, st ? st : 500, 0, lg_strerror(ev->status));
        } else if (!o->started) {
            answer(o, 400, 0, "no firmware part");
        } else if (o->got != o->expected) {
            answer(o, 422, 0, "size differs");
        } else if (!valid) {
            answer(o, 422, 0, "sha256 differs");
        } else {
            answer(o, rc ? 500 : 200, rc == LG_OK, rc ? "could not commit" : "stored");
        }
        busy_route = 0;
        free(o);
        return LG_OK;
    }
    }
}

static void on_ota(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char size[24], sha[80], busy[12], stall[12];
    if (busy_route) {
        lg_res_error(res, 503, "an image is being written");
        return;
    }
    if (lg_query_get(lg_req_query_string(req), "size", size, sizeof size) < 0 ||
        lg_query_get(lg_req_query_string(req), "sha256", sha, sizeof sha) != 64) {
        lg_res_error(res, 400, "say ?size=N&sha256=HEX");
        return;
    }
    ota *o = calloc(1, sizeof *o);
    if (!o) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    o->res = res;
    o->expected = strtoull(size, NULL, 10);
    for (int i = 0; i < 64; i++) o->want_sha[i] = (char)(sha[i] | 0x20); /* lower case */
    the_sink.busy_ms = lg_query_get(lg_req_query_string(req), "busy_ms", busy, sizeof busy) > 0
                           ? (uint32_t)atoi(busy) : 0;
    the_sink.stall_ms = lg_query_get(lg_req_query_string(req), "stall_ms", stall, sizeof stall) > 0
                            ? (uint32_t)atoi(stall) : 0;
    the_sink.stall_at = o->expected / 2;
    o->sink = &the_sink.base;
    o->sink->route = o;
    /* The body: the image and the form's framing (a few hundred bytes). */
    lg_form_config cfg = { .max_body_bytes = o->expected + 64 * 1024, .max_parts = 4 };
    int rc = lg_req_read_form(req, &cfg, on_form, o);
    if (rc) {
        free(o);
        lg_res_error(res, rc == LG_ERR_UNSUPPORTED ? 415 : lg_err_http_status(rc), lg_strerror(rc));
        return;
    }
    busy_route = 1;
}

int main(int argc, char **argv)
{
    const char *port = argc > 1 ? argv[1] : "8080";
    the_sink.dir = argc > 2 ? argv[2] : "/tmp";
    the_sink.fd = -1;
    the_sink.base = (ota_sink){ .begin = file_begin, .write = file_write, .end = file_end,
                                .ready = sink_ready };
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    the_sink.loop = loop;
    lg_timer_init(loop, &the_sink.timer, file_not_busy);
    lg_route_ex(srv, "POST", "/ota", LG_ROUTE_STREAM_BODY, on_ota, NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
    if (lg_server_listen(srv, addr, 0) != LG_OK) return 1;
    printf("listening on %u\n", lg_server_port(srv));
    fflush(stdout);
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    return 0;
}
