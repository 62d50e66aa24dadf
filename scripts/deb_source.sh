#!/bin/sh
# A Debian source package, fetched with `apt-get source PACKAGE` and
# unpacked into a build folder — never copied into the repository. The
# system's apt is asked first; when it has no deb-src entry, a private apt
# configuration in the build folder adds one for the system's own release
# and mirror (no root needed, nothing changed system-wide). The one copy of
# these steps (scripts/lwip_source.sh and mbedtls_source.sh use it).
#
# Usage: scripts/deb_source.sh PACKAGE MARKER OUT
#   MARKER  a file of the unpacked tree, relative to its top (how the tree
#           is recognised, and how a cached one is found again)
#   OUT     the build folder; the tree ends up as OUT/PACKAGE (a link)
# Prints the tree's path; fails with a message saying why when it cannot.
set -eu
pkg=$1
marker=$2
OUT=$3
TREE="$OUT/$pkg"

if [ -f "$TREE/$marker" ]; then
  echo "$TREE"
  exit 0
fi
command -v dpkg-source >/dev/null 2>&1 || {
  echo "$pkg: dpkg-source is missing (dpkg-dev; scripts/deps.sh check installs it)" >&2
  exit 1
}
mkdir -p "$OUT/$pkg-pkg"
OUT_ABS=$(cd "$OUT" && pwd)
log="$OUT_ABS/$pkg-source.log"
: >"$log"

fetch() { # apt-get source with the given extra options, into PACKAGE-pkg
  (cd "$OUT_ABS/$pkg-pkg" && apt-get "$@" source "$pkg") >>"$log" 2>&1
}

if ! fetch -q; then
  . /etc/os-release
  codename=${VERSION_CODENAME:-bookworm}
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p; s/^deb \(\[[^]]*\] \)*\(http[^ ]*debian\)\/* .*/\2/p' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -v security | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  apt_dir="$OUT_ABS/apt-$pkg"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb-src [signed-by=$keyring] $mirror $codename main" >"$apt_dir/sources.list"
  set -- -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  echo "$pkg: no deb-src entry in the system's apt sources; using $apt_dir/sources.list" \
    "($mirror $codename)" >&2
  if ! apt-get "$@" update >>"$log" 2>&1 || ! fetch "$@"; then
    echo "$pkg: could not fetch Debian's $pkg source package (offline, or no such package" \
      "in $codename?); see $log." >&2
    tail -3 "$log" >&2
    exit 1
  fi
fi
src=$(find "$OUT_ABS/$pkg-pkg" -maxdepth 4 -path "*/$marker" | head -1)
[ -n "$src" ] || { echo "$pkg: the package unpacked without $marker (see $log)" >&2; exit 1; }
top=${src%/"$marker"}
rm -f "$TREE"
ln -s "$top" "$TREE"
echo "$TREE"
