#!/usr/bin/env python3
"""The client's benchmark, linger against curl, both against one nginx
(Debian's nginx-light) over loopback, in the same run:

  download   one large file (1 GiB by default): throughput, and CPU time
             (user + system) of the client per GiB, `linger get -o
             /dev/null` against `curl -o /dev/null`
  requests   small keep-alive GETs, 50 in flight on one loop: requests per
             second and CPU per request, linger's client (rps_linger.c)
             against libcurl's multi interface (rps_curl.c)

The client runs on CPU 0 and nginx's single worker on CPU 1. Each figure is
the median of several rounds, the clients taking turns. Prints the ratios
and whether the targets are met (issue 5: at least curl's throughput at no
more CPU per GiB; at least 1.5 times libcurl's requests per second).

Usage: client.py BUILD_DIR [--rounds N] [--size-mib N] [--requests N] [--json FILE]
--json writes every round's figures to FILE, for bench/report.py.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(argv):
    """Runs argv; returns (exit status, wall seconds, CPU seconds, stdout).
    CPU is user + system time of the child, from the children's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        print(f"  {' '.join(argv)}: exit {proc.returncode}: {proc.stderr.decode().strip()}", file=sys.stderr)
    return proc.returncode, wall, cpu, proc.stdout.decode()


def pin(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


NGINX_CONF = """
worker_processes 1;
{affinity}
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log error;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        root {tmp}/www;
        location = /hello {{ default_type text/plain; return 200 "Hello, World!\\n"; }}
    }}
}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    result = {"rounds": a.rounds, "size_mib": a.size_mib, "requests": a.requests,
              "concurrency": a.concurrency, "download": [], "rps": []}

    def save():
        if a.json:
            os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
            with open(a.json, "w") as f:
                json.dump(result, f, indent=1)

    linger = os.path.join(a.build, "tools", "linger")
    rps_linger = os.path.join(a.build, "bench", "client", "bench_rps_linger")
    rps_curl = os.path.join(a.build, "bench", "client", "bench_rps_curl")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    for p in (linger, rps_linger, nginx):
        if not os.path.exists(p):
            sys.exit(f"bench/client: {p} is missing")
    have_curl = shutil.which("curl") is not None
    have_libcurl = os.path.exists(rps_curl)

    ncpu = os.cpu_count() or 1
    client_cpu, server_cpu = (0, 1) if ncpu >= 2 else (None, None)
    tmp = tempfile.mkdtemp(prefix="linger-bench-client-")
    os.chmod(tmp, 0o755)
    www = os.path.join(tmp, "www")
    os.mkdir(www)
    os.chmod(www, 0o755)
    size = a.size_mib << 20
    big = os.path.join(www, "big.bin")
    block = os.urandom(1 << 20)
    with open(big, "wb") as f:
        for _ in range(a.size_mib):
            f.write(block)
    os.chmod(big, 0o644)

    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    affinity = f"worker_cpu_affinity {'1' + '0' * server_cpu};" if server_cpu is not None else ""
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=port, affinity=affinity,
                                  user="user root;" if os.geteuid() == 0 else ""))
    srv = subprocess.Popen([nginx, "-p", tmp, "-c", conf], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if srv.poll() is not None or time.monotonic() > deadline:
                    sys.exit("bench/client: nginx did not start: " + srv.stderr.read().decode())
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        print(f"cpu: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}"
              if os.path.exists("/proc/cpuinfo") else "")
        print(f"clients on CPU {client_cpu}, nginx (1 worker) on CPU {server_cpu}; {a.rounds} rounds, medians")
        if have_curl:
            curl_version = subprocess.run(['curl', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
            result["curl_version"] = curl_version.split()[1]
            print(f"curl: {curl_version}")

        # --- download ---
        url = base + "/big.bin"
        subprocess.run(["cat", big], stdout=subprocess.DEVNULL)  # into the page cache
        dl = {"linger": [], "curl": []}
        for r in range(a.rounds):
            tools = [("linger", [linger, "get", "-q", "-o", "/dev/null", url])]
            if have_curl:
                tools.append(("curl", ["curl", "-s", "-o", "/dev/null", url]))
            for name, argv in tools:
                st, wall, cpu, _ = run(pin(client_cpu) + argv)
                if st == 0:
                    dl[name].append((size / wall / 1e9, cpu / (size / (1 << 30))))
                    result["download"].append({"client": name, "round": r, "gb_s": dl[name][-1][0],
                                               "cpu_s_per_gib": dl[name][-1][1]})
        save()
        print(f"\ndownload of {a.size_mib} MiB from nginx          GB/s   CPU s per GiB")
        med = {}
        for name in ("linger", "curl"):
            if dl[name]:
                gbs = statistics.median(x[0] for x in dl[name])
                cpg = statistics.median(x[1] for x in dl[name])
                med[name] = (gbs, cpg)
                print(f"  {name:40s} {gbs:6.2f}   {cpg:6.3f}")
        if "linger" in med and "curl" in med:
            r_thr = med["linger"][0] / med["curl"][0]
            r_cpu = med["linger"][1] / med["curl"][1]
            ok = r_thr >= 1.0 and r_cpu <= 1.0
            print(f"  linger/curl: throughput x{r_thr:.2f}, CPU per GiB x{r_cpu:.2f}  "
                  f"(target: >= x1.00 at <= x1.00: {'met' if ok else 'NOT met'})")

        # --- requests per second ---
        url = base + "/hello"
        rp = {"linger": [], "libcurl multi": []}
        for r in range(a.rounds):
            tools = [("linger", [rps_linger, url, str(a.requests), str(a.concurrency)])]
            if have_libcurl:
                tools.append(("libcurl multi", [rps_curl, url, str(a.requests), str(a.concurrency)]))
            for name, argv in tools:
                st, _, _, out = run(pin(client_cpu) + argv)
                if st == 0:
                    f = out.split()
                    rp[name].append((float(f[f.index("rps") + 1]), float(f[f.index("cpu_us_per_req") + 1])))
                    result["rps"].append({"client": name, "round": r, "rps": rp[name][-1][0],
                                          "cpu_us_per_req": rp[name][-1][1]})
        save()
        print(f"\n{a.requests} small keep-alive GETs, {a.concurrency} in flight   req/s   CPU us per request")
        med = {}
        for name in ("linger", "libcurl multi"):
            if rp[name]:
                rps = statistics.median(x[0] for x in rp[name])
                us = statistics.median(x[1] for x in rp[name])
                med[name] = (rps, us)
                print(f"  {name:40s} {rps:8.0f}   {us:6.2f}")
        if "linger" in med and "libcurl multi" in med:
            r = med["linger"][0] / med["libcurl multi"][0]
            print(f"  linger/libcurl: requests per second x{r:.2f}, CPU per request "
                  f"x{med['linger'][1] / med['libcurl multi'][1]:.2f}  (target: >= x1.50: {'met' if r >= 1.5 else 'NOT met'})")
    finally:
        srv.send_signal(signal.SIGQUIT)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
