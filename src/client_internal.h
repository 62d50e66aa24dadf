/* The client's insides, shared by src/client*.c. Not part of the API.
 *
 *   client.c       the API: calls, their one delivery, redirects, retries
 *   client_pool.c  origins, connections, connecting, keep-alive, closing
 *   client_send.c  the request head and the upload (memory, file, producer,
 *                  100-continue), stopped by an early response
 *   client_recv.c  the response: head, 1xx, body by its framing, endings
 *   client_sync.c  lg_fetch_sync on a private loop
 */
#ifndef LG_CLIENT_INTERNAL_H
#define LG_CLIENT_INTERNAL_H

#include "linger.h"
#include "alloc_internal.h"

#if !defined(LG_NO_CLIENT)

typedef struct client_conn client_conn;
typedef struct origin origin;

#define CLIENT_MAX_ADDRS 4   /* resolved addresses tried in turn */
#define CLIENT_MAX_TRAILERS 16
/* Interim (1xx) responses taken before a final one: a server that sends
 * them for ever would otherwise hold a call without end (each resets the
 * read timeout) */
#define CLIENT_MAX_INTERIM 16

struct lg_client {
    lg_loop *loop;
    lg_client_config cfg;        /* defaults filled in */
    lg_stream_config stream_cfg;
    origin *origins;
    lg_call *calls;              /* every call not yet delivered */
    client_conn *taken;          /* streams taken after 101 (linked by idle_next/prev) */
    uint32_t conns;              /* connection objects alive (closing ones too) */
    uint32_t depth;              /* > 0 while a user callback runs */
    uint8_t freeing;             /* lg_client_free was called */
    lg_client_stats stats;
};

/* Connections to one scheme+host+port, and the calls waiting for one. */
struct origin {
    origin *next;
    lg_client *cli;
    lg_defer kick;               /* hand freed capacity to waiting calls */
    client_conn *idle;           /* most recently used first */
    lg_call *wait_head, *wait_tail;
    uint32_t open;               /* connections counted against the limit */
    uint16_t port;
    uint16_t host_len;
    uint8_t https;               /* the scheme: 0 http, 1 https */
    char host[];                 /* lower-cased, percent-decoded, NUL-terminated */
};

enum conn_state {
    CS_RESOLVING = 1,
    CS_CONNECTING,
    CS_BUSY,     /* carrying a call */
    CS_IDLE,     /* kept alive in the pool */
    CS_CLOSING,  /* the stream is closing; memory waits for on_close */
    CS_UPGRADED, /* switched protocols (101): its call's callback may take it */
    CS_TAKEN     /* taken (lg_response_take_stream): the owner's stream now */
};

struct client_conn {
    lg_stream s;
    lg_client *cli;
    origin *org;                 /* NULL once closing */
    client_conn *idle_next, *idle_prev;
    lg_call *call;
    lg_resolve_req resolve;
    lg_connect_req connect;
    lg_timer idle_timer;
    lg_addr addrs[CLIENT_MAX_ADDRS];
    uint8_t naddrs, next_addr;
    uint8_t state;
    uint8_t stream_open;
    uint8_t resolving, connecting; /* requests to cancel if it closes first */
    int last_err;                /* the last connect failure */
    uint32_t served;             /* responses completed on it */
    const lg_stream_callbacks *owner; /* CS_TAKEN: whose stream it is now */
};

enum call_phase {
    PH_START = 0, /* not on a connection (queued, or between attempts) */
    PH_CONNECTING,
    PH_HEAD,      /* request going out, response head awaited */
    PH_BODY,      /* response body being read */
    PH_DONE
};

enum upload_state {
    UP_NONE = 0,   /* nothing to send after the head */
    UP_WAIT_CONTINUE,
    UP_SENDING,
    UP_DONE,       /* every byte handed to the stream */
    UP_STOPPED     /* given up: an early response or a failed send */
};

enum body_kind { BODY_NONE = 0, BODY_MEMORY, BODY_FILE, BODY_PRODUCER };

