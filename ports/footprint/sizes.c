/*
 * What the server costs in RAM on the target, read by scripts/size.sh from
 * the sizes of these arrays (nm -S): this file is compiled for the target,
 * never run. The figures are sizeof arithmetic over the same structures and
 * the same formula (LG__STATIC_BYTES) the server uses.
 *
 * Per connection, for two run-time profiles:
 *   defaults  lg_server_config left at zero
 *   small     the smallest working one: recv_buffer_bytes 512, max_headers
 *             12, response_header_bytes 128, scratch_bytes 64
 * state   = the connection (lg_conn: its stream, timer and peer) and one
 *           request (lg_exchange: parsed head, body reader, answer, route
 *           match); buffers = the receive buffer, the request's header
 *           slices, the handler's response headers, the scratch space.
 *
 * A whole four-connection server on static memory (lg_server_config.memory)
 * serving ports/footprint/app_server.c's two routes, with everything it
 * allocates at start-up (loop, poll table, timer heap, server, routes):
 *   four      max_conns 4, max_requests 2, buffers 6 (the defaults), small
 *   tight     max_conns 4, max_requests 1, buffers 4 of 384 bytes,
 *             max_headers 8, response_header_bytes 64, scratch_bytes 32
 * (Allocator headers not counted: a device hands these out from an arena.)
 */
#include <poll.h>

#include "server_internal.h"
#include "loop_internal.h" /* sizeof(lg_loop) */
#include "loop_poll_state.h"

#define SIZE(name, bytes) extern const char size_##name[bytes]; const char size_##name[bytes] = { 0 }

#define REQUEST(h, r, s) LG__EXCHANGE_BYTES(h, r, s)
#define ARRAYS(h, r, s) ((h) * sizeof(lg_header) + (r) + (s))

SIZE(conn, sizeof(lg_conn));
SIZE(request, sizeof(lg_exchange));
SIZE(arrays_defaults, ARRAYS(32, 1024, 1024));
SIZE(arrays_small, ARRAYS(12, 128, 64));

/* start-up allocations of a server on a loop with the poll backend */
#define ROUTES (2 * sizeof(route) + sizeof "/" + sizeof "/led" + sizeof "GET" + sizeof "POST" + \
                8 * sizeof(route *))
#define POLL_SLOTS (4 + LG_MAX_LISTENERS + 1)
#define STARTUP (sizeof(lg_loop) + sizeof(lg_poll_state) +                              \
                 POLL_SLOTS * (sizeof(struct pollfd) + sizeof(lg_io *)) +              \
                 (4 + LG_MAX_LISTENERS + 1) * sizeof(lg_timer *) + sizeof(lg_server) + ROUTES)

SIZE(startup, STARTUP);
SIZE(static_four, LG__STATIC_BYTES(4, 2, 6, REQUEST(12, 128, 64), 512));
SIZE(total_four, STARTUP + LG__STATIC_BYTES(4, 2, 6, REQUEST(12, 128, 64), 512));
SIZE(static_tight, LG__STATIC_BYTES(4, 1, 4, REQUEST(8, 64, 32), 384));
SIZE(total_tight, STARTUP + LG__STATIC_BYTES(4, 1, 4, REQUEST(8, 64, 32), 384));
