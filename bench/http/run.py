#!/usr/bin/python3
"""HTTP servers side by side: linger, nginx, libmicrohttpd and civetweb.

Called by bench/http/run.sh, which builds the programs first. Every server
answers GET /hello with "Hello, World!" (text/plain). Parts (PARTS picks
some; all by default, in this order):

  throughput  wrk against each server pinned to one core, wrk on another;
              per round every server gets every mode in turn, so that the
              machine's noise falls on all of them alike:
                keepalive   wrk -c CONNS, persistent connections
                close       the same with "Connection: close"
                pipelined   wrk -s pipeline.lua: DEPTH requests per write
              requests/s, and the server's CPU time per request (utime +
              stime of its processes, from /proc/PID/stat, over the run,
              divided by the requests wrk counted); ratios against nginx
              (the median of the per-round ratios).
  conns       keep-alive req/s against the number of connections
              (SWEEP_CONNS: 1 10 100 1000), same pinning.
  multicore   linger serve --workers N (N loops on N threads, SO_REUSEPORT)
              against nginx with worker_processes N (listen ... reuseport),
              N in WORKERS (1 2). N = 1: server on one core, wrk -t1 on the
              other, as above. N > 1: the servers may use every core and wrk
              -tN runs on the same cores: load and servers share them.
  latency     bench_latency (bench/latency/): an open-loop generator at a
              fixed request rate (LAT_RATES), latency from each request's
              intended send time; p50/p90/p99/p99.9 per server.
  memory      a fresh instance of each server, IDLE_N keep-alive
              connections that each made one request and then stay quiet
              (bytes of resident memory per connection), and IDLE_N
              requests in progress (a head begun, not ended).

Every measurement of every round is written to RESULTS/http.json (default
build-bench/results) for bench/report.py; the tables printed here are the
same medians. A server that fails to start, or a wrk run that fails, drops
that figure and never the run.

Servers: linger, nginx, mhd (libmicrohttpd), civetweb, and two floors
(bench/http/floor.c, a C program on epoll that parses nothing and answers
canned bytes): "floor" closes a "Connection: close" connection at once,
"floor-linger" as a careful server must when input may still come (FIN,
wait for the client's EOF, close).

Environment: BUILD (build-bench), RESULTS, PARTS, ROUNDS (5), DURATION
(5 s), CONNS (64), DEPTH (16), SERVERS ("linger nginx mhd civetweb floor
floor-linger"), MODES
("keepalive close pipelined"), IDLE_N (10000; 0 skips the memory part),
SERVER_CPU (last core), CLIENT_CPU (the one before it), LINGER_B (another
build's `linger` binary: adds a row "linger-b", for before/after
comparisons), DIAG (1: the kernel's TCP reset counters after every wrk run;
they are printed anyway after a run in which wrk counted errors);
conns: SWEEP_CONNS ("1 10 100 1000"), SWEEP_SERVERS ("linger nginx mhd"),
SWEEP_ROUNDS (3), SWEEP_DURATION (3 s);
multicore: WORKERS ("1 2"), MC_SERVERS ("linger nginx"), MC_MODES
("keepalive pipelined"), MC_CONNS (128), MC_ROUNDS (3), MC_DURATION (5 s);
latency: LAT_RATES ("10000 50000 100000"), LAT_SERVERS ("linger nginx"),
LAT_ROUNDS (3), LAT_DURATION (5 s), LAT_CONNS (50), LAT_WARMUP (1 s),
LAT_CHRT ("chrt -f 10" as root: the generator's priority; "" for none).
"""
import datetime
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "bench", "http")
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build-bench"))
RESULTS = os.path.join(ROOT, os.environ.get("RESULTS", os.path.join("build-bench", "results")))
ALL_PARTS = ["throughput", "conns", "multicore", "latency", "memory"]
PARTS = os.environ.get("PARTS", " ".join(ALL_PARTS)).split()


def env_int(name, default):
    return int(os.environ.get(name, str(default)))


