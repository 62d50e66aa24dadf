# Microdot's API on linger: a drop-in `microdot` package for MicroPython.
#
# An application written for Microdot (https://github.com/miguelgrinberg/
# microdot, v2) runs unchanged with this package first on the path; the
# HTTP work -- parsing, framing, keep-alive, timeouts, closing -- is
# linger's, in C (the _linger module). What an application can see is
# Microdot's: the same classes, attributes, return values, hooks and error
# handling. docs/micropython.md lists what differs and what is not there.
#
# This is linger's own code, written to Microdot's documented behaviour.
# SPDX-License-Identifier: MIT

import asyncio
import io
import re
import time

try:
    import orjson as json
except ImportError:
    import json

import _linger
import linger

try:
    from sys import print_exception
except ImportError:  # CPython, for reading the code only
    import traceback

    def print_exception(exc):
        traceback.print_exc()


def iscoroutine(coro):
    return hasattr(coro, "send") and hasattr(coro, "throw")


async def invoke_handler(handler, *args, **kwargs):
    """Call a handler, sync or async, and return what it returned."""
    ret = handler(*args, **kwargs)
    if iscoroutine(ret):
        ret = await ret
    return ret


MUTED_SOCKET_ERRORS = [32, 54, 104, 128]


def urldecode(s):
    if isinstance(s, str):
        s = s.encode()
    s = s.replace(b"+", b" ")
    if b"%" not in s:
        return s.decode()
    out = bytearray()
    first = True
    for piece in s.split(b"%"):
        if first:
            out += piece
            first = False
        elif not piece:
            out += b"%"
        else:
            out.append(int(piece[:2], 16))
            out += piece[2:]
    return bytes(out).decode()


def urlencode(s):
    # Microdot's replacements, in Microdot's order (so '+' ends up as '%252B').
    for a, b in (("+", "%2B"), (" ", "+"), ("%", "%25"), ("?", "%3F"), ("#", "%23"), ("&", "%26"), ("=", "%3D")):
        s = s.replace(a, b)
    return s


class NoCaseDict(linger.CaselessDict):
    """A dict whose str keys are looked up without regard to case; a key
    keeps the case it was first stored with (linger.CaselessDict)."""

    def __init__(self, initial_dict=None):
        super().__init__(initial_dict.items() if initial_dict else ())

    @property
    def keymap(self):  # (Microdot's name for the lowered keys)
        return self._keys

    def update(self, other_dict):
        for key, value in other_dict.items():
            self[key] = value


def mro(cls):
    """The classes to look in for an exception's handler, nearest first."""
    if hasattr(cls, "mro"):
        return cls.__mro__
    order = []

    def walk(c):
        order.append(c)
        for base in c.__bases__:
            walk(base)

    walk(cls)
    # a class reached twice stays at its last place (as MicroPython orders)
    out = []
    for i, c in enumerate(order):
        if c not in order[i + 1 :]:
            out.append(c)
    return out


class MultiDict(dict):
    """A dict that keeps every value given for a key (query strings and
    forms); d[key] is the first one."""

    def __init__(self, initial_dict=None):
        super().__init__()
        if initial_dict:
            for key, value in initial_dict.items():
                self[key] = value

    def __setitem__(self, key, value):
        if key in self:
            super().__getitem__(key).append(value)
        else:
            super().__setitem__(key, [value])

    def __getitem__(self, key):
        return super().__getitem__(key)[0]

    def get(self, key, default=None, type=None):
        if key not in self:
            return default
        value = self[key]
        return type(value) if type is not None else value

    def getlist(self, key, type=None):
        if key not in self:
            return []
        values = super().__getitem__(key)
        return [type(v) for v in values] if type is not None else values


class AsyncBytesIO:
    """An async wrapper for BytesIO."""

    def __init__(self, data):
        self.stream = io.BytesIO(data)

    async def read(self, n=-1):
        return self.stream.read(n)

    async def readline(self):
        return self.stream.readline()

    async def readexactly(self, n):
        return self.stream.read(n)

    async def readuntil(self, separator=b"\n"):
        return self.stream.readuntil(separator=separator)

    async def awrite(self, data):
        return self.stream.write(data)

    async def aclose(self):
        pass


