"""logs-read: `sbx logs -t` (and plain `sbx logs`) of a 1 GiB log (256 MiB with --quick) of
128-byte lines, read through ID.index: time to first byte and total, against `cat` of the
same file (warm page cache for both)."""
import os
import subprocess
import time

from lib import BenchError
from lib.ready import py
from lib.report import fmt_s, line, record
from lib.stats import median

NAME = "logs-read"
NEEDS = ()
MiB = 1 << 20
WRITER_PY = ("import sys\n"
             "l = b'x' * 127 + b'\\n'\n"
             "w = sys.stdout.buffer.write\n"
             "for _ in range(int(sys.argv[1])): w(l)\n")


def timed_read(argv, env=None):
    """(seconds to the first byte, seconds to EOF, bytes) of argv's stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    fd, first, n = p.stdout.fileno(), None, 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - t0
        n += len(chunk)
    rc = p.wait()
    total = time.perf_counter() - t0
    p.stdout.close()
    if rc != 0:
        raise BenchError(f"{' '.join(argv[:3])}...: exit {rc}")
    return first or total, total, n


def run(ctx):
    mib = 256 if ctx.quick else 1024
    reps = 1 if ctx.quick else 3
    with ctx.home() as h:
        h.run("ps")
        state = h.state_dir()
        vfs = os.statvfs(state)
        if vfs.f_bavail * vfs.f_frsize < 2 * mib * MiB:
            line(f"logs -t {mib} MiB", "SKIPPED: not enough free space in " + state)
            return
        pid_id = h.start_log_max(0, *py(), "-c", WRITER_PY, str(mib * MiB // 128))
        h.run("wait", pid_id, timeout=600)
        log = os.path.join(state, "logs", f"{pid_id}.stdout")
        if os.path.getsize(log) != mib * MiB:
            raise BenchError(f"{log}: {os.path.getsize(log)} bytes, expected {mib * MiB}")
        entries = os.path.getsize(os.path.join(state, "logs", f"{pid_id}.index")) // 32
        timed_read(["cat", log])  # warm the page cache
        res = {"cat": [], "logs": [], "logs -t": []}
        for _ in range(reps):
            res["cat"].append(timed_read(["cat", log]))
            res["logs"].append(timed_read(h.argv("logs", pid_id), h.env))
            res["logs -t"].append(timed_read(h.argv("logs", "-t", pid_id), h.env))
    floor_first, floor_total = median([r[0] for r in res["cat"]]), median([r[1] for r in res["cat"]])
    for what in ("logs", "logs -t"):
        first, total = median([r[0] for r in res[what]]), median([r[1] for r in res[what]])
        label = f"`sbx {what}` of {mib} MiB ({entries} index entries)"
        line(label, f"first byte {fmt_s(first)}", f"total {fmt_s(total)}",
             f"floor (cat) first {fmt_s(floor_first)} total {fmt_s(floor_total)}",
             f"x{total / floor_total:.1f}", f"{mib / total:.0f} MiB/s", f"n={reps}")
        record(label, total, "s", first_byte=first, floor=floor_total, floor_first_byte=floor_first,
               ratio=total / floor_total, n=reps)
