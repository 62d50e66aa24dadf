"""A real browser against the demo server.

Headless Chromium (Debian's chromium) loads the page of `linger serve` and
its static assets (www/, served under /static), then runs www/app.js,
which polls /api/stats once a second and fills in the page. The test reads
the DOM the browser rendered: the live figures must be there, as numbers,
with the status "live". The server's access log (stderr, one line per
request with the client's address and port) must show every asset fetched,
more than one connection used (the browser loads in parallel) and a
connection that carried several requests (keep-alive).

app.js is also served precompressed (app.js.gz beside it, in a copy of
www/): the page can only go live if the browser decoded what linger sent
with Content-Encoding: gzip.

Paths come from ctest (tests/interop/browser/CMakeLists.txt): LINGER_BIN
(the linger tool) and LINGER_WWW (the repository's www/).
"""
import collections
import gzip
import html.parser
import os
import re
import shutil
import signal
import subprocess
import threading

import pytest

# Virtual time lets the page's one-second polls run in a fraction of a
# real second; what stops a hung browser is the real timeout.
VIRTUAL_TIME_MS = 4000
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
    """`linger serve --port 0` on a copy of www/; stderr collected."""

    def __init__(self, binary, root):
        self.proc = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--root", root],
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
    server = DemoServer(binary, str(root))
    yield server, root
    server.stop()


def test_browser_renders_live_figures(served, tmp_path):
    browser = _chromium()
    if not browser:
        pytest.skip("chromium is not installed (scripts/deps.sh check installs it)")
    server, root = served
    url = f"http://127.0.0.1:{server.port}/"
    argv = [
        browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        # No internet here, and nothing but the page should be fetched.
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
        "--disable-client-side-phishing-detection", "--metrics-recording-only",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", url,
    ]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)
    dom_html = run.stdout
    assert run.returncode == 0 and "<html" in dom_html, \
        f"chromium failed ({run.returncode}): {run.stderr[-2000:]}"
    exit_status = server.stop()
    log = server.access_log()
    print(f"{len(log)} requests logged; rendered:",
          re.findall(r'<td id="\w+"[^>]*>[^<]*</td>|<p id="status"[^>]*>[^<]*</p>', dom_html))

    # --- what the page rendered ---
    dom = Dom()
    dom.feed(dom_html)
    assert dom.text["status"].strip() == "live", dom.text["status"]
    assert "live" in dom.attrs["status"].get("class", "")
    figures = {k: dom.text[k].strip() for k in ("uptime", "requests", "connections", "active")}
    for k in ("requests", "connections", "active"):
        assert figures[k].isdigit(), f"#{k} shows {figures[k]!r}, not a number"
    # app.js's own format, from the server's milliseconds.
    assert re.fullmatch(r"\d+ s|\d+ min \d\d s|\d+ h \d\d min", figures["uptime"]), figures
    uptime_ms = dom.attrs["uptime"].get("data-ms", "")
    assert uptime_ms.isdigit() and int(uptime_ms) > 0, uptime_ms
    requests, connections, active = (int(figures[k]) for k in ("requests", "connections", "active"))
    # The figures are the server's own: the page's requests were counted
    # (the page, its assets and the first poll at least), and never more
    # than the log shows (/api/stats counts itself before it is answered).
    assert len(PAGE_ASSETS) + 1 <= requests <= len(log) + 1, (requests, len(log))
    # (Connections may outnumber the log's peers: Chromium opens spare
    # ones that never carry a request.)
    peers = collections.Counter(e["peer"] for e in log)
    assert connections >= 2, connections
    assert 1 <= active <= connections

    # --- what the server saw ---
    assert exit_status == 0, "linger serve did not shut down cleanly:\n" + "\n".join(server.lines[-20:])
    got = {(e["method"], e["target"]): e for e in log}
    for target in ["/"] + PAGE_ASSETS:
        assert ("GET", target) in got, f"{target} was never fetched: {[e['target'] for e in log]}"
        assert got[("GET", target)]["status"] in ("200", "304"), got[("GET", target)]
    # app.js went out compressed (and the page ran it: it is live).
    assert int(got[("GET", "/static/app.js")]["bytes"]) == os.path.getsize(root / "app.js.gz")
    polls = [e for e in log if e["target"] == "/api/stats"]
    assert len(polls) >= 2, "the page polled /api/stats only once"
    assert all(e["status"] == "200" for e in polls)
    # Parallel connections, and keep-alive on at least one of them.
    assert len(peers) > 1, f"one connection only: {peers}"
    assert max(peers.values()) > 1, f"no connection carried two requests: {peers}"
    print(f"connections: {len(peers)}, requests per connection: {sorted(peers.values())}")