class _BodyStream:
    """request.stream for a body that was not read before the handler (over
    max_body_length, or chunked): read from linger as it arrives, the
    client held back by TCP while nobody reads."""

    def __init__(self, nreq, limit):
        self._n = nreq
        self._limit = limit
        self._started = False
        self._buf = b""
        self._eof = False

    def _start(self):
        if not self._started:
            self._started = True
            self._n.read_start(self._limit, 16384)

    async def _more(self, n=-1):
        # More bytes from linger (b'' at the end).
        if self._eof:
            return b""
        self._start()
        b = await linger.read(self._n, n)
        if not b:
            self._eof = True
        return b

    async def read(self, n=-1):
        if n == 0:
            return b""
        if n < 0:
            parts = [self._buf]
            self._buf = b""
            while True:
                b = await self._more()
                if not b:
                    return b"".join(parts)
                parts.append(b)
        if self._buf:
            b, self._buf = self._buf[:n], self._buf[n:]
            return b
        return await self._more(n)

    async def readexactly(self, n):
        parts = []
        have = 0
        while have < n:
            b = await self.read(n - have)
            if not b:
                raise EOFError
            parts.append(b)
            have += len(b)
        return b"".join(parts)

    async def readuntil(self, separator=b"\n"):
        while True:
            i = self._buf.find(separator)
            if i >= 0:
                i += len(separator)
                b, self._buf = self._buf[:i], self._buf[i:]
                return b
            b = await self._more()
            if not b:
                b, self._buf = self._buf, b""
                return b
            self._buf += b

    async def readline(self):
        return await self.readuntil(b"\n")

    async def awrite(self, data):
        raise OSError("request body stream is read-only")

    async def aclose(self):
        pass


