"""Fixtures for the authentication interop tests: tests/interop/auth/
auth_server.c on a free port (it prints it), killed when the module ends
or pytest dies. Paths come from ctest: LINGER_AUTH_SERVER, LINGER_CLI."""
import ctypes
import os
import signal
import subprocess

import pytest


def binary(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip(f"{var} is not set (run through ctest)")
    return path


def die_with_parent():
    """In the child: SIGKILL when pytest dies (a ctest timeout kills it)."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([binary("LINGER_AUTH_SERVER")], stdout=subprocess.PIPE,
                            preexec_fn=die_with_parent)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def cli():
    return binary("LINGER_CLI")
