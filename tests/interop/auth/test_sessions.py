"""Signed cookie sessions against real cookie jars: Python's
http.cookiejar (through urllib) and curl's (-c/-b): the round trip, the
attributes as a jar reads them, tampering, expiry, log-out."""
import http.cookiejar
import os
import subprocess
import tempfile
import time
import urllib.request


def jar_opener():
    jar = http.cookiejar.CookieJar()
    return jar, urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(op, url):
    with op.open(url, timeout=10) as r:
        return r.read().decode()


def test_cookiejar_round_trip(server):
    jar, op = jar_opener()
    assert get(op, server + "/whoami") == "nobody (LG_ERR_NOT_FOUND)"
    assert get(op, server + "/login?user=ann") == "logged in ann"
    [c] = list(jar)
    assert c.name == "session" and c.path == "/" and not c.secure
    assert c.has_nonstandard_attr("HttpOnly") and c.get_nonstandard_attr("SameSite") == "Lax"
    assert c.expires and 86000 < c.expires - time.time() <= 86400
    assert get(op, server + "/whoami") == "ann"
    # tampered in the jar: the server ignores it
    value = c.value
    c.value = value[:3] + ("A" if value[3] != "A" else "B") + value[4:]
    assert get(op, server + "/whoami") == "nobody (LG_ERR_INVALID_ARG)"
    c.value = value
    assert get(op, server + "/whoami") == "ann"
    # log out: the jar drops it (Max-Age=0)
    assert get(op, server + "/logout") == "logged out"
    assert list(jar) == []
    assert get(op, server + "/whoami") == "nobody (LG_ERR_NOT_FOUND)"


def curl(*args):
    return subprocess.run(["curl", "-s", "--max-time", "10", *args], capture_output=True,
                          text=True, timeout=20).stdout


def test_curl_jar_and_expiry(server):
    with tempfile.TemporaryDirectory() as d:
        jar = os.path.join(d, "jar")
        assert curl("-c", jar, server + "/login?user=bob") == "logged in bob"
        assert curl("-b", jar, server + "/whoami") == "bob"
        lines = [l for l in open(jar) if "session" in l]
        assert len(lines) == 1 and lines[0].startswith("#HttpOnly_127.0.0.1")
        # a session good for 1 s, sent again after 2 s (as a client that
        # ignores Max-Age would): the server finds it expired
        assert curl("-c", jar, server + "/login-short?user=eve") == "logged in eve"
        value = [l for l in open(jar) if "session" in l][0].split("\t")[-1].strip()
        assert curl("-b", "session=" + value, server + "/whoami") == "eve"
        time.sleep(2.2)
        assert curl("-b", "session=" + value, server + "/whoami") == "nobody (LG_ERR_TIMEOUT)"
