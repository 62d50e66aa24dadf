# The benchmark's application (scripts/micropython_bench.py): Microdot's
# hello world, a JSON answer, and the routes the harness needs.
import sys

from microdot import Microdot

app = Microdot()


@app.route('/')
def index(request):
    return 'Hello, world!'


@app.route('/json/<int:n>')
def js(request, n):
    return {'n': n, 'squares': [i * i for i in range(n)]}


@app.get('/ping')
def ping(request):
    return 'pong'


@app.get('/shutdown')
def shutdown(request):
    request.app.shutdown()
    return 'bye'


app.run(host='127.0.0.1', port=int(sys.argv[1]))
