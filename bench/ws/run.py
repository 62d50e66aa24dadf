#!/usr/bin/python3
"""WebSocket servers side by side, in one run: linger, libwebsockets and
Python's websockets. Usage: bench/ws/run.py [--json FILE]

Builds what it runs (build-bench, -O2 as Debian builds the peers), then,
for every scenario, starts each server pinned to one core (SERVER_CPU,
default 0) and drives it with bench/ws/ws_load.c pinned to another
(CLIENT_CPU, default 1):

  rt-1x16B        1 connection, 16-byte messages, one at a time: round trips
  rt-64x16B       64 connections, each one message at a time
  msg-1x16B       1 connection, 64 messages in flight
  msg-64x16B      64 connections, 16 in flight each
  msg-1x64KiB     1 connection, 64 KiB messages, 4 in flight
  msg-64x64KiB    64 connections, 64 KiB messages, 2 in flight each
  fanout-1000     1,000 connections; one sends 16-byte messages that the
                  server sends to all 1,000 (16 in flight): deliveries

Servers (each an echo; a message beginning with 'B' is broadcast in the
fan-out scenario): bench/ws/ws_server_linger.c (lg_ws_send,
lg_ws_broadcast), tests/interop/ws/lws_echo_server.c (libwebsockets 4.1 on
its default poll loop), bench/ws/ws_server_websockets.py (asyncio).

The main figure is messages per CPU second of the server: the messages
counted over the interval divided by the server process's utime + stime
over the same interval (/proc/PID/stat). Messages per second are printed
too, and the load generator's own CPU time, to show it was not the limit.
Per round every server runs every scenario in turn (the order rotating),
so that the machine's noise falls on all alike; the figures are medians
of ROUNDS rounds, and the ratios medians of the per-round ratios.

Environment: BUILD (build-bench), ROUNDS (5), DURATION (3 s), WARMUP
(0.5 s), SERVERS ("linger lws websockets"), SCENARIOS (all, by name),
SERVER_CPU (0), CLIENT_CPU (1), LINGER_B (another build's
bench_ws_linger: adds a row "linger-b", for before/after comparisons).
"""
import datetime
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build-bench"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))
DURATION = float(os.environ.get("DURATION", "3"))
WARMUP = float(os.environ.get("WARMUP", "0.5"))
SERVER_CPU = os.environ.get("SERVER_CPU", "0")
CLIENT_CPU = os.environ.get("CLIENT_CPU", "1")

# name: (connections, message bytes, in flight, broadcast)
SCENARIOS = {
    "rt-1x16B": (1, 16, 1, False),
    "rt-64x16B": (64, 16, 1, False),
    "msg-1x16B": (1, 16, 64, False),
    "msg-64x16B": (64, 16, 16, False),
    "msg-1x64KiB": (1, 65536, 4, False),
    "msg-64x64KiB": (64, 65536, 2, False),
    "fanout-1000": (1000, 16, 16, True),
}


def build():
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DLINGER_TESTS=OFF", "-DLINGER_EXAMPLES=OFF", "-DLINGER_BENCH=ON"],
                   check=True, stdout=subprocess.DEVNULL)
    targets = ["bench_ws_load", "bench_ws_linger"]
    have_lws = "LINGER_BENCH_LWS_FOUND:INTERNAL=1" in open(os.path.join(BUILD, "CMakeCache.txt")).read()
    if have_lws:
        targets.append("bench_ws_lws")
    subprocess.run(["cmake", "--build", BUILD, "-j", str(os.cpu_count() or 2), "--target"] + targets,
                   check=True, stdout=subprocess.DEVNULL)
    return have_lws


def server_argv(name):
    ws = os.path.join(BUILD, "bench", "ws")
    if name == "linger":
        return [os.path.join(ws, "bench_ws_linger")]
    if name == "linger-b":
        return [os.environ["LINGER_B"]]
    if name == "lws":
        return [os.path.join(ws, "bench_ws_lws")]
    if name == "websockets":
        return ["/usr/bin/python3", os.path.join(ROOT, "bench", "ws", "ws_server_websockets.py")]
    raise ValueError(name)


def more_files():
    # 1,000 connections on each side, and their listeners
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 8192), hard), hard))


