"""A Microdot application written for Microdot (apps/compare_app.py) gives
the same answers on linger's microdot package as on the real Microdot.

CPython's http.client asks both the same questions, a connection each (the
real Microdot closes after every answer), and the answers are compared:
status, body (as the framing delivers it: Microdot's HTTP/1.0 answers end
at EOF, linger's are chunked or by length), and every header but those the
servers frame or stamp themselves (Date, Server, Connection,
Content-Length, Transfer-Encoding) and the reason phrase (Microdot says
"N/A" for every status but 200; linger says the standard phrase). Then
linger's answers once more, all on one kept-alive connection: the same.
"""
import http.client
import json

from mpyharness import HERE, MpyServer

APP = HERE / "apps/compare_app.py"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

REQUESTS = [
    ("GET", "/", {}, None),
    ("HEAD", "/", {}, None),
    ("GET", "/hello/linger", {}, None),
    ("GET", "/hello/a%20b", {}, None),
    ("GET", "/num/42", {}, None),
    ("GET", "/num/-7", {}, None),
    ("GET", "/num/x", {}, None),
    ("GET", "/path/a/b/c.txt", {}, None),
    ("GET", "/re/abcab", {}, None),
    ("GET", "/re/abd", {}, None),
    ("GET", "/args?a=1&b=x&b=y&n=5", {}, None),
    ("GET", "/args?a=%41+b&b=&flag", {}, None),
    ("POST", "/json", {"Content-Type": "application/json"}, b'{"k": [1, 2], "s": "\\u00e9"}'),
    ("POST", "/json", {"Content-Type": "text/plain"}, b"not json"),
    ("POST", "/form", FORM, b"name=Ann+B&tag=a&tag=b%21"),
    ("GET", "/cookies", {"Cookie": "a=1; b=two; old=x"}, None),
    ("GET", "/stream", {}, None),
    ("GET", "/stream-big", {}, None),
    ("GET", "/file", {}, None),
    ("POST", "/small", {}, b"x" * 1000),
    ("POST", "/upload", {}, bytes(range(256)) * 12),  # over max_body_length: the stream
    ("POST", "/upload", {}, b"y" * 500),  # within it: the body, and the stream over it
    ("POST", "/upload", {}, b"z" * 5000),  # over max_content_length: 413
    ("GET", "/status", {}, None),
    ("GET", "/int", {}, None),
    ("GET", "/none", {}, None),
    ("GET", "/tuple-headers", {}, None),
    ("GET", "/list", {}, None),
    ("GET", "/abort", {}, None),
    ("GET", "/boom", {}, None),
    ("GET", "/crash", {}, None),
    ("GET", "/redirect", {}, None),
    ("GET", "/redirect301", {}, None),
    ("GET", "/methods", {}, None),
    ("PUT", "/methods", {}, b"put"),
    ("PATCH", "/methods", {}, b"patch"),
    ("DELETE", "/methods", {}, None),
    ("POST", "/methods", {}, b"no"),
    ("OPTIONS", "/methods", {}, None),
    ("OPTIONS", "/hello/x", {}, None),
    ("GET", "/headers", {"User-Agent": "test/1", "X-Test": "T"}, None),
    ("GET", "/", {"X-Block": "yes"}, None),
    ("GET", "/", {"X-Long": "a" * 2100}, None),  # a line over Request.max_readline: 400
    ("GET", "/response-object", {}, None),
    ("GET", "/after-request", {}, None),
    ("GET", "/api/info", {}, None),
    ("GET", "/api/item/3", {}, None),
    ("GET", "/api/item/11", {}, None),
    ("GET", "/nothing/here", {}, None),
]

FRAMED = {"date", "server", "connection", "content-length", "transfer-encoding", "keep-alive"}


def answer(conn, method, path, headers, body):
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    fields = {}
    for name, value in r.getheaders():
        if name.lower() not in FRAMED:
            fields.setdefault(name.lower(), []).append(value)
    return {"status": r.status, "headers": fields, "body": data}


