"""linger's client (the CLI: linger get/post -u, --basic, --bearer)
against linger's server and against a Python server that demands Digest,
written here from RFC 7616 and checked with curl first, as the reference
of what a client sends."""
import hashlib
import http.server
import re
import secrets
import subprocess
import threading

import pytest


def parse(header):
    return dict((k.lower(), v1 or v2) for k, v1, v2 in
                re.findall(r'([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', header))


class DigestHandler(http.server.BaseHTTPRequestHandler):
    """/sha256: SHA-256, qop=auth, an opaque; /md5: MD5 with qop=auth;
    /md5-rfc2069: MD5 without qop (an old server's form); /sha256-sess:
    SHA-256-sess; /userhash: SHA-256 with userhash=true; /basic: Basic.
    admin:s3cret. Every Authorization it got is kept in `seen`."""
    seen = []
    nonces = set()
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, challenge=None):
        self.send_response(status)
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def check(self):
        path = self.path.split("?")[0]
        auth = self.headers.get("Authorization")
        if auth:
            DigestHandler.seen.append((path, self.command, auth))
        if path == "/basic":
            import base64
            if auth == "Basic " + base64.b64encode(b"admin:s3cret").decode():
                return self.reply(200, b"py basic ok")
            return self.reply(401, b"no", 'Basic realm="py"')
        alg = {"/sha256": "SHA-256", "/sha256-sess": "SHA-256-sess",
               "/userhash": "SHA-256"}.get(path, "MD5")
        h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg.startswith("SHA-256") \
            else (lambda s: hashlib.md5(s.encode()).hexdigest())
        qop = path != "/md5-rfc2069"
        if auth and auth.startswith("Digest "):
            p = parse(auth[7:])
            ha1 = h(f"admin:py realm:s3cret")
            if alg.endswith("-sess"):  # RFC 7616 3.4.2
                ha1 = h(f"{ha1}:{p.get('nonce')}:{p.get('cnonce')}")
            user = h("admin:py realm") if path == "/userhash" else "admin"
            ha2 = h(f"{self.command}:{p.get('uri')}")
            if qop:
                want = h(f"{ha1}:{p.get('nonce')}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
            else:
                want = h(f"{ha1}:{p.get('nonce')}:{ha2}")
            if (p.get("username") == user and p.get("nonce") in DigestHandler.nonces
                    and (path != "/userhash" or p.get("userhash") == "true")
                    and p.get("uri") == self.path and p.get("response") == want
                    and (not qop or p.get("opaque") == "0paque")):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                return self.reply(200, f"py ok {alg} {len(body)}".encode())
        nonce = secrets.token_hex(16)
        DigestHandler.nonces.add(nonce)
        ch = f'Digest realm="py realm", nonce="{nonce}", algorithm={alg}'
        if qop:
            ch += ', qop="auth", opaque="0paque"'
        if path == "/userhash":
            ch += ", userhash=true"
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.reply(401, b"who are you", ch)

    do_GET = check
    do_POST = check


@pytest.fixture(scope="module")
def pyserver():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DigestHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def run(*argv):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout


def test_reference_curl(pyserver):
    """The Python server as curl sees it: what a client must send."""
    DigestHandler.seen.clear()
    for path, alg in (("/sha256", "SHA-256"), ("/md5", "MD5")):
        r = run("curl", "-s", "--max-time", "10", "--digest", "-u", "admin:s3cret", pyserver + path)
        assert r == (0, f"py ok {alg} 0")
    assert len(DigestHandler.seen) == 2


@pytest.mark.parametrize("path,alg", [("/sha256", "SHA-256"), ("/md5", "MD5"),
                                      ("/md5-rfc2069", "MD5"), ("/sha256-sess", "SHA-256-sess"),
                                      ("/userhash", "SHA-256")])
def test_linger_digest_python_server(cli, pyserver, path, alg):
    DigestHandler.seen.clear()
    assert run(cli, "get", "-u", "admin:s3cret", pyserver + path + "?q=1") == (0, f"py ok {alg} 0")
    assert run(cli, "post", "-u", "admin:s3cret", "-d", "x" * 100, pyserver + path) == \
        (0, f"py ok {alg} 100")
    # one answer each, and the same fields curl sends
    assert len(DigestHandler.seen) == 2
    p = parse(DigestHandler.seen[0][2][7:])
    user = hashlib.sha256(b"admin:py realm").hexdigest() if path == "/userhash" else "admin"
    assert p["username"] == user and p["realm"] == "py realm" and p["uri"] == path + "?q=1"
    assert p["algorithm"] == alg
    if path != "/md5-rfc2069":
        assert p["qop"] == "auth" and re.fullmatch(r"[0-9a-f]{8}", p["nc"]) and p["cnonce"]
        assert p["opaque"] == "0paque"


def test_linger_wrong_password_answers_once(cli, pyserver):
    DigestHandler.seen.clear()
    code, out = run(cli, "get", "-f", "-u", "admin:wrong", pyserver + "/sha256")
    assert code == 22 and len(DigestHandler.seen) == 1


def test_linger_basic_python_server(cli, pyserver):
    DigestHandler.seen.clear()
    assert run(cli, "get", "-u", "admin:s3cret", pyserver + "/basic") == (0, "py basic ok")
    assert len(DigestHandler.seen) == 1  # after the challenge
    assert run(cli, "get", "--basic", "-u", "admin:s3cret", pyserver + "/basic") == (0, "py basic ok")
    # Digest asked for: Basic never sent unasked
    DigestHandler.seen.clear()
    run(cli, "get", "-u", "admin:s3cret", pyserver + "/sha256")
    assert all(a.startswith("Digest ") for _, _, a in DigestHandler.seen)


def test_linger_against_linger(cli, server):
    assert run(cli, "get", "-u", "admin:s3cret", server + "/digest") == (0, "hello admin GET 0")
    assert run(cli, "post", "-u", "admin:s3cret", "-d", "abc", server + "/digest-md5") == \
        (0, "hello admin POST 3")
    assert run(cli, "get", "-u", "admin:s3cret", server + "/basic") == (0, "hello admin GET 0")
    assert run(cli, "get", "--bearer", "t0ken", server + "/bearer") == (0, "hello bearer GET 0")
    assert run(cli, "get", "-f", "--bearer", "wrong", server + "/bearer")[0] == 22
    assert run(cli, "get", "-f", "-u", "admin:wrong", server + "/digest")[0] == 22
    # -u without a password, --basic without -u: usage errors
    assert run(cli, "get", "-u", "admin", server + "/digest")[0] == 2
    assert run(cli, "get", "--basic", server + "/basic")[0] == 2