class Request:
    """An HTTP request."""

    #: Largest body accepted (larger: 413, before the body is read).
    max_content_length = 16 * 1024
    #: Largest body read into ``body`` before the handler runs; larger ones
    #: (up to max_content_length) are read from ``stream``.
    max_body_length = 16 * 1024
    #: Longest line of the request head (longer: 400).
    max_readline = 2 * 1024

    class G:
        pass

    def __init__(self, app, client_addr, method, url, http_version, headers, body=None, stream=None, sock=None, url_prefix="", subapp=None, scheme=None, route=None):
        # What every request needs is set here; the rest (headers, args,
        # cookies, content_type, content_length, g, client_addr and
        # after_request_handlers) is made by __getattr__ the first time it
        # is asked for: most handlers look at little of it, and every
        # object a request does not make is time and heap saved.
        self.app = app
        if client_addr is not None:
            self.client_addr = client_addr
        self.method = method
        self.scheme = scheme or "http"
        self.url = url
        self.url_prefix = url_prefix
        self.subapp = subapp
        self.route = route
        self.http_version = http_version
        if "?" in url:
            self.path, self.query_string = url.split("?", 1)
        else:
            self.path = url
            self.query_string = None
        if headers is not None:
            self.headers = headers
        self._body = body
        self.body_used = False
        self._stream = stream
        self.sock = sock
        self._json = None
        self._form = None
        self._files = None

    # (class-level defaults of what __getattr__ makes)
    _nreq = None  # linger's request (client_addr from it)
    _fields = ()  # linger's header fields, [(name, value)], for headers
    _length = None  # the body's length as linger parsed it
    _after = False  # after_request_handlers was made (a handler may be in it)

    def __getattr__(self, name):
        if name == "headers":
            v = NoCaseDict()
            for k, value in self._fields:
                v[k] = value
        elif name == "args":
            v = self._parse_urlencoded(self.query_string) if self.query_string is not None else {}
        elif name == "cookies":
            v = {}
            cookie = self.headers.get("Cookie")
            if cookie is not None:
                for c in cookie.split(";"):
                    c = c.strip().split("=", 1)
                    v[c[0]] = c[1] if len(c) > 1 else ""
        elif name == "content_length":
            v = self._length if self._length is not None else int(self.headers.get("Content-Length", 0))
        elif name == "content_type":
            v = self.headers.get("Content-Type")
        elif name == "g":
            v = Request.G()
        elif name == "client_addr":
            v = self._nreq.peer() if self._nreq is not None else None
        elif name == "after_request_handlers":
            v = []
            self._after = True
        else:
            raise AttributeError(name)
        setattr(self, name, v)
        return v

    @staticmethod
    async def create(app, client_reader, client_writer, client_addr, scheme=None):
        """Parse a request from an asyncio stream (as Microdot's test client
        does); the server itself gets its requests from linger."""
        line = (await Request._safe_readline(client_reader)).strip().decode()
        if not line:
            return None
        method, url, http_version = line.split()
        http_version = http_version.split("/", 1)[1]
        headers = NoCaseDict()
        content_length = 0
        while True:
            line = (await Request._safe_readline(client_reader)).strip().decode()
            if line == "":
                break
            header, value = line.split(":", 1)
            value = value.strip()
            headers[header] = value
            if header.lower() == "content-length":
                content_length = int(value)
        if content_length and content_length <= Request.max_body_length:
            body = await client_reader.readexactly(content_length)
            stream = None
        else:
            body = b""
            stream = client_reader
        return Request(app, client_addr, method, url, http_version, headers, body=body, stream=stream, sock=(client_reader, client_writer), scheme=scheme)

    def _parse_urlencoded(self, urlencoded):
        data = MultiDict()
        if isinstance(urlencoded, str):
            for pair in urlencoded.split("&"):
                if pair:
                    kv = pair.split("=", 1)
                    data[urldecode(kv[0])] = urldecode(kv[1]) if len(kv) > 1 else ""
        elif isinstance(urlencoded, bytes):
            for pair in urlencoded.split(b"&"):
                if pair:
                    kv = pair.split(b"=", 1)
                    data[urldecode(kv[0])] = urldecode(kv[1]) if len(kv) > 1 else b""
        return data

    @property
    def body(self):
        return self._body

    @property
    def stream(self):
        if self._stream is None:
            self._stream = AsyncBytesIO(self._body)
        return self._stream

    @property
    def json(self):
        if self._json is None:
            if self.content_type is None:
                return None
            if self.content_type.split(";")[0] != "application/json":
                return None
            self._json = json.loads(self.body.decode())
        return self._json

    @property
    def form(self):
        if self._form is None:
            if self.content_type is None:
                return None
            if self.content_type.split(";")[0] != "application/x-www-form-urlencoded":
                return None
            self._form = self._parse_urlencoded(self.body)
        return self._form

    @property
    def files(self):
        return self._files

    def after_request(self, f):
        self.after_request_handlers.append(f)
        return f

    @staticmethod
    async def _safe_readline(stream):
        line = await stream.readline()
        if len(line) > Request.max_readline:
            raise ValueError("line too long")
        return line


