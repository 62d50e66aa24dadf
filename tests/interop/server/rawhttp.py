"""A raw HTTP/1.1 client on a plain socket, for the tests no real client
lets us write: pipelining, malformed requests, half-sent requests, resets.

Responses are read by their framing (RFC 9112 6.3), never by waiting for
EOF, except where the test is about EOF; every read says how the stream
ended ("eof" or "reset"), so a test can tell a graceful close from a reset.
"""
import socket
import struct
import time


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value), as received
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def closes(self):
        c = self.header("Connection")
        return c is not None and "close" in c.lower()

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:80]!r}>"


class Ended(Exception):
    """The stream ended (how: 'eof' or 'reset') before a full response."""

    def __init__(self, how, partial=b""):
        super().__init__(f"connection ended ({how}) after {len(partial)} bytes")
        self.how = how
        self.partial = partial


class RawConn:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.ended = None  # None, "eof" or "reset"

    # --- sending ---
    def send(self, data):
        self.sock.sendall(data)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()

    def reset(self):
        """Close with RST (SO_LINGER 0): the way a client vanishes."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    # --- receiving ---
    def _fill(self):
        if self.ended:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            self.ended = "reset"
            return False
        if not data:
            self.ended = "eof"
            return False
        self.buf += data
        return True

    def _take(self, n):
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until(self, marker):
        while marker not in self.buf:
            if not self._fill():
                raise Ended(self.ended, self.buf)
        i = self.buf.index(marker) + len(marker)
        return self._take(i)

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise Ended(self.ended, self.buf)
        return self._take(n)

    def read_to_end(self):
        """Everything until the stream ends; returns (data, 'eof'|'reset')."""
        while self._fill():
            pass
        return self._take(len(self.buf)), self.ended

    def read_response(self, method="GET"):
        """One response, read by its framing. 1xx answers are returned too."""
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        assert version in ("HTTP/1.1", "HTTP/1.0"), lines[0]
        status = int(status)
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            k, v = line.split(":", 1)
            headers.append((k, v.strip()))
        r = Response(status, reason[0] if reason else "", headers, b"")
        if method == "HEAD" or status < 200 or status in (204, 304):
            return r
        te = r.header("Transfer-Encoding")
        cl = r.header("Content-Length")
        if te is not None:
            assert te.lower() == "chunked", te
            body = bytearray()
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    while self.read_until(b"\r\n") != b"\r\n":
                        pass  # trailers
                    break
                body += self.read_exact(size)
                assert self.read_exact(2) == b"\r\n"
            r.body = bytes(body)
        elif cl is not None:
            r.body = self.read_exact(int(cl))
        else:
            r.body, how = self.read_to_end()
            if how != "eof":
                raise Ended(how, r.body)
        return r

    def request(self, method, path, headers=(), body=b"", version="HTTP/1.1"):
        self.send(build(method, path, headers, body, version))
        return self.read_response(method)


def build(method, path, headers=(), body=b"", version="HTTP/1.1", host="t"):
    lines = [f"{method} {path} {version}"]
    names = {k.lower() for k, _ in headers}
    if "host" not in names and host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
