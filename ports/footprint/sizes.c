/*
 * What a connection of the server costs in RAM on the target, read by
 * scripts/size.sh from the sizes of these arrays (nm -S): this file is
 * compiled for the target, never run. Two run-time profiles:
 *
 *   defaults       lg_server_config left at zero
 *   SIZES_SMALL    the smallest working one (docs/footprint.md):
 *                  recv_buffer_bytes 512, max_headers 12,
 *                  response_header_bytes 128, scratch_bytes 64
 *
 * state    the connection (lg_conn: stream, timer, peer) and its request
 *          (lg_exchange: parsed head, body reader, answer, route match)
 * buffers  the receive buffer, the request's header slices, the handler's
 *          response headers and the scratch space for decoded values
 */
#include "server_internal.h"

#if defined(SIZES_SMALL)
#define RECV 512
#define HEADERS 12
#define RESPONSE_HEADERS 128
#define SCRATCH 64
#define PROFILE 2
#else
#define RECV 4096
#define HEADERS 32
#define RESPONSE_HEADERS 1024
#define SCRATCH 1024
#define PROFILE 1
#endif

#define SIZE(name, bytes) extern const char size_##name[bytes]; const char size_##name[bytes] = { 0 }

SIZE(conn, sizeof(lg_conn));
SIZE(request, sizeof(lg_exchange));
SIZE(headers, HEADERS * sizeof(lg_header) + RESPONSE_HEADERS);
SIZE(scratch, SCRATCH);
SIZE(state, sizeof(lg_conn) + sizeof(lg_exchange));
SIZE(buffers, RECV + HEADERS * sizeof(lg_header) + RESPONSE_HEADERS + SCRATCH);
SIZE(profile, PROFILE);
