#!/bin/sh
# The seams hold: the server, the client and the WebSocket connections
# (src/ws_conn.c ...) use the stream and the loop
# only through their public calls (include/linger.h), and the ports only
# through include/linger_port.h. A grep of their sources for the stream's
# and the loop's private fields, internal headers and internal functions
# must find nothing. (docs/architecture.md, "Seams".)
set -eu
cd "$(dirname "$0")/.."
status=0

# The stream's private fields, reached through a connection's embedded
# stream (c->s.x, c.s.x) or a stream pointer the server, the client or a
# WebSocket connection holds.
stream_fields='io|rbuf|rstart|rend|wq_head|wq_tail|read_req|discarded|deadline|timer|deferred|queued|error|state|flags|ending|cork|transport|config|cbs'
above='src/server*.c src/server_internal.h src/router.c src/static*.c src/client*.c src/ws_conn.c src/ws_server.c src/ws_client.c src/ws_post.c src/ws_internal.h'
if grep -nE "(\.|->)s\.($stream_fields)\b|\bs->($stream_fields)\b|loop->|stream_internal\.h|loop_internal\.h|\blg__(stream|loop|buf|io)_" $above; then
  echo "check_seams: the server or client reaches into the stream's or loop's insides (above)" >&2
  status=1
fi

# A transport (TLS) has its own state in s->transport, and nothing else of
# the stream's: both transports and the code they share (tls_common.c),
# whose own internal header and lg__tls_ calls are the only ones allowed
# (taken out of each line before the grep).
tls_fields=$(echo "$stream_fields" | sed 's/|transport//')
tls_found=$(for f in src/tls_*.c src/tls_internal.h; do
  sed -E 's/tls_internal\.h//g; s/\blg__tls_[a-z_]+\(//g' "$f" |
    grep -nE "(\.|->)s\.($tls_fields)\b|\bs->($tls_fields)\b|loop->|_internal\.h|\blg__[a-z_]+\(" |
    sed "s|^|$f:|"
done)
if [ -n "$tls_found" ]; then
  echo "$tls_found"
  echo "check_seams: the TLS transport reaches into the stream's or loop's insides (above)" >&2
  status=1
fi

ports='src/net_posix.c src/loop_epoll.c src/loop_poll.c ports/lwip/net_lwip.c ports/lwip_raw/net_lwip_raw.c tests/fault/fault_net.c src/test_client.c'
if grep -nE "loop_internal\.h|stream_internal\.h|server_internal\.h|->backend_data|->net_ctx\b|\blg__[a-z_]+\(" $ports; then
  echo "check_seams: a port uses more than include/linger_port.h (above)" >&2
  status=1
fi
[ $status -eq 0 ] && echo "check_seams: server, client and TLS use the stream and loop through public calls; ports through linger_port.h"
exit $status
