"""nginx as the client: linger's server behind nginx's reverse proxy.

The most common way a small Linux box serves the web is an nginx in front
of the application. Here nginx (Debian's nginx-light, one process, a
configuration in a temporary directory) proxies to the interop server over
HTTP/1.1 with a pool of upstream keep-alive connections, once with nginx's
default request buffering and once streaming the request body through
(chunked upstream). Through it:

  - many small GETs reuse the upstream connections (linger sees a few
    connections, not one per request): keep-alive interoperates;
  - POST bodies from 0 B to 1 MiB are echoed whole, by length and chunked;
  - the original bug with nginx as the client: a route that answers before
    reading the body ("/early"), bodies from 0 B to 1 MiB. Whether linger
    discards the rest (within its budget) or closes gracefully (beyond it),
    nginx must pass every answer on and log no upstream error — no
    "reset by peer", no "prematurely closed" — and linger must abort
    nothing;
  - a streamed (chunked) answer of 3 MiB arrives whole.

nginx's error log is read at the end of each test: any line at level error
or worse fails it. nginx is forgiving: behind a server that closes with the
body unread (tests/interop/naive_server.c) it still passes most answers on,
but logs each reset ("readv() failed (104: Connection reset by peer) while
reading upstream"); the last test checks that it does, so that the log
check here can fail.
"""
import concurrent.futures
import http.client
import os
import sys
import zlib

import pytest

from conftest import pattern, start_naive, start_server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from nginx_proc import NginxProc  # noqa: E402  (tests/interop/nginx_proc.py)

NGINX_HTTP = """
    access_log off;
    client_max_body_size 8m;
    client_body_buffer_size 2m;
    upstream linger {{
        server 127.0.0.1:{backend};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://linger;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location /unbuffered/ {{
            proxy_pass http://linger/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}
"""

# Levels that mean something went wrong between nginx and linger. (The
# info level is on so that upstream resets, which nginx logs at error,
# come with their context; client-side info lines are expected.)
BAD_LEVELS = ("[error]", "[crit]", "[alert]", "[emerg]")


class Nginx(NginxProc):
    def __init__(self, backend_port):
        super().__init__(lambda tmp, port: NGINX_HTTP.format(port=port, backend=backend_port),
                         error_level="info")
        self.log_offset = 0

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def new_errors(self):
        """Lines at level error or worse logged since the last call."""
        with open(self.path("error.log"), errors="replace") as f:
            f.seek(self.log_offset)
            text = f.read()
            self.log_offset = f.tell()
        return [l for l in text.splitlines() if any(b in l for b in BAD_LEVELS)]


@pytest.fixture(scope="module")
def backend():
    srv = start_server("--max-body", str(4 << 20))
    yield srv
    code, err = srv.stop()
    assert code == 0, f"interop_server exited with {code}:\n{err}"


@pytest.fixture(scope="module")
def proxy(backend):
    n = Nginx(backend.port)
    yield n
    n.stop()


@pytest.fixture(autouse=True)
def clean_logs(proxy, backend):
    """Every test: nginx logs no upstream error, linger aborts nothing."""
    proxy.new_errors()
    before = backend.stats()
    yield
    after = backend.stats()
    errors = proxy.new_errors()
    assert not errors, "nginx logged:\n" + "\n".join(errors)
    assert after["aborts"] == before["aborts"], "linger aborted a connection (RST)"


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.getheaders(), r.read()


def test_keepalive_reuses_upstream_connections(proxy, backend):
    before = backend.stats()
    conn = proxy.conn()
    n = 300
    for i in range(n):
        status, _, body = request(conn, "GET", f"/items/{i}")
        assert status == 200
        assert body.decode().strip().endswith(str(i)), body
    conn.close()
    after = backend.stats()
    # Each stats call is a connection of its own, straight to linger.
    opened = after["connections"] - before["connections"] - 1
    served = after["requests"] - before["requests"] - 1
    assert served == n
    assert 1 <= opened <= 8, f"{opened} upstream connections for {n} requests"


