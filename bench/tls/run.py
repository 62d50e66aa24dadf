#!/usr/bin/python3
"""linger's TLS (mbedTLS, and OpenSSL where built) next to nginx's, in one run.

Called by bench/tls/run.sh, which builds linger first. Each server is
pinned to one core (SERVER_CPU, 0) and the load generators to the other
(LOAD_CPU, 1). Both servers get the same certificate, the same protocol
(TLS 1.2: Debian's mbedTLS 2.28 has no TLS 1.3), the same cipher suite and
the same ECDHE group, for each key type:

  ecdsa   ECDSA P-256 certificate, ECDHE-ECDSA-AES128-GCM-SHA256, P-256
  rsa     RSA-2048 certificate,    ECDHE-RSA-AES128-GCM-SHA256,   P-256

nginx is held to them by its configuration (ssl_ciphers, ssl_ecdh_curve);
linger by the clients, which offer only them (OPENSSL_CONF: a config whose
system_default section sets CipherString and Groups, read by every OpenSSL
client here: s_time, wrk, curl). Per round, per key type, each server in
turn:

  full      full handshakes/s: PAR `openssl s_time -new` at once, each a
            connection at a time (connect, handshake, close);
  resumed   resumed handshakes/s: the same with -reuse (the session of the
            first connection offered again: a ticket, both servers);
  hello     keep-alive GET /hello over TLS: wrk -t1 -c CONNS;
  bulk      a 100 MiB file over kept-alive TLS connections: wrk -t1 -c 2
            on GET /big, MiB/s;

each with the server's CPU time per handshake / request / MiB (utime +
stime from /proc), so that a server the load generator could not saturate
is still compared on its cost. Then the client: `linger get` against
`curl`, each downloading the 100 MiB file from nginx over HTTPS (to
/dev/null), wall time and the client's CPU time.

Why s_time and wrk: both are OpenSSL programs that already exist (Debian's
openssl and wrk), so the load costs the same against both servers, and
nobody here wrote them. s_time is one connection at a time, so PAR of them
run at once to keep the server busy; with both on one core, the figures are
bounded by the client's own handshake cost, which is why the server's CPU
per handshake is printed beside them.

linger is measured twice where its OpenSSL transport is built: `linger`
(src/tls_mbedtls.c) and `linger-openssl` (src/tls_openssl.c), both in the
same rounds as nginx, each with its ratio to nginx; so is the client.

Prints medians over ROUNDS and ratios taken round by round (both servers
run side by side, each measurement of one right after the other's, the
order alternating by round): linger/nginx for rates, nginx/linger for the
server's CPU per unit, so that above 1 is linger ahead in both. Knobs:
ROUNDS (3), DURATION seconds per measurement (5), PAR (4), CONNS (64),
KEYS ("ecdsa rsa"), BUILD (the build directory with tools/linger).
"""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD", "build-bench-tls")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "5"))
PAR = int(os.environ.get("PAR", "4"))
CONNS = int(os.environ.get("CONNS", "64"))
KEYS = os.environ.get("KEYS", "ecdsa rsa").split()
SERVER_CPU = os.environ.get("SERVER_CPU", "0")
LOAD_CPU = os.environ.get("LOAD_CPU", "1")
BIG_MIB = 100
TICK = os.sysconf("SC_CLK_TCK")

SUITES = {"ecdsa": "ECDHE-ECDSA-AES128-GCM-SHA256", "rsa": "ECDHE-RSA-AES128-GCM-SHA256"}
GROUP = "P-256"

OPENSSL_CONF = """openssl_conf = conf
[conf]
ssl_conf = ssl
[ssl]
system_default = tls
[tls]
MinProtocol = TLSv1.2
MaxProtocol = TLSv1.2
CipherString = {suite}
Groups = {group}
"""

