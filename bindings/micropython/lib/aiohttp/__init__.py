# aiohttp's client API on linger: a drop-in `aiohttp` package for
# MicroPython (the part of aiohttp that micropython-lib's aiohttp offers,
# and more: keep-alive, timeouts, streamed bodies, errors by kind).
#
# Answers are read by their framing, in C (linger's client): a body with a
# Content-Length is complete at that length and a chunked one at its last
# chunk, whatever the server does with the connection afterwards -- a
# server that answers and resets (Microdot, with an upload it did not
# read) has still answered. A body cut short is an error
# (ClientPayloadError), never a shorter success. docs/micropython.md lists
# what differs from CPython's aiohttp.
#
# This is linger's own code. SPDX-License-Identifier: MIT

import asyncio
import json as _json

import _linger
import linger

HttpVersion10 = "HTTP/1.0"
HttpVersion11 = "HTTP/1.1"

# Body bytes buffered per answer before linger stops reading it (the server
# then waits in TCP's window) while the application reads in pieces.
_HIGH_WATER = 16384


# --- errors: every one is an OSError too, so code written for
# micropython-lib's aiohttp (which raises OSError) still catches them ------


class ClientError(OSError):
    def __str__(self):
        a = self.args
        if len(a) == 2 and isinstance(a[1], str):
            return a[1]
        return super().__str__()


class ClientConnectionError(ClientError):
    pass


class ClientOSError(ClientConnectionError):
    pass


class ClientConnectorError(ClientOSError):
    pass


class ServerDisconnectedError(ClientConnectionError):
    pass


class ClientPayloadError(ClientError):
    pass


class InvalidURL(ClientError):
    pass


class ClientResponseError(ClientError):
    def __init__(self, request_info=None, history=(), status=None, message="", headers=None):
        super().__init__(status or 0, message)
        self.request_info = request_info
        self.history = history
        self.status = status
        self.message = message
        self.headers = headers

    def __str__(self):
        return "%s, message=%r, url=%r" % (self.status, self.message, self.request_info and self.request_info.url)


class ContentTypeError(ClientResponseError):
    pass


class TooManyRedirects(ClientResponseError):
    pass


class RequestInfo:
    def __init__(self, url, method, headers):
        self.url = url
        self.method = method
        self.headers = headers
        self.real_url = url


def _error(call, url):
    # The exception for a call that failed (linger's err and stage).
    err = call.err
    text = "%s: %s" % (url, _linger.strerror(err))
    if err == _linger.ERR_TIMEOUT:
        return asyncio.TimeoutError(text)
    stage = call.stage
    if stage <= _linger.STAGE_START:
        return InvalidURL(err, text) if err == _linger.ERR_URL else ClientError(err, text)
    if stage <= _linger.STAGE_CONNECT:
        return ClientConnectorError(_errno(err), text)
    if stage <= _linger.STAGE_HEAD:
        if err in (_linger.ERR_CLOSED_EARLY, _linger.ERR_RESET):
            return ServerDisconnectedError(_errno(err), text)
        return ClientOSError(_errno(err), text)
    return ClientPayloadError(_errno(err), text)


def _errno(err):
    # errno where one fits (what micropython-lib's aiohttp raised), else
    # linger's negative code.
    return {
        _linger.ERR_RESET: 104,
        _linger.ERR_REFUSED: 111,
        _linger.ERR_UNREACHABLE: 113,
        _linger.ERR_TIMEOUT: 110,
    }.get(err, err)


# --- headers ----------------------------------------------------------------


class CIMultiDict(linger.CaselessDict):
    """Response headers: looked up without regard to case
    (linger.CaselessDict); getall() has every value of a repeated field,
    [] and get() the first."""

    def __init__(self, pairs=()):
        self._more = {}  # lowered -> the values after the first
        super().__init__()
        for k, v in pairs:
            self.add(k, v)

    def add(self, key, value):
        if key in self:
            self._more.setdefault(key.lower(), []).append(value)
        else:
            self[key] = value

    def getall(self, key, default=None):
        if key in self:
            return [self[key]] + self._more.get(key.lower(), [])
        if default is not None:
            return default
        raise KeyError(key)

    def getone(self, key, default=None):
        return self.get(key, default)


