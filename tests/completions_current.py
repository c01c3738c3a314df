#!/usr/bin/env python3
"""The committed completion scripts must equal what `sbx completion SHELL` prints.

usage: completions_current.py SBX COMPLETIONS_DIR [--update]
With --update, rewrite the committed files instead (after changing options in app.cpp).
"""
import difflib
import os
import subprocess
import sys

FILES = {"bash": "sbx.bash", "zsh": "_sbx", "fish": "sbx.fish"}


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sbx, folder = args
    stale = []
    for shell, name in FILES.items():
        path = os.path.join(folder, name)
        want = subprocess.run([sbx, "completion", shell], check=True, stdout=subprocess.PIPE).stdout.decode()
        try:
            with open(path, encoding="utf-8") as f:
                have = f.read()
        except FileNotFoundError:
            have = ""
        if have == want:
            continue
        if update:
            with open(path, "w", encoding="utf-8") as f:
                f.write(want)
            print(f"updated {path}")
            continue
        stale.append(path)
        sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), want.splitlines(True), path,
                                                   f"sbx completion {shell}"))
    if stale:
        print(f"\n{', '.join(stale)}: out of date with the command line; regenerate with\n"
              f"  python3 tests/completions_current.py {sbx} completions --update", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