def ask_all(port, keep_alive):
    out = []
    conn = None
    for method, path, headers, body in REQUESTS:
        if conn is None or not keep_alive:
            if conn:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        out.append(answer(conn, method, path, headers, body))
    conn.close()
    return out


def test_same_answers():
    real = MpyServer("microdot", APP)
    try:
        want = ask_all(real.port, keep_alive=False)
    finally:
        real.stop()
    ours = MpyServer("linger", APP)
    try:
        got = ask_all(ours.port, keep_alive=False)
        kept = ask_all(ours.port, keep_alive=True)
    finally:
        ours.stop()
    diffs = []
    for (method, path, _, _), w, g, k in zip(REQUESTS, want, got, kept):
        if w != g:
            diffs.append(f"{method} {path}:\n  Microdot {w}\n  linger   {g}")
        if g != k:
            diffs.append(f"{method} {path} kept alive:\n  alone {g}\n  kept  {k}")
    assert not diffs, "\n".join(diffs)
    # a few answers checked on their own, so that two identical wrong
    # answers cannot pass
    by = {}
    for (m, p, _, _), a in zip(REQUESTS, want):
        by.setdefault((m, p), a)  # the first of a kind
    assert json.loads(by[("GET", "/num/42")]["body"]) == {"n": 42, "double": 84}
    assert by[("GET", "/stream")]["body"] == b"".join(b"chunk %d\n" % i for i in range(5))
    assert len(by[("GET", "/stream-big")]["body"]) == 200000
    assert json.loads(by[("POST", "/upload")]["body"])["bytes"] == 3072
    assert want[REQUESTS.index(("POST", "/upload", {}, b"z" * 5000))]["status"] == 413
    assert by[("GET", "/boom")]["body"] == b"boom: BigBoom"
    assert by[("GET", "/api/item/11")]["status"] == 404
    assert want[REQUESTS.index(("GET", "/", {"X-Long": "a" * 2100}, None))]["status"] == 400
    print(f"{len(REQUESTS)} answers alike")


PLAIN = HERE / "apps/plain_app.py"
PLAIN_REQUESTS = [
    ("GET", "/", {}, None),
    ("HEAD", "/", {}, None),
    ("GET", "/bytes", {}, None),
    ("GET", "/empty", {}, None),
    ("GET", "/json/5", {}, None),
    ("GET", "/list", {}, None),
    ("POST", "/echo", {"Content-Type": "text/plain"}, b"small body"),
    ("POST", "/echo", {}, b"b" * 3000),  # over max_body_length: from the stream
    ("GET", "/seen?x=1&y=%20z", {"User-Agent": "test/2", "Cookie": "c=1; d=2"}, None),
    ("POST", "/seen", {"Content-Type": "application/json"}, b"{}"),
    ("GET", "/late", {}, None),
    ("POST", "/", {}, b"x"),
    ("GET", "/nothing", {}, None),
]


def test_same_plain_answers():
    """Handlers that return plain values, without hooks: linger's fast path
    (no Response object) answers as the real Microdot does."""
    global REQUESTS
    saved, REQUESTS = REQUESTS, PLAIN_REQUESTS
    try:
        real = MpyServer("microdot", PLAIN)
        try:
            want = ask_all(real.port, keep_alive=False)
        finally:
            real.stop()
        ours = MpyServer("linger", PLAIN)
        try:
            got = ask_all(ours.port, keep_alive=True)
        finally:
            ours.stop()
    finally:
        REQUESTS = saved
    diffs = [f"{m} {p}:\n  Microdot {w}\n  linger   {g}"
             for (m, p, _, _), w, g in zip(PLAIN_REQUESTS, want, got) if w != g]
    assert not diffs, "\n".join(diffs)
    assert want[0]["headers"]["content-type"] == ["text/plain; charset=UTF-8"]
    assert json.loads(want[4]["body"]) == {"n": 5, "squares": [0, 1, 4, 9, 16]}
    assert want[7]["body"] == b"b" * 3000
    seen = json.loads(want[8]["body"])
    assert seen["args"] == {"x": ["1"], "y": [" z"]} and seen["cookies"] == {"c": "1", "d": "2"}
    assert want[10]["headers"]["x-late"] == ["yes"]
