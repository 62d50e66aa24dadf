/*
 * Forms read as the body streams in (lg_req_read_form): urlencoded bodies
 * gathered and decoded at their end, multipart bodies fed to the sans-IO
 * decoder (multipart.c) piece by piece, each part's content sent to its
 * sink as it arrives.
 *
 * What the form holds, in one allocation: a carry buffer for the input the
 * decoder leaves unconsumed between pieces (a header section cut by the
 * end of a piece, or bytes that may begin a delimiter: at most
 * max_header_bytes + 1), the current part's header section (so that its
 * name and filename outlive the piece they came in), and the fields kept
 * in memory, each stored as two 32-bit lengths, the name, the value.
 *
 * Back-pressure without a copy: when a sink takes less than a piece, the
 * rest stays in the connection's receive buffer (lg__req_hold_body) and
 * the server gives it again first when the form resumes.
 */
#include <string.h>
#if !defined(LG_NO_FILES)
#include <errno.h>
#include <unistd.h>
#endif

#include "alloc_internal.h"
#include "http1_internal.h"
#include "server_internal.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_FORMS)

enum { KIND_MULTIPART, KIND_URLENCODED };
enum { SINK_EVENTS, SINK_MEMORY, SINK_FD };
enum { F_RUNNING, F_ENDED };

struct lg_form {
    lg_form_head head;         /* first: the server frees the form through it */
    lg_req *req;
    lg_form_fn fn;
    void *user;
    lg_multipart mp;
    uint8_t kind, state, sink;
    uint8_t paused;            /* lg_form_pause, or a sink that took less */
    uint8_t in_feed;           /* events are being delivered from a piece */
    uint8_t in_part;           /* PART came, PART_END not yet: choosing sinks is allowed */
    uint8_t choosing;          /* inside the PART event */
    uint8_t free_pending;      /* the request ended during a feed: free after it */
    int fd;                    /* SINK_FD */
    uint32_t max_parts;
    uint32_t part;             /* the current part's index */
    uint64_t part_bytes;       /* its bytes so far */
    uint32_t mem_limit;        /* SINK_MEMORY: this part's cap */
    uint32_t entry;            /* SINK_MEMORY: where its entry starts in fields */
    lg_str name, filename, content_type; /* slices of meta */
    char *carry;
    uint32_t carry_len, carry_cap;
    char *meta;
    uint32_t meta_cap;
    char *fields;              /* entries; urlencoded: the raw body until its end */
    uint32_t fields_len, fields_cap;
    char *decoded;             /* urlencoded: the entries, once decoded */
    size_t decoded_len, decoded_alloc;
    size_t alloc_bytes;
};

/* --- fields: [u32 name length][u32 value length][name][value] --- */

