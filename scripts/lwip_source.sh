#!/bin/sh
# lwIP's sources for the firmware (make device): Debian's lwip source
# package, fetched with `apt-get source lwip` and unpacked into a build
# folder (build-device/ by default) — never copied into the repository.
#
# The system's apt is asked first. When it has no deb-src entry, a private
# apt configuration in the build folder adds one for the system's own
# release and mirror (no root needed, nothing changed system-wide) and
# fetches the package's source index, the .dsc and the tarballs from
# there. LWIP_DIR=<an lwIP 2.1 tree> skips all of it.
#
# Usage: scripts/lwip_source.sh [DIR]   (prints the tree's path)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build-device}
TREE="$OUT/lwip"

if [ -n "${LWIP_DIR:-}" ]; then
  [ -f "$LWIP_DIR/src/core/tcp.c" ] || { echo "lwip: LWIP_DIR=$LWIP_DIR has no src/core/tcp.c" >&2; exit 1; }
  echo "$LWIP_DIR"
  exit 0
fi
if [ -f "$TREE/src/core/tcp.c" ]; then
  echo "$TREE"
  exit 0
fi
command -v dpkg-source >/dev/null 2>&1 || {
  echo "lwip: dpkg-source is missing (dpkg-dev; scripts/deps.sh check installs it)" >&2
  exit 1
}

mkdir -p "$OUT/lwip-pkg"
OUT_ABS=$(cd "$OUT" && pwd)
log="$OUT_ABS/lwip-source.log"
: >"$log"

fetch() { # apt-get source with the given extra options, into lwip-pkg
  (cd "$OUT_ABS/lwip-pkg" && apt-get "$@" source lwip) >>"$log" 2>&1
}

if ! fetch -q; then
  # No deb-src in the system's sources: one of our own, for this release.
  . /etc/os-release
  codename=${VERSION_CODENAME:-bookworm}
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p; s/^deb \(\[[^]]*\] \)*\(http[^ ]*debian\)\/* .*/\2/p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -v security | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  apt_dir="$OUT_ABS/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb-src [signed-by=$keyring] $mirror $codename main" >"$apt_dir/sources.list"
  set -- -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  echo "lwip: no deb-src entry in the system's apt sources; using $apt_dir/sources.list" \
    "($mirror $codename)" >&2
  if ! apt-get "$@" update >>"$log" 2>&1 || ! fetch "$@"; then
    echo "lwip: could not fetch Debian's lwip source package (offline?); see $log." >&2
    echo "lwip: give an lwIP 2.1 tree with LWIP_DIR=... instead." >&2
    tail -3 "$log" >&2
    exit 1
  fi
fi
src=$(find "$OUT_ABS/lwip-pkg" -maxdepth 4 -path '*/src/core/tcp.c' | head -1)
[ -n "$src" ] || { echo "lwip: the package unpacked without src/core/tcp.c (see $log)" >&2; exit 1; }
rm -f "$TREE"
ln -s "$(dirname "$(dirname "$(dirname "$src")")")" "$TREE"
echo "$TREE"
