"""linger's aiohttp package on MicroPython against a server that
misbehaves on purpose (a CPython thread writing raw answers), rule 1 at
the package's own API: an answer complete by its Content-Length or its
last chunk is a success whatever the connection does next (here: a reset
right after it); one cut short is ClientPayloadError, never a shorter
success; a close-delimited answer ends at EOF, and a reset there is an
error. Also: a redirect followed, a total timeout, a refused connection,
a streamed download in pieces, JSON and query parameters.
"""
import json
import socket
import struct
import threading
import time

from mpyharness import HERE, run_json


def reset(conn):
    # close with RST: SO_LINGER on, time 0
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return None, b""
        data += more
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    length = 0
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        rest += conn.recv(65536)
    return lines[0].split(b" ")[1].decode(), rest


BIG = bytes(range(256)) * 800  # 204,800 bytes


def serve(conn):
    with conn:
        while True:
            target, body = read_request(conn)
            if target is None:
                return
            path = target.split("?")[0]
            if path == "/whole-then-reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                return reset(conn)
            if path == "/chunked-then-reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                return reset(conn)
            if path == "/head-then-reset":
                conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
                return reset(conn)
            if path == "/short":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
                return
            if path == "/short-reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
                return reset(conn)
            if path == "/eof-delimited":
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
                return
            if path == "/eof-reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the")
                time.sleep(0.05)
                return reset(conn)
            if path == "/redirect":
                conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /eof-delimited\r\nContent-Length: 0\r\n\r\n")
                continue
            if path == "/slow":
                time.sleep(2)
                return
            if path == "/big":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG)
                continue
            if path == "/echo":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Target: "
                             + target.encode() + b"\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
                continue
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def test_aiohttp_reads_by_framing():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    stop = False

    def accept():
        while not stop:
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        out = run_json("linger", HERE / "clients/aiohttp_cases.py", port)
    finally:
        stop = True
        ls.close()
    print(json.dumps(out, indent=1))
    assert out["/whole-then-reset"][:3] == ["ok", 200, "hello"]
    assert out["/whole-then-reset?again"][:3] == ["ok", 200, "hello"]
    assert out["/chunked-then-reset"][:3] == ["ok", 200, "hello"]
    assert out["/head-then-reset"][:3] == ["ok", 204, ""]
    assert out["/short"][0] == "payload"
    assert out["/short-reset"][0] == "payload"
    assert out["/eof-delimited"][:3] == ["ok", 200, "until the end"]
    assert out["/eof-reset"][0] == "payload"
    assert out["/redirect"] == ["ok", 200, "until the end", [302]]
    assert out["/slow"] == ["timeout"]
    assert out["/big"] == ["ok", 200, len(BIG), True]
    assert out["/echo"] == ["ok", 200, {"k": [1, 2]}, "/echo?a=b%20c"]
    # a repeated field: the first by [] and get(), every one by getall(), any case
    assert out["/echo headers"] == ["a=1", ["a=1", "b=2"], "application/json", True, []]
    assert out["refused"] == ["connector", 111]