SIZES = [0, 1, 1000, 65535, 65536, 65537, 300_000, 1 << 20]


@pytest.mark.parametrize("prefix", ["", "/unbuffered"])
def test_echo_bodies(proxy, prefix):
    conn = proxy.conn()
    for n in SIZES:
        body = os.urandom(n)
        status, _, got = request(conn, "POST", prefix + "/echo", body=body,
                                 headers={"Content-Type": "application/octet-stream"})
        assert status == 200, (n, got[:200])
        assert got == body, f"{n} bytes sent, {len(got)} echoed"
    conn.close()


def test_chunked_upload_streams_through(proxy):
    """Request buffering off: nginx forwards the client's chunked body as
    chunked; linger's streamed-body route counts it."""
    conn = proxy.conn()
    for n in (0, 5, 70_000, 1 << 20):
        data = pattern(n)
        pieces = [data[i:i + 8192] for i in range(0, n, 8192)]
        conn.putrequest("POST", "/unbuffered/upload")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for p in pieces:
            conn.send(b"%x\r\n%s\r\n" % (len(p), p))
        conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        text = r.read().decode()
        assert r.status == 200, text
        assert text.strip() == "bytes=%d crc=%08x" % (n, zlib.crc32(data)), text
    conn.close()


@pytest.mark.parametrize("prefix", ["", "/unbuffered"])
def test_early_answer_reaches_the_client(proxy, backend, prefix):
    """/early answers "OK" without reading the body. Every answer arrives,
    with nginx keeping its upstream connections when linger could discard
    the rest, and no upstream error whichever way linger ended."""
    before = backend.stats()
    jobs = [n for n in SIZES for _ in range(4)]

    def one(n):
        conn = proxy.conn()
        try:
            return n, request(conn, "POST", prefix + "/early", body=os.urandom(n),
                              headers={"Content-Type": "application/octet-stream"})
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        for n, (status, _, body) in pool.map(one, jobs):
            assert status == 200, (n, status, body[:200])
            assert body.startswith(b"OK"), (n, body[:200])
    after = backend.stats()
    assert after["requests"] - before["requests"] - 1 == len(jobs)
    # Bodies over the discard budget (64 KiB) close their connection,
    # gracefully; nginx's close must have ended each drain at once, not
    # after linger's 5-second wait.
    assert after["linger_timeouts"] == before["linger_timeouts"]
    # Both of rule 3's paths were taken: bodies within the discard budget
    # were read and dropped (the upstream connection kept), larger ones
    # closed their connection.
    budget = 64 << 10
    assert after["bodies_discarded"] - before["bodies_discarded"] == \
        sum(1 for n in jobs if 0 < n <= budget)
    assert after["closes_for_body"] - before["closes_for_body"] == \
        sum(1 for n in jobs if n > budget)


def test_streamed_answer(proxy):
    conn = proxy.conn()
    for prefix in ("", "/unbuffered"):
        status, headers, body = request(conn, "GET", prefix + "/stream?bytes=3145728&piece=10000")
        assert status == 200
        assert len(body) == 3 << 20
        assert body == pattern(3 << 20)
    conn.close()


def test_naive_server_makes_nginx_log_resets():
    """The control: the same early answers from a server that reads the
    head, answers and close()s leave nginx logging upstream resets."""
    srv = start_naive()
    n = Nginx(srv.port)
    try:
        for _ in range(4):
            conn = n.conn()
            try:
                request(conn, "POST", "/early", body=os.urandom(1 << 20))
            except (OSError, http.client.HTTPException):
                pass  # a 502 or a cut answer is the point; the log says why
            finally:
                conn.close()
        errors = n.new_errors()
        assert errors, "nginx logged no upstream error behind the naive server"
        assert any("reset by peer" in e or "prematurely closed" in e for e in errors), errors
    finally:
        n.stop()
        srv.stop()