/* call->flags */
#define CF_RETRIED 0x0001u      /* the one retry is used */
#define CF_EARLY 0x0002u        /* the final head came before the upload ended */
#define CF_DISCARD 0x0004u      /* a redirect we follow: its body is dropped */
#define CF_PAUSED 0x0008u       /* on_body asked to pause */
#define CF_PRODUCER_WAIT 0x0010u/* the producer has nothing yet */
#define CF_SENT_EXPECT 0x0020u
#define CF_NO_EXPECT 0x0040u    /* a 417 told us to send without it */
#define CF_GOT_BYTES 0x0080u    /* some response byte arrived on this attempt */
#define CF_SEND_FAILED 0x0100u
#define CF_IN_USER 0x0200u      /* a user callback of this call is running */
#define CF_CANCEL_ASKED 0x0400u /* cancelled from inside one of them */
#define CF_FILE_BUSY 0x0800u    /* a sendfile slice is queued in the stream */
#define CF_DELIVER_WAIT 0x1000u /* deliver once the slice is released */
#define CF_IN_FETCH 0x2000u     /* inside lg_fetch: deliveries are deferred */
#define CF_PUMPING 0x4000u
#define CF_CLOSE 0x8000u        /* Connection: close */
#define CF_FRESH 0x10000u       /* the retry: never take a kept-alive connection */
#define CF_REUSED 0x20000u      /* this attempt is on a connection that served before */
#define CF_FINISHED 0x40000u    /* failed or complete: only the delivery is left */
#define CF_NO_FOLLOW 0x80000u   /* LG_FETCH_NO_REDIRECTS */
#define CF_UPGRADE 0x100000u    /* the request asked to switch protocols (Upgrade) */
#define CF_RESET 0x200000u      /* lg_call_cancel: its connection closes with RST */
#define CF_URL_NEW 0x400000u    /* the URL is new (lg_fetch, a redirect): read its userinfo */
#define CF_AUTH_ANSWERED 0x800000u /* a 401's challenge was answered (once per URL) */
#define CF_AUTH_RETRY 0x1000000u /* this 401 is answered: its body is dropped, then again */
#define CF_AUTH_STALE 0x2000000u /* ... and a stale=true answered once more */

struct lg_call {
    lg_call *next, *prev;        /* cli->calls */
    lg_call *wait_next;          /* origin queue */
    origin *waiting_on;
    lg_client *cli;
    client_conn *conn;
    lg_response *res;            /* from the final head on (or made at delivery) */
    client_conn *upgraded;       /* after 101, until its callback took it or returned */
    lg_response_cb cb;
    void *user;

    /* the request, copied */
    const char *method;
    lg_header *headers;
    size_t num_headers;
    int body_kind;
    const char *body;
    uint64_t body_len;
    int body_file;
    uint64_t body_offset;
    lg_body_producer producer;
    lg_body_cb on_body;
    lg_response_cb on_head;
    uint64_t max_body;
    uint32_t timeout_ms;
    char *url;                   /* the current URL (redirects replace it) */
    size_t url_len;
    lg_url u;                    /* parsed from url */
    char *auth;                  /* the Authorization value: Basic from the URL's userinfo
                                    (or LG_FETCH_BASIC), Bearer, or a 401's answer */
    char *auth_host;             /* ... and the origin it may be sent to */
    char *cred_user, *cred_pass; /* credentials to answer a 401 with (client_auth.c) */
    uint16_t auth_port;
    uint8_t method_id;
    uint8_t redirects;
    uint8_t max_redirects;
    uint8_t phase;
    uint8_t stage;
    uint8_t upload;
    uint8_t ending;              /* lg_ending of the input when it ended the exchange */
    uint8_t interim;             /* 1xx responses on this attempt */
    uint32_t flags;
    int err;

    /* sending */
    uint64_t sent;               /* body bytes handed to the stream */
    char *upbuf;                 /* producer bodies */
    lg_write_req file_req;

