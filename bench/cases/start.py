"""start: `sbx --version`, and the `sbx start -- true`, `sbx start -- sleep` and `sbx status ID`
round trips, against fork+exec of /bin/true timed the same way in the same run."""
from lib.report import fmt_ms, line, record
from lib.stats import median, p90

NAME = "start"
NEEDS = ("floor",)

# The most each may cost, as a multiple of the floor.
TARGET_VERSION = 1.3
TARGET_STATUS = 1.6
TARGET_START = 2.5


def run(ctx):
    runs = 200 if ctx.quick else 300
    with ctx.home() as h:
        # Each against a floor taken alongside it, in alternating turns (Timer.paired).
        version = ctx.timer.paired(h.argv("--version"), runs, h.env, warmup=10)
        h.run("ps")                      # starts the daemon
        first = h.start("true")           # an id for `sbx status`
        start = ctx.timer.paired(h.argv("start", "--", "true"), runs, h.env, warmup=10)
        start_sleep = ctx.timer.paired(h.argv("start", "--", "sleep", "1000"), runs, h.env, warmup=10)
        status = ctx.timer.paired(h.argv("status", first), runs, h.env, warmup=10)
        fl = ctx.fixture("floor")
        line("floor: fork+exec /bin/true", f"median {fmt_ms(median(fl))}",
             f"p90 {fmt_ms(p90(fl))}", f"n={len(fl)}")
        record("floor: fork+exec /bin/true", median(fl), "s", p90=p90(fl), n=len(fl))
        ctx.versus_floor("sbx --version (CLI cold start)", version[0], floor=version[1], target=TARGET_VERSION)
        ctx.versus_floor("start round trip (warm daemon)", start[0], floor=start[1], target=TARGET_START)
        ctx.versus_floor("  the same, `start -- sleep 1000`", start_sleep[0], floor=start_sleep[1],
                         target=TARGET_START)
        ctx.versus_floor("status ID round trip", status[0], floor=status[1], target=TARGET_STATUS)
        h.kill_all()
