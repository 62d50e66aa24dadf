"""The conformance suite's client side: linger's WebSocket client
(ws_echo_client.c: it echoes every message) against a reference server
written here from RFC 6455 (wsraw.py), after the Autobahn testsuite's
cases 1 to 7 as its fuzzing server runs them against clients: the server
sends, the client must echo, answer pings, and refuse with the right Close
code (1002, 1007, 1009) what a server may not send.

It checks the closing handshake as RFC 6455 7.1.1 wants it: the client
answers the server's Close and then waits for the server to close TCP
first (it does not send FIN before the server's), but not forever.
"""
import os
import socket
import subprocess
import threading
import time

import pytest

import wsraw
from conftest import binary, die_with_parent
from wsraw import BINARY, CLOSE, CONT, PING, PONG, TEXT


class Case:
    """One connection of the echo client to a reference server running
    `script(peer)` on its own thread."""

    def __init__(self, script, protocol=None, extra="", args=()):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.script, self.protocol, self.extra = script, protocol, extra
        self.error = None
        self.request = ""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self.proc = subprocess.run(
            [binary("LINGER_WS_ECHO_CLIENT"), f"ws://127.0.0.1:{self.port}/chat", *args],
            capture_output=True, text=True, timeout=30, preexec_fn=die_with_parent)
        self.thread.join(10)
        self.lsock.close()
        if self.error:
            raise self.error
        self.lines = self.proc.stdout.splitlines()

    def _serve(self):
        try:
            self.lsock.settimeout(10)
            sock, _ = self.lsock.accept()
            sock.settimeout(10)
            peer, self.request = wsraw.server_handshake(sock, self.protocol, self.extra)
            self.script(peer)
            peer.close()
        except BaseException as e:  # reported in the test's thread
            self.error = e

    def closed(self):
        """The client's report: (code, error name, reason)."""
        last = [l for l in self.lines if l.startswith("close ")]
        assert last, self.lines
        parts = last[-1].split(" ", 3)
        return int(parts[1]), parts[2], parts[3] if len(parts) > 3 else ""


def server_closes(peer, code=1000, reason=b""):
    """The server's closing handshake: its Close, the client's answer with
    the same code, then the server's FIN first; the client's FIN after."""
    peer.send_close(code, reason)
    got, _ = peer.expect_close()
    assert got == code
    # the client waits for our FIN rather than sending its own first
    peer.sock.settimeout(0.2)
    try:
        early = peer.sock.recv(1)
    except socket.timeout:
        early = None
    assert early is None, "the client closed TCP before the server"
    peer.sock.shutdown(socket.SHUT_WR)
    assert peer.expect_eof()


def client_fails(code):
    def check(peer):
        got, _ = peer.expect_close()
        assert got == code
        peer.send_close(got)
        peer.sock.shutdown(socket.SHUT_WR)
        assert peer.expect_eof()
    return check


def echoes(*messages, chop=None):
    """The client echoes each message; then the server closes."""
    def script(peer):
        for op, payload in messages:
            peer.send_frame(op, payload, chop=chop)
            assert peer.recv_message(timeout=10) == (op, payload)
            # (echoed masked, as a client must)
        server_closes(peer)
    return script


# --- 1: framing -----------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 1 << 20])
def test_1_echo(n):
    c = Case(echoes((TEXT, b"*" * n), (BINARY, os.urandom(n))))
    assert c.closed() == (1000, "LG_OK", "")
    assert c.proc.returncode == 0


def test_1_chopped():
    c = Case(echoes((TEXT, b"x" * 300), (BINARY, os.urandom(2000)), chop=1))
    assert c.closed() == (1000, "LG_OK", "")


def test_masked_frames_only():
    """Everything the client sends is masked."""
    def script(peer):
        peer.send_frame(TEXT, b"mask me")
        fin, rsv, op, payload, masked = peer.recv_frame()
        assert (fin, rsv, op, payload, masked) == (True, 0, TEXT, b"mask me", True)
        server_closes(peer)
    Case(script)


def test_handshake_request():
    def script(peer):
        server_closes(peer)
    c = Case(script)
    req = c.request.lower()
    assert req.startswith("get /chat http/1.1\r\n")
    for line in ("upgrade: websocket", "connection: upgrade", "sec-websocket-version: 13"):
        assert line in req
    key = [l for l in c.request.split("\r\n") if l.lower().startswith("sec-websocket-key:")][0]
    assert len(key.split(":", 1)[1].strip()) == 24


# --- 2: ping/pong ---------------------------------------------------------

@pytest.mark.parametrize("payload", [b"", b"Hello", bytes(range(125))])
def test_2_ping(payload):
    def script(peer):
        peer.send_frame(PING, payload)
        _, _, op, got, masked = peer.recv_frame()
        assert (op, got, masked) == (PONG, payload, True)
        server_closes(peer)
    Case(script)


def test_2_5_ping_126():
    c = Case(lambda peer: (peer.send_frame(PING, b"x" * 126), client_fails(1002)(peer)))
    assert c.closed()[:2] == (1006, "LG_ERR_WS_CONTROL_FRAME")


def test_2_7_unsolicited_pong():
    def script(peer):
        peer.send_frame(PONG, b"unasked")
        peer.send_frame(TEXT, b"after")
        assert peer.recv_message() == (TEXT, b"after")
        server_closes(peer)
    Case(script)


# --- 3, 4: reserved bits and opcodes --------------------------------------

