# The lwIP lock's discipline (bindings/micropython/linger/lgmp_lock.h), on
# the unix port built with the checking lock (LINGER_LOCK_CHECK=1): a
# linger server and linger's aiohttp client in one process, over every
# kind of way into linger and out of it -- requests, bodies, streamed
# answers, errors raised from inside locked calls, a handler that fails,
# an exit raised from a callback through the loop's turn. The checking
# lock aborts the process on a breach; this script also asks it, from
# inside handlers (Python called by linger: the lock must be free) and at
# the end, and prints "ok <times taken> <platform calls checked>".
# test_lwip_lock.py runs it.
import asyncio
import sys

import _linger
import aiohttp
import linger

free_inside = []


def depth():
    return _linger._lock_check()[0]


async def echo(req):
    free_inside.append(depth())
    body = await linger.read_all(req)
    req.send(200, b"echo %d" % len(body), "text/plain")


async def stream(req):
    free_inside.append(depth())
    req.start(200)
    for i in range(20):
        await linger.write(req, b"x" * 4096)
    req.end()


async def fails(req):
    free_inside.append(depth())
    try:
        req.take(1)  # OSError from inside a locked call: read_start() first
    except OSError:
        free_inside.append(depth())
    raise ValueError("a handler that fails (the glue answers 500)")


def raises_exit(req):
    free_inside.append(depth())
    req.send(200, b"bye")
    raise SystemExit(7)  # kept, and raised again from the loop's turn


async def main():
    srv = linger.Server()
    srv.route("POST", "/echo", echo)
    srv.route("GET", "/stream", stream)
    srv.route("GET", "/fails", fails)
    srv.srv.route("GET", "/exit", 0, raises_exit)
    port = srv.listen("127.0.0.1", 0)
    base = "http://127.0.0.1:%d" % port
    try:
        srv.srv.listen("not an address")
    except (OSError, ValueError):
        pass
    assert depth() == 0
    async with aiohttp.ClientSession() as s:
        for n in (0, 1, 5000, 70000):
            async with s.post(base + "/echo", data=b"y" * n) as r:
                assert await r.text() == "echo %d" % n
        async with s.get(base + "/stream") as r:
            assert len(await r.read()) == 20 * 4096
        async with s.get(base + "/stream") as r:
            assert r.status == 200  # released unread: the rest read and dropped
        async with s.get(base + "/fails") as r:
            assert r.status == 500
    try:  # refused: raised from inside the client's locked calls
        async with aiohttp.ClientSession() as s:
            async with s.get("http://127.0.0.1:1/") as r:
                await r.read()
        raise AssertionError("a refused connection answered")
    except OSError:
        pass
    assert depth() == 0
    async with aiohttp.ClientSession() as s:
        async with s.get(base + "/exit") as r:
            await r.read()
        await asyncio.sleep_ms(200)  # the loop's turn raises SystemExit before this ends
    raise AssertionError("SystemExit was not raised again")


try:
    asyncio.run(main())
except SystemExit as e:
    assert e.args == (7,), e.args
d, taken, checked = _linger._lock_check()
assert d == 0, d
assert free_inside and not any(free_inside), free_inside
_linger.loop().stats()  # taken again after the exit: it was let go
print("ok", taken, checked)
