"""linger's TLS client (the `linger get/post` tool) against servers nobody
here wrote: Python's http.server wrapped in ssl, and aiohttp's server with
ssl (tests/tls/py_tls_server.py). Certificates that must be refused, each
with its exit status; truncation (no close_notify) told from a whole body;
sessions resumed; plain HTTP where TLS was expected.
"""
import os
import subprocess
import sys
import zlib

import pytest

from conftest import Server

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERN = bytes((ord("a") + i % 26) for i in range(1 << 20))
MIB = 1 << 20

EXIT_CERT_EXPIRED, EXIT_CERT_UNTRUSTED, EXIT_CERT_HOST = 24, 25, 26
EXIT_NO_RESPONSE, EXIT_TLS, EXIT_TLS_PLAIN, EXIT_TLS_TRUNCATED = 8, 23, 28, 30


def cli():
    path = os.environ.get("LINGER_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("LINGER_CLI is not set (run through ctest)")
    return path


def linger(*args, timeout=60):
    return subprocess.run([cli(), *[str(a) for a in args]], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def py_server(certs, cert="chain.pem", key="server.key", *flags):
    return Server([sys.executable, os.path.join(HERE, "py_tls_server.py"), certs(cert), certs(key),
                   *flags])


@pytest.fixture(scope="module")
def pyssl(certs):
    srv = py_server(certs)
    yield srv
    srv.proc.kill()
    srv.proc.wait()


def test_get_post_keepalive(pyssl, certs):
    base = f"https://localhost:{pyssl.port}"
    r = linger("get", "-v", "--cacert", certs("ca.pem"), f"{base}/hello", f"{base}/hello")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello from python" * 2
    assert b"1 connection(s) so far" in r.stderr.splitlines()[-1], r.stderr  # kept alive
    r = linger("post", "--cacert", certs("ca.pem"), f"{base}/echo", "-d", "x=1&y=2")
    assert r.returncode == 0 and r.stdout == b"x=1&y=2", r


def test_by_ip_address(pyssl, certs):
    """The certificate names 127.0.0.1 as an iPAddress: checked as one."""
    r = linger("get", "--cacert", certs("ca.pem"), f"https://127.0.0.1:{pyssl.port}/hello")
    assert r.returncode == 0, r.stderr


def test_session_resumed(pyssl, certs):
    url = f"https://localhost:{pyssl.port}/session"  # Connection: close: a new one each time
    r = linger("get", "--cacert", certs("ca.pem"), url, url, url)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"reused=0\nreused=1\nreused=1\n", r.stdout


def test_truncation_is_not_success(pyssl, certs):
    base = f"https://localhost:{pyssl.port}"
    r = linger("get", "--cacert", certs("ca.pem"), f"{base}/close-delimited?n=100000&notify=1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == PATTERN[:100000]
    r = linger("get", "--cacert", certs("ca.pem"), f"{base}/close-delimited?n=100000&notify=0")
    assert r.returncode == EXIT_TLS_TRUNCATED, r.stderr
    assert b"without TLS close_notify" in r.stderr
    assert r.stdout == PATTERN[:100000]  # every byte that came, but not as success
    # a framed answer is whole by its framing, close_notify or not
    r = linger("get", "--cacert", certs("ca.pem"), f"{base}/length-no-notify")
    assert r.returncode == 0 and r.stdout == b"framed", r


@pytest.mark.parametrize("cert,status", [
    ("expired", EXIT_CERT_EXPIRED),
    ("wronghost", EXIT_CERT_HOST),
    ("selfsigned", EXIT_CERT_UNTRUSTED),
    ("unknown", EXIT_CERT_UNTRUSTED),
])
def test_certificates_refused(certs, cert, status):
    srv = py_server(certs, f"{cert}.pem", f"{cert}.key")
    try:
        url = f"https://localhost:{srv.port}/hello"
        r = linger("get", "--cacert", certs("ca.pem"), url)
        assert r.returncode == status, r.stderr
        assert b"TLS: the server's certificate" in r.stderr
        # -v says what mbedTLS found
        r = linger("get", "-v", "--cacert", certs("ca.pem"), url)
        assert b"TLS handshake failed" in r.stderr, r.stderr
        # and -k takes it, loudly
        r = linger("get", "-k", url)
        assert r.returncode == 0 and r.stdout == b"hello from python", r
        assert b"WARNING: --insecure" in r.stderr
    finally:
        srv.proc.kill()
        srv.proc.wait()


def test_system_cas_do_not_know_the_test_ca(pyssl):
    r = linger("get", f"https://localhost:{pyssl.port}/hello")
    assert r.returncode == EXIT_CERT_UNTRUSTED, r.stderr


def test_plain_http_at_the_other_end(certs):
    srv = py_server(certs, "chain.pem", "server.key", "--plain")
    try:
        r = linger("get", "--cacert", certs("ca.pem"), f"https://localhost:{srv.port}/hello")
        assert r.returncode == EXIT_TLS_PLAIN, r.stderr
        r = linger("get", f"http://localhost:{srv.port}/hello")  # and plain is plain
        assert r.returncode == 0 and r.stdout == b"hello from python", r
    finally:
        srv.proc.kill()
        srv.proc.wait()


def test_aiohttp_server(certs, tmp_path):
    srv = py_server(certs, "chain.pem", "server.key", "--aiohttp")
    try:
        base = f"https://localhost:{srv.port}"
        ca = certs("ca.pem")
        r = linger("get", "--cacert", ca, f"{base}/hello")
        assert r.returncode == 0 and r.stdout == b"hello from aiohttp", r
        r = linger("get", "--cacert", ca, f"{base}/chunked?n=300000")
        assert r.returncode == 0 and r.stdout == PATTERN[:300000], r.stderr
        r = linger("get", "--cacert", ca, f"{base}/download?n={MIB}")
        assert r.returncode == 0 and r.stdout == PATTERN[:MIB], r.stderr
        for n in (0, 1, 1000, 65536, MIB):
            body = os.urandom(n)
            f = tmp_path / f"body{n}"
            f.write_bytes(body)
            r = linger("post", "--cacert", ca, f"{base}/echo", "--data-file", f)
            assert r.returncode == 0, r.stderr
            assert zlib.crc32(r.stdout) == zlib.crc32(body) and len(r.stdout) == n
    finally:
        srv.proc.kill()
        srv.proc.wait()


def test_client_certificate(certs):
    """Mutual TLS: a server that asks for a client certificate from the
    test CA gets linger's (--cert/--key), and refuses a client without one."""
    srv = py_server(certs, "chain.pem", "server.key", "--client-ca", certs("ca.pem"))
    try:
        url = f"https://localhost:{srv.port}/whoami"
        r = linger("get", "--cacert", certs("ca.pem"), "--cert", certs("server.pem"), "--key",
                   certs("server.key"), url)
        assert r.returncode == 0 and r.stdout == b"cn=localhost\n", r
        # none: the server refuses with an alert, which its close (with our
        # last flight unread) may overtake with a reset
        r = linger("get", "--cacert", certs("ca.pem"), url)
        assert r.returncode in (EXIT_TLS, EXIT_NO_RESPONSE), r
        assert b"fatal TLS alert" in r.stderr or b"reset" in r.stderr, r.stderr
    finally:
        srv.proc.kill()
        srv.proc.wait()


# --- servers that break the handshake: each failure its own exit status ---

EXIT_TIMEOUT, EXIT_TLS_CUT = 7, 29


class RawServer:
    """A listener on 127.0.0.1 (a port the kernel picks) whose one job,
    for every connection, is `act(sock)`: what a broken TLS server does."""

    def __init__(self, act):
        import socket
        import threading
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.act = act
        self.conns = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            try:
                self.act(c)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def read_client_hello(c):
    c.settimeout(10)
    data = c.recv(4096)
    assert data[:1] == b"\x16", data[:16]  # a handshake record
    return data


def cut_after_half_a_server_hello(c):
    read_client_hello(c)
    c.sendall(b"\x16\x03\x03\x00\x50\x02\x00\x00\x4c\x03\x03" + b"0123456789")
    c.shutdown(2)  # SHUT_RDWR: FIN in the middle of the handshake


def garbage_server_hello(c):
    read_client_hello(c)
    c.sendall(b"\x16\x03\x03\x00\x08garbage!")


def say_nothing(c):
    read_client_hello(c)  # and never answer


@pytest.mark.parametrize("act,status,words", [
    (cut_after_half_a_server_hello, EXIT_TLS_CUT, b"closed in the middle of the TLS handshake"),
    (garbage_server_hello, EXIT_TLS, b"malformed"),
])
def test_broken_handshakes(certs, act, status, words):
    srv = RawServer(act)
    try:
        r = linger("get", "--cacert", certs("ca.pem"), f"https://localhost:{srv.port}/")
        assert r.returncode == status, r.stderr
        assert words in r.stderr, r.stderr
    finally:
        srv.close()


def test_slow_handshake_obeys_a_longer_timeout(certs):
    """A server that answers the ClientHello after 10.5 s: past the TLS
    default (10 s), which ended it there whatever --timeout said, but
    within --timeout 30, which the handshake now obeys."""
    import ssl
    import time

    def late(c):
        time.sleep(10.5)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certs("chain.pem"), certs("server.key"))
        with ctx.wrap_socket(c, server_side=True) as s:
            got = b""
            while b"\r\n\r\n" not in got:
                got += s.recv(4096)
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlate")

    srv = RawServer(late)
    try:
        r = linger("get", "--timeout", "30", "--cacert", certs("ca.pem"),
                   f"https://localhost:{srv.port}/")
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"late", r
    finally:
        srv.close()


def test_stalled_handshake_obeys_a_short_timeout(certs):
    """The same server with --timeout 1: the request's deadline comes in the
    middle of the handshake and says so (not "waiting for the response"),
    after a second and the close's linger (close_timeout_ms, 2 s)."""
    import time
    srv = RawServer(say_nothing)
    try:
        t0 = time.monotonic()
        r = linger("get", "--timeout", "1", "--cacert", certs("ca.pem"),
                   f"https://127.0.0.1:{srv.port}/")
        took = time.monotonic() - t0
        assert r.returncode == EXIT_TIMEOUT, r.stderr
        assert b"timed out in the TLS handshake" in r.stderr, r.stderr
        assert 0.9 < took < 4.5, took
    finally:
        srv.close()


def ws_cli(*args, data, replies=0, until_exit=False, timeout=60):
    """`linger ws`: data written to its stdin, which is closed (that begins
    the closing handshake) once `replies` lines came back, or (until_exit)
    once it ended by itself; (exit status, stdout, stderr)."""
    proc = subprocess.Popen([cli(), "ws", *[str(a) for a in args]], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # it ended before reading it all (a refused handshake)
        out = b"".join(proc.stdout.readline() for _ in range(replies))
        if until_exit:
            proc.wait(timeout=timeout)
        proc.stdin.close()
        proc.stdin = None  # (closed here: communicate has nothing to send)
        rest, err = proc.communicate(timeout=timeout)
        return proc.returncode, out + rest, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_wss_against_python_websockets(certs):
    """`linger ws wss://` (the WebSocket client on the TLS transport) against
    Python's websockets served over ssl: messages echoed whole (a 100 KB
    one across many records), the certificate checked as `linger get`
    checks it, the server's close code told."""
    srv = Server([sys.executable, os.path.join(HERE, "py_wss_server.py"), certs("chain.pem"),
                  certs("server.key")])
    try:
        url = f"wss://localhost:{srv.port}/"
        lines = b"hello\n" + PATTERN[:100000] + b"\n" + "d\u00e9j\u00e0 vu\n".encode()
        code, out, err = ws_cli("-q", "--cacert", certs("ca.pem"), url, data=lines, replies=3)
        assert code == 0, err
        assert out == lines
        code, out, err = ws_cli("--cacert", certs("ca.pem"), url, data=b"close 4000\n",
                                until_exit=True)
        assert code == 18 and b"4000 as asked" in err, (code, err)
        code, out, err = ws_cli(url, data=b"x\n")  # the system's CAs do not know the test CA
        assert code == EXIT_CERT_UNTRUSTED and b"--cacert" in err, (code, err)
        code, out, err = ws_cli("-k", "-q", url, data=b"unchecked\n", replies=1)
        assert code == 0 and out == b"unchecked\n", (code, err)
        assert b"WARNING: --insecure" in err
    finally:
        srv.proc.kill()
        srv.proc.wait()
