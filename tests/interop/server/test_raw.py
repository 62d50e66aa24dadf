"""The server against a raw socket client: what no polite client does.

Pipelining; every malformed request the codec rejects (RFC 9112) answered
with its status, "Connection: close" and a graceful close, while another
client goes on being served; clients that vanish mid-head, mid-body and
mid-response; slow heads and bodies (408); half-closed clients; HTTP/1.0.
"""
import socket
import threading
import time

import pytest

from conftest import pattern, start_server
from rawhttp import RawConn, build, wait_for


# --- pipelining (RFC 9112 9.3.2) ---

def test_pipelining_16_requests_in_one_send(server):
    c = RawConn(server.port)
    reqs, expect = [], []
    for i in range(16):
        if i % 5 == 3:
            body = f"body {i} ".encode() * (i + 1)
            reqs.append(build("POST", "/echo", [("Content-Type", "text/plain")], body))
            expect.append(("POST", body))
        elif i % 5 == 4:
            reqs.append(build("HEAD", f"/items/{i}"))
            expect.append(("HEAD", b""))
        else:
            reqs.append(build("GET", f"/items/{i}"))
            expect.append(("GET", f"id={i}\n".encode()))
    c.send(b"".join(reqs))
    for i, (method, body) in enumerate(expect):
        r = c.read_response(method)
        assert r.status == 200, (i, r)
        assert r.body == body, (i, r)
        assert not r.closes
        if method == "HEAD":
            assert r.header("Content-Length") == str(len(f"id={i}\n"))
    # and the connection is still good afterwards
    assert c.request("GET", "/items/last").body == b"id=last\n"
    c.close()


def test_pipelining_every_kind_of_answer(server):
    """Streamed, file, deferred, HEAD, streamed-upload answers, pipelined:
    each waits for the one before it, in order (RFC 9112 9.3.2)."""
    c = RawConn(server.port)
    c.send(build("GET", "/stream?bytes=100000") + build("GET", "/items/1")
           + build("GET", "/file?len=70000") + build("GET", "/deferred?ms=30")
           + build("HEAD", "/file") + build("GET", "/stream?bytes=10&length=1")
           + build("POST", "/upload", body=b"abc") + build("GET", "/items/last"))
    assert c.read_response().body == pattern(100000)
    assert c.read_response().body == b"id=1\n"
    assert c.read_response().body == pattern(70000)
    assert c.read_response().body == b"deferred 30 ms\n"
    assert c.read_response("HEAD").header("Content-Length") == str((1 << 20) + 123)
    assert c.read_response().body == pattern(10)
    assert c.read_response().body == b"bytes=3 crc=352441c2\n"
    assert c.read_response().body == b"id=last\n"
    c.close()


def test_header_count_limit_boundary(server):
    """The Linux default max_headers (100 lines, as nginx takes) pass, one
    more is 431."""
    for n, status in ((100, 200), (101, 431)):
        c = RawConn(server.port)
        r = c.request("GET", "/items/h", [(f"X-{i}", "v") for i in range(n - 1)])  # + Host
        assert r.status == status, n
        c.close()


def test_browser_sized_head(server):
    """What a browser sends to a site with many cookies: 10 KiB of Cookie
    and 60 other lines, in the Linux defaults (a 16 KiB head)."""
    c = RawConn(server.port)
    cookies = "; ".join(f"c{i}={'v' * 90}" for i in range(110))
    assert len(cookies) > 10000
    r = c.request("GET", "/items/cookies",
                  [("Cookie", cookies)] + [(f"X-Line-{i}", "x" * 20) for i in range(60)])
    assert (r.status, r.body) == (200, b"id=cookies\n")
    c.close()


def test_obs_text_in_a_header_value(server):
    """Bytes >= 0x80 are obs-text, allowed in field values (RFC 9110 5.5)."""
    c = RawConn(server.port)
    c.send(b"GET /header?name=x-utf HTTP/1.1\r\nHost: t\r\nX-Utf: caf\xc3\xa9 \xff\r\n\r\n")
    assert c.read_response().body == b"caf\xc3\xa9 \xff"
    c.close()


