"""The machine under the numbers: commit, CPU, load, the homes' filesystem and its file-create cost."""
import os
import shutil
import subprocess
import tempfile
import time

from lib import REPO
from lib.stats import median


def git_commit():
    try:
        c = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return c + (" (+ uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def load_avg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def fs_type(path):
    r = subprocess.run(["stat", "-f", "-c", "%T", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return r.stdout.strip() or "?"


def file_create_floor(parent, n=200):
    """Median time to create (open O_CREAT, close) one file in a fresh folder under parent.
    Every start creates a few files (its record, its two logs), so this is part of its
    floor; on ext4 without a journal it grows with the files deleted in the last minutes."""
    d = tempfile.mkdtemp(prefix="sbxb-floor.", dir=parent)
    times = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            os.close(os.open(os.path.join(d, str(i)), os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            times.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return median(times)