static uint32_t get32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put32(char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static const char *entries(const lg_form *f, uint32_t *len)
{
    if (f->kind == KIND_URLENCODED) {
        *len = (uint32_t)f->decoded_len;
        return f->decoded;
    }
    *len = f->fields_len;
    return f->fields;
}

int lg_form_next(const lg_form *f, uint32_t *pos, lg_str *name, lg_str *value)
{
    uint32_t len;
    const char *e = entries(f, &len);
    /* A memory sink still filling its entry is not a field yet. */
    if (f->kind == KIND_MULTIPART && f->sink == SINK_MEMORY && f->in_part) len = f->entry;
    if (!e || *pos + 8 > len) return 0;
    uint32_t nl = get32(e + *pos), vl = get32(e + *pos + 4);
    name->ptr = e + *pos + 8;
    name->len = nl;
    value->ptr = name->ptr + nl;
    value->len = vl;
    *pos += 8 + nl + vl;
    return 1;
}

lg_str lg_form_field(const lg_form *f, const char *name)
{
    lg_str n, v, none = { NULL, 0 };
    uint32_t pos = 0;
    size_t len = strlen(name);
    while (lg_form_next(f, &pos, &n, &v))
        if (n.len == len && memcmp(n.ptr, name, len) == 0) return v;
    return none;
}

lg_req *lg_form_req(const lg_form *f)
{
    return f->req;
}

/* --- ending --- */

static int running(const lg_form *f)
{
    return f->state == F_RUNNING && !f->paused;
}

static void event_init(const lg_form *f, lg_form_event *ev, int type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->part = f->part;
    ev->name = f->name;
    ev->filename = f->filename;
    ev->content_type = f->content_type;
    ev->part_bytes = f->part_bytes;
}

static void end(lg_form *f, int status)
{
    if (f->state == F_ENDED) return;
    f->state = F_ENDED;
    f->paused = 0;
    lg_form_event ev;
    event_init(f, &ev, LG_FORM_END);
    ev.status = status;
    if (status == LG_OK) {
        memset(&ev.name, 0, sizeof ev.name);
        memset(&ev.filename, 0, sizeof ev.filename);
        memset(&ev.content_type, 0, sizeof ev.content_type);
    }
    f->fn(f, &ev, f->user);
}

/* --- parts --- */

static void start_part(lg_form *f, const lg_multipart_event *mev)
{
    /* The header section moves to meta: its slices must outlive the piece. */
    const char *h = mev->headers.ptr;
    memcpy(f->meta, h, mev->headers.len);
#define REBASE(s) ((s).ptr ? (lg_str){ f->meta + ((s).ptr - h), (s).len } : (s))
    f->name = REBASE(mev->name);
    f->filename = REBASE(mev->filename);
    f->content_type = REBASE(mev->content_type);
#undef REBASE
    f->part = f->mp.parts - 1;
    f->part_bytes = 0;
    f->in_part = 1;
    f->sink = SINK_EVENTS;
    /* A field goes to memory unless the callback says otherwise. */
    if (!f->filename.ptr) {
        f->sink = SINK_MEMORY;
        f->mem_limit = UINT32_MAX;
    }
    lg_form_event ev;
    event_init(f, &ev, LG_FORM_PART);
    f->choosing = 1;
    int rc = f->fn(f, &ev, f->user);
    f->choosing = 0;
    if (rc < 0) {
        end(f, rc);
        return;
    }
    if (f->sink == SINK_MEMORY) {
        /* Its entry begins now: the name, then the value as it comes. */
        if ((uint64_t)f->fields_len + 8 + f->name.len > f->fields_cap) {
            end(f, LG_ERR_BODY_TOO_LARGE);
            return;
        }
        f->entry = f->fields_len;
        put32(f->fields + f->fields_len, (uint32_t)f->name.len);
        put32(f->fields + f->fields_len + 4, 0);
        memcpy(f->fields + f->fields_len + 8, f->name.ptr, f->name.len);
        f->fields_len += 8 + (uint32_t)f->name.len;
    }
}

static void end_part(lg_form *f)
{
    if (f->sink == SINK_MEMORY) put32(f->fields + f->entry + 4, (uint32_t)f->part_bytes);
    f->in_part = 0;
    lg_form_event ev;
    event_init(f, &ev, LG_FORM_PART_END);
    int rc = f->fn(f, &ev, f->user);
    f->sink = SINK_EVENTS;
    if (rc < 0) end(f, rc);
}

#if !defined(LG_NO_FILES)
static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return LG_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return LG_OK;
}
#endif

/* Content for the current part's sink: the bytes it took. */
static size_t deliver(lg_form *f, const char *data, size_t len)
{
    size_t took = len;
    if (f->sink == SINK_MEMORY) {
        if (f->part_bytes + len > f->mem_limit || (uint64_t)f->fields_len + len > f->fields_cap) {
            end(f, LG_ERR_BODY_TOO_LARGE);
            return len;
        }
        memcpy(f->fields + f->fields_len, data, len);
        f->fields_len += (uint32_t)len;
#if !defined(LG_NO_FILES)
    } else if (f->sink == SINK_FD) {
        int rc = write_all(f->fd, data, len);
        if (rc) {
            end(f, rc);
            return len;
        }
#endif
    } else {
        lg_form_event ev;
        event_init(f, &ev, LG_FORM_DATA);
        ev.data.ptr = data;
        ev.data.len = len;
        int rc = f->fn(f, &ev, f->user);
        if (rc < 0) {
            end(f, rc);
            return len;
        }
        took = (size_t)rc < len ? (size_t)rc : len;
        if (took < len && f->state == F_RUNNING) lg_form_pause(f);
    }
    f->part_bytes += took;
    return took;
}

