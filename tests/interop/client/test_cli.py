"""The `linger get`/`post` command line itself, against linger's own server
(tests/interop/interop_server.c): -o paired with URLs as in curl, errors
per output file, and -H arguments refused before anything is sent."""
import json
import os
from urllib.parse import quote

import pytest


def items(server, *ids):
    """URLs whose bodies say which they are: /items/7 answers "id=7\\n"."""
    return [server.url(f"/items/{i}") for i in ids]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def connections(linger, server):
    r = linger("get", server.url("/stats"))
    assert r.status == 0, r
    return json.loads(r.out)["connections"]


def test_each_output_goes_with_its_url(linger, own_server, tmp_path):
    """The n-th -o names the n-th URL's file, after the URL or before it;
    a URL without one goes to stdout."""
    u1, u2, u3 = items(own_server, 1, 2, 3)
    f1, f2 = tmp_path / "f1", tmp_path / "f2"
    r = linger("get", u1, "-o", f1, u2, "-o", f2, u3)
    assert r.status == 0, r
    assert (read(f1), read(f2), r.out) == (b"id=1\n", b"id=2\n", b"id=3\n")

    f3, f4 = tmp_path / "f3", tmp_path / "f4"
    r = linger("get", "-o", f3, "-o", f4, u1, u2, u3)
    assert r.status == 0, r
    assert (read(f3), read(f4), r.out) == (b"id=1\n", b"id=2\n", b"id=3\n")


def test_include_head_goes_into_each_file(linger, own_server, tmp_path):
    u1, u2 = items(own_server, 1, 2)
    f1, f2 = tmp_path / "f1", tmp_path / "f2"
    r = linger("get", "-i", u1, "-o", f1, u2, "-o", f2)
    assert r.status == 0, r
    assert r.out == b""
    for path, body in ((f1, b"id=1\n"), (f2, b"id=2\n")):
        data = read(path)
        assert data.startswith(b"HTTP/1.1 200 OK\r\n"), data
        assert data.endswith(b"\r\n\r\n" + body), data
        assert data.count(b"HTTP/1.1 ") == 1, data


def test_more_outputs_than_urls_is_a_usage_error(linger, own_server, tmp_path):
    u1, u2 = items(own_server, 1, 2)
    f1, f2, f3 = tmp_path / "f1", tmp_path / "f2", tmp_path / "f3"
    r = linger("get", "-o", f1, u1, "-o", f2, u2, "-o", f3)
    assert r.status == 2, r
    assert "3 -o for 2 URLs" in r.err, r.err
    assert not any(p.exists() for p in (f1, f2, f3))
    r = linger("post", "-d", "x", "-o", f1, "-o", f2, own_server.url("/echo"))
    assert r.status == 2, r
    assert "2 -o for 1 URL" in r.err, r.err


def test_a_file_that_cannot_be_opened_fails_its_url_alone(linger, own_server, tmp_path):
    """Exit 15 and a message naming the file; the other URLs still go to
    their own outputs."""
    u1, u2, u3 = items(own_server, 1, 2, 3)
    bad, good = tmp_path / "no-such-dir" / "f", tmp_path / "good"
    r = linger("get", u1, "-o", bad, u2, "-o", good, u3)
    assert r.status == 15, r
    assert f"cannot write {bad}: No such file or directory" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert read(good) == b"id=2\n"
    assert r.out == b"id=3\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_write_error_names_its_file(linger, own_server, tmp_path):
    u1, u2 = items(own_server, 1, 2)
    good = tmp_path / "good"
    r = linger("get", u1, "-o", "/dev/full", u2, "-o", good)
    assert r.status == 15, r
    assert "cannot write /dev/full: No space left on device" in r.err, r.err
    assert read(good) == b"id=2\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_failed_head_write_is_reported(linger, own_server):
    """With -i and an empty body, only the head is written: its failure
    must not end in exit 0."""
    r = linger("get", "-i", "-o", "/dev/full", own_server.url("/stream?bytes=0"))
    assert r.status == 15, r
    assert "cannot write /dev/full" in r.err, r.err


@pytest.mark.parametrize("header", ["X-A: b\r\nX-Evil: 1", "X-A: b\n", "X-A: \rb", "X\r\nY: z"])
def test_cr_or_lf_in_a_header_is_a_usage_error(linger, own_server, header):
    """Refused before connecting, with a message on one line that shows where
    the CR or LF is."""
    before = connections(linger, own_server)
    r = linger("get", "-H", header, own_server.url("/"))
    assert r.status == 2, r
    shown = header.replace("\r", "\\r").replace("\n", "\\n")
    assert f"linger get: header '{shown}' contains a CR or LF" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert r.out == b""
    assert connections(linger, own_server) == before + 1  # the /stats call's own


@pytest.mark.parametrize("header", ["X A: b", "X-A : b", "(x): y", "X-\u00e9: b"])
def test_a_header_name_must_be_a_token(linger, own_server, header):
    r = linger("get", "-H", header, own_server.url("/"))
    assert r.status == 2, r
    assert "has a name that is not a token" in r.err, r.err


@pytest.mark.parametrize("header", ["X-A b", ": b", "X-A: b\x01"])
def test_other_bad_headers_are_usage_errors(linger, own_server, header):
    r = linger("get", "-H", header, own_server.url("/"))
    assert r.status == 2, r
    assert r.err.startswith("linger get: header '"), r.err


def test_good_headers_still_go(linger, own_server):
    """Every token character in a name, a value with inner spaces, a tab
    and bytes over 0x7f: sent as given, trimmed at the ends."""
    name = "X-a1!#$%&'*+.^_`|~"
    r = linger("get", "-H", f"{name}:  a b\tc \u00e9 ", own_server.url(f"/header?name={quote(name, safe='')}"))
    assert r.status == 0, r
    assert r.out == "a b\tc \u00e9".encode()


def test_usage_explains_the_pairing(linger):
    r = linger("get", "--help")
    assert r.status == 0, r
    assert b"the n-th -o goes with the n-th URL" in r.out
    assert b"URLs without one go to stdout" in r.out
