"""A conformance suite for linger's WebSocket server, modelled on the
Autobahn testsuite's cases 1 to 7 (and 9's size limit), run against the
echo of `linger serve` (GET /ws) with raw frames (wsraw.py):

 1 framing: text and binary at every length form, whole and in pieces
 2 ping/pong: payloads up to 125 bytes, 126 refused, unasked pongs
 3 reserved bits: every RSV combination refused (1002)
 4 opcodes: every reserved opcode refused (1002)
 5 fragmentation: fragments with control frames between; continuations
   with nothing to continue and new messages inside one refused
 6 UTF-8: valid text in one frame and split at every byte; invalid
   sequences refused (1007), as soon as the bad byte arrives
 7 close: codes echoed, invalid ones and bad payloads refused, nothing
   answered after a Close, the server closing TCP first
 9 limits: a message of 1 MiB echoed, 1 MiB + 1 refused (1009)

After every case the server closes TCP with FIN: reading a reset fails the
case (recv raises ConnectionResetError).
"""
import os

import pytest

import wsraw
from wsraw import BINARY, CLOSE, CONT, PING, PONG, TEXT


def connect(demo, **kw):
    peer, status, head = wsraw.client_handshake(demo.host, demo.port, "/ws", **kw)
    assert status == 101, head
    return peer


def finish(peer, code=1000):
    """The client closes: the server answers with the same code and closes
    TCP first."""
    peer.send_close(code)
    got, _ = peer.expect_close()
    assert got == code
    assert peer.expect_eof()
    peer.close()


def fails(peer, code):
    """The server refuses what came with this Close code, then closes TCP."""
    got, _ = peer.expect_close()
    assert got == code
    peer.send_close(got)  # (it is not waited for)
    assert peer.expect_eof()
    peer.close()


def echo(peer, opcode, payload, chop=None):
    peer.send_frame(opcode, payload, chop=chop)
    op, got = peer.recv_message(timeout=10)
    assert (op, got) == (opcode, payload if isinstance(payload, bytes) else payload.encode())


# --- 1: framing -----------------------------------------------------------

SIZES = [0, 1, 125, 126, 127, 128, 65535, 65536]


@pytest.mark.parametrize("n", SIZES)
def test_1_1_text(demo, n):
    peer = connect(demo)
    echo(peer, TEXT, "*" * n)
    finish(peer)


@pytest.mark.parametrize("n", SIZES)
def test_1_2_binary(demo, n):
    peer = connect(demo)
    echo(peer, BINARY, bytes([0xFE]) * n)
    finish(peer)


@pytest.mark.parametrize("chop", [1, 7, 997])
def test_1_1_7_chopped(demo, chop):
    peer = connect(demo)
    echo(peer, TEXT, "*" * (65536 if chop > 1 else 300), chop=chop)
    echo(peer, BINARY, os.urandom(5000), chop=chop)
    finish(peer)


# --- 2: ping/pong ---------------------------------------------------------

@pytest.mark.parametrize("payload", [b"", b"Hello, world!", bytes(range(256))[:125], b"\x00\xff\xfe\xfd\xfc"])
def test_2_ping(demo, payload):
    peer = connect(demo)
    peer.send_frame(PING, payload)
    fin, rsv, op, got, masked = peer.recv_frame()
    assert (fin, rsv, op, got, masked) == (True, 0, PONG, payload, False)
    finish(peer)


def test_2_5_ping_126(demo):
    peer = connect(demo)
    peer.send_frame(PING, b"x" * 126)
    fails(peer, 1002)


def test_2_6_ping_chopped(demo):
    peer = connect(demo)
    peer.send_frame(PING, b"y" * 125, chop=1)
    _, _, op, got, _ = peer.recv_frame()
    assert (op, got) == (PONG, b"y" * 125)
    finish(peer)


def test_2_7_unsolicited_pong(demo):
    peer = connect(demo)
    peer.send_frame(PONG, b"")
    peer.send_frame(PONG, b"unsolicited")
    echo(peer, TEXT, "after")  # nothing answered the pongs
    finish(peer)