/* Run the decoder over buf[0..n) until it needs more, the form pauses or
 * ends. Returns the bytes consumed. */
static size_t run(lg_form *f, const char *buf, size_t n)
{
    size_t pos = 0;
    while (running(f)) {
        size_t used;
        lg_multipart_event mev;
        int e = lg_multipart_parse(&f->mp, buf + pos, n - pos, &used, &mev);
        if (e < 0) {
            end(f, e);
            return n;
        }
        if (e == LG_MP_DATA) {
            size_t took = deliver(f, mev.data.ptr, mev.data.len);
            pos += used - (mev.data.len - took);
            continue;
        }
        pos += used;
        if (e == LG_MP_PART) {
            if (mev.headers.len > f->meta_cap) {
                end(f, LG_ERR_MULTIPART_HEADER);
                return n;
            }
            start_part(f, &mev);
        } else if (e == LG_MP_PART_END) {
            end_part(f);
        } else {
            return e == LG_MP_DONE ? n : pos; /* the epilogue, or need more */
        }
    }
    return f->state == F_ENDED ? n : pos;
}

/* A piece of multipart body: the bytes of it taken (fewer only when the
 * form paused: the rest must come again). */
static size_t feed_multipart(lg_form *f, const char *data, size_t len)
{
    size_t taken = 0;
    /* Bytes carried from the last piece come first, joined by as much of
     * this one as fits, until the carry is gone. */
    while (f->carry_len && taken < len && running(f)) {
        uint32_t old = f->carry_len;
        size_t add = len - taken;
        if (add > f->carry_cap - old) add = f->carry_cap - old;
        memcpy(f->carry + old, data + taken, add);
        f->carry_len += (uint32_t)add;
        size_t used = run(f, f->carry, f->carry_len);
        if (used >= old) {
            /* What was appended beyond `used` is still in data. */
            taken += used - old;
            f->carry_len = 0;
        } else {
            memmove(f->carry, f->carry + used, f->carry_len - used);
            f->carry_len -= (uint32_t)used;
            taken += add;
            if (used == 0 && add == 0 && running(f)) {
                end(f, LG_ERR_MULTIPART_HEADER); /* cannot happen: the decoder's limit */
                return len;
            }
        }
    }
    if (!f->carry_len && taken < len && running(f)) {
        taken += run(f, data + taken, len - taken);
        if (running(f) && taken < len) {
            /* The decoder needs more: keep what it left. */
            size_t rest = len - taken;
            if (rest > f->carry_cap) {
                end(f, LG_ERR_MULTIPART_HEADER);
                return len;
            }
            memcpy(f->carry, data + taken, rest);
            f->carry_len = (uint32_t)rest;
            taken = len;
        }
    }
    return f->state == F_ENDED ? len : taken;
}

/* --- urlencoded --- */

static void feed_urlencoded(lg_form *f, const char *data, size_t len)
{
    if ((uint64_t)f->fields_len + len > f->fields_cap) {
        end(f, LG_ERR_BODY_TOO_LARGE);
        return;
    }
    memcpy(f->fields + f->fields_len, data, len);
    f->fields_len += (uint32_t)len;
}

/* The whole body is in: decode its pairs into entries. A broken escape
 * keeps the value as sent (browsers send such values; lg_req_form does
 * the same). */
