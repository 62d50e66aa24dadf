"""The server against CPython's aiohttp client (Debian's python3-aiohttp).

Every test is a coroutine run with asyncio.run (no pytest plugin needed).
Connection re-use is checked two ways: the client's address as the server
saw it (/peer), and the server's count of accepted connections.
"""
import asyncio
import os
import zlib

import aiohttp
import pytest

from conftest import pattern


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def session(limit=10, **kw):
    # The cookie jar refuses cookies from IP addresses unless unsafe=True.
    jar = aiohttp.CookieJar(unsafe=True)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit), cookie_jar=jar,
                                 timeout=aiohttp.ClientTimeout(total=30), **kw)


# --- routes, parameters, query, headers, cookies ---

def test_routes_and_parameters(server):
    async def main():
        async with session() as s:
            for path, body in [("/items/x%2Fy", "id=x/y\n"), ("/n/5", "n=5\n"),
                               ("/files/deep/er/x.bin", "rest=deep/er/x.bin\n")]:
                async with s.get(server.url(path)) as r:
                    assert r.status == 200
                    assert await r.text() == body
                    assert r.headers["X-Interop"] == "after-hook"
    run(main())


def test_query_params(server):
    async def main():
        async with session() as s:
            params = [("q", "a b&c=d"), ("q", "second"), ("\u00e9", "\u00fc")]
            async with s.get(server.url("/query"), params=params) as r:
                assert await r.text() == "q=a b&c=d\nq=a b&c=d\n\u00e9=\u00fc\n"
    run(main())


def test_header_echo_any_case(server):
    async def main():
        async with session() as s:
            async with s.get(server.url("/header"), params={"name": "X-MiXeD"},
                             headers={"x-mixed": "v1"}) as r:
                assert await r.text() == "v1"
    run(main())


def test_cookie_jar(server):
    async def main():
        async with session() as s:
            async with s.get(server.url("/setcookie")) as r:
                assert r.cookies["sid"].value == "abc123"
                assert r.cookies["sid"]["httponly"] is True
                assert r.cookies["sid"]["max-age"] == "3600"
                assert r.cookies["sid"]["samesite"] == "Lax"
            async with s.get(server.url("/cookie"), params={"name": "sid"}) as r:
                assert await r.text() == "abc123"
            async with s.get(server.url("/cookie"), params={"name": "theme"}) as r:
                assert await r.text() == "dark"
            async with s.get(server.url("/delcookie")) as r:
                assert r.status == 200
            async with s.get(server.url("/cookie"), params={"name": "sid"}) as r:
                assert r.status == 404
    run(main())


def test_form(server):
    async def main():
        async with session() as s:
            async with s.post(server.url("/form"), data={"name": "A&B=C", "age": "7"}) as r:
                assert await r.text() == "name=A&B=C\nage=7\nmissing=(absent)\n"
    run(main())


def test_404_405_and_hooks(server):
    async def main():
        async with session() as s:
            async with s.get(server.url("/missing")) as r:
                assert (r.status, await r.text()) == (404, "custom 404: /missing\n")
            async with s.patch(server.url("/only-get")) as r:
                assert r.status == 405 and r.headers["Allow"] == "GET, HEAD"
            async with s.get(server.url("/admin/x")) as r:
                assert r.status == 403
            async with s.get(server.url("/admin/x"), headers={"X-Admin": "yes"}) as r:
                assert r.status == 200
    run(main())


@pytest.mark.parametrize("code,method,body", [
    (301, "GET", 0), (302, "GET", 0), (303, "GET", 0), (307, "POST", 4), (308, "POST", 4),
])
def test_redirects(server, code, method, body):
    async def main():
        async with session() as s:
            async with s.post(server.url(f"/redirect/{code}"), data=b"data") as r:
                assert [h.status for h in r.history] == [code]
                assert await r.text() == f"target {method} body={body}\n"
    run(main())


