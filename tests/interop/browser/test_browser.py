"""A real browser against the demo server.

Headless Chromium (Debian's chromium) loads the page of `linger serve` and
its static assets (www/, served under /static), then runs www/app.js,
which fills the page's table from Server-Sent Events (GET /events, one
"stats" event a second) and talks to the echo over a WebSocket (GET /ws).
The test drives the browser over the DevTools protocol (through Python's
websockets) and reads the page as it runs:

 - the table is live and changes: "stats" events arrive, their ids count
   up, the figures are the server's own;
 - the echo box's message comes back over the WebSocket, and so does one
   typed afterwards;
 - the server is stopped (a graceful shutdown ends the event stream and
   says 1001 to the WebSocket) and started again on the same port: the
   browser's EventSource reconnects by itself with Last-Event-ID, and the
   new server goes on counting from there (ids without a gap or a restart
   at 1), and the echo box reconnects too.

The server's access log (stderr, one line per request with the client's
address and port) must show every asset fetched, more than one connection
used (the browser loads in parallel), /events and /ws answered (200, 101).

app.js is also served precompressed (app.js.gz beside it, in a copy of
www/): the page can only go live if the browser decoded what linger sent
with Content-Encoding: gzip.

Paths come from ctest (tests/interop/browser/CMakeLists.txt): LINGER_BIN
(the linger tool) and LINGER_WWW (the repository's www/).
"""
import asyncio
import collections
import ctypes
import gzip
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

try:
    import websockets
except ImportError:  # pragma: no cover
    websockets = None

BROWSER_TIMEOUT_S = 60

# What the page links (tools/cmd_serve.c, index_html). The favicon is left
# out: a browser fetches it when it likes.
PAGE_ASSETS = [
    "/static/style.css",
    "/static/app.js",
    "/static/logo.svg",
    "/static/img/framing.svg",
    "/static/img/reset.svg",
    "/static/img/linger.svg",
]

