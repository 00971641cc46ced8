#!/usr/bin/env python3
"""A hostile file server for download_e2e.sh: HTTPS with the certificate
given (or plain HTTP without one), on 127.0.0.1 at a free port, printed as
the first line of stdout. Every path is answered:
  /big*   BIG bytes, announced in Content-Length
  /grow*  BIG bytes, no Content-Length (the body ends with the connection)
  else    SMALL bytes of 'x', announced
and every request's path is appended to LOG.
  download_peer.py LOG BIG SMALL [CERT KEY]"""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        with open(sys.argv[1], "a") as f:
            f.write(self.path + "\n")

    def body(self, n, announce):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if announce:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            while n > 0:
                self.wfile.write(chunk[: min(n, len(chunk))])
                n -= min(n, len(chunk))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def do_GET(self):
        big, small = int(sys.argv[2]), int(sys.argv[3])
        if self.path.startswith("/big"):
            self.body(big, True)
        elif self.path.startswith("/grow"):
            self.body(big, False)
        else:
            self.body(small, True)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if len(sys.argv) > 5:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
