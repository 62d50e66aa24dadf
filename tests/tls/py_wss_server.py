"""A WebSocket echo server over TLS that nobody here wrote: Python's
websockets (Debian's python3-websockets) with an ssl context. Prints its
port on the first line of stdout, then echoes every message as it came
(text as text, binary as binary); a message "close 4000" closes with
that code.

  py_wss_server.py CERT KEY
"""
import asyncio
import ssl
import sys

import websockets


async def echo(ws, path=None):
    async for msg in ws:
        if msg == "close 4000":
            await ws.close(4000, "as asked")
            return
        await ws.send(msg)


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx, max_size=1 << 21) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
