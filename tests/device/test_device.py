#!/usr/bin/env python3
"""The firmware (device/) on QEMU's emulated mps2-an386 board, from the host.

scripts/device_tests.sh runs this (make check does): it boots the firmware
with scripts/run-device.sh, whose user-mode network forwards a loopback port
of this machine to the device's port 80 (and another to its naive server on
port 81), and talks to it over 127.0.0.1 only:

  1. curl: GET /, GET /hello, POST /echo, a 404, a body too large (413)
  2. the original bug: a blocking client that POSTs its whole body (0 B to
     256 KiB) to a path whose handler reads nothing and reads until EOF, as
     MicroPython's asyncio does: every answer whole, then EOF, no reset; and
     the device's lwIP sent no RST (MIB-II tcpOutRsts, from GET /stats).
     The same client against the naive server on port 81 (answers, then
     tcp_close with the request unread): lwIP sends RSTs there, which the
     counter shows — and what the host saw of them is reported, since QEMU's
     user-mode network stands between (it ends its own host-side socket
     when the guest resets, and the host may see a plain EOF)
  3. keep-alive (many requests on one connection) and pipelining (ten
     requests in one write, the answers in order); back-pressure: answers
     larger than lwIP's send buffer, made as it takes them, four at once
     (one read slowly), so that lwIP's memory runs out and writes wait
  4. 1,000 requests, then the device's free pbufs and pools, its sockets,
     linger's connections and allocations after start-up: as at the start
  5. a client that vanishes mid-body (FIN, and RST): the device frees the
     connection and serves on
  6. more connections at once than the device has room for (4): they wait,
     all are answered, nothing crashes
  7. linger's client on the device (linger-client.elf): at boot it fetches
     http://10.0.2.100/device.txt, an address of QEMU's network that
     guestfwd maps to a server of this test on 127.0.0.1, and prints the
     answer on its console

Usage: tests/device/test_device.py [FIRMWARE.elf [CLIENT-FIRMWARE.elf]]
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = "127.0.0.1"
failures = []


def check(cond, what):
    print(("  ok    " if cond else "  FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- HTTP by hand: exact bytes, exact endings ---


def connect(port, timeout=30):
    return socket.create_connection((HOST, port), timeout=timeout)


def read_response(sock, buf=b""):
    """One response: (status, headers, body, rest of buf). Raises on EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("EOF in head (%d bytes)" % len(buf))
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("EOF in body (%d of %d)" % (len(buf), n))
        buf += chunk
    return status, headers, buf[:n], buf[n:]


def request_bytes(method, path, body=b"", close=False, extra=""):
    h = "%s %s HTTP/1.1\r\nHost: device\r\n%s" % (method, path, extra)
    if body or method == "POST":
        h += "Content-Length: %d\r\n" % len(body)
    if close:
        h += "Connection: close\r\n"
    return (h + "\r\n").encode() + body


def fetch(port, method, path, body=b""):
    with connect(port) as s:
        s.sendall(request_bytes(method, path, body, close=True))
        status, headers, data, _ = read_response(s)
        return status, headers, data


def stats(port):
    status, _, data = fetch(port, "GET", "/stats")
    assert status == 200, status
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", data.decode())}


def quiet_stats(port, timeout=15):
    """The device's figures once it is idle: only the connection asking is
    open (the listener and it in the port's table), nothing queued or held.
    A graceful close may still be draining an upload the host finished long
    ago (QEMU's network buffered it): wait for that."""
    deadline = time.time() + timeout
    while True:
        st = stats(port)
        idle = (st["active"] == 1 and st["port_sockets"] == 2 and st["rx_queued"] == 0
                and st["pbuf_free"] == st["pbuf_total"] and st["seg_used"] == 0
                and st["heap_used"] == 0)
        if idle or time.time() > deadline:
            return st
        time.sleep(0.2)


def read_to_eof(port, path, n):
    """POST n bytes, then read until EOF: MicroPython's way. Returns
    (ending, response bytes): ending is 'eof' or 'reset'."""
    s = connect(port, timeout=60)
    data = b""
    try:
        s.sendall(request_bytes("POST", path, b"x" * n, close=True))
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return "eof", data
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return "reset", data
    finally:
        s.close()


def whole(data, status):
    """A complete response with this status and its whole body."""
    try:
        head, body = data.split(b"\r\n\r\n", 1)
        m = re.search(rb"content-length:\s*(\d+)", head, re.I)
        return int(head.split()[1]) == status and m and len(body) == int(m.group(1))
    except (ValueError, IndexError):
        return False