NGINX_CONF = """worker_processes 1;
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log crit;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    types {{ application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2;
        ssl_ciphers {suite};
        ssl_ecdh_curve prime256v1;
        ssl_session_tickets on;
        ssl_session_cache off;
        location = /hello {{ default_type text/plain; return 200 "Hello, World!"; }}
        location /static/ {{ alias {www}/; }}
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


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_certs(d):
    """A CA and, per key type, a leaf for localhost/127.0.0.1 it signed."""
    run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{d}/ca.key"])
    run(["openssl", "req", "-x509", "-new", "-key", f"{d}/ca.key", "-sha256", "-days", "2",
         "-subj", "/CN=linger bench ca", "-out", f"{d}/ca.pem"])
    for kind in KEYS:
        key = f"{d}/{kind}.key"
        if kind == "ecdsa":
            run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
        else:
            run(["openssl", "genrsa", "-out", key, "2048"])
        run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=localhost", "-out", f"{d}/{kind}.csr"])
        with open(f"{d}/{kind}.ext", "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run(["openssl", "x509", "-req", "-in", f"{d}/{kind}.csr", "-CA", f"{d}/ca.pem", "-CAkey",
             f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-sha256", "-extfile",
             f"{d}/{kind}.ext", "-out", f"{d}/{kind}.pem"])
        with open(f"{d}/{kind}-chain.pem", "w") as f:  # the same chain for both servers
            f.write(open(f"{d}/{kind}.pem").read() + open(f"{d}/ca.pem").read())
        with open(f"{d}/openssl-{kind}.cnf", "w") as f:
            f.write(OPENSSL_CONF.format(suite=SUITES[kind], group=GROUP))


def new_group():
    os.setsid()


class Server:
    def __init__(self, name, kind, d, www):
        self.name, self.kind, self.d, self.www = name, kind, d, www
        self.proc, self.tmp = None, None

    def start(self):
        self.port = free_port()
        cert, key = f"{self.d}/{self.kind}-chain.pem", f"{self.d}/{self.kind}.key"
        if self.name.startswith("linger"):
            cmd = [os.path.join(BUILD, "tools", self.name), "serve", "--quiet", "--host",
                   "127.0.0.1", "--port", str(self.port), "--root", self.www, "--max-conns", "1024",
                   "--tls-cert", cert, "--tls-key", key]
        else:
            self.tmp = tempfile.mkdtemp(prefix="linger-bench-tls-nginx-")
            with open(f"{self.tmp}/nginx.conf", "w") as f:
                f.write(NGINX_CONF.format(dir=self.tmp, port=self.port, cert=cert, key=key,
                                          suite=SUITES[self.kind], www=self.www,
                                          user="user root;" if os.geteuid() == 0 else ""))
            cmd = ["/usr/sbin/nginx", "-p", self.tmp, "-c", f"{self.tmp}/nginx.conf"]
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=new_group)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start: {' '.join(cmd)}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def load_env(kind, d):
    return dict(os.environ, OPENSSL_CONF=f"{d}/openssl-{kind}.cnf")


def s_time(port, mode, env):
    """PAR s_time at once; handshakes per second, all of them together."""
    # -tls1_2 on the command line, not only in OPENSSL_CONF: with the
    # version capped by the configuration alone, s_time -reuse resumes
    # nothing from a server that also speaks TLS 1.3 (OpenSSL's s_server
    # and linger-openssl alike; seen with OpenSSL 3.0.19)
    cmd = ["taskset", "-c", LOAD_CPU, "openssl", "s_time", "-connect", f"127.0.0.1:{port}",
           mode, "-tls1_2", "-time", str(DURATION)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                              preexec_fn=new_group) for _ in range(PAR)]
    total = 0
    for p in procs:
        try:
            out, _ = p.communicate(timeout=DURATION + 30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        m = re.search(rb"(\d+) connections in (\d+) real seconds", out)
        if not m:
            raise RuntimeError("s_time: " + out.decode(errors="replace")[-300:])
        total += int(m.group(1))
    return total, total / DURATION


def wrk(port, path, conns, env):
    """(requests, req/s, MiB/s) from wrk's own report."""
    # (--timeout: a 100 MiB answer takes longer than wrk's 2 s default)
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{DURATION}s", "--timeout", "60s",
           f"https://127.0.0.1:{port}{path}"]
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=DURATION + 60,
                       preexec_fn=new_group)
    out = p.stdout.decode()
    m = re.search(r"(\d+) requests in ([\d.]+)s, ([\d.]+)([KMG]?B) read", out)
    if p.returncode != 0 or not m or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk: " + out[-400:] + p.stderr.decode()[-200:])
    n, secs = int(m.group(1)), float(m.group(2))
    size = float(m.group(3)) * {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(4)]
    return n, n / secs, size / secs / (1 << 20)