def env_list(name, default):
    return os.environ.get(name, default).split()


ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else env_int("ROUNDS", 5)
DURATION = env_int("DURATION", 5)
CONNS = env_int("CONNS", 64)
DEPTH = env_int("DEPTH", 16)
SERVERS = env_list("SERVERS", "linger nginx mhd civetweb floor floor-linger")
MODES = env_list("MODES", "keepalive close pipelined")
IDLE_N = env_int("IDLE_N", 10000)
SWEEP_CONNS = [int(x) for x in env_list("SWEEP_CONNS", "1 10 100 1000")]
SWEEP_SERVERS = env_list("SWEEP_SERVERS", "linger nginx mhd")
SWEEP_ROUNDS = env_int("SWEEP_ROUNDS", 3)
SWEEP_DURATION = env_int("SWEEP_DURATION", 3)
WORKERS = [int(x) for x in env_list("WORKERS", "1 2")]
MC_SERVERS = env_list("MC_SERVERS", "linger nginx")
MC_MODES = env_list("MC_MODES", "keepalive pipelined")
MC_CONNS = env_int("MC_CONNS", 128)
MC_ROUNDS = env_int("MC_ROUNDS", 3)
MC_DURATION = env_int("MC_DURATION", 5)
LAT_RATES = [int(x) for x in env_list("LAT_RATES", "10000 50000 100000")]
LAT_SERVERS = env_list("LAT_SERVERS", "linger nginx")
LAT_ROUNDS = env_int("LAT_ROUNDS", 3)
LAT_DURATION = env_int("LAT_DURATION", 5)
LAT_CONNS = env_int("LAT_CONNS", 50)
LAT_WARMUP = float(os.environ.get("LAT_WARMUP", "1"))
# The generator runs with a real-time priority when it may (root): on a
# shared machine it would otherwise wake up milliseconds late whenever
# another program holds its core, and its lateness would pass for the
# servers' latency. It sleeps between requests, so it takes little from
# anyone. The servers keep the normal priority (a real-time server starves
# the kernel's network softirq thread on its core, which made it worse).
LAT_CHRT = os.environ.get("LAT_CHRT", "chrt -f 10" if os.geteuid() == 0 and shutil.which("chrt")
                          else "").split()
NCPU = os.cpu_count() or 1
SERVER_CPU = env_int("SERVER_CPU", NCPU - 1)
CLIENT_CPU = env_int("CLIENT_CPU", max(NCPU - 2, 0))
ALL_CPUS = "0-%d" % (NCPU - 1)
TICK = os.sysconf("SC_CLK_TCK")
HELLO = b"Hello, World!"

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile {nofile};
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{
    worker_connections {conns};
    use epoll;
}}
http {{
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/body;
    server {{
        listen 127.0.0.1:{port} backlog=511{reuseport};
        location = /hello {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
    }}
}}
"""


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile():
    want = max(IDLE_N + 1024, max(SWEEP_CONNS + [0]) + 1024, 4096)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def in_new_group():
    raise_nofile()
    os.setsid()


class Server:
    """One peer: how to start it and which processes to measure."""

    def __init__(self, name, workers=1, cpus=None):
        self.name = name
        self.workers = workers
        self.cpus = str(SERVER_CPU) if cpus is None else cpus
        self.proc = None
        self.tmp = None
        self.port = 0

    def command(self, max_conns):
        if self.name in ("linger", "linger-b"):
            binary = os.path.join(BUILD, "tools", "linger")
            if self.name == "linger-b":
                binary = os.path.abspath(os.environ["LINGER_B"])
            cmd = [binary, "serve", "--quiet", "--host", "127.0.0.1", "--port", str(self.port),
                   "--max-conns", str(max_conns)]
            if self.workers > 1:
                cmd += ["--workers", str(self.workers)]
            return cmd
        if self.name == "nginx":
            self.tmp = tempfile.mkdtemp(prefix="linger-bench-nginx-")
            with open(os.path.join(self.tmp, "nginx.conf"), "w") as f:
                f.write(NGINX_CONF.format(dir=self.tmp, port=self.port, conns=max_conns + 64,
                                          nofile=max_conns + 256, workers=self.workers,
                                          reuseport=" reuseport" if self.workers > 1 else ""))
            return ["/usr/sbin/nginx", "-p", self.tmp, "-c", os.path.join(self.tmp, "nginx.conf")]
        if self.name in ("floor", "floor-linger"):
            cmd = [os.path.join(BUILD, "bench", "http", "bench_floor"), str(self.port)]
            return cmd + ["--linger"] if self.name == "floor-linger" else cmd
        if self.name == "mhd":
            return [os.path.join(BUILD, "bench", "http", "bench_hello_mhd"), str(self.port),
                    str(max_conns)]
        if self.name == "civetweb":
            # Threads: one per connection it serves at a time.
            return [os.path.join(BUILD, "bench", "http", "bench_hello_civetweb"),
                    str(self.port), str(max(2 * CONNS, 64))]
        raise ValueError(self.name)

    def available(self):
        cmd = self.command(16)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        return os.access(cmd[0], os.X_OK)

    def start(self, max_conns=1024):
        self.port = free_port()
        cmd = ["taskset", "-c", self.cpus] + self.command(max_conns)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=in_new_group)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError("%s exited at start (%s)" % (self.name, " ".join(cmd)))
            try:
                if http_get(self.port) == HELLO:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s does not answer GET /hello on port %d" % (self.name, self.port))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def pids(self):
        """The server's process and its children (nginx's workers)."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for tid in os.listdir("/proc/%d/task" % pid):
                    with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                        todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
        return out

    def cpu_seconds(self):
        """utime + stime of the processes, every thread included."""
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except OSError:
                pass
        return total / TICK

    def rss_kib(self):
        """Resident memory, counted page by page (smaps_rollup: VmRSS comes
        from per-CPU counters that may lag by hundreds of kilobytes)."""
        total = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Rss:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total


