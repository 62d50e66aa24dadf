#!/usr/bin/python3
"""HTTP servers side by side: linger, nginx, libmicrohttpd and civetweb.

Called by bench/http/run.sh, which builds the programs first. Every server
answers GET /hello with "Hello, World!" (text/plain). Each runs pinned to
one core and wrk to another; per round, every server gets every mode in
turn, so that the machine's noise falls on all of them alike:

  keepalive   wrk -c CONNS, persistent connections
  close       the same with "Connection: close": one connection per request
  pipelined   wrk -s pipeline.lua: DEPTH requests per write

For each server and mode: requests/s, and the server's CPU time per
request (utime + stime of its processes, from /proc/PID/stat, over the run,
divided by the requests wrk counted); medians over the rounds; ratios
against nginx (the median of the per-round ratios).

Then memory: a fresh instance of each server, IDLE_N keep-alive
connections that each made one request and then stay quiet (bytes of
resident memory per connection), and IDLE_N requests in progress (a head
begun, not ended).

Environment: BUILD (build-bench), ROUNDS (5), DURATION (5 s), CONNS (64),
DEPTH (16), SERVERS ("linger nginx mhd civetweb"), MODES ("keepalive close
pipelined"), IDLE_N (10000; 0 skips the memory part), SERVER_CPU (last
core), CLIENT_CPU (the one before it), LINGER_B (another build's `linger`
binary: adds a row "linger-b", for before/after comparisons).
"""
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
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("ROUNDS", "5"))
DURATION = int(os.environ.get("DURATION", "5"))
CONNS = int(os.environ.get("CONNS", "64"))
DEPTH = int(os.environ.get("DEPTH", "16"))
SERVERS = os.environ.get("SERVERS", "linger nginx mhd civetweb").split()
MODES = os.environ.get("MODES", "keepalive close pipelined").split()
IDLE_N = int(os.environ.get("IDLE_N", "10000"))
NCPU = os.cpu_count() or 1
SERVER_CPU = int(os.environ.get("SERVER_CPU", str(NCPU - 1)))
CLIENT_CPU = int(os.environ.get("CLIENT_CPU", str(max(NCPU - 2, 0))))
TICK = os.sysconf("SC_CLK_TCK")
HELLO = b"Hello, World!"

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
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
        listen 127.0.0.1:{port} backlog=511;
        location = /hello {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_nofile():
    want = max(IDLE_N + 1024, 4096)
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

    def __init__(self, name):
        self.name = name
        self.proc = None
        self.tmp = None
        self.port = 0

    def command(self, max_conns):
        if self.name in ("linger", "linger-b"):
            binary = os.path.join(BUILD, "tools", "linger")
            if self.name == "linger-b":
                binary = os.path.abspath(os.environ["LINGER_B"])
            return [binary, "serve", "--quiet", "--host",
                    "127.0.0.1", "--port", str(self.port), "--max-conns", str(max_conns)]
        if self.name == "nginx":
            self.tmp = tempfile.mkdtemp(prefix="linger-bench-nginx-")
            with open(os.path.join(self.tmp, "nginx.conf"), "w") as f:
                f.write(NGINX_CONF.format(dir=self.tmp, port=self.port, conns=max_conns + 64,
                                          nofile=max_conns + 256))
            return ["/usr/sbin/nginx", "-p", self.tmp, "-c", os.path.join(self.tmp, "nginx.conf")]
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
        cmd = ["taskset", "-c", str(SERVER_CPU)] + self.command(max_conns)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=in_new_group)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start (%s)" % (self.name, " ".join(cmd)))
            try:
                if http_get(self.port) == HELLO:
                    return
            except OSError:
                pass
            time.sleep(0.05)
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
        """The server's process and its children (nginx's worker)."""
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


