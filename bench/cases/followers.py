"""followers: 20 x `sbx logs -f` of a 100 MiB log: wall time and the daemon's CPU per MiB."""
import os
import subprocess
import time

from lib import proc
from lib.report import fmt_s, line, note, record
from lib.stats import median

NAME = "followers"
NEEDS = ()
MiB = 1 << 20


def run(ctx):
    n_f, count = 20, 1600                # 1600 x 64 KiB = 100 MiB
    size = count * 64 * 1024
    reps = 1 if ctx.quick else 3
    dd = ["dd", "if=/dev/zero", "bs=64k", f"count={count}", "status=none"]
    walls, cpus, scheds, floors_dd, floors_cat = [], [], [], [], []
    with ctx.home() as h:
        h.run("ps")
        state = h.state_dir()
        dpid = h.daemon_pid()
        for _ in range(reps):
            os.sync()
            c0, s0 = proc.cpu_ticks(dpid), proc.sched_ns(dpid)
            t0 = time.perf_counter()
            pid_id = h.start_log_max(0, *dd)
            procs = [subprocess.Popen(h.argv("logs", "-f", pid_id, "--stdout"), env=h.env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for _ in range(n_f)]
            bad = 0
            try:
                deadline = time.monotonic() + 120
                for p in procs:
                    try:
                        bad += p.wait(timeout=max(0.1, deadline - time.monotonic())) != 0
                    except subprocess.TimeoutExpired:
                        bad += 1
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
            t1 = time.perf_counter()
            c1, s1 = proc.cpu_ticks(dpid), proc.sched_ns(dpid)
            if bad:
                note(f"{bad} of {n_f} `sbx logs -f {pid_id}` did not exit 0 within 120 s")
            h.run("wait", pid_id, check=False)
            log = os.path.join(state, "logs", f"{pid_id}.stdout")
            got = os.path.getsize(log)
            if got != size:
                note(f"followers: expected {log} to hold {size} bytes, got {got}")
            walls.append(t1 - t0)
            cpus.append(proc.ticks_ms(c1 - c0))
            if s0 is not None and s1 is not None:
                scheds.append((s1 - s0) / 1e6)
            # floors: the writer alone, and n_f plain readers of the finished file
            fd = os.open(log + ".floor", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            try:
                t0 = time.perf_counter()
                subprocess.run(dd, stdout=fd, stdin=subprocess.DEVNULL, check=True)
                floors_dd.append(time.perf_counter() - t0)
            finally:
                os.close(fd)
                os.unlink(log + ".floor")
            t0 = time.perf_counter()
            cats = [subprocess.Popen(["cat", log], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL) for _ in range(n_f)]
            for p in cats:
                p.wait()
            floors_cat.append(time.perf_counter() - t0)
            h.run("rm", pid_id)
    delivered = n_f * size / MiB
    cm = median(cpus)
    sm = median(scheds) if scheds else None
    label = f"followers: {n_f} x `logs -f` of {size // MiB} MiB"
    line(label, f"wall (start..all exited) {fmt_s(median(walls))}",
         f"floor: dd alone {fmt_s(median(floors_dd))}, {n_f} x cat of the log {fmt_s(median(floors_cat))}",
         f"n={reps}")
    record(f"{label}: wall (start..all exited)", median(walls), "s", n=reps,
           floor_dd=median(floors_dd), floor_cat=median(floors_cat))
    line("  daemon CPU (utime+stime)", f"{cm:.0f} ms" + (f" (schedstat {sm:.0f} ms)" if sm is not None else ""),
         f"{(sm if sm is not None else cm) / delivered:.3f} ms per MiB delivered ({delivered:.0f} MiB)")
    record(f"{label}: daemon CPU (utime+stime)", cm / 1e3, "s", n=reps,
           schedstat=sm / 1e3 if sm is not None else None, delivered_mib=delivered,
           s_per_mib=(sm if sm is not None else cm) / 1e3 / delivered)
