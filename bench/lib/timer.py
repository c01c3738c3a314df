"""Wall time of short commands: hyperfine -N when it is on PATH, else in-process."""
import json
import shlex
import shutil
import subprocess
import tempfile
import time

from lib import BenchError


class Timer:
    def __init__(self, use_hyperfine):
        self.hyperfine = shutil.which("hyperfine") if use_hyperfine else None

    def describe(self):
        if self.hyperfine:
            v = subprocess.run([self.hyperfine, "--version"], capture_output=True, text=True)
            return f"{v.stdout.strip()} -N (no shell)"
        return "in-process (time.perf_counter around subprocess.run)"

    def time(self, argv, runs, env, warmup=5):
        """Wall time of each of `runs` runs of argv (a list), in seconds."""
        if self.hyperfine:
            return self._hyperfine(argv, runs, env, warmup)
        return self.inprocess(argv, runs, env, warmup)

    def paired(self, argv, runs, env, warmup=5, rounds=5, floor_argv=("/bin/true",)):
        """(times of argv, times of the floor), each `runs` runs, taken in `rounds` alternating
        turns of runs/rounds each, so that a change of the machine's load during the
        measurement weighs on both alike and their ratio stays fair."""
        per = max(1, runs // rounds)
        xs, fl = [], []
        for i in range(rounds):
            w = warmup if i == 0 else 1
            fl += self.time(list(floor_argv), per, dict(env), warmup=w)
            xs += self.time(argv, per, env, warmup=w)
        return xs, fl

    @staticmethod
    def inprocess(argv, runs, env, warmup):
        def once():
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t1 = time.perf_counter()
            if r.returncode != 0:
                raise BenchError(f"{shlex.join(argv)} exited {r.returncode}")
            return t1 - t0

        for _ in range(warmup):
            once()
        return [once() for _ in range(runs)]

    def _hyperfine(self, argv, runs, env, warmup):
        with tempfile.NamedTemporaryFile(prefix="sbxbench-", suffix=".json") as tf:
            cmd = [self.hyperfine, "-N", "--runs", str(runs), "--warmup", str(warmup),
                   "--style", "none", "--export-json", tf.name, shlex.join(argv)]
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                raise BenchError(f"hyperfine {shlex.join(argv)} failed: "
                                 f"{(r.stderr or r.stdout).strip()[-300:]}")
            with open(tf.name) as f:
                res = json.load(f)["results"][0]
        return res["times"]
