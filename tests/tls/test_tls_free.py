"""A TLS server freed with connections in every state (tls_free_server.c).

Python's ssl holds connections to one server (one handshake at a time) in
each state a connection can be in: established and idle, half a request
head sent, a body half read, an endless answer to a client that does not
read, in the middle of a handshake (a ClientHello answered, then nothing),
and waiting for the handshake slot. Then the server is freed with all of
them open ("free": the loop stopped, lg_server_free at once), or after a
shutdown ("shutdown"), and:

- every connection of the first server ends for its client (nothing is
  left open in the process);
- linger's heap holds nothing afterwards, and a TLS block (lg_tls_memory)
  has every byte back: its largest free piece is what it was at the start;
- a second server on the same memory serves a request, and is freed as
  cleanly.

LINGER_TLS_FREE_SERVER: the program; LINGER_TLS_FREE_BLOCK: its TLS block
in bytes (0: on the heap); LINGER_TLS_FREE_VALGRIND=1: run it under
valgrind, which must report no error and no leak (the free only: a
shutdown under valgrind waits for its send timeouts, scaled up there).
"""
import os
import socket
import ssl
import subprocess
import time

import pytest

HOST = "127.0.0.1"


def _env(var):
    v = os.environ.get(var)
    if not v:
        pytest.skip(f"{var} is not set (run through ctest or scripts/tls_static_tests.sh)")
    return v


VALGRIND = os.environ.get("LINGER_TLS_FREE_VALGRIND") == "1"
SLOW = 5 if VALGRIND else 1  # time is slower under valgrind


class FreeServer:
    def __init__(self):
        certs = _env("LINGER_TLS_CERTS")
        self.block = int(_env("LINGER_TLS_FREE_BLOCK"))
        argv = [_env("LINGER_TLS_FREE_SERVER"), os.path.join(certs, "chain.pem"),
                os.path.join(certs, "server.key"), str(self.block), str(3000 * SLOW)]
        if VALGRIND:
            argv = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
        self.port = self.port_line()

    def line(self):
        out = self.proc.stdout.readline().decode()
        if not out:
            self.proc.wait(30)
            raise AssertionError(f"the server ended: {self.proc.returncode}\n"
                                 f"{self.proc.stderr.read().decode(errors='replace')}")
        return out.strip()

    def port_line(self):
        words = self.line().split()
        assert words[0] == "port", words
        return int(words[1])

    def tell(self, what):
        self.proc.stdin.write(what.encode() + b"\n")
        self.proc.stdin.flush()

    def figures(self):
        """The lines round_end prints, as a dict."""
        got = {}
        for _ in range(4 if self.block else 3):
            name, _, value = self.line().partition(": ")
            got[name] = value
        return got

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def server():
    srv = FreeServer()
    yield srv
    srv.kill()


def client_hello(ctx):
    """The bytes of a ClientHello, made in memory."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def tls(srv, rcvbuf=None):
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(20 * SLOW)
    raw.connect((HOST, srv.port))
    return srv.ctx.wrap_socket(raw, server_hostname="localhost")


def every_state(srv):
    """The connections, in the order the one handshake slot allows."""
    conns = {}
    conns["idle"] = tls(srv)
    conns["half head"] = tls(srv)
    conns["half head"].sendall(b"GET /hello HTTP/1.1\r\nHost: loc")
    conns["half body"] = tls(srv)
    conns["half body"].sendall(b"POST /upload HTTP/1.1\r\nHost: localhost\r\n"
                               b"Content-Length: 100000\r\n\r\n" + b"b" * 1000)
    assert srv.line() == "half-read"
    conns["not reading"] = tls(srv, rcvbuf=4096)
    conns["not reading"].sendall(b"GET /endless HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert conns["not reading"].recv(16).startswith(b"HTTP/1.1 200")
    # mid-handshake: the ClientHello answered (the server's flight came), no more
    mid = socket.create_connection((HOST, srv.port), timeout=20 * SLOW)
    mid.sendall(client_hello(srv.ctx))
    assert mid.recv(5)[:1] == b"\x16", "no ServerHello"
    conns["mid-handshake"] = mid
    # waiting for the handshake slot the one above holds: no answer
    queued = socket.create_connection((HOST, srv.port), timeout=20 * SLOW)
    queued.sendall(client_hello(srv.ctx))
    queued.settimeout(0.5)
    with pytest.raises(socket.timeout):
        queued.recv(5)
    conns["waiting"] = queued
    time.sleep(0.5)  # the endless answer fills the socket's buffers
    return conns


def ends(sock):
    """The connection ends for its client (EOF or reset) within a few
    seconds, after whatever was on its way."""
    sock.settimeout(5 * SLOW)
    try:
        for _ in range(10000):
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def check_clean(srv, got, opened):
    assert int(got["open at free"]) == opened, got
    assert got["heap in use"] == "0", got
    if srv.block:
        largest, _, at_start = got["block"].partition(" of ")
        assert largest == at_start, f"TLS block: {got} (bytes still held or lost)"


def second_round(srv):
    """A second server on the same memory serves; stdin's end stops it."""
    srv.port = srv.port_line()
    with tls(srv) as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"hello after the free\n"), answer
    srv.proc.stdin.close()
    check_clean(srv, srv.figures(), 0)
    srv.proc.wait(timeout=30 * SLOW)
    log = srv.proc.stderr.read().decode(errors="replace")
    assert srv.proc.returncode == 0, log
    return log


def test_free_with_every_state_open(server):
    conns = every_state(server)
    server.tell("free")
    got = server.figures()
    check_clean(server, got, len(conns))
    still_open = [name for name, c in conns.items() if not ends(c)]
    assert not still_open, f"still open after lg_server_free: {still_open}"
    for c in conns.values():
        c.close()
    second_round(server)


def test_shutdown_then_free_with_every_state_open(server):
    conns = every_state(server)
    server.tell("shutdown")
    # the client that does not read holds the shutdown for a send timeout
    got = server.figures()
    check_clean(server, got, 0)
    still_open = [name for name, c in conns.items() if not ends(c)]
    assert not still_open, f"still open after the shutdown: {still_open}"
    for c in conns.values():
        c.close()
    second_round(server)
