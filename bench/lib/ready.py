"""Readiness lag (wait-log, wait-port): a child stamps the moment it is ready, the bench
stamps the wait command's return. Both use CLOCK_REALTIME (time.time_ns())."""
import shlex
import subprocess
import sys
import time

from lib import BenchError
from lib.report import fmt_ms, line, note, record, verdict
from lib.stats import median, p90
from lib.timer import Timer

READY_PY = ("import sys, time\n"
            "time.sleep(float(sys.argv[1]))\n"
            "print('READY', time.time_ns(), flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n")
LISTEN_PY = ("import socket, sys, time\n"
             "time.sleep(float(sys.argv[2]))\n"
             "s = socket.socket()\n"
             "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
             "s.listen(64)\n"
             "t = time.time_ns()\n"
             "print('LISTEN', t, flush=True)\n"
             "time.sleep(float(sys.argv[3]))\n")


def py():
    """This interpreter (not a pyenv shim), without site: the children's python3."""
    return [sys.executable or "python3", "-S"]


def stamp_in(text, word):
    for ln in text.splitlines():
        parts = ln.split()
        if len(parts) == 2 and parts[0] == word and parts[1].isdigit():
            return int(parts[1])
    return None


def ready_lag(h, label, start_cmd, wait_args, find_stamp, reps):
    """Start the child, run the wait command at once, lag = its return - the child's stamp.
    Returns (lags in s, repetitions skipped because the child was ready before the wait)."""
    lags, early = [], 0
    for _ in range(reps):
        pid_id = h.start(*start_cmd())
        argv = h.argv(*wait_args(pid_id), "--timeout", "10s")
        t_launch = time.time_ns()
        try:
            r = subprocess.run(argv, env=h.env, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=h.TIMEOUT)
        except subprocess.TimeoutExpired:
            note(f"`{shlex.join(argv[1:])}`: expected an answer, got none within {h.TIMEOUT} s")
            raise BenchError(f"{label} hung")
        t_ret = time.time_ns()
        if r.returncode != 0:
            note(f"`{shlex.join(argv[1:])}`: expected exit 0, got {r.returncode}: {r.stderr.strip()}")
            continue
        stamp = find_stamp(pid_id, r.stdout)
        if stamp is None:
            raise BenchError(f"{label}: no timestamp from the child {pid_id}")
        if stamp < t_launch:
            early += 1                   # the child was ready before the wait began
            continue
        lags.append((t_ret - stamp) / 1e9)
    if not lags:
        raise BenchError(f"{label}: no valid repetition")
    return lags, early


def lag_line(label, lags, early, limit, limit_text):
    m = median(lags)
    line(label, f"median {fmt_ms(m)}", f"p90 {fmt_ms(p90(lags))}",
         f"n={len(lags)}" + (f" ({early} skipped: ready before the wait)" if early else ""),
         verdict(m, limit, limit_text))
    record(label, m, "s", p90=p90(lags), n=len(lags), skipped=early, target=limit)


def status_reference(ctx, h):
    """The fixed cost of any `sbx` call, timed like the waits; printed once per run."""
    if not ctx.first_time("status-reference"):
        return
    xs = Timer.inprocess(h.argv("status", h.start("true")), 20, h.env, 3)
    label = "  (reference: `sbx status ID` round trip)"
    line(label, f"median {fmt_ms(median(xs))}", f"p90 {fmt_ms(p90(xs))}", "timed the same way", f"n={len(xs)}")
    record(label, median(xs), "s", p90=p90(xs), n=len(xs))
