"""capture-lines: 1 GiB (256 MiB with --quick) of 128-byte lines, each its own write(2), into
the log through the waiter, against two floors in the same run: the child writing the file
itself, and the child writing a pipe that cat copies into the file."""
import json
import os
import subprocess
import sys
import time

from lib import BenchError, proc
from lib.report import fmt_s, line, note, record
from lib.stats import median

NAME = "capture-lines"
NEEDS = ()
MiB = 1 << 20
LINE = 128

# Runs argv as its child (stdout inherited), then writes "wall utime stime" of that child
# plus its own CPU to the file argv[1]: the child's cost, measured alike in every mode.
TIMED = (
    "import os, resource, sys, time\n"
    "t0 = time.perf_counter()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "_, status, ru = os.wait4(pid, 0)\n"
    "wall = time.perf_counter() - t0\n"
    "me = resource.getrusage(resource.RUSAGE_SELF)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{wall} {ru.ru_utime + ru.ru_stime} {me.ru_utime + me.ru_stime} {status}')\n"
)


def child_argv(mib):
    # dd: 127 zero bytes read, a newline added (conv=unblock), one 128-byte write per line.
    return ["dd", "if=/dev/zero", "ibs=127", f"obs={LINE}", f"count={mib * MiB // LINE}",
            "conv=unblock", "cbs=127", "status=none"]


def read_timed(path):
    with open(path) as f:
        wall, cpu, wrapper, status = f.read().split()
    os.unlink(path)
    if int(status) != 0:
        raise BenchError(f"the capture child exited with wait status {status}")
    return float(wall), float(cpu), float(wrapper)


def run(ctx):
    mib = 256 if ctx.quick else 1024
    size = mib * MiB
    reps = 3
    with ctx.home() as h:
        h.run("ps")
        state = h.state_dir()
        dpid = h.daemon_pid()
        vfs = os.statvfs(state)
        if vfs.f_bavail * vfs.f_frsize < 2 * size + 256 * MiB:
            line(f"capture-lines {mib} MiB", "SKIPPED: not enough free space in " + state)
            return
        timed = os.path.join(state, "bench-timed")
        out_file = os.path.join(state, "bench-lines.out")
        wrapped = [sys.executable, "-c", TIMED, timed] + child_argv(mib)
        res = {k: dict(wall=[], child=[], helper=[], daemon=[]) for k in ("direct", "cat", "sbx")}

        def check_size(path, what):
            got = os.path.getsize(path) if os.path.exists(path) else -1
            if got != size:
                note(f"capture-lines {what}: expected {size} bytes in {path}, got {got}")
            if os.path.exists(path):
                os.unlink(path)

        def run_direct():
            os.sync()
            fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            try:
                subprocess.run(wrapped, stdout=fd, stdin=subprocess.DEVNULL, check=True)
            finally:
                os.close(fd)
            wall, cpu, _ = read_timed(timed)
            res["direct"]["wall"].append(wall)
            res["direct"]["child"].append(cpu)
            check_size(out_file, "direct")

        def run_cat():
            os.sync()
            fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            try:
                cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=fd)
                subprocess.run(wrapped, stdout=cat.stdin, stdin=subprocess.DEVNULL, check=True)
                cat.stdin.close()
                _, _, ru = os.wait4(cat.pid, 0)
                cat.returncode = 0
            finally:
                os.close(fd)
            wall, cpu, _ = read_timed(timed)
            res["cat"]["wall"].append(wall)
            res["cat"]["child"].append(cpu)
            res["cat"]["helper"].append(ru.ru_utime + ru.ru_stime)
            check_size(out_file, "pipe -> cat -> file")

        def run_sbx():
            os.sync()
            c0 = proc.cpu_ticks(dpid)
            children0 = children_ticks(dpid)
            pid_id = h.run("start", "--log-max", "0", "--", *wrapped).stdout.strip()
            w = h.run("wait", pid_id, check=False, timeout=600)
            c1 = proc.cpu_ticks(dpid)
            children1 = children_ticks(dpid)
            if w.returncode != 0:
                note(f"`sbx wait {pid_id}` of capture-lines: expected exit 0, got {w.returncode}")
            wall, cpu, wrapper = read_timed(timed)
            # The daemon reaps the waiter: its children's time grows by the waiter's own CPU
            # plus what the waiter reaped (the wrapper and, through it, the child).
            shim = proc.ticks_ms(children1 - children0) / 1e3 - cpu - wrapper
            res["sbx"]["wall"].append(wall)
            res["sbx"]["child"].append(cpu)
            res["sbx"]["helper"].append(max(shim, 0.0))
            res["sbx"]["daemon"].append(proc.ticks_ms(c1 - c0) / 1e3)
            index = os.path.join(state, "logs", f"{pid_id}.index")
            entries = os.path.getsize(index) // 32 if os.path.exists(index) else 0
            res["sbx"].setdefault("entries", []).append(entries)
            check_size(os.path.join(state, "logs", f"{pid_id}.stdout"), "sbx")
            h.run("rm", pid_id)

        order = [run_direct, run_cat, run_sbx]
        try:
            for i in range(reps):  # rotate the order to share the page-cache state
                for fn in order[i % 3:] + order[:i % 3]:
                    fn()
        finally:
            for p in (out_file, timed):
                if os.path.exists(p):
                    os.unlink(p)
        report(mib, res, reps)


def children_ticks(pid):
    """cutime + cstime: the CPU of the children `pid` has reaped, in clock ticks."""
    rest = proc.stat_fields(pid)
    return int(rest[13]) + int(rest[14])


def report(mib, res, reps):
    label0 = f"capture-lines {mib} MiB ({LINE}-byte writes)"
    floor = median(res["direct"]["wall"])
    for key, what in (("direct", "floor: child > file"), ("cat", "floor: child | cat > file"),
                      ("sbx", "sbx start (pipe -> sbx-shim -> file)")):
        r = res[key]
        wall, cpu = median(r["wall"]), median(r["child"])
        parts = [f"child wall {fmt_s(wall)}", f"child CPU {fmt_s(cpu)}", f"x{wall / floor:.2f} of direct"]
        fields = dict(n=reps, floor=floor, ratio=wall / floor, child_cpu=cpu)
        if r["helper"]:
            hm = median(r["helper"])
            parts.append(f"{'cat' if key == 'cat' else 'shim'} CPU {fmt_s(hm)}")
            fields["helper_cpu"] = hm
        if r["daemon"]:
            dm = median(r["daemon"])
            parts.append(f"daemon CPU {dm * 1e3:.0f} ms")
            fields["daemon_cpu"] = dm
        if r.get("entries"):
            em = median(r["entries"])
            parts.append(f"{em:.0f} index entries ({mib * MiB / max(em, 1) / 1024:.0f} KiB each)")
            fields["index_entries"] = em
        line(f"{label0}, {what}", *parts, f"n={reps}")
        record(f"{label0}, {what}", wall, "s", **fields)
