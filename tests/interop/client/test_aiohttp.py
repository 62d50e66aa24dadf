"""linger's client against CPython's aiohttp server (Debian's 3.8)."""
import json
import os

from conftest import PATTERN, sha


def test_json(linger, aio):
    r = linger("get", aio.url("/json"))
    assert r.status == 0, r
    assert json.loads(r.out) == {"hello": "world", "n": 42}


def test_chunked(linger, aio):
    r = linger("get", "-i", aio.url("/chunked?n=200&size=5000"))
    assert r.status == 0, r
    head, body = r.out.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding: chunked" in head
    assert len(body) == 200 * 5000
    assert body == PATTERN[:5000] * 200


def test_echo_upload_from_file(linger, aio, www):
    path = os.path.join(www, "one-mib.bin")
    r = linger("post", "--data-file", path, aio.url("/echo"))
    assert r.status == 0, r
    with open(path, "rb") as f:
        assert r.out == f.read()


def test_echo_expect_continue(linger, aio):
    r = linger("post", "--expect", "-d", "abc" * 1000, aio.url("/echo"))
    assert r.status == 0, r
    assert r.out == b"abc" * 1000


def test_early_answer_to_large_upload(linger, aio, www):
    """aiohttp's handler answers 413 without reading 32 MiB: the answer
    is what the client reports, complete."""
    r = linger("post", "-i", "--data-file", os.path.join(www, "big.bin"), aio.url("/early"))
    assert r.status == 0, r
    assert r.out.startswith(b"HTTP/1.1 413 ")
    assert r.out.endswith(b"too large\n")


def test_keep_alive(linger, aio):
    r = linger("get", "-v", aio.url("/conn"), aio.url("/conn"), aio.url("/conn"))
    assert r.status == 0, r
    ids = r.out.split()
    assert len(ids) == 3 and len(set(ids)) == 1, ids
    assert r.err.count("reused connection") == 2


def test_basic_auth_from_userinfo(linger, aio):
    url = aio.url("/auth").replace("http://", "http://Aladdin:open%20sesame@")
    r = linger("get", url)
    assert r.status == 0, r
    assert r.out == b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_redirects_method_and_body(linger, aio):
    for code, want in [(301, b"GET 0"), (302, b"GET 0"), (303, b"GET 0"), (307, b"POST 5"),
                       (308, b"POST 5")]:
        r = linger("post", "-d", "hello", aio.url(f"/redirect/{code}"))
        assert r.status == 0, r
        assert r.out.strip() == want, (code, r.out)


def test_reset_mid_body(linger, aio):
    r = linger("get", aio.url("/reset?after=30000"))
    assert r.status == 10, r
    assert "reset after 30000 of 100000 body bytes" in r.err
    assert len(r.out) == 30000


def test_closed_mid_body(linger, aio):
    r = linger("get", aio.url("/cut?after=1234"))
    assert r.status == 9, r
    assert "closed after 1234 of 100000 body bytes" in r.err
    assert len(r.out) == 1234


def test_timeout(linger, aio):
    r = linger("get", "--timeout", "0.3", aio.url("/slow?ms=3000"), timeout=10)
    assert r.status == 7, r
    assert "timed out" in r.err
