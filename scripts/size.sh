#!/bin/sh
# `make size`: cross-builds linger (the portable layers and the lwIP port)
# for Cortex-M0+, Cortex-M4 and RV32IMC in every published configuration,
# with -Werror, and prints what each costs:
#
#   flash  what the linker keeps of linger in a program that uses it
#          (ports/footprint/app_*.c, linked with --gc-sections): text, data
#          and bss of linger's own objects and its lwIP port, nothing else
#   RAM    bytes per connection on the 32-bit target, from sizeof
#          (ports/footprint/sizes.c, compiled for the target, read with nm)
#
# and, for reference, the sum of the objects per layer (Cortex-M4, full
# configuration), which is what a build without --gc-sections would pay.
# docs/footprint.md explains the figures; scripts/tls_size.sh adds TLS
# (docs/tls.md).
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
OUT=build-size
mkdir -p "$OUT"

. scripts/configs.sh

# target name, toolchain file, extra cmake args, compiler, flags
target_info() {
  case $1 in
    m0plus) echo "cmake/arm-none-eabi.cmake|-DLINGER_ARM_CPU=cortex-m0plus|arm-none-eabi|-mcpu=cortex-m0plus -mthumb" ;;
    m4) echo "cmake/arm-none-eabi.cmake|-DLINGER_ARM_CPU=cortex-m4|arm-none-eabi|-mcpu=cortex-m4 -mthumb" ;;
    rv32) echo "cmake/riscv32-elf.cmake||riscv64-unknown-elf|-march=rv32imc -mabi=ilp32 -isystem /usr/include/newlib" ;;
  esac
}
TARGETS="m0plus m4 rv32"

build() { # $1 target, $2 config name, $3 options
  info=$(target_info "$1")
  tc=${info%%|*}; rest=${info#*|}; extra=${rest%%|*}
  dir="$OUT/$1-$2"
  # shellcheck disable=SC2086
  cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$tc" $extra -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DLINGER_LWIP=ON -DLINGER_OPTIONS="$3" >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
  cmake --build "$dir" -j "$JOBS" >>"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
}

# Link a footprint program; prints "text data bss" of linger's part.
link_app() { # $1 target, $2 config name, $3 options, $4 program (server|client|both)
  info=$(target_info "$1")
  rest=${info#*|}; rest=${rest#*|}; prefix=${rest%%|*}; flags=${rest#*|}
  dir="$OUT/$1-$2"
  defs=$(echo "$3" | tr ';' '\n' | sed '/^$/d; s/^/-D/' | tr '\n' ' ')
  case $4 in
    server) apps="-DAPP_SERVER"; srcs="main app_server" ;;
    client) apps="-DAPP_CLIENT"; srcs="main app_client" ;;
    both) apps="-DAPP_SERVER -DAPP_CLIENT"; srcs="main app_server app_client" ;;
    ws) apps=""; srcs="app_ws" ;; # the WebSocket codec alone: its own main
    # the server with a WebSocket echo route, or with an event stream; the
    # client with a WebSocket connection
    server+ws) apps="-DAPP_SERVER -DAPP_WS"; srcs="main app_server app_ws_server" ;;
    server+sse) apps="-DAPP_SERVER -DAPP_SSE"; srcs="main app_server app_sse" ;;
    client+ws) apps="-DAPP_CLIENT -DAPP_WS_CLIENT"; srcs="main app_client app_ws_client" ;;
    mw-*) # the server program with one middleware on a route (app_server.c)
      apps="-DAPP_SERVER -DAPP_$(echo "${4#mw-}" | tr 'a-z-' 'A-Z_')"; srcs="main app_server" ;;
  esac
  objs=""
  for f in $srcs stubs; do
    # (the stubs' parameters are unused by design)
    # shellcheck disable=SC2086
    "$prefix-gcc" -std=c11 $flags -Os -ffunction-sections -fdata-sections -fno-builtin \
      -Wall -Wextra -Wno-unused-parameter -Werror -Iinclude $defs $apps \
      -c "ports/footprint/$f.c" -o "$dir/fp_$4_$f.o"
    objs="$objs $dir/fp_$4_$f.o"
  done
  # (no linker script: text and data share a segment, which binutils 2.39+
  # warns about for a program that is never loaded anyway)
  # shellcheck disable=SC2086
  "$prefix-gcc" $flags -nostdlib -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-e,main -Wl,-Map="$dir/fp_$4.map" \
    -o "$dir/fp_$4.elf" $objs "$dir/liblinger.a" -lgcc
  awk -f scripts/mapsize.awk "$dir/fp_$4.map" >"$dir/fp_$4.sizes"
  # linger's objects, and the compiler's runtime routines its code calls
  awk '$1 ~ /^lib(linger|gcc)\.a/ { t += $2; d += $3; b += $4 } END { printf "%d %d %d\n", t, d, b }' \
    "$dir/fp_$4.sizes"
}

