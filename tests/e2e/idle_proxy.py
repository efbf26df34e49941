#!/usr/bin/env python3
"""A TCP front for the legacy-store in the end-to-end tests that closes a client connection once it has been idle
for IDLE seconds, as load balancers and reverse proxies do with kept-alive connections. Each connection it accepts
is counted in COUNT_FILE, so a test can tell a kept-alive connection from a new one.

Usage: idle_proxy.py BACKEND_PORT IDLE_SECONDS COUNT_FILE   (prints `listening on 127.0.0.1:PORT`; stops after 10
minutes)
"""
import select
import socket
import sys
import threading
import time

backend_port, idle, count_file = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
accepted = 0
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(16)
print(f"listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)


def relay(client):
    upstream = socket.create_connection(("127.0.0.1", backend_port))
    peer = {client: upstream, upstream: client}
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle:
            readable, _, _ = select.select(list(peer), [], [], 0.05)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                peer[sock].sendall(data)
                last = time.monotonic()
    finally:
        client.close()
        upstream.close()


server.settimeout(1)
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    try:
        connection, _ = server.accept()
    except socket.timeout:
        continue
    accepted += 1
    with open(count_file, "w") as f:
        f.write(str(accepted))
    threading.Thread(target=relay, args=(connection,), daemon=True).start()
