#!/usr/bin/env python3
"""Writes the seed corpus under tests/fuzz/corpus/<target>/ (run from anywhere; the
output is committed, so run it again only to change the seeds).

fuzz_frame and fuzz_line_matcher read their inputs through FuzzedDataProvider, which takes
bytes from the front and integers from the back: each seed is the byte stream followed by
the chunk lengths (reversed) and the selector bytes, so that it splits where intended."""
import json
import pathlib
import struct

root = pathlib.Path(__file__).resolve().parent / "corpus"


def frame(kind, payload, flags=0):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload, separators=(",", ":"))
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">IBBH", len(payload), kind, flags, 0) + payload


def split_trailer(stream, sizes, selectors):
    assert sum(sizes) == len(stream) and all(1 <= s <= 64 for s in sizes), sizes
    return stream + bytes(reversed(sizes)) + bytes(reversed(selectors))


def chunks(n, step):
    out = []
    while n > 0:
        out.append(min(step, n))
        n -= out[-1]
    return out


def write(target, name, data):
    d = root / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


# fuzz_frame: selector = control cap index (0: the daemon's 1 MiB).
streams = {
    "hello_request": frame(1, {"proto": 1, "client": "sbx 0.1.0", "pid": 42})
    + frame(2, {"op": "start", "args": {"id": "web", "argv": ["sh", "-c", "echo hi"], "env": {"A": "1"}}}),
    "ok_reply": frame(1, {"proto": 1, "server": "sbxd 0.1.0", "pid": 7})
    + frame(3, {"ok": True, "result": {"id": "web", "status": "running", "pid": 1234}}),
    "error_reply": frame(3, {"ok": False, "error": {"code": "not_found", "message": "no process 'x'"}}),
    "logs_stream": frame(4, {"type": "exit", "exit_code": 0})
    + frame(5, "line one\nline two\n", 1) + frame(5, "oops\n", 2) + frame(6, {"ok": True, "result": None}),
    "bad_kind": frame(9, "{}"),
    "oversized": struct.pack(">IBBH", 0x00200000, 2, 0, 0) + b"{",
    "bad_json": frame(2, '{"op":"start","args":{"id":'),
    "chunk": frame(7, struct.pack(">II", 0, 2) + struct.pack(">qI", 1_800_000_000_000_000_000, 3)
                   + struct.pack(">qI", 1_800_000_000_000_001_000, 4) + b"ab\ncd\n", 1),
}
for i, (name, s) in enumerate(streams.items()):
    step = [64, 7, 1, 13][i % 4]
    write("fuzz_frame", name, split_trailer(s, chunks(len(s), step), [0]))

# fuzz_record: TOML records as record_to_toml writes them, and JSON as the daemon sends them.
write("fuzz_record", "completed.toml", """schema_version = 1
id = "web-1"
status = "completed"
command = "sh -c 'echo hi'"
argv = [ "sh", "-c", "echo hi" ]
cwd = "/tmp"
session = "default"
pid = 4242
pid_start_ticks = 123456
waiter_pid = 4241
start_time = 2026-11-26T10:31:02.123Z
end_time = 2026-11-26T10:31:03Z
exit_code = 0
auto_cleanup = false
restart = "no"
restarts = 0

[env]
FOO = "bar"
"WITH SPACE" = "x\\ty"
""")
write("fuzz_record", "killed.toml", """schema_version = 1
id = "job"
status = "killed"
command = "sleep 100"
argv = [ "sleep", "100" ]
cwd = "/"
session = "ci"
signal = "SIGTERM"
reason = "timeout"
timeout_ms = 5000
start_time = "2026-01-01T00:00:00.5+01:30"
restart = "on-failure"
max_restarts = 3
restarts = 2

[env]
""")
# Byte strings that are not UTF-8: { base64 = "..." } where a string would be, and bad tags.
write("fuzz_record", "bytes.toml", """schema_version = 1
id = "lat"
status = "running"
command = { base64 = "cHJpbnRmICVzICfpdOkn" }
argv = [
    "printf",
    "%s",
    { base64 = "6XTp" },
    "caf\\u00E9",
    { base64 = "Zg" },
    { base64 = "6XTp", extra = 1 },
]
cwd = { base64 = "L3RtcC9k6Wrg" }
session = { base64 = "c+lzcw==" }
error = { base64 = "//4=" }
pid = 77

[env]
LAT = { base64 = "4CBsYQ==" }
TEXT = "plain"
BAD = { hex = "e9" }
""")
write("fuzz_record", "bytes.json", json.dumps({
    "id": "lat", "status": "completed", "command": {"base64": "cHJpbnRmICVzICfpdOkn"},
    "argv": ["printf", {"base64": "6XTp"}, {"base64": "Zg="}, {"base64": 5}], "cwd": {"base64": "L3RtcC9k6Wrg"},
    "env": {"LAT": {"base64": "4CBsYQ=="}, "TEXT": "plain"}, "session": {"base64": "c+lzcw=="},
    "error": {"base64": "//4=", "x": 1}, "exit_code": 0}))
