"""nginx for the interoperability tests (tests/interop/client and server).

Debian's nginx-light as one process (master_process off, so that dying with
pytest leaves no worker behind), its configuration, logs and temporary
files in a directory of its own, listening on 127.0.0.1 on a port the
kernel picked. The caller writes the inside of the `http` block.
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

CONF = """
worker_processes 1;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log {level};
{user}
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{http}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _die_with_parent():
    """In the child: SIGKILL when pytest dies (a ctest timeout kills it)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class NginxProc:
    """http(tmp, port) returns the inside of the http block; error_level is
    the error log's level."""

    def __init__(self, http, error_level="warn"):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            pytest.skip("nginx is not installed (Debian: nginx-light; scripts/deps.sh check)")
        self.tmp = tempfile.mkdtemp(prefix="linger-nginx-")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(tmp=self.tmp, level=error_level, http=http(self.tmp, self.port),
                                user="user root;" if os.geteuid() == 0 else ""))
        self.proc = subprocess.Popen([nginx, "-p", self.tmp, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start: " + self.proc.stderr.read().decode())
                time.sleep(0.05)

    def url(self, path):
        return self.base + path

    def path(self, name):
        """A file in nginx's directory (error.log, access.log, ...)."""
        return os.path.join(self.tmp, name)

    def access_log(self, at_least=0, wait=3.0):
        """The access log's lines, split at spaces. nginx writes a line
        after the answer went out, so a client can be done before its line
        is there: with at_least, wait up to `wait` seconds for that many."""
        end = time.monotonic() + wait
        while True:
            try:
                with open(self.path("access.log")) as f:
                    lines = [line.split() for line in f if line.strip()]
            except FileNotFoundError:
                lines = []
            if len(lines) >= at_least or time.monotonic() > end:
                return lines
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
