"""kill-all: `sbx kill --all` of 400 live `sleep 1000` against the time 8 clients took to start
them, and of 1000 after 1000 starts; in each tree mode the host gives (cgroup, token)."""
import time

from lib import proc
from lib.report import fmt_s, line, note, record, verdict
from lib.stats import median

NAME = "kill-all"
NEEDS = ("floor",)


def one(ctx, n, mode):
    """(seconds to start n with ctx.parallel clients, seconds of `sbx kill --all`, left alive),
    or None when the daemon does not run in `mode`."""
    with ctx.home() as h:
        h.env["SBX_TREE"] = mode
        h.run("ps")
        if h.daemon_status().get("tree") != mode:
            return None
        t0 = time.perf_counter()
        h.start_many(n, ["sleep", "1000"], parallel=ctx.parallel)
        up = time.perf_counter() - t0
        h.remember_live()
        pids = dict(h.live_pids)
        if len(pids) != n:
            note(f"{mode}: after {n} x `sbx start -- sleep 1000`: expected {n} running, got {len(pids)}")
        t0 = time.perf_counter()
        r = h.run("kill", "--all", check=False, timeout=120)
        down = time.perf_counter() - t0
        if r.returncode != 0:
            note(f"{mode}: `sbx kill --all` of {n}: exit {r.returncode}: {r.stderr.strip()}")
        left = [p for p, t in pids.items() if proc.same_process(p, t)]
        h.kill_all()  # whatever is left, by pid
        return up, down, len(left)


def run(ctx):
    reps = 1 if ctx.quick else 3
    floor = median(ctx.fixture("floor"))
    for mode in ("cgroup", "token"):
        for n, goal in ((400, None), (1000, 0.3)):
            runs = [one(ctx, n, mode) for _ in range(reps)]
            if None in runs:
                line(f"kill --all, {mode} tree", "the host gives sbxd no such tree: skipped")
                break
            up = median([u for u, _, _ in runs])
            down = median([d for _, d, _ in runs])
            left = sum(x for _, _, x in runs)
            label = f"`sbx kill --all` of {n} live ({mode} tree)"
            ratio = down / up
            per = down / n / floor  # each process's stop, in fork+exec+wait of /bin/true
            if goal is None:
                line(label, f"median {fmt_s(down)}", f"starting them ({ctx.parallel} clients) {fmt_s(up)}",
                     f"x{ratio:.2f} of the start", f"x{per:.2f} floor per process", f"{left} left alive", f"n={reps}",
                     verdict(ratio, 0.5, "0.5 of the start"))
                record(label, down, "s", start_s=up, ratio_to_start=ratio, left_alive=left, n=reps,
                       floor=floor, floor_per_process=per, target_ratio=0.5)
            else:
                line(label, f"median {fmt_s(down)}", f"after {n} starts in {fmt_s(up)}", f"x{per:.2f} floor per process",
                     f"{left} left alive", f"n={reps}", verdict(down, goal, f"{goal} s"))
                record(label, down, "s", start_s=up, ratio_to_start=ratio, left_alive=left, n=reps,
                       floor=floor, floor_per_process=per, target=goal)