def test_2_10_many_pings(demo):
    peer = connect(demo)
    for i in range(10):
        peer.send_frame(PING, b"p%d" % i)
    for i in range(10):
        _, _, op, got, _ = peer.recv_frame()
        assert (op, got) == (PONG, b"p%d" % i)
    finish(peer)


# --- 3: reserved bits -----------------------------------------------------

@pytest.mark.parametrize("rsv", range(1, 8))
@pytest.mark.parametrize("opcode", [TEXT, BINARY, PING, CLOSE])
def test_3_rsv(demo, rsv, opcode):
    peer = connect(demo)
    echo(peer, TEXT, "before")
    payload = wsraw.close_payload(1000) if opcode == CLOSE else b"x"
    peer.send_frame(opcode, payload, rsv=rsv)
    peer.send_frame(PING, b"after")  # never answered: the connection is failed
    fails(peer, 1002)


# --- 4: opcodes -----------------------------------------------------------

@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
@pytest.mark.parametrize("payload", [b"", b"reserved"])
def test_4_reserved_opcodes(demo, opcode, payload):
    peer = connect(demo)
    echo(peer, TEXT, "before")
    peer.send_frame(opcode, payload)
    fails(peer, 1002)


# --- 5: fragmentation -----------------------------------------------------

@pytest.mark.parametrize("opcode", [PING, PONG])
def test_5_1_fragmented_control(demo, opcode):
    peer = connect(demo)
    peer.send_frame(opcode, b"frag", fin=False)
    peer.send_frame(CONT, b"ment", fin=True)
    fails(peer, 1002)


@pytest.mark.parametrize("chop", [None, 1])
@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_5_3_two_fragments(demo, opcode, chop):
    peer = connect(demo)
    peer.send_frame(opcode, b"frag", fin=False, chop=chop)
    peer.send_frame(CONT, b"ment", fin=True, chop=chop)
    assert peer.recv_message() == (opcode, b"fragment")
    finish(peer)


def test_5_5_one_byte_fragments(demo):
    peer = connect(demo)
    text = b"fragmented one byte at a time"
    for i, c in enumerate(text):
        peer.send_frame(TEXT if i == 0 else CONT, bytes([c]), fin=i == len(text) - 1)
    assert peer.recv_message() == (TEXT, text)
    finish(peer)


@pytest.mark.parametrize("chop", [None, 1])
def test_5_6_ping_between_fragments(demo, chop):
    peer = connect(demo)
    peer.send_frame(TEXT, b"frag", fin=False, chop=chop)
    peer.send_frame(PING, b"between", chop=chop)
    peer.send_frame(CONT, b"ment", fin=True, chop=chop)
    _, _, op, got, _ = peer.recv_frame()
    assert (op, got) == (PONG, b"between")  # answered at once, mid-message
    assert peer.recv_message() == (TEXT, b"fragment")
    finish(peer)


def test_5_8_pings_after_each_fragment(demo):
    peer = connect(demo)
    parts = [b"a" * 10, b"", b"b" * 300, b"", b"c"]
    for i, p in enumerate(parts):
        peer.send_frame(BINARY if i == 0 else CONT, p, fin=i == len(parts) - 1)
        peer.send_frame(PING, b"%d" % i)
    for i in range(len(parts) - 1):
        _, _, op, got, _ = peer.recv_frame()
        assert (op, got) == (PONG, b"%d" % i)
    # the message is complete before the last ping
    assert peer.recv_message() == (BINARY, b"".join(parts))
    _, _, op, got, _ = peer.recv_frame()
    assert (op, got) == (PONG, b"%d" % (len(parts) - 1))
    finish(peer)


@pytest.mark.parametrize("fin", [True, False])
@pytest.mark.parametrize("chop", [None, 1])
def test_5_9_continuation_first(demo, fin, chop):
    peer = connect(demo)
    peer.send_frame(CONT, b"nothing to continue", fin=fin, chop=chop)
    fails(peer, 1002)


