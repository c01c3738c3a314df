"""capture: 1 GiB (256 MiB with --quick) of stdout into the log, uncapped and capped, against
the same dd into a file of the same folder."""
import json
import os
import subprocess
import time

from lib import BenchError, proc
from lib.report import fmt_s, line, note, record
from lib.stats import median

NAME = "capture"
NEEDS = ()
MiB, GiB = 1 << 20, 1 << 30
CAP = 64 * MiB                          # the default --log-max


def run(ctx):
    mib = 256 if ctx.quick else 1024
    size = mib * MiB
    reps = 3
    dd = ["dd", "if=/dev/zero", "bs=1M", f"count={mib}", "status=none"]
    with ctx.home() as h:
        h.run("ps")
        state = h.state_dir()
        dpid = h.daemon_pid()
        vfs = os.statvfs(state)
        if vfs.f_bavail * vfs.f_frsize < 2 * size + 256 * MiB:
            line(f"capture {mib} MiB", "SKIPPED: not enough free space in " + state)
            return
        floor_t = []
        runs = {0: dict(t=[], cpu=[], sched=[], size=[], dropped=[]),
                CAP: dict(t=[], cpu=[], sched=[], size=[], dropped=[])}
        floor_file = os.path.join(state, "bench-floor.out")

        def run_floor():
            os.sync()
            fd = os.open(floor_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            try:
                t0 = time.perf_counter()
                r = subprocess.run(dd, stdout=fd, stdin=subprocess.DEVNULL)
                t1 = time.perf_counter()
            finally:
                os.close(fd)
            got = os.path.getsize(floor_file)
            os.unlink(floor_file)
            if r.returncode != 0 or got != size:
                raise BenchError(f"floor dd: exit {r.returncode}, wrote {got} of {size} bytes")
            floor_t.append(t1 - t0)

        def run_sbx(log_max):
            res = runs[log_max]
            os.sync()
            c0, s0 = proc.cpu_ticks(dpid), proc.sched_ns(dpid)
            t0 = time.perf_counter()
            pid_id = h.start_log_max(log_max, *dd)
            w = h.run("wait", pid_id, check=False, timeout=600)
            t1 = time.perf_counter()
            c1, s1 = proc.cpu_ticks(dpid), proc.sched_ns(dpid)
            log = os.path.join(state, "logs", f"{pid_id}.stdout")
            got = os.path.getsize(log) if os.path.exists(log) else -1
            rec = json.loads(h.run("show", pid_id, "--json").stdout)
            dropped = int(rec.get("dropped_stdout", 0))
            if w.returncode != 0:
                note(f"`sbx wait {pid_id}` of the capture: expected exit 0, got {w.returncode}")
            if rec.get("log_max", log_max) != log_max:
                note(f"capture: started with log_max {log_max}, the record says {rec.get('log_max')}")
            if log_max == 0 and (got != size or dropped):
                note(f"capture --log-max 0: expected {log} to hold {size} bytes, got {got} "
                     f"(dropped_stdout {dropped})")
            if log_max and got + dropped != size:
                note(f"capture --log-max {log_max // MiB}M: expected file size + dropped_stdout "
                     f"= {size}, got {got} + {dropped}")
            for stream in ("stdout", "stderr"):
                p = os.path.join(state, "logs", f"{pid_id}.{stream}")
                if os.path.exists(p):
                    os.unlink(p)
            res["t"].append(t1 - t0)
            res["cpu"].append(proc.ticks_ms(c1 - c0))
            res["size"].append(got)
            res["dropped"].append(dropped)
            if s0 is not None and s1 is not None:
                res["sched"].append((s1 - s0) / 1e6)

        order = [run_floor, lambda: run_sbx(0), lambda: run_sbx(CAP)]
        try:
            for i in range(reps):       # rotate the order to share the page-cache state
                for fn in order[i % 3:] + order[:i % 3]:
                    fn()
        finally:
            if os.path.exists(floor_file):
                os.unlink(floor_file)
        report(mib, runs, floor_t, reps)


def report(mib, runs, floor_t, reps):
    mf = median(floor_t)
    gib = mib * MiB / GiB
    for log_max, label in ((0, "--log-max 0 (no cap)"), (CAP, "--log-max 64M (default)")):
        res = runs[log_max]
        ms = median(res["t"])
        label = f"capture {mib} MiB, {label}"
        line(label, f"median {fmt_s(ms)}",
             f"{gib / ms:.2f} GiB/s", f"floor (dd > file) {fmt_s(mf)} {gib / mf:.2f} GiB/s",
             f"x{ms / mf:.2f}", f"n={reps}")
        record(label, ms, "s", n=reps, floor=mf, ratio=ms / mf, gib_per_s=gib / ms, floor_gib_per_s=gib / mf)
        cm = median(res["cpu"])
        extra = ""
        sm = None
        if res["sched"]:
            sm = median(res["sched"])
            extra = f"(schedstat {sm:.1f} ms = {100 * sm / (mf * 1e3):.2f}%)"
        fsz = median(res["size"])
        dr = median(res["dropped"])
        line("  daemon CPU (utime+stime), final file", f"{cm:.0f} ms",
             f"{100 * cm / (mf * 1e3):.1f}% of floor wall", extra,
             f"file {fsz / MiB:.1f} MiB" + (f" (+{dr / MiB:.1f} MiB dropped)" if dr else ""))
        record(f"{label}: daemon CPU (utime+stime)", cm / 1e3, "s", n=reps,
               pct_of_floor_wall=100 * cm / (mf * 1e3),
               schedstat=sm / 1e3 if sm is not None else None,
               file_mib=fsz / MiB, dropped_mib=dr / MiB)
