"""Python's websockets (Debian's python3-websockets) against linger:

 - as client of linger's server (`linger serve`'s /ws echo): messages of
   every length form up to the 1 MiB limit, fragmented ones, pings, the
   closing handshake with a code (echoed, the server closing TCP first and
   at once), a message over the limit (1009), many clients at once, and
   the server's shutdown (1001);
 - as server for linger's client (`linger ws` and ws_echo_client.c):
   lines relayed and echoed, the server's close codes turned into exit
   statuses, a refused handshake, the server's keep-alive pings answered,
   a subprotocol agreed on.
"""
import asyncio
import os
import subprocess
import time
from http import HTTPStatus

import pytest
import websockets

from conftest import Demo, binary


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


# --- websockets as client -------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 125, 126, 65535, 65536, 1 << 20])
def test_echo_sizes(demo, n):
    async def go():
        async with websockets.connect(demo.url("/ws"), max_size=None) as ws:
            text = "é" * (n // 2) + "x" * (n % 2)
            await ws.send(text)
            assert await ws.recv() == text
            data = os.urandom(n)
            await ws.send(data)
            assert await ws.recv() == data
    run(go())


def test_fragmented_and_ping(demo):
    async def go():
        async with websockets.connect(demo.url("/ws")) as ws:
            await ws.send(["frag", "men", "ted"])          # one message in three frames
            assert await ws.recv() == "fragmented"
            await ws.send([b"\x00" * 1000, b"\x01" * 70000])
            assert await ws.recv() == b"\x00" * 1000 + b"\x01" * 70000
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 5)
    run(go())


def test_close_with_code(demo):
    async def go():
        ws = await websockets.connect(demo.url("/ws"))
        await ws.send("last words")
        assert await ws.recv() == "last words"
        t0 = time.monotonic()
        await ws.close(4000, "see you")
        took = time.monotonic() - t0
        # websockets waits for the server to close TCP: it did, at once
        assert ws.close_code == 4000
        assert took < 2, took
    run(go())


def test_too_big(demo):
    async def go():
        async with websockets.connect(demo.url("/ws"), max_size=None) as ws:
            await ws.send(b"x" * ((1 << 20) + 1))
            with pytest.raises(websockets.exceptions.ConnectionClosedError) as e:
                await ws.recv()
            assert e.value.code == 1009
    run(go())


def test_many_clients(demo):
    async def one(i):
        async with websockets.connect(demo.url("/ws")) as ws:
            for k in range(50):
                msg = f"client {i} message {k} " + "." * (k * 37)
                await ws.send(msg)
                assert await ws.recv() == msg
    async def go():
        await asyncio.gather(*(one(i) for i in range(20)))
    run(go())


def test_shutdown_says_1001():
    d = Demo()
    try:
        async def go():
            async with websockets.connect(d.url("/ws")) as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"
                d.proc.send_signal(15)  # SIGTERM: a graceful shutdown
                with pytest.raises(websockets.exceptions.ConnectionClosed) as e:
                    await ws.recv()
                assert e.value.code == 1001
                assert e.value.reason == "server shutting down"
        run(go())
    finally:
        assert d.stop() == 0


# --- websockets as server -------------------------------------------------

async def serve(handler, **kw):
    server = await websockets.serve(handler, "127.0.0.1", 0, **kw)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/"


async def echo(ws, path=None):
    async for msg in ws:
        await ws.send(msg)


async def linger_ws(url, stdin, *args, expect_lines=None):
    """`linger ws URL`: stdin written; it is closed (which begins the
    closing handshake) once expect_lines lines came back, or never (the
    server ends the connection) when expect_lines is None."""
    proc = await asyncio.create_subprocess_exec(
        binary("LINGER_BIN"), "ws", "-q", url, *args, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, limit=1 << 22)
    try:
        proc.stdin.write(stdin)
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # it ended before reading it all (a refused handshake)
    out = []
    while expect_lines is None or len(out) < expect_lines:
        line = await proc.stdout.readline()
        if not line:
            break
        out.append(line)
    proc.stdin.close()
    rest, err = await proc.communicate()
    return proc.returncode, b"".join(out) + rest, err.decode()


def test_cli_relays_lines():
    lines = [b"hello", b"", "κόσμε".encode(), b"x" * 100000] + [b"line %d" % i for i in range(200)]

    async def go():
        server, url = await serve(echo, max_size=None)
        try:
            return await linger_ws(url, b"\n".join(lines) + b"\n", expect_lines=len(lines))
        finally:
            server.close()
            await server.wait_closed()
    code, out, err = run(go())
    assert code == 0, err
    assert out.split(b"\n")[:-1] == lines


def test_cli_binary():
    got = []

    async def record(ws, path=None):
        async for msg in ws:
            got.append(msg)
            await ws.send(msg)

    async def go():
        server, url = await serve(record)
        try:
            return await linger_ws(url, b"one\ntwo\n", "--binary", expect_lines=2)
        finally:
            server.close()
            await server.wait_closed()
    code, out, err = run(go())
    assert code == 0, err
    assert got == [b"one", b"two"]


@pytest.mark.parametrize("code,status", [(1000, 0), (1001, 0), (4000, 18), (1011, 18)])
def test_cli_server_closes(code, status):
    async def closer(ws, path=None):
        await ws.recv()
        await ws.close(code, "because")

    async def go():
        server, url = await serve(closer)
        try:
            return await linger_ws(url, b"first\n" + b"more\n" * 10)
        finally:
            server.close()
            await server.wait_closed()
    rc, out, err = run(go())
    assert rc == status, err
    if status:
        assert f"closed with status {code} because" in err


def test_cli_refused():
    async def refuse(path, headers):
        return HTTPStatus.FORBIDDEN, [], b"no\n"

    async def go():
        server, url = await serve(echo, process_request=refuse)
        try:
            return await linger_ws(url, b"x\n", expect_lines=1)
        finally:
            server.close()
            await server.wait_closed()
    rc, out, err = run(go())
    assert rc == 17, err
    assert "HTTP status 403" in err


def test_echo_client_with_pings_and_subprotocol():
    """websockets pings every 100 ms and closes a client that does not
    answer (1011); linger's answers, echoes 100 messages and ends with the
    server's 1000."""
    async def talk(ws, path=None):
        assert ws.subprotocol == "chat"
        await asyncio.sleep(0.6)  # some pings go by
        for i in range(100):
            msg = os.urandom(i * 50) if i % 2 else "message %d" % i
            await ws.send(msg)
            assert await ws.recv() == msg
        await ws.close(1000)

    async def go():
        server, url = await serve(talk, subprotocols=["superchat", "chat"], ping_interval=0.1,
                                  ping_timeout=0.5)
        try:
            proc = await asyncio.create_subprocess_exec(
                binary("LINGER_WS_ECHO_CLIENT"), url, "--protocol", "chat",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await proc.communicate()
            return proc.returncode, out.decode(), err.decode()
        finally:
            server.close()
            await server.wait_closed()
    rc, out, err = run(go())
    assert rc == 0, err
    assert out.splitlines() == ["open chat", "close 1000 LG_OK "], out