# --- the tests ---


def test_curl(port):
    print("curl, through the forwarded port", flush=True)
    url = "http://%s:%d" % (HOST, port)

    def curl(*args):
        r = subprocess.run(["curl", "-sS", "-m", "20", *args], capture_output=True)
        return r.returncode, r.stdout

    rc, out = curl(url + "/")
    page = open(os.path.join(ROOT, "device", "www", "index.html"), "rb").read()
    check(rc == 0 and out == page, "GET / is the page (%d bytes)" % len(page))
    rc, out = curl(url + "/hello")
    check(rc == 0 and out == b"Hello, World!", "GET /hello: Hello, World!")
    body = bytes((i * 7 + 3) & 0xFF for i in range(1000))
    path = os.path.join(ROOT, "build-device", "echo.bin")
    with open(path, "wb") as f:
        f.write(body)
    rc, out = curl("--data-binary", "@" + path, url + "/echo")
    check(rc == 0 and out == body, "POST /echo: 1000 bytes back")
    rc, out = curl("-o", "/dev/null", "-w", "%{http_code}", url + "/nothing")
    check(out == b"404", "GET /nothing: 404")
    rc, out = curl("-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@" + path,
                   url + "/nothing")
    check(out == b"404", "POST /nothing with a body: 404")
    rc, out = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:",
                   "--data-binary", "x" * 4000, url + "/echo")
    check(out == b"413", "POST /echo, 4000 bytes (more than the device's buffer): 413")


SIZES = [0, 1, 100, 1000, 1460, 1461, 4096, 10000, 16384, 65536, 65537, 100000, 131072, 262144]


def test_bug(port, naive_port):
    print("the original bug: POST, the handler reads nothing, the client reads until EOF",
          flush=True)
    before = stats(port)
    results = [read_to_eof(port, "/nothing", n) for n in SIZES]
    after = stats(port)
    good = sum(1 for ending, data in results if ending == "eof" and whole(data, 404))
    check(good == len(SIZES), "linger: %d of %d answers whole, then EOF (bodies 0 B to 256 KiB)"
          % (good, len(SIZES)))
    for (ending, data), n in zip(results, SIZES):
        if ending != "eof" or not whole(data, 404):
            print("        %d bytes: %s, %d bytes of answer" % (n, ending, len(data)))
    sent = after["rst_sent"] - before["rst_sent"]
    check(sent == 0, "linger: the device's lwIP sent %d RST" % sent)

    # The naive server on the same stack, to show that the count can move
    # and what the host sees of a device's RST through QEMU's network.
    before = stats(port)
    naive = [read_to_eof(naive_port, "/", n) for n in SIZES]
    after = stats(port)
    sent = after["rst_sent"] - before["rst_sent"]
    host_resets = sum(1 for ending, _ in naive if ending == "reset")
    host_whole = sum(1 for ending, data in naive if ending == "eof" and whole(data, 200))
    check(sent > 0, "naive server (closes with the request unread): the device's lwIP sent %d RST"
          % sent)
    print("        naive server, as the host saw it: %d resets (bodies of %s bytes), %d answers whole "
          "with EOF, %d other (of %d)"
          % (host_resets, ", ".join(str(n) for (e, _), n in zip(naive, SIZES) if e == "reset") or "no",
             host_whole, len(SIZES) - host_resets - host_whole, len(SIZES)))
    return sent, host_resets


def test_keepalive_pipelining(port):
    print("keep-alive and pipelining", flush=True)
    with connect(port) as s:
        ok = 0
        buf = b""
        for i in range(50):
            body = b"%d" % i * 10
            s.sendall(request_bytes("POST", "/echo", body) if i % 2 else request_bytes("GET", "/hello"))
            status, _, data, buf = read_response(s, buf)
            ok += status == 200 and data == (body if i % 2 else b"Hello, World!")
        check(ok == 50, "50 requests on one connection: %d right" % ok)
    with connect(port) as s:
        reqs = b"".join(request_bytes("POST", "/echo", b"pipelined %d" % i) for i in range(10))
        s.sendall(reqs)
        buf, ok = b"", 0
        for i in range(10):
            status, _, data, buf = read_response(s, buf)
            ok += status == 200 and data == b"pipelined %d" % i
        check(ok == 10, "10 pipelined requests in one write: %d answers, in order" % ok)