class Response:
    """An HTTP response."""

    types_map = {
        "css": "text/css",
        "gif": "image/gif",
        "html": "text/html",
        "jpg": "image/jpeg",
        "js": "application/javascript",
        "json": "application/json",
        "png": "image/png",
        "txt": "text/plain",
        "svg": "image/svg+xml",
    }
    send_file_buffer_size = 1024
    default_content_type = "text/plain"
    default_send_file_max_age = None
    already_handled = None

    def __init__(self, body=b"", status_code=200, headers=None, reason=None):
        if body is None and status_code == 200:
            body = ""
            status_code = 204
        self.status_code = status_code
        self.headers = NoCaseDict(headers or {})
        self.reason = reason
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            self.headers["Content-Type"] = "application/json; charset=UTF-8"
        if isinstance(body, str):
            self.body = body.encode()
        else:
            self.body = body  # bytes, a file-like object or a generator
        self.is_head = False

    def set_cookie(self, cookie, value, path=None, domain=None, expires=None, max_age=None, secure=False, http_only=False, partitioned=False):
        if ";" in value:
            raise ValueError("invalid cookie value")
        parts = [cookie + "=" + value]
        if path:
            parts.append("Path=" + path)
        if domain:
            parts.append("Domain=" + domain)
        if expires:
            if isinstance(expires, str):
                parts.append("Expires=" + expires)
            else:
                parts.append("Expires=" + time.strftime("%a, %d %b %Y %H:%M:%S GMT", expires.timetuple()))
        if max_age is not None:
            parts.append("Max-Age=" + str(max_age))
        if secure:
            parts.append("Secure")
        if http_only:
            parts.append("HttpOnly")
        if partitioned:
            parts.append("Partitioned")
        http_cookie = "; ".join(parts)
        if "\r" in http_cookie or "\n" in http_cookie:
            raise ValueError("invalid cookie")
        if "Set-Cookie" in self.headers:
            self.headers["Set-Cookie"].append(http_cookie)
        else:
            self.headers["Set-Cookie"] = [http_cookie]

    def delete_cookie(self, cookie, **kwargs):
        kwargs.pop("expires", None)
        kwargs.pop("max_age", None)
        self.set_cookie(cookie, "", expires="Thu, 01 Jan 1970 00:00:01 GMT", max_age=0, **kwargs)

    def complete(self):
        if isinstance(self.body, bytes) and "Content-Length" not in self.headers:
            self.headers["Content-Length"] = str(len(self.body))
        if "Content-Type" not in self.headers:
            self.headers["Content-Type"] = self.default_content_type
            if "charset=" not in self.headers["Content-Type"]:
                self.headers["Content-Type"] += "; charset=UTF-8"

    def body_iter(self):
        if hasattr(self.body, "__anext__"):
            return self.body  # an async generator (or iterator)
        return _BodyIter(self)

    @classmethod
    def redirect(cls, location, status_code=302):
        if "\r" in location or "\n" in location:
            raise ValueError("invalid redirect URL")
        return cls(status_code=status_code, headers={"Location": location})

    @classmethod
    def send_file(cls, filename, status_code=200, content_type=None, stream=None, max_age=None, compressed=False, file_extension=""):
        if content_type is None:
            name = filename[:-3] if compressed and filename.endswith(".gz") else filename
            ext = name.split(".")[-1]
            content_type = Response.types_map.get(ext, "application/octet-stream")
        headers = {"Content-Type": content_type}
        if max_age is None:
            max_age = cls.default_send_file_max_age
        if max_age is not None:
            headers["Cache-Control"] = "max-age={}".format(max_age)
        if compressed:
            headers["Content-Encoding"] = compressed if isinstance(compressed, str) else "gzip"
        f = stream or open(filename + file_extension, "rb")
        return cls(body=f, status_code=status_code, headers=headers)


class _BodyIter:
    # An async iterator over a body that is bytes, a file-like object or a
    # sync generator (Microdot's order of looking).
    NO_BODY = -1
    UNKNOWN = 0
    SYNC_GEN = 1
    FILE = 2

    def __init__(self, response):
        self.r = response

    def __aiter__(self):
        self.i = self.UNKNOWN if self.r.body else self.NO_BODY
        return self

    async def __anext__(self):
        body = self.r.body
        if self.i == self.NO_BODY:
            await self.aclose()
            raise StopAsyncIteration
        if self.i == self.UNKNOWN:
            if hasattr(body, "read"):
                self.i = self.FILE
            elif hasattr(body, "__next__"):
                self.i = self.SYNC_GEN
                return next(body)
            else:
                self.i = self.NO_BODY
                return body
        elif self.i == self.SYNC_GEN:
            try:
                return next(body)
            except StopIteration:
                await self.aclose()
                raise StopAsyncIteration
        size = self.r.send_file_buffer_size
        buf = body.read(size)
        if iscoroutine(buf):
            buf = await buf
        if len(buf) < size:
            self.i = self.NO_BODY
        return buf

    async def aclose(self):
        if hasattr(self.r.body, "close"):
            result = self.r.body.close()
            if iscoroutine(result):
                await result


