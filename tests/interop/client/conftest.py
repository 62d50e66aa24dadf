"""Fixtures for the client's interoperability tests: the `linger` tool
(LINGER_CLI, from ctest) against nginx, CPython's aiohttp server, Python's
http.server and linger's own server (LINGER_INTEROP_SERVER), all on
127.0.0.1, on ports the kernel picks, stopped when the module ends.
"""
import ctypes
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from nginx_proc import NginxProc  # noqa: E402  (tests/interop/nginx_proc.py)
PATTERN = bytes((ord("a") + i % 26) for i in range(65536))


def _binary(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip(f"{var} is not set (run through ctest)")
    return path


class Result:
    def __init__(self, proc):
        self.status = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr.decode(errors="replace")

    def __repr__(self):
        return f"<exit {self.status}, {len(self.out)} bytes out, stderr {self.err!r}>"


class Linger:
    """Runs `linger get|post ...` and returns its exit status and output."""

    def __init__(self, path):
        self.path = path

    def __call__(self, *args, timeout=60):
        proc = subprocess.run([self.path, *[str(a) for a in args]], capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        return Result(proc)


@pytest.fixture(scope="session")
def linger():
    return Linger(_binary("LINGER_CLI"))


@pytest.fixture(scope="session")
def www():
    """Files to serve: small, 1 MiB, 32 MiB, and a 1 MiB upload."""
    d = tempfile.mkdtemp(prefix="linger-www-")
    os.chmod(d, 0o755)
    files = {"small.txt": b"hello from the file\n", "one-mib.bin": os.urandom(1 << 20),
             "big.bin": os.urandom(32 << 20), "empty.txt": b""}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(d, name), 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    with open(path, "rb") as f:
        return sha(f.read())


def _die_with_parent():
    """In the child: SIGKILL when pytest dies (a ctest timeout kills it), so
    no server outlives its test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Proc:
    """A server process that prints its port on its first line."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     preexec_fn=_die_with_parent)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{argv} did not start: {self.proc.stderr.read().decode()}")
        self.port = int(line)
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")


@pytest.fixture(scope="module")
def aio():
    p = Proc([sys.executable, os.path.join(HERE, "aio_server.py")])
    yield p
    p.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def pyhttp(www):
    p = Proc([sys.executable, os.path.join(HERE, "py_http_server.py"), www])
    yield p
    p.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def own_server():
    """linger's own server (tests/interop/interop_server.c)."""
    p = Proc([_binary("LINGER_INTEROP_SERVER"), "--port", "0", "--max-body", str(4 << 20)])
    yield p
    status, err = p.stop()
    assert status == 0, err


NGINX_HTTP = """
    log_format lg '$connection $connection_requests "$request" $status $body_bytes_sent';
    access_log {tmp}/access.log lg;
    keepalive_requests 1000;
    keepalive_timeout 30s;
    sendfile on;
    types {{ text/plain txt; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location = /old {{ return 301 /small.txt; }}
        location = /limited {{ client_max_body_size 1k; return 200 "ok\\n"; }}
        location /proxy/ {{
            proxy_pass http://127.0.0.1:{backend}/;
            proxy_http_version 1.1;
            proxy_buffering off;
        }}
    }}
"""


class Nginx(NginxProc):
    def __init__(self, www, backend_port):
        super().__init__(lambda tmp, port: NGINX_HTTP.format(tmp=tmp, port=port, www=www,
                                                             backend=backend_port))


@pytest.fixture(scope="module")
def nginx(www, aio):
    n = Nginx(www, aio.port)
    yield n
    n.stop()