def big(n):
    return bytes((ord("a") + i % 26) for i in range(n))


def test_backpressure(port):
    print("back-pressure: answers larger than lwIP's send buffer, made as it takes them", flush=True)
    status, _, data = fetch(port, "GET", "/big/256")
    check(status == 200 and data == big(256 << 10), "GET /big/256: 256 KiB, every byte right")
    before = stats(port)
    results = [None] * 4

    def client(i):
        try:
            with connect(port) as s:
                s.sendall(request_bytes("GET", "/big/128", close=True))
                data = b""
                while True:
                    chunk = s.recv(512 if i == 0 else 4096)
                    if not chunk:
                        break
                    data += chunk
                    if i == 0:
                        time.sleep(0.002)  # a slow reader
                results[i] = whole(data, 200) and data.split(b"\r\n\r\n", 1)[1] == big(128 << 10)
        except OSError as e:
            results[i] = repr(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok = sum(1 for r in results if r is True)
    after = quiet_stats(port)
    check(ok == 4, "four at once (one reading slowly): %d of 4 whole and right" % ok)
    blocked = after["write_blocked"] - before["write_blocked"]
    check(blocked > 0, "lwIP ran out of memory for them %d times, and they waited for it" % blocked)
    check(after["rst_sent"] == before["rst_sent"] and after["pbuf_free"] == after["pbuf_total"]
          and after["heap_used"] == 0, "no RST, and lwIP's memory all back")


def test_thousand(port):
    print("1,000 requests, then the device's memory", flush=True)
    base = quiet_stats(port)
    done = 0
    t0 = time.time()
    # 20 keep-alive connections of 45 requests, and 100 of one request each
    for c in range(20):
        with connect(port) as s:
            buf = b""
            for i in range(45):
                if i % 3 == 0:
                    s.sendall(request_bytes("POST", "/echo", b"x" * (i * 20)))
                elif i % 3 == 1:
                    s.sendall(request_bytes("GET", "/hello"))
                else:
                    s.sendall(request_bytes("POST", "/nothing", b"y" * 300))
                status, _, _, buf = read_response(s, buf)
                done += status in (200, 404)
    for i in range(100):
        status, _, _ = fetch(port, "GET", "/hello" if i % 2 else "/")
        done += status == 200
    elapsed = time.time() - t0
    check(done == 1000, "1,000 requests answered (%.1f s)" % elapsed)
    end = quiet_stats(port)
    print("        before: " + " ".join("%s=%d" % kv for kv in sorted(base.items())))
    print("        after:  " + " ".join("%s=%d" % kv for kv in sorted(end.items())))
    check(end["pbuf_free"] == end["pbuf_total"] == base["pbuf_free"],
          "free pbufs: %d of %d after, %d before" % (end["pbuf_free"], end["pbuf_total"], base["pbuf_free"]))
    for key in ("port_sockets", "active"):
        check(end[key] == base[key], "%s: %d after, %d before (with the one asking)" % (key, end[key], base[key]))
    for key in ("rx_queued", "seg_used", "heap_used", "late_allocs", "aborts"):
        check(end[key] == 0, "%s: %d" % (key, end[key]))
    check(end["rst_sent"] == base["rst_sent"], "no RST sent (%d)" % (end["rst_sent"] - base["rst_sent"]))
    return end


def test_vanish(port):
    print("a client that vanishes mid-body", flush=True)
    for how in ("FIN", "RST"):
        s = connect(port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: device\r\nContent-Length: 100000\r\n\r\n"
                  + b"z" * 20000)
        time.sleep(0.3)
        if how == "RST":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    st = quiet_stats(port)
    check(st["active"] == 1 and st["port_sockets"] == 2 and st["pbuf_free"] == st["pbuf_total"],
          "both connections freed (active %d, port sockets %d, with the one asking; free pbufs %d of %d)"
          % (st["active"], st["port_sockets"], st["pbuf_free"], st["pbuf_total"]))
    status, _, data = fetch(port, "GET", "/hello")
    check(status == 200 and data == b"Hello, World!", "the device serves on")


def test_crowd(port, n=12):
    print("%d clients at once, for a device with room for 4" % n, flush=True)
    results = [None] * n
    idle = [connect(port) for _ in range(2)]  # idle keep-alive connections hold two slots

    def client(i):
        try:
            with connect(port, timeout=60) as s:
                body = b"client %d" % i
                s.sendall(request_bytes("POST", "/echo", body, close=True))
                status, _, data, _ = read_response(s)
                results[i] = status == 200 and data == body
        except Exception as e:  # noqa: BLE001 - reported as a failure
            results[i] = repr(e)

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    ok = sum(1 for r in results if r is True)
    check(ok == n, "%d of %d answered (%.1f s)" % (ok, n, time.time() - t0))
    for i, r in enumerate(results):
        if r is not True:
            print("        client %d: %s" % (i, r))
    for s in idle:
        s.close()
    status, _, _ = fetch(port, "GET", "/hello")
    check(status == 200, "the device serves on")


def test_client(elf):
    """linger-client.elf fetches http://10.0.2.100/device.txt at boot; QEMU
    maps that address to a server here on 127.0.0.1 (guestfwd)."""
    print("the client on the device: a fetch at boot, through QEMU's guestfwd", flush=True)
    srv = socket.socket()
    srv.bind((HOST, 0))
    srv.listen(1)
    srv.settimeout(30)
    got = {}
    body = b"Hello from the host, %d." % os.getpid()

    def serve():
        try:
            c, _ = srv.accept()  # QEMU connects when it starts
            c.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            got["request"] = data
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % len(body) + body)
            c.close()
        except OSError as e:
            got["error"] = repr(e)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    port = free_port()
    log_path = os.path.join(ROOT, "build-device", "console-client.log")
    env = dict(os.environ, DEVICE_FETCH_PORT=str(srv.getsockname()[1]))
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "run-device.sh"), str(port), elf],
                            stdout=open(log_path, "wb"), stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        deadline = time.time() + 30
        console = ""
        while time.time() < deadline and "fetch: start-up arena" not in console:
            time.sleep(0.2)
            console = open(log_path, "rb").read().decode("latin-1")
        line = next((l for l in console.splitlines() if l.startswith("fetch http")), "(none)")
        print("        console: " + line.strip())
        check(line.strip().endswith("status 200, %d bytes: %s" % (len(body), body.decode())),
              "the device fetched the host's page and printed it")
        req = got.get("request", b"")
        check(req.startswith(b"GET /device.txt HTTP/1.1\r\n") and b"\r\nHost: 10.0.2.100\r\n" in req,
              "the host saw GET /device.txt, Host: 10.0.2.100")
        st = stats(port)
        check(st["late_allocs"] == 0,
              "and the device serves on, allocating nothing (late_allocs %d)" % st["late_allocs"])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        srv.close()


