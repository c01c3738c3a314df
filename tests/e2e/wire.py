"""The client side of the sbx wire protocol (src/proto/protocol.hpp), stdlib only: used by the
e2e tests (through harness.py) and by bench/.

  frame = u32 payload length (big-endian) | u8 kind | u8 flags | u16 reserved (0) | payload

A connection carries one request: HELLO, REQUEST, then the daemon's HELLO and a RESPONSE
(or EVENT/DATA frames ending with END for a streaming request).
"""
from __future__ import annotations

import json
import os
import socket
import struct

HELLO, REQUEST, RESPONSE, EVENT, DATA, END = 1, 2, 3, 4, 5, 6
PROTOCOL = 1
HEADER = struct.Struct(">IBBH")


class WireError(Exception):
    """The daemon answered ok=false, or closed the connection before its answer."""


def frame(kind: int, payload: bytes, length: int | None = None, flags: int = 0) -> bytes:
    """One frame; `length` overrides the length field (to send a lying header)."""
    n = len(payload) if length is None else length
    return HEADER.pack(n, kind, flags, 0) + payload


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The whole frames at the start of data, as (kind, payload); a trailing partial one is left out."""
    out = []
    while len(data) >= HEADER.size:
        n, kind, _flags, _zero = HEADER.unpack(data[:HEADER.size])
        if len(data) < HEADER.size + n:
            break
        out.append((kind, data[HEADER.size:HEADER.size + n]))
        data = data[HEADER.size + n:]
    return out


def connect(path: str, timeout: float = 5.0) -> socket.socket:
    """A bare connection to the daemon's socket, every operation bounded by `timeout`."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def call(path: str, op: str, args: dict | None = None, client: str = "sbx-wire", timeout: float = 5.0):
    """Send `op` with `args` on a fresh connection; return the result of its RESPONSE (or END).
    Raises WireError on ok=false or an early close; OSError (socket.timeout too) passes through."""
    hello = {"proto": PROTOCOL, "client": client, "pid": os.getpid()}
    with connect(path, timeout) as s:
        s.sendall(frame(HELLO, json.dumps(hello).encode())
                  + frame(REQUEST, json.dumps({"op": op, "args": args or {}}).encode()))
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise WireError(f"{op}: the daemon closed the connection before answering")
            buf += chunk
            frames = parse_frames(buf)
            buf = buf[sum(HEADER.size + len(p) for _, p in frames):]
            for kind, payload in frames:
                if kind in (RESPONSE, END):
                    reply = json.loads(payload)
                    if not reply.get("ok"):
                        raise WireError(f"{op}: {reply.get('error')}")
                    return reply.get("result")
