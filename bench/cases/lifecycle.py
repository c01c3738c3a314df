"""lifecycle: 500 x `sbx start -- sleep 1000`, then `sbx kill --all` of them, each timed."""
import time

from lib import proc
from lib.home import Home
from lib.machine import file_create_floor
from lib.report import fmt_s, line, note, record, verdict
from lib.stats import median

NAME = "lifecycle"
NEEDS = ()


def run(ctx):
    n = 500
    reps = 1 if ctx.quick else 3
    ups, downs, left_total = [], [], 0
    fc = file_create_floor(Home.PARENT)
    line("floor: create a file in the homes' folder", f"median {fc * 1e6:.0f} us",
         f"x4 per start, x{4 * n} for {n} starts")
    record("floor: create a file in the homes' folder", fc, "s", n=200)
    # Each home is removed only after the last run: removing a run's 2000 files just
    # before the next run would make its file creates pay for them on some filesystems
    # (ext4 without a journal), which is the bench's own clean-up, not sbx.
    for _ in range(reps):
        with ctx.home(defer_rm=ctx.cleanup_dirs) as h:
            h.run("ps")
            t0 = time.perf_counter()
            h.start_many(n, ["sleep", "1000"], parallel=ctx.parallel)
            ups.append(time.perf_counter() - t0)
            h.remember_live()
            pids = dict(h.live_pids)
            if len(pids) != n:
                note(f"after {n} x `sbx start -- sleep 1000`: expected {n} running, got {len(pids)}")
            t0 = time.perf_counter()
            r = h.run("kill", "--all", check=False, timeout=120)
            downs.append(time.perf_counter() - t0)
            if r.returncode != 0:
                note(f"`sbx kill --all` of {n}: expected exit 0, got {r.returncode}: {r.stderr.strip()}")
            alive = [p for p, t in pids.items() if proc.same_process(p, t)]
            live_recs = [x for x in h.ps_json() if x.get("status") in ("running", "starting")]
            if alive or live_recs:
                note(f"after `sbx kill --all` returned: expected none of the {n} alive, "
                     f"got {len(alive)} pids alive, {len(live_recs)} live records")
            left_total += len(alive)
            h.kill_all()                 # cleans up whatever is left, by pid
    mu, md = median(ups), median(downs)
    label = f"start {n} `sleep 1000`, {ctx.parallel} in parallel"
    line(label, f"median {fmt_s(mu)}", f"{n / mu:.0f}/s", f"n={reps}", verdict(mu, 1.0, "1 s"),
         "(supervisord 3.9 s, pm2 1.9 s, s6 0.6 s)")
    record(label, mu, "s", n=reps, per_s=n / mu, target=1.0)
    label = f"`sbx kill --all` of the {n}"
    line(label, f"median {fmt_s(md)}", f"{left_total} left alive", f"n={reps}", verdict(md, 1.0, "1 s"),
         "(supervisord 1.2 s, pm2 34 s, s6 0.2 s)")
    record(label, md, "s", n=reps, left_alive=left_total, target=1.0)
