"""up: `sbx up` of 50 independent processes and of a 10-deep dependency chain, each with
`ready = { log = ... }`, next to the same done with `sbx start --wait-log` in a shell loop."""
import os
import shlex
import subprocess
import time

from lib import BenchError
from lib.report import fmt_s, line, note, record
from lib.stats import median, p90

NAME = "up"
NEEDS = ()

CMD = "echo READY; exec sleep 1000"


def project(n, chain):
    out = []
    for i in range(n):
        out.append(f'[process.p{i}]\ncommand = "{CMD}"\nready = {{ log = "READY" }}\n')
        if chain and i:
            out.append(f'depends_on = {{ p{i - 1} = "ready" }}\n')
    return "".join(out)


def timed(h, argv, cwd):
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=h.env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(argv)} exited {r.returncode}: {r.stderr.strip()[-300:]}")
    return took


def live(h):
    return [x for x in h.ps_json() if x.get("status") in ("running", "starting")]


def one(ctx, h, n, chain, reps):
    folder = os.path.join(h.dir, f"proj{n}{'c' if chain else ''}")
    os.mkdir(folder)
    with open(os.path.join(folder, "sbx.toml"), "w") as f:
        f.write(project(n, chain))
    # The same in a shell loop: one after the other, each returning once its line is there.
    loop = (f"for i in $(seq 0 {n - 1}); do {shlex.quote(h.sbx_path)} start --id p$i --session loop "
            f"--wait-log READY {shlex.quote(CMD)} >/dev/null || exit 1; done")
    ups, loops = [], []
    for _ in range(reps):
        ups.append(timed(h, [h.sbx_path, "up"], folder))
        if len(live(h)) != n:
            note(f"after `sbx up` of {n}: expected {n} running, got {len(live(h))}")
        h.remember_live()
        timed(h, [h.sbx_path, "down", "--grace", "5s"], folder)
        if live(h):
            note(f"after `sbx down`: expected none live, got {len(live(h))}")
        loops.append(timed(h, ["sh", "-c", loop], folder))
        h.remember_live()
        timed(h, [h.sbx_path, "kill", "--all", "-q"], folder)
    what = f"a {n}-deep chain" if chain else f"{n} independent"
    mu, ml = median(ups), median(loops)
    label = f"sbx up: {what}, ready = {{ log }}"
    line(label, f"median {fmt_s(mu)}", f"p90 {fmt_s(p90(ups))}", f"n={reps}")
    record(label, mu, "s", p90=p90(ups), n=reps)
    label = f"  start --wait-log loop: {what}"
    line(label, f"median {fmt_s(ml)}", f"p90 {fmt_s(p90(loops))}", f"up / loop x{mu / ml:.2f}", f"n={reps}")
    record(label, ml, "s", p90=p90(loops), n=reps, ratio=mu / ml)


def run(ctx):
    reps = 3 if ctx.quick else 7
    with ctx.home() as h:
        h.run("ps")
        one(ctx, h, 50, False, reps)
        one(ctx, h, 10, True, reps)
        h.kill_all()