@pytest.mark.parametrize("second", [TEXT, BINARY])
@pytest.mark.parametrize("fin", [True, False])
def test_5_15_new_message_inside_one(demo, second, fin):
    peer = connect(demo)
    peer.send_frame(TEXT, b"first", fin=False)
    peer.send_frame(CONT, b"more", fin=False)
    peer.send_frame(second, b"new", fin=fin)
    fails(peer, 1002)


def test_5_19_fragments_over_time(demo):
    peer = connect(demo)
    for i in range(5):
        peer.send_frame(TEXT if i == 0 else CONT, b"f%d" % i, fin=i == 4)
        peer.send_frame(PING, b"ping%d" % i)
        if i == 4:  # the message is complete before the last ping
            assert peer.recv_message() == (TEXT, b"f0f1f2f3f4")
        _, _, op, got, _ = peer.recv_frame()
        assert (op, got) == (PONG, b"ping%d" % i)
    finish(peer)


# --- 6: UTF-8 -------------------------------------------------------------

VALID = [
    b"",
    b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
    "κόσμε".encode(),
    b"\x00", b"\x7f", b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xef\xbf\xbf",
    b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf",       # first and last of each length
    b"\xed\x9f\xbf", b"\xee\x80\x80",               # around the surrogates
    b"\xef\xbf\xbe", b"\xef\xb7\x90",               # noncharacters are valid
    "\U0001f600 emoji \u20ac".encode(),
]

INVALID = [
    "κόσμε".encode() + b"\xed\xa0\x80edited",       # 6.3: a surrogate inside
    b"\x80", b"\xbf", b"\x80\xbf\x80",              # unexpected continuations
    b"\xc0 ", b"\xe0 ", b"\xf0 ", b"\xf8 ", b"\xfc ",  # lonely start characters
    b"\xc2", b"\xe0\xa0", b"\xf0\x90\x80",          # last byte missing
    b"\xfe", b"\xff", b"\xfe\xfe\xff\xff",          # impossible bytes
    b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xc1\xbf",  # overlong
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\x80\xed\xb0\x80",  # surrogates
    b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",       # beyond U+10FFFF
]


@pytest.mark.parametrize("text", VALID)
def test_6_valid(demo, text):
    peer = connect(demo)
    echo(peer, TEXT, text)
    # split into fragments at every byte position
    for cut in range(1, len(text)):
        peer.send_frame(TEXT, text[:cut], fin=False)
        peer.send_frame(CONT, text[cut:], fin=True)
        assert peer.recv_message() == (TEXT, text)
    # one byte a frame
    if text:
        for i in range(len(text)):
            peer.send_frame(TEXT if i == 0 else CONT, text[i:i + 1], fin=i == len(text) - 1)
        assert peer.recv_message() == (TEXT, text)
    finish(peer)


@pytest.mark.parametrize("text", INVALID)
def test_6_invalid(demo, text):
    peer = connect(demo)
    peer.send_frame(TEXT, text)
    fails(peer, 1007)


@pytest.mark.parametrize("text", INVALID[:8])
def test_6_invalid_fragmented(demo, text):
    for cut in range(1, len(text)):
        peer = connect(demo)
        peer.send_frame(TEXT, text[:cut], fin=False)
        peer.send_frame(CONT, text[cut:], fin=True)
        fails(peer, 1007)


def test_6_4_fail_fast(demo):
    """The bad byte fails the message at once: the server closes before the
    message's last fragment is even sent."""
    peer = connect(demo)
    peer.send_frame(TEXT, "κόσμε".encode(), fin=False)
    peer.send_frame(CONT, b"\xf4\x90\x80\x80", fin=False)
    got, _ = peer.expect_close(timeout=5)
    assert got == 1007
    assert peer.expect_eof()
    peer.close()


# --- 7: close -------------------------------------------------------------

def test_7_1_1_echo_then_close(demo):
    peer = connect(demo)
    echo(peer, TEXT, "Hello World!")
    finish(peer)