echo "$CONFIGS" | while IFS=: read -r name opts; do
  for t in $TARGETS; do build "$t" "$name" "$opts"; done
done

printf '\nlinger in a linked program (--gc-sections, -Os): text data bss, bytes\n'
printf '%-11s %-14s %-20s %-20s %-20s\n' configuration program "Cortex-M0+" "Cortex-M4" "RV32IMC"
echo "$CONFIGS" | while IFS=: read -r name opts; do
  case $name in
    server) progs="server server+ws server+sse" ;;
    client) progs="client client+ws" ;;
    *server) progs=server ;;
    *client) progs=client ;;
    *) progs="server both" ;;
  esac
  for p in $progs; do
    label=$p; [ "$p" = both ] && label="server+client"
    line=$(printf '%-11s %-14s' "$name" "$label")
    for t in $TARGETS; do
      set -- $(link_app "$t" "$name" "$opts" "$p")
      line="$line $(printf '%6d %5d %5d   ' "$1" "$2" "$3")"
    done
    echo "$line"
  done
done
printf '(options: full = none; server = LG_NO_CLIENT; client = LG_NO_SERVER;\n min-* = the same and %s)\n' "$(echo "$MIN" | tr ';' ' ')"
# The WebSocket codec as a server uses it, without the loop or the stream
# (ports/footprint/app_ws.c): what it adds to a program, base64 included.
line=$(printf '%-11s %-14s' full "ws codec")
for t in $TARGETS; do
  set -- $(link_app "$t" full "" ws)
  line="$line $(printf '%6d %5d %5d   ' "$1" "$2" "$3")"
done
echo "$line"
# What the WebSocket layer and the event streams cost a program that uses
# them: the server (client) program with a WebSocket echo route (an event
# stream; a WebSocket connection) less the same program without, in the
# server (client) configuration. (The footprint programs were linked above:
# their sizes are read back from the maps.)
linked() { # $1 target, $2 config, $3 program: text + data of linger's part
  awk '$1 ~ /^lib(linger|gcc)\.a/ { t += $2 + $3 } END { print t + 0 }' "$OUT/$1-$2/fp_$3.sizes"
}
printf '\nWhat a program adds when it uses them (text + data, bytes):\n'
printf '%-40s %-10s %-10s %s\n' "" "Cortex-M0+" "Cortex-M4" "RV32IMC"
for pair in "WebSocket server (a /ws echo route)|server|server+ws|server" \
            "Server-Sent Events (a /events route)|server|server+sse|server" \
            "WebSocket client (lg_ws_connect)|client|client+ws|client"; do
  IFS='|' read -r label cfg with without <<EOF_PAIR
$pair
EOF_PAIR
  line=$(printf '%-40s' "$label")
  for t in $TARGETS; do
    line="$line $(printf '%-10d' $(($(linked "$t" "$cfg" "$with") - $(linked "$t" "$cfg" "$without"))))"
  done
  echo "$line"
done

# LG_NO_WEBSOCKET leaves all of it out: no WebSocket function or table is
# defined in a library built with it (the min-* configurations set it), and a
# program that does not use WebSocket links none of it even without it (the
# full configuration's server program). What the option still saves such a
# program is the error table's WebSocket entries (err.c with and without).
for t in $TARGETS; do
  for c in min-server min-both min-client; do
    left=$("$(target_info "$t" | cut -d'|' -f3)-nm" -A --defined-only "$OUT/$t-$c/liblinger.a" 2>/dev/null |
      awk '$NF ~ /(^|_)ws_|^lg_ws|sha1/' || true)
    if [ -n "$left" ]; then
      printf 'size.sh: LG_NO_WEBSOCKET left WebSocket code in %s-%s:\n%s\n' "$t" "$c" "$left" >&2
      exit 1
    fi
  done
  if grep -qE '(ws_[a-z0-9_]*|sha1)\.c\.obj' "$OUT/$t-full/fp_server.sizes"; then
    printf 'size.sh: the full server program links WebSocket objects it does not use (%s)\n' "$t" >&2
    exit 1
  fi