# --- URLs -------------------------------------------------------------------


def _quote(s, safe=""):
    if not isinstance(s, str):
        s = str(s)
    out = []
    for b in s.encode():
        c = chr(b)
        if c.isalpha() and b < 128 or c.isdigit() or c in "-._~" or c in safe:
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def _form(data):
    items = data.items() if hasattr(data, "items") else data
    return "&".join(_quote(k) + "=" + _quote(v) for k, v in items)


def _split(url):
    # "http://user:pw@host:port/path?q" -> (scheme, userinfo, host, port, target)
    i = url.find("://")
    if i < 0:
        raise InvalidURL(-67, "not an absolute URL: %s" % url)
    scheme = url[:i].lower()
    rest = url[i + 3 :]
    j = len(rest)
    for c in "/?#":
        k = rest.find(c)
        if 0 <= k < j:
            j = k
    auth, target = rest[:j], rest[j:]
    k = target.find("#")
    if k >= 0:
        target = target[:k]
    if not target.startswith("/"):
        target = "/" + target
    userinfo = None
    if "@" in auth:
        userinfo, auth = auth.rsplit("@", 1)
    port = 443 if scheme == "https" else 80
    if auth.startswith("["):
        k = auth.find("]")
        host = auth[1:k]
        if auth[k + 1 : k + 2] == ":":
            port = int(auth[k + 2 :])
    elif ":" in auth:
        host, p = auth.rsplit(":", 1)
        port = int(p)
    else:
        host = auth
    if not host:
        raise InvalidURL(-67, "no host in %s" % url)
    return scheme, userinfo, host, port, target


def _origin(url):
    s, _, h, p, _ = _split(url)
    return s, h.lower(), p


def _join(base, ref):
    # A redirect's Location against the URL that answered (RFC 3986 5.2,
    # enough of it: absolute, network-path, absolute-path, relative).
    if "://" in ref:
        return ref
    scheme, userinfo, host, port, target = _split(base)
    auth = ("[%s]" % host if ":" in host else host) + ("" if port == (443 if scheme == "https" else 80) else ":%d" % port)
    if ref.startswith("//"):
        return scheme + ":" + ref
    if ref.startswith("/"):
        return scheme + "://" + auth + ref
    path = target.split("?", 1)[0]
    if ref.startswith("?"):
        return scheme + "://" + auth + path + ref
    path = path[: path.rfind("/") + 1] + ref
    out = []
    for seg in path.split("/"):
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    return scheme + "://" + auth + "/".join(out)


_resolved = {}


def _numeric(host):
    if ":" in host:
        return True  # IPv6
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def _resolve(host, port):
    # A host name's address, looked up as MicroPython's asyncio does
    # (socket.getaddrinfo, which blocks); numeric hosts need no lookup.
    if _numeric(host):
        return host
    key = host.lower()
    if key in _resolved:
        return _resolved[key]
    import socket

    try:
        ai = socket.getaddrinfo(host, port)
    except OSError as e:
        raise ClientConnectorError(-60, "%s: cannot resolve (%s)" % (host, e))
    if not ai:
        raise ClientConnectorError(-60, "%s: cannot resolve" % host)
    sa = ai[0][-1]
    if isinstance(sa, tuple):  # the esp32 port: ('10.0.0.2', 80)
        ip = sa[0]
    else:  # the unix port: a raw sockaddr
        fam, addr = socket.sockaddr(sa)[:2]
        ip = socket.inet_ntop(fam, addr)
    if len(_resolved) > 16:
        _resolved.clear()
    _resolved[key] = ip
    return ip


# --- timeouts ---------------------------------------------------------------


