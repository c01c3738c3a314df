"""What a case gets: the options of the run, a Home factory, and the fixtures it declared.

A fixture is built the first time a case asks for it and then shared by every later case
of the run. A case that makes the same thing as a by-product of its own measurement may
`offer` it instead, so it is not made twice; which case runs first never matters."""
import os
import shutil
import tempfile

from lib import BenchError
from lib.home import Home
from lib.report import fmt_ms, line, record
from lib.stats import median, p90


def _floor(ctx):
    """fork+exec of /bin/true, timed the same way as the sbx round trips."""
    runs = 200 if ctx.quick else 300
    return ctx.timer.time(["/bin/true"], runs, dict(os.environ), warmup=10)


def snapshot_records(ctx, h, how):
    """A copy of h's STATE/processes folder (removed at the end of the run)."""
    snap = tempfile.mkdtemp(prefix="sbxb-records.", dir="/tmp")
    ctx.cleanup_dirs.append(snap)
    dst = os.path.join(snap, "processes")
    shutil.copytree(os.path.join(h.dir, "state", "processes"), dst)
    return {"processes": dst, "how": how}


def _records_1000(ctx):
    """A STATE/processes folder with 1000 ended records, to copy into a fresh home."""
    with ctx.home() as h:
        h.run("ps")
        h.start_many(1000, ["true"], parallel=ctx.parallel)
        h.run("daemon", "stop")              # every record final on disk
        return snapshot_records(ctx, h, f"made by `sbx start -- true`, {ctx.parallel} at a time")


FIXTURES = {
    "floor": _floor,                  # list of wall times of /bin/true, in s
    "records-1000": _records_1000,    # {"processes": folder, "how": where they came from}
}


class Context:
    def __init__(self, sbx, quick, timer, cases, cleanup_dirs):
        self.sbx = sbx
        self.quick = quick
        self.timer = timer
        self.parallel = 8                 # concurrent `sbx start` when making many records
        self.cleanup_dirs = cleanup_dirs  # removed when the whole run is over
        self._wanted = {f for c in cases for f in c.NEEDS}
        self._built = {}
        self._needs = ()
        self._once = set()

    def enter(self, case):
        self._needs = case.NEEDS

    def home(self, **kw):
        return Home(self.sbx, **kw)

    def fixture(self, name):
        if name not in self._needs:
            raise BenchError(f"fixture {name!r} is not in the case's NEEDS")
        if name not in self._built:
            self._built[name] = FIXTURES[name](self)
        return self._built[name]

    def offer(self, name, make):
        """make() builds fixture `name`; called only when a case of this run needs it and it is
        not built yet."""
        if name in self._wanted and name not in self._built:
            self._built[name] = make()

    def first_time(self, key):
        """True once per run for each key: for a line that several cases would print."""
        if key in self._once:
            return False
        self._once.add(key)
        return True

    def versus_floor(self, label, xs, extra="", target=None, floor=None, **fields):
        """The line (and record) of a round trip timed against the fork+exec floor (`floor`:
        its times taken alongside, Timer.paired; else the run's floor fixture); `target`, if
        given, is the most the ratio to the floor may be."""
        fl = median(floor if floor is not None else self.fixture("floor"))
        m = median(xs)
        met = None if target is None else ("met" if m / fl <= target else "NOT met")
        line(label, f"median {fmt_ms(m)}", f"p90 {fmt_ms(p90(xs))}",
             f"floor (fork+exec /bin/true) {fmt_ms(fl)}", f"x{m / fl:.2f}", f"n={len(xs)}",
             f"target <= x{target}: {met}" if met else "", extra)
        record(label, m, "s", p90=p90(xs), n=len(xs), floor=fl, ratio=m / fl, target_ratio=target,
               verdict=met, **fields)
