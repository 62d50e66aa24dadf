# A Microdot application with no hooks, whose handlers return plain values
# (str, bytes, dict, list): on linger's package these answers take the fast
# path (no Response object; microdot.py's _serve). test_same_answers.py
# runs it on both servers and compares, as it does compare_app.py.
import sys

from microdot import Microdot, Request

Request.max_body_length = 1024

app = Microdot()


@app.route('/')
def index(request):
    return 'Hello, world!'


@app.route('/bytes')
def raw(request):
    return b'\x00\x01bytes'


@app.route('/empty')
def empty(request):
    return ''


@app.route('/json/<int:n>')
def js(request, n):
    return {'n': n, 'squares': [i * i for i in range(n)]}


@app.route('/list')
async def lst(request):
    return [1, 'two', None]


@app.route('/echo', methods=['POST'])
async def echo(request):
    if request.body:
        return request.body
    return await request.stream.readexactly(request.content_length)


@app.route('/seen')
def seen(request):
    # the request's lazily made attributes, each asked for once
    return {'method': request.method, 'path': request.path, 'args': request.args,
            'qs': request.query_string, 'ua': request.headers.get('User-Agent'),
            'cookies': request.cookies, 'length': request.content_length,
            'type': request.content_type,
            'version': request.http_version}


@app.route('/late')
def late(request):
    # an after_request handler added by the handler itself
    @request.after_request
    def tag(request, response):
        response.headers['X-Late'] = 'yes'
        return response
    return 'late'


@app.get('/ping')
def ping(request):
    return 'pong'


@app.get('/shutdown')
def shutdown(request):
    request.app.shutdown()
    return 'bye'


app.run(host='127.0.0.1', port=int(sys.argv[1]))
