"""Python's http.server wrapped in ssl, for the TLS client's interop tests
(test_tls_client.py). Prints its port. HTTP/1.1 with Content-Length (kept
alive) unless a route says otherwise.

  py_tls_server.py CERT KEY [--plain] [--aiohttp] [--client-ca CA]

  GET  /hello                    "hello from python"
  POST /echo                     the body back
  GET  /close-delimited?n=N&notify=0|1
                                 HTTP/1.0, no length: N pattern bytes, then the
                                 end of the connection, with close_notify or
                                 without (a truncation the client must report)
  GET  /length-no-notify         a Content-Length answer, then a close without
                                 close_notify (complete by its framing)
  GET  /session                  "reused=0|1": did this connection resume a
                                 TLS session? (Connection: close)

--client-ca CA asks for a client certificate signed by CA (mutual TLS), and
/whoami answers its subject's CN. --plain serves the same without TLS; --aiohttp serves /hello, /echo, a
chunked /chunked?n=N and /download?n=N with aiohttp's server instead.
"""
import socket
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PATTERN = bytes((ord("a") + i % 26) for i in range(1 << 20))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body, close=False):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def end_without_notify(self):
        """Close the socket under TLS: no close_notify goes out."""
        self.close_connection = True
        raw = socket.socket(fileno=self.connection.detach())
        raw.shutdown(socket.SHUT_WR)
        raw.close()

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/hello":
            self.answer(b"hello from python")
        elif url.path == "/close-delimited":
            n = int(q.get("n", ["1000"])[0])
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
            self.wfile.write(PATTERN[:n])
            self.wfile.flush()
            if q.get("notify", ["1"])[0] == "1":
                self.close_connection = True
                try:
                    self.connection.unwrap()
                except (OSError, ValueError):
                    pass
            else:
                self.end_without_notify()
        elif url.path == "/length-no-notify":
            self.answer(b"framed", close=True)
            self.end_without_notify()
        elif url.path == "/whoami":
            peer = self.connection.getpeercert() or {}
            cn = [v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"]
            self.answer(("cn=%s\n" % (cn[0] if cn else "-")).encode())
        elif url.path == "/session":
            reused = getattr(self.connection, "session_reused", False)
            self.answer(b"reused=%d\n" % reused, close=True)
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.answer(body)


def serve_http(cert, key, plain, client_ca=None):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if not plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def serve_aiohttp(cert, key):
    import asyncio
    from aiohttp import web

    async def hello(request):
        return web.Response(text="hello from aiohttp")

    async def echo(request):
        return web.Response(body=await request.read())

    async def chunked(request):
        n = int(request.query.get("n", "100000"))
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for off in range(0, n, 7000):
            await resp.write(PATTERN[off:min(n, off + 7000)])
        await resp.write_eof()
        return resp

    async def download(request):
        n = int(request.query.get("n", "1000"))
        return web.Response(body=PATTERN[:n])

    async def main():
        app = web.Application(client_max_size=4 << 20)
        app.add_routes([web.get("/hello", hello), web.post("/echo", echo),
                        web.get("/chunked", chunked), web.get("/download", download)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__":
    cert, key = sys.argv[1], sys.argv[2]
    if "--aiohttp" in sys.argv:
        serve_aiohttp(cert, key)
    else:
        ca = sys.argv[sys.argv.index("--client-ca") + 1] if "--client-ca" in sys.argv else None
        serve_http(cert, key, "--plain" in sys.argv, ca)
