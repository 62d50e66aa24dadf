# Memory: a Microdot application that reports the heap (GET /mem, after a
# collection) and collects after every request (an after_request hook), so
# that linger's memory is put through the collector between any two
# requests; `python mem_app.py PORT threshold` also makes the collector run
# after every few kilobytes allocated, wherever that happens (in linger's
# callbacks too). Runs on linger's microdot and, for the figures, on the
# real one (then without linger's own counters).
import asyncio
import gc
import sys

from microdot import Microdot, Request, Response

try:
    import _linger
except ImportError:
    _linger = None

Request.max_content_length = 1024 * 1024
app = Microdot()
held = []
release = asyncio.Event()


@app.after_request
def collect(request, response):
    gc.collect()
    return response


@app.get('/ping')
def ping(request):
    return 'pong'


@app.get('/')
def index(request):
    return 'hello'


@app.post('/echo')
def echo(request):
    return request.body


@app.post('/count')
async def count(request):
    n = 0
    while n < request.content_length:
        b = await request.stream.read(4096)
        if not b:
            break
        n += len(b)
    return str(n)


@app.get('/stream')
def stream(request):
    def gen():
        for i in range(20):
            yield b'%04d' % i * 250
    return Response(gen())


@app.get('/hold')
async def hold(request):
    held.append(request)
    await release.wait()
    held.remove(request)
    return 'held'


@app.get('/release')
def do_release(request):
    release.set()
    return str(len(held))


@app.get('/rearm')
def rearm(request):
    release.clear()
    return 'ok'


@app.get('/mem')
def mem(request):
    gc.collect()
    out = {'alloc': gc.mem_alloc(), 'free': gc.mem_free(), 'held': len(held)}
    if _linger:
        m = _linger.mem()
        out.update(linger=m[0], blocks=m[1], peak=m[2], failed=m[5], pinned=_linger.pinned())
    return out


@app.get('/shutdown')
def shutdown(request):
    request.app.shutdown()
    return 'bye'


if len(sys.argv) > 2 and sys.argv[2] == 'threshold':
    gc.threshold(8192)
app.run(host='127.0.0.1', port=int(sys.argv[1]))
