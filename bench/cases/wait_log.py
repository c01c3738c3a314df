"""wait-log: lag from a line's write to `sbx wait-log` returning."""
from lib.ready import READY_PY, lag_line, py, ready_lag, stamp_in, status_reference

NAME = "wait-log"
NEEDS = ()


def run(ctx):
    reps = 20
    with ctx.home() as h:
        h.run("ps")
        lags, early = ready_lag(
            h, "wait-log",
            lambda: [*py(), "-c", READY_PY, "0.3", "0.5"],
            lambda i: ["wait-log", i, "READY"],
            lambda i, out: stamp_in(out, "READY"), reps)
        lag_line("wait-log: line written -> returned", lags, early, 2e-3, "2 ms")
        status_reference(ctx, h)
        h.kill_all()