# --- keep-alive ---

def test_keep_alive_pool_reuses_one_connection(server):
    async def main():
        before = server.stats()["connections"]
        peers = set()
        async with session(limit=1) as s:
            for i in range(30):
                path = ["/peer", "/items/1", "/stream?bytes=3000", "/deferred?ms=1",
                        "/file?len=10", "/missing"][i % 6]
                async with s.get(server.url(path)) as r:
                    body = await r.read()
                    if path == "/peer":
                        peers.add(body)
            for i in range(5):  # POSTs whose bodies the handler never reads
                async with s.post(server.url("/early"), data=b"x" * 20000) as r:
                    assert await r.text() == "OK"
            async with s.get(server.url("/peer")) as r:
                peers.add(await r.read())
        assert len(peers) == 1, peers
        # one connection for the 36 requests, one for this stats request
        assert server.stats()["connections"] == before + 2
    run(main())


def test_concurrent_requests(server):
    async def one(s, i):
        kind = i % 4
        if kind == 0:
            async with s.get(server.url(f"/items/{i}")) as r:
                assert await r.text() == f"id={i}\n"
        elif kind == 1:
            async with s.get(server.url("/deferred"), params={"ms": str(i % 50)}) as r:
                assert await r.text() == f"deferred {i % 50} ms\n"
        elif kind == 2:
            n = 50000 + i
            async with s.get(server.url("/stream"), params={"bytes": str(n)}) as r:
                assert await r.read() == pattern(n)
        else:
            data = os.urandom(1000 + i)
            async with s.post(server.url("/echo"), data=data) as r:
                assert await r.read() == data

    async def main():
        async with session(limit=16) as s:
            await asyncio.gather(*(one(s, i) for i in range(400)))
    run(main())
    st = server.wait_idle()
    assert st["aborts"] == 0 and st["linger_timeouts"] == 0


# --- bodies in ---

def test_streamed_request_body_from_async_generator(server):
    """aiohttp sends an async generator chunked; the handler reads it as it
    comes (LG_ROUTE_STREAM_BODY)."""
    chunks = [os.urandom(n) for n in (1, 100, 65536, 3, 300000, 17)]
    crc = 0
    for c in chunks:
        crc = zlib.crc32(c, crc)

    async def gen():
        for c in chunks:
            await asyncio.sleep(0.01)
            yield c

    async def main():
        async with session() as s:
            async with s.post(server.url("/upload"), data=gen()) as r:
                total = sum(map(len, chunks))
                assert await r.text() == "bytes=%d crc=%08x\n" % (total, crc)
    run(main())


def test_expect_100_continue(server):
    data = os.urandom(500000)

    async def main():
        async with session() as s:
            async with s.post(server.url("/upload"), data=data, expect100=True) as r:
                assert await r.text() == "bytes=%d crc=%08x\n" % (len(data), zlib.crc32(data))
    run(main())


def test_expect_100_continue_refused(server):
    """Refused before the body: the generator is never asked for it."""
    pulled = []

    async def gen():
        pulled.append(1)
        yield b"z" * 100000

    async def main():
        async with session() as s:
            async with s.post(server.url("/upload-auth"), data=gen(), expect100=True) as r:
                assert r.status == 401
                assert r.headers["Connection"] == "close"
                await r.read()
            # and the session goes on with a new connection
            async with s.get(server.url("/items/after")) as r:
                assert await r.text() == "id=after\n"
    run(main())
    assert pulled == []


