"""follow: lag from a line's write to its arrival through `sbx logs -f`, against `tail -F`."""
import os
import select
import subprocess
import time

from lib import BenchError
from lib.ready import py
from lib.report import fmt_ms, line, note, record, verdict
from lib.stats import median, p90

NAME = "follow"
NEEDS = ()

# The child stamps each line with CLOCK_REALTIME (time.time_ns()); the bench stamps arrival
# with the same clock.
WRITER_PY = ("import sys, time\n"
             "time.sleep(float(sys.argv[1]))\n"
             "for i in range(int(sys.argv[2])):\n"
             "    sys.stdout.write(f'{i} {time.time_ns()}\\n')\n"
             "    sys.stdout.flush()\n"
             "    time.sleep(float(sys.argv[3]))\n")


def read_stamped(p, want, timeout):
    """Read `i STAMP_NS` lines from p.stdout (raw fd, select), stamping each chunk's
    arrival with time.time_ns(); returns the lags in seconds."""
    fd = p.stdout.fileno()
    buf, lags = b"", []
    deadline = time.monotonic() + timeout
    while len(lags) < want:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        now = time.time_ns()
        if not chunk:
            break
        buf += chunk
        *done, buf = buf.split(b"\n")
        for ln in done:
            parts = ln.split()
            if len(parts) == 2 and parts[1].isdigit():
                lags.append((now - int(parts[1])) / 1e9)
    return lags


def run(ctx):
    n_lines, gap, settle = 50, 0.02, 0.5
    reps = 1 if ctx.quick else 3
    sbx_lags, tail_lags = [], []
    writer = [*py(), "-c", WRITER_PY, str(settle), str(n_lines), str(gap)]
    with ctx.home() as h:
        h.run("ps")
        state = h.state_dir()

        def run_sbx():
            pid_id = h.start(*writer)
            p = subprocess.Popen(h.argv("logs", "-f", pid_id, "--stdout"), env=h.env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            try:
                lags = read_stamped(p, n_lines, settle + n_lines * gap + 20)
                try:
                    rc = p.wait(timeout=10)
                    if rc != 0:
                        note(f"`sbx logs -f {pid_id}`: expected exit 0, got {rc}")
                except subprocess.TimeoutExpired:
                    note(f"`sbx logs -f {pid_id}`: expected it to end with the process; "
                         f"still running 10 s later")
            finally:
                if p.poll() is None:
                    p.kill()
                p.wait()
                p.stdout.close()
            if len(lags) != n_lines:
                note(f"`sbx logs -f {pid_id}`: expected {n_lines} lines, got {len(lags)}")
            sbx_lags.extend(lags)

        def run_tail():
            pid_id = h.start(*writer)
            path = os.path.join(state, "logs", f"{pid_id}.stdout")
            p = subprocess.Popen(["tail", "-n", "+1", "-F", path], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                lags = read_stamped(p, n_lines, settle + n_lines * gap + 20)
            finally:
                p.kill()                 # our own child, by its pid
                p.wait()
                p.stdout.close()
            h.run("wait", pid_id, check=False)
            if len(lags) != n_lines:
                raise BenchError(f"tail -F {path}: expected {n_lines} lines, got {len(lags)}")
            tail_lags.extend(lags)

        for i in range(reps):
            for fn in ((run_sbx, run_tail) if i % 2 == 0 else (run_tail, run_sbx)):
                fn()
    if not sbx_lags:
        raise BenchError("no line arrived through `sbx logs -f`")
    m, fm = median(sbx_lags), median(tail_lags)
    label = "follow lag, `sbx logs -f`"
    line(label, f"median {fmt_ms(m)}",
         f"p90 {fmt_ms(p90(sbx_lags))}", f"floor (tail -F) {fmt_ms(fm)} p90 {fmt_ms(p90(tail_lags))}",
         f"x{m / fm:.1f}", f"n={len(sbx_lags)}", verdict(m, 0.5e-3, "0.5 ms"),
         "(tail -F ~0.2 ms, pm2 logs ~0.9 ms, supervisorctl tail -f ~50 ms)")
    record(label, m, "s", p90=p90(sbx_lags), n=len(sbx_lags), floor=fm, floor_p90=p90(tail_lags),
           ratio=m / fm, target=0.5e-3)