def measure(server, scenario):
    conns, size, window, bcast = SCENARIOS[scenario]
    argv = ["taskset", "-c", SERVER_CPU] + server_argv(server) + (["--broadcast"] if bcast else [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=more_files)
    try:
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"{server} did not start: {line!r}")
        port = line.split()[-1]
        load = ["taskset", "-c", CLIENT_CPU, os.path.join(BUILD, "bench", "ws", "bench_ws_load"),
                "--port", port, "--conns", str(conns), "--size", str(size), "--window", str(window),
                "--seconds", str(DURATION), "--warmup", str(WARMUP), "--server-pid", str(proc.pid)]
        if bcast:
            load.append("--broadcast")
        r = subprocess.run(load, capture_output=True, text=True, timeout=DURATION + 120,
                           preexec_fn=more_files)
        if r.returncode != 0:
            raise RuntimeError(f"ws_load against {server}: {r.stderr.strip()}")
        return {k: float(v) for k, v in (f.split("=") for f in r.stdout.split())}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    have_lws = build()
    servers = os.environ.get("SERVERS", "linger lws websockets").split()
    if not have_lws and "lws" in servers:
        print("libwebsockets not found: its rows are left out")
        servers.remove("lws")
    if os.environ.get("LINGER_B"):
        servers.insert(1, "linger-b")
    scenarios = os.environ.get("SCENARIOS", " ".join(SCENARIOS)).split()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, commit {commit}, {ROUNDS} rounds of "
          f"{DURATION:g} s, server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU}; "
          f"load average at start {loadavg()}")
    runs = {}  # (scenario, server) -> [result per round]
    for rnd in range(ROUNDS):
        for scenario in scenarios:
            order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
            for server in order:
                try:
                    res = measure(server, scenario)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    print(f"  round {rnd + 1} {scenario} {server}: failed ({e})")
                    continue
                res["round"] = rnd
                runs.setdefault((scenario, server), []).append(res)
        print(f"  round {rnd + 1} of {ROUNDS} done, load average {loadavg()}", flush=True)
    print(f"load average at end {loadavg()}\n")

    def med(scenario, server, key):
        v = [r[key] for r in runs.get((scenario, server), [])]
        return statistics.median(v) if v else None

    def ratio(scenario, a, b, key):
        ra = {r["round"]: r[key] for r in runs.get((scenario, a), [])}
        rb = {r["round"]: r[key] for r in runs.get((scenario, b), [])}
        v = [ra[k] / rb[k] for k in ra if k in rb and rb[k] > 0]
        return statistics.median(v) if v else None

    peers = [s for s in servers if s != "linger"]
    head = f"{'scenario':<14} {'server':<11} {'msgs/CPU s':>11} {'msgs/s':>9} {'server CPU':>10} {'load CPU':>9}"
    print("Messages per CPU second of the server (main figure), messages per second;\n"
          "medians; CPU: seconds of the interval the server / the load generator used")
    print(head)
    for scenario in scenarios:
        for server in servers:
            e = med(scenario, server, "msgs_per_cpu_s")
            if e is None:
                continue
            print(f"{scenario:<14} {server:<11} {e:>11.0f} {med(scenario, server, 'msgs_per_s'):>9.0f} "
                  f"{med(scenario, server, 'server_cpu_s') / DURATION:>9.0%} "
                  f"{med(scenario, server, 'load_cpu_s') / DURATION:>8.0%}")
    print("\nlinger / peer (medians of per-round ratios)")
    print(f"{'scenario':<14} " + " ".join(f"{'msgs/CPU s vs ' + p:>22} {'msgs/s vs ' + p:>20}" for p in peers))
    ratios = {}
    for scenario in scenarios:
        cells = []
        for p in peers:
            a = ratio(scenario, "linger", p, "msgs_per_cpu_s")
            b = ratio(scenario, "linger", p, "msgs_per_s")
            ratios[(scenario, p)] = (a, b)
            cells.append(f"{a:>22.2f} {b:>20.2f}" if a and b else f"{'-':>22} {'-':>20}")
        print(f"{scenario:<14} " + " ".join(cells))
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"runs": {f"{s}|{v}": r for (s, v), r in runs.items()},
                       "ratios": {f"{s}|{p}": r for (s, p), r in ratios.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
