#!/usr/bin/env python3
"""A proxy for the tests of installs from a URL: it passes HTTP between a
client and the server, and breaks the answers the way a flaky link or a
changing server does, counting the bytes of each answer (headers too).

usage: url_proxy.py PORT UPSTREAM-PORT MODE [ARGS]
  pass                        passes everything
  drop BYTES TIMES            the first TIMES connections are cut after
                              BYTES of their answer; later ones pass
  stall BYTES                 the first answer stops after BYTES, later
                              ones send nothing; the connections are held
                              open, silent
  replace BYTES NEW SERVED    the first connection is cut after BYTES; before
                              the cut, NEW is renamed over SERVED (the file
                              changes on the server); later ones pass
  norange BYTES               the first connection is cut after BYTES; later
                              requests lose their Range header (the server
                              answers with the whole file, 200)
"""
import os
import socket
import sys
import threading

port, upstream = int(sys.argv[1]), int(sys.argv[2])
mode, args = sys.argv[3], sys.argv[4:]
lock = threading.Lock()
connections = 0


def read_request(client):
    """The request's head (a GET has no body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data


def without_range(request):
    head, _, rest = request.partition(b"\r\n\r\n")
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"range:")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + rest


def plan(number):
    """(bytes after which the answer stops or None, stall?, action at the cut)"""
    if mode == "drop" and number <= int(args[1]):
        return int(args[0]), False, None
    if mode == "stall":
        return int(args[0]) if number == 1 else 0, True, None
    if mode == "replace" and number == 1:
        return int(args[0]), False, lambda: os.replace(args[1], args[2])
    if mode == "norange" and number == 1:
        return int(args[0]), False, None
    return None, False, None


def forward(server, client, limit, stall, action):
    """Passes the answer on, up to limit bytes (None: all of it); then the
    action, then silence until the client goes (stall) or the cut."""
    sent = 0
    while limit is None or sent < limit:
        chunk = server.recv(65536)
        if not chunk:
            return
        if limit is not None:
            chunk = chunk[: limit - sent]
        client.sendall(chunk)
        sent += len(chunk)
    if action:
        action()
    if stall:
        client.recv(1)


def serve(client):
    global connections
    request = read_request(client)
    if request is None:  # a look whether we listen, or a client gone
        client.close()
        return
    with lock:
        connections += 1
        number = connections
    limit, stall, action = plan(number)
    if mode == "norange" and number > 1:
        request = without_range(request)
    server = socket.create_connection(("127.0.0.1", upstream))
    server.sendall(request)
    forward(server, client, limit, stall, action)
    server.close()
    client.close()


def serve_quietly(client):
    """A client that goes away is no error of ours."""
    try:
        serve(client)
    except OSError:
        client.close()


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve_quietly, args=(client,), daemon=True).start()


main()
