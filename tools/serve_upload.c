/*
 * `linger serve`'s POST /upload: a form (multipart/form-data or
 * urlencoded) answered with what arrived, as JSON:
 *
 *   {"fields": {"name": "value", ...},
 *    "files": [{"field": "f", "filename": "a.bin", "type": "application/octet-stream",
 *               "size": 1234, "sha256": "hex"}, ...]}
 *
 * Fields are kept (lg_form's memory sink); files are never held: each
 * piece goes through SHA-256 as it arrives and is dropped, so a file of
 * any size costs the server its receive buffer and this record.
 *
 * And CORS for /echo and /upload: a page from any origin may call them
 * (without credentials: no cookies, no HTTP authentication); their
 * preflights are answered 204 without reaching a handler.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "linger.h"

#if !defined(LG_NO_FORMS) && !defined(LG_NO_JSON) && !defined(LG_NO_SHA256)

#define UPLOAD_MAX_BODY (1024ull << 20) /* 1 GiB: files are hashed, not held */
#define UPLOAD_MAX_FILES 64

typedef struct file_info {
    char *field, *filename, *type; /* copies: the part's strings go with it */
    uint64_t size;
    char sha256[2 * LG_SHA256_BYTES + 1];
} file_info;

typedef struct upload {
    lg_res *res;
    lg_sha256_ctx hash;
    file_info files[UPLOAD_MAX_FILES];
    unsigned nfiles;
} upload;

static char *copy(lg_str s)
{
    if (!s.ptr) return NULL;
    char *c = malloc(s.len + 1);
    if (c) {
        memcpy(c, s.ptr, s.len);
        c[s.len] = 0;
    }
    return c;
}

static void upload_free(upload *u)
{
    for (unsigned i = 0; i < u->nfiles; i++) {
        free(u->files[i].field);
        free(u->files[i].filename);
        free(u->files[i].type);
    }
    free(u);
}

/* The answer: fields, then files. Its size is known from the form's limits
 * (fields kept: 8 KiB; escaping at most sextuples a byte) and the files'. */
static void answer(upload *u, lg_form *form)
{
    size_t cap = 6 * 8192 + 1024 + u->nfiles * (6 * 3 * 1024 + 200);
    char *out = malloc(cap);
    if (!out) {
        lg_res_error(u->res, 503, "out of memory");
        return;
    }
    lg_writer w;
    lg_json j;
    lg_writer_init(&w, out, cap);
    lg_json_init(&j, &w);
    lg_json_begin_object(&j);
    lg_json_key(&j, "fields");
    lg_json_begin_object(&j);
    lg_str name, value;
    uint32_t pos = 0;
    while (lg_form_next(form, &pos, &name, &value)) {
        lg_json_key_str(&j, name);
        lg_json_str(&j, value);
    }
    lg_json_end_object(&j);
    lg_json_key(&j, "files");
    lg_json_begin_array(&j);
    for (unsigned i = 0; i < u->nfiles; i++) {
        const file_info *f = &u->files[i];
        lg_json_begin_object(&j);
        lg_json_key(&j, "field");
        lg_json_string(&j, f->field);
        lg_json_key(&j, "filename");
        lg_json_string(&j, f->filename);
        lg_json_key(&j, "type");
        lg_json_string(&j, f->type ? f->type : "text/plain"); /* RFC 7578 4.4's default */
        lg_json_key(&j, "size");
        lg_json_uint(&j, f->size);
        lg_json_key(&j, "sha256");
        lg_json_string(&j, f->sha256);
        lg_json_end_object(&j);
    }
    lg_json_end_array(&j);
    lg_json_end_object(&j);
    if (lg_json_finish(&j) != LG_OK) {
        free(out);
        lg_res_error(u->res, 500, "the answer did not fit");
        return;
    }
    out[w.len] = '\n';
    lg_res_header(u->res, "Content-Type", "application/json");
    lg_res_send(u->res, 200, out, w.len + 1);
    free(out);
}

static int on_form(lg_form *form, const lg_form_event *ev, void *user)
{
    upload *u = user;
    switch (ev->type) {
    case LG_FORM_PART:
        if (!ev->filename.ptr) return LG_OK; /* a field: kept in memory */
        if (u->nfiles == UPLOAD_MAX_FILES) return LG_ERR_MULTIPART_PARTS;
        lg_sha256_init(&u->hash);
        return LG_OK;
    case LG_FORM_DATA:
        lg_sha256_update(&u->hash, ev->data.ptr, ev->data.len);
        return (int)ev->data.len;
    case LG_FORM_PART_END: {
        if (!ev->filename.ptr) return LG_OK;
        file_info *f = &u->files[u->nfiles++];
        uint8_t sum[LG_SHA256_BYTES];
        lg_sha256_final(&u->hash, sum);
        lg_hex_encode(sum, sizeof sum, f->sha256, sizeof f->sha256);
        f->size = ev->part_bytes;
        f->field = copy(ev->name);
        f->filename = copy(ev->filename);
        f->type = copy(ev->content_type);
        return f->field && f->filename && (f->type || !ev->content_type.ptr) ? LG_OK : LG_ERR_NOMEM;
    }
    default:
        if (ev->status == LG_OK) {
            answer(u, form);
        } else {
            int st = lg_err_http_status(ev->status);
            if (ev->status == LG_ERR_NOMEM) st = 503;
            lg_res_error(u->res, st ? st : 500, lg_strerror(ev->status));
        }
        upload_free(u);
        return LG_OK;
    }
}

static void on_upload(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    upload *u = calloc(1, sizeof *u);
    if (!u) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    u->res = res;
    lg_form_config cfg = { .max_body_bytes = UPLOAD_MAX_BODY };
    int rc = lg_req_read_form(req, &cfg, on_form, u);
    if (rc == LG_OK) return;
    free(u);
    int st = rc == LG_ERR_UNSUPPORTED ? 415 : lg_err_http_status(rc);
    lg_res_error(res, st ? st : 500,
                 rc == LG_ERR_UNSUPPORTED ? "send multipart/form-data or "
                                            "application/x-www-form-urlencoded"
                                          : lg_strerror(rc));
}
#endif

#if !defined(LG_NO_CORS)
/* Any origin, no credentials: "Access-Control-Allow-Origin: *". */
static const lg_cors demo_cors = { .origins = NULL, .credentials = 0 };

static int is_path(lg_str p, const char *s)
{
    return p.len == strlen(s) && memcmp(p.ptr, s, p.len) == 0;
}

static int cors_for_api(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str path = lg_req_path(req);
    if (!is_path(path, "/echo") && !is_path(path, "/upload")) return 0;
    return lg_cors_hook(req, res, (void *)&demo_cors);
}
#endif

void serve_upload_routes(lg_server *srv)
{
#if !defined(LG_NO_FORMS) && !defined(LG_NO_JSON) && !defined(LG_NO_SHA256)
    lg_route_ex(srv, "POST", "/upload", LG_ROUTE_STREAM_BODY, on_upload, NULL);
#endif
#if !defined(LG_NO_CORS)
    lg_server_before(srv, cors_for_api, NULL);
#endif
}