@pytest.mark.parametrize("path", ["/early", "/upload?refuse_after=5000"])
@pytest.mark.parametrize("n", [10000, 100000, 4 << 20])
def test_early_answer_to_a_chunked_upload_then_next_request(server, path, n):
    """An answer that goes out before a chunked body has ended (at once, or
    after some of it): the rest has no known length, so the server cannot
    promise to read it away; if it said keep-alive and then closed past its
    discard budget, aiohttp's next request on that pooled connection would
    fail (ServerDisconnectedError). Both requests must succeed."""
    async def gen():
        for i in range(0, n, 65536):
            yield b"g" * min(65536, n - i)

    async def main():
        async with session(limit=1) as s:
            async with s.post(server.url(path), data=gen()) as r:
                assert r.status in (200, 422)
                await r.read()
            async with s.get(server.url("/items/next")) as r:
                assert await r.text() == "id=next\n"
    run(main())


def test_413_while_uploading(server):
    """A body over max_body_bytes: aiohttp is still sending when the 413
    arrives; it must get the 413, not a reset."""
    async def main():
        async with session() as s:
            for n in (70000, 1 << 20, 4 << 20):
                async with s.post(server.url("/echo"), data=b"b" * n) as r:
                    assert r.status == 413
                    assert r.headers["Connection"] == "close"
                    assert (await r.text()).startswith("413 ")
    run(main())


def test_put_and_streamed_upload_sizes(server):
    async def main():
        async with session() as s:
            for n in (0, 1, 4095, 4096, 4097, 1 << 20):
                data = os.urandom(n)
                async with s.put(server.url("/upload"), data=data) as r:
                    assert await r.text() == "bytes=%d crc=%08x\n" % (n, zlib.crc32(data))
    run(main())


# --- answers out ---

def test_large_streamed_response(server):
    n = 40 * 1024 * 1024 + 5

    async def main():
        async with session() as s:
            async with s.get(server.url("/stream"), params={"bytes": str(n)}) as r:
                assert r.headers["Transfer-Encoding"] == "chunked"
                got = 0
                async for chunk in r.content.iter_chunked(1 << 16):
                    assert chunk == pattern(len(chunk), start=got)
                    got += len(chunk)
                assert got == n
    run(main())


def test_slow_reader(server):
    """A client that reads slowly holds the producer back (back-pressure),
    and still gets every byte."""
    n = 48 * 1024 * 1024
    before = server.stats()["stream_refusals"]

    async def main():
        async with session() as s:
            async with s.get(server.url("/stream"), params={"bytes": str(n), "piece": "65536"}) as r:
                got = 0
                async for chunk in r.content.iter_chunked(1 << 20):
                    got += len(chunk)
                    if got < (24 << 20):
                        # 16 MB/s at most: slower than the producer in any
                        # build, on a loaded machine too
                        await asyncio.sleep(len(chunk) / (16 << 20))
                assert got == n
    run(main())
    assert server.stats()["stream_refusals"] > before


def test_file_and_head(server):
    async def main():
        async with session() as s:
            async with s.get(server.url("/file")) as r:
                body = await r.read()
                assert body == pattern((1 << 20) + 123)
            async with s.head(server.url("/file")) as r:
                assert r.headers["Content-Length"] == str((1 << 20) + 123)
                assert await r.read() == b""
            async with s.get(server.url("/items/still-alive")) as r:
                assert await r.text() == "id=still-alive\n"
    run(main())


def test_deferred(server):
    async def main():
        async with session() as s:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            async with s.get(server.url("/deferred"), params={"ms": "50"}) as r:
                assert await r.text() == "deferred 50 ms\n"
            assert loop.time() - t0 >= 0.045
    run(main())


def test_client_cancelling_mid_response(server):
    """aiohttp drops a response half-read (the task is cancelled): only
    that connection is lost."""
    async def main():
        async with session() as s:
            async def partial():
                async with s.get(server.url("/stream"), params={"bytes": str(200 << 20)}) as r:
                    await r.content.readexactly(1 << 20)
                    await asyncio.sleep(10)
            t = asyncio.create_task(partial())
            await asyncio.sleep(0.3)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            async with s.get(server.url("/items/ok")) as r:
                assert await r.text() == "id=ok\n"
    run(main())
    st = server.wait_idle()
    assert st["active_connections"] == 1
