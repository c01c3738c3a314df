#!/usr/bin/env python3
"""The spare waiter: sbxd starts `sbx-shim --spare` ahead of the next run and hands it that
run over its socket (shim/protocol.hpp), so that a start does not wait for an exec of
sbx-shim. A run it takes is the run a waiter of its own would have made: same program,
environment, directory, logs and status. A daemon that started nothing holds no spare, a
run too large for a spec gets a waiter of its own, and a spare that is gone costs a start
nothing but that exec."""
import os
import signal
import socket
import struct
import subprocess
import time
import tomllib

from harness import SBXD, SbxTestCase, is_waiter, main, pid_alive, proc_children, proc_environ, wait_until

SHIM = os.path.join(os.path.dirname(SBXD), "sbx-shim")
SPEC_MAGIC = 0x31584253
SPEC_MAX = 64 * 1024
SPARE_FILES = 5


def cmdline(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:-1]
    except OSError:
        return []


def is_spare_process(pid: int) -> bool:
    return is_waiter(pid) and cmdline(pid)[1:2] == [b"--spare"]


class SpareByHand(SbxTestCase):
    """The shim as a spare, with the test as its sbxd."""

    def spare(self, first: bytes = b""):
        """A spare with the folder `pool` for its files; `first` is waiting for it on fd 3."""
        self.pool = os.path.join(self.home, "pool")
        os.makedirs(self.pool, exist_ok=True)
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        if first:
            ours.sendall(first)
        fd = theirs.fileno()
        p = subprocess.Popen([SHIM, "--spare", self.pool], preexec_fn=lambda: os.dup2(fd, 3), pass_fds=(fd, 3),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={})
        theirs.close()
        self.addCleanup(p.stderr.close)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p, ours

    def spec(self, argv, env, cwd="/"):
        args = [SHIM, os.path.join(self.home, "run.exit"), cwd, "SBX_RUN_TOKEN=tok", "-", "1", "0",
                "0", "-", "-", "-", argv[0], *argv]
        text = b"".join(a.encode() + b"\0" for a in args + env)
        return struct.pack("=IIII", SPEC_MAGIC, len(text), len(args), len(env)) + text

    def test_without_a_spec_it_starts_nothing(self):
        p, ours = self.spare()
        wait_until(lambda: len(os.listdir(self.pool)) == SPARE_FILES, 10, "the spare's pool files")
        ours.shutdown(socket.SHUT_WR)
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(ours.recv(100), b"", "a spare with no run reported one")
        made = sorted(os.listdir(self.pool))
        self.assertEqual(made, [f"{p.pid}.{k}" for k in range(SPARE_FILES)])
        for name in made:
            st = os.stat(os.path.join(self.pool, name))
            self.assertEqual((st.st_size, st.st_mode & 0o777), (0, 0o600), name)

    def test_a_spare_whose_run_is_there_makes_no_pool_files(self):
        p, ours = self.spare(first=b"x")  # not a whole spec: it reads it, and goes
        ours.shutdown(socket.SHUT_WR)
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(os.listdir(self.pool), [])

    def test_a_spec_that_is_not_whole_starts_nothing(self):
        marker = os.path.join(self.home, "ran")
        p, ours = self.spare()
        log = os.open(os.path.join(self.home, "out"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.addCleanup(os.close, log)
        spec = self.spec(["/bin/sh", "-c", f"touch {marker}"], [])
        socket.send_fds(ours, [spec[:-5]], [0, log, log, log])
        ours.sendall(b"g")
        ours.shutdown(socket.SHUT_WR)
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(ours.recv(100), b"")
        self.assertFalse(os.path.exists(marker), "a spare ran a spec cut short")

    def test_a_whole_spec_waits_for_the_go(self):
        # sbxd sends the spec before it records the run: until the "g", nothing may start.
        marker = os.path.join(self.home, "ran")
        p, ours = self.spare()
        log = os.open(os.path.join(self.home, "out"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.addCleanup(os.close, log)
        socket.send_fds(ours, [self.spec(["/bin/sh", "-c", f"touch {marker}"], [])], [0, log, log, log])
        time.sleep(0.5)  # time to start it, were it to go on without the "g"
        self.assertIsNone(p.poll(), "a spare with its spec did not wait for the go")
        self.assertFalse(os.path.exists(marker), "a spare ran its spec before the go")
        ours.shutdown(socket.SHUT_WR)  # sbxd could not record the run: no "g"
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(ours.recv(100), b"", "a spare that was never let go reported")
        self.assertFalse(os.path.exists(marker), "a spare that was never let go ran its spec")

    def test_a_whole_spec_runs_as_its_command_line_says(self):
        p, ours = self.spare()
        out_path = os.path.join(self.home, "out")
        log = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.addCleanup(os.close, log)
        work = os.path.join(self.home, "work")
        os.mkdir(work)
        spec = self.spec(["/bin/sh", "-c", 'echo "$FOO $SBX_RUN_TOKEN $(pwd)"; exit 5'], ["FOO=bar baz"], work)
        index = os.open(os.path.join(self.home, "index"), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self.addCleanup(os.close, index)
        socket.send_fds(ours, [spec], [0, log, log, index])
        ours.sendall(b"g")
        ours.settimeout(10)
        got = b""
        while b"\nexit " not in got:
            chunk = ours.recv(4096)
            if not chunk:
                break
            got += chunk
        ours.sendall(b"h")
        self.assertEqual(p.wait(10), 0, p.stderr.read())
        lines = got.decode().splitlines()
        self.assertRegex(lines[0], r"^ok \d+$")
        self.assertEqual(lines[1:], [f"exit {5 << 8}"])
        with open(out_path, "rb") as f:
            self.assertEqual(f.read(), f"bar baz tok {work}\n".encode())
        self.assertFalse(os.path.exists(os.path.join(self.home, "run.exit")), "held, yet an exit file")
        self.assertEqual(os.path.getsize(os.path.join(self.home, "index")), 32, "not one index entry")


class SpareOfTheDaemon(SbxTestCase):
    def daemon_children(self) -> list[int]:
        return [p for p in proc_children(self.daemon_pid()) if pid_alive(p)]

    def spares(self) -> list[int]:
        return [p for p in self.daemon_children() if is_spare_process(p) and
                os.readlink(f"/proc/{p}/fd/1") == "/dev/null"]

    def the_spare(self) -> int:
        found = wait_until(lambda: self.spares(), 10, "a spare waiter")
        self.assertEqual(len(found), 1, "more than one spare")
        return found[0]

    def record(self, i: str) -> dict:
        with open(os.path.join(self.home, "state", "processes", f"{i}.toml"), "rb") as f:
            return tomllib.load(f)

    def test_a_start_takes_the_spare_and_runs_as_it_would_without(self):
        self.sbx_ok("ps")
        self.assertEqual([p for p in self.daemon_children() if is_waiter(p)], [],
                         "a daemon that started nothing holds a waiter")
        self.start("--id", "first", "--", "true")
        spare = self.the_spare()
        self.assertEqual([k for k in proc_environ(spare) if not k.endswith("SAN_OPTIONS")], [],
                         "a spare carries an environment (but a sanitizer's options)")
        work = os.path.join(self.home, "work")
        os.mkdir(work)
        i = self.start("--id", "second", "--cwd", work, "-e", "FOO=bar", "--",
                       "sh", "-c", 'echo "$FOO $SBX_PROCESS_ID $(pwd)"; echo oops >&2; exit 4')
        self.assertEqual(self.run("wait", i).returncode, 4)
        self.assertEqual(self.record(i)["waiter_pid"], spare, "the start did not take the spare")
        # Of the files it made while it waited, its run's record took two (the first writes go
        # through them), the next start's logs take the rest.
        pool = os.path.join(self.home, "state", "pool")
        left = lambda: sorted(f for d in os.listdir(pool) for f in os.listdir(os.path.join(pool, d))
                              if f.startswith(f"{spare}."))
        self.assertEqual(left(), [f"{spare}.2", f"{spare}.3", f"{spare}.4"])
        third = self.start("--id", "third", "--", "true")
        self.assertEqual(left(), [], "the next start's logs were not the pool's")
        self.assertEqual(self.run("wait", third).returncode, 0)
        self.assertEqual(self.read_log(i), f"bar second {work}\n".encode())
        self.assertEqual(self.read_log(i, "stderr"), b"oops\n")
        self.assertEqual(self.sbx_ok("logs", i).stdout, f"bar second {work}\n".encode())
        rec = self.show(i)
        self.assertEqual((rec["status"], rec["exit_code"]), ("failed", 4))
        wait_until(lambda: not pid_alive(spare), 10, "the spare-made waiter to go")
        self.assertNotEqual(self.the_spare(), spare, "no new spare after the start")
        self.sbx_ok("rm", "first", "second", "third")
        self.assertNothingLeft()

    def test_starts_that_need_no_new_files_do_not_grow_the_pool(self):
        for _ in range(8):  # the same id again and again: its files are there
            self.assertEqual(self.run("wait", self.start("--id", "again", "--", "true")).returncode, 0)
        pool = os.path.join(self.home, "state", "pool")
        held = sum(len(os.listdir(os.path.join(pool, d))) for d in os.listdir(pool))
        self.assertLessEqual(held, 3 * SPARE_FILES, "the pool grows with starts that take nothing")
        self.sbx_ok("rm", "again")
        self.assertNothingLeft()

    def test_a_run_too_large_for_a_spec_gets_a_waiter_of_its_own(self):
        self.start("--", "true")
        spare = self.the_spare()
        big = "x" * (SPEC_MAX + 1)
        i = self.start("-e", f"BIG={big}", "--", "sh", "-c", 'echo ${#BIG}')
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertNotEqual(self.record(i)["waiter_pid"], spare)
        self.assertEqual(self.read_log(i), f"{SPEC_MAX + 1}\n".encode())
        self.assertTrue(pid_alive(spare), "the spare went with a run it did not take")
        self.assertNothingLeft()

    def test_a_spare_that_is_gone_costs_nothing_but_an_exec(self):
        self.start("--", "true")
        spare = self.the_spare()
        os.kill(spare, signal.SIGKILL)
        wait_until(lambda: not pid_alive(spare), 10, "the spare to die")
        i = self.start("--", "sh", "-c", "echo fine")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertNotEqual(self.record(i)["waiter_pid"], spare)
        self.assertEqual(self.read_log(i), b"fine\n")
        self.the_spare()
        self.assertNothingLeft()

    def test_the_spare_goes_with_the_daemon(self):
        self.start("--", "true")
        spare = self.the_spare()
        self.sbx_ok("daemon", "stop")
        wait_until(lambda: not pid_alive(spare), 10, "the spare to go with its daemon")


if __name__ == "__main__":
    main()
