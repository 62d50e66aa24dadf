/* The server's insides, shared by server.c (accepting, connections,
 * shutdown), server_conn.c (reading requests), server_res.c (answers),
 * server_req.c (request accessors), router.c and static.c. */
#ifndef LG_SERVER_INTERNAL_H
#define LG_SERVER_INTERNAL_H

#include "linger.h"
#include "alloc_internal.h"

#if !defined(LG_NO_SERVER)

/* The sentence an error answer carries after its status ("404 Not Found:
 * no route for this path"); none with LG_NO_ERROR_STRINGS, which keeps
 * the status alone. */
#if defined(LG_NO_ERROR_STRINGS)
#define LG_MSG(text) NULL
#define LG_ERR_MSG(code) NULL
#else
#define LG_MSG(text) text
#define LG_ERR_MSG(code) lg_strerror(code)
#endif

/* --- routes --- */

/* A route keeps its pattern as text, matched segment by segment against
 * the raw path (router.c): nothing compiled, one allocation per route. */
typedef struct route {
    lg_handler handler;
    void *user;
    const char *method; /* NULL: any; into text */
    const char *pattern;/* into text */
    size_t alloc_size;
    unsigned flags;
    char text[];        /* the method's and the pattern's copies */
} route;

typedef struct route_match {
    const route *route;
    uint8_t nparams;
    /* The values, in the order of the pattern's parameters, which hold
     * the names: a value costs 8 bytes here instead of 16. */
    lg_str params[LG_MAX_PARAMS];
} route_match;

enum { ROUTE_FOUND = 0, ROUTE_NOT_FOUND = 1, ROUTE_WRONG_METHOD = 2 };

int lg__router_add(lg_server *srv, const char *method, const char *pattern, unsigned flags,
                   lg_handler handler, void *user);
/* Matches the raw (still percent-encoded) path. On ROUTE_WRONG_METHOD,
 * `allow` receives the methods that would match ("GET, HEAD"). */
int lg__router_match(const lg_server *srv, lg_str method, lg_str raw_path, route_match *m,
                     char *allow, size_t allow_cap);
void lg__router_free(lg_server *srv);
/* Which value of a match the pattern's parameter `name` is, or -1. */
int lg__route_param_index(const route *r, const char *name, size_t len);

/* --- the server --- */

typedef struct hook_entry {
    lg_hook fn;
    void *user;
} hook_entry;

typedef struct error_entry {
    int status;
    lg_handler handler;
    void *user;
} error_entry;

/* The Date and Server lines every answer carries: "Date: " and 29 bytes
 * (37 with CRLF), "Server: " and the name (10 more). A longer name is
 * refused by lg_server_new rather than by every answer. */
#define LG_MAX_SERVER_NAME 120u
/* How long a connection that has sent nothing keeps its slot from a
 * newcomer (at most half the header timeout). */
#define LG_SILENT_GRACE_MS 1000u
#define LG__HEAD_LINES_BYTES 192

typedef struct lg_conn lg_conn;
typedef struct lg_exchange lg_exchange;
typedef struct static_mount static_mount;

/* Blocks of one size kept for reuse, linked through their first bytes:
 * with dynamic memory, a request's response-header and scratch spaces
 * are taken from these when it first needs them, and given back when it
 * is done with them (so a request a handler keeps for later holds neither
 * until it uses them). They grow to the most in use at once, as the
 * request pool does: the steady state allocates nothing. */
typedef struct lg__block_pool {
    void *free;
    uint32_t size;
} lg__block_pool;

