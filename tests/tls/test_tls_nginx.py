"""linger's TLS client (the `linger get/post` tool) against nginx with TLS
(Debian's nginx-light, OpenSSL underneath), started by
tests/interop/nginx_proc.py on a port the kernel picked, with the test
certificates (tests/tls/make_certs.sh):

 - what was agreed: TLS 1.2 or 1.3, an AEAD suite, SNI and ALPN as nginx
   saw them ($ssl_server_name, $ssl_alpn_protocol);
 - keep-alive: three URLs on one TLS connection (nginx's $connection and
   $connection_requests);
 - files of 0 B, 1 MiB and 32 MiB whole (sha256), to stdout and to disk;
 - a chunked answer (nginx's gzip filter has no length to send);
 - sessions resumed: a location that closes every connection, fetched
   three times: nginx's $ssl_session_reused says "r" for the 2nd and 3rd;
 - nginx's early 413 to an upload it will not read, over TLS: the client
   stops sending and reports the answer whole; a small POST accepted;
 - plain HTTP to nginx's TLS port (nginx's own 400: a complete answer),
   and https:// to a plain nginx port (exit 28);
 - nginx with an expired certificate (exit 24) and one for another host
   (exit 26): the verdicts come from linger's checks, not from the peer.
"""
import gzip
import hashlib
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))
from nginx_proc import NginxProc, free_port  # noqa: E402  (tests/interop/nginx_proc.py)

MIB = 1 << 20
EXIT_CERT_EXPIRED, EXIT_CERT_HOST, EXIT_TLS_PLAIN = 24, 26, 28

NGINX_HTTP = """
    log_format lg '$connection $connection_requests $ssl_session_reused "$request" $status';
    access_log {tmp}/access.log lg;
    keepalive_requests 1000;
    keepalive_timeout 30s;
    types {{ text/plain txt; application/octet-stream bin; }}
    ssl_session_cache shared:linger:1m;
    ssl_session_tickets on;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {www};
        location = /agreed {{
            return 200 "$ssl_protocol $ssl_cipher sni=$ssl_server_name alpn=$ssl_alpn_protocol\\n";
        }}
        location = /close {{ keepalive_timeout 0; return 200 "reused=$ssl_session_reused\\n"; }}
        location = /limited {{ client_max_body_size 1k; return 200 "ok\\n"; }}
        location /gz/ {{
            alias {www}/;
            gzip on;
            gzip_types application/octet-stream;
            gzip_min_length 0;
        }}
    }}
    server {{
        listen 127.0.0.1:{plain};
        return 200 "plain\\n";
    }}
"""


def sha(data):
    return hashlib.sha256(data).hexdigest()


