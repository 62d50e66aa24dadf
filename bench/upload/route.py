#!/usr/bin/python3
"""The upload route's server CPU per MB, next to nginx's, in one run.

One multipart body (a field and one file of SIZE MiB, random bytes) is
POSTed from memory by the same raw-socket client to each server, UPLOADS
times per round; the server's CPU time (every thread's, from
/proc/PID/task/*/schedstat) is read before and after. Servers:

  linger /drop       the form layer only: the file's bytes dropped as they
                     arrive (bench/upload/drop_server.c)
  linger /upload     `linger serve`'s route: the same, plus SHA-256 of the
                     file and the JSON answer
  nginx buffering    nginx-light reading the body into its request-body
                     buffers (mirror_request_body: 16 KiB in memory, the
                     rest to a temporary file), then answering 204
  nginx discarding   nginx reading the body and throwing it away (return
                     204): the floor, bytes off the socket

Figures: medians over ROUNDS of CPU ms per MB (10^6 bytes of body), and the
ratio to "nginx buffering". Usage: route.py BUILD [rounds] [size_mib]
"""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build-bench"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
SIZE = (int(sys.argv[3]) if len(sys.argv) > 3 else 64) << 20
UPLOADS = 3
B = b"----routeBench7MA4YWxkTrZu0gW"

NGINX_CONF = """
worker_processes 1; daemon off; master_process off;
pid {tmp}/nginx.pid; error_log {tmp}/error.log error; {user}
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  client_max_body_size 0;
  client_body_buffer_size 16k;
  server {{
    listen 127.0.0.1:{port};
    location = /buffer {{ mirror /nowhere; mirror_request_body on; return 204; }}
    location = /nowhere {{ internal; return 204; }}
    location = /discard {{ return 204; }}
  }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_ns(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def body():
    data = os.urandom(SIZE)
    return (b"--" + B + b"\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nbench\r\n--" + B +
            b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + B + b"--\r\n")


def post(port, path, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: b\r\nConnection: close\r\n"
              b"Content-Type: multipart/form-data; boundary=" + B +
              b"\r\nContent-Length: %d\r\n\r\n" % len(payload))
    s.sendall(payload)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    status = int(got.split(b" ", 2)[1])
    if status not in (200, 204):
        raise RuntimeError(f"{path}: {got[:200]!r}")


def start(argv, port_from_stdout=None, port=None):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if port_from_stdout:
        line = p.stdout.readline()
        port = int(port_from_stdout(line))
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start: {p.stderr.read()}")
            time.sleep(0.05)


def main():
    payload = body()
    servers = []
    tmp = tempfile.mkdtemp(prefix="linger-upload-bench-")
    try:
        drop, dport = start([os.path.join(BUILD, "bench", "bench_drop_server")],
                            port_from_stdout=lambda line: line)
        servers.append(("linger /drop", drop, dport, "/drop"))
        lport = free_port()
        serve, lport = start([os.path.join(BUILD, "tools", "linger"), "serve", "--quiet", "--port",
                              str(lport)], port=lport)
        servers.append(("linger /upload (+SHA-256)", serve, lport, "/upload"))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if os.path.exists(nginx):
            nport = free_port()
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(tmp=tmp, port=nport,
                                          user="user root;" if os.geteuid() == 0 else ""))
            ng, nport = start([nginx, "-p", tmp, "-c", conf], port=nport)
            servers.append(("nginx buffering", ng, nport, "/buffer"))
            servers.append(("nginx discarding (floor)", ng, nport, "/discard"))
        per = {name: [] for name, *_ in servers}
        for _ in range(ROUNDS):
            for name, proc, port, path in servers:
                before = cpu_ns(proc.pid)
                for _ in range(UPLOADS):
                    post(port, path, payload)
                ms_per_mb = (cpu_ns(proc.pid) - before) / 1e6 / (UPLOADS * len(payload) / 1e6)
                per[name].append(ms_per_mb)
        ref = statistics.median(per["nginx buffering"]) if "nginx buffering" in per else None
        print(f"upload route, server CPU per MB of body ({SIZE >> 20} MiB file, {UPLOADS} uploads "
              f"a round, medians of {ROUNDS} rounds)")
        print(f"{'server':28} {'CPU ms/MB':>10} {'vs nginx buffering':>20}")
        for name in per:
            m = statistics.median(per[name])
            print(f"{name:28} {m:10.3f} {m / ref if ref else float('nan'):19.2f}x")
    finally:
        for _, proc, *_ in servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
