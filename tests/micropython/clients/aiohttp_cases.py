# linger's aiohttp package against a server that misbehaves on purpose
# (test_aiohttp_client.py runs it): for each path, what the client made of
# the answer. Prints one JSON line: {path: [outcome, detail]}.
#   micropython aiohttp_cases.py PORT
import asyncio
import json
import sys

import aiohttp

port = int(sys.argv[1])
base = 'http://127.0.0.1:%d' % port


async def one(session, path, **kw):
    try:
        async with session.get(base + path, **kw) as resp:
            body = await resp.read()
            return ['ok', resp.status, body.decode(), [h.status for h in resp.history]]
    except aiohttp.ClientPayloadError as e:
        return ['payload', str(e)]
    except aiohttp.ServerDisconnectedError as e:
        return ['disconnected', str(e)]
    except aiohttp.ClientConnectorError as e:
        return ['connector', e.errno]
    except asyncio.TimeoutError:
        return ['timeout']
    except Exception as e:
        return ['other', type(e).__name__, str(e)]


async def main():
    out = {}
    async with aiohttp.ClientSession() as s:
        for path in ('/whole-then-reset', '/chunked-then-reset', '/short', '/short-reset',
                     '/eof-delimited', '/eof-reset', '/redirect', '/head-then-reset',
                     '/whole-then-reset?again'):
            out[path] = await one(s, path)
        out['/slow'] = await one(s, '/slow', timeout=aiohttp.ClientTimeout(total=0.5))
        # streamed: the body in pieces, the server held back meanwhile
        async with s.get(base + '/big') as resp:
            n = 0
            pieces = 0
            async for chunk in resp.content.iter_chunked(1000):
                n += len(chunk)
                pieces += 1
            out['/big'] = ['ok', resp.status, n, pieces > 100]
        # json, params and a posted body: echoed by the server
        async with s.post(base + '/echo', params={'a': 'b c'}, json={'k': [1, 2]}) as resp:
            out['/echo'] = ['ok', resp.status, await resp.json(), resp.headers['x-target']]
            h = resp.headers
            out['/echo headers'] = [h['SET-COOKIE'], h.getall('Set-Cookie'), h.get('content-type'),
                                    'X-Target' in h, h.getall('X-None', [])]
    async with aiohttp.ClientSession() as s:
        try:
            async with s.get('http://127.0.0.1:1/') as resp:
                out['refused'] = ['ok', resp.status]
        except aiohttp.ClientConnectorError as e:
            out['refused'] = ['connector', e.errno]
    print(json.dumps(out))


asyncio.run(main())