struct lg_server {
    lg_loop *loop;
    lg_server_config cfg;         /* with defaults filled in */
    lg_stream_config stream_cfg;
    lg_listener listeners[LG_MAX_LISTENERS];
    uint8_t nlisteners;
    uint8_t accept_paused;
    uint8_t shutting_down;
    uint8_t low_memory;           /* no spare connection object: not accepting */
    uint8_t someone_waiting;      /* full, a newcomer waits, nobody idle to give way */
    uint8_t nbefore, nafter, nerror;
    hook_entry before[LG_MAX_HOOKS], after[LG_MAX_HOOKS];
    error_entry errors[LG_MAX_ERROR_HANDLERS];
    route **routes;
    uint32_t nroutes, routes_cap;
    static_mount *mounts;
    uint8_t static_mem;           /* lg_server_config.memory: no allocation after start */
    uint16_t nwaiting;            /* connections waiting for a request slot (CF_WAIT_SLOT) */
    uint32_t high_water;          /* a streamed answer may queue this much */
    lg_defer room_defer;          /* make_room, once the round's input is read */
    lg_timer room_timer;          /* make_room, once a silent connection's grace is over */
    uint8_t newcomer_waiting;     /* full, and the listener saw somebody wait */
    /* Set by the first lg_res_upgrade: a server that hands nothing over
     * does not link server_upgrade.c. */
    void (*upgraded_shutdown)(lg_conn *c);
    /* Likewise set by the first lg_sse_start: the shutdown ends the event
     * streams (server_sse.c), which are answers that never end else. */
    void (*sse_shutdown)(lg_server *srv);
    lg_sse *sse_list;             /* every open event stream */
    lg_conn *conns;               /* every open connection */
    lg_conn *free_conns;          /* kept for reuse: no allocation per connection */
    lg_exchange *free_exchanges;  /* likewise per request */
    lg__block_pool hdr_blocks;    /* response headers (dynamic memory) */
    lg__block_pool scratch_blocks;/* decoded values (dynamic memory) */
    uint32_t nconns, nrejecting;
    uint32_t ngiven;              /* gave way to a newcomer, still closing (CF_GAVE_WAY) */
    size_t exchange_size;
    lg_server_stats stats;
    lg_timer shutdown_timer;
    void (*shutdown_done)(lg_server *, void *);
    void *shutdown_user;
    void *user_data;
#if !defined(LG_NO_DATE)
    char date[32];                /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    uint64_t date_second;
    /* "Date: ...\r\nServer: ...\r\n" as every answer carries them, built
     * once a second (lg__server_head_lines), not once per answer. Without
     * a Date there is nothing to cache: the Server line is written as is. */
    char head_lines[LG__HEAD_LINES_BYTES];
    uint16_t head_lines_len;
    uint8_t head_lines_ok;        /* 0: not built yet, or a server_name the writer refused */
#endif
};

/* Connection phases (conn->phase). */
enum {
    PH_IDLE = 0, /* between requests: waiting for a first byte */
    PH_HEAD,     /* a head has started; it must complete in time */
    PH_BODY,     /* reading a body the handler will get whole */
    PH_HANDLER,  /* the handler has the request; may be reading the body */
    PH_SENDING,  /* the answer is going out (streamed or a file) */
    PH_DISCARD,  /* answered; reading the rest of the body to throw away */
    PH_CLOSING,  /* graceful close under way */
    PH_UPGRADED  /* handed over after 101 (lg_res_upgrade): its owner's now */
};

/* conn->flags */
#define CF_CLOSE_AFTER 0x01u  /* no more requests on this connection */
#define CF_IN_DATA 0x02u      /* inside on_data: answers only mark progress */
#define CF_REJECTING 0x04u    /* accepted only to be told 503 */
#define CF_PEER_DONE 0x08u    /* the client's input ended (EOF/reset) */
#define CF_SERVED 0x10u       /* has answered a request: an idle one is keep-alive */
#define CF_WAIT_SLOT 0x20u    /* static memory: has a request, waits for a request slot */
#define CF_HELD 0x40u         /* back-pressure: not reading while answers wait to be taken */
#define CF_GAVE_WAY 0x80u     /* closed to let a newcomer in: not counted in nconns */

/* A connection's state, kept to 128 bytes on a 32-bit CPU (a device with
 * many connections pays this for each, idle or not). Its timeouts are its
 * stream's (lg_stream_set_timeout, and the stream's own send timeout); the
 * peer's address is asked of the socket when a handler wants it
 * (lg_req_peer). */