done
errsize() { # $1 = extra flags: text + data of err.c on Cortex-M4, full configuration
  # shellcheck disable=SC2086
  arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -Os -Iinclude -Isrc $1 -c src/err.c -o "$OUT/err$2.o"
  arm-none-eabi-size "$OUT/err$2.o" | awk 'NR == 2 { print $1 + $2 }'
}
e_with=$(errsize "" ws); e_without=$(errsize -DLG_NO_WEBSOCKET nows)
e_with_min=$(errsize -DLG_NO_ERROR_STRINGS ws-min); e_without_min=$(errsize "-DLG_NO_ERROR_STRINGS -DLG_NO_WEBSOCKET" nows-min)
printf 'LG_NO_WEBSOCKET: no WebSocket code in the min-* libraries (each target); none linked by the\n'
printf ' full server program, which does not use it; the error table, Cortex-M4: %d bytes less\n' \
  $((e_with - e_without))
printf ' (%d with LG_NO_ERROR_STRINGS)\n' $((e_with_min - e_without_min))

# What each middleware adds to the server program (full configuration,
# Cortex-M4): the server with it on a route, less the plain server. The
# client answers a 401 (Basic, Digest) in every program that fetches: its
# Digest part is measured as the client with and without LG_NO_DIGEST.
printf '\nmiddleware on Cortex-M4 (full configuration, -Os, --gc-sections): bytes added\n'
set -- $(link_app m4 full "" server)
base=$(($1 + $2))
for mw in basic bearer cors digest session test-client; do
  set -- $(link_app m4 full "" "mw-$mw")
  printf '  %-32s %6d\n' "server + $mw" $(($1 + $2 - base))
done
build m4 nodigest "LG_NO_DIGEST"
set -- $(link_app m4 full "" client)
with=$(($1 + $2))
set -- $(link_app m4 nodigest "LG_NO_DIGEST" client)
printf '  %-32s %6d\n' "client: Digest answers" $((with - $1 - $2))
for c in full min-server; do
  printf '%s: C library, lwIP and OS functions it calls: %s\n' "$c" \
    "$(awk -v kept=stubs.o -f scripts/mapsize.awk "$OUT/m4-$c/fp_server.map" | sort | tr '\n' ' ')"
done

