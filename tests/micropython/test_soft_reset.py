"""A soft reset closes linger's sockets (bindings/micropython/linger/
lgmp_sockets.c). On a device, Ctrl-D throws MicroPython's heap away but
not the platform's sockets; the sweep it runs calls the Loop object's
finaliser, which closes every socket linger has open and forgets linger's
state. The unix port has no soft reset, so apps/reset_app.py calls the
finaliser itself: a connection kept alive across it is closed, and a new
server binds the same port and serves (without the fix: EADDRINUSE, and
the old connection left open with nobody reading it).
"""
import socket
import subprocess
import time

from mpyharness import HERE, MP, _die_with_parent, free_port, mpy_env, mpy_ready


def get(sock):
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith((b"before", b"after")):
        b = sock.recv(4096)
        if not b:
            break
        data += b
    return data


def wait_line(proc, want, deadline):
    while time.time() < deadline:
        line = proc.stdout.readline().decode()
        if not line:
            break
        if line.startswith(want):
            return line.strip()
    raise AssertionError(f"no {want!r} from reset_app.py")


def test_soft_reset_closes_sockets():
    mpy_ready()
    port = free_port()
    proc = subprocess.Popen([str(MP), "-X", "heapsize=4M", str(HERE / "apps/reset_app.py"), str(port), "1500"],
                            env=mpy_env("linger"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent)
    try:
        deadline = time.time() + 20
        wait_line(proc, "listening before", deadline)
        kept = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert get(kept).endswith(b"before")  # kept alive: HTTP/1.1
        line = wait_line(proc, "reset", deadline)
        assert line == "reset 0 0", line  # a fresh state: nothing pinned, nothing held
        # the old connection was closed by the reset
        kept.settimeout(5)
        try:
            assert kept.recv(100) == b""
        except ConnectionResetError:
            pass
        kept.close()
        wait_line(proc, "listening after", deadline)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert get(s).endswith(b"after")
        s.close()
        wait_line(proc, "done", deadline)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