class URLPattern:
    """A route's URL pattern: static segments and <type:name> ones."""

    segment_patterns = {
        "string": "/([^/]+)",
        "int": "/(-?\\d+)",
        "path": "/(.+)",
    }
    segment_parsers = {
        "int": lambda value: int(value),
    }

    @classmethod
    def register_type(cls, type_name, pattern="[^/]+", parser=None):
        cls.segment_patterns[type_name] = "/({})".format(pattern)
        cls.segment_parsers[type_name] = parser

    def __init__(self, url_pattern):
        self.url_pattern = url_pattern
        self.segments = []
        self.regex = None
        self._static = None  # a pattern without regex syntax: compared as text

    def compile(self):
        pattern = ""
        self.segments = []
        for segment in self.url_pattern.lstrip("/").split("/"):
            if segment and segment[0] == "<":
                if segment[-1] != ">":
                    raise ValueError("invalid URL pattern")
                segment = segment[1:-1]
                if ":" in segment:
                    type_, name = segment.rsplit(":", 1)
                else:
                    type_ = "string"
                    name = segment
                parser = None
                if type_.startswith("re:"):
                    pattern += "/({})".format(type_[3:])
                else:
                    if type_ not in self.segment_patterns:
                        raise ValueError("invalid URL segment type")
                    pattern += self.segment_patterns[type_]
                    parser = self.segment_parsers.get(type_)
                self.segments.append({"parser": parser, "name": name, "type": type_})
            else:
                pattern += "/" + segment
                self.segments.append({"parser": None})
        if not any("name" in s for s in self.segments) and _plain(pattern):
            self._static = pattern
        self.regex = re.compile("^" + pattern + "$")
        return self.regex

    def match(self, path):
        if self.regex is None:
            self.compile()
        if self._static is not None:
            return {} if path == self._static else None
        g = self.regex.match(path)
        if not g:
            return None
        args = {}
        i = 1
        for segment in self.segments:
            if "name" not in segment:
                continue
            arg = g.group(i)
            if segment["parser"]:
                arg = self.segment_parsers[segment["type"]](arg)
                if arg is None:
                    return None
            args[segment["name"]] = arg
            i += 1
        return args

    def __repr__(self):
        return "URLPattern: {}".format(self.url_pattern)


def _plain(pattern):
    # No character a regex reads as syntax: matching it is comparing text.
    for c in pattern:
        if not (c.isalpha() or c.isdigit() or c in "/-_~%!,;:@=&'"):
            return False
    return True


class HTTPException(Exception):
    def __init__(self, status_code, reason=None):
        self.status_code = status_code
        self.reason = reason or str(status_code) + " error"

    def __repr__(self):
        return "HTTPException: {}".format(self.status_code)


#: Settings of linger's server (_linger.Server's keywords), read when a
#: server starts: max_conns, recv_buffer, idle_timeout, header_timeout,
#: body_timeout, send_timeout, linger_timeout, ... (times in ms). Unset,
#: recv_buffer is twice Request.max_readline, at least 4096 (a request head
#: must fit it), max_headers 32 (header lines in a request), scratch 1024
#: (the decoded path, twice, must fit it), the rest linger's defaults.
#: `shutdown_ms` bounds Microdot.shutdown()'s wait for the requests in
#: flight (5000).
linger_config = {}


class _ServerHandle:
    # What Microdot.server is: close() starts a graceful shutdown.
    def __init__(self, srv, port, deadline):
        self.srv = srv
        self.port = port
        self.deadline = deadline

    def close(self):
        self.srv.shutdown(self.deadline)

    async def wait_closed(self):
        while not self.srv.done():
            await linger.park(self.srv)
        self.srv.free()