def measure(server, what, env):
    c0 = server.cpu_seconds()
    if what == "full":
        n, rate = s_time(server.port, "-new", env)
        unit = n
    elif what == "resumed":
        n, rate = s_time(server.port, "-reuse", env)
        unit = n
    elif what == "hello":
        n, rate, _ = wrk(server.port, "/hello", CONNS, env)
        unit = n
    else:  # bulk
        n, _, rate = wrk(server.port, "/static/big.bin", 2, env)
        unit = rate * DURATION  # MiB moved (approximately: wrk's seconds)
    cpu = server.cpu_seconds() - c0
    return rate, cpu / unit if unit else float("nan")


def client_download(kind, d, www, env):
    """linger get and curl, each fetching the 100 MiB file from nginx."""
    nginx = Server("nginx", kind, d, www)
    nginx.start()
    url = f"https://localhost:{nginx.port}/static/big.bin"
    out = {}
    try:
        cmds = {name: [os.path.join(BUILD, "tools", name), "get", "-q", "--cacert",
                       f"{d}/ca.pem", "-o", "/dev/null", url] for name in LINGERS}
        cmds["curl"] = ["curl", "-sS", "--cacert", f"{d}/ca.pem", "-o", "/dev/null", url]
        for name, cmd in cmds.items():
            t0 = time.monotonic()
            r0 = os.times()
            p = subprocess.run(["taskset", "-c", LOAD_CPU] + cmd, capture_output=True, env=env,
                               timeout=120)
            r1 = os.times()
            wall = time.monotonic() - t0
            if p.returncode != 0:
                raise RuntimeError(f"{name}: exit {p.returncode} {p.stderr.decode()[-300:]}")
            cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
            out[name] = (BIG_MIB / wall, cpu)
    finally:
        nginx.stop()
    return out


def med(xs):
    return statistics.median(xs) if xs else float("nan")


# linger's tools measured: the mbedTLS one, and the OpenSSL one where built.
LINGERS = [n for n in ("linger", "linger-openssl")
           if os.access(os.path.join(BUILD, "tools", n), os.X_OK)]


