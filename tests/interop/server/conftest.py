"""Fixtures for the server's interoperability tests.

The server under test is tests/interop/interop_server.c, started once per
test module on a free port (it prints the port). At the end it is stopped
with SIGTERM and must exit 0: a graceful shutdown, and under the sanitizer
build, no leaks.

Paths come from ctest (tests/interop/server/CMakeLists.txt):
LINGER_INTEROP_SERVER and LINGER_NAIVE_SERVER.
"""
import ctypes
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest


def _binary(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip(f"{var} is not set (run through ctest)")
    return path


def _die_with_parent():
    """In the child: SIGTERM when pytest dies (a ctest timeout kills it), so
    no server outlives its test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """A running server process on 127.0.0.1:port."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_die_with_parent)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().decode(errors="replace")
            raise RuntimeError(f"{argv[0]} did not start: {err}")
        self.port = int(line)
        self.host = "127.0.0.1"
        self.base = f"http://{self.host}:{self.port}"

    def url(self, path):
        return self.base + path

    def connect(self, timeout=10):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s

    def stats(self):
        """The server's counters (GET /stats on a connection of its own)."""
        with urllib.request.urlopen(self.url("/stats"), timeout=10) as r:
            return json.loads(r.read())

    def wait_idle(self, active=1, timeout=10.0):
        """Wait until only `active` connections are open (the one asking
        counts), and return the stats."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.stats()
            if st["active_connections"] <= active or time.monotonic() > deadline:
                return st
            time.sleep(0.05)

    def stop(self, timeout=20):
        """SIGTERM; returns (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")


def start_server(*args):
    return Server([_binary("LINGER_INTEROP_SERVER"), *args])


def start_naive():
    return Server([_binary("LINGER_NAIVE_SERVER")])


@pytest.fixture(scope="module")
def server():
    """The interop server with the defaults the tests expect
    (max_body_bytes 64 KiB)."""
    srv = start_server()
    yield srv
    code, err = srv.stop()
    assert code == 0, f"interop_server exited with {code}:\n{err}"


def pattern(n, start=0):
    """The bytes the server's /stream and /file produce: byte i is i % 251."""
    period = bytes(range(251))
    first = start % 251
    reps = (first + n) // 251 + 1
    return (period * reps)[first:first + n]
