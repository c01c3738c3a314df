"""start: the `sbx start -- true` and `sbx status ID` round trips against fork+exec."""
from lib.report import fmt_ms, line, record
from lib.stats import median, p90

NAME = "start"
NEEDS = ("floor",)


def run(ctx):
    runs = 200 if ctx.quick else 300
    with ctx.home() as h:
        h.run("ps")                      # starts the daemon
        first = h.start("true")           # an id for `sbx status`
        start = ctx.timer.time(h.argv("start", "--", "true"), runs, h.env, warmup=10)
        status = ctx.timer.time(h.argv("status", first), runs, h.env, warmup=10)
        fl = ctx.fixture("floor")
        line("floor: fork+exec /bin/true", f"median {fmt_ms(median(fl))}",
             f"p90 {fmt_ms(p90(fl))}", f"n={len(fl)}")
        record("floor: fork+exec /bin/true", median(fl), "s", p90=p90(fl), n=len(fl))
        ctx.versus_floor("start round trip (warm daemon)", start)
        ctx.versus_floor("status ID round trip", status)
