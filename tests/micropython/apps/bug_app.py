# The original bug's server: a Microdot application whose upload route
# answers without reading the body. Written for Microdot; the tests run it
# on the real Microdot and on linger's microdot package, unchanged.
import sys

from microdot import Microdot, Request

Request.max_content_length = 2 * 1024 * 1024  # bodies up to 2 MiB reach the route

app = Microdot()


@app.post('/ignore')
async def ignore(request):
    return 'OK'


@app.get('/ping')
async def ping(request):
    return 'pong'


@app.get('/shutdown')
async def shutdown(request):
    request.app.shutdown()
    return 'bye'


app.run(host='127.0.0.1', port=int(sys.argv[1]))
