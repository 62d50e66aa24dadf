#!/usr/bin/python3
"""docs/img/demo.png: the demo page in headless Chromium, live.

Starts `linger serve` (on a free port of 127.0.0.1, the repository's www/),
loads its page in headless Chromium (Debian's chromium) driven over the
DevTools protocol, waits until the table has taken a few "stats" events
over SSE, sends two messages through the echo box and waits for both to
come back over the WebSocket, then captures the page. Everything it
started is stopped, also on failure.

Usage: scripts/demo_screenshot.py [OUT.png]   (default docs/img/demo.png)
Environment: LINGER_BIN (default build/tools/linger: `make` builds it).

The browser and server helpers are the browser test's
(tests/interop/browser/test_browser.py), so the picture shows what that
test checks.
"""
import base64
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop", "browser"))
from test_browser import Browser, DemoServer, _chromium  # noqa: E402

WIDTH, HEIGHT = 760, 1005


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "img", "demo.png")
    binary = os.environ.get("LINGER_BIN", os.path.join(ROOT, "build", "tools", "linger"))
    chromium = _chromium()
    if not os.path.exists(binary):
        sys.exit(f"demo_screenshot: no {binary} (run make, or set LINGER_BIN)")
    if not chromium:
        sys.exit("demo_screenshot: chromium is not installed (scripts/deps.sh check installs it)")
    server = DemoServer(binary, os.path.join(ROOT, "www"))
    try:
        with tempfile.TemporaryDirectory() as profile:
            browser = Browser(chromium, profile)
            try:
                browser.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                             deviceScaleFactor=1, mobile=False)
                browser.call("Page.enable")
                browser.call("Page.navigate", url=f"http://127.0.0.1:{server.port}/")
                browser.wait_for("document.getElementById('status').textContent === 'live'", "'live'")
                browser.wait_for("Number(document.getElementById('stats').dataset.updates || 0) >= 4",
                                 "four stats events")
                echoed = "[...document.querySelectorAll('#echoes li.echoed')].map(li => li.textContent)"
                browser.wait_for(f"{echoed}.includes('hello, linger')", "the page's own echo")
                browser.eval("document.getElementById('echo-text').value = 'Gr\\u00fc\\u00dfe from a WebSocket';"
                             "document.getElementById('echo').requestSubmit(); true")
                browser.wait_for(f"{echoed}.includes('Gr\\u00fc\\u00dfe from a WebSocket')", "the typed echo")
                shot = browser.call("Page.captureScreenshot", format="png")
            finally:
                browser.close()
    finally:
        code = server.stop()
    with open(out, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"demo_screenshot: {out} ({WIDTH}x{HEIGHT}); linger serve exited with {code}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
