"""TLS in static memory (scripts/tls_static_tests.sh builds the server):
linger's server in its static-memory mode and everything of TLS in one
block given to lg_tls_memory. Python's ssl clients check that it serves
within the block, that a connection finding the block full waits for room
(its handshake not begun) and is then served, that a block too small for
any session refuses a connection before the handshake (a clean EOF, not a
reset, and no failed handshake), and that linger allocates nothing once it
listens.
"""
import os
import socket
import ssl
import subprocess
import threading

import pytest

HOST = "127.0.0.1"


def _env(var):
    v = os.environ.get(var)
    if not v:
        pytest.skip(f"{var} is not set (run through scripts/tls_static_tests.sh)")
    return v


class Server:
    def __init__(self, block):
        certs = _env("LINGER_TLS_CERTS")
        self.proc = subprocess.Popen([_env("LINGER_TLS_STATIC_SERVER"),
                                      os.path.join(certs, "chain.pem"),
                                      os.path.join(certs, "server.key"), str(block)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(self.proc.stderr.read().decode())
        self.port = int(line)
        self.ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))

    def stop(self):
        """Close its stdin: it shuts down. Returns its log; it must exit 0
        having allocated nothing after start."""
        try:
            _, err = self.proc.communicate(timeout=20)  # (closes stdin)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
        log = err.decode(errors="replace")
        assert self.proc.returncode == 0, log
        assert "allocations after start: 0\n" in log, log
        return log


@pytest.fixture
def server(request):
    srv = Server(request.param)
    yield srv
    if srv.proc.poll() is None:
        srv.proc.kill()
        srv.proc.communicate()


def hello(s):
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


class Client(threading.Thread):
    """Connects, handshakes (noting when), asks GET /hello."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.handshaken = threading.Event()
        self.answer, self.error, self.sock = None, None, None
        self.go = threading.Event()  # set: ask, then close
        self.start()

    def run(self):
        try:
            with socket.create_connection((HOST, self.srv.port), timeout=30) as raw:
                with self.srv.ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    self.handshaken.set()
                    self.go.wait(30)
                    self.answer = hello(s)
        except Exception as e:
            self.error = e


OK = b"\r\n\r\nhello from static memory\n"


@pytest.mark.parametrize("server", [100_000], indirect=True)
def test_a_full_block_makes_newcomers_wait_then_serves_them(server):
    """About two sessions fit in 100 kB (x86-64, 16 KiB records): the
    connections after them are not handshaken while the block is full, and
    are served once a session closes."""
    held = []
    waiting = None
    for _ in range(8):
        c = Client(server)
        if not c.handshaken.wait(1.5):
            waiting = c
            break
        held.append(c)
    assert waiting is not None and 1 <= len(held) < 8, len(held)
    assert waiting.error is None, waiting.error
    held[0].go.set()  # one session ends: room for the waiting one
    held[0].join(30)
    assert held[0].answer.endswith(OK), held[0].answer
    assert waiting.handshaken.wait(20)
    for c in held[1:] + [waiting]:
        c.go.set()
        c.join(30)
        assert c.error is None, c.error
        assert c.answer.startswith(b"HTTP/1.1 200 OK") and c.answer.endswith(OK), c.answer
    log = server.stop()
    assert "handshake failed" not in log, log


@pytest.mark.parametrize("server", [150_000], indirect=True)
def test_many_at_once_all_served(server):
    clients = [Client(server) for _ in range(12)]
    for c in clients:
        c.go.set()
    for c in clients:
        c.join(60)
        assert c.error is None, c.error
        assert c.answer.endswith(OK), c.answer
    log = server.stop()
    assert "handshake failed" not in log, log


@pytest.mark.parametrize("server", [8_000], indirect=True)
def test_no_room_for_any_session_is_refused_before_the_handshake(server):
    """The context fits, a session does not: the connection is closed
    gracefully before its handshake (an EOF where the ServerHello would
    be, never a reset), and the server says why."""
    for _ in range(3):
        with socket.create_connection((HOST, server.port), timeout=10) as raw:
            # (an EOF in OpenSSL's words, whichever it picks: not ConnectionResetError)
            with pytest.raises((ssl.SSLEOFError, ssl.SSLZeroReturnError)):
                server.ctx.wrap_socket(raw, server_hostname="localhost")
    log = server.stop()
    assert log.count("no TLS session for a connection: out of memory") == 3, log
    assert "handshake failed" not in log, log
