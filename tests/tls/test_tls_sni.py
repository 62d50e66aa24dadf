"""The server's SNI callback (lg_tls_server_config.sni): interop_server
with --tls-sni presents a second certificate to a client that asks for
that name, and its own to every other; checked by Python's ssl (which
verifies the chain and the name it asked for) and by openssl s_client.
"""
import ssl
import socket
import subprocess

import pytest

from conftest import client_context, start_linger

HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def server(certs):
    # chain.pem names localhost; wronghost.pem names wrong.example only
    srv = start_linger(certs, "chain.pem", "server.key", "--tls-sni",
                       f"wrong.example:{certs('wronghost.pem')}:{certs('wronghost.key')}")
    yield srv
    code, err = srv.stop()
    assert code == 0, err
    assert "aborted" not in err, err


def fetch(port, ctx, name):
    """GET /items/5 over TLS asking for `name`: (the certificate's CN, the answer)."""
    with socket.create_connection((HOST, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            cn = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
            s.sendall(b"GET /items/5 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                      % name.encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    return cn, data


@pytest.mark.parametrize("name, expect", [("wrong.example", "wrong.example"),
                                          ("WRONG.example", "wrong.example"),
                                          ("localhost", "localhost")])
def test_python_gets_the_certificate_of_the_name(server, certs, name, expect):
    # (the context checks the name: a wrong certificate fails the handshake)
    cn, data = fetch(server.port, client_context(certs), name)
    assert cn == expect
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"\r\n\r\nid=5\n"), data


def test_a_name_nobody_serves_gets_the_default(server, certs):
    ctx = client_context(certs, check_hostname=False)
    cn, data = fetch(server.port, ctx, "elsewhere.example")
    assert cn == "localhost" and data.startswith(b"HTTP/1.1 200 OK")


def s_client_subject(port, certs, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}", "-CAfile",
                        certs("ca.pem"), "-verify_return_error", *args],
                       input=b"", capture_output=True, timeout=30)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out + r.stderr.decode()
    assert "Verify return code: 0 (ok)" in out
    return next(line for line in out.splitlines() if line.startswith("subject="))


def test_openssl_s_client_servername(server, certs):
    assert "CN = wrong.example" in s_client_subject(server.port, certs, "-servername",
                                                    "wrong.example")
    assert "CN = localhost" in s_client_subject(server.port, certs, "-servername", "localhost")
    assert "CN = localhost" in s_client_subject(server.port, certs, "-noservername")
