#!/bin/sh
# linger as somebody else's dependency, the three ways README.md gives:
# tests/consumer/ (a program that parses a request and makes one exchange
# between linger's server and client over 127.0.0.1) is built and run
#
#   subdir   with add_subdirectory(<this source tree>) in a fresh build:
#            linger must add its library and no other target or test,
#            leave the consumer's settings alone (tests/consumer/CMakeLists.txt
#            checks both) and build nothing but liblinger.a;
#   install  against `cmake --install BUILD_DIR` in a temporary prefix, with
#            find_package(linger), then with pkg-config; when BUILD_DIR has
#            the OpenSSL transport (LINGER_TLS_OPENSSL), a second program
#            linked with linger::tls_openssl makes an HTTPS exchange between
#            linger's TLS server and client (tests/consumer/consumer_tls.c,
#            certificates from tests/tls/make_certs.sh).
#
# Each time the program's own warnings (an unused variable under its -Wall,
# a #warning) must be reported and must not stop the build: were -Werror to
# reach the consumer (a directory setting, an interface option, the CMake
# package, linger.pc), the build would fail. The program must exit 0.
#
#   scripts/test-consumer.sh subdir|install BUILD_DIR [C_COMPILER]
set -eu
MODE=$1
BUILD=$2
CC=${3:-cc}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
JOBS=2

fail() { echo "consumer ($MODE): $*" >&2; exit 1; }

# $1 = what was built, $2 = its log: the build succeeded; its warnings must be there.
warnings_reported() {
  if ! grep -q "unused_on_purpose" "$2" || ! grep -q "must not become an error" "$2"; then
    cat "$2" >&2
    fail "$1: the consumer's own warnings were not reported"
  fi
}

# $1 = label, $2 = program
run() {
  "$2" >"$T/run.log" 2>&1 || { cat "$T/run.log" >&2; fail "$1: the program failed"; }
  echo "$1: built and ran ($(cat "$T/run.log"))"
}

# $1 = label, $2 = build dir, rest = configure arguments
cmake_consumer() {
  label=$1 dir=$2
  shift 2
  cmake -S "$SRC/tests/consumer" -B "$dir" -DCMAKE_C_COMPILER="$CC" "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; fail "$label: configure failed"; }
  cmake --build "$dir" -j "$JOBS" >"$dir.build.log" 2>&1 ||
    { cat "$dir.build.log" >&2; fail "$label: build failed (did -Werror reach the consumer?)"; }
  warnings_reported "$label" "$dir.build.log"
}

case $MODE in
subdir)
  cmake_consumer "add_subdirectory(linger)" "$T/sub" -DLINGER_SOURCE_DIR="$SRC"
  # Built in linger's part of the tree: liblinger.a and no program, no other library.
  built=$(find "$T/sub/linger" -type f \( -name '*.a' -o -name '*.so*' -o -perm -u+x \) | sort)
  [ "$built" = "$T/sub/linger/liblinger.a" ] ||
    fail "add_subdirectory(linger) built more than liblinger.a: $built"
  run "add_subdirectory(linger)" "$T/sub/consumer"
  ;;
install)
  cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
  tls_openssl=OFF
  grep -q '^LINGER_TLS_OPENSSL:BOOL=ON$' "$BUILD/CMakeCache.txt" && tls_openssl=ON
  cmake_consumer "find_package(linger)" "$T/pkg" -DCMAKE_PREFIX_PATH="$T/prefix" \
    -DCONSUMER_TLS_OPENSSL=$tls_openssl
  run "find_package(linger)" "$T/pkg/consumer"
  if [ $tls_openssl = ON ]; then
    "$SRC/tests/tls/make_certs.sh" "$T/certs" >/dev/null
    "$T/pkg/consumer_tls" "$T/certs" >"$T/run.log" 2>&1 ||
      { cat "$T/run.log" >&2; fail "find_package(linger), linger::tls_openssl: the program failed"; }
    echo "find_package(linger), linger::tls_openssl: built and ran ($(cat "$T/run.log"))"
  fi

  pc=$(find "$T/prefix" -name linger.pc | head -1)
  [ -n "$pc" ] || fail "no linger.pc installed"
  PCDIR=$(dirname "$pc")
  LIBDIR=$(dirname "$PCDIR")
  # pkg-config's prefix is the configured one; point it at the temp prefix.
  pc() { PKG_CONFIG_PATH="$PCDIR" pkg-config --define-variable=prefix="$T/prefix" "$@" linger; }
  # With the shared library installed, -llinger links it (as it would for a
  # user); without it, the static one and its private dependencies.
  if [ -e "$LIBDIR/liblinger.so" ]; then LIBS=$(pc --libs); else LIBS=$(pc --libs --static); fi
  # shellcheck disable=SC2046,SC2086
  "$CC" -Wall $(pc --cflags) "$SRC/tests/consumer/consumer.c" -o "$T/consumer_pc" $LIBS \
    >"$T/pc.build.log" 2>&1 ||
    { cat "$T/pc.build.log" >&2; fail "pkg-config linger: build failed (does linger.pc carry -Werror?)"; }
  warnings_reported "pkg-config linger" "$T/pc.build.log"
  LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
  run "pkg-config linger" "$T/consumer_pc"
  ;;
*)
  echo "usage: scripts/test-consumer.sh subdir|install BUILD_DIR [C_COMPILER]" >&2
  exit 2
  ;;
esac
