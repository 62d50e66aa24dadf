"""An aiohttp server for the client's interop tests (and the backend nginx
proxies to). Prints its port, then serves until killed.

Routes:
  GET  /json                 a small JSON answer
  GET  /chunked?n=&size=     n pieces of size pattern bytes, chunked
  POST|PUT /echo             the body back
  POST /early                413 at once, the body never read
  GET  /conn                 which connection this is (for keep-alive checks)
  GET  /auth                 the Authorization header it got
  *    /redirect/{code}      to /target
  *    /target               the method and the body length that arrived
  GET  /reset?after=N        Content-Length 100000, N bytes, then RST
  GET  /cut?after=N          Content-Length 100000, N bytes, then FIN
  GET  /slow?ms=             an answer after ms milliseconds
"""
import asyncio
import json
import socket
import struct
import sys

from aiohttp import web

PATTERN = bytes((ord("a") + i % 26) for i in range(65536))


def pattern(n):
    out = bytearray()
    while len(out) < n:
        out += PATTERN[: n - len(out)]
    return bytes(out)


async def json_route(request):
    return web.json_response({"hello": "world", "n": 42})


async def chunked(request):
    n = int(request.query.get("n", "10"))
    size = int(request.query.get("size", "1000"))
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    resp.content_type = "application/octet-stream"
    await resp.prepare(request)
    for i in range(n):
        await resp.write(pattern(size))
        if i % 16 == 0:
            await asyncio.sleep(0)
    await resp.write_eof()
    return resp


async def echo(request):
    body = await request.read()
    return web.Response(body=body, content_type="application/octet-stream")


async def early(request):
    # Answer before reading a byte of the body (the original bug's server).
    return web.Response(status=413, text="too large\n")


async def conn(request):
    return web.Response(text="%d\n" % id(request.transport))


async def auth(request):
    return web.Response(text=request.headers.get("Authorization", "none"))


async def redirect(request):
    code = int(request.match_info["code"])
    raise {301: web.HTTPMovedPermanently, 302: web.HTTPFound, 303: web.HTTPSeeOther,
           307: web.HTTPTemporaryRedirect, 308: web.HTTPPermanentRedirect}[code]("/target")


async def target(request):
    body = await request.read()
    return web.Response(text="%s %d\n" % (request.method, len(body)))


async def _partial(request, rst):
    after = int(request.query.get("after", "1000"))
    resp = web.StreamResponse(headers={"Content-Length": "100000"})
    await resp.prepare(request)
    request.transport.set_write_buffer_limits(0)
    await resp.write(pattern(after))
    await resp.drain()
    await asyncio.sleep(0.2)  # the bytes are with the client
    sock = request.transport.get_extra_info("socket")
    if rst:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.transport.abort()
    else:
        request.transport.close()
    return resp


async def reset(request):
    return await _partial(request, True)


async def cut(request):
    return await _partial(request, False)


async def slow(request):
    await asyncio.sleep(int(request.query.get("ms", "1000")) / 1000)
    return web.Response(text="slow\n")


def main():
    app = web.Application(client_max_size=64 << 20)
    app.router.add_get("/json", json_route)
    app.router.add_get("/chunked", chunked)
    app.router.add_route("POST", "/echo", echo)
    app.router.add_route("PUT", "/echo", echo)
    app.router.add_post("/early", early)
    app.router.add_get("/conn", conn)
    app.router.add_get("/auth", auth)
    app.router.add_route("*", "/redirect/{code}", redirect)
    app.router.add_route("*", "/target", target)
    app.router.add_get("/reset", reset)
    app.router.add_get("/cut", cut)
    app.router.add_get("/slow", slow)

    async def start():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(start())


if __name__ == "__main__":
    sys.exit(main())
