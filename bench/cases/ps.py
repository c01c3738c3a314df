"""ps: `sbx ps` and `sbx ps --json` with 10, 100, 1000 ended and 100 live records."""
import time

from lib.context import snapshot_records
from lib.report import fmt_s, line, note, record
from lib.proc import rss_mib

NAME = "ps"
NEEDS = ("floor",)

TARGETS_1000 = (8, 10)  # the most `ps` and `ps --json` of 1000 records may cost, x the floor


def run(ctx):
    def runs_for(label):
        big = label.startswith("1000")
        if ctx.quick:
            return 20 if big else 40
        return 60 if big else 150

    def measure(h, label, targets=(None, None)):
        for (args, name), target in zip(((("ps",), "ps"), (("ps", "--json"), "ps --json")), targets):
            n_out = len(h.run(*args).stdout)
            xs, fl = ctx.timer.paired(h.argv(*args), runs_for(label), h.env, warmup=3)
            ctx.versus_floor(f"{name:<10} {label}", xs, f"({n_out / 1024:.1f} KiB out)", target=target,
                             floor=fl, kib_out=n_out / 1024)

    with ctx.home() as h:
        h.run("ps")
        have = 0
        for target in (10, 100, 1000):
            t0 = time.perf_counter()
            h.start_many(target - have, ["true"], parallel=ctx.parallel)
            dt = time.perf_counter() - t0
            created, have = target - have, target
            total = h.daemon_status()["processes"]["total"]
            if total != target:
                note(f"`sbx daemon status --json` processes.total: expected {target}, got {total}")
            if target == 1000:
                label = f"  (created {created} records: `sbx start -- true`, {ctx.parallel} at a time)"
                line(label, fmt_s(dt), f"{created / dt:.0f} starts/s")
                record(label, dt, "s", per_s=created / dt)
            measure(h, f"{target} records ended", TARGETS_1000 if target == 1000 else (None, None))
        rss = rss_mib(h.daemon_pid())
        line("  (RSS of this daemon, 1000 ended records)", f"{rss:.1f} MiB")
        record("RSS of this daemon, 1000 ended records", rss, "MiB")
        ctx.offer("records-1000", lambda: snapshot_records(ctx, h, "copied from the ps bench"))

    with ctx.home() as h:
        h.run("ps")
        t0 = time.perf_counter()
        h.start_many(100, ["sleep", "1000"], parallel=1)
        dt = time.perf_counter() - t0
        h.remember_live()
        running = h.daemon_status()["processes"]["running"]
        if running != 100:
            note(f"after 100 x `sbx start -- sleep 1000`: expected 100 running, got {running}")
        line("  (started 100 `sleep 1000`, one at a time)", fmt_s(dt))
        record("started 100 `sleep 1000`, one at a time", dt, "s")
        measure(h, "100 records live")
        t0 = time.perf_counter()
        h.kill_all()
        dt = time.perf_counter() - t0
        line("  (`sbx kill --all` of 100 live sleeps)", fmt_s(dt))
        record("`sbx kill --all` of 100 live sleeps", dt, "s")