def start_all(servers, **kw):
    """Starts each server; returns those that answer (the others are named
    on stderr and left out of this part)."""
    up = []
    for s in servers:
        try:
            s.start(**kw)
            up.append(s)
        except (RuntimeError, OSError) as e:
            log("  %s: %s; left out of this part" % (s.name, e))
    return up


def http_get(port, conn=None):
    s = conn or socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        while len(body) < n:
            chunk = s.recv(4096)
            if not chunk:
                break
            body += chunk
        return body if head.startswith(b"HTTP/1.1 200") else None
    finally:
        if conn is None:
            s.close()


def kernel_counters():
    """The kernel's TCP reset and abort counters since the last call (nstat
    keeps the previous values), as "name=delta ..."; "" without nstat. When
    wrk counts errors, these say whether a side sent RST meanwhile."""
    try:
        out = subprocess.run(["nstat", "-z"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    keep = ("TcpOutRsts", "TcpEstabResets", "TcpExtTCPAbortOnData", "TcpExtTCPAbortOnClose",
            "TcpExtTCPAbortOnTimeout", "TcpExtTCPAbortOnMemory", "TcpExtListenOverflows",
            "TcpExtListenDrops", "TcpExtTCPTimeWaitOverflow")
    return " ".join("%s=%s" % (f[0], f[1]) for f in (l.split() for l in out.splitlines())
                    if len(f) >= 2 and f[0] in keep and f[1] != "0")


def wrk(port, mode, seconds, conns=None, threads=1, cpus=None):
    """One wrk run; (requests, req/s, errors, seconds), or None if wrk failed."""
    conns = conns or CONNS
    cpus = str(CLIENT_CPU) if cpus is None else cpus
    cmd = ["taskset", "-c", cpus, "wrk", "-t%d" % threads, "-c%d" % conns,
           "-d%ds" % seconds, "--timeout", "5s"]
    if mode == "close":
        cmd += ["-H", "Connection: close"]
    if mode == "pipelined":
        cmd += ["-s", os.path.join(HERE, "pipeline.lua")]
    cmd.append("http://127.0.0.1:%d/hello" % port)
    if mode == "pipelined":
        cmd += ["--", str(DEPTH)]
    kernel_counters()  # from here on
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30,
                           preexec_fn=raise_nofile)
    except subprocess.TimeoutExpired:
        log("  wrk against port %d, %s: did not end" % (port, mode))
        return None
    out = p.stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    r = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if p.returncode != 0 or not m or not r:
        log("  wrk against port %d, %s: exit %d %s" % (port, mode, p.returncode,
                                                      p.stderr.strip()[:200]))
        return None
    requests = int(m.group(1))
    elapsed = float(m.group(2)) * (60 if m.group(3) == "m" else 1)
    rps = float(r.group(1))
    errors = 0
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errors += sum(int(x) for x in e.groups())
    e2 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if e2:
        errors += int(e2.group(1))
    if errors or os.environ.get("DIAG"):
        log("  wrk against port %d, %s: %s; the kernel meanwhile: %s" % (port, mode, "; ".join(
            x.group(0) for x in (e, e2) if x), kernel_counters() or "no resets"))
    return requests, rps, errors, elapsed


def measure(server, mode, seconds=None, **kw):
    c0, t0 = server.cpu_seconds(), time.time()
    w = wrk(server.port, mode, seconds or DURATION, **kw)
    c1, t1 = server.cpu_seconds(), time.time()
    if w is None:
        return None
    requests, rps, errors, _ = w
    cpu = c1 - c0
    return {"rps": rps, "us": cpu * 1e6 / max(requests, 1), "util": cpu / (t1 - t0),
            "errors": errors}


def fmt_ratio(values):
    return "%.2fx" % statistics.median(values) if values else "-"


def med(values, default=float("nan")):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else default


# --------------------------------------------------------------------------
# Results, kept as they come: a part that fails leaves the others' figures.
# --------------------------------------------------------------------------

RESULT = {}


def save():
    os.makedirs(RESULTS, exist_ok=True)
    tmp = os.path.join(RESULTS, "http.json.tmp")
    with open(tmp, "w") as f:
        json.dump(RESULT, f, indent=1)
    os.replace(tmp, os.path.join(RESULTS, "http.json"))


def versions():
    out = {}

    def run(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (p.stdout + p.stderr).strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    m = re.search(r"nginx/([\w.]+)", run(["/usr/sbin/nginx", "-v"]))
    if m:
        out["nginx"] = m.group(1)
    m = re.search(r"wrk (?:debian/)?([\d.]+)", run(["wrk", "-v"]))
    if m:
        out["wrk"] = m.group(1)
    for name, pkg in (("mhd", "libmicrohttpd12"), ("civetweb", "libcivetweb1")):
        v = run(["dpkg-query", "-W", "-f", "${Version}", pkg])
        if v and "no packages" not in v:
            out[name] = v
    return out


# --------------------------------------------------------------------------
# Parts
# --------------------------------------------------------------------------


def throughput(servers):
    results = {(s.name, m): [] for s in servers for m in MODES}
    servers = start_all(servers)
    samples = []
    RESULT["throughput"] = {"rounds": ROUNDS, "duration_s": DURATION, "conns": CONNS,
                            "depth": DEPTH, "server_cpu": SERVER_CPU, "client_cpu": CLIENT_CPU,
                            "modes": MODES, "servers": [s.name for s in servers],
                            "samples": samples}
    try:
        for s in servers:  # warm-up: caches, pools, the kernel's socket memory
            for m in MODES:
                wrk(s.port, m, 1)
        for r in range(ROUNDS):
            for m in MODES:
                for s in servers:
                    x = measure(s, m)
                    results[(s.name, m)].append(x)
                    if x:
                        samples.append(dict(x, server=s.name, mode=m, round=r))
            save()
            log("  throughput: round %d/%d done" % (r + 1, ROUNDS))
    finally:
        for s in servers:
            s.stop()

    names = [s.name for s in servers]
    print()
    print("Throughput: %d rounds of %d s, wrk -t1 -c%d (pipelined: %d deep), server on cpu %d, "
          "wrk on cpu %d" % (ROUNDS, DURATION, CONNS, DEPTH, SERVER_CPU, CLIENT_CPU))
    print("CPU us/req: the server's utime+stime per request; cpu%: its share of one core.")
    print("Ratios: median of the per-round ratios to nginx (req/s: higher is better; CPU: lower).")
    print()
    hdr = "%-10s %-9s %11s %10s %6s %8s %10s %7s" % (
        "mode", "server", "req/s", "us/req", "cpu%", "errors", "req/s/ngx", "cpu/ngx")
    print(hdr)
    print("-" * len(hdr))

    def pairs(n, m):
        return [(x, y) for x, y in zip(results[(n, m)], results[("nginx", m)]) if x and y]
    for m in MODES:
        for n in names:
            rs = [x for x in results[(n, m)] if x]
            if not rs:
                print("%-10s %-9s %11s" % (m, n, "(failed)"))
                continue
            rr, cr = [], []
            if "nginx" in names:
                for x, y in pairs(n, m):
                    rr.append(x["rps"] / y["rps"])
                    cr.append(x["us"] / y["us"])
            print("%-10s %-9s %11.0f %10.2f %5.0f%% %8d %10s %7s" % (
                m, n, med(x["rps"] for x in rs), med(x["us"] for x in rs),
                100 * med(x["util"] for x in rs), sum(x["errors"] for x in rs),
                fmt_ratio(rr), fmt_ratio(cr)))
        print()
    for floor in ("floor", "floor-linger"):
        if "linger" in names and floor in names:
            print("linger's CPU per request against %s (%s): %s" % (
                floor, "the least an epoll server can do" if floor == "floor"
                else "the same, closing as linger did before: FIN, wait for EOF",
                ", ".join("%s %s" % (m, fmt_ratio([x["us"] / y["us"] for x, y in zip(
                    results[("linger", m)], results[(floor, m)]) if x and y])) for m in MODES)))
    if "linger" in names and "nginx" in names:
        print("Targets for linger (against nginx in the same run):")
        for m in MODES:
            p = pairs("linger", m)
            if not p:
                continue
            want = 1.25 if m == "pipelined" else 1.0
            rr = med(x["rps"] / y["rps"] for x, y in p)
            cr = med(x["us"] / y["us"] for x, y in p)
            print("  %-10s req/s %.2fx (want >= %.2fx: %s)   CPU/req %.2fx (want <= 0.80x: %s)" % (
                m, rr, want, "met" if rr >= want else "NOT met", cr,
                "met" if cr <= 0.8 else "NOT met"))
        print()


def conns_sweep(servers):
    """Keep-alive req/s against the number of connections."""
    top = max(SWEEP_CONNS)
    servers = start_all(servers, max_conns=top + 64)
    samples = []
    RESULT["conns"] = {"rounds": SWEEP_ROUNDS, "duration_s": SWEEP_DURATION,
                       "levels": SWEEP_CONNS, "servers": [s.name for s in servers],
                       "samples": samples}
    try:
        for s in servers:
            wrk(s.port, "keepalive", 1, conns=top)
        for r in range(SWEEP_ROUNDS):
            for c in SWEEP_CONNS:
                for s in servers:
                    x = measure(s, "keepalive", SWEEP_DURATION, conns=c)
                    if x:
                        samples.append(dict(x, server=s.name, conns=c, round=r))
            save()
            log("  conns: round %d/%d done" % (r + 1, SWEEP_ROUNDS))
    finally:
        for s in servers:
            s.stop()
    print("Keep-alive req/s against connections: %d rounds of %d s, wrk -t1, server on cpu %d, "
          "wrk on cpu %d" % (SWEEP_ROUNDS, SWEEP_DURATION, SERVER_CPU, CLIENT_CPU))
    print()
    print("%-9s" % "server" + "".join("%12s" % ("c=%d" % c) for c in SWEEP_CONNS))
    for s in servers:
        row = "%-9s" % s.name
        for c in SWEEP_CONNS:
            v = med(x["rps"] for x in samples if x["server"] == s.name and x["conns"] == c)
            row += "%12.0f" % v
        print(row)
    print()


def multicore(names):
    """N loops (linger --workers N) against nginx with N workers."""
    samples = []
    RESULT["multicore"] = {"rounds": MC_ROUNDS, "duration_s": MC_DURATION, "conns": MC_CONNS,
                           "workers": WORKERS, "modes": MC_MODES, "ncpu": NCPU,
                           "samples": samples}
    for n in WORKERS:
        if n == 1:
            srv_cpus, cli_cpus, threads = str(SERVER_CPU), str(CLIENT_CPU), 1
        else:
            srv_cpus, cli_cpus, threads = ALL_CPUS, ALL_CPUS, n
        servers = start_all([Server(x, workers=n, cpus=srv_cpus) for x in names],
                            max_conns=MC_CONNS + 64)
        try:
            for s in servers:
                for m in MC_MODES:
                    wrk(s.port, m, 1, conns=MC_CONNS, threads=threads, cpus=cli_cpus)
            for r in range(MC_ROUNDS):
                for m in MC_MODES:
                    for s in servers:
                        x = measure(s, m, MC_DURATION, conns=MC_CONNS, threads=threads,
                                    cpus=cli_cpus)
                        if x:
                            samples.append(dict(x, server=s.name, workers=n, mode=m, round=r,
                                                server_cpus=srv_cpus, client_cpus=cli_cpus))
                save()
                log("  multicore: %d worker(s), round %d/%d done" % (n, r + 1, MC_ROUNDS))
        finally:
            for s in servers:
                s.stop()
    print("Multi-core: linger serve --workers N (SO_REUSEPORT) against nginx worker_processes N; "
          "%d rounds of %d s, wrk -tN -c%d" % (MC_ROUNDS, MC_DURATION, MC_CONNS))
    print()
    print("%-10s %-8s %8s %11s %10s" % ("mode", "server", "workers", "req/s", "us/req"))
    for m in MC_MODES:
        for n in WORKERS:
            for x in names:
                rs = [y for y in samples if y["server"] == x and y["workers"] == n and
                      y["mode"] == m]
                if rs:
                    print("%-10s %-8s %8d %11.0f %10.2f" % (m, x, n, med(y["rps"] for y in rs),
                                                          med(y["us"] for y in rs)))
    print()


def latency(servers):
    """Open-loop latency at fixed rates, bench_latency pinned to the client
    core, the server to its own."""
    gen = os.path.join(BUILD, "bench", "latency", "bench_latency")
    if not os.access(gen, os.X_OK):
        log("bench/http: %s not found; no latency part" % gen)
        return
    servers = start_all(servers, max_conns=LAT_CONNS + 64)
    samples = []
    RESULT["latency"] = {"rounds": LAT_ROUNDS, "duration_s": LAT_DURATION, "conns": LAT_CONNS,
                         "warmup_s": LAT_WARMUP, "rates": LAT_RATES,
                         "generator_priority": " ".join(LAT_CHRT) or "normal",
                         "servers": [s.name for s in servers], "samples": samples}
    try:
        for r in range(LAT_ROUNDS):
            for rate in LAT_RATES:
                for s in servers:
                    cmd = (["taskset", "-c", str(CLIENT_CPU)] + LAT_CHRT +
                           [gen, "-c", str(LAT_CONNS), "-w", str(LAT_WARMUP), "127.0.0.1",
                            str(s.port), str(rate), str(LAT_DURATION)])
                    try:
                        p = subprocess.run(cmd, capture_output=True, text=True,
                                           timeout=LAT_DURATION + LAT_WARMUP + 30)
                        x = json.loads(p.stdout)
                    except (subprocess.SubprocessError, ValueError, OSError) as e:
                        log("  latency against %s at %d/s: %s" % (s.name, rate, e))
                        continue
                    samples.append(dict(x, server=s.name, round=r))
            save()
            log("  latency: round %d/%d done" % (r + 1, LAT_ROUNDS))
    finally:
        for s in servers:
            s.stop()
    print("Latency at a fixed rate (open loop, from each request's intended send time): "
          "%d rounds of %d s, %d connections" % (LAT_ROUNDS, LAT_DURATION, LAT_CONNS))
    print()
    print("%8s %-8s %10s %9s %9s %9s %9s %9s" % ("rate", "server", "achieved", "p50 us",
                                                 "p90 us", "p99 us", "p99.9 us", "gen lag"))
    for rate in LAT_RATES:
        for s in servers:
            rs = [x for x in samples if x["server"] == s.name and x["rate"] == rate]
            if rs:
                print("%8d %-8s %10.0f %9.1f %9.1f %9.1f %9.1f %9.1f" % (
                    rate, s.name, med(x["achieved"] for x in rs), med(x["p50_us"] for x in rs),
                    med(x["p90_us"] for x in rs), med(x["p99_us"] for x in rs),
                    med(x["p999_us"] for x in rs), med(x["send_lag_p99_us"] for x in rs)))
    print()


def hold(server, n, active):
    """RSS growth of a fresh server while n connections are held open."""
    server.start(max_conns=n + 64)
    try:
        # Warm-up on a few connections: lazily created state, first buffers.
        for _ in range(4):
            c = socket.create_connection(("127.0.0.1", server.port))
            for _ in range(3):
                http_get(server.port, c)
            c.close()
        time.sleep(0.3)
        before = server.rss_kib()
        cmd = [os.path.join(BUILD, "bench", "http", "bench_idle_conns")]
        if active:
            cmd.append("--active")
        cmd += ["127.0.0.1", str(server.port), str(n)]
        holder = subprocess.Popen(["taskset", "-c", str(CLIENT_CPU)] + cmd,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  preexec_fn=raise_nofile)
        line = holder.stdout.readline().split()
        held = int(line[1]) if len(line) == 2 and line[0] == "ready" else 0
        time.sleep(1.0)
        after = server.rss_kib()
        alive = server.proc.poll() is None
        holder.stdin.close()
        holder.wait(timeout=60)
        if not alive or held == 0:
            return None
        return held, before, after
    finally:
        server.stop()


def memory(servers):
    rows = []
    RESULT["memory"] = {"n": IDLE_N, "rows": rows}
    print("Memory: resident set growth of a fresh server holding N connections "
          "(Rss after - before, / N)")
    print()
    hdr = "%-9s %-26s %8s %12s %12s %10s" % ("server", "state", "N", "RSS before", "RSS after",
                                              "per conn")
    print(hdr)
    print("-" * len(hdr))
    for s in servers:
        if s.name == "civetweb":
            print("%-9s %-26s  (left out: one thread per connection)" % (s.name, "-"))
            continue
        for active, label in ((False, "idle keep-alive"), (True, "request in progress")):
            try:
                r = hold(s, IDLE_N, active)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                r = None
                log("  %s: %s" % (s.name, e))
            if not r:
                print("%-9s %-26s %8s  (failed)" % (s.name, label, IDLE_N))
                continue
            held, before, after = r
            per = (after - before) * 1024.0 / held
            rows.append({"server": s.name, "state": "active" if active else "idle", "n": held,
                         "before_kib": before, "after_kib": after, "per_conn_b": per})
            print("%-9s %-26s %8d %9d KiB %9d KiB %7.0f B" % (s.name, label, held, before, after,
                                                             per))
        save()
    print()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def main():
    raise_nofile()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            log("bench/http: %s not found (scripts/deps.sh bench installs it)" % tool)
            return 1

    def available(names):
        out = []
        for name in names:
            s = Server(name)
            if s.available():
                out.append(name)
            else:
                log("bench/http: %s not found; its rows are left out" % name)
        return out
    names = available(SERVERS + (["linger-b"] if os.environ.get("LINGER_B") and "linger-b" not in SERVERS else []))
    RESULT["meta"] = {"cpu": cpu_model(), "ncpu": NCPU, "kernel": os.uname().release,
                      "date": datetime.date.today().isoformat(), "versions": versions()}
    save()
    print("cpu: %s x %d" % (cpu_model(), NCPU))
    print("kernel: %s" % os.uname().release)
    parts = [
        ("throughput", MODES and ROUNDS > 0, lambda: throughput([Server(n) for n in names])),
        ("conns", SWEEP_ROUNDS > 0,
         lambda: conns_sweep([Server(n) for n in available(SWEEP_SERVERS)])),
        ("multicore", MC_ROUNDS > 0 and MC_MODES, lambda: multicore(available(MC_SERVERS))),
        ("latency", LAT_ROUNDS > 0,
         lambda: latency([Server(n) for n in available(LAT_SERVERS)])),
        ("memory", IDLE_N > 0, lambda: memory([Server(n) for n in names])),
    ]
    status = 0
    for name, enabled, fn in parts:
        if name not in PARTS or not enabled:
            continue
        t0 = time.time()
        try:
            fn()
        except Exception as e:  # one part failing leaves the others' figures
            log("bench/http: the %s part failed: %r" % (name, e))
            status = 1
        log("bench/http: %s took %.0f s" % (name, time.time() - t0))
        sys.stdout.flush()
    save()
    return status


if __name__ == "__main__":
    sys.exit(main())
