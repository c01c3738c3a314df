"""What `sbx dial-stdio` of another sbx version answers: a daemon HELLO of protocol 99.

Reads the client's HELLO frame from stdin, answers with {"proto":99,"name":"sbxd 9.9.9"},
then waits for stdin to close, as a relay to a real daemon of that version would.
"""
import json
import os
import struct
import sys

header = sys.stdin.buffer.read(8)
if len(header) == 8:
    n = struct.unpack(">IBBH", header)[0]
    sys.stdin.buffer.read(n)
    body = json.dumps({"proto": 99, "name": "sbxd 9.9.9", "pid": os.getpid()}).encode()
    sys.stdout.buffer.write(struct.pack(">IBBH", len(body), 1, 0, 0) + body)
    sys.stdout.buffer.flush()
    sys.stdin.buffer.read()