@pytest.mark.parametrize("rsv", range(1, 8))
def test_3_rsv(rsv):
    c = Case(lambda peer: (peer.send_frame(TEXT, b"x", rsv=rsv), client_fails(1002)(peer)))
    assert c.closed()[:2] == (1006, "LG_ERR_WS_RESERVED_BITS")


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_4_opcodes(opcode):
    c = Case(lambda peer: (peer.send_frame(opcode, b"x"), client_fails(1002)(peer)))
    assert c.closed()[:2] == (1006, "LG_ERR_WS_OPCODE")


def test_masked_frame_from_a_server():
    c = Case(lambda peer: (peer.send_frame(TEXT, b"masked", mask=True), client_fails(1002)(peer)))
    assert c.closed()[:2] == (1006, "LG_ERR_WS_MASK")


# --- 5: fragmentation -----------------------------------------------------

def test_5_fragments_with_pings():
    def script(peer):
        parts = [b"frag", b"", b"ment" * 100, b"!"]
        for i, p in enumerate(parts):
            peer.send_frame(TEXT if i == 0 else CONT, p, fin=i == len(parts) - 1)
            if i < len(parts) - 1:
                peer.send_frame(PING, b"%d" % i)
                _, _, op, got, _ = peer.recv_frame()
                assert (op, got) == (PONG, b"%d" % i)
        assert peer.recv_message() == (TEXT, b"".join(parts))
        server_closes(peer)
    Case(script)


@pytest.mark.parametrize("frames", [
    [(CONT, b"x", True)],
    [(CONT, b"x", False)],
    [(TEXT, b"a", False), (TEXT, b"b", True)],
    [(BINARY, b"a", False), (PING, b"", False)],
])
def test_5_refused(frames):
    def script(peer):
        for op, p, fin in frames:
            peer.send_frame(op, p, fin=fin)
        client_fails(1002)(peer)
    Case(script)


# --- 6: UTF-8 -------------------------------------------------------------

def test_6_valid_split_everywhere():
    text = "Hello-µ@ßöäüàá-UTF-8!! κόσμε \U0001f600".encode()

    def script(peer):
        for cut in range(1, len(text)):
            peer.send_frame(TEXT, text[:cut], fin=False)
            peer.send_frame(CONT, text[cut:])
            assert peer.recv_message() == (TEXT, text)
        server_closes(peer)
    Case(script)


@pytest.mark.parametrize("text", [b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ok\xff", b"\xe2\x82"])
def test_6_invalid(text):
    c = Case(lambda peer: (peer.send_frame(TEXT, text), client_fails(1007)(peer)))
    assert c.closed()[:2] == (1006, "LG_ERR_WS_UTF8")


def test_6_invalid_across_fragments():
    def script(peer):
        peer.send_frame(TEXT, "κόσμε".encode() + b"\xe2\x82", fin=False)
        peer.send_frame(CONT, b"\x28")
        client_fails(1007)(peer)
    Case(script)


# --- 7: close -------------------------------------------------------------

@pytest.mark.parametrize("code,reason", [(1000, b""), (1001, b"going"), (4000, b"*" * 123),
                                         (3000, "κόσμε".encode())])
def test_7_server_closes(code, reason):
    c = Case(lambda peer: server_closes(peer, code, reason))
    assert c.closed() == (code, "LG_OK", reason.decode())


def test_7_close_without_code():
    def script(peer):
        peer.send_frame(CLOSE, b"")
        got, _ = peer.expect_close()
        assert got is None  # answered without a code
        peer.sock.shutdown(socket.SHUT_WR)
        assert peer.expect_eof()
    c = Case(script)
    assert c.closed()[:2] == (1005, "LG_OK")


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2999, 5000])
def test_7_invalid_codes(code):
    c = Case(lambda peer: (peer.send_close(code), client_fails(1002)(peer)))
    assert c.closed()[:2] == (1006, "LG_ERR_WS_CLOSE_PAYLOAD")


def test_7_server_keeps_tcp_open():
    """A server that answers nothing more after the closing handshake and
    keeps TCP open: the client closes after its close timeout (300 ms),
    gracefully (FIN)."""
    def script(peer):
        peer.send_close(1000)
        assert peer.expect_close()[0] == 1000
        t0 = time.monotonic()
        assert peer.expect_eof(timeout=5)
        waited = time.monotonic() - t0
        assert 0.2 < waited < 3, waited
    c = Case(script, args=("--close-timeout", "300"))
    assert c.closed()[:2] == (1000, "LG_OK")


# --- 9: limits ------------------------------------------------------------

def test_9_too_big():
    def script(peer):
        peer.send_frame(BINARY, b"x" * ((1 << 20) + 1))
        client_fails(1009)(peer)
    c = Case(script)
    assert c.closed()[:2] == (1006, "LG_ERR_WS_TOO_BIG")


# --- the handshake's answer -----------------------------------------------

def test_subprotocol():
    c = Case(lambda peer: server_closes(peer), protocol="chat", args=("--protocol", "chat"))
    assert c.lines[0] == "open chat"
    assert "sec-websocket-protocol: chat" in c.request.lower()


@pytest.mark.parametrize("protocol,extra", [
    ("other", ""),                                            # not offered
    (None, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),  # none offered
])
def test_handshake_refused(protocol, extra):
    def script(peer):
        assert peer.expect_eof()  # the client gives up gracefully
    c = Case(script, protocol=protocol, extra=extra, args=("--protocol", "chat"))
    assert c.proc.returncode == 1
    assert c.closed()[:2] == (1006, "LG_ERR_WS_HANDSHAKE")
