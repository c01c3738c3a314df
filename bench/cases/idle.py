"""idle: wake-ups, CPU and RSS of a daemon with 10 live sleeps, and RSS with 1000 records."""
import os
import shutil
import time

from lib import proc
from lib.report import line, note, record, verdict

NAME = "idle"
NEEDS = ("records-1000",)


TARGET_RSS_IDLE_MIB = 3.0


def run(ctx):
    dur = 2.0 if ctx.quick else 5.0
    with ctx.home() as h:
        h.run("ps")
        time.sleep(0.3)
        rss_idle, pss_idle = proc.rss_mib(h.daemon_pid()), proc.pss_mib(h.daemon_pid())
        line("RSS, a fresh daemon, no process", f"{rss_idle:.1f} MiB",
             f"(PSS {pss_idle:.1f} MiB)" if pss_idle is not None else "",
             verdict(rss_idle, TARGET_RSS_IDLE_MIB, f"{TARGET_RSS_IDLE_MIB:g} MiB"))
        record("RSS, a fresh daemon, no process", rss_idle, "MiB", target=TARGET_RSS_IDLE_MIB, pss=pss_idle)
        h.start_many(10, ["sleep", "1000"], parallel=1)
        h.remember_live()
        running = h.daemon_status()["processes"]["running"]
        if running != 10:
            note(f"after 10 x `sbx start -- sleep 1000`: expected 10 running, got {running}")
        dpid = h.daemon_pid()
        time.sleep(0.5)                  # let the last requests settle
        x0, nthr = proc.ctxt_switches(dpid)
        c0, s0 = proc.cpu_ticks(dpid), proc.sched_ns(dpid)
        t0 = time.perf_counter()
        time.sleep(dur)
        t1 = time.perf_counter()
        x1, _ = proc.ctxt_switches(dpid)
        c1, s1 = proc.cpu_ticks(dpid), proc.sched_ns(dpid)
        rss_live = proc.rss_mib(dpid)
        wall = t1 - t0
        sched = (s1 - s0) / 1e6 if s0 is not None and s1 is not None else None
        extra = f"(schedstat {sched:.2f} ms)" if sched is not None else ""
        label = f"idle daemon, 10 live sleeps, {dur:.0f} s"
        line(label, f"wake-ups {(x1 - x0) / wall:.2f}/s ({x1 - x0} ctxt switches, {nthr} thread(s))",
             f"CPU {proc.ticks_ms(c1 - c0):.0f} ms {extra}")
        record(f"{label}: wake-ups", (x1 - x0) / wall, "1/s", ctxt_switches=x1 - x0, threads=nthr)
        record(f"{label}: CPU (utime+stime)", proc.ticks_ms(c1 - c0) / 1e3, "s",
               schedstat=sched / 1e3 if sched is not None else None)
        line("RSS, 10 live processes", f"{rss_live:.1f} MiB")
        record("RSS, 10 live processes", rss_live, "MiB")
        h.kill_all()

    records = ctx.fixture("records-1000")
    with ctx.home() as h:
        shutil.copytree(records["processes"], os.path.join(h.dir, "state", "processes"))
        h.run("ps")                       # a new daemon loads the 1000 records from disk
        total = h.daemon_status()["processes"]["total"]
        if total != 1000:
            note(f"daemon start with 1000 records on disk: expected 1000 loaded, got {total}")
        time.sleep(0.3)
        dpid = h.daemon_pid()
        rss = proc.rss_mib(dpid)
        line("RSS, 1000 records loaded at daemon start", f"{rss:.1f} MiB", f"({records['how']})")
        record("RSS, 1000 records loaded at daemon start", rss, "MiB")
        x0, _ = proc.ctxt_switches(dpid)
        t0 = time.perf_counter()
        time.sleep(1.0)
        x1, _ = proc.ctxt_switches(dpid)
        label = "  idle wake-ups with 1000 records, 1 s"
        rate = (x1 - x0) / (time.perf_counter() - t0)
        line(label, f"{rate:.2f}/s")
        record(label, rate, "1/s", ctxt_switches=x1 - x0)
