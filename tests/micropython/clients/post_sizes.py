# POST bodies of the given sizes to /ignore and read each answer to its end
# with `await resp.read()`, a session per request (micropython-lib's
# aiohttp sends "Connection: close" anyway). Runs with micropython-lib's
# aiohttp or with linger's: the same script. Prints one JSON line.
#   micropython post_sizes.py PORT SIZE,SIZE,... ROUNDS
import asyncio
import json
import sys

import aiohttp

port = int(sys.argv[1])
sizes = [int(s) for s in sys.argv[2].split(',')]
rounds = int(sys.argv[3])
LIMIT = 2 * 1024 * 1024  # the application's Request.max_content_length


async def main():
    out = {'ok': 0, 'errors': [], 'sent': 0}
    bodies = {}
    for _ in range(rounds):
        for n in sizes:
            if n not in bodies:
                bodies[n] = b'x' * n
            want = (200, b'OK') if n <= LIMIT else (413, b'Payload too large')
            out['sent'] += 1
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.post('http://127.0.0.1:%d/ignore' % port, data=bodies[n]) as resp:
                        body = await resp.read()
                        if (resp.status, body) == want:
                            out['ok'] += 1
                        else:
                            out['errors'].append('%d: got %d %r' % (n, resp.status, body[:40]))
            except Exception as e:  # a reset, a short answer ...
                out['errors'].append('%d: %s %s' % (n, type(e).__name__, e))
    print(json.dumps(out))


asyncio.run(main())