LOG_LINE = re.compile(r'^(?P<peer>\S+) "(?P<method>\S+) (?P<target>\S+)" (?P<status>\d+) '
                      r'(?P<bytes>\d+) (?P<ms>\d+)ms$')


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DemoServer:
    """`linger serve` on a copy of www/ (port 0: a free one); stderr collected."""

    def __init__(self, binary, root, port=0):
        self.proc = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--root", root],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._ready = threading.Event()
        self.port = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(10) or self.port is None:
            self.stop()
            raise RuntimeError("linger serve did not start: " + "\n".join(self.lines))

    def _read(self):
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            self.lines.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def stop(self, timeout=20):
        """SIGTERM (a graceful shutdown); returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode

    def access_log(self):
        return [m.groupdict() for m in map(LOG_LINE.match, self.lines) if m]


class Dom(html.parser.HTMLParser):
    """Text and attributes of the elements that have an id."""

    def __init__(self):
        super().__init__()
        self.text = collections.defaultdict(str)
        self.attrs = {}
        self._open = []  # ids of the elements we are inside

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("img", "link", "meta", "br", "input"):
            return  # void elements have no text
        self._open.append(a.get("id"))
        if a.get("id"):
            self.attrs[a["id"]] = a

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for i in self._open:
            if i:
                self.text[i] += data


def _die_with_parent():
    """In the child: SIGKILL when the test's process dies, however it dies
    (a ctest timeout kills it with SIGKILL, and no cleanup runs then): a
    headless Chromium left behind ran for many minutes at half a core."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Browser:
    """Headless Chromium, driven over the DevTools protocol: one page.
    flags: more of Chromium's switches (the TLS test trusts a key with one);
    the protocol's events are kept in self.events."""

    def __init__(self, path, profile, flags=()):
        self.events = []
        self.proc = subprocess.Popen([
            path, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", "--remote-debugging-port=0",
            # No internet here, and nothing but the page should be fetched.
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
            "--disable-client-side-phishing-detection", "--metrics-recording-only",
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
            *flags, "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent)
        try:
            self._start(profile)
        except BaseException:
            self._kill()
            raise

    def _start(self, profile):
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws_url = pages[0]["webSocketDebuggerUrl"]
        self.loop = asyncio.new_event_loop()

        async def connect():
            return await websockets.connect(self.ws_url, max_size=None)
        self.ws = self.loop.run_until_complete(connect())
        self.next_id = 0

    def call(self, method, **params):
        async def go():
            self.next_id += 1
            mid = self.next_id
            await self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
            while True:
                msg = json.loads(await self.ws.recv())
                if msg.get("id") == mid:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg.get("result", {})
                if "method" in msg:
                    self.events.append(msg)
        return self.loop.run_until_complete(asyncio.wait_for(go(), 20))

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")

    def wait_for(self, expr, what, timeout=15):
        """Until the page's expr is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.eval(expr)
            if v:
                return v
            time.sleep(0.1)
        raise AssertionError(f"the page never showed {what}: {self.state()}")

    def state(self):
        return self.eval("""JSON.stringify({
            status: document.getElementById('status').textContent,
            updates: Number(document.getElementById('stats').dataset.updates || 0),
            ids: (document.getElementById('stats').dataset.ids || '').split(',').filter(Boolean).map(Number),
            echoes: [...document.querySelectorAll('#echoes li.echoed')].map(li => li.textContent),
            echo: document.getElementById('echo-status').textContent })""")

    def close(self):
        try:
            self.loop.run_until_complete(self.ws.close())
        except Exception:
            pass
        self.loop.close()
        self._kill()

    def _kill(self):
        """Chromium and every process it started (its own session)."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


@pytest.fixture
def served(tmp_path):
    binary = os.environ.get("LINGER_BIN")
    www = os.environ.get("LINGER_WWW")
    if not binary or not os.path.exists(binary) or not www or not os.path.isdir(www):
        pytest.skip("LINGER_BIN / LINGER_WWW not set (run through ctest)")
    root = tmp_path / "www"
    shutil.copytree(www, root)
    with open(root / "app.js", "rb") as f, gzip.open(root / "app.js.gz", "wb") as g:
        g.write(f.read())
    servers = [DemoServer(binary, str(root))]
    yield servers, binary, root
    for s in servers:
        s.stop()


def test_browser_live_page(served, tmp_path):
    browser_path = _chromium()
    if not browser_path:
        pytest.skip("chromium is not installed (scripts/deps.sh check installs it)")
    if websockets is None:
        pytest.skip("python3-websockets is not installed (scripts/deps.sh check installs it)")
    servers, binary, root = served
    server = servers[0]
    url = f"http://127.0.0.1:{server.port}/"
    browser = Browser(browser_path, str(tmp_path / "profile"))
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=url)

        # --- live over SSE, and the echo over the WebSocket ---
        browser.wait_for("document.getElementById('status').textContent === 'live'", "'live'")
        browser.wait_for("Number(document.getElementById('stats').dataset.updates || 0) >= 3",
                         "three stats events")
        browser.wait_for("[...document.querySelectorAll('#echoes li.echoed')]"
                         ".some(li => li.textContent === 'hello, linger')", "the first echo")
        browser.eval("document.getElementById('echo-text').value = 'typed \\u00e9\\u00e8 later';"
                     "document.getElementById('echo').requestSubmit(); true")
        browser.wait_for("[...document.querySelectorAll('#echoes li.echoed')]"
                         ".some(li => li.textContent === 'typed \\u00e9\\u00e8 later')", "the typed echo")
        before = json.loads(browser.state())
        assert before["ids"] == list(range(1, len(before["ids"]) + 1)), before
        dom_html = browser.eval("document.documentElement.outerHTML")

        # --- the server goes away and comes back on the same port ---
        assert server.stop() == 0, "linger serve did not shut down cleanly:\n" + "\n".join(server.lines[-20:])
        browser.wait_for("document.getElementById('status').className === 'offline'", "offline")
        again = DemoServer(binary, str(root), port=server.port)
        servers.append(again)
        last = before["ids"][-1]
        browser.wait_for(f"(document.getElementById('stats').dataset.ids || '').split(',')"
                         f".map(Number).filter(i => i > {last} + 1).length >= 1",
                         "events from the new server")
        after = json.loads(browser.state())
        # Last-Event-ID: the new server resumed after the last id seen (it
        # would have started at 1 without it), with nothing lost or repeated
        assert after["ids"] == list(range(1, len(after["ids"]) + 1)), after
        assert after["status"] == "live"
        browser.wait_for("document.getElementById('echo-status').textContent === 'connected'",
                         "the WebSocket reconnected", timeout=10)
        print("ids seen:", after["ids"], "echoes:", after["echoes"])
    finally:
        browser.close()
    assert again.stop() == 0

    # --- what the page rendered ---
    dom = Dom()
    dom.feed(dom_html)
    assert dom.text["status"].strip() == "live", dom.text["status"]
    figures = {k: dom.text[k].strip() for k in ("uptime", "requests", "connections", "active", "streams",
                                                 "websockets")}
    for k in ("requests", "connections", "active", "streams", "websockets"):
        assert figures[k].isdigit(), f"#{k} shows {figures[k]!r}, not a number"
    assert re.fullmatch(r"\d+ s|\d+ min \d\d s|\d+ h \d\d min", figures["uptime"]), figures
    assert int(figures["streams"]) >= 1 and int(figures["websockets"]) >= 1, figures
    log = server.access_log()
    requests, connections = int(figures["requests"]), int(figures["connections"])
    # The page and its assets were counted (and the WebSocket's 101).
    assert len(PAGE_ASSETS) + 1 <= requests <= len(log), (requests, len(log))
    assert connections >= 2, connections

    # --- what the first server saw ---
    got = {(e["method"], e["target"]): e for e in log}
    for target in ["/"] + PAGE_ASSETS:
        assert ("GET", target) in got, f"{target} was never fetched: {[e['target'] for e in log]}"
        assert got[("GET", target)]["status"] in ("200", "304"), got[("GET", target)]
    # app.js went out compressed (and the page ran it: it is live).
    assert int(got[("GET", "/static/app.js")]["bytes"]) == os.path.getsize(root / "app.js.gz")
    assert got[("GET", "/events")]["status"] == "200"
    assert got[("GET", "/ws")]["status"] == "101"
    assert not [e for e in log if e["target"] == "/api/stats"], "the page still polls"
    peers = collections.Counter(e["peer"] for e in log)
    assert len(peers) > 1, f"one connection only: {peers}"
    print(f"connections: {len(peers)}, requests per connection: {sorted(peers.values())}")
    # the second server: the EventSource and the WebSocket came back
    log2 = {(e["method"], e["target"]): e for e in again.access_log()}
    assert ("GET", "/events") in log2 and ("GET", "/ws") in log2, again.lines
