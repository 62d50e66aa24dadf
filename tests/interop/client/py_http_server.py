"""Python's http.server for the client's interop tests: files from a
directory (HTTP/1.1 with Content-Length, so connections are kept alive),
and scripted answers that servers in the wild give. Prints its port.

  GET /close-delimited?n=     HTTP/1.0, no length: the body ends at the close
  GET /close-delimited-reset  the same, ended by RST instead of FIN
  GET /garbage                a malformed status line
  GET /bighead                a 20 KB header field
  GET /silent                 nothing, for 10 s
  GET /noresponse             the connection closed without an answer
  GET /conflict               two different Content-Length values
  GET /badchunk               a chunk size that is not hex
"""
import socket
import struct
import sys
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PATTERN = bytes((ord("a") + i % 26) for i in range(1 << 20))


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/close-delimited":
            n = int(q.get("n", ["100000"])[0])
            self.raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + PATTERN[:n])
        elif url.path == "/close-delimited-reset":
            self.raw(b"HTTP/1.0 200 OK\r\n\r\n" + PATTERN[:50000])
            time.sleep(0.2)  # the bytes are with the client
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.reset_requests.add(id(self.connection))
        elif url.path == "/garbage":
            self.raw(b"HTTP/1.1 2xx Nope\r\n\r\n")
        elif url.path == "/bighead":
            self.raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 20000 + b"\r\nContent-Length: 0\r\n\r\n")
        elif url.path == "/silent":
            time.sleep(10)
            self.close_connection = True
        elif url.path == "/noresponse":
            self.close_connection = True
        elif url.path == "/conflict":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        elif url.path == "/badchunk":
            self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nhello\r\n0\r\n\r\n")
        else:
            super().do_GET()


class Server(ThreadingHTTPServer):
    """socketserver sends FIN (shutdown) before closing; a reset must come
    without one, so those requests are closed with SO_LINGER 0 alone."""

    def __init__(self, *args):
        super().__init__(*args)
        self.reset_requests = set()

    def shutdown_request(self, request):
        if id(request) in self.reset_requests:
            self.reset_requests.discard(id(request))
            request.close()
            return
        super().shutdown_request(request)


def main():
    root = sys.argv[1]
    server = Server(("127.0.0.1", 0), partial(Handler, directory=root))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
