"""linger's TLS server against a real browser: headless Chromium loads the
demo page of `linger serve --tls-cert --tls-key` over HTTPS.

Chromium trusts the test server's key and nothing else
(--ignore-certificate-errors-spki-list with the hash of its public key,
not a blanket --ignore-certificate-errors), so the handshake is a real
one with linger's certificate. The test reads, through the DevTools
protocol:

 - what was agreed, as Chromium reports it for the page (TLS 1.2 or 1.3,
   an AEAD cipher, the certificate's subject and issuer) and ALPN
   (nextHopProtocol "http/1.1");
 - that the page is a secure context, and went live over TLS: its
   Server-Sent Events arrive (GET /events) and the echo comes back over
   wss:// (GET /ws, 101);
 - a 3 MiB download through fetch(), hashed by the browser's
   crypto.subtle (only a secure context has it): the same SHA-256 as the
   file's.

The browser helpers are tests/interop/browser/test_browser.py's (its own
session, killed with everything it started, PDEATHSIG).
"""
import base64
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop", "browser"))
import test_browser as tb  # noqa: E402  (Browser, _chromium)

MIB = 1 << 20


class TlsDemoServer:
    """`linger serve` with TLS only, on 127.0.0.1 and a port the kernel picks."""

    def __init__(self, binary, root, certs):
        self.proc = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--root", root,
             "--tls-cert", certs("chain.pem"), "--tls-key", certs("server.key")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=tb._die_with_parent)
        self.lines, self.port = [], None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"listening on https://127\.0\.0\.1:(\d+)/", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()
        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(10) or self.port is None:
            self.stop()
            raise RuntimeError("linger serve did not start: " + "\n".join(self.lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode

    def access_log(self):
        return [m.groupdict() for m in map(tb.LOG_LINE.match, self.lines) if m]


class Browser(tb.Browser):
    def eval_async(self, expr):
        """The value of a promise the page's expr returns."""
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"the page threw: {r['exceptionDetails']}")
        return r.get("result", {}).get("value")


def spki_hash(cert):
    """base64(SHA-256(SubjectPublicKeyInfo)): what Chromium's
    --ignore-certificate-errors-spki-list takes."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_chromium_over_tls(certs, tmp_path):
    browser_path = tb._chromium()
    if not browser_path:
        pytest.skip("chromium is not installed (scripts/deps.sh check installs it)")
    if tb.websockets is None:
        pytest.skip("python3-websockets is not installed (scripts/deps.sh check installs it)")
    binary = os.environ.get("LINGER_CLI")
    www = os.environ.get("LINGER_WWW")
    if not binary or not os.path.exists(binary) or not www or not os.path.isdir(www):
        pytest.skip("LINGER_CLI / LINGER_WWW not set (run through ctest)")
    root = tmp_path / "www"
    shutil.copytree(www, root)
    big = os.urandom(3 * MIB)
    (root / "big.bin").write_bytes(big)

    server = TlsDemoServer(binary, str(root), certs)
    browser = None
    try:
        browser = Browser(browser_path, str(tmp_path / "profile"),
                          [f"--ignore-certificate-errors-spki-list={spki_hash(certs('server.pem'))}"])
        browser.call("Network.enable")
        browser.call("Page.enable")
        url = f"https://127.0.0.1:{server.port}/"
        browser.call("Page.navigate", url=url)

        browser.wait_for("document.getElementById('status').textContent === 'live'", "'live'",
                         timeout=20)
        browser.wait_for("Number(document.getElementById('stats').dataset.updates || 0) >= 2",
                         "two stats events")
        browser.wait_for("[...document.querySelectorAll('#echoes li.echoed')]"
                         ".some(li => li.textContent === 'hello, linger')", "the echo over wss://")
        assert browser.eval("window.isSecureContext") is True
        assert browser.eval("location.protocol") == "https:"
        alpn = browser.eval("performance.getEntriesByType('navigation')[0].nextHopProtocol")
        assert alpn == "http/1.1", alpn

        digest = browser.eval_async("""(async () => {
            const r = await fetch('/static/big.bin', {cache: 'no-store'});
            const b = await r.arrayBuffer();
            const h = await crypto.subtle.digest('SHA-256', b);
            return r.status + ' ' + b.byteLength + ' ' +
                [...new Uint8Array(h)].map(x => x.toString(16).padStart(2, '0')).join('');
        })()""")
        assert digest == f"200 {len(big)} {hashlib.sha256(big).hexdigest()}", digest

        page = [e["params"]["response"] for e in browser.events
                if e["method"] == "Network.responseReceived"
                and e["params"]["response"]["url"] == url]
        assert page, [e["method"] for e in browser.events][:20]
        sec = page[0].get("securityDetails", {})
        assert sec.get("protocol") in ("TLS 1.2", "TLS 1.3"), sec
        assert "GCM" in sec.get("cipher", "") or "CHACHA20" in sec.get("cipher", ""), sec
        assert sec.get("subjectName") == "localhost", sec
        assert sec.get("issuer") == "linger test ca", sec
        print("Chromium over TLS:", sec.get("protocol"), sec.get("keyExchange"),
              sec.get("keyExchangeGroup"), sec.get("cipher"), "ALPN", alpn)
    finally:
        if browser:
            browser.close()
        status = server.stop()
    assert status == 0, "linger serve did not shut down cleanly:\n" + "\n".join(server.lines[-20:])

    got = {(e["method"], e["target"]): e["status"] for e in server.access_log()}
    assert got.get(("GET", "/")) == "200", got
    assert got.get(("GET", "/events")) == "200", got
    assert got.get(("GET", "/ws")) == "101", got
    assert got.get(("GET", "/static/big.bin")) == "200", got
    assert not any("aborted" in line for line in server.lines), server.lines[-20:]
