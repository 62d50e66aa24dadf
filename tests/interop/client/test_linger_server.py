"""linger's client against linger's own server (tests/interop/interop_server.c):
the two halves of the promise meeting."""
import json
import os

from conftest import sha


def test_root_and_keep_alive(linger, own_server):
    r = linger("get", "-v", own_server.url("/"), own_server.url("/items/42"), own_server.url("/query?a=1&b=x%20y"))
    assert r.status == 0, r
    assert r.err.count("reused connection") == 2


def test_echo_large(linger, own_server, www):
    path = os.path.join(www, "one-mib.bin")
    r = linger("post", "--data-file", path, own_server.url("/echo"))
    assert r.status == 0, r
    with open(path, "rb") as f:
        assert sha(r.out) == sha(f.read())


def test_streamed_answer(linger, own_server):
    r = linger("get", own_server.url("/stream?bytes=3000000&piece=7777"))
    assert r.status == 0, r
    assert len(r.out) == 3000000


def test_early_answer(linger, own_server, www):
    """/early answers "OK" at once and reads nothing: the client stops
    uploading 32 MiB and reports the answer; linger's server closes without
    a reset."""
    r = linger("post", "-i", "--data-file", os.path.join(www, "big.bin"), own_server.url("/early"))
    assert r.status == 0, r
    assert r.out.startswith(b"HTTP/1.1 200 ")


def test_redirects(linger, own_server):
    for code, method in [(301, "GET"), (303, "GET"), (307, "POST"), (308, "POST")]:
        r = linger("post", "-d", "hello", own_server.url(f"/redirect/{code}"))
        assert r.status == 0, r
        want = f"target {method} body={5 if method == 'POST' else 0}"
        assert r.out.decode().strip() == want, (code, r.out)


def test_refused_continue(linger, own_server):
    """/upload-auth refuses 100-continue without a token: the body never
    goes, the answer is the refusal."""
    r = linger("post", "--expect", "-i", "-d", "x" * 100000, own_server.url("/upload-auth"))
    assert r.status == 0, r
    assert r.out.split(b"\r\n")[0].split()[1] in (b"401", b"403", b"417")


def test_no_resets_on_the_server(linger, own_server):
    """After everything above, linger's server closed every connection
    gracefully: no aborts."""
    r = linger("get", own_server.url("/stats"))
    assert r.status == 0, r
    assert json.loads(r.out)["aborts"] == 0
