"""libwebsockets (Debian's libwebsockets-dev) against linger, both ways:

 - lws_client.c (libwebsockets' client) against `linger serve`'s /ws:
   text and binary echoed, a text message in three frames and a binary one
   in two, 200 KiB of text and 1 MiB of binary; then its Close with 4000
   "lws done", answered by linger with 4000 and its FIN; and, on another
   connection, linger's shutdown: a Close with 1001 "server shutting
   down" that libwebsockets answers, then linger's FIN;
 - ws_script_client.c (linger's client) against lws_echo_server.c, which
   echoes every message over 1 KiB in three frames: every length form, 200
   KiB of text, 1 MiB of binary, then a Close with 4000 "linger done"
   answered with the same code and reason, and the server's FIN.

Nothing is reset: the test runs in a network namespace of its own (as
root), where the kernel's counters of resets count only its connections,
and they must not move. (libwebsockets 4.1, closing first, would close its
socket with linger's answer unread, a reset of its own making: lws_client.c
reads that answer out first, which is also how it checks it.)
"""
import ctypes
import os
import select
import signal
import subprocess
import time

import pytest

from conftest import Demo, binary, die_with_parent

CLONE_NEWNET = 0x40000000
RST_COUNTERS = ("TcpExt:TCPAbortOnClose", "TcpExt:TCPAbortOnData", "Tcp:EstabResets",
                "Tcp:OutRsts")


def enter_private_netns():
    """This process (and what it starts) in a network namespace of its own
    with loopback up; False without the privilege."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            return False
        return subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True).returncode == 0
    except (OSError, AttributeError):
        return False


def tcp_counters():
    out = {}
    for name in ("/proc/net/snmp", "/proc/net/netstat"):
        with open(name) as f:
            lines = f.read().splitlines()
        for keys, values in zip(lines[::2], lines[1::2]):
            ks, vs = keys.split(), values.split()
            for k, v in zip(ks[1:], vs[1:]):
                out[ks[0] + k] = int(v)
    return {k: out[k] for k in RST_COUNTERS}


@pytest.fixture(scope="module")
def own_netns():
    return enter_private_netns()


def resets_since(own_netns, before):
    if not own_netns:
        return {}
    time.sleep(0.2)  # (a reset would follow the last FIN at once)
    after = tcp_counters()
    return {k: after[k] - before[k] for k in RST_COUNTERS if after[k] != before[k]}


def read_lines_until(proc, pattern, timeout):
    """Lines of proc's stdout until one contains pattern (or it ends)."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if pattern in line:
            break
    return lines


def test_lws_client_against_linger(own_netns):
    before = tcp_counters() if own_netns else None
    demo = Demo()
    try:
        r = subprocess.run([binary("LINGER_LWS_CLIENT"), str(demo.port), "/ws"],
                           capture_output=True, text=True, timeout=60, preexec_fn=die_with_parent)
    finally:
        code = demo.stop()
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stdout + r.stderr
    assert [l for l in lines if l.startswith("echo")] == [f"echo {i} ok" for i in range(6)]
    assert "server-close 4000  then EOF" in lines, lines
    assert code == 0, "\n".join(demo.lines[-20:])
    assert resets_since(own_netns, before) == {}


def test_lws_client_gets_linger_shutdown(own_netns):
    before = tcp_counters() if own_netns else None
    demo = Demo()
    proc = subprocess.Popen([binary("LINGER_LWS_CLIENT"), str(demo.port), "/ws", "--wait-close"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=die_with_parent)
    try:
        lines = read_lines_until(proc, "echo 5 ok", 30)
        assert lines[-1:] == ["echo 5 ok"], lines
        code = demo.stop()  # SIGTERM: a Close with 1001 to every WebSocket
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        demo.stop()
    lines += out.splitlines()
    assert proc.returncode == 0, "\n".join(lines) + err
    assert "peer-close 1001 server shutting down" in lines
    assert lines[-1] == "closed"
    assert code == 0, "\n".join(demo.lines[-20:])
    assert resets_since(own_netns, before) == {}


def test_linger_client_against_lws_server(own_netns):
    before = tcp_counters() if own_netns else None
    server = subprocess.Popen([binary("LINGER_LWS_ECHO_SERVER"), "--fragment"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=die_with_parent)
    try:
        first = read_lines_until(server, "listening on", 10)
        assert first and first[-1].startswith("listening on "), first
        port = int(first[-1].split()[-1])
        r = subprocess.run([binary("LINGER_WS_SCRIPT_CLIENT"), f"ws://127.0.0.1:{port}/"],
                           capture_output=True, text=True, timeout=60, preexec_fn=die_with_parent)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stdout + r.stderr
    assert [l for l in lines if l.startswith("echo")] == [f"echo {i} ok" for i in range(9)]
    assert lines[-1] == "close 4000 LG_OK linger done"
    assert resets_since(own_netns, before) == {}
