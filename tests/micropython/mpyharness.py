"""Helpers for the MicroPython tests (tests/micropython/test_*.py).

They run MicroPython's unix port built with linger's module (`make
micropython`, scripts/micropython.sh; ctest's micropython_build test does it
first) against software nobody here wrote, unpacked by the same script from
../shared/third_party: the real Microdot and micropython-lib's aiohttp.

run.sh starts pytest in a private network namespace when it can (root):
then the kernel's TCP counters are the test's own, and say whether anybody
sent a reset (LINGER_NETNS=1).
"""
import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUILD = Path(os.environ.get("LINGER_MPY_BUILD", ROOT / "build-micropython"))
# LINGER_MPY_BIN: another build of the port (the portable backend's, say)
MP = Path(os.environ.get("LINGER_MPY_BIN", BUILD / "micropython/ports/unix/build-standard/micropython"))
LINGER_LIB = ROOT / "bindings/micropython/lib"
REAL_MICRODOT = BUILD / "microdot/src"
REAL_AIOHTTP = BUILD / "micropython/lib/micropython-lib/python-ecosys/aiohttp"

# Which packages a MicroPython process sees first on its path.
PATHS = {
    "linger": LINGER_LIB,  # linger's microdot and aiohttp
    "microdot": REAL_MICRODOT,  # the real Microdot
    "aiohttp": REAL_AIOHTTP,  # micropython-lib's aiohttp
}


def mpy_ready():
    if not MP.exists():
        pytest.skip(f"{MP} not built (make micropython)")


def _die_with_parent():
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def mpy_env(which):
    env = dict(os.environ)
    env["MICROPYPATH"] = f"{PATHS[which]}:.frozen"
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_mpy(which, script, *args, heap="64M", timeout=180):
    """Run a MicroPython script to its end; returns its stdout (it must
    exit 0)."""
    mpy_ready()
    p = subprocess.run(
        [str(MP), "-X", f"heapsize={heap}", str(script), *map(str, args)],
        env=mpy_env(which), cwd=str(HERE), capture_output=True, timeout=timeout,
        preexec_fn=_die_with_parent)
    if p.returncode != 0:
        raise AssertionError(f"{script} exited {p.returncode}:\n{p.stdout.decode()}\n{p.stderr.decode()}")
    return p.stdout.decode()


def run_json(which, script, *args, **kw):
    out = run_mpy(which, script, *args, **kw)
    return json.loads(out.strip().splitlines()[-1])


class MpyServer:
    """A MicroPython application serving on 127.0.0.1:port; it must have
    GET /ping and GET /shutdown (which ends it)."""

    def __init__(self, which, app, heap="64M", args=(), wrap=()):
        mpy_ready()
        self.which = which
        self.port = free_port()
        self.proc = subprocess.Popen(
            [*wrap, str(MP), "-X", f"heapsize={heap}", str(app), str(self.port), *map(str, args)],
            env=mpy_env(which), cwd=str(HERE), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        deadline = time.time() + 20
        while True:
            try:
                if self.get("/ping")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.poll() is not None else ""
                self.kill()
                raise RuntimeError(f"{app} ({which}) did not start: {out}")
            time.sleep(0.05)

    def get(self, path, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def stop(self):
        """GET /shutdown; the process must then end by itself, status 0."""
        try:
            self.get("/shutdown")
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.which} server did not stop after /shutdown")
        out = self.proc.stdout.read().decode(errors="replace")
        assert rc == 0, f"{self.which} server exited {rc}:\n{out}"
        return out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def tcp_counters():
    """The kernel's reset counters (this network namespace's): OutRsts, and
    the resets sent for data left unread at close (TCPAbortOnClose) or
    arriving after it (TCPAbortOnData)."""
    out = {}
    for name in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = Path(name).read_text().splitlines()
        for head, vals in zip(lines[::2], lines[1::2]):
            keys = head.split()
            for k, v in zip(keys[1:], vals.split()[1:]):
                out[keys[0] + k] = int(v)
    return {
        "OutRsts": out["Tcp:OutRsts"],
        "AbortOnClose": out["TcpExt:TCPAbortOnClose"],
        "AbortOnData": out["TcpExt:TCPAbortOnData"],
    }


def private_netns():
    return os.environ.get("LINGER_NETNS") == "1"