def test_http10_post_keep_alive(server):
    c = RawConn(server.port)
    for body in (b"hello10", b"again"):
        r = c.request("POST", "/echo", [("Connection", "keep-alive")], body, version="HTTP/1.0")
        assert r.body == body and r.header("Connection") == "keep-alive"
    c.close()


def test_pipelined_requests_behind_a_discarded_body(server):
    """An early answer's unread body is thrown away (rule 3), and the
    pipelined request behind it is still found and answered."""
    c = RawConn(server.port)
    big = b"x" * 20000
    c.send(build("POST", "/early", body=big) + build("GET", "/items/after"))
    r1 = c.read_response()
    assert (r1.status, r1.body, r1.closes) == (200, b"OK", False)
    r2 = c.read_response()
    assert r2.body == b"id=after\n"
    c.close()


def test_pipelined_requests_after_a_refused_one_are_not_answered(server):
    """After a 4xx that closes, nothing behind it is taken as a request
    (RFC 9112 9.6): the connection ends with FIN, not RST."""
    c = RawConn(server.port)
    c.send(b"BAD REQUEST LINE\r\n\r\n" + build("GET", "/items/1") * 4)
    r = c.read_response()
    assert r.status == 400 and r.closes
    rest, how = c.read_to_end()
    assert (rest, how) == (b"", "eof")
    c.close()


def test_file_answers_on_one_keep_alive_connection(server):
    """Regression: a small file answer completes while the server sends it
    at the end of its read callback; the connection must go on reading
    (it used to stall until the idle timeout)."""
    c = RawConn(server.port, timeout=3)
    for i in range(5):
        r = c.request("GET", f"/file?offset={i}&len=100")
        assert r.body == pattern(100, start=i)
    c.send(b"".join(build("GET", f"/file?offset={i}&len=10") for i in range(4)))
    for i in range(4):
        assert c.read_response().body == pattern(10, start=i)
    assert c.request("GET", "/items/end").body == b"id=end\n"
    c.close()


def test_long_percent_encoded_path(server):
    """A path whose encoded form is longer than the scratch space but whose
    decoded form fits is fine (it used to be refused as "malformed"); one
    whose decoded form does not fit is 414, honestly, and closes."""
    c = RawConn(server.port)
    r = c.request("GET", "/items/" + "%41" * 400)  # 1207 bytes, 407 decoded
    assert (r.status, r.body) == (200, b"id=" + b"A" * 400 + b"\n")
    r = c.request("GET", "/items/" + "%41" * 1100)
    assert r.status == 414 and r.closes
    assert c.read_to_end() == (b"", "eof")
    c.close()


# --- unusual but valid requests ---

