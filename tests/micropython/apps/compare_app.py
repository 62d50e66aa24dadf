# A Microdot application written for Microdot: routes with parameters of
# every type, query arguments, JSON, forms, cookies, streamed and chunked
# answers, a file, bodies read whole and from the stream, hooks, error
# handlers, a mounted sub-application, redirects and errors.
# test_same_answers.py runs it on the real Microdot and on linger's
# microdot package, unchanged, and compares the answers.
import sys

from microdot import Microdot, Request, Response, abort, redirect, send_file

Request.max_content_length = 4096
Request.max_body_length = 1024  # bodies over this are read from request.stream

app = Microdot()
api = Microdot()


class Boom(Exception):
    pass


class BigBoom(Boom):
    pass


@app.before_request
def before(request):
    request.g.seen = 'yes'
    if request.headers.get('X-Block') == 'yes':
        return 'blocked', 403


@app.after_request
def after(request, response):
    response.headers['X-After'] = request.g.seen
    return response


@app.after_error_request
def after_error(request, response):
    response.headers['X-Error'] = '1'


@app.errorhandler(404)
def not_found(request):
    return {'error': 'not found', 'path': request.path}, 404


@app.errorhandler(Boom)
def boom(request, exc):
    return 'boom: ' + exc.__class__.__name__, 500


@app.route('/')
def index(request):
    return 'index'


@app.get('/ping')
def ping(request):
    return 'pong'


@app.get('/hello/<name>')
def hello(request, name):
    return 'Hello, ' + name


@app.get('/num/<int:n>')
def num(request, n):
    return {'n': n, 'double': n * 2}


@app.get('/path/<path:p>')
def path(request, p):
    return p


@app.get('/re/<re:[a-c]+:letters>')
def letters(request, letters):
    return letters


@app.get('/args')
def args(request):
    return {'a': request.args.get('a'), 'b': request.args.getlist('b'),
            'n': request.args.get('n', type=int), 'missing': request.args.get('zz', 'dflt'),
            'qs': request.query_string}


@app.post('/json')
def json_in(request):
    return {'got': request.json, 'type': request.content_type}


@app.post('/form')
def form(request):
    return {'name': request.form.get('name'), 'tags': request.form.getlist('tag')}


@app.get('/cookies')
def cookies(request):
    r = Response({'cookies': request.cookies})
    r.set_cookie('visit', '1', path='/', http_only=True, max_age=60)
    r.set_cookie('theme', 'dark', secure=True)
    r.delete_cookie('old')
    return r


@app.get('/stream')
def stream(request):
    def gen():
        for i in range(5):
            yield 'chunk %d\n' % i
    return gen(), 200, {'Content-Type': 'text/plain'}


@app.get('/stream-big')
def stream_big(request):
    def gen():
        for i in range(200):
            yield bytes([65 + i % 26]) * 1000
    return Response(gen(), headers={'Content-Type': 'application/octet-stream'})


@app.get('/file')
def file(request):
    return send_file('apps/compare_app.py', content_type='text/x-python', max_age=60)


@app.post('/small')
def small(request):
    return {'len': len(request.body), 'start': request.body[:8].decode(),
            'length': request.content_length}


@app.post('/upload')
async def upload(request):
    total = 0
    check = 0
    while total < request.content_length:  # Microdot's stream does not end with the body
        chunk = await request.stream.read(min(700, request.content_length - total))
        if not chunk:
            break
        total += len(chunk)
        for b in chunk:
            check = (check * 31 + b) & 0xffff
    return {'bytes': total, 'check': check, 'body': len(request.body)}


@app.get('/status')
def status(request):
    return 'created', 201, {'X-Custom': 'yes'}


@app.get('/int')
def integer(request):
    return 202


@app.get('/none')
def none(request):
    return None


@app.get('/tuple-headers')
def tuple_headers(request):
    return 'body', {'X-H': 'v'}


@app.get('/list')
def a_list(request):
    return [1, 'two', {'three': 3}]


@app.get('/abort')
def aborted(request):
    abort(401, 'nope')


@app.get('/boom')
def bigboom(request):
    raise BigBoom()


@app.get('/crash')
def crash(request):
    raise ValueError('x')


@app.get('/redirect')
def redirected(request):
    return redirect('/hello/world')


@app.get('/redirect301')
def moved(request):
    return redirect('/', status_code=301)


@app.route('/methods', methods=['GET', 'PUT', 'PATCH', 'DELETE'])
def methods(request):
    return request.method + ' ' + request.http_version


@app.get('/headers')
def headers(request):
    return {'ua': request.headers.get('user-agent'), 'x': request.headers.get('X-Test'),
            'has_x': 'x-test' in request.headers}


@app.get('/response-object')
def response_object(request):
    r = Response('made', status_code=203, headers={'X-Made': 'here'})
    r.headers['Content-Type'] = 'text/html'
    return r


@app.get('/after-request')
def after_request(request):
    @request.after_request
    def more(request, response):
        response.headers['X-Local'] = 'local'
        return response
    return 'with a local hook'


@api.get('/info')
def info(request):
    return {'prefix': request.url_prefix, 'path': request.path}


@api.get('/item/<int:id>')
def item(request, id):
    if id > 10:
        abort(404)
    return {'item': id}


app.mount(api, url_prefix='/api')


@app.get('/shutdown')
def shutdown(request):
    request.app.shutdown()
    return 'bye'


app.run(host='127.0.0.1', port=int(sys.argv[1]))