# Link-time optimisation, for scale: the whole min-server program (linger,
# the application and the stand-ins) on Cortex-M4 with and without -flto.
# (With -flto objects merge, so linger's share cannot be told apart.)
lto_program() { # $1 = extra flags; prints the program's text + data
  d="$OUT/lto$1"; rm -rf "$d"; mkdir -p "$d"
  opts=$(config_options min-server | tr ';' '\n' | sed '/^$/d; s/^/-D/' | tr '\n' ' ')
  cf="-std=c11 -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -Iinclude -Isrc -Iports/stub/include"
  for f in src/*.c ports/lwip/net_lwip.c; do
    case $f in *net_posix.c|*loop_epoll.c|*tls_mbedtls.c|*tls_openssl.c) continue ;; esac  # (TLS: its own libraries)
    # shellcheck disable=SC2086
    arm-none-eabi-gcc $cf $1 $opts -DLG_DEFAULT_NET=lg_net_lwip -c "$f" -o "$d/$(basename "$f" .c).o"
  done
  # (the stand-ins without -flto: calls to memcpy are made after it)
  for f in main app_server stubs; do
    # shellcheck disable=SC2086
    arm-none-eabi-gcc $cf -fno-builtin $opts -DAPP_SERVER -c "ports/footprint/$f.c" -o "$d/app_$f.o"
  done
  # shellcheck disable=SC2086
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os $1 -nostdlib -Wl,--gc-sections -Wl,-e,main \
    -o "$d/p.elf" "$d"/*.o -lgcc
  arm-none-eabi-size "$d/p.elf" | awk 'NR == 2 { print $1 + $2 }'
}
printf 'min-server, whole program on Cortex-M4 (linger + application + stand-ins): %d bytes; with -flto: %d\n' \
  "$(lto_program "")" "$(lto_program -flto)"

# RAM on each 32-bit target: sizeof arithmetic (ports/footprint/sizes.c).
printf '\nRAM, bytes (sizeof on the target; ports/footprint/sizes.c says what is counted)\n'
printf '%-11s %-7s %10s %8s %-22s %-22s %s\n' configuration target connection request \
  "per connection: default" "small profile" "four-connection server (static memory): four / tight"
for cfg in full min-server; do
  for t in $TARGETS; do
    info=$(target_info "$t")
    rest=${info#*|}; rest=${rest#*|}; prefix=${rest%%|*}; flags=${rest#*|}
    opts=$(config_options "$cfg")
    defs=$(echo "$opts" | tr ';' '\n' | sed '/^$/d; s/^/-D/' | tr '\n' ' ')
    # shellcheck disable=SC2086
    "$prefix-gcc" -std=c11 $flags -Os -Wall -Wextra -Werror -Iinclude -Isrc -Iports/stub/include \
      $defs -c ports/footprint/sizes.c -o "$OUT/sizes-$t-$cfg.o"
    "$prefix-nm" -S -t d "$OUT/sizes-$t-$cfg.o" |
      awk -v t="$t" -v c="$cfg" '$4 ~ /^size_/ { sub(/^size_/, "", $4); v[$4] = $2 + 0 }
        END {
          state = v["conn"] + v["request"]
          printf "%-11s %-7s %10d %8d %5d + %5d = %5d  %4d + %4d = %4d  %d / %d (%d at start-up)\n",
            c, t, v["conn"], v["request"],
            state, 4096 + v["arrays_defaults"], state + 4096 + v["arrays_defaults"],
            state, 512 + v["arrays_small"], state + 512 + v["arrays_small"],
            v["total_four"], v["total_tight"], v["startup"] }'
  done
done
printf '(per connection: state (connection + one request) + buffers (receive buffer, header\n'
printf ' slices, response headers, scratch); four: 4 connections, 2 request slots, 6 buffers\n'
printf ' of 512; tight: 4 connections, 1 request slot, 4 buffers of 384)\n'

# For reference: the sum of the objects, per layer (what a link without
# --gc-sections would pay), Cortex-M4, full configuration.
layer_size() { # $1 label, rest = source basenames
  label=$1; shift
  objs=""
  for o in "$@"; do objs="$objs $(find "$OUT/m4-full" -name "$o.c.obj" | head -1)"; done
  # shellcheck disable=SC2086
  arm-none-eabi-size -t $objs | tail -1 |
    awk -v l="$label" '{ printf "  %-28s text %6d  data %4d  bss %4d\n", l, $1, $2, $3 }'
}
printf '\nSum of objects per layer, Cortex-M4 -Os, full configuration:\n'
layer_size "codec: parse + body" http1_chars http1_parse http1_body
layer_size "codec: lookups" http1_lookup
layer_size "codec: serialiser" http1_write
layer_size "codec: HTTP dates" http1_date
layer_size "error table" err
layer_size "url" url
layer_size "WebSocket codec" ws_codec ws_utf8 ws_handshake sha1
layer_size "multipart decoder" multipart
layer_size "JSON writer" json
layer_size "SHA-256, HMAC-SHA-256" sha256
layer_size "WebSocket connections" ws_conn ws_server ws_client ws_post
layer_size "server: event streams (SSE)" server_sse
layer_size "loop + stream + tcp" alloc addr loop loop_poll stream stream_read tcp resolve
layer_size "server core" server server_conn server_req server_res router
layer_size "server: static files" static static_http
layer_size "server: Basic/Bearer, CORS" server_auth server_cors
layer_size "server: Digest (+ MD5, shared)" server_digest digest md5
layer_size "server: signed sessions" server_session
layer_size "test client" test_client
layer_size "client: 401 answers" client_auth
layer_size "server: forms and uploads" server_form
layer_size "client" client client_pool client_send client_recv client_sync
layer_size "platform: lwIP port" net_lwip

# TLS: the transport cross-built against mbedTLS's headers, and the whole
# TLS server's flash with mbedTLS built minimal (Cortex-M4).
scripts/tls_size.sh
