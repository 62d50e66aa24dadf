"""linger's client against Python's http.server: files with keep-alive,
close-delimited bodies ended by FIN and by RST, and the malformed or
missing answers servers give."""
import os

from conftest import file_sha, sha


def test_file_and_keep_alive(linger, pyhttp, www, tmp_path):
    """One -o, two URLs: the first body to the file, the second to stdout."""
    out = tmp_path / "small.txt"
    r = linger("get", "-v", "-o", out, pyhttp.url("/small.txt"), pyhttp.url("/one-mib.bin"))
    assert r.status == 0, r
    assert file_sha(out) == file_sha(os.path.join(www, "small.txt"))
    assert sha(r.out) == file_sha(os.path.join(www, "one-mib.bin"))
    assert "reused connection" in r.err


def test_large_file(linger, pyhttp, www, tmp_path):
    out = tmp_path / "big.bin"
    r = linger("get", "-o", out, pyhttp.url("/big.bin"))
    assert r.status == 0, r
    assert file_sha(out) == file_sha(os.path.join(www, "big.bin"))


def test_close_delimited(linger, pyhttp):
    for n in (0, 1, 100000, 1000000):
        r = linger("get", pyhttp.url(f"/close-delimited?n={n}"))
        assert r.status == 0, r
        assert len(r.out) == n


def test_close_delimited_reset_is_not_success(linger, pyhttp):
    """Rule 1: a body that ends at the close, ended by a reset, is reported
    as a reset, with the data, never as success."""
    r = linger("get", pyhttp.url("/close-delimited-reset"))
    assert r.status == 10, r
    assert "reset after 50000 bytes of a body that ends at the close" in r.err
    assert len(r.out) == 50000


def test_malformed(linger, pyhttp):
    for path, status, words in [("/garbage", 11, "malformed status line"),
                                ("/conflict", 11, "conflicting Content-Length"),
                                ("/badchunk", 11, "malformed chunk size"),
                                ("/bighead", 12, "response head too large")]:
        r = linger("get", pyhttp.url(path))
        assert r.status == status, (path, r)
        assert words in r.err, (path, r.err)
        assert len(r.err.strip().splitlines()) == 1


def test_no_answer(linger, pyhttp):
    r = linger("get", pyhttp.url("/noresponse"))
    assert r.status == 8, r
    assert "closed before a complete response head" in r.err


def test_silence_times_out(linger, pyhttp):
    r = linger("get", "--timeout", "0.3", pyhttp.url("/silent"), timeout=10)
    assert r.status == 7, r


def test_not_listening(linger):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = linger("get", f"http://127.0.0.1:{port}/")
    assert r.status == 6, r
    assert "connection refused" in r.err