class Microdot:
    """An HTTP application."""

    def __init__(self):
        self.url_map = []
        self.before_request_handlers = []
        self.after_request_handlers = []
        self.after_error_request_handlers = []
        self.error_handlers = {}
        self.options_handler = self.default_options_handler
        self.ssl = False
        self.debug = False
        self.server = None

    def route(self, url_pattern, methods=None):
        def decorated(f):
            self.url_map.append(([m.upper() for m in (methods or ["GET"])], URLPattern(url_pattern), f, "", None))
            return f

        return decorated

    def get(self, url_pattern):
        return self.route(url_pattern, methods=["GET"])

    def post(self, url_pattern):
        return self.route(url_pattern, methods=["POST"])

    def put(self, url_pattern):
        return self.route(url_pattern, methods=["PUT"])

    def patch(self, url_pattern):
        return self.route(url_pattern, methods=["PATCH"])

    def delete(self, url_pattern):
        return self.route(url_pattern, methods=["DELETE"])

    def before_request(self, f):
        self.before_request_handlers.append(f)
        return f

    def after_request(self, f):
        self.after_request_handlers.append(f)
        return f

    def after_error_request(self, f):
        self.after_error_request_handlers.append(f)
        return f

    def errorhandler(self, status_code_or_exception_class):
        def decorated(f):
            self.error_handlers[status_code_or_exception_class] = f
            return f

        return decorated

    def mount(self, subapp, url_prefix="", local=False):
        for methods, pattern, handler, _prefix, _subapp in subapp.url_map:
            self.url_map.append((methods, URLPattern(url_prefix + pattern.url_pattern), handler, url_prefix + _prefix, _subapp or subapp))
        if not local:
            for name in ("before_request_handlers", "after_request_handlers", "after_error_request_handlers"):
                getattr(self, name).extend(getattr(subapp, name))
                setattr(subapp, name, [])
            for key, handler in subapp.error_handlers.items():
                self.error_handlers[key] = handler
            subapp.error_handlers = {}

    @staticmethod
    def abort(status_code, reason=None):
        raise HTTPException(status_code, reason)

    async def start_server(self, host="0.0.0.0", port=5000, debug=False, ssl=None, start_serving=True):
        """Serve until shutdown(): a coroutine."""
        if ssl:
            raise ValueError("linger's microdot has no TLS yet")
        if not start_serving:
            raise ValueError("start_serving must be True")
        self.ssl = ssl
        self.debug = debug
        if self.debug:
            print("Starting async server on {host}:{port}...".format(host=host, port=port))
        cfg = dict(linger_config)
        deadline = cfg.pop("shutdown_ms", 5000)
        if "recv_buffer" not in cfg:
            cfg["recv_buffer"] = max(4096, 2 * Request.max_readline)
        cfg.setdefault("max_headers", 32)
        linger.loop()
        srv = _linger.Server(**cfg)
        srv.route("*", "/*path", _linger.ROUTE_STREAM_BODY, self._on_request)
        bound = srv.listen(linger.addr(host, port))
        self.server = _ServerHandle(srv, bound, deadline)
        await self.server.wait_closed()

    def run(self, host="0.0.0.0", port=5000, debug=False, ssl=None):
        asyncio.run(self.start_server(host=host, port=port, debug=debug, ssl=ssl))

    def shutdown(self):
        self.server.close()

    def find_route(self, req):
        method = req.method
        if not method.isupper():  # (upper() makes a string; methods rarely need it)
            method = method.upper()
        if method == "OPTIONS" and self.options_handler:
            return self.options_handler(req), "", None
        if method == "HEAD":
            method = "GET"
        f = 404
        p = ""
        s = None
        path = req.path
        for route_methods, route_pattern, route_handler, url_prefix, subapp in self.url_map:
            req.url_args = route_pattern.match(path)
            if req.url_args is not None:
                p = url_prefix
                s = subapp
                if method in route_methods:
                    f = route_handler
                    break
                f = 405
        return f, p, s

    def default_options_handler(self, req):
        allow = []
        for route_methods, route_pattern, _, _, _ in self.url_map:
            if route_pattern.match(req.path) is not None:
                allow.extend(route_methods)
        if "GET" in allow:
            allow.append("HEAD")
        allow.append("OPTIONS")
        return {"Allow": ", ".join(allow)}

    def get_request_handlers(self, req, attr, local_first=True):
        handlers = getattr(self, attr + "_handlers")
        local = getattr(req.subapp, attr + "_handlers") if req and req.subapp else []
        return local + handlers if local_first else handlers + local

    async def error_response(self, req, status_code, reason=None):
        if req and req.subapp and status_code in req.subapp.error_handlers:
            return await invoke_handler(req.subapp.error_handlers[status_code], req)
        if status_code in self.error_handlers:
            return await invoke_handler(self.error_handlers[status_code], req)
        return reason or "N/A", status_code

    async def dispatch_request(self, req):
        res = await self._dispatch(req)
        if type(res) in _PLAIN:
            res = _make_response(res)
            res.is_head = req.method == "HEAD"
        return res

    async def _dispatch(self, req):
        # Microdot's dispatch_request, with handlers called in place rather
        # than through a coroutine each (invoke_handler). When the handler
        # returned a plain str, bytes, dict or list and no after_request
        # hook is there to see it as a Response, that value is returned as
        # it is: _serve sends it without making a Response.
        after_request_handled = False
        plain = False
        if req:
            if req.content_length > req.max_content_length:
                res = await self.error_response(req, 413, "Payload too large")
            else:
                f, req.url_prefix, req.subapp = self.find_route(req)
                try:
                    res = None
                    if callable(f):
                        req.route = f
                        sub = req.subapp
                        hooks = self.before_request_handlers
                        if sub is not None and sub.before_request_handlers:
                            hooks = hooks + sub.before_request_handlers
                        for handler in hooks:
                            res = handler(req)
                            if iscoroutine(res):
                                res = await res
                            if res:
                                break
                        if res is None:
                            res = f(req, **req.url_args)
                            if iscoroutine(res):
                                res = await res
                        hooks = self.after_request_handlers
                        if sub is not None and sub.after_request_handlers:
                            hooks = sub.after_request_handlers + hooks
                        if hooks or req._after:
                            res = _make_response(res)
                            for handler in hooks:
                                r = handler(req, res)
                                if iscoroutine(r):
                                    r = await r
                                res = r or res
                            for handler in req.after_request_handlers if req._after else ():
                                r = handler(req, res)
                                if iscoroutine(r):
                                    r = await r
                                res = r or res
                        elif type(res) in _PLAIN:
                            plain = True
                        else:
                            res = _make_response(res)
                        after_request_handled = True
                    elif isinstance(f, dict):
                        res = Response(headers=f)
                    else:
                        res = await self.error_response(req, f, "Not found")
                except HTTPException as exc:
                    res = await self.error_response(req, exc.status_code, exc.reason)
                except Exception as exc:
                    print_exception(exc)
                    res = None
                    handler = self._exception_handler(req, exc)
                    if handler:
                        try:
                            res = await invoke_handler(handler, req, exc)
                        except Exception as exc2:
                            print_exception(exc2)
                    if res is None:
                        res = await self.error_response(req, 500, "Internal server error")
        else:
            res = await self.error_response(req, 400, "Bad request")
        if plain:
            return res
        if isinstance(res, tuple):
            res = Response(*res)
        elif not isinstance(res, Response):
            res = Response(res)
        if not after_request_handled:
            for handler in self.get_request_handlers(req, "after_error_request", True):
                res = await invoke_handler(handler, req, res) or res
        res.is_head = req and req.method == "HEAD"
        return res

    def _exception_handler(self, req, exc):
        sub = req.subapp.error_handlers if req.subapp else {}
        cls = exc.__class__
        if cls in sub:
            return sub[cls]
        if cls in self.error_handlers:
            return self.error_handlers[cls]
        for c in mro(cls)[1:]:
            if c in sub:
                return sub[c]
            if c in self.error_handlers:
                return self.error_handlers[c]
        return None

    # --- linger's side: a request arrives, an answer goes -------------------

    def _on_request(self, nreq):
        # Called by linger (inside its loop's turn) for each request head:
        # the request's task takes its first step at once (linger.start).
        linger.start(self._serve(nreq))

    async def _serve(self, nreq):
        req = None
        started = False
        try:
            try:
                req = self._request(nreq)
                if req._body is None:  # a body within max_body_length: read before the handler
                    req._body = await linger.read_all(nreq, req._length)
            except Exception as exc:
                print_exception(exc)
                req = None
            res = await self._dispatch(req)
            if type(res) in _PLAIN:
                # The commonest answer, in one call to linger: no Response
                # object, no header dictionary, the body as it is.
                if type(res) is str or type(res) is bytes:
                    nreq.send(200, res, _default_type())
                else:
                    nreq.send(200, json.dumps(res), "application/json; charset=UTF-8")
                status = 200
            elif res is Response.already_handled:
                nreq.error(500, "not supported by linger's microdot")
                return
            else:
                started = await self._answer(nreq, res)
                status = res.status_code
            if self.debug and req:
                print("{method} {path} {status_code}".format(method=req.method, path=req.path, status_code=status))
        except Exception as exc:
            print_exception(exc)
        finally:
            if not nreq.answered():
                if started:
                    nreq.abandon()  # the client sees the answer cut short
                else:
                    nreq.error(500, "Internal Server Error")

    def _request(self, nreq):
        # The request's head from linger, in one call; its body, when it is
        # to be read before the handler, is left None for _serve to read.
        method, target, minor, length, longest, fields = nreq.head()
        if longest > Request.max_readline:
            raise ValueError("line too long")
        if fields is None:
            raise ValueError("header not UTF-8")
        if target is None:
            raise ValueError("target not UTF-8")
        req = Request(self, None, method, target, "1.1" if minor else "1.0", None, body=b"")
        req._nreq = nreq
        req._fields = fields
        req._length = length if length > 0 else 0  # (-1: chunked, no Content-Length)
        limit = Request.max_content_length
        if 0 < length <= Request.max_body_length and length <= limit:
            req._body = None
        elif length:
            req._stream = _BodyStream(nreq, limit)
        return req

    async def _answer(self, nreq, res):
        # Returns True once a streamed answer has started.
        res.complete()
        body = res.body
        if isinstance(body, str):
            body = body.encode()
        whole = isinstance(body, (bytes, bytearray, memoryview))
        for name, value in res.headers.items():
            lname = name.lower()
            if lname == "connection" or lname == "transfer-encoding":
                continue  # linger frames every answer itself
            if lname == "content-length" and whole:
                continue  # linger writes the body's length
            for v in value if isinstance(value, list) else (value,):
                rc = nreq.add_header(name, str(v))
                if rc:
                    # (CR or LF in it, or over linger_config's
                    # response_headers in all): a 500, not a lost header
                    raise ValueError("header %s not sent: %s" % (name, _linger.strerror(rc)))
        status = res.status_code
        if whole:
            nreq.send(status, body)
            return False
        if nreq.start(status):
            return False  # refused: answered with 500
        it = res.body_iter()
        try:
            if not res.is_head:
                async for piece in it:
                    if isinstance(piece, str):
                        piece = piece.encode()
                    if await linger.write(nreq, piece):
                        break  # the client has gone
        finally:
            if hasattr(it, "aclose"):
                await it.aclose()
        nreq.end()
        return True


# What a handler may return that _serve sends as it is (exactly these
# types: a subclass may behave otherwise).
_PLAIN = (str, bytes, dict, list)
_ctype = [None, None]  # Response.default_content_type, and its header value


def _default_type():
    # Response.complete()'s Content-Type for a str or bytes body, made once
    # for each default_content_type an application sets.
    d = Response.default_content_type
    if _ctype[0] is not d:
        _ctype[0] = d
        _ctype[1] = d if "charset=" in d else d + "; charset=UTF-8"
    return _ctype[1]


def _make_response(res):
    # What a handler returned, as Microdot takes it.
    if isinstance(res, int):
        res = "", res
    if isinstance(res, tuple):
        if isinstance(res[0], int):
            res = ("", res[0], res[1] if len(res) > 1 else {})
        body = res[0]
        if isinstance(res[1], int):
            status_code = res[1]
            headers = res[2] if len(res) > 2 else {}
        else:
            status_code = 200
            headers = res[1]
        return Response(body, status_code, headers)
    if not isinstance(res, Response):
        return Response(res)
    return res


Response.already_handled = Response()

abort = Microdot.abort
redirect = Response.redirect
send_file = Response.send_file