def test_7_1_nothing_after_close(demo):
    """After its Close, the peer's frames are ignored: no second Close, no
    pong, no echo."""
    peer = connect(demo)
    # in one send: what comes after a Close in a later segment meets a
    # socket the server may have closed already (its peer promised
    # nothing more), which TCP answers with a reset
    peer.send(b"".join(wsraw.frame(op, p, mask=True) for op, p in
                       [(CLOSE, wsraw.close_payload(1000)), (CLOSE, wsraw.close_payload(1000)),
                        (PING, b"after"), (TEXT, b"after")]))
    _, _, op, payload, _ = peer.recv_frame()
    assert op == CLOSE and wsraw.close_code(payload) == 1000
    assert peer.expect_eof()  # and nothing in between
    assert peer.buf == b""
    peer.close()


def test_7_1_5_close_inside_a_message(demo):
    peer = connect(demo)
    peer.send_frame(TEXT, b"frag", fin=False)
    finish(peer)


def test_7_1_6_big_message_then_close(demo):
    peer = connect(demo)
    big = os.urandom(256 * 1024)
    peer.send_frame(BINARY, big)
    peer.send_close(1000)
    assert peer.recv_message(timeout=10) == (BINARY, big)
    got, _ = peer.expect_close()
    assert got == 1000
    assert peer.expect_eof()
    peer.close()


def test_7_3_1_close_empty(demo):
    peer = connect(demo)
    peer.send_frame(CLOSE, b"")
    code, _ = peer.expect_close()
    assert code is None  # answered with no code, as it came
    assert peer.expect_eof()
    peer.close()


def test_7_3_2_close_one_byte(demo):
    peer = connect(demo)
    peer.send_frame(CLOSE, b"\x03")
    fails(peer, 1002)


@pytest.mark.parametrize("reason", [b"", b"Hello World!", b"*" * 123, "κόσμε".encode()])
def test_7_3_close_reason(demo, reason):
    peer = connect(demo)
    peer.send_close(1000, reason)
    code, _ = peer.expect_close()
    assert code == 1000
    assert peer.expect_eof()
    peer.close()


def test_7_3_6_close_payload_126(demo):
    peer = connect(demo)
    peer.send_frame(CLOSE, wsraw.close_payload(1000, b"*" * 124))
    fails(peer, 1002)


def test_7_5_1_close_reason_not_utf8(demo):
    peer = connect(demo)
    peer.send_close(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64")
    fails(peer, 1007)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                                  3000, 3999, 4000, 4999])
def test_7_7_valid_codes(demo, code):
    peer = connect(demo)
    finish(peer, code)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
def test_7_9_invalid_codes(demo, code):
    peer = connect(demo)
    peer.send_close(code)
    fails(peer, 1002)


# --- 9: limits ------------------------------------------------------------

def test_9_limit(demo):
    peer = connect(demo)
    big = os.urandom(1 << 20)
    echo(peer, BINARY, big)
    peer.send_frame(BINARY, big[:600000], fin=False)
    peer.send_frame(CONT, big[:600000], fin=True)
    fails(peer, 1009)


def test_9_limit_by_header(demo):
    """A header announcing more than the limit is refused before its payload."""
    peer = connect(demo)
    peer.send(wsraw.frame(BINARY, b"", mask=os.urandom(4), length=(1 << 20) + 1))
    fails(peer, 1009)


def test_9_top_bit_length(demo):
    peer = connect(demo)
    peer.send(b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00" + os.urandom(4))
    fails(peer, 1002)


def test_unmasked_frame(demo):
    peer = connect(demo)
    peer.send_frame(TEXT, b"not masked", mask=False)
    fails(peer, 1002)


# --- the handshake --------------------------------------------------------

@pytest.mark.parametrize("headers,status", [
    (["Sec-WebSocket-Version: 8"], 426),
])
def test_handshake_refused(demo, headers, status):
    import socket
    s = socket.create_connection((demo.host, demo.port), timeout=5)
    req = ("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n")
    s.sendall(req.encode())
    head = s.recv(4096).decode("latin-1")
    assert head.startswith(f"HTTP/1.1 {status} "), head
    assert "Sec-WebSocket-Version: 13\r\n" in head
    s.close()
