"""Fixtures for the TLS interoperability tests (tests/tls/test_*.py).

From ctest (tests/tls/CMakeLists.txt): LINGER_TLS_CERTS (the certificates
make_certs.sh made for this build), LINGER_INTEROP_SERVER (linger's
interop server, which serves HTTPS with --tls-cert/--tls-key) and
LINGER_CLI (`linger get/post`). Everything on 127.0.0.1 (and ::1 for
"localhost"), on ports the kernel picks; every process stops with its test.
"""
import ctypes
import os
import signal
import ssl
import subprocess

import pytest

_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _outcomes[report.outcome] = _outcomes.get(report.outcome, 0) + 1


def pytest_sessionfinish(session, exitstatus):
    """A run in which every test was skipped (no nginx, no chromium) exits
    with 77, which ctest reports as "Not Run" instead of "Passed"."""
    if exitstatus == 0 and _outcomes["skipped"] and not _outcomes["passed"] and not _outcomes["failed"]:
        session.exitstatus = 77


def _env_path(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip(f"{var} is not set (run through ctest)")
    return path


def _die_with_parent():
    """In the child: SIGKILL when pytest dies (a ctest timeout kills it)."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def certs():
    d = _env_path("LINGER_TLS_CERTS")
    return lambda name: os.path.join(d, name)


class Server:
    """A process that prints its port on its first line of stdout."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_die_with_parent)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{argv[0]} did not start: {self.proc.stderr.read().decode()}")
        self.port = int(line)

    def stop(self, timeout=20):
        """SIGTERM, then (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode(errors="replace")


def start_linger(certs, cert="chain.pem", key="server.key", *args):
    """linger's interop server on HTTPS, with the library's log on stderr."""
    return Server([_env_path("LINGER_INTEROP_SERVER"), "--tls-cert", certs(cert), "--tls-key",
                   certs(key), "--lib-log", *args])


def client_context(certs, **kw):
    """What a careful Python client uses: the test CA, host names checked."""
    ctx = ssl.create_default_context(cafile=certs("ca.pem"))
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx
