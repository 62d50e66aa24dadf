"""linger's server demanding Digest (RFC 7616), Basic and Bearer, asked by
curl (--digest, -u, -H) and Python's urllib (HTTPDigestAuthHandler), and
by a client written here from RFC 7616 for what those two never do: send
a nonce again after it expired (stale=true)."""
import hashlib
import http.client
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest


def curl(*args):
    r = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-w", "\n%{http_code}", *args],
                       capture_output=True, text=True, timeout=20)
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def test_curl_digest_sha256_and_md5(server):
    # curl takes the first challenge it knows: SHA-256
    assert curl("--digest", "-u", "admin:s3cret", server + "/digest") == (200, "hello admin GET 0")
    assert curl("--digest", "-u", "admin:s3cret", "-d", "x" * 1000,
                server + "/digest-md5") == (200, "hello admin POST 1000")
    # the wrong password: curl answers once, is refused, and stops
    code, _ = curl("--digest", "-u", "admin:wrong", server + "/digest")
    assert code == 401


def test_curl_sends_sha256(server):
    r = subprocess.run(["curl", "-s", "-v", "--max-time", "10", "--digest", "-u", "admin:s3cret",
                        server + "/digest"], capture_output=True, text=True, timeout=20)
    sent = [l for l in r.stderr.splitlines() if l.startswith("> Authorization: Digest")]
    assert len(sent) == 1 and "algorithm=SHA-256" in sent[0]
    assert r.stdout == "hello admin GET 0"


def test_curl_basic_and_bearer(server):
    assert curl("-u", "admin:s3cret", server + "/basic") == (200, "hello admin GET 0")
    assert curl("-u", "admin:nope", server + "/basic")[0] == 401
    assert curl("-H", "Authorization: Bearer t0ken", server + "/bearer") == (200, "hello bearer GET 0")
    assert curl("-H", "Authorization: Bearer t0kem", server + "/bearer")[0] == 401


def opener(server, user="admin", password="s3cret"):
    pm = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    pm.add_password(None, server + "/", user, password)
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(pm))


def test_urllib_digest_md5(server):
    op = opener(server)
    with op.open(server + "/digest-md5", timeout=10) as r:
        assert r.read() == b"hello admin GET 0"
    with op.open(server + "/digest-md5", data=b"abc", timeout=10) as r:
        assert r.read() == b"hello admin POST 3"
    with pytest.raises(urllib.error.HTTPError) as e:
        opener(server, password="wrong").open(server + "/digest-md5", timeout=10)
    assert e.value.code == 401


# --- a client from RFC 7616 3.4, to send what curl and urllib do not ---

def challenge(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    assert r.status == 401
    ch = [v for k, v in r.getheaders() if k.lower() == "www-authenticate"]
    return r, ch


def answer(ch, path, nc="00000001", password="s3cret", alg="SHA-256"):
    realm = re.search(r'realm="([^"]*)"', ch).group(1)
    nonce = re.search(r'nonce="([^"]*)"', ch).group(1)
    h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg == "SHA-256" else \
        (lambda s: hashlib.md5(s.encode()).hexdigest())
    cnonce = "c0ffee"
    resp = h(f"{h(f'admin:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{h(f'GET:{path}')}")
    return (f'Digest username="admin", realm="{realm}", nonce="{nonce}", uri="{path}", '
            f'algorithm={alg}, qop=auth, nc={nc}, cnonce="{cnonce}", response="{resp}"')


def test_stale_nonce(server):
    host = urllib.parse.urlsplit(server).netloc
    conn = http.client.HTTPConnection(host, timeout=10)
    _, ch = challenge(conn, "/digest-short")
    assert len(ch) == 2 and "algorithm=SHA-256" in ch[0] and "algorithm=MD5" in ch[1]
    auth = answer(ch[0], "/digest-short")
    conn.request("GET", "/digest-short", headers={"Authorization": auth})
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b"hello admin GET 0")
    time.sleep(2.2)  # the nonce lives 1 s
    conn.request("GET", "/digest-short", headers={"Authorization": answer(ch[0], "/digest-short",
                                                                          nc="00000002")})
    r = conn.getresponse()
    r.read()
    fresh = [v for k, v in r.getheaders() if k.lower() == "www-authenticate"]
    assert r.status == 401 and all("stale=true" in v for v in fresh)
    # the wrong password with the expired nonce: no stale (RFC 7616 3.3)
    conn.request("GET", "/digest-short", headers={"Authorization": answer(
        ch[0], "/digest-short", nc="00000003", password="wrong")})
    r = conn.getresponse()
    r.read()
    assert r.status == 401 and "stale" not in r.getheader("WWW-Authenticate")
    conn.request("GET", "/digest-short", headers={"Authorization": answer(fresh[1], "/digest-short",
                                                                          alg="MD5")})
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b"hello admin GET 0")
    conn.close()