write("fuzz_record", "error.toml", 'id = "e"\nstatus = "error"\nerror = "exec: No such file"\nrestarts = 1e300\npid = nan\n')
write("fuzz_record", "record.json", json.dumps({
    "id": "web-1", "command": "sh -c 'echo hi'", "argv": ["sh", "-c", "echo hi"], "cwd": "/tmp",
    "env": {"FOO": "bar"}, "session": "default", "pid": 4242, "status": "failed",
    "start_time": "2026-11-26T10:31:02.123Z", "end_time": "2026-11-26T10:31:03.000Z",
    "exit_code": 3, "auto_cleanup": True, "restart": "always", "restarts": 18446744073709551615}))

# fuzz_project: sbx.toml files with every key, and Procfiles.
write("fuzz_project", "full.toml", """project = "shop"

[process.db]
command = "postgres -D data"
cwd = "db"
env = { PGPORT = "5433" }
env_file = ".env"
restart = "on-failure"
max_restarts = 3
timeout = "30m"
log_max = "64M"
tty = false
ready = { log = "ready to accept connections", timeout = "60s" }

[process.api]
command = ["./api", "--port", "8000"]
depends_on = { db = "ready" }
ready = { port = 8000, http = "/health", status = "200-299" }

[process.migrate]
command = "./migrate"
depends_on = { db = "started" }
ready = { exec = "pg_isready -p 5433", interval = "250ms" }

[process.tests]
command = "make test"
depends_on = { api = "ready", migrate = "completed" }
ready = { log = 'listening on (\\d+)', regex = true }
""")
write("fuzz_project", "cycle.toml", """[process.a]
command = "x"
depends_on = { b = "ready" }
[process.b]
command = "y"
depends_on = { a = "completed" }
""")
write("fuzz_project", "Procfile", "# app\nweb: python3 -m http.server 8000\nworker: ./work --fast\n")

# fuzz_line_matcher: pattern (terminated by backslash + 'n', FuzzedDataProvider's
# ConsumeRandomLengthString convention), stream; selectors: regex?, fixed-regex index.
lines = {
    "substring": (b"ready", b"starting\r\nstill starting\nserver ready on :8080\n", 0, 0),
    "regex_port": (b"(\\d+", b"boot\nlistening on port 8080\r\n", 1, 0),
    "regex_kv": (b"[a-z]+=\\\\d", b"x=1\ny=\nno newline at end key=value", 1, 2),
    "crlf_tail": (b"", b"\r", 0, 0),
    "long_line": (b"needle", b"a" * 300 + b"needle" + b"b" * 100 + b"\nrest\n", 0, 0),
}
for i, (name, (pat, stream, is_regex, idx)) in enumerate(lines.items()):
    step = [5, 64, 1, 9, 33][i % 5]
    data = pat + b"\\n" + split_trailer(stream, chunks(len(stream), step), [is_regex, idx])
    write("fuzz_line_matcher", name, data)

# fuzz_log_index: blocks to cut, hole?, split (u16, FuzzedDataProvider takes integers from
# the end of the input), then the index: entries as sbx-shim writes them (log_index.hpp).
def entry(seq, offset, time_ns, length, stream, version=1):
    return struct.pack("=QQqIBBH", seq, offset, time_ns, length, stream, version, 0)


def index(n, start_seq=1):
    out, off = b"", [0, 0]
    for k in range(n):
        s = k % 2
        out += entry(start_seq + k, off[s], 1_800_000_000_000_000_000 + k * 1000, 100, s + 1)
        off[s] += 100
    return out


def log_index_input(body, blocks, hole, split):
    return body + struct.pack("<H", split) + bytes([hole, blocks])


write("fuzz_log_index", "plain", log_index_input(index(10), 0, 0, 160))
write("fuzz_log_index", "torn_end", log_index_input(index(5) + entry(6, 300, 1, 100, 1)[:17], 0, 0, 100))
write("fuzz_log_index", "collapse", log_index_input(index(400), 1, 0, 6400))
write("fuzz_log_index", "hole", log_index_input(b"\0" * 4096 + index(200, 129), 1, 1, 4096))
write("fuzz_log_index", "junk", log_index_input(index(3) + entry(9, 0, 0, 0, 3, 2) + index(3, 4), 0, 0, 0))