VALID_ODDITIES = [
    ("repeated equal Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
     b"hello"),
    ("Content-Length list of equal values",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello", b"hello"),
    ("empty lines before the request line (RFC 9112 2.2)",
     b"\r\n\r\nGET /items/lead HTTP/1.1\r\nHost: t\r\n\r\n", b"id=lead\n"),
    ("field names in any case",
     b"POST /echo HTTP/1.1\r\nhOST: t\r\ncontent-LENGTH: 3\r\n\r\nabc", b"abc"),
    ("Transfer-Encoding value in any case",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     b"abc"),
    ("chunk extensions",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3;name=val;x=\"q\"\r\nabc\r\n0;last\r\n\r\n", b"abc"),
    ("IPv6 Host", b"GET /items/6 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", b"id=6\n"),
    ("HTTP/1.0 without Host", b"GET /items/10 HTTP/1.0\r\n\r\n", b"id=10\n"),
    ("higher HTTP/1 minor version, served as 1.1 (RFC 9110 2.5)",
     b"GET /items/12 HTTP/1.2\r\nHost: t\r\n\r\n", b"id=12\n"),
    ("tab inside a value", b"GET /header?name=x-t HTTP/1.1\r\nHost: t\r\nX-T: a\tb\r\n\r\n",
     b"a\tb"),
    ("absolute-form target", b"GET http://example.com/items/abs HTTP/1.1\r\nHost: example.com\r\n\r\n",
     b"id=abs\n"),
    ("absolute-form target, Host ignored (RFC 9112 3.2.2)",
     b"GET http://example.com:8080/items/abs2 HTTP/1.1\r\nHost: other.example\r\n\r\n", b"id=abs2\n"),
    ("POST without a body", b"POST /echo HTTP/1.1\r\nHost: t\r\n\r\n", b""),
]


@pytest.mark.parametrize("name,raw,body", VALID_ODDITIES, ids=[v[0] for v in VALID_ODDITIES])
def test_unusual_but_valid_request(server, name, raw, body):
    c = RawConn(server.port)
    c.send(raw)
    r = c.read_response()
    assert (r.status, r.body) == (200, body)
    c.close()


def test_methods_are_case_sensitive(server):
    """RFC 9110 9.1: "get" is not GET; the path exists, so 405."""
    c = RawConn(server.port)
    c.send(b"get /items/1 HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response()
    assert r.status == 405 and r.header("Allow") == "GET, HEAD"
    c.close()


# --- malformed requests ---

LONG = "a" * 20000  # beyond the Linux default head (16 KiB)
MALFORMED = [
    # (name, raw request, status)
    ("request line", b"GARBAGE\r\n\r\n", 400),
    ("method not a token", b"GE(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("space in target", b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("userinfo in absolute-form (RFC 9110 4.2.4)",
     b"GET http://user@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 400),
    ("absolute-form without a host", b"GET http:///items/1 HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("bad version", b"GET / HTTP/1.x\r\nHost: t\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    ("HTTP/0.9 style", b"GET / HTTP/0.9\r\nHost: t\r\n\r\n", 505),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: t\n\n", 400),
    ("bare CR in value", b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 400),
    ("NUL in value", b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400),
    ("empty header name", b"GET / HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n", 400),
    ("URI too long", f"GET /{LONG} HTTP/1.1\r\nHost: t\r\n\r\n".encode(), 414),
    ("header too large", f"GET / HTTP/1.1\r\nHost: t\r\nX-Big: {LONG}\r\n\r\n".encode(), 431),
    ("too many headers",
     b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(110)) + b"\r\n",
     431),
    ("no Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("bad Host", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("bad Content-Length", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n1x", 400),
    ("negative Content-Length", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
    ("huge Content-Length",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
    ("differing Content-Lengths",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    ("Content-Length with chunked",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", 400),
    ("chunked not last",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    ("unknown transfer coding",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501),
    ("Transfer-Encoding in HTTP/1.0",
     b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400),
    ("bad chunk size",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    ("chunk size overflow",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"fffffffffffffffffffff\r\n", 400),
    ("chunk data without CRLF",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
     400),
    ("bad chunk in a streamed body",
     b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nq\r\n", 400),
    ("body over max_body_bytes",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n" + b"x" * 70000, 413),
    ("chunked body over max_body_bytes",
     b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"8000\r\n" + b"y" * 0x8000 + b"\r\n"
     + b"8000\r\n" + b"y" * 0x8000 + b"\r\n"
     + b"8000\r\n" + b"y" * 0x8000 + b"\r\n0\r\n\r\n", 413),
    ("chunked streamed body over its limit",
     b"POST /upload?max=1000 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"800\r\n" + b"z" * 0x800 + b"\r\n0\r\n\r\n", 413),
    ("unknown expectation", b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\n"
     b"Content-Length: 3\r\n\r\nabc", 417),
    ("NUL encoded in path", b"GET /items/a%00b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("broken escape in path", b"GET /items/a%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501),
]


@pytest.fixture(scope="module")
def good_client(server):
    """A keep-alive client that must go on being served throughout."""
    c = RawConn(server.port)
    yield c
    c.close()


@pytest.mark.parametrize("name,raw,status", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request(server, good_client, name, raw, status):
    # A good request is under way on another connection: half its head now,
    # the rest after the bad client is done with.
    good = build("GET", f"/items/{status}")
    good_client.send(good[:10])

    c = RawConn(server.port)
    # The bad request, then more bytes the server will never read as a
    # request: closing with them unread would be a reset (rule 3).
    c.send(raw + b"Z" * 100000)
    r = c.read_response()
    assert r.status == status, r
    assert r.closes, f"{name}: no Connection: close in {r.headers}"
    assert r.header("Content-Length") == str(len(r.body))
    rest, how = c.read_to_end()
    assert how == "eof", f"{name}: the server reset the connection"
    assert rest == b"", f"{name}: bytes after the answer: {rest[:100]!r}"
    c.close()

    good_client.send(good[10:])
    g = good_client.read_response()
    assert (g.status, g.body) == (200, f"id={status}\n".encode())


def test_streamed_body_refused_by_length_keeps_the_connection(server):
    """A handler that refuses a body by its Content-Length answers 413 at
    once; a body that small is read and thrown away (rule 3), so the
    connection goes on (RFC 9110 15.5.14 lets the server choose)."""
    c = RawConn(server.port)
    c.send(build("POST", "/upload?max=1000", body=b"z" * 5000))
    r = c.read_response()
    assert r.status == 413 and not r.closes
    assert c.request("GET", "/items/next").body == b"id=next\n"
    c.close()


def test_malformed_requests_counted_and_nothing_left_open(server, good_client):
    st = server.wait_idle(active=2)  # the good client and the stats request
    assert st["bad_requests"] >= 25
    assert st["active_connections"] == 2
    assert st["aborts"] == 0
    assert st["linger_timeouts"] == 0
    good_client.close()  # the last test that uses it
    assert server.wait_idle()["active_connections"] == 1


# --- clients that vanish ---

def vanish(server, send, read=0, reset=True):
    c = RawConn(server.port)
    c.send(send)
    if read:
        c.read_exact(read)
    if reset:
        c.reset()
    else:
        c.close()


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "fin"])
def test_clients_vanishing_cost_only_their_own_connection(server, reset):
    before = server.wait_idle()
    head = build("POST", "/echo", body=b"b" * 50000)
    stream_head = build("POST", "/upload", body=b"u" * 500000)
    cases = [
        b"GET /items/1 HTTP/1.1\r\nHo",              # mid-head
        head[: len(head) - 30000],                    # mid-body (buffered)
        stream_head[:200000],                         # mid-body (streamed to a handler)
        build("GET", "/deferred?ms=200"),             # while the handler holds it
    ]
    for raw in cases:
        vanish(server, raw, reset=reset)
    # mid-response: take part of a large answer, then go
    vanish(server, build("GET", "/stream?bytes=50000000"), read=300000, reset=reset)
    vanish(server, build("GET", "/file"), read=1000, reset=reset)

    # Everyone else is served meanwhile...
    c = RawConn(server.port)
    r = c.request("GET", "/stream?bytes=300000")
    assert r.body == pattern(300000)
    c.close()
    # ... and the connection count returns to where it was.
    st = server.wait_idle(active=before["active_connections"])
    assert st["active_connections"] == before["active_connections"], st
    assert st["connections"] >= before["connections"] + 7


def test_reset_mid_response_stops_the_producer(server):
    """A streamed answer whose client resets stops being produced: the
    server does not go on generating 1 GiB for nobody."""
    c = RawConn(server.port)
    c.send(build("GET", "/stream?bytes=1000000000"))
    c.read_exact(100000)
    c.reset()
    st = server.wait_idle(timeout=5)
    assert st["active_connections"] == 1


# --- half-close, HTTP/1.0, 100-continue ---

def test_client_half_closes_after_its_request(server):
    """EOF right after a request is a client saying "no more requests",
    not "no answer": the answer arrives, then the server's FIN."""
    c = RawConn(server.port)
    c.send(build("GET", "/deferred?ms=50"))
    c.shutdown_write()
    r = c.read_response()
    assert r.status == 200 and r.body == b"deferred 50 ms\n"
    rest, how = c.read_to_end()
    assert (rest, how) == (b"", "eof")
    c.close()


def test_http10_closes_unless_asked_to_keep_alive(server):
    c = RawConn(server.port)
    r = c.request("GET", "/items/x", version="HTTP/1.0")
    assert r.status == 200 and r.body == b"id=x\n"
    assert c.read_to_end() == (b"", "eof")
    c.close()
    c = RawConn(server.port)
    for i in range(3):
        r = c.request("GET", f"/items/{i}", [("Connection", "keep-alive")], version="HTTP/1.0")
        assert r.body == f"id={i}\n".encode()
        assert r.header("Connection").lower() == "keep-alive"
    c.close()


def test_http10_streamed_answer_is_delimited_by_close(server):
    """No chunked coding for an HTTP/1.0 client (RFC 9112 7): the body ends
    with the connection."""
    c = RawConn(server.port)
    r = c.request("GET", "/stream?bytes=100000", version="HTTP/1.0")
    assert r.header("Transfer-Encoding") is None
    assert r.body == pattern(100000)
    c.close()


def test_expect_100_continue_accepted(server):
    c = RawConn(server.port)
    body = b"0123456789" * 1000
    c.send(build("POST", "/upload", [("Expect", "100-continue"),
                                    ("Content-Length", str(len(body)))]))
    interim = c.read_response()
    assert interim.status == 100
    c.send(body)
    r = c.read_response()
    assert r.status == 200 and r.body.startswith(b"bytes=10000 ")
    assert not r.closes
    c.close()


def test_expect_100_continue_on_a_buffered_route(server):
    c = RawConn(server.port)
    c.send(build("POST", "/echo", [("Expect", "100-continue"), ("Content-Length", "5")]))
    assert c.read_response().status == 100
    c.send(b"hello")
    assert c.read_response().body == b"hello"
    # too large for max_body_bytes: 413 at once, no 100, and a FIN
    c.send(build("POST", "/echo", [("Expect", "100-continue"), ("Content-Length", "100000")]))
    r = c.read_response()
    assert r.status == 413 and r.closes
    assert c.read_to_end() == (b"", "eof")
    c.close()


def test_expect_100_continue_ignored_from_http10(server):
    """RFC 9110 10.1.1 and 15.2: no 1xx to an HTTP/1.0 client."""
    c = RawConn(server.port)
    c.send(b"POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    c.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        c.sock.recv(100)
    c.sock.settimeout(10)
    c.send(b"hello")
    r = c.read_response()
    assert (r.status, r.body) == (200, b"hello")
    c.close()


def test_expect_100_continue_refused_body_never_sent(server):
    """Refused before the body: no 100, a final 401 with Connection: close,
    and the server closes gracefully without the body ever coming."""
    c = RawConn(server.port)
    c.send(build("POST", "/upload-auth", [("Expect", "100-continue"),
                                         ("Content-Length", "1000000")]))
    r = c.read_response()
    assert r.status == 401 and r.closes
    assert c.read_to_end() == (b"", "eof")
    c.close()


def test_expect_100_continue_refused_body_sent_anyway(server):
    """A client that does not wait for 100 and sends the body anyway gets
    the refusal and a graceful close, not a reset."""
    c = RawConn(server.port)
    c.send(build("POST", "/upload-auth", [("Expect", "100-continue"),
                                         ("Content-Length", "300000")]) + b"q" * 300000)
    r = c.read_response()
    assert r.status == 401 and r.closes
    assert c.read_to_end() == (b"", "eof")
    c.close()


# --- timeouts: a server of its own with short ones ---

@pytest.fixture(scope="module")
def impatient():
    srv = start_server("--header-timeout-ms", "400", "--body-timeout-ms", "400",
                       "--idle-timeout-ms", "600")
    yield srv
    code, err = srv.stop()
    assert code == 0, err


def test_slowloris_head_gets_408(impatient):
    c = RawConn(impatient.port)
    t0 = time.monotonic()
    c.send(b"GET /items/slow HTTP/1.1\r\nHost: t\r\n")
    got = None
    # one header line every 100 ms: never complete within 400 ms
    for i in range(30):
        try:
            c.send(b"X-Slow-%d: drip\r\n" % i)
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(0.1)
        c.sock.setblocking(False)
        try:
            data = c.sock.recv(65536)
            c.buf += data
            if data:
                got = True
                break
        except BlockingIOError:
            pass
        finally:
            c.sock.setblocking(True)
    assert got, "no answer to a head that never ends"
    r = c.read_response()
    elapsed = time.monotonic() - t0
    assert r.status == 408 and r.closes
    assert 0.3 < elapsed < 3.0, elapsed
    # a head that never completed is not a request: no after-hook saw it
    assert r.header("X-Interop") is None
    _, how = c.read_to_end()
    assert how == "eof"
    c.close()


def test_slow_body_gets_408(impatient):
    c = RawConn(impatient.port)
    c.send(build("POST", "/echo", [("Content-Length", "1000")]) + b"x" * 10)
    r = c.read_response()
    assert r.status == 408 and r.closes
    assert r.header("X-Interop") == "after-hook"  # a parsed request, this one
    assert c.read_to_end()[1] == "eof"
    c.close()


def test_silent_connection_is_closed_gracefully(impatient):
    """A connection that never sends a byte is closed (FIN) after the
    header timeout: no answer is owed, and no reset is sent."""
    c = RawConn(impatient.port)
    t0 = time.monotonic()
    assert c.read_to_end() == (b"", "eof")
    assert time.monotonic() - t0 < 3.0
    c.close()


def test_idle_keep_alive_connection_is_closed_gracefully(impatient):
    c = RawConn(impatient.port)
    assert c.request("GET", "/items/1").status == 200
    t0 = time.monotonic()
    assert c.read_to_end() == (b"", "eof")
    assert 0.4 < time.monotonic() - t0 < 3.0
    c.close()


def test_timeouts_counted(impatient):
    st = impatient.wait_idle()
    assert st["timeouts"] >= 4, st
    assert st["aborts"] == 0


# --- full server, with the 503 policy ---

def test_full_server_answers_503_and_closes_gracefully():
    srv = start_server("--max-conns", "2", "--reject-when-full")
    try:
        # both slots busy with requests in flight
        holders = [RawConn(srv.port) for _ in range(2)]
        for h in holders:
            h.send(build("GET", "/deferred?ms=1000"))
        c = RawConn(srv.port)
        c.send(build("POST", "/echo", body=b"p" * 100000))
        r = c.read_response()
        assert r.status == 503 and r.closes and r.header("Retry-After")
        assert c.read_to_end()[1] == "eof"
        c.close()
        for h in holders:
            assert h.read_response().body == b"deferred 1000 ms\n"
            h.close()
        assert wait_for(lambda: _one_request_ok(srv))
    finally:
        code, err = srv.stop()
    assert code == 0, err


def test_full_server_idle_connection_gives_way_to_a_newcomer():
    """LG_FULL_WAIT: a newcomer waits in the kernel's backlog, and the
    server, seeing it there, closes the keep-alive connection idle longest
    (gracefully: its client reads EOF, not a reset) to let it in: served at
    once, not after the idle timeout (60 s here)."""
    srv = start_server("--max-conns", "2", "--idle-timeout-ms", "60000")
    try:
        holders = []
        for _ in range(2):
            holders.append(RawConn(srv.port))
            assert holders[-1].request("GET", "/items/h").closes is False
        ends = []

        def hold(h):
            ends.append(h.read_to_end())
            h.close()
        threads = [threading.Thread(target=hold, args=(h,)) for h in holders]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        late = RawConn(srv.port, timeout=5)
        assert late.request("GET", "/items/late").body == b"id=late\n"
        waited = time.monotonic() - t0
        assert waited < 1.0, waited
        late.close()
        # exactly one holder gave way, with FIN; the other is still open
        for t in threads:
            t.join(0.5)
        assert ends == [(b"", "eof")]
    finally:
        for h in holders:
            h.close()
        code, err = srv.stop()
    assert code == 0, err


def _one_request_ok(srv):
    try:
        c = RawConn(srv.port)
        ok = c.request("GET", "/items/after").status == 200
        c.close()
        return ok
    except OSError:
        return False


def test_shutdown_answers_requests_in_flight():
    """SIGTERM with a request in flight: it is answered in full (with
    Connection: close), new connections are refused, and the process exits
    0 once everything is closed."""
    srv = start_server()
    c = RawConn(srv.port)
    idle = RawConn(srv.port)
    assert idle.request("GET", "/items/1").status == 200
    c.send(build("GET", "/deferred?ms=400"))
    time.sleep(0.1)
    result = {}
    t = threading.Thread(target=lambda: result.update(zip(("code", "err"), srv.stop())))
    t.start()
    t0 = time.monotonic()
    # the idle keep-alive connection is closed at once, gracefully
    assert idle.read_to_end() == (b"", "eof")
    idle.close()
    r = c.read_response()
    assert (r.status, r.body) == (200, b"deferred 400 ms\n")
    assert r.closes
    assert c.read_to_end() == (b"", "eof")
    c.close()
    t.join(10)
    assert result.get("code") == 0, result
    # done when the last client closed, not at the 5 s deadline
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(OSError):
        RawConn(srv.port, timeout=1)
