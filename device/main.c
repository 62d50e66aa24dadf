/*
 * The firmware: linger's server on lwIP's raw API, with no operating
 * system, on QEMU's mps2-an386 board (a Cortex-M4, a LAN9118). `make
 * device` builds it, scripts/run-device.sh PORT boots it with the device's
 * port 80 at 127.0.0.1:PORT.
 *
 *   GET  /        a small page (device/www/index.html)
 *   GET  /hello   Hello, World!
 *   POST /echo    the body, back (up to what the receive buffer holds
 *                 beside the head; 413 beyond)
 *   GET  /stats   what the device holds now: free pbufs and pools, the
 *                 resets lwIP has sent, linger's counters; also printed on
 *                 the serial console
 *   GET  /big/KB  KB KiB made on the fly as the network takes them
 *                 (back-pressure, for the tests)
 *   anything else 404, and the handler reads no body: the server's rule 3
 *                 reads and drops it, or closes gracefully
 *
 * Memory is static: lwIP's heap and pools are arrays (lwipopts.h), the
 * server takes its connections and buffers from a block of its own, and
 * what linger allocates at start-up (the loop, the server object, the
 * routes) comes from a small arena that refuses everything once the server
 * listens — and counts it (GET /stats: late_allocs, which must stay 0):
 * memory.c.
 *
 * Built as linger-client.elf (DEVICE_CLIENT), it also fetches a URL once at
 * boot with linger's client (DEVICE_FETCH_URL, on the host through QEMU's
 * guestfwd) and prints the answer on the console; start-up, and with it
 * the arena, ends when that answer has come.
 *
 * Port 81 (DEVICE_NAIVE_PORT) is a deliberately naive server written on
 * the raw API directly, for the tests: it answers and closes without
 * reading the request, as the servers of the bug linger exists for do, so
 * that the tests can show what such a close does (lwIP sends RST) and
 * what QEMU's user-mode network lets the host see of it.
 */
#include <stddef.h>
#include <string.h>

#include "board.h"
#include "device_memory.h"
#include "lan9118.h"
#include "linger.h"
#include "linger_lwip_raw.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#ifndef DEVICE_NAIVE_PORT
#define DEVICE_NAIVE_PORT 81
#endif

extern const unsigned char device_page[]; /* device/www/index.html (page.c, generated) */
extern const unsigned device_page_len;

static struct netif eth;

u32_t sys_now(void)
{
    return board_ms();
}

/* --- the server --- */

static lg_loop *loop;
static lg_server *srv;
static lg_server_config cfg = {
    .max_conns = 4,
    .max_requests = 2,
    /* buffers: the default, max_conns + max_requests = 6: each of the two
     * requests in progress holds its head's buffer and, streaming an
     * answer, one more for what lwIP has not taken yet (lg_res_write keeps
     * an answer's queue within one); the two connections waiting hold one
     * each. */
    .recv_buffer_bytes = 1536,
    .max_headers = 16,
    .response_header_bytes = 128,
    .scratch_bytes = 64,
    .linger_timeout_ms = 3000,
};

/* One line of figures, for GET /stats and the console. */
static char *put(char *p, const char *s)
{
    while (*s) *p++ = *s++;
    return p;
}

static char *put_uint(char *p, const char *name, unsigned long v)
{
    char digits[12];
    int n = 0;
    p = put(p, name);
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = digits[--n];
    return p;
}

static size_t stats_line(char *buf)
{
    const struct stats_mem *pool = lwip_stats.memp[MEMP_PBUF_POOL];
    const lg_server_stats *ss = lg_server_get_stats(srv);
    lg_lwip_raw_stats ps;
    lg_lwip_raw_get_stats(&ps);
    char *p = buf;
    p = put(p, "stats");
    p = put_uint(p, " pbuf_free=", (unsigned long)(pool->avail - pool->used));
    p = put_uint(p, " pbuf_total=", pool->avail);
    p = put_uint(p, " pcb_used=", lwip_stats.memp[MEMP_TCP_PCB]->used);
    p = put_uint(p, " seg_used=", lwip_stats.memp[MEMP_TCP_SEG]->used);
    p = put_uint(p, " heap_used=", (unsigned long)lwip_stats.mem.used);
    p = put_uint(p, " rst_sent=", lwip_stats.mib2.tcpoutrsts);
    p = put_uint(p, " requests=", (unsigned long)ss->requests);
    p = put_uint(p, " connections=", (unsigned long)ss->connections);
    p = put_uint(p, " active=", ss->active_connections);
    p = put_uint(p, " timeouts=", (unsigned long)ss->timeouts);
    p = put_uint(p, " idle_recycled=", (unsigned long)ss->idle_recycled);
    p = put_uint(p, " bad_requests=", (unsigned long)ss->bad_requests);
    const lg_loop_stats *ls = lg_loop_get_stats(loop);
    p = put_uint(p, " closes_at_once=", (unsigned long)ls->closes_at_once);
    p = put_uint(p, " lingering_closes=", (unsigned long)ls->lingering_closes);
    p = put_uint(p, " linger_timeouts=", (unsigned long)ls->linger_timeouts);
    p = put_uint(p, " port_sockets=", ps.sockets);
    p = put_uint(p, " rx_queued=", ps.rx_queued);
    p = put_uint(p, " peer_resets=", ps.resets);
    p = put_uint(p, " aborts=", ps.aborts);
    p = put_uint(p, " write_blocked=", ps.write_blocked);
    p = put_uint(p, " late_allocs=", device_late_allocs());
    p = put_uint(p, " rx_dropped=", lan9118_counters.rx_dropped);
    p = put(p, "\n");
    return (size_t)(p - buf);
}

