"""Raw WebSocket frames over blocking sockets, written here from RFC 6455
(not from linger's code): what the conformance suites send and expect.

A Peer wraps a connected socket: send_frame() builds any frame, right or
wrong (a length form chosen, a mask or none, RSV bits, any opcode);
recv_frame() reads one, unmasking what a client sent. The handshakes of
both sides are here too.
"""
import base64
import hashlib
import os
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_value(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """The bytes of one frame. mask: 4 bytes, True for a random key, None
    for none. length: the length to announce (default: the payload's)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    if mask is True:
        mask = os.urandom(4)
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if mask:
        head += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + payload


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


class Closed(Exception):
    """The connection ended (EOF) where a frame was expected."""


class Peer:
    def __init__(self, sock, client=True):
        self.sock = sock
        self.client = client  # we are the client: we mask
        self.buf = b""

    # --- sending ---
    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=None, chop=None):
        if mask is None and self.client:
            mask = True
        if mask is False:
            mask = None
        data = frame(opcode, payload, fin=fin, rsv=rsv, mask=mask)
        if chop:  # in pieces of chop bytes, one send each
            for i in range(0, len(data), chop):
                self.sock.sendall(data[i:i + chop])
                time.sleep(0.0005)
        else:
            self.sock.sendall(data)

    def send_close(self, code=None, reason=b""):
        self.send_frame(CLOSE, close_payload(code, reason))

    # --- receiving ---
    def _need(self, n, timeout):
        end = time.monotonic() + timeout
        while len(self.buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise Closed("EOF")
            self.buf += chunk

    def recv_frame(self, timeout=5.0):
        """(fin, rsv, opcode, payload, masked)"""
        self._need(2, timeout)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        at = 2
        if n == 126:
            self._need(4, timeout)
            n = struct.unpack("!H", self.buf[2:4])[0]
            at = 4
        elif n == 127:
            self._need(10, timeout)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            at = 10
        masked = bool(b1 & 0x80)
        key = None
        if masked:
            self._need(at + 4, timeout)
            key = self.buf[at:at + 4]
            at += 4
        self._need(at + n, timeout)
        payload = self.buf[at:at + n]
        self.buf = self.buf[at + n:]
        if key:
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload, masked

    def recv_message(self, timeout=5.0):
        """A whole data message, answering nothing: (opcode, payload), or
        ('close', code) when a Close comes instead."""
        opcode, parts = None, []
        while True:
            fin, _, op, payload, _ = self.recv_frame(timeout)
            if op == CLOSE:
                return "close", close_code(payload)
            if op in (PING, PONG):
                continue
            if op != CONT:
                opcode = op
            parts.append(payload)
            if fin:
                return opcode, b"".join(parts)

    def expect_close(self, timeout=5.0):
        """Skip to the peer's Close; its (code, reason), or (None, b'') for
        an empty one. Raises Closed if the connection ends first."""
        while True:
            _, _, op, payload, _ = self.recv_frame(timeout)
            if op == CLOSE:
                return close_code(payload), payload[2:]

    def expect_eof(self, timeout=5.0):
        """The peer closed TCP (FIN): True. A reset raises; data is skipped."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no EOF in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                return True

    def close(self):
        self.sock.close()


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


def client_handshake(host, port, path="/ws", headers=(), protocols=(), rcvbuf=None, timeout=5.0):
    """Connect and do a client's opening handshake: (Peer, status, head).
    The Peer is None when the status is not 101."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if protocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
    lines += list(headers)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    text = head.decode("latin-1")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/1.1 ") else 0
    if status != 101:
        s.close()
        return None, status, text
    assert f"Sec-WebSocket-Accept: {accept_value(key)}\r\n" in text, text
    return Peer(s, client=True), status, text


def server_handshake(sock, protocol=None, extra=""):
    """Read a client's opening handshake on an accepted socket and answer
    101: (Peer, request head)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise Closed("EOF in the handshake")
        head += chunk
    text = head.decode("latin-1")
    key = None
    for line in text.split("\r\n"):
        if line.lower().startswith("sec-websocket-key:"):
            key = line.split(":", 1)[1].strip()
    answer = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Accept: {accept_value(key)}\r\n")
    if protocol:
        answer += f"Sec-WebSocket-Protocol: {protocol}\r\n"
    sock.sendall((answer + extra + "\r\n").encode())
    return Peer(sock, client=False), text