def main():
    fw = os.path.join(ROOT, "build-device", "fw")
    elf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(fw, "linger-device.elf")
    client_elf = sys.argv[2] if len(sys.argv) > 2 else os.path.join(fw, "linger-client.elf")
    port, naive_port = free_port(), free_port()
    log_path = os.path.join(ROOT, "build-device", "console.log")
    log = open(log_path, "wb")
    env = dict(os.environ, DEVICE_NAIVE_PORT=str(naive_port))
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "run-device.sh"), str(port), elf],
                            stdout=log, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        # (QEMU may say things first: a frame it sent before the driver
        # enabled the receiver is dropped, and it tells.)
        seen = ""
        while "the device answers" not in seen:
            line = proc.stderr.readline().decode()
            if not line:
                print("device did not start:\n" + seen)
                return 1
            seen += line
        # run-device.sh's stderr is not read from here on: to a thread.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        print("device: 127.0.0.1:%d -> 10.0.2.15:80 (naive server: 127.0.0.1:%d -> :81)"
              % (port, naive_port))
        t0 = time.time()
        test_backpressure(port)
        test_curl(port)
        test_bug(port, naive_port)
        test_keepalive_pipelining(port)
        test_thousand(port)
        test_vanish(port)
        test_crowd(port)
        final = stats(port)
        print("device stats at the end: " + " ".join("%s=%d" % kv for kv in sorted(final.items())))
        print("(%.1f s)" % (time.time() - t0))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        log.close()
    test_client(client_elf)
    console = open(log_path, "rb").read().decode("latin-1")
    check("panic" not in console and "fault" not in console, "no panic or fault on the console")
    check(console.count("stats ") >= 2, "the device printed its figures on its console (%s)"
          % os.path.relpath(log_path, ROOT))
    if failures:
        print("device tests: %d FAILED" % len(failures))
        return 1
    print("device tests: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