static void on_index(lg_req *req, lg_res *res, void *user)
{
    (void)req, (void)user;
    lg_res_header(res, "Content-Type", "text/html; charset=utf-8");
    lg_res_send(res, 200, device_page, device_page_len);
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req, (void)user;
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send(res, 200, "Hello, World!", 13);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str body = lg_req_body(req);
    lg_res_header(res, "Content-Type", "application/octet-stream");
    lg_res_send(res, 200, body.ptr, body.len);
}

/* GET /big/:kb — kb KiB (at most 1024), made a piece at a time as the
 * network takes them (lg_res_stream): what back-pressure looks like here,
 * from lwIP's send buffer (TCP_SND_BUF) and heap up to the client. Byte i
 * is 'a' + i % 26. */
#define BIG_MAX 4
static struct big {
    uint32_t left, off;
    uint8_t used;
} bigs[BIG_MAX];

static void big_fill(lg_res *res, void *user)
{
    struct big *b = user;
    char piece[256];
    while (b->left) {
        uint32_t n = b->left < sizeof piece ? b->left : (uint32_t)sizeof piece;
        for (uint32_t i = 0; i < n; i++) piece[i] = (char)('a' + (b->off + i) % 26);
        int rc = lg_res_write(res, piece, n);
        if (rc == LG_ERR_LIMIT) return; /* called again when there is room */
        if (rc != LG_OK) break;         /* the client is gone */
        b->off += n;
        b->left -= n;
    }
    lg_res_end(res);
    b->used = 0;
}

static void on_big(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str kb = lg_req_param(req, "kb");
    uint32_t n = 0;
    for (size_t i = 0; i < kb.len && n <= 1024; i++) {
        if (kb.ptr[i] < '0' || kb.ptr[i] > '9') n = 1025;
        else n = n * 10 + (uint32_t)(kb.ptr[i] - '0');
    }
    if (!kb.len || n > 1024) {
        lg_res_send_str(res, 400, "GET /big/KB, KB up to 1024\n");
        return;
    }
    struct big *b = NULL;
    for (int i = 0; i < BIG_MAX && !b; i++)
        if (!bigs[i].used) b = &bigs[i];
    if (!b) {
        lg_res_send_str(res, 503, "busy\n");
        return;
    }
    b->used = 1;
    b->left = n * 1024;
    b->off = 0;
    char len[12];
    len[put_uint(len, "", b->left) - len] = 0;
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_header(res, "Content-Length", len);
    if (lg_res_stream(res, 200, big_fill, b) != LG_OK) b->used = 0;
}

static void on_stats(lg_req *req, lg_res *res, void *user)
{
    (void)req, (void)user;
    char line[600];
    size_t n = stats_line(line);
    board_putn(line, n);
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_header(res, "Cache-Control", "no-store");
    lg_res_send(res, 200, line, n);
}

/* --- the naive server: answers, then tcp_close with the request unread ---
 * (closed from the loop, not from inside lwIP's callback) */

#define NAIVE_MAX 4
static struct tcp_pcb *naive_closing[NAIVE_MAX];

static void naive_forget(struct tcp_pcb *pcb)
{
    for (int i = 0; i < NAIVE_MAX; i++)
        if (naive_closing[i] == pcb) naive_closing[i] = NULL;
}

static void naive_err(void *arg, err_t err)
{
    (void)err;
    naive_forget(arg); /* freed by lwIP already */
}

static err_t naive_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n";
    (void)arg, (void)err;
    if (p) pbuf_free(p); /* dropped, and never handed back with tcp_recved */
    for (int i = 0; i < NAIVE_MAX; i++)
        if (naive_closing[i] == pcb) return ERR_OK; /* answered already */
    if (p) {
        tcp_write(pcb, ok, sizeof ok - 1, 0);
        tcp_output(pcb);
    }
    for (int i = 0; i < NAIVE_MAX; i++) {
        if (naive_closing[i]) continue;
        naive_closing[i] = pcb;
        return ERR_OK;
    }
    tcp_abort(pcb); /* no room to remember it */
    return ERR_ABRT;
}

static void naive_close_now(void)
{
    for (int i = 0; i < NAIVE_MAX; i++) {
        struct tcp_pcb *pcb = naive_closing[i];
        if (!pcb) continue;
        naive_closing[i] = NULL;
        tcp_err(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_close(pcb); /* input unread: lwIP sends RST */
    }
}

static err_t naive_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb) return ERR_VAL;
    tcp_arg(pcb, pcb);
    tcp_err(pcb, naive_err);
    tcp_recv(pcb, naive_recv);
    return ERR_OK;
}