static int decode_urlencoded(lg_form *f)
{
    lg_str raw = { f->fields, f->fields_len }, k, v;
    lg_query_iter it;
    uint32_t pairs = 0;
    lg_query_init(&it, raw);
    while (lg_query_next(&it, &k, &v)) pairs++;
    if (pairs > f->max_parts) return LG_ERR_MULTIPART_PARTS;
    size_t cap = (size_t)pairs * 8 + f->fields_len + 1; /* + the decoder's NUL */
    f->decoded = lg__alloc(cap);
    if (!f->decoded) return LG_ERR_NOMEM;
    f->decoded_alloc = cap;
    size_t at = 0;
    lg_query_init(&it, raw);
    while (lg_query_next(&it, &k, &v)) {
        if (!v.ptr) v.len = 0;
        char *e = f->decoded + at;
        int kl = lg_url_decode_to(k, e + 8, k.len + 1, LG_URL_FORM);
        if (kl < 0) {
            memcpy(e + 8, k.ptr, k.len);
            kl = (int)k.len;
        }
        int vl = v.len ? lg_url_decode_to(v, e + 8 + kl, v.len + 1, LG_URL_FORM) : 0;
        if (vl < 0) {
            memcpy(e + 8 + kl, v.ptr, v.len);
            vl = (int)v.len;
        }
        put32(e, (uint32_t)kl);
        put32(e + 4, (uint32_t)vl);
        at += 8 + (size_t)kl + (size_t)vl;
    }
    f->decoded_len = at;
    return LG_OK;
}

/* --- the body --- */

static void form_free(lg_form *f);
static void form_free_with(lg_exchange *ex);

/* A feed is over: 1 when the form was freed meanwhile (nothing more may
 * touch it or the request). */
static int feed_done(lg_form *f)
{
    f->in_feed = 0;
    if (!f->free_pending) return 0;
    form_free(f);
    return 1;
}

static void on_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    lg_form *f = user;
    (void)req;
    if (f->state == F_ENDED) return; /* after an error: the rest is dropped */
    if (status != LG_OK) {
        end(f, status);
        return;
    }
    if (len == 0) {
        /* The body's end. */
        int rc = LG_OK;
        if (f->kind == KIND_URLENCODED) rc = decode_urlencoded(f);
        else rc = lg_multipart_finish(&f->mp);
        end(f, rc);
        return;
    }
    if (f->kind == KIND_URLENCODED) {
        feed_urlencoded(f, data, len);
        return;
    }
    f->in_feed = 1;
    size_t taken = feed_multipart(f, data, len);
    if (feed_done(f)) return;
    if (taken < len) lg__req_hold_body(req, len - taken);
}

static int is_type(lg_str ct, const char *type)
{
    size_t n = strlen(type);
    if (!ct.ptr || ct.len < n || !lg__ieq(ct.ptr, type, n)) return 0;
    return ct.len == n || ct.ptr[n] == ';' || ct.ptr[n] == ' ' || ct.ptr[n] == '\t';
}

