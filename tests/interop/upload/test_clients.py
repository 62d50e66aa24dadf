"""POST /upload of `linger serve` against clients nobody here wrote: curl
-F (fields and files, several files, a large file), Python's standard
library (urllib with a urlencoded body, and multipart bodies made by the
email package, whose boundaries are full of '='), and aiohttp's FormData.
Every answer is checked field by field and file by file: sizes and
SHA-256 against the bytes sent. The server holds no file in memory: its
resident memory grows by less than the largest file sent."""
import asyncio
import hashlib
import json
import os
import subprocess
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.policy import HTTP

import pytest

try:
    import aiohttp
except ImportError:  # pragma: no cover
    aiohttp = None


def _file(tmp_path, name, size, seed=1):
    data = (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]
    # bytes that look like a delimiter, inside the content
    if size > 100:
        data = data[:50] + b"\r\n--" + data[54:]
    p = tmp_path / name
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest()


def _curl(*args):
    out = subprocess.run(["curl", "-sS", "--fail-with-body", "--max-time", "120", *args],
                         capture_output=True, timeout=150)
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    return json.loads(out.stdout)


def test_curl_fields_and_files(demo, tmp_path):
    a, ha = _file(tmp_path, "a.bin", 100_000, 1)
    b, hb = _file(tmp_path, "b b.txt", 7, 2)
    empty, he = _file(tmp_path, "empty", 0, 3)
    got = _curl("-F", "note=hello world", "-F", "lang=fr\u00e9", "-F", f"one=@{a}",
                "-F", f"two=@{b};type=text/x-test", "-F", f"three=@{empty}", demo.url("/upload"))
    assert got["fields"] == {"note": "hello world", "lang": "fr\u00e9"}
    assert got["files"] == [
        {"field": "one", "filename": "a.bin", "type": "application/octet-stream", "size": 100_000,
         "sha256": ha},
        {"field": "two", "filename": "b b.txt", "type": "text/x-test", "size": 7, "sha256": hb},
        {"field": "three", "filename": "empty", "type": "application/octet-stream", "size": 0,
         "sha256": he},
    ]


def test_curl_large_file_not_held(demo, tmp_path):
    # 64 MiB where the server's memory is measured; 16 MiB under the
    # sanitizers, which measure no memory and hash so slowly that 64 MiB
    # took 52 s of curl's 60 on a quiet machine
    sanitized = bool(os.environ.get("LINGER_SANITIZED"))
    size = (16 if sanitized else 64) << 20
    big, hb = _file(tmp_path, "big.bin", size, 4)
    before = demo.rss_kib()
    got = _curl("-F", f"file=@{big}", "-F", "after=yes", demo.url("/upload"))
    assert got["files"][0]["size"] == size and got["files"][0]["sha256"] == hb
    assert got["fields"] == {"after": "yes"}
    grew = demo.rss_kib("VmHWM") - before
    assert sanitized or grew < 8 * 1024, f"the server's memory grew by {grew} KiB for a 64 MiB file"


def test_curl_urlencoded(demo):
    got = _curl("--data-urlencode", "q=a&b c", "-d", "x=1", "-d", "y=%E2%82%AC", demo.url("/upload"))
    assert got == {"fields": {"q": "a&b c", "x": "1", "y": "\u20ac"}, "files": []}


def _post(url, body, ctype):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_stdlib_urlencoded(demo):
    body = urllib.parse.urlencode({"name": "Ada Lovelace", "sym": "&=+%", "e": ""}).encode()
    got = _post(demo.url("/upload"), body, "application/x-www-form-urlencoded")
    assert got == {"fields": {"name": "Ada Lovelace", "sym": "&=+%", "e": ""}, "files": []}


def test_stdlib_email_multipart(demo, tmp_path):
    """multipart/form-data made by the email package (its boundaries look
    like "===============123==": '=' inside, quoted)."""
    data, h = _file(tmp_path, "x.bin", 300_000, 5)
    msg = EmailMessage(policy=HTTP)
    msg.make_mixed()
    field = EmailMessage(policy=HTTP)
    field.set_content("plain value", disposition="form-data", cte="8bit")
    field.set_param("name", "f1", header="Content-Disposition")
    del field["Content-Transfer-Encoding"]
    msg.attach(field)
    part = EmailMessage(policy=HTTP)
    part.set_content(data.read_bytes(), maintype="application", subtype="x-firmware",
                     disposition="form-data", cte="8bit")
    part.set_param("name", "fw", header="Content-Disposition")
    part.set_param("filename", "x.bin", header="Content-Disposition")
    del part["Content-Transfer-Encoding"]
    msg.attach(part)
    body = msg.as_bytes().split(b"\r\n\r\n", 1)[1]  # the body, without the top headers
    ctype = "multipart/form-data; boundary=\"%s\"" % msg.get_boundary()
    got = _post(demo.url("/upload"), body, ctype)
    # the email package ends a text part with a line break of its own
    assert got["fields"]["f1"].rstrip("\r\n") == "plain value"
    assert got["files"] == [{"field": "fw", "filename": "x.bin", "type": "application/x-firmware",
                             "size": 300_000, "sha256": h}]


@pytest.mark.skipif(aiohttp is None, reason="python3-aiohttp is not installed")
def test_aiohttp_formdata(demo, tmp_path):
    files = [_file(tmp_path, f"f{i}.dat", n, 10 + i) for i, n in enumerate((1, 5000, 2_000_000))]

    async def go():
        form = aiohttp.FormData()
        form.add_field("title", "three files")
        for i, (p, _) in enumerate(files):
            form.add_field("files", open(p, "rb"), filename=p.name,
                           content_type="application/octet-stream")
        async with aiohttp.ClientSession() as s:
            async with s.post(demo.url("/upload"), data=form) as r:
                assert r.status == 200, await r.text()
                return await r.json()
    got = asyncio.run(go())
    assert got["fields"] == {"title": "three files"}
    assert [(f["filename"], f["size"], f["sha256"]) for f in got["files"]] == \
        [(p.name, os.path.getsize(p), h) for p, h in files]
