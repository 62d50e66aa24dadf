"""Fixtures for the WebSocket and SSE interoperability suites.

The server under test is `linger serve` (the demo: GET /ws is a WebSocket
echo with the defaults, 1 MiB messages; GET /events the SSE stream),
started once per module on a free port and stopped with SIGTERM at the
end, which must exit 0 (a graceful shutdown; no leaks under the sanitizer
build). The client under test is tests/interop/ws/ws_echo_client.c and
`linger ws`.

Paths come from ctest (tests/interop/ws/CMakeLists.txt): LINGER_BIN (the
linger tool), LINGER_WS_ECHO_CLIENT, LINGER_WWW.
"""
import ctypes
import os
import re
import signal
import subprocess
import threading

import pytest


def binary(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip(f"{var} is not set (run through ctest)")
    return path


def die_with_parent():
    """In the child: SIGTERM when pytest dies (a ctest timeout kills it)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Demo:
    """`linger serve --port 0` on 127.0.0.1; stderr collected."""

    def __init__(self):
        argv = [binary("LINGER_BIN"), "serve", "--host", "127.0.0.1", "--port", "0", "--quiet"]
        www = os.environ.get("LINGER_WWW")
        if www:
            argv += ["--root", www]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=die_with_parent)
        self.lines = []
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(10) or self.port is None:
            self.stop()
            raise RuntimeError("linger serve did not start: " + "\n".join(self.lines))
        self.host = "127.0.0.1"

    def url(self, path, scheme="ws"):
        return f"{scheme}://{self.host}:{self.port}{path}"

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode


@pytest.fixture(scope="module")
def demo():
    d = Demo()
    yield d
    code = d.stop()
    assert code == 0, f"linger serve exited with {code}:\n" + "\n".join(d.lines[-30:])
