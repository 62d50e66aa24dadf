#!/usr/bin/python3
"""Python websockets' row of bench/ws/run.py (Debian's python3-websockets):
the same echo as ws_server_linger.c, on 127.0.0.1 and a port the kernel
chooses ("listening on PORT" on stdout); with --broadcast, a message whose
first byte is 'B' goes to every open connection (websockets.broadcast,
which writes one frame to all). No compression offered, no pings, no size
limit: the others have none of them in the way either."""
import asyncio
import sys

import websockets

BROADCAST = "--broadcast" in sys.argv[1:]
OPEN = set()


async def handler(ws, path=None):
    OPEN.add(ws)
    try:
        async for msg in ws:
            if BROADCAST and msg[:1] in (b"B", "B"):
                websockets.broadcast(OPEN, msg)
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        OPEN.discard(ws)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=None,
                                ping_interval=None, max_queue=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
