#!/bin/sh
# Installs a build into a temporary prefix and builds a program against it
# both ways a user would: CMake's find_package(linger) and pkg-config.
#   scripts/test-install.sh BUILD_DIR
set -eu
BUILD=$1
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
mkdir -p "$T/app"
cp "$SRC/examples/hello.c" "$T/app/"
cat > "$T/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(linger REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE linger::linger)
CM
cmake -S "$T/app" -B "$T/app/build" -DCMAKE_PREFIX_PATH="$T/prefix" >/dev/null
cmake --build "$T/app/build" >/dev/null
echo "find_package(linger): built"
PC="$T/prefix/lib/pkgconfig"
[ -d "$PC" ] || PC=$(dirname "$(find "$T/prefix" -name linger.pc | head -1)")
# pkg-config's prefix is the configured one; point it at the temp prefix.
CFLAGS=$(PKG_CONFIG_PATH="$PC" pkg-config --define-variable=prefix="$T/prefix" --cflags linger)
LIBS=$(PKG_CONFIG_PATH="$PC" pkg-config --define-variable=prefix="$T/prefix" --libs --static linger)
cc -std=c11 "$T/app/hello.c" $CFLAGS -o "$T/app/hello_pc" $LIBS -Wl,-Bstatic -llinger -Wl,-Bdynamic -lpthread 2>/dev/null ||
  cc -std=c11 "$T/app/hello.c" $CFLAGS -o "$T/app/hello_pc" $LIBS
echo "pkg-config linger: built"