    /* receiving */
    lg_head head;                /* parse scratch; headers point into hv */
    size_t prev_len;
    lg_body_reader br;
    lg_head trailers;
    lg_header tv[CLIENT_MAX_TRAILERS];
    size_t paused_len;           /* body bytes at the buffer's front not yet taken */
    size_t body_cap;             /* bytes allocated for res->body */

    lg_timer deadline, read_timer, expect_timer;
    lg_defer later;              /* deferred delivery and resume */
    size_t alloc_size;
    lg_header hv[];              /* cfg.max_headers of them */
};

/* A response and everything it points to, in one block (plus the body and
 * the trailers, which grow or come late). */
typedef struct response_block {
    lg_response res;
    size_t size;
    char *body_buf;              /* res.body.ptr, writable */
    size_t body_cap;
    void *trailer_store;
    size_t trailer_size;
    uint8_t kept;
    lg_header storage[];         /* header fields, then the URL and the head bytes */
} response_block;

/* Enter and leave the client from the loop (a stream, timer or deferred
 * callback) or the API: the client is freed only at the outermost leave. */
#define CLIENT_ENTER(cli) ((cli)->depth++)
#define CLIENT_LEAVE(cli) ((cli)->depth--, lg__client_maybe_free(cli))

/* client.c */
/* The final head: copy it (the receive buffer moves on) with the URL. */
lg_response *lg__response_new(lg_call *call, const lg_head *head, const char *raw, size_t n);
int lg__response_body_append(lg_call *call, lg_str data);
int lg__response_keep_trailers(lg_call *call);
void lg__call_fail(lg_call *call, int err);
/* The response has come whole: timers off, the stage done, how the
 * connection's input stood then. */
void lg__call_received(lg_call *call);
void lg__call_complete(lg_call *call);
void lg__call_deliver(lg_call *call);
/* Start (again) on a connection: after a redirect, a retry, or at once. */
void lg__call_attempt(lg_call *call);
int lg__call_can_retry(const lg_call *call);
void lg__call_retry(lg_call *call);
/* Run a user callback of the call; returns 0 if the call was cancelled in it
 * (it has been failed and must not be touched). */
void lg__user_enter(lg_call *call);
int lg__user_leave(lg_call *call);
void lg__client_maybe_free(lg_client *cli);

/* client_pool.c */
int lg__origin_dispatch(lg_call *call);
void lg__origin_unqueue(lg_call *call);
void lg__origin_release_empty(lg_client *cli, origin *o);
/* The response is complete: keep the connection for the next call or close. */
void lg__cconn_release(client_conn *c, int reusable);
/* Close a connection: gracefully, or with RST (abort = 1). */
void lg__cconn_close(client_conn *c, int abort);
void lg__pool_close_idle(lg_client *cli);
/* The connection leaves its origin's pool (and count) without closing. */
void lg__cconn_detach(client_conn *c);
/* Its memory goes (the stream has closed, or never opened). */
void lg__cconn_free(client_conn *c);

/* client_upgrade.c */
/* The call's 101 head is in: complete it, the connection waiting to be
 * taken by its callback. */
void lg__call_upgraded(lg_call *call);
/* The callback returned: close the connection if it was not taken. */
void lg__upgrade_untaken(lg_call *call);
void lg__upgrade_close_taken(lg_client *cli);

/* client_auth.c */
/* A 401 (h) to answer: build the next attempt's Authorization from its
 * challenges (Digest, else Basic) into call->auth. 1 when answered, 0 when
 * not (no credentials, another origin, answered already, nothing known),
 * LG_ERR_NOMEM. */
int lg__auth_answer(lg_call *call, const lg_head *h);
/* client.c: "Basic base64(user:password)" as call->auth. */
int lg__call_basic_auth(lg_call *call);

/* client_send.c */
void lg__send_request(lg_call *call);
void lg__send_pump(lg_call *call);
void lg__send_continue(lg_call *call);
void lg__send_write_error(lg_call *call, int err);
void lg__send_stop(lg_call *call);

/* client_recv.c */
void lg__recv_process(lg_call *call);
void lg__read_timer_arm(lg_call *call);

#endif /* !LG_NO_CLIENT */

#endif
