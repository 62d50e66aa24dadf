"""linger's client against nginx (Debian's nginx-light) over loopback:
static files small and large, keep-alive, chunked answers from a proxied
backend, redirects, and nginx's early 413 to an upload it will not take."""
import os

from conftest import PATTERN, file_sha, sha


def test_small_file(linger, nginx, www):
    r = linger("get", nginx.url("/small.txt"))
    assert r.status == 0, r
    assert r.out == b"hello from the file\n"


def test_empty_file(linger, nginx):
    r = linger("get", "-i", nginx.url("/empty.txt"))
    assert r.status == 0, r
    assert r.out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 0\r\n" in r.out
    assert r.out.endswith(b"\r\n\r\n")


def test_large_file_to_disk(linger, nginx, www, tmp_path):
    out = tmp_path / "big.bin"
    r = linger("get", "-o", out, nginx.url("/big.bin"))
    assert r.status == 0, r
    assert os.path.getsize(out) == 32 << 20
    assert file_sha(out) == file_sha(os.path.join(www, "big.bin"))


def test_keep_alive(linger, nginx):
    """Three URLs, one connection: nginx logs the same connection number
    with request counts 1, 2, 3."""
    before = len(nginx.access_log())
    r = linger("get", "-v", nginx.url("/small.txt"), nginx.url("/one-mib.bin"), nginx.url("/small.txt"))
    assert r.status == 0, r
    assert len(r.out) == 2 * 20 + (1 << 20)
    lines = nginx.access_log(at_least=before + 3)[before:]
    assert len(lines) == 3
    assert len({line[0] for line in lines}) == 1, lines
    assert [int(line[1]) for line in lines] == [1, 2, 3]
    assert r.err.count("reused connection") == 2


def test_chunked_from_proxied_backend(linger, nginx):
    """nginx relays the backend's streamed answer chunked (no length)."""
    r = linger("get", "-i", nginx.url("/proxy/chunked?n=300&size=3001"))
    assert r.status == 0, r
    head, body = r.out.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding: chunked" in head
    want = b"".join(bytes(PATTERN[: 3001]) for _ in range(300))
    assert sha(body) == sha(want)


def test_redirect(linger, nginx):
    r = linger("get", "-v", nginx.url("/old"))
    assert r.status == 0, r
    assert r.out == b"hello from the file\n"
    assert "1 redirect(s)" in r.err
    r = linger("get", "--no-follow", "-i", nginx.url("/old"))
    assert r.status == 0
    assert r.out.startswith(b"HTTP/1.1 301 Moved Permanently\r\n")


def test_not_found(linger, nginx):
    r = linger("get", nginx.url("/nope"))
    assert r.status == 0, r  # a complete answer is a success...
    r = linger("get", "-f", nginx.url("/nope"))
    assert r.status == 22, r  # ... unless asked to fail on 4xx
    assert "404" in r.err


def test_early_413(linger, nginx, www):
    """nginx answers 413 on seeing the Content-Length and reads no body:
    the client stops uploading and reports the answer, complete."""
    r = linger("post", "-i", "--data-file", os.path.join(www, "big.bin"), nginx.url("/limited"))
    assert r.status == 0, r
    assert r.out.startswith(b"HTTP/1.1 413 "), r.out[:100]


def test_post_accepted_small(linger, nginx):
    r = linger("post", "-i", "-d", "x=1", nginx.url("/limited"))
    assert r.status == 0, r
    assert r.out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert r.out.endswith(b"\r\n\r\nok\n")
