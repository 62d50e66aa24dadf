#!/bin/sh
# Run a MicroPython test (pytest) in a private network namespace when this
# process may make one (root): the kernel's TCP counters are then the
# test's own (LINGER_NETNS=1). Otherwise as it is.
#   run.sh PYTHON TEST.py
set -eu
py=$1
shift
if [ -z "${LINGER_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
  unshare -n true 2>/dev/null; then
  export LINGER_NETNS=1
  exec unshare -n sh -c 'ip link set lo up && exec "$0" -m pytest -q -p no:cacheprovider "$@"' "$py" "$@"
fi
exec "$py" -m pytest -q -p no:cacheprovider "$@"