static void naive_listen(void)
{
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb) return;
    if (tcp_bind(pcb, IP4_ADDR_ANY, DEVICE_NAIVE_PORT) != ERR_OK) {
        tcp_close(pcb);
        return;
    }
    struct tcp_pcb *l = tcp_listen_with_backlog(pcb, 1);
    if (l) tcp_accept(l, naive_accept);
    else tcp_close(pcb);
}

/* --- the client (linger-client.elf): one fetch at boot --- */

#if defined(DEVICE_CLIENT)
/* 10.0.2.100 is an address of QEMU's user-mode network that
 * scripts/run-device.sh maps to 127.0.0.1:DEVICE_FETCH_PORT on the host
 * (guestfwd): nothing else is reachable. */
#ifndef DEVICE_FETCH_URL
#define DEVICE_FETCH_URL "http://10.0.2.100/device.txt"
#endif

static lg_client *cli;
static const lg_client_config cli_cfg = {
    .recv_buffer_bytes = 2048,
    .max_head_bytes = 1024,
    .max_headers = 16,
    .max_body_bytes = 1024,
    .connect_timeout_ms = 5000,
    .timeout_ms = 10000,
};

static void on_fetched(lg_response *res, void *user)
{
    (void)user;
    board_puts("fetch " DEVICE_FETCH_URL ": ");
    if (res->err) {
        board_puts("failed, ");
        board_puts(lg_strerror(res->err));
        board_puts(" at stage ");
        board_put_uint(res->stage);
    } else {
        board_puts("status ");
        board_put_uint(res->status);
        board_puts(", ");
        board_put_uint((unsigned long)res->body_bytes);
        board_puts(" bytes: ");
        board_putn(res->body.ptr, res->body.len);
    }
    board_puts("\nfetch: start-up arena ");
    board_put_uint(device_arena_used());
    board_puts(" of ");
    board_put_uint(DEVICE_ARENA);
    board_puts("\n");
    device_memory_started(); /* start-up ends with the boot's fetch */
}

static void fetch_at_boot(void)
{
    cli = lg_client_new(loop, &cli_cfg);
    if (!cli || !lg_fetch(cli, &(lg_request){ .url = DEVICE_FETCH_URL }, on_fetched, NULL)) {
        board_puts("fetch: could not start\n");
        device_memory_started();
    }
}
#endif

/* --- the superloop's hooks --- */

static void eth_input(void *user)
{
    (void)user;
    lan9118_poll(&eth);
    naive_close_now();
}

static void idle(void *user, uint32_t ms)
{
    (void)user, (void)ms; /* the tick (1 ms) or a frame ends the sleep */
    board_idle();
}

int main(void)
{
    board_init();
    board_puts("\nlinger device: mps2-an386 (Cortex-M4), lwIP " LWIP_VERSION_STRING
               " raw API, NO_SYS\n");
    lwip_init();
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    if (!netif_add(&eth, &ip, &mask, &gw, NULL, lan9118_netif_init, ethernet_input))
        board_panic("no LAN9118");
    netif_set_default(&eth);
    netif_set_up(&eth);

    lg_set_allocator(&device_allocator);
    lg_lwip_raw_set_hooks(&(lg_lwip_raw_hooks){ eth_input, idle, NULL });
    loop = lg_loop_new(NULL);
    size_t need = lg_server_memory_size(&cfg);
    cfg.memory = device_server_memory;
    cfg.memory_bytes = DEVICE_SERVER_MEMORY;
    srv = loop ? lg_server_new(loop, &cfg) : NULL;
    if (!srv) board_panic("no server (memory)");
    lg_route(srv, "GET", "/", on_index, NULL);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    lg_route(srv, "POST", "/echo", on_echo, NULL);
    lg_route(srv, "GET", "/stats", on_stats, NULL);
    lg_route(srv, "GET", "/big/:kb", on_big, NULL);
    int rc = lg_server_listen(srv, "0.0.0.0:80", 0);
    if (rc) board_panic(lg_strerror(rc));
    naive_listen();
#if defined(DEVICE_CLIENT)
    fetch_at_boot(); /* start-up ends when it has its answer */
#else
    device_memory_started(); /* from here on, nothing is allocated */
#endif

    board_puts("memory: server ");
    board_put_uint(need);
    board_puts(" of ");
    board_put_uint(DEVICE_SERVER_MEMORY);
    board_puts(" bytes, start-up arena ");
    board_put_uint(device_arena_used());
    board_puts(" of ");
    board_put_uint(DEVICE_ARENA);
    board_puts("\nlistening on http://10.0.2.15:80/ (naive server on port ");
    board_put_uint(DEVICE_NAIVE_PORT);
    board_puts(")\n");
    char line[600];
    board_putn(line, stats_line(line));
    return lg_loop_run(loop);
}