struct lg_conn {
    lg_stream s;            /* first: a stream callback finds its connection */
    lg_server *srv;
    lg_conn *prev, *next;
    union {
        lg_exchange *ex;    /* the request in hand (NULL between requests) */
        const lg_stream_callbacks *owner; /* PH_UPGRADED: the new owner's */
    };
    uint32_t quiet_ms;      /* when it began to wait for its client (make_room) */
    uint16_t requests;      /* requests begun on this connection (saturating) */
    uint8_t phase;
    uint8_t flags;
};
#if UINTPTR_MAX == 0xffffffffu
/* The promise in docs/footprint.md, kept by the compiler on every 32-bit
 * target (make size builds three): a field more must make room first. */
typedef char lg__conn_within_128_bytes[sizeof(lg_conn) <= 128 ? 1 : -1];
#endif

/* Body handling modes (ex->body_mode). */
enum { BODY_NONE = 0, BODY_BUFFER, BODY_STREAM, BODY_DISCARD };

/* Answer states (res.state). */
enum { RES_NONE = 0, RES_STARTED, RES_DONE };

struct lg_res {
    lg_exchange *ex;
    uint16_t status;
    uint8_t state;
    uint8_t chunked;           /* streamed answer in chunks */
    uint8_t keep_alive;        /* decided when the head goes out */
    uint8_t no_body;           /* HEAD, 1xx, 204, 304 */
    uint8_t has_length;        /* the handler declared a Content-Length (length) */
    uint8_t by_length;         /* a streamed answer framed by `length` (not chunked) */
    uint8_t broken;            /* cannot be completed: the connection ends short */
    uint64_t length;           /* the Content-Length declared or sent */
    uint64_t body_bytes;       /* body bytes written (for the access log) */
    char *hdr;                 /* headers added by the handler */
    uint16_t hdr_len, hdr_cap;
    void (*on_drain)(lg_res *, void *);
    void *drain_user;
    lg_fill_fn fill;
    void *fill_user;
    lg_defer fill_defer;
#if !defined(LG_NO_FILES)
    lg_write_req file_req;
    int file_fd;
#endif
};

struct lg_req {
    lg_exchange *ex;
};

/* What the server knows of a request's form (src/server_form.c): how to
 * free it. Through a pointer, so that builds which leave server_form.c
 * out (the MicroPython binding, the firmware) link without it. */
typedef struct lg_form_head {
    void (*free)(lg_exchange *ex);
} lg_form_head;

struct lg_exchange {
    lg_req req;
    lg_res res;
    lg_conn *conn;             /* NULL once the connection is gone */
    lg_server *srv;
    lg_addr peer;              /* family 0 until lg_req_peer asks the socket */
    lg_exchange *next_free;
    lg_head head;
    lg_body_reader body;
    int error;                 /* parse error, for error handlers */
    uint32_t head_scanned;     /* prev_len for the incremental head parser */
    uint32_t head_len;         /* bytes of the head at the front of the buffer */
    uint32_t body_kept;        /* decoded body bytes kept right after the head */
    uint64_t body_raw;         /* body bytes (with chunk framing) taken in */
    uint64_t body_len;         /* decoded body bytes taken in */
    uint64_t body_limit;
    char *body_buf;            /* a body too big for the receive buffer */
    size_t body_buf_cap;
    char *head_apart;          /* the head, moved out of the receive buffer while a
                                  handler keeps the request (server_conn.c) */
    uint32_t head_apart_len;
    uint8_t body_mode;
    uint8_t body_done;
    uint8_t continue_sent;     /* "100 Continue" went out */
    uint8_t route_flags;
    uint8_t in_app;            /* a handler, hook or error handler has it */
    uint8_t body_paused;       /* lg_req_pause_body: the streamed body waits */
#if !defined(LG_NO_FORMS)
    uint32_t body_held;        /* decoded bytes the form gave back (lg__req_hold_body):
                                  kept right after body_kept, delivered again first */
    lg_form_head *form;        /* lg_req_read_form's state, freed with the request */
#endif
    lg_body_chunk_fn on_chunk;
    void *chunk_user;
    lg_str path_raw, query_raw, path;
    route_match match;
    uint32_t start_ms;         /* the loop's wrapping clock (access log) */
    char *scratch;             /* NULL until needed (lg__exchange_scratch) */
    uint16_t scratch_len, scratch_cap;
    /* memory follows: headers[max_headers]; with static memory also the
     * response headers and the scratch space (dynamic memory takes them
     * from the server's block pools when first needed) */
};