def main():
    if "linger" not in LINGERS:
        sys.exit(f"no {BUILD}/tools/linger: run bench/tls/run.sh")
    for tool in ("wrk", "curl", "openssl", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing (scripts/deps.sh bench)")
    if not os.path.exists("/usr/sbin/nginx"):
        sys.exit("nginx is missing (scripts/deps.sh bench)")
    d = tempfile.mkdtemp(prefix="linger-bench-tls-")
    try:
        make_certs(d)
        www = f"{d}/www"
        os.mkdir(www)
        with open(f"{www}/big.bin", "wb") as f:
            f.write(os.urandom(BIG_MIB << 20))
        os.chmod(d, 0o755)
        os.chmod(www, 0o755)
        os.chmod(f"{www}/big.bin", 0o644)
        results = {}  # (kind, what, server) -> [(rate, cpu per unit)], one per round
        client = {}   # (kind, name) -> [(MiB/s, cpu s)]
        whats = ("full", "resumed", "hello", "bulk")
        for rnd in range(ROUNDS):
            log(f"round {rnd + 1}/{ROUNDS}, load average {os.getloadavg()[0]:.2f}")
            # both servers up (the idle one costs nothing), and each
            # measurement taken of one right after the other, the order
            # alternating by round: what the machine's other load does
            # falls on both alike
            order = tuple(LINGERS) + ("nginx",)
            order = order if rnd % 2 == 0 else order[::-1]
            for kind in KEYS:
                env = load_env(kind, d)
                servers = {name: Server(name, kind, d, www) for name in order}
                try:
                    for srv in servers.values():
                        srv.start()
                    for what in whats:
                        for name in order:
                            r = measure(servers[name], what, env)
                            results.setdefault((kind, what, name), []).append(r)
                            log(f"  {kind:5} {name:14} {what:8} {r[0]:10.1f}  "
                                f"server CPU {r[1] * 1e6:9.1f} us per unit")
                finally:
                    for srv in servers.values():
                        srv.stop()
                for name, r in client_download(kind, d, www, env).items():
                    client.setdefault((kind, name), []).append(r)
                    log(f"  {kind:5} client {name:14} {r[0]:8.1f} MiB/s, CPU {r[1]:.2f} s")
        report(results, client, whats)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def ratio(xs, ys):
    """Median and range of the round-by-round ratios x/y."""
    rs = [x / y for x, y in zip(xs, ys) if y]
    if not rs:
        return "-"
    return f"{med(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})"


def report(results, client, whats):
    units = {"full": "handshakes/s", "resumed": "handshakes/s", "hello": "req/s", "bulk": "MiB/s"}
    cpu_units = {"full": "us/handshake", "resumed": "us/handshake", "hello": "us/request",
                 "bulk": "ms/MiB"}
    scale = {"full": 1e6, "resumed": 1e6, "hello": 1e6, "bulk": 1e3}
    la = os.getloadavg()
    print(f"TLS 1.2, server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU}; medians of {ROUNDS} "
          f"rounds of {DURATION} s, ratios round by round (range); load average "
          f"{la[0]:.2f} {la[1]:.2f} {la[2]:.2f} at the end")
    print(f"{'key':6} {'what':8} {'unit':>12} {'server':>14} {'rate':>9} {'nginx':>9} "
          f"{'x/nginx':>18}   {'server CPU':>12} {'x':>8} {'nginx':>8} {'nginx/x':>18}")
    for kind in KEYS:
        for what in whats:
            nr = results.get((kind, what, "nginx"), [])
            n, nc = [r[0] for r in nr], [r[1] * scale[what] for r in nr]
            for name in LINGERS:
                lr = results.get((kind, what, name), [])
                l, lc = [r[0] for r in lr], [r[1] * scale[what] for r in lr]
                print(f"{kind:6} {what:8} {units[what]:>12} {name:>14} {med(l):9.1f} {med(n):9.1f} "
                      f"{ratio(l, n):>18}   {cpu_units[what]:>12} {med(lc):8.1f} {med(nc):8.1f} "
                      f"{ratio(nc, lc):>18}")
    for kind in KEYS:
        cr = client.get((kind, "curl"), [])
        c, cc = [r[0] for r in cr], [r[1] for r in cr]
        for name in LINGERS:
            lr = client.get((kind, name), [])
            l, lc = [r[0] for r in lr], [r[1] for r in lr]
            print(f"client {kind}: {BIG_MIB} MiB from nginx: {name} get {med(l):.1f} MiB/s, curl "
                  f"{med(c):.1f} MiB/s, {name}/curl {ratio(l, c)}; client CPU {name} "
                  f"{med(lc):.2f} s, curl {med(cc):.2f} s, curl/{name} {ratio(cc, lc)}")


if __name__ == "__main__":
    main()