int lg_req_read_form(lg_req *req, const lg_form_config *config, lg_form_fn fn, void *user)
{
    lg_exchange *ex = req->ex;
    static const lg_form_config defaults;
    const lg_form_config *cfg = config ? config : &defaults;
    if (!fn || ex->form || !(ex->route_flags & LG_ROUTE_STREAM_BODY)) return LG_ERR_INVALID_ARG;
    lg_str ct = lg_req_header(req, "Content-Type");
    int kind;
    if (is_type(ct, "multipart/form-data")) kind = KIND_MULTIPART;
    else if (is_type(ct, "application/x-www-form-urlencoded")) kind = KIND_URLENCODED;
    else return LG_ERR_UNSUPPORTED;

    uint32_t header_cap = cfg->max_header_bytes ? cfg->max_header_bytes : LG_MULTIPART_DEFAULT_HEADER;
    uint32_t field_cap = cfg->max_field_bytes ? cfg->max_field_bytes : 8192;
    uint32_t carry_cap = kind == KIND_MULTIPART ? header_cap + 2 + 4 + LG_MULTIPART_MAX_BOUNDARY : 0;
    uint32_t meta_cap = kind == KIND_MULTIPART ? header_cap : 0;
    size_t bytes = sizeof(lg_form) + carry_cap + meta_cap + field_cap;
    lg_form *f = lg__alloc(bytes);
    if (!f) return LG_ERR_NOMEM;
    memset(f, 0, sizeof *f);
    f->alloc_bytes = bytes;
    f->req = req;
    f->fn = fn;
    f->user = user;
    f->kind = (uint8_t)kind;
    f->fd = -1;
    f->max_parts = cfg->max_parts ? cfg->max_parts : LG_MULTIPART_DEFAULT_PARTS;
    f->carry = (char *)(f + 1);
    f->carry_cap = carry_cap;
    f->meta = f->carry + carry_cap;
    f->meta_cap = meta_cap;
    f->fields = f->meta + meta_cap;
    f->fields_cap = field_cap;
    if (kind == KIND_MULTIPART) {
        int rc = lg_multipart_init(&f->mp, ct, f->max_parts, (uint16_t)header_cap);
        if (rc) {
            lg__free(f, bytes);
            return rc;
        }
    }
    f->head.free = form_free_with;
    ex->form = &f->head;
    uint64_t max_body = cfg->max_body_bytes ? cfg->max_body_bytes : ex->srv->cfg.max_body_bytes;
    int rc = lg_req_read_body(req, max_body, on_chunk, f);
    if (rc) form_free_with(ex);
    return rc;
}

static void form_free(lg_form *f)
{
    if (f->decoded) lg__free(f->decoded, f->decoded_alloc);
    lg__free(f, f->alloc_bytes);
}

static void form_free_with(lg_exchange *ex)
{
    lg_form *f = (lg_form *)ex->form;
    ex->form = NULL;
    /* An answer from an event can end the request while a piece is being
     * fed: the feed finishes first (feed_done). */
    if (f->in_feed) f->free_pending = 1;
    else form_free(f);
}

/* --- sinks and back-pressure --- */

int lg_form_to_memory(lg_form *f, uint32_t max_bytes)
{
    if (!f->choosing) return LG_ERR_INVALID_ARG;
    f->sink = SINK_MEMORY;
    f->mem_limit = max_bytes;
    return LG_OK;
}

int lg_form_to_fd(lg_form *f, int fd)
{
#if defined(LG_NO_FILES)
    (void)f;
    (void)fd;
    return LG_ERR_UNSUPPORTED;
#else
    if (!f->choosing || fd < 0) return LG_ERR_INVALID_ARG;
    f->sink = SINK_FD;
    f->fd = fd;
    return LG_OK;
#endif
}

int lg_form_pause(lg_form *f)
{
    if (f->state != F_RUNNING) return LG_ERR_INVALID_ARG;
    if (f->paused) return LG_OK;
    f->paused = 1;
    /* Outside a piece the server must stop too; inside one, the piece's
     * rest is held and the server stops after it. */
    int rc = lg_req_pause_body(f->req);
    return rc == LG_ERR_INVALID_ARG ? LG_OK : rc; /* the body is all in: nothing to stop */
}

int lg_form_resume(lg_form *f)
{
    if (f->state != F_RUNNING) return LG_ERR_INVALID_ARG;
    if (!f->paused) return LG_OK;
    f->paused = 0;
    if (f->in_feed) {
        /* Resumed from its own event: the piece goes on; the server's
         * pause (if it took) is lifted too. */
        lg_req_resume_body(f->req);
        return LG_OK;
    }
    /* What the carry holds comes first; then the server gives back the
     * piece's rest and reads on. */
    if (f->carry_len) {
        f->in_feed = 1;
        size_t used = run(f, f->carry, f->carry_len);
        if (feed_done(f) || f->state == F_ENDED) return LG_OK;
        memmove(f->carry, f->carry + used, f->carry_len - used);
        f->carry_len -= (uint32_t)used;
        if (f->paused) return LG_OK;
    }
    int rc = lg_req_resume_body(f->req);
    return rc == LG_ERR_INVALID_ARG ? LG_OK : rc;
}

#endif /* !LG_NO_SERVER && !LG_NO_FORMS */
