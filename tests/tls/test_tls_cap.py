"""The server's caps on TLS memory (lg_tls_server_config.max_sessions and
max_handshakes): a connection beyond them waits, its ClientHello unread,
and is served once a slot frees; none fails in the middle of a handshake.
Python's ssl clients against interop_server --tls-max-sessions/-handshakes.
"""
import socket
import ssl
import threading
import time

import pytest

from conftest import client_context, start_linger

HOST = "127.0.0.1"


def stop(srv):
    code, log = srv.stop()
    assert code == 0 and "aborted" not in log, log
    return log


class Client(threading.Thread):
    """Connects, handshakes (noting when it is done), asks GET /items/N
    with Connection: close and reads the answer to its close_notify."""

    def __init__(self, port, ctx, n):
        super().__init__(daemon=True)
        self.port, self.ctx, self.n = port, ctx, n
        self.handshaken = threading.Event()
        self.answer, self.error = None, None
        self.start()

    def run(self):
        try:
            with socket.create_connection((HOST, self.port), timeout=30) as raw:
                with self.ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    self.handshaken.set()
                    self.answer = ask(s, self.n)
        except Exception as e:  # (reported by the test)
            self.error = e


def ask(s, n):
    s.sendall(b"GET /items/%d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % n)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def served(answer, n):
    return answer is not None and answer.startswith(b"HTTP/1.1 200 OK") and \
        answer.endswith(b"\r\n\r\nid=%d\n" % n)


def handshaken(port, ctx):
    raw = socket.create_connection((HOST, port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def test_beyond_max_sessions_waits_then_is_served(certs):
    srv = start_linger(certs, "chain.pem", "server.key", "--tls-max-sessions", "2")
    ctx = client_context(certs)
    try:
        held = [handshaken(srv.port, ctx) for _ in range(2)]
        waiting = [Client(srv.port, ctx, 10 + i) for i in range(4)]
        time.sleep(1.0)
        # The cap held: no third session while two are open.
        assert not any(c.handshaken.is_set() for c in waiting)
        for i, s in enumerate(held):
            assert served(ask(s, i), i)
            s.close()
        for c in waiting:
            c.join(30)
            assert c.error is None, c.error
            assert served(c.answer, c.n), c.answer
    finally:
        log = stop(srv)
    assert "handshake failed" not in log, log


def test_beyond_max_handshakes_waits(certs):
    """A client that connects and says nothing holds the one handshake
    slot: the next waits until it leaves, then is served."""
    srv = start_linger(certs, "chain.pem", "server.key", "--tls-max-handshakes", "1")
    ctx = client_context(certs)
    try:
        mute = socket.create_connection((HOST, srv.port), timeout=10)
        time.sleep(0.2)
        c = Client(srv.port, ctx, 7)
        assert not c.handshaken.wait(1.0)
        mute.close()  # its handshake is cut: the slot frees
        c.join(30)
        assert c.error is None, c.error
        assert served(c.answer, 7), c.answer
    finally:
        stop(srv)


def test_many_at_once_none_fails(certs):
    """16 clients at once against 3 sessions and 2 handshakes: every one
    served, and the server logs no failed handshake."""
    srv = start_linger(certs, "chain.pem", "server.key", "--tls-max-sessions", "3",
                       "--tls-max-handshakes", "2", "--max-conns", "32")
    ctx = client_context(certs)
    try:
        clients = [Client(srv.port, ctx, i) for i in range(16)]
        for c in clients:
            c.join(60)
            assert c.error is None, c.error
            assert served(c.answer, c.n), c.answer
    finally:
        log = stop(srv)
    assert "handshake failed" not in log, log


def test_a_wait_ends_at_the_header_timeout_with_a_clean_eof(certs):
    """A connection still waiting when the server's header timeout comes is
    closed as a slow client is: before a byte of it was read, so its peer
    reads an EOF (no reset), and no handshake failed."""
    srv = start_linger(certs, "chain.pem", "server.key", "--tls-max-sessions", "1",
                       "--header-timeout-ms", "1500", "--idle-timeout-ms", "20000")
    ctx = client_context(certs)
    try:
        held = handshaken(srv.port, ctx)
        held.sendall(b"GET /items/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert held.recv(65536).startswith(b"HTTP/1.1 200 OK")  # kept alive: the slot is held
        t0 = time.monotonic()
        with socket.create_connection((HOST, srv.port), timeout=20) as raw:
            # (an EOF in OpenSSL's words, whichever it picks: not ConnectionResetError)
            with pytest.raises((ssl.SSLEOFError, ssl.SSLZeroReturnError)):
                ctx.wrap_socket(raw, server_hostname="localhost")
        assert 1.0 < time.monotonic() - t0 < 10
        held.close()
    finally:
        log = stop(srv)
    assert "handshake failed" not in log, log