def wrk(port, mode, seconds):
    cmd = ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", "-c%d" % CONNS, "-d%ds" % seconds,
           "--timeout", "5s"]
    if mode == "close":
        cmd += ["-H", "Connection: close"]
    if mode == "pipelined":
        cmd += ["-s", os.path.join(HERE, "pipeline.lua")]
    cmd.append("http://127.0.0.1:%d/hello" % port)
    if mode == "pipelined":
        cmd += ["--", str(DEPTH)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    requests = int(m.group(1))
    elapsed = float(m.group(2)) * (60 if m.group(3) == "m" else 1)
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    errors = 0
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errors += sum(int(x) for x in e.groups())
    e2 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if e2:
        errors += int(e2.group(1))
    if errors:
        print("  wrk against port %d, %s: %s" % (port, mode, "; ".join(
            m.group(0) for m in (e, e2) if m)), file=sys.stderr)
    return requests, rps, errors, elapsed


def measure(server, mode):
    c0, t0 = server.cpu_seconds(), time.time()
    requests, rps, errors, _ = wrk(server.port, mode, DURATION)
    c1, t1 = server.cpu_seconds(), time.time()
    cpu = c1 - c0
    return {"rps": rps, "us": cpu * 1e6 / max(requests, 1), "util": cpu / (t1 - t0),
            "errors": errors}


def fmt_ratio(values):
    return "%.2fx" % statistics.median(values) if values else "-"


def throughput(servers):
    results = {(s.name, m): [] for s in servers for m in MODES}
    for s in servers:
        s.start()
    try:
        for s in servers:  # warm-up: caches, pools, the kernel's socket memory
            for m in MODES:
                wrk(s.port, m, 1)
        for r in range(ROUNDS):
            for m in MODES:
                for s in servers:
                    results[(s.name, m)].append(measure(s, m))
            print("  round %d/%d done" % (r + 1, ROUNDS), file=sys.stderr, flush=True)
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
    for m in MODES:
        for n in names:
            rs = results[(n, m)]
            rps = statistics.median(x["rps"] for x in rs)
            us = statistics.median(x["us"] for x in rs)
            util = statistics.median(x["util"] for x in rs)
            errs = sum(x["errors"] for x in rs)
            rr, cr = [], []
            if "nginx" in names:
                for x, y in zip(rs, results[("nginx", m)]):
                    rr.append(x["rps"] / y["rps"])
                    cr.append(x["us"] / y["us"])
            print("%-10s %-9s %11.0f %10.2f %5.0f%% %8d %10s %7s" % (
                m, n, rps, us, 100 * util, errs, fmt_ratio(rr), fmt_ratio(cr)))
        print()
    if "linger" in names and "nginx" in names:
        print("Targets for linger (against nginx in the same run):")
        for m in MODES:
            want = 1.25 if m == "pipelined" else 1.0
            rr = statistics.median(x["rps"] / y["rps"] for x, y in
                                   zip(results[("linger", m)], results[("nginx", m)]))
            cr = statistics.median(x["us"] / y["us"] for x, y in
                                   zip(results[("linger", m)], results[("nginx", m)]))
            print("  %-10s req/s %.2fx (want >= %.2fx: %s)   CPU/req %.2fx (want <= 0.80x: %s)" % (
                m, rr, want, "met" if rr >= want else "NOT met", cr,
                "met" if cr <= 0.8 else "NOT met"))
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
                print("  %s: %s" % (s.name, e), file=sys.stderr)
            if not r:
                print("%-9s %-26s %8s  (failed)" % (s.name, label, IDLE_N))
                continue
            held, before, after = r
            per = (after - before) * 1024.0 / held
            print("%-9s %-26s %8d %9d KiB %9d KiB %7.0f B" % (s.name, label, held, before, after,
                                                             per))
    print()


def main():
    raise_nofile()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            print("bench/http: %s not found (scripts/deps.sh bench installs it)" % tool,
                  file=sys.stderr)
            return 1
    servers = []
    names = SERVERS + (["linger-b"] if os.environ.get("LINGER_B") else [])
    for name in names:
        s = Server(name)
        if s.available():
            servers.append(s)
        else:
            print("bench/http: %s not found; its rows are left out" % name, file=sys.stderr)
    try:
        print("cpu: %s x %d" % (cpu_model(), NCPU))
        print("kernel: %s" % os.uname().release)
        if MODES and ROUNDS > 0:
            throughput(servers)
        if IDLE_N > 0:
            memory([s for s in servers])
    finally:
        for s in servers:
            s.stop()
    return 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    sys.exit(main())