/* Static memory (lg_server_config.memory): the block holds connections,
 * request slots and buffers, each 8-byte aligned, after up to 7 bytes that
 * align the block itself. Macros, so that ports/footprint/sizes.c computes
 * the same figure for a target at compile time. */
#define LG__ALIGN8(n) (((n) + 7u) & ~(size_t)7u)
#define LG__EXCHANGE_BYTES(max_headers, response_header_bytes, scratch_bytes) \
    (sizeof(lg_exchange) + (size_t)(max_headers) * sizeof(lg_header) +         \
     (size_t)(response_header_bytes) + (size_t)(scratch_bytes))
#define LG__STATIC_BYTES(conns, requests, buffers, exchange_bytes, recv_buffer_bytes) \
    (7 + (size_t)(conns) * LG__ALIGN8(sizeof(lg_conn)) +                                \
     (size_t)(requests) * LG__ALIGN8(exchange_bytes) +                                   \
     (size_t)(buffers) * LG__ALIGN8(recv_buffer_bytes))

/* server.c */
lg_exchange *lg__exchange_get(lg_server *srv);
void lg__exchange_put(lg_server *srv, lg_exchange *ex);
/* The request's response-header space (res.hdr) and scratch space, there
 * from now on: LG_OK, or LG_ERR_NOMEM. */
int lg__exchange_hdr(lg_exchange *ex);
int lg__exchange_scratch(lg_exchange *ex);
/* The answer's head is written (or will not be): its header space goes
 * back to the pool. */
void lg__exchange_hdr_done(lg_exchange *ex);
/* Write the Date and Server lines of an answer head into out; their
 * length, or -1 when they do not fit (a server_name too long or with CR/LF
 * in it). */
int lg__server_head_lines(lg_server *srv, char *out, size_t cap);
void lg__conn_close(lg_conn *c);
void lg__server_conn_closed(lg_stream *s); /* the stream's on_close */

/* server_conn.c */
extern const lg_stream_callbacks lg__conn_callbacks;
void lg__conn_start(lg_conn *c);
/* The answer is complete (all queued): go on with the connection. */
void lg__conn_answer_done(lg_conn *c);
/* Start taking a streamed body for the handler (lg_req_read_body). */
int lg__conn_stream_body(lg_exchange *ex);
/* lg_req_pause_body / lg_req_resume_body. */
int lg__conn_pause_body(lg_exchange *ex, int pause);
#if !defined(LG_NO_FORMS)
/* From on_chunk, with the body paused: the last n bytes of the piece
 * were not taken; they stay in the receive buffer and come again first
 * after lg_req_resume_body (no copy). */
void lg__req_hold_body(lg_req *req, size_t n);
#endif
/* Send "100 Continue" if the client waits for it. */
void lg__conn_send_continue(lg_exchange *ex);
/* A request slot came free: a connection waiting for one goes on. */
void lg__conn_wake_waiting(lg_server *srv);

/* server_res.c */
/* Answer a request that failed before (or instead of) its handler. */
void lg__res_fail(lg_exchange *ex, int status, const char *message);
void lg__res_on_drain(lg_conn *c);
/* Run the after-hooks on an answer about to go out. */
void lg__res_after_hooks(lg_res *res);
/* The head of "101 Switching Protocols" to protocol (lg_res_upgrade). */
int lg__res_switch_head(lg_res *res, const char *protocol);
/* An answer call that cannot do what it was asked: 500 instead (where the
 * stream can still carry it), the connection closes, err is returned. */
int lg__res_fail_answer(lg_res *res, int err);
void lg__res_conn_gone(lg_exchange *ex);

/* static.c */
void lg__static_free(lg_server *srv);

#endif /* !LG_NO_SERVER */

#endif
