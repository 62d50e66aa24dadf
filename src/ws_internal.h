/* The WebSocket connection's insides, shared by ws_conn.c (receiving,
 * sending, closing, timers, broadcast), ws_server.c (lg_ws_accept),
 * ws_client.c (lg_ws_connect) and ws_post.c (other threads). They use the
 * stream, the server and the client through public calls only (as
 * scripts/check_seams.sh checks). Not part of the API. */
#ifndef LG_WS_INTERNAL_H
#define LG_WS_INTERNAL_H

#include "linger_opts.h" /* LG_NO_WEBSOCKET leaves all of it out */

#if !defined(LG_NO_WEBSOCKET)
#include "linger_ws.h"
#include "alloc_internal.h"

/* Other threads' frames are counted with a lock-free atomic where the CPU
 * has one (Cortex-M3 and up, x86, the A-class cores; not Cortex-M0+ nor
 * RV32 without the A extension, whose compilers would call a libatomic
 * that devices do not have): lg_ws_post needs it. */
/* The compiler's own atomics (GCC and clang predefine
 * __GCC_ATOMIC_INT_LOCK_FREE), not <stdatomic.h>: the one newlib ships
 * for RV32 does not compile with GCC. */
#if !defined(LG_NO_THREADS) && defined(__GCC_ATOMIC_INT_LOCK_FREE) && __GCC_ATOMIC_INT_LOCK_FREE == 2
#define LG_WS_ATOMICS 1
#define lg_ws_counter_add(p, n) __atomic_fetch_add((p), (n), __ATOMIC_SEQ_CST)
#define lg_ws_counter_sub(p, n) __atomic_fetch_sub((p), (n), __ATOMIC_SEQ_CST)
#endif
typedef unsigned lg_ws_counter;

/* ws->state */
enum {
    WS_CONNECTING = 0, /* client: the handshake is under way */
    WS_OPEN,
    WS_CLOSING,        /* our Close went out; waiting for the peer's */
    WS_CLOSED_HS,      /* both Closes seen (or we failed the peer): TCP's close */
    WS_GONE            /* the stream closed; on_close has run or runs now */
};

struct lg_ws {
    lg_stream *s;              /* NULL while connecting and once gone */
    const lg_ws_callbacks *cbs;
    void *user;
    lg_loop *loop;
    lg_ws_parser parser;
    /* settings, from lg_ws_config with the defaults filled in */
    uint64_t max_message;
    uint32_t max_queued;
    uint32_t ping_interval, pong_timeout, close_timeout;
    const char *protocol;      /* agreed on: a string of the config's array */
    /* a whole message spanning reads (not streaming), lg__alloc'ed */
    char *msg;
    size_t msg_len, msg_cap;
    int error;                 /* lg_ws_error */
    uint16_t close_code;       /* the peer's, once its Close came */
    uint16_t http_status;      /* client: the handshake's answer */
    uint8_t state;
    uint8_t client;            /* masks what it sends; wants no mask */
    uint8_t streaming;
    uint8_t paused;
    uint8_t want_drain;        /* a send said LG_ERR_AGAIN: on_drain when empty */
    uint8_t ping_out;          /* our keep-alive Ping awaits any byte */
    uint8_t pong_due;          /* a Pong waits for room in the queue */
    uint8_t delivered;         /* the current message went to the owner already */
    uint8_t kept;              /* lg_ws_keep: not freed at on_close */
    uint8_t freed_at_close;    /* on_close ran: freed once released */
    uint8_t first_piece;       /* streaming: the next piece starts a message */
    uint8_t ctl_len;
    /* While open: the payload of the Ping a Pong waits to answer. Once the
     * peer's Close came: its reason. */
    char ctl[LG_WS_MAX_CONTROL_PAYLOAD];
    /* client */
    void (*random)(void *buf, size_t n, void *user);
    void *random_user;
    uint64_t rng;              /* the fallback generator's state */
    void (*cancel)(lg_ws *ws); /* client: give up the handshake (ws_client.c) */
    uint8_t abandoned;         /* client: given up while connecting; 1: its answer is
                                  still awaited (the memory with it), 2: came */
#if !defined(LG_NO_CLIENT)
    lg_call *call;             /* the handshake's request */
    const char *const *offered;
    char key[LG_WS_KEY_BYTES];
#endif
    /* other threads (ws_post.c) */
    lg_defer drain_check;      /* after LG_ERR_AGAIN: see lg__ws_drained */
    lg_ws_counter posted;      /* bytes posted and not yet sent */
    lg_defer release;
};

/* ws_conn.c */
lg_ws *lg__ws_new(lg_loop *loop, const lg_ws_config *cfg, const lg_ws_callbacks *cbs,
                  void *user, int client);
void lg__ws_free(lg_ws *ws);
/* The stream callbacks of an open connection (its data: the lg_ws). */
extern const lg_stream_callbacks lg__ws_stream_callbacks;
/* The connection has its stream: open it (timers, on_open). */
void lg__ws_opened(lg_ws *ws, lg_stream *s);
/* The connection never opened (client): on_close with 1006, then free. */
void lg__ws_failed(lg_ws *ws, int err);
/* Fill buf with n bytes from the configured source (or the fallback). */
void lg__ws_random(lg_ws *ws, void *buf, size_t n);
/* A whole frame of this message for ws, with its header, into out (cap
 * at least LG_WS_MAX_HEADER + len), masked for a client. Its length. */
size_t lg__ws_frame(lg_ws *ws, char *out, unsigned opcode, const void *data, size_t len);
/* Check a data message's opcode and text: LG_OK or the error to return. */
int lg__ws_check_message(unsigned opcode, const void *data, size_t len);
/* A frame block (header and payload together) queued with
 * lg_stream_write_ref and freed when sent: its write request first. */
typedef struct ws_block {
    lg_write_req req;
    lg_ws *ws;                 /* posted frames: whose count to lower */
    size_t size;               /* of the whole block */
    size_t len;                /* of the frame (posted: of the payload) */
    uint8_t opcode;            /* posted frames */
    lg_defer post;             /* posted frames: the hop to the loop */
    char bytes[];
} ws_block;
ws_block *lg__ws_block_new(size_t frame_len);
void lg__ws_block_free(ws_block *b);
/* Queue a frame block on an open connection; it is freed when sent, or
 * when the stream fails (done is called then, posted frames' hook). */
int lg__ws_queue_block(lg_ws *ws, ws_block *b, void (*done)(lg_write_req *, int));
/* Tell the owner the queue has emptied, if it asked (a send said
 * LG_ERR_AGAIN). The stream says when its queue empties by sending
 * (on_drain), but not when a write of ours emptied it at once, nor when
 * the server's cork did (sends made in the handler): a refusal also
 * schedules this for the next tick. */
void lg__ws_drained(lg_ws *ws);

#endif /* !LG_NO_WEBSOCKET */

#endif
