#!/usr/bin/env python3
"""A TLS front for the legacy-store in the end-to-end tests: terminates https on 127.0.0.1 with the given
certificate and forwards each request, unchanged, to the plain-http legacy-store.

Usage: tls_proxy.py CERT.pem KEY.pem BACKEND_URL   (prints `listening on 127.0.0.1:PORT`)
"""
import http.server
import ssl
import sys
import urllib.error
import urllib.request

cert, key, backend = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/")


class Forward(http.server.BaseHTTPRequestHandler):
    def relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(backend + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status, reply_headers, payload = reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as err:
            status, reply_headers, payload = err.code, err.headers, err.read()
        self.send_response(status)
        for name, value in reply_headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = relay

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
