/*
 * Forms and streamed uploads in the server (lg_req_read_form), over
 * loopback with a blocking peer on its own thread: fields by name and in
 * order, urlencoded and multipart; every part's bytes to its sink (the
 * callback, memory, a file) whatever the pieces TCP cuts the body into;
 * back-pressure from a sink that takes a few bytes at a time; the limits
 * with their statuses (413, 400, 415), and rule 3 when a limit stops an
 * upload midway: the whole answer, then EOF, never a reset (in a private
 * network namespace the kernel's own count of resets for unread data
 * must stay zero).
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "linger.h"
#include "netns.h"
#include "tcp_peer.h"
#include "test.h"

/* --- the server side --- */

typedef struct upload {
    lg_res *res;
    int mode;                   /* what the route does with file parts */
    char out[4096];             /* the answer, built as parts end */
    size_t out_len;
    uint32_t hash;              /* FNV-1a of the current file part */
    uint64_t size;
    int fd;
    unsigned pauses;
    lg_timer resume_timer;
    lg_form *form;
} upload;

enum { FILE_EVENTS, FILE_FD, FILE_SLOW, FILE_MEMORY };

static lg_loop *loop;

static void say(upload *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(upload *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(u->out + u->out_len, sizeof u->out - u->out_len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof u->out - u->out_len) u->out_len += (size_t)n;
}

static uint32_t fnv(uint32_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static void resume_later(lg_timer *t)
{
    upload *u = LG_CONTAINER_OF(t, upload, resume_timer);
    lg_form_resume(u->form);
}

static int on_form(lg_form *form, const lg_form_event *ev, void *user)
{
    upload *u = user;
    u->form = form;
    switch (ev->type) {
    case LG_FORM_PART:
        u->hash = 2166136261u;
        u->size = 0;
        if (!ev->filename.ptr) return LG_OK; /* a field: memory */
        if (u->mode == FILE_FD) {
            char path[] = "/tmp/lg_formXXXXXX";
            u->fd = mkstemp(path);
            unlink(path);
            return lg_form_to_fd(form, u->fd);
        }
        if (u->mode == FILE_MEMORY) return lg_form_to_memory(form, 100);
        return LG_OK;
    case LG_FORM_DATA: {
        size_t take = ev->data.len;
        if (u->mode == FILE_SLOW && take > 100) take = 100;
        u->hash = fnv(u->hash, ev->data.ptr, take);
        u->size += take;
        if (take < ev->data.len) {
            /* The sink is busy: the rest comes again after the resume. */
            u->pauses++;
            lg_timer_start(&u->resume_timer, u->pauses % 16 ? 0 : 1);
        }
        return (int)take;
    }
    case LG_FORM_PART_END:
        if (!ev->filename.ptr || u->mode == FILE_MEMORY) return LG_OK;
        if (u->mode == FILE_FD) {
            char buf[8192];
            ssize_t n;
            lseek(u->fd, 0, SEEK_SET);
            while ((n = read(u->fd, buf, sizeof buf)) > 0) {
                u->hash = fnv(u->hash, buf, (size_t)n);
                u->size += (uint64_t)n;
            }
            close(u->fd);
            u->fd = -1;
        }
        say(u, "file %.*s %.*s %.*s %llu %08x %llu\n", (int)ev->name.len, ev->name.ptr,
            (int)ev->filename.len, ev->filename.ptr,
            ev->content_type.ptr ? (int)ev->content_type.len : 1,
            ev->content_type.ptr ? ev->content_type.ptr : "-", (unsigned long long)u->size,
            (unsigned)u->hash, (unsigned long long)ev->part_bytes);
        return LG_OK;
    default: {
        lg_res *res = u->res;
        lg_timer_stop(&u->resume_timer);
        if (u->fd >= 0) close(u->fd);
        if (ev->status) {
            int st = lg_err_http_status(ev->status);
            lg_res_error(res, st ? st : 500, lg_err_name(ev->status));
        } else {
            lg_str n, v;
            uint32_t pos = 0;
            while (lg_form_next(form, &pos, &n, &v))
                say(u, "field %.*s=%.*s\n", (int)n.len, n.ptr, (int)v.len, v.ptr);
            if (u->pauses) say(u, "paused\n");
            lg_res_send(res, 200, u->out, u->out_len);
        }
        free(u);
        return LG_OK;
    }
    }
}

static const lg_form_config small_limits = {
    .max_body_bytes = 64 * 1024, .max_parts = 16, .max_header_bytes = 256, .max_field_bytes = 512
};

static void on_post(lg_req *req, lg_res *res, void *user)
{
    upload *u = calloc(1, sizeof *u);
    u->res = res;
    u->fd = -1;
    u->mode = (int)(intptr_t)user;
    lg_timer_init(loop, &u->resume_timer, resume_later);
    lg_str path = lg_req_path(req);
    const lg_form_config *cfg = path.len == 6 && !memcmp(path.ptr, "/small", 6) ? &small_limits : NULL;
    int rc = lg_req_read_form(req, cfg, on_form, u);
    if (rc) {
        free(u);
        lg_res_error(res, rc == LG_ERR_UNSUPPORTED ? 415 : lg_err_http_status(rc), lg_err_name(rc));
    }
}

/* --- the client side --- */

typedef struct peer {
    pthread_t thread;
    uint16_t port;
    const char *head;           /* without the body framing: Content-Length is added */
    const char *body;
    size_t body_len;
    size_t piece;               /* sent in pieces this big (0: at once) */
    char reply[8192];
    size_t got;
    int err;                    /* recv's error: ECONNRESET would be a failure */
    int done;
} peer;

static void *peer_main(void *arg)
{
    peer *p = arg;
    int fd = peer_connect(p->port);
    if (fd < 0) {
        p->err = errno;
        __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char head[1024];
    int n = snprintf(head, sizeof head, "%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     p->head, p->body_len);
    peer_send_all(fd, head, (size_t)n);
    for (size_t off = 0; off < p->body_len;) {
        size_t k = p->piece && p->piece < p->body_len - off ? p->piece : p->body_len - off;
        if (peer_send_all(fd, p->body + off, k) != 0) break; /* the server answered: read it */
        off += k;
        if (p->piece && p->piece < 100 && p->body_len < 10000) usleep(200); /* one read each */
    }
    p->err = -peer_recv_all(fd, p->reply, sizeof p->reply - 1, &p->got);
    p->reply[p->got < sizeof p->reply ? p->got : sizeof p->reply - 1] = 0;
    close(fd);
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static uint16_t port;

/* Run one exchange; the answer's status, its body in *body. */
static int exchange(const char *head, const char *body, size_t len, size_t piece, peer *p)
{
    memset(p, 0, sizeof *p);
    p->port = port;
    p->head = head;
    p->body = body;
    p->body_len = len;
    p->piece = piece;
    pthread_create(&p->thread, NULL, peer_main, p);
    for (int i = 0; i < 3000 && !__atomic_load_n(&p->done, __ATOMIC_ACQUIRE); i++)
        lg_loop_run_once(loop, 10);
    pthread_join(p->thread, NULL);
    CHECK_EQ_INT(p->err, 0); /* never ECONNRESET: rule 3 */
    int status = 0;
    sscanf(p->reply, "HTTP/1.1 %d", &status);
    return status;
}

static const char *body_of(const peer *p)
{
    const char *b = strstr(p->reply, "\r\n\r\n");
    return b ? b + 4 : "";
}

#define MP_HEAD(path) "POST " path " HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"

/* A multipart body: two fields and two files, one of them large, with
 * bytes inside it that look like the start of the delimiter. */
static char *sample(size_t big, size_t *len, uint32_t *big_hash)
{
    size_t cap = big + 4096;
    char *b = malloc(cap), *p = b;
    p += sprintf(p, "preamble to ignore\r\n--XyZ\r\nContent-Disposition: form-data; name=\"who\"\r\n\r\n"
                    "Ada Lovelace\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                    "line1\r\n--Xy not a boundary\r\n--XyZ\r\n"
                    "Content-Disposition: form-data; name=\"fw\"; filename=\"fw.bin\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n");
    char *start = p;
    for (size_t i = 0; i < big; i++) {
        /* runs of CR LF - - X y to trouble the delimiter search */
        static const char tricky[] = "\r\n--XyZ";
        *p++ = i % 997 < 6 ? tricky[i % 997] : (char)(i * 7 + (i >> 9));
    }
    *big_hash = fnv(2166136261u, start, big);
    p += sprintf(p, "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"e.txt\"\r\n\r\n"
                    "\r\n--XyZ--\r\nepilogue, ignored");
    *len = (size_t)(p - b);
    return b;
}

static void test_multipart_events(void)
{
    size_t len;
    uint32_t h;
    char *body = sample(300000, &len, &h);
    char want[256];
    snprintf(want, sizeof want,
             "file fw fw.bin application/octet-stream 300000 %08x 300000\n"
             "file empty e.txt - 0 811c9dc5 0\n"
             "field who=Ada Lovelace\nfield note=line1\r\n--Xy not a boundary\n",
             (unsigned)h);
    /* Larger pieces for the large body; tiny ones (one read each: a
     * pause after every send) for a small one, since tiny segments
     * back-to-back make loopback TCP crawl. */
    static const size_t pieces[] = { 0, 1000, 4093 };
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        peer p;
        CHECK_EQ_INT(exchange(MP_HEAD("/form"), body, len, pieces[i], &p), 200);
        CHECK(strcmp(body_of(&p), want) == 0);
        if (strcmp(body_of(&p), want) != 0) fprintf(stderr, "piece %zu: %s\n", pieces[i], p.reply);
    }
    free(body);
    static const size_t small_sizes[] = { 300, 3000 }, small_pieces[] = { 1, 7 };
    for (int i = 0; i < 2; i++) {
        body = sample(small_sizes[i], &len, &h);
        snprintf(want, sizeof want,
                 "file fw fw.bin application/octet-stream %zu %08x %zu\n"
                 "file empty e.txt - 0 811c9dc5 0\n"
                 "field who=Ada Lovelace\nfield note=line1\r\n--Xy not a boundary\n",
                 small_sizes[i], (unsigned)h, small_sizes[i]);
        peer p;
        CHECK_EQ_INT(exchange(MP_HEAD("/form"), body, len, small_pieces[i], &p), 200);
        CHECK(strcmp(body_of(&p), want) == 0);
        if (strcmp(body_of(&p), want) != 0) fprintf(stderr, "piece %zu: %s\n", small_pieces[i], p.reply);
        free(body);
    }
}

static void test_sinks(void)
{
    size_t len;
    uint32_t h;
    char *body = sample(200000, &len, &h);
    char want[256];
    snprintf(want, sizeof want,
             "file fw fw.bin application/octet-stream 200000 %08x 200000\n"
             "file empty e.txt - 0 811c9dc5 0\n"
             "field who=Ada Lovelace\nfield note=line1\r\n--Xy not a boundary\n",
             (unsigned)h);
    peer p;
    CHECK_EQ_INT(exchange(MP_HEAD("/file"), body, len, 0, &p), 200);
    CHECK(strcmp(body_of(&p), want) == 0);
    CHECK_EQ_INT(exchange(MP_HEAD("/slow"), body, len, 0, &p), 200);
    strcat(want, "paused\n");
    CHECK(strcmp(body_of(&p), want) == 0);
    if (strcmp(body_of(&p), want) != 0) fprintf(stderr, "slow: %s\n", p.reply);
    free(body);

    /* A file kept in memory: up to its cap (100 bytes), 413 beyond. */
    static const char small[] = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"
                                "tiny\r\n--XyZ--\r\n";
    CHECK_EQ_INT(exchange(MP_HEAD("/memory"), small, sizeof small - 1, 0, &p), 200);
    CHECK(strcmp(body_of(&p), "field f=tiny\n") == 0);
    body = sample(101, &len, &h);
    CHECK_EQ_INT(exchange(MP_HEAD("/memory"), body, len, 0, &p), 413);
    free(body);
}

static void test_urlencoded(void)
{
    static const char form[] = "who=Ada+Lovelace&x=%41%42&empty=&novalue&bad=%zz&who=second";
    peer p;
    CHECK_EQ_INT(exchange("POST /form HTTP/1.1\r\nHost: t\r\n"
                          "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n",
                          form, sizeof form - 1, 5, &p), 200);
    CHECK(strcmp(body_of(&p), "field who=Ada Lovelace\nfield x=AB\nfield empty=\nfield novalue=\n"
                              "field bad=%zz\nfield who=second\n") == 0);
    /* the same limits: fields kept (512 bytes), fields counted (16) */
    char big[2048];
    memset(big, 'a', sizeof big);
    memcpy(big, "k=", 2);
    CHECK_EQ_INT(exchange("POST /small HTTP/1.1\r\nHost: t\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n",
                          big, sizeof big, 0, &p), 413);
    char many[200] = "";
    for (int i = 0; i < 20; i++) strcat(many, "a=1&");
    CHECK_EQ_INT(exchange("POST /small HTTP/1.1\r\nHost: t\r\n"
                          "Content-Type: application/x-www-form-urlencoded\r\n",
                          many, strlen(many), 0, &p), 413);
    CHECK_EQ_INT(exchange("POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n",
                          "hello", 5, 0, &p), 415);
    CHECK_EQ_INT(exchange("POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data\r\n",
                          "hello", 5, 0, &p), 400);
}

/* Bodies that must be refused, each with the whole answer and EOF. */
static void test_refusals(void)
{
    peer p;
    /* no final boundary: never a silently short file */
    static const char cut[] = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"
                              "the file goes on and on";
    CHECK_EQ_INT(exchange(MP_HEAD("/form"), cut, sizeof cut - 1, 0, &p), 400);
    CHECK(strstr(body_of(&p), "LG_ERR_MULTIPART_TRUNCATED") != NULL);
    /* a part without Content-Disposition */
    static const char bare[] = "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--\r\n";
    CHECK_EQ_INT(exchange(MP_HEAD("/form"), bare, sizeof bare - 1, 0, &p), 400);

    /* 10,000 parts against a limit of 16 */
    size_t cap = 10000 * 64, len = 0;
    char *b = malloc(cap);
    for (int i = 0; i < 10000; i++)
        len += (size_t)sprintf(b + len, "--XyZ\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv\r\n", i);
    len += (size_t)sprintf(b + len, "--XyZ--\r\n");
    /* against the default (128 parts) */
    CHECK_EQ_INT(exchange(MP_HEAD("/form"), b, len, 8192, &p), 413);
    CHECK(strstr(body_of(&p), "LG_ERR_MULTIPART_PARTS") != NULL);
    /* against a body limit of 64 KiB: refused by its Content-Length */
    CHECK_EQ_INT(exchange(MP_HEAD("/small"), b, len, 0, &p), 413);
    CHECK(strstr(body_of(&p), "LG_ERR_BODY_TOO_LARGE") != NULL);
    /* 20 parts of a small body against a limit of 16 */
    CHECK_EQ_INT(exchange(MP_HEAD("/small"), b, 20 * 55, 0, &p), 413);
    CHECK(strstr(body_of(&p), "LG_ERR_MULTIPART_PARTS") != NULL);
    free(b);

    /* a part's header section of 1 MiB: refused at 256 (or 1024) bytes,
     * the rest of the megabyte drained, not reset */
    len = 1u << 20;
    b = malloc(len + 256);
    size_t h = (size_t)sprintf(b, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\nX-Long: ");
    memset(b + h, 'a', len - h);
    CHECK_EQ_INT(exchange(MP_HEAD("/form"), b, len, 0, &p), 413);
    CHECK(strstr(body_of(&p), "LG_ERR_MULTIPART_HEADER") != NULL);
    /* a field larger than the fields' memory, and a body over its limit,
     * sent in pieces: the answer comes before the body is all sent */
    h = (size_t)sprintf(b, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n");
    memset(b + h, 'v', len - h);
    CHECK_EQ_INT(exchange(MP_HEAD("/small"), b, len, 4096, &p), 413);
    CHECK_EQ_INT(exchange(MP_HEAD("/form"), b, len, 4096, &p), 413);
    free(b);
}

int main(void)
{
    int private_net = netns_enter_private();
    loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 4, .recv_buffer_bytes = 4096 });
    lg_route_ex(srv, "POST", "/form", LG_ROUTE_STREAM_BODY, on_post, (void *)(intptr_t)FILE_EVENTS);
    lg_route_ex(srv, "POST", "/small", LG_ROUTE_STREAM_BODY, on_post, (void *)(intptr_t)FILE_EVENTS);
    lg_route_ex(srv, "POST", "/file", LG_ROUTE_STREAM_BODY, on_post, (void *)(intptr_t)FILE_FD);
    lg_route_ex(srv, "POST", "/slow", LG_ROUTE_STREAM_BODY, on_post, (void *)(intptr_t)FILE_SLOW);
    lg_route_ex(srv, "POST", "/memory", LG_ROUTE_STREAM_BODY, on_post, (void *)(intptr_t)FILE_MEMORY);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);
    long long resets = private_net ? netns_resets_for_unread() : -1;

    test_multipart_events();
    test_sinks();
    test_urlencoded();
    test_refusals();

    if (private_net) {
        /* Every refusal above stopped an upload with input unread. */
        CHECK_EQ_INT(netns_resets_for_unread() - resets, 0);
    } else {
        printf("no private network namespace: the kernel's reset count not checked\n");
    }
    lg_server_shutdown(srv, 1000, NULL, NULL);
    for (int i = 0; i < 200 && lg_server_get_stats(srv)->active_connections; i++) lg_loop_run_once(loop, 10);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
