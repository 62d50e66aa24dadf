"""Fixtures for the upload interop tests: `linger serve` (POST /upload) and
examples/ota.c, each started on a free port and stopped at the end.

Paths come from ctest (tests/interop/upload/CMakeLists.txt): LINGER_BIN
(the linger tool), LINGER_OTA (example_ota) and LINGER_WWW.
"""
import ctypes
import os
import re
import signal
import subprocess
import threading

import pytest


def _die_with_parent():
    """In the child: SIGKILL when the test's process dies (a ctest timeout),
    so that no server outlives its test."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Proc:
    """A server process that says its port on a line matching `pattern`."""

    def __init__(self, argv, pattern, stream="stderr"):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=_die_with_parent)
        self.lines = []
        self.port = None
        self._ready = threading.Event()
        self._pattern = re.compile(pattern)
        self._readers = [threading.Thread(target=self._read, args=(f,), daemon=True)
                         for f in (self.proc.stdout, self.proc.stderr)]
        for r in self._readers:
            r.start()
        if not self._ready.wait(10) or self.port is None:
            self.stop()
            raise RuntimeError(f"{argv[0]} did not start: " + "\n".join(self.lines))

    def _read(self, f):
        for line in f:
            self.lines.append(line.rstrip("\n"))
            m = self._pattern.search(line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return -1

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


def _path(var):
    p = os.environ.get(var)
    if not p or not os.path.exists(p):
        pytest.skip(f"{var} is not set (run through ctest)")
    return p


@pytest.fixture(scope="module")
def demo():
    s = Proc([_path("LINGER_BIN"), "serve", "--host", "127.0.0.1", "--port", "0", "--quiet",
              "--root", os.environ.get("LINGER_WWW", "www")],
             r"listening on http://127\.0\.0\.1:(\d+)/")
    yield s
    assert s.stop() == 0, "linger serve did not shut down cleanly:\n" + "\n".join(s.lines[-20:])


@pytest.fixture
def ota(tmp_path):
    s = Proc([_path("LINGER_OTA"), "0", str(tmp_path)], r"listening on (\d+)")
    s.dir = tmp_path
    yield s
    s.stop()
