#!/usr/bin/env python3
"""The waiter sbx-shim run by hand, as sbxd runs it: fd 3 a socket to a stand-in for sbxd.

It starts the program only once told 'g' (the run is recorded), and it reaps the program
only after its status is reported, so that until then the program's pid and process group
cannot be reused under a signal sbxd sends for it. Then it waits for 'h' (a durable record
holds the status); without it (sbxd gone) it writes the status to its exit file."""
import errno
import os
import shutil
import socket
import subprocess
import threading
import unittest

from harness import SBXD, SbxTestCase, main

SHIM = os.path.join(os.path.dirname(SBXD), "sbx-shim")


class ShimCase(SbxTestCase):
    def run_shim(self, program_argv, go: bool, wrap=(), user="-", cgroup="-", held=False):
        """Runs the shim (under `wrap`, a tracer, if given); returns (rc, what it reported,
        the exit file's path); the tracer's complaints, if any, are in self.stderr. With
        `held`, the stand-in answers the end it reads with 'h', as sbxd once its record is
        durable; else it goes away after the 'g', as a daemon that died."""
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        if go:
            ours.sendall(b"g")
        if not held:
            ours.shutdown(socket.SHUT_WR)  # as a daemon that died (or could not record the run)
        if held:
            return self.run_shim_held(program_argv, ours, theirs)
        exit_file = os.path.join(self.home, "run.exit")
        fd = theirs.fileno()
        env = dict(os.environ)
        if wrap:  # LeakSanitizer (a sanitizer build) cannot run under a tracer
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        p = subprocess.run([*wrap, SHIM, exit_file, self.home, "SBX_RUN_TOKEN=t" + os.path.basename(self.home),
                            "-", "1", "0", "0", "-", cgroup, user, program_argv[0], *program_argv],
                           preexec_fn=lambda: os.dup2(fd, 3), pass_fds=(fd, 3), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30, env=env)
        theirs.close()
        self.stderr = p.stderr.decode(errors="replace")
        ours.settimeout(5)
        got = b""
        while True:
            try:
                chunk = ours.recv(4096)
            except ConnectionResetError:  # it ended without reading what was sent
                break
            if not chunk:
                break
            got += chunk
        return p.returncode, got, exit_file


    def run_shim_held(self, program_argv, ours, theirs):
        got = []

        def stand_in():  # reads up to the end line, answers it, then reads what follows
            text = b""
            ours.settimeout(10)
            while not (b"\nexit " in text and text.endswith(b"\n")):
                chunk = ours.recv(4096)
                if not chunk:
                    break
                text += chunk
            ours.sendall(b"h")
            got.append(text)
        reader = threading.Thread(target=stand_in)
        reader.start()
        exit_file = os.path.join(self.home, "run.exit")
        fd = theirs.fileno()
        p = subprocess.run([SHIM, exit_file, self.home, "SBX_RUN_TOKEN=t", "-", "1", "0", "0", "-", "-", "-",
                            program_argv[0], *program_argv],
                           preexec_fn=lambda: os.dup2(fd, 3), pass_fds=(fd, 3), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        theirs.close()
        self.stderr = p.stderr.decode(errors="replace")
        reader.join(10)
        return p.returncode, got[0] if got else b"", exit_file


class Shim(ShimCase):
    def test_without_go_nothing_starts(self):
        marker = os.path.join(self.home, "ran")
        rc, got, exit_file = self.run_shim(["/bin/sh", "-c", f"touch {marker}"], go=False)
        self.assertEqual(rc, 0)
        self.assertEqual(got, b"", "a waiter that was not told to go reported a run")
        self.assertFalse(os.path.exists(marker), "the program ran without a go")
        self.assertFalse(os.path.exists(exit_file))

    def test_a_cgroup_it_cannot_enter_starts_nothing(self):
        marker = os.path.join(self.home, "ran")
        rc, got, exit_file = self.run_shim(["/bin/sh", "-c", f"touch {marker}"], go=True,
                                           cgroup=os.path.join(self.home, "no-such-cgroup"))
        self.assertEqual(rc, 1)
        self.assertEqual(got.decode(), f"err cgroup {errno.ENOENT}\n")
        self.assertFalse(os.path.exists(marker), "the program ran outside its cgroup")

    def test_go_starts_it_and_the_status_is_reported(self):
        rc, got, exit_file = self.run_shim(["/bin/sh", "-c", "exit 3"], go=True)
        self.assertEqual(rc, 0)
        lines = got.decode().splitlines()
        self.assertRegex(lines[0], r"^ok \d+$")
        self.assertEqual(lines[1:], [f"exit {3 << 8}"])
        with open(exit_file) as f:  # nobody held the status: the file has it
            self.assertEqual(f.read(), f"{3 << 8}\n")

    def test_a_status_held_by_sbxd_costs_no_exit_file(self):
        rc, got, exit_file = self.run_shim(["/bin/sh", "-c", "exit 3"], go=True, held=True)
        self.assertEqual(rc, 0, self.stderr)
        lines = got.decode().splitlines()
        self.assertRegex(lines[0], r"^ok \d+$")
        self.assertEqual(lines[1:], [f"exit {3 << 8}"])
        self.assertFalse(os.path.exists(exit_file), "an exit file although sbxd held the status")
        self.assertFalse(os.path.exists(exit_file + ".tmp"))

    def test_the_program_is_reaped_only_after_its_status_is_reported(self):
        """Observed for real with strace -f: the shim's waitid(..., WEXITED|WNOWAIT) for the
        program comes before the 'exit' report on fd 3, which comes before the wait4 that
        reaps the program; the exit file (no 'h' came) is renamed into place after that."""
        strace = shutil.which("strace")
        if not strace:
            self.fail("strace is not installed (README's install command installs it)")
        log = os.path.join(self.home, "strace.log")
        rc, got, exit_file = self.run_shim(
            ["/bin/sh", "-c", "exit 3"], go=True,
            wrap=(strace, "-f", "-qq", "-o", log, "-e", "trace=waitid,wait4,rename,renameat,renameat2,write"))
        trace = ""
        if os.path.exists(log):
            with open(log) as f:
                trace = f.read()
        if rc != 0 and "Operation not permitted" in self.stderr:
            self.skipTest(f"ptrace is not permitted here: {self.stderr.strip()}")
        self.assertEqual(rc, 0, trace)
        program = int(got.decode().splitlines()[0].split()[1])
        lines = trace.splitlines()

        def first(pred, what):
            for n, line in enumerate(lines):
                if pred(line):
                    return n
            self.fail(f"no {what} in the trace:\n{trace}")
        waited = first(lambda l: "WNOWAIT" in l and "waitid" in l or ("waitid resumed" in l and "WNOWAIT" in l),
                       "waitid(WNOWAIT)")
        renamed = first(lambda l: "rename" in l and exit_file + ".tmp" in l, "rename of the exit file")
        reported = first(lambda l: 'write(3, "exit ' in l, "exit report")
        reaped = first(lambda l: l.split()[1].startswith(("wait4(", "waitid(")) and str(program) in l
                       and "WNOWAIT" not in l and "unfinished" not in l, "reap of the program")
        self.assertLess(waited, reported, trace)
        self.assertLess(reported, reaped, trace)
        self.assertLess(reaped, renamed, trace)

    def test_a_malformed_user_starts_nothing(self):
        marker = os.path.join(self.home, "ran")
        rc, got, _ = self.run_shim(["/bin/sh", "-c", f"touch {marker}"], go=True, user="1:x:")
        self.assertEqual(rc, 1)
        self.assertEqual(got, f"err user {errno.EINVAL}\n".encode())
        self.assertFalse(os.path.exists(marker))

    @unittest.skipUnless(os.geteuid() == 0, "setting another user needs root")
    def test_the_program_alone_takes_on_the_user(self):
        out = os.path.join(self.home, "ids")
        os.chmod(self.home, 0o777)  # the program, as another user, writes here
        rc, got, _ = self.run_shim(["/bin/sh", "-c", f"id -u > {out}; id -g >> {out}; id -G >> {out}"],
                                   go=True, user="4000000123:4000000124:4000000124,4000000125")
        self.assertEqual(rc, 0, self.stderr)
        self.assertRegex(got.decode().splitlines()[0], r"^ok \d+$")
        with open(out) as f:
            self.assertEqual(f.read().split(), ["4000000123", "4000000124", "4000000124", "4000000125"])


if __name__ == "__main__":
    main()
