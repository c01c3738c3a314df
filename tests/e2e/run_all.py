#!/usr/bin/env python3
"""Run every tests/e2e/test_*.py in parallel (one process per file); exit 1 if any fails.

  SBX_BIN=build/src/sbx SBXD_BIN=build/src/sbxd python3 tests/e2e/run_all.py [-j N] [FILE...]
"""
import argparse
import glob
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def run_one(path):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, path], cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=dict(os.environ, SBX_TEST_VERBOSITY="1"))
    return path, p.returncode, p.stdout.decode(errors="replace"), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    files = a.files or sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    failed = []
    with ThreadPoolExecutor(max_workers=a.j) as ex:
        for path, rc, out, took in ex.map(run_one, files):
            name = os.path.basename(path)
            print(f"{'ok  ' if rc == 0 else 'FAIL'} {name} ({took:.1f}s)")
            if rc != 0:
                failed.append(name)
                print(out)
    print(f"{len(files) - len(failed)}/{len(files)} files passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
