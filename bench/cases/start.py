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
        version = ctx.timer.time(h.argv("--version"), runs, h.env, warmup=10)
        h.run("ps")                      # starts the daemon
        first = h.start("true")           # an id for `sbx status`
        start = ctx.timer.time(h.argv("start", "--", "true"), runs, h.env, warmup=10)
        start_sleep = ctx.timer.time(h.argv("start", "--", "sleep", "1000"), runs, h.env, warmup=10)
        status = ctx.timer.time(h.argv("status", first), runs, h.env, warmup=10)
        fl = ctx.fixture("floor")
        line("floor: fork+exec /bin/true", f"median {fmt_ms(median(fl))}",
             f"p90 {fmt_ms(p90(fl))}", f"n={len(fl)}")
        record("floor: fork+exec /bin/true", median(fl), "s", p90=p90(fl), n=len(fl))
        ctx.versus_floor("sbx --version (CLI cold start)", version, target=TARGET_VERSION)
        ctx.versus_floor("start round trip (warm daemon)", start, target=TARGET_START)
        ctx.versus_floor("  the same, `start -- sleep 1000`", start_sleep, target=TARGET_START)
        ctx.versus_floor("status ID round trip", status, target=TARGET_STATUS)
        h.kill_all()