class ClientTimeout:
    """total: the whole request, redirects included; connect / sock_connect:
    name lookup and TCP connect; sock_read: the longest silence of the
    server while an answer is awaited. Seconds; None: linger's default (no
    total limit, 10 s to connect, 30 s of silence)."""

    def __init__(self, total=None, connect=None, sock_read=None, sock_connect=None, ceil_threshold=5):
        self.total = total
        self.connect = connect
        self.sock_read = sock_read
        self.sock_connect = sock_connect


def _ms(s):
    return 0 if s is None else max(1, int(s * 1000))


# --- the answer -------------------------------------------------------------


class StreamReader:
    """resp.content: the body as it arrives."""

    def __init__(self, resp):
        self._r = resp
        self._buf = b""
        self._eof = False

    async def _more(self, n=-1):
        if self._eof:
            return b""
        try:
            b = await linger.body(self._r._call, n)
        except OSError:
            raise _error(self._r._call, self._r.url)
        if not b:
            self._eof = True
            self._r.release()
        return b

    def at_eof(self):
        return self._eof and not self._buf

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

    async def readany(self):
        return await self.read(_HIGH_WATER)

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

    def iter_chunked(self, n):
        return _Chunks(self, n)

    def iter_any(self):
        return _Chunks(self, _HIGH_WATER)


class _Chunks:
    def __init__(self, reader, n):
        self.reader = reader
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        b = await self.reader.read(self.n)
        if not b:
            raise StopAsyncIteration
        return b


class ClientResponse:
    def __init__(self, method, url, call, history, request_headers):
        self.method = method
        self.url = url
        self._call = call
        self.status = call.status
        self.reason = call.reason
        self.version = HttpVersion11 if call.version else HttpVersion10
        self.headers = CIMultiDict(call.headers or ())
        self.history = tuple(history)
        self.request_info = RequestInfo(url, method, request_headers)
        self.content = StreamReader(self)
        self._body = None
        self._released = False

    @property
    def ok(self):
        return self.status < 400

    @property
    def content_type(self):
        ct = self.headers.get("Content-Type")
        return ct.split(";")[0].strip().lower() if ct else "application/octet-stream"

    @property
    def charset(self):
        ct = self.headers.get("Content-Type") or ""
        for p in ct.split(";")[1:]:
            p = p.strip()
            if p.lower().startswith("charset="):
                return p[8:].strip('"')
        return None

    @property
    def content_length(self):
        return self._call.content_length

    async def read(self):
        """The whole body, read by its framing."""
        if self._body is None:
            if self.content._buf or self.content._eof:
                self._body = await self.content.read()
            else:
                try:
                    self._body = await linger.body_all(self._call)
                except OSError:
                    raise _error(self._call, self.url)
                self.content._eof = True
            self.release()
        return self._body

    async def text(self, encoding=None, errors="strict"):
        return _decode(await self.read(), encoding or self.charset)

    async def json(self, encoding=None, loads=_json.loads, content_type="application/json"):
        body = await self.read()
        if content_type and "json" not in self.content_type:
            raise ContentTypeError(self.request_info, self.history, self.status, "Attempt to decode JSON with unexpected mimetype: %s" % self.content_type, self.headers)
        if not body.strip():
            return None
        return loads(_decode(body, encoding or self.charset))

    def raise_for_status(self):
        if self.status >= 400:
            self.release()
            raise ClientResponseError(self.request_info, self.history, self.status, self.reason or "", self.headers)

    def release(self):
        # Done with it: what the server still sends of the body is read and
        # dropped (the connection is kept when that is little), never reset.
        if not self._released:
            self._released = True
            self._call.release()

    def close(self):
        self.release()

    @property
    def closed(self):
        return self._released

    async def wait_for_close(self):
        self.release()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *args):
        self.release()

    def __repr__(self):
        return "<ClientResponse(%s) [%d %s]>" % (self.url, self.status, self.reason)


def _decode(b, encoding):
    # MicroPython decodes UTF-8 (and its ASCII subset) only, and knows it
    # by one name.
    e = (encoding or "utf-8").lower().replace("_", "-")
    if e in ("utf-8", "utf8", "ascii", "us-ascii"):
        return b.decode()
    return b.decode(e)


