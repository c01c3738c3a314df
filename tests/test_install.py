#!/usr/bin/env python3
"""`meson install --destdir` puts binaries, man pages and completions where a Debian package
would: PREFIX/bin, PREFIX/share/man/man{1,5,8}, and the shells' vendor completion folders.

  test_install.py BUILD_DIR PREFIX
"""
import os
import subprocess
import sys
import tempfile

build, prefix = sys.argv[1], sys.argv[2].lstrip("/")
expected = [
    "bin/sbx", "bin/sbxd", "bin/sbx-shim",
    "share/man/man1/sbx.1", "share/man/man5/sbx.toml.5", "share/man/man8/sbxd.8",
    "share/bash-completion/completions/sbx",
    "share/zsh/vendor-completions/_sbx",
    "share/fish/vendor_completions.d/sbx.fish",
]
with tempfile.TemporaryDirectory() as dest:
    r = subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(r.stdout.decode(errors="replace"))
        sys.exit(1)
    missing = [p for p in expected if not os.path.isfile(os.path.join(dest, prefix, p))]
    for p in expected:
        print(("missing " if p in missing else "ok      ") + "/" + os.path.join(prefix, p))
    for exe in expected[:3]:
        path = os.path.join(dest, prefix, exe)
        if os.path.isfile(path) and not os.access(path, os.X_OK):
            missing.append(exe + " (not executable)")
    sys.exit(1 if missing else 0)
