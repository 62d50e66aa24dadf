#!/usr/bin/env python3
"""Figures for docs/micropython.md: the same Microdot application on the real
Microdot and on linger's microdot package, MicroPython's unix port (built by
`make micropython`), the server pinned to one core and the same client
(wrk, on the other core) for both:

  - requests per second: "Hello, world!" and a small JSON answer, with
    keep-alive (wrk's default; the real Microdot closes every connection
    anyway) and with "Connection: close" on every request; and requests
    per second of the server's own CPU time, which a busy machine
    disturbs less;
  - heap per connection: a connection that has sent nothing yet, and a
    request in the application's hands (tests/micropython/apps/mem_app.py,
    gc.mem_alloc() after a collection).

Ratios are what to read: both servers are measured in the same run, on the
same (shared) machine. Usage: scripts/micropython_bench.py [SECONDS] [ROUNDS]
"""
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/micropython"))
from mpyharness import HERE, MpyServer  # noqa: E402
from test_memory import Probe, hold_all, mem  # noqa: E402

SECS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SERVER_CPU, CLIENT_CPU = "0", "1"
NAMES = {"microdot": "Microdot 2.6.2", "linger": "linger's microdot"}


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def wrk(srv, path, conns, close):
    argv = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{conns}", f"-d{SECS}s"]
    if close:
        argv += ["-H", "Connection: close"]
    cpu0 = cpu_seconds(srv.proc.pid)
    out = subprocess.run(argv + [f"http://127.0.0.1:{srv.port}{path}"], capture_output=True,
                         text=True, timeout=SECS + 60).stdout
    cpu = cpu_seconds(srv.proc.pid) - cpu0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, n / cpu if cpu else 0.0, errors + (int(bad.group(1)) if bad else 0)


def throughput():
    # The two servers take turns, round after round, so that whatever else
    # the machine does falls on both alike; requests per second of the
    # server's own CPU time (utime + stime) is the steadier figure.
    rows = []
    for path in ("/", "/json/10"):
        for conns in (1, 16):
            for close in (False, True):
                row = {"path": path, "conns": conns, "close": close}
                runs = {"microdot": [], "linger": []}
                for _ in range(ROUNDS):
                    for which in ("microdot", "linger"):
                        srv = MpyServer(which, HERE / "apps/bench_app.py", heap="8M",
                                        wrap=("taskset", "-c", SERVER_CPU))
                        try:
                            runs[which].append(wrk(srv, path, conns, close))
                        finally:
                            srv.stop()
                for which in runs:
                    row[which] = statistics.median(r[0] for r in runs[which])
                    row[which + "_cpu"] = statistics.median(r[1] for r in runs[which])
                    row[which + "_errors"] = sum(r[2] for r in runs[which])
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


class OneShot:
    """test_memory's Probe for a server that closes every connection (the
    real Microdot): a connection per question."""

    def __init__(self, srv):
        self.srv = srv

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()


def heap(which, n=32):
    srv = MpyServer(which, HERE / "apps/mem_app.py", heap="2M")
    socks = []
    # The real Microdot closes every connection: one probe per question there.
    probe = Probe(srv) if which == "linger" else None
    ask = probe or OneShot(srv)
    try:
        base = mem(ask)
        socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(n)]
        time.sleep(0.5)
        fresh = mem(ask)
        held = hold_all(ask, socks)
        for s in socks:
            s.close()
        socks = []
    finally:
        for s in socks:
            s.close()
        if probe:
            probe.close()
        srv.stop()
    return {"fresh": (fresh["alloc"] - base["alloc"]) / n,
            "held": (held["alloc"] - base["alloc"]) / n}


def main():
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("needs wrk and taskset (Debian: wrk, util-linux)")
    if os.cpu_count() < 2:
        sys.exit("needs two cores: one for the server, one for wrk")
    rows = throughput()
    mems = {w: heap(w) for w in ("microdot", "linger")}
    print()
    print(f"| answer | connections | client asks | {NAMES['microdot']} | {NAMES['linger']} | ratio | per CPU second: Microdot | linger | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ask = "`Connection: close`" if r["close"] else "keep-alive"
        errs = ""
        if r["microdot_errors"] or r["linger_errors"]:
            errs = f" (errors: {r['microdot_errors']} / {r['linger_errors']})"
        print(f"| `GET {r['path']}` | {r['conns']} | {ask} | {r['microdot']:.0f} | {r['linger']:.0f} | "
              f"{r['linger'] / r['microdot']:.1f}x{errs} | {r['microdot_cpu']:.0f} | {r['linger_cpu']:.0f} | "
              f"{r['linger_cpu'] / r['microdot_cpu']:.1f}x |")
    print()
    print(f"| heap (gc.mem_alloc) | {NAMES['microdot']} | {NAMES['linger']} |")
    print("|---|---|---|")
    print(f"| per connection that has sent nothing yet | {mems['microdot']['fresh']:.0f} B | {mems['linger']['fresh']:.0f} B |")
    print(f"| per connection with a request in the application's hands | {mems['microdot']['held']:.0f} B | {mems['linger']['held']:.0f} B |")


if __name__ == "__main__":
    main()
