/* File upload, streamed: the body goes to disk piece by piece as it arrives,
 * never buffered whole, so a device with 4 KiB per connection can take a
 * firmware image of any size.
 *   curl -T firmware.bin http://127.0.0.1:8080/upload/firmware.bin */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linger.h"

typedef struct upload {
    int fd;
    uint64_t bytes;
} upload;

static upload current; /* one upload at a time, for brevity */

static void on_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    lg_res *res = user;
    (void)req;
    if (status == LG_OK && len > 0) {
        if (write(current.fd, data, len) != (ssize_t)len) status = LG_ERR_IO;
        current.bytes += len;
        if (status == LG_OK) return;
    }
    close(current.fd);
    current.fd = -1;
    if (status != LG_OK) {
        /* LG_ERR_CLOSED_EARLY, LG_ERR_RESET, LG_ERR_BODY_TOO_LARGE ... */
        lg_res_error(res, status == LG_ERR_BODY_TOO_LARGE ? 413 : 400, lg_strerror(status));
        return;
    }
    char msg[64];
    int n = snprintf(msg, sizeof msg, "stored %llu bytes\n", (unsigned long long)current.bytes);
    lg_res_send(res, 201, msg, (size_t)n);
}

static void on_upload(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str name = lg_req_param(req, "name");
    char path[128];
    if (current.fd > 0 || name.len == 0 || name.len > 64 || memchr(name.ptr, '/', name.len)) {
        lg_res_error(res, current.fd > 0 ? 503 : 400, "one upload at a time, plain names only");
        return;
    }
    snprintf(path, sizeof path, "/tmp/upload-%.*s", (int)name.len, name.ptr);
    current.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    current.bytes = 0;
    if (current.fd < 0) {
        lg_res_error(res, 500, "cannot create the file");
        return;
    }
    /* Asking for the body is what sends "100 Continue" to curl. */
    lg_req_read_body(req, 64u << 20, on_chunk, res);
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    current.fd = -1;
    lg_route_ex(srv, "PUT", "/upload/:name", LG_ROUTE_STREAM_BODY, on_upload, NULL);
    lg_route_ex(srv, "POST", "/upload/:name", LG_ROUTE_STREAM_BODY, on_upload, NULL);
    if (lg_server_listen(srv, "127.0.0.1:8080", 0) != LG_OK) return 1;
    printf("upload to http://127.0.0.1:8080/upload/NAME (stored in /tmp)\n");
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    return 0;
}
