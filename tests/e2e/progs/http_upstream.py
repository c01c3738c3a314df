"""A small HTTP/1.1 server for proxy tests and benches: python3 http_upstream.py PORT
[HOST [NAME]] (HOST 127.0.0.1 by default; PORT 0 picks one). Prints "listening PORT".
  GET  /hello        200 "hello from NAME\n" (keep-alive, Content-Length)
  GET  /conn         200, the number of the connection it came on (1, 2, ... in accept order)
  GET  /bye          200 with Content-Length, then the server closes the connection (as a
                     keep-alive timeout would)
  GET  /headers      200, the request head as JSON: {"method", "target", "headers": {lower: value}}
  POST /sha          200, {"length": N, "sha256": HEX} of the body (Content-Length or chunked)
  GET  /big?n=N      N bytes of "x", no length, then close (the proxy must frame it)
  GET  /flood        bytes forever (a client that never reads must not grow the proxy)
  GET  /ws           with "Upgrade: echo": 101, then "hi NAME\n", then each chunk read
                     echoed back upper-cased; a half-close is answered with "bye\n" and a close
"""
import hashlib
import json
import socket
import sys
import threading

port = int(sys.argv[1])
host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
name = sys.argv[3] if len(sys.argv) > 3 else "upstream"


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return (method, target, headers), rest


def read_body(conn, headers, rest, sink):
    """Feeds the body to sink(bytes); returns the bytes after it."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        buf = rest
        while True:
            while b"\r\n" not in buf:
                buf += conn.recv(65536)
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += conn.recv(65536)
            if size == 0:
                while b"\r\n" not in buf:  # no trailers expected: the final CRLF
                    buf += conn.recv(65536)
                return buf.partition(b"\r\n")[2]
            sink(buf[:size])
            buf = buf[size + 2:]
    left = int(headers.get("content-length", "0"))
    buf = rest
    while left > 0:
        if not buf:
            buf = conn.recv(65536)
            if not buf:
                return b""
        piece, buf = buf[:left], buf[left:]
        sink(piece)
        left -= len(piece)
    return buf


def reply(conn, status, body, ctype="text/plain"):
    conn.sendall(b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                 % (status.encode(), ctype.encode(), len(body)) + body)


def tunnel(conn, rest):
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
    conn.sendall(b"hi " + name.encode() + b"\n")
    if rest:
        conn.sendall(rest.upper())
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            conn.sendall(b"bye\n")
            return
        conn.sendall(chunk.upper())


def serve(conn, number):
    buf = b""
    with conn:
        while True:
            req, buf = read_head(conn, buf)
            if req is None:
                return
            method, target, headers = req
            path, _, query = target.partition("?")
            if path == "/ws" and headers.get("upgrade", "").lower() == "echo":
                return tunnel(conn, buf)
            if path == "/sha":
                h, n = hashlib.sha256(), [0]

                def sink(b):
                    h.update(b)
                    n[0] += len(b)
                buf = read_body(conn, headers, buf, sink)
                reply(conn, "200 OK", json.dumps({"length": n[0], "sha256": h.hexdigest()}).encode(),
                      "application/json")
            elif path == "/conn":
                reply(conn, "200 OK", b"%d" % number)
            elif path == "/bye":
                reply(conn, "200 OK", b"bye\n")
                return
            elif path == "/headers":
                buf = read_body(conn, headers, buf, lambda b: None)
                reply(conn, "200 OK", json.dumps({"method": method, "target": target,
                                                  "headers": headers}).encode(), "application/json")
            elif path == "/big":
                n = int(query.partition("=")[2] or "0")
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                block = b"x" * 65536
                while n > 0:
                    conn.sendall(block[:n])
                    n -= min(n, len(block))
                return
            elif path == "/flood":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                block = b"y" * 65536
                while True:
                    conn.sendall(block)
            else:
                buf = read_body(conn, headers, buf, lambda b: None)
                reply(conn, "200 OK", b"hello from " + name.encode() + b"\n")
            if headers.get("connection", "").lower() == "close":
                return


family = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(128)
print("listening", s.getsockname()[1], flush=True)
accepted = 0
while True:
    c, _ = s.accept()
    accepted += 1
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=serve, args=(c, accepted), daemon=True).start()