def cli():
    path = os.environ.get("LINGER_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("LINGER_CLI is not set (run through ctest)")
    return path


def linger(*args, timeout=60):
    return subprocess.run([cli(), *[str(a) for a in args]], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    d = tmp_path_factory.mktemp("www")
    os.chmod(d, 0o755)
    files = {"empty.bin": b"", "small.txt": b"hello from nginx\n", "one-mib.bin": os.urandom(MIB),
             "big.bin": os.urandom(32 * MIB),
             "text.bin": b"".join(b"line %d of a compressible file\n" % i for i in range(20000))}
    for name, data in files.items():
        (d / name).write_bytes(data)
        os.chmod(d / name, 0o644)
    return d, files


class Nginx(NginxProc):
    def __init__(self, certs, www, cert="chain.pem", key="server.key"):
        self.plain = free_port()
        super().__init__(lambda tmp, port: NGINX_HTTP.format(
            tmp=tmp, port=port, plain=self.plain, www=www, cert=certs(cert), key=certs(key)))
        self.https = f"https://localhost:{self.port}"


@pytest.fixture(scope="module")
def nginx(certs, www):
    n = Nginx(certs, www[0])
    yield n
    n.stop()


def get(certs, *args):
    return linger("get", "--cacert", certs("ca.pem"), *args)


def test_what_was_agreed(nginx, certs):
    r = get(certs, f"{nginx.https}/agreed")
    assert r.returncode == 0, r.stderr
    proto, cipher, sni, alpn = r.stdout.decode().split()
    assert proto in ("TLSv1.2", "TLSv1.3"), r.stdout
    assert "GCM" in cipher or "CHACHA20" in cipher, cipher  # an AEAD suite
    assert sni == "sni=localhost", r.stdout
    assert alpn == "alpn=http/1.1", r.stdout


def test_keep_alive(nginx, certs, www):
    before = len(nginx.access_log())
    r = get(certs, "-v", f"{nginx.https}/small.txt", f"{nginx.https}/one-mib.bin",
            f"{nginx.https}/small.txt")
    assert r.returncode == 0, r.stderr
    files = www[1]
    assert r.stdout == files["small.txt"] + files["one-mib.bin"] + files["small.txt"]
    lines = nginx.access_log(at_least=before + 3)[before:]
    assert len(lines) == 3, lines
    assert len({line[0] for line in lines}) == 1, lines  # one connection
    assert [int(line[1]) for line in lines] == [1, 2, 3], lines


def test_files_whole(nginx, certs, www, tmp_path):
    files = www[1]
    r = get(certs, f"{nginx.https}/empty.bin")
    assert r.returncode == 0 and r.stdout == b"", r
    out = tmp_path / "big.bin"
    r = get(certs, "-q", "-o", out, f"{nginx.https}/big.bin")
    assert r.returncode == 0, r.stderr
    assert sha(out.read_bytes()) == sha(files["big.bin"])


def test_chunked_answer(nginx, certs, www):
    """nginx's gzip filter cannot know the length: the answer is chunked."""
    r = get(certs, "-i", "-H", "Accept-Encoding: gzip", f"{nginx.https}/gz/text.bin")
    assert r.returncode == 0, r.stderr
    head, body = r.stdout.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding: chunked" in head and b"Content-Encoding: gzip" in head, head
    assert gzip.decompress(body) == www[1]["text.bin"]


def test_sessions_resumed(nginx, certs):
    url = f"{nginx.https}/close"  # Connection: close: a new connection each time
    r = get(certs, "-v", url, url, url)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"reused=.\nreused=r\nreused=r\n", r.stdout


def test_early_413_over_tls(nginx, certs, www):
    """nginx answers 413 on seeing the Content-Length and reads no body
    (then closes with its lingering close): the client stops uploading and
    reports the answer, complete."""
    big = os.path.join(str(www[0]), "big.bin")
    r = linger("post", "-i", "--cacert", certs("ca.pem"), "--data-file", big,
               f"{nginx.https}/limited")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"HTTP/1.1 413 "), r.stdout[:200]
    r = linger("post", "--cacert", certs("ca.pem"), "-d", "x=1", f"{nginx.https}/limited")
    assert r.returncode == 0 and r.stdout == b"ok\n", r


def test_wrong_protocol_either_way(nginx, certs):
    # http:// to the TLS port: nginx's own 400, a complete answer
    r = linger("get", "-i", f"http://127.0.0.1:{nginx.port}/small.txt")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"HTTP/1.1 400 "), r.stdout[:200]
    assert b"The plain HTTP request was sent to HTTPS port" in r.stdout
    # https:// to a plain port: no TLS at the other end
    r = get(certs, f"https://localhost:{nginx.plain}/")
    assert r.returncode == EXIT_TLS_PLAIN, r.stderr
    r = linger("get", f"http://127.0.0.1:{nginx.plain}/")
    assert r.returncode == 0 and r.stdout == b"plain\n", r


@pytest.mark.parametrize("cert,status", [("expired", EXIT_CERT_EXPIRED),
                                         ("wronghost", EXIT_CERT_HOST)])
def test_certificates_refused(certs, www, cert, status):
    n = Nginx(certs, www[0], f"{cert}.pem", f"{cert}.key")
    try:
        r = get(certs, f"{n.https}/small.txt")
        assert r.returncode == status, r.stderr
        r = linger("get", "-k", f"{n.https}/small.txt")
        assert r.returncode == 0 and r.stdout == b"hello from nginx\n", r
    finally:
        n.stop()
