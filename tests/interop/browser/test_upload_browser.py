"""Uploads from a real browser (headless Chromium, driven as in
test_browser.py):

 - the demo page's upload box: a file chosen in its file input and a note
   typed, the form submitted; the page shows the server's JSON answer,
   whose size and SHA-256 must be the file's;
 - CORS from another origin (a second `linger serve` on another port): a
   script on the first server's page fetch()es the second's /upload with a
   FormData (a "simple" request) and its /echo with a JSON body (which
   needs a preflight, answered 204 before any handler: the second server's
   log shows the OPTIONS), and reads both answers; a fetch() of its /hello,
   which has no CORS, must fail — so reading the others proves the headers.
"""
import hashlib
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_browser import Browser, DemoServer, _chromium, served, websockets  # noqa: E402,F401


def _await(browser, expr):
    r = browser.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
    if "exceptionDetails" in r:
        raise AssertionError(f"{expr}: {r['exceptionDetails']}")
    return r.get("result", {}).get("value")


def test_upload_box_and_cors(served, tmp_path):
    browser_path = _chromium()
    if not browser_path:
        pytest.skip("chromium is not installed (scripts/deps.sh check installs it)")
    if websockets is None:
        pytest.skip("python3-websockets is not installed (scripts/deps.sh check installs it)")
    servers, binary, root = served
    first = servers[0]
    other = DemoServer(binary, str(root))
    servers.append(other)
    data = os.urandom(3 << 20) + b"\r\n--not-a-boundary\r\n"
    upload = tmp_path / "firmware image.bin"
    upload.write_bytes(data)

    browser = Browser(browser_path, str(tmp_path / "profile"))
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"http://127.0.0.1:{first.port}/")
        browser.wait_for("document.readyState === 'complete' && !!document.getElementById('upload')",
                         "the upload box")

        # --- the upload box, as a user fills it ---
        doc = browser.call("DOM.getDocument")
        node = browser.call("DOM.querySelector", nodeId=doc["root"]["nodeId"],
                            selector="#upload input[type=file]")
        browser.call("DOM.setFileInputFiles", files=[str(upload)], nodeId=node["nodeId"])
        browser.eval("document.querySelector('#upload input[name=note]').value = 'caf\\u00e9 & co';"
                     "document.getElementById('upload').requestSubmit(); true")
        text = browser.wait_for("(t => t.includes('sha256') && t)"
                                "(document.getElementById('upload-result').textContent)",
                                "the upload's answer", timeout=30)
        got = json.loads(text)
        assert got["fields"] == {"note": "caf\u00e9 & co"}, got
        assert got["files"] == [{"field": "file", "filename": "firmware image.bin",
                                 "type": "application/octet-stream", "size": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest()}], got

        # --- another origin: CORS ---
        base = f"http://127.0.0.1:{other.port}"
        cross = _await(browser, f"""(async () => {{
            const form = new FormData();
            form.append('who', 'elsewhere');
            form.append('f', new Blob(['abc'], {{type: 'text/plain'}}), 'abc.txt');
            const r = await fetch('{base}/upload', {{method: 'POST', body: form}});
            return JSON.stringify({{status: r.status, body: await r.json()}});
        }})()""")
        cross = json.loads(cross)
        assert cross["status"] == 200, cross
        assert cross["body"] == {"fields": {"who": "elsewhere"}, "files": [
            {"field": "f", "filename": "abc.txt", "type": "text/plain", "size": 3,
             "sha256": hashlib.sha256(b"abc").hexdigest()}]}, cross
        echo = _await(browser, f"""(async () => {{
            const r = await fetch('{base}/echo', {{method: 'POST', body: '{{"a": 1}}',
                                  headers: {{'Content-Type': 'application/json'}}}});
            return r.status + ' ' + await r.text();
        }})()""")
        assert echo == '200 {"a": 1}', echo
        refused = _await(browser, f"""fetch('{base}/hello').then(r => 'read ' + r.status,
                                                              e => 'refused: ' + e.name)""")
        assert refused.startswith("refused: TypeError"), refused
    finally:
        browser.close()

    log = other.access_log()
    pre = [e for e in log if e["method"] == "OPTIONS" and e["target"] == "/echo"]
    assert pre and all(e["status"] == "204" for e in pre), log
    assert any(e["method"] == "POST" and e["target"] == "/upload" and e["status"] == "200" for e in log), log
    # the simple request needed no preflight
    assert not [e for e in log if e["method"] == "OPTIONS" and e["target"] == "/upload"], log