class _RequestContextManager:
    # `async with session.get(url) as resp:` and `resp = await session.get(url)`
    def __init__(self, coro):
        self._coro = coro
        self._resp = None

    def __iter__(self):  # MicroPython's await is `yield from`
        return self._coro

    __await__ = __iter__

    async def __aenter__(self):
        self._resp = await self._coro
        return self._resp

    async def __aexit__(self, *args):
        if self._resp:
            self._resp.release()


# --- the session ------------------------------------------------------------


def _pairs(headers):
    if headers is None:
        return []
    if hasattr(headers, "items"):
        return list(headers.items())
    return list(headers)


def _has(pairs, name):
    name = name.lower()
    for k, _ in pairs:
        if k.lower() == name:
            return True
    return False


def _merge(base, extra):
    # extra's fields replace base's of the same name
    if not extra:
        return list(base)
    out = [(k, v) for k, v in base if not _has(extra, k)]
    out.extend(extra)
    return out


_REDIRECTS = (301, 302, 303, 307, 308)


class ClientSession:
    """Connections are kept per origin and reused (HTTP/1.1 keep-alive);
    close the session (or use `async with`) to close them."""

    def __init__(self, base_url=None, headers=None, timeout=None, version=HttpVersion11, raise_for_status=False, cookies=None, connector=None, json_serialize=_json.dumps, max_conns_per_origin=0, **kwargs):
        self._base_url = base_url.rstrip("/") if base_url else ""
        self._headers = [(k, str(v)) for k, v in _pairs(headers)]
        self._timeout = timeout or ClientTimeout()
        self._version = version
        self._raise_for_status = raise_for_status
        self._json_serialize = json_serialize
        self._max_conns = max_conns_per_origin
        self._client = None
        self._closed = False

    def _cli(self):
        if self._closed:
            raise RuntimeError("Session is closed")
        if self._client is None:
            linger.loop()
            t = self._timeout
            self._client = _linger.Client(
                connect_timeout=_ms(t.sock_connect or t.connect),
                read_timeout=_ms(t.sock_read),
                max_conns_per_origin=self._max_conns,
                no_keep_alive=self._version == HttpVersion10,
                user_agent="MicroPython aiohttp/linger-" + _linger.version,
            )
        return self._client

    @property
    def closed(self):
        return self._closed

    async def close(self):
        if not self._closed:
            self._closed = True
            if self._client is not None:
                self._client.close()  # gracefully, in the background
                self._client = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *args):
        await self.close()

    def request(self, method, url, **kwargs):
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def put(self, url, **kwargs):
        return self.request("PUT", url, **kwargs)

    def patch(self, url, **kwargs):
        return self.request("PATCH", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def head(self, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def options(self, url, **kwargs):
        return self.request("OPTIONS", url, **kwargs)

    async def _request(self, method, url, params=None, data=None, json=None, headers=None, allow_redirects=True, max_redirects=10, timeout=None, raise_for_status=None, expect100=False, ssl=None, auth=None, max_body=0, **kwargs):
        method = method.upper()
        if self._base_url and "://" not in url:
            url = self._base_url + ("" if url.startswith("/") else "/") + url
        if params:
            url += ("&" if "?" in url else "?") + _form(params)
        hdrs = _merge(self._headers, [(k, str(v)) for k, v in _pairs(headers)])
        body = None
        if json is not None:
            body = self._json_serialize(json).encode()
            if not _has(hdrs, "Content-Type"):
                hdrs.append(("Content-Type", "application/json"))
        elif data is not None:
            if isinstance(data, str):
                body = data.encode()
                ctype = "text/plain; charset=utf-8"
            elif isinstance(data, (bytes, bytearray, memoryview)):
                body = bytes(data)
                ctype = "application/octet-stream"
            else:  # a dict or pairs: a form
                body = _form(data).encode()
                ctype = "application/x-www-form-urlencoded"
            if not _has(hdrs, "Content-Type"):
                hdrs.append(("Content-Type", ctype))
        if auth is not None:
            hdrs = _merge(hdrs, [("Authorization", auth.encode())])
        flags = _linger.FETCH_EXPECT_CONTINUE if expect100 else 0
        t = timeout if timeout is not None else self._timeout
        total = t.total if isinstance(t, ClientTimeout) else t
        import time

        start = time.ticks_ms()
        history = []
        cli = self._cli()
        while True:
            scheme, userinfo, host, port, target = _split(url)
            if scheme != "http":
                raise ClientConnectorError(-42, "%s: only http:// (no TLS in this build)" % url)
            h = list(hdrs)
            if userinfo and not _has(h, "Authorization"):
                h.append(("Authorization", BasicAuth.from_userinfo(userinfo).encode()))
            if not _has(h, "Host"):
                default = 80
                hp = "[%s]" % host if ":" in host else host
                h.append(("Host", hp if port == default else "%s:%d" % (hp, port)))
            ip = _resolve(host, port)
            lurl = "http://%s:%d%s" % ("[%s]" % ip if ":" in ip else ip, port, target)
            left = 0
            if total:
                left = int(total * 1000) - time.ticks_diff(time.ticks_ms(), start)
                if left <= 0:
                    raise asyncio.TimeoutError("%s: timed out" % url)
            call = cli.fetch(method, lurl, h, body, flags, left, max_body, _HIGH_WATER)
            try:
                await linger.head(call)
            except BaseException:
                call.release()
                raise
            if not call.head_done or not call.status:
                raise _error(call, url)
            resp = ClientResponse(method, url, call, history, h)
            location = resp.headers.get("Location")
            if allow_redirects and call.status in _REDIRECTS and location:
                resp.release()
                history.append(resp)
                if len(history) > max_redirects:
                    raise TooManyRedirects(resp.request_info, tuple(history), call.status, "Too many redirects", resp.headers)
                new = _join(url, location)
                if call.status == 303 and method != "HEAD" or call.status in (301, 302) and method == "POST":
                    method = "GET"
                    body = None
                    hdrs = [(k, v) for k, v in hdrs if k.lower() not in ("content-type", "content-length")]
                if _origin(new) != _origin(url):
                    hdrs = [(k, v) for k, v in hdrs if k.lower() not in ("authorization", "cookie", "host")]
                url = new
                continue
            check = self._raise_for_status if raise_for_status is None else raise_for_status
            if check:
                resp.raise_for_status()
            return resp


class BasicAuth:
    """Basic credentials: `auth=aiohttp.BasicAuth(login, password)`, or a
    userinfo in the URL (http://user:pw@host/)."""

    def __init__(self, login, password="", encoding="latin1"):
        self.login = login
        self.password = password

    @classmethod
    def from_userinfo(cls, userinfo):
        parts = userinfo.split(":", 1)
        return cls(_unquote(parts[0]), _unquote(parts[1]) if len(parts) > 1 else "")

    def encode(self):
        import binascii

        raw = ("%s:%s" % (self.login, self.password)).encode()
        return "Basic " + binascii.b2a_base64(raw).decode().strip()


def _unquote(s):
    if "%" not in s:
        return s
    b = s.encode()
    out = bytearray()
    i = 0
    while i < len(b):
        if b[i] == 37 and i + 2 < len(b):
            out.append(int(b[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(b[i])
            i += 1
    return bytes(out).decode()


class request:
    """aiohttp.request(method, url, **kwargs): one request on a session of
    its own, as an async context manager."""

    def __init__(self, method, url, **kwargs):
        self._args = (method, url, kwargs)
        self._session = None
        self._resp = None

    async def __aenter__(self):
        method, url, kwargs = self._args
        self._session = ClientSession()
        self._resp = await self._session._request(method, url, **kwargs)
        return self._resp

    async def __aexit__(self, *args):
        if self._resp:
            self._resp.release()
        await self._session.close()
