#!/usr/bin/env python3
"""sbx run: exit codes (its own, 128+N, 127, 124), output live and complete on both
streams and in the order written with 2>&1, SIGINT/SIGTERM/SIGHUP passed on (to the whole
tree), a second Ctrl-C, --rm, a shell line, a reader that goes away, a daemon restart on
the way."""
import os
import pty
import select
import signal
import subprocess
import tempfile
import threading

from harness import PY, SbxTestCase, main, pid_alive, prog, wait_until

# Traps SIGINT, SIGTERM and SIGHUP: prints "got NAME" and exits 40+N.
TRAP = ("import signal,sys,time\n"
        "def on(n, f):\n"
        "    print('got', signal.Signals(n).name, flush=True)\n"
        "    sys.exit(40 + n)\n"
        "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP): signal.signal(s, on)\n"
        "print('ready', flush=True)\n"
        "time.sleep(300)\n")
# Ignores SIGINT, SIGTERM and SIGHUP itself, runs TRAP as its child and exits with its code:
# only a signal sent to the whole tree reaches the trap.
TRAP_BELOW = ("import signal,subprocess,sys\n"
              "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP): signal.signal(s, signal.SIG_IGN)\n"
              "sys.exit(subprocess.Popen([sys.executable, '-c', %r]).wait())\n" % TRAP)
# Ignores SIGINT, saying so each time.
IGNORE_INT = ("import signal,time\n"
              "signal.signal(signal.SIGINT, lambda n, f: print('ignored', flush=True))\n"
              "print('ready', flush=True)\n"
              "while True: time.sleep(1)\n")
# Writes argv[2] lines to stdout and stderr, waits for the file argv[1], then writes
# 300000 bytes to stdout and 100000 to stderr, interleaved, and exits 0.
GATED = ("import os,sys,time\n"
         "sys.stdout.write('first\\n'); sys.stdout.flush()\n"
         "sys.stderr.write('first-err\\n'); sys.stderr.flush()\n"
         "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
         "for i in range(1000):\n"
         "    sys.stdout.write('o' * 299 + '\\n'); sys.stdout.flush()\n"
         "    if i % 10 == 0: sys.stderr.write('e' * 999 + '\\n'); sys.stderr.flush()\n")
GATED_OUT = b"first\n" + (b"o" * 299 + b"\n") * 1000
GATED_ERR = b"first-err\n" + (b"e" * 999 + b"\n") * 100


class Collect:
    """sbx run in the background, its stdout and stderr read as they come."""

    def __init__(self, case: SbxTestCase, *args):
        self.p = case.spawn("run", *args)
        self.out = bytearray()
        self.err = bytearray()
        self.threads = [threading.Thread(target=self._read, args=(self.p.stdout, self.out), daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err), daemon=True)]
        for t in self.threads:
            t.start()

    @staticmethod
    def _read(pipe, into: bytearray):
        while chunk := os.read(pipe.fileno(), 65536):
            into += chunk

    def wait_out(self, text: bytes, what: str, stream: str = "out", timeout: float = 15):
        buf = self.out if stream == "out" else self.err
        wait_until(lambda: text in buf, timeout, f"{what}: {text!r} on std{stream} of sbx run")

    def finish(self, timeout: float = 20) -> int:
        rc = self.p.wait(timeout=timeout)
        for t in self.threads:
            t.join(timeout)
        return rc


class ExitCodes(SbxTestCase):
    def test_zero_and_its_output(self):
        r = self.run("run", "--", "sh", "-c", "echo out; echo err >&2")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"out\n", b"err\n"))

    def test_its_own_exit_code(self):
        r = self.run("run", "--id", "three", "--", "sh", "-c", "echo bye; exit 3")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, b"bye\n", b""))
        self.assertEqual(self.show("three")["exit_code"], 3)

    def test_128_plus_the_signal_that_ended_it(self):
        c = Collect(self, "--id", "k9", "--", PY, "-c",
                    "import os,time; print(os.getpid(), flush=True); time.sleep(300)")
        wait_until(lambda: c.out.endswith(b"\n"), 15, "the pid")
        pid = int(c.out.decode())
        self.track(pid)
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(c.finish(), 128 + 9, bytes(c.err))
        rec = self.show("k9")
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGKILL"))

    def test_127_when_the_command_cannot_start_as_wait_says(self):
        r = self.run("run", "--id", "nope", "--", "no-such-program-sbx-run")
        self.assertErrorLine(r, 127, "run of a missing program")
        self.assertIn(b"could not start", r.stderr)
        self.assertEqual(self.run("wait", "nope").returncode, 127)
        r = self.run("run", "no-such-program-sbx-run --flag")  # a shell line exec'd directly
        self.assertErrorLine(r, 127, "run of a missing program as a shell line")
        r = self.run("run", "true && no-such-program-sbx-run")  # sh itself says 127
        self.assertEqual(r.returncode, 127, r.stderr)

    def test_124_when_its_timeout_ended_it(self):
        r = self.run("run", "--id", "slow", "--timeout", "300ms", "--", "sleep", "30")
        self.assertEqual(r.returncode, 124, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"--timeout", r.stderr)
        rec = self.show("slow")
        self.assertEqual((rec["status"], rec.get("reason")), ("killed", "timeout"))

    def test_usage(self):
        r = self.run("run")
        self.assertErrorLine(r, 2, "run without a command")
        self.assertIn(b"give a command: sbx run", r.stderr)
        r = self.run("run", "--bogus", "--", "true")
        self.assertErrorLine(r, 2, "run with an unknown option")
        self.assertIn(b"--bogus", r.stderr)
        r = self.run("run", "--timeout", "0", "--", "true")
        self.assertErrorLine(r, 2, "run with a zero timeout")
        self.assertIn(b"--timeout must be more than 0", r.stderr)


class Output(SbxTestCase):
    def test_live_and_complete_on_both_streams(self):
        go = os.path.join(self.home, "go")
        c = Collect(self, "--id", "g", "--", PY, "-c", GATED, go)
        # Printed while the process waits: sbx run prints as it comes, not at the end.
        c.wait_out(b"first\n", "live stdout")
        c.wait_out(b"first-err\n", "live stderr", "err")
        self.assertIsNone(c.p.poll())
        open(go, "w").close()
        self.assertEqual(c.finish(), 0, bytes(c.err))
        self.assertEqual(bytes(c.out), GATED_OUT)
        self.assertEqual(bytes(c.err), GATED_ERR)

    def test_true_order_with_2_to_1(self):
        # Both streams into one file: the order they were written in, as at a terminal.
        with tempfile.TemporaryFile() as out:
            p = self.spawn("run", "--", *prog("in_order"), "o:o1", "e:e1", "o:o2", "e:e2", "o:o3",
                           stdout=out, stderr=subprocess.STDOUT)
            rc, _, _ = self.finish(p, "sbx run 2>&1", timeout=30)
            out.seek(0)
            self.assertEqual((rc, out.read()), (0, b"o1\ne1\no2\ne2\no3\n"))

    def test_a_shell_line(self):
        r = self.run("run", "echo a && echo b >&2; exit 5")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (5, b"a\n", b"b\n"))

    def test_through_a_daemon_restart(self):
        go = os.path.join(self.home, "go")
        c = Collect(self, "--id", "g", "--", PY, "-c", GATED, go)
        c.wait_out(b"first\n", "live stdout")
        self.sbx_ok("daemon", "restart")
        open(go, "w").close()
        self.assertEqual(c.finish(), 0, bytes(c.err))
        self.assertEqual(bytes(c.out), GATED_OUT)
        self.assertEqual(bytes(c.err), GATED_ERR)

    def test_a_reader_that_goes_away_ends_it_as_sigpipe_and_stops_the_process(self):
        p = self.spawn("run", "--id", "yes", "--", PY, "-c",
                       "import sys\nwhile True: sys.stdout.write('y' * 99 + '\\n')")
        self.assertTrue(os.read(p.stdout.fileno(), 100))
        p.stdout.close()
        rc = p.wait(timeout=20)
        self.assertEqual(rc, -signal.SIGPIPE, p.stderr.read())
        rec = self.wait_status("yes", "killed", timeout=20)
        self.assertEqual(rec.get("reason"), "kill")


class Signals(SbxTestCase):
    def check_forwarded(self, sig: signal.Signals):
        c = Collect(self, "--id", "t", "--", PY, "-c", TRAP)
        c.wait_out(b"ready\n", "the trap")
        c.p.send_signal(sig)
        self.assertEqual(c.finish(), 40 + sig, bytes(c.err))
        self.assertEqual(bytes(c.out), b"ready\ngot " + sig.name.encode() + b"\n")
        self.assertEqual(self.show("t")["exit_code"], 40 + sig)

    def test_sigint_is_passed_on(self):
        self.check_forwarded(signal.SIGINT)

    def test_sigterm_is_passed_on(self):
        self.check_forwarded(signal.SIGTERM)

    def test_sighup_is_passed_on(self):
        self.check_forwarded(signal.SIGHUP)

    def test_a_signal_reaches_the_whole_tree(self):
        c = Collect(self, "--id", "tree", "--", PY, "-c", TRAP_BELOW)
        c.wait_out(b"ready\n", "the trap below the leader")
        c.p.send_signal(signal.SIGTERM)
        self.assertEqual(c.finish(), 40 + signal.SIGTERM, bytes(c.err))
        self.assertEqual(bytes(c.out), b"ready\ngot SIGTERM\n")

    def test_a_second_ctrl_c_kills_it(self):
        self.check_second_ctrl_c()

    def test_a_second_ctrl_c_ends_a_restart_always_for_good(self):
        self.check_second_ctrl_c("--restart", "always")

    def check_second_ctrl_c(self, *start_args):
        c = Collect(self, "--id", "stubborn", *start_args, "--", PY, "-c", IGNORE_INT)
        c.wait_out(b"ready\n", "the program")
        c.p.send_signal(signal.SIGINT)
        c.wait_out(b"ignored\n", "the first SIGINT")
        self.assertIsNone(c.p.poll())
        c.p.send_signal(signal.SIGINT)
        self.assertEqual(c.finish(), 128 + 9, bytes(c.err))
        rec = self.show("stubborn")
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGKILL"))
        self.assertFalse(pid_alive(rec["pid"]))


    def test_on_a_terminal_the_first_ctrl_c_says_what_a_second_does(self):
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        p = self.spawn("run", "--id", "tty", "--", PY, "-c", TRAP, stderr=slave)
        os.close(slave)
        out, said = bytearray(), bytearray()

        def read_into(fd, buf):
            if select.select([fd], [], [], 0.05)[0]:
                buf += os.read(fd, 4096)
            return buf
        wait_until(lambda: b"ready\n" in read_into(p.stdout.fileno(), out), 15, "the trap")
        p.send_signal(signal.SIGINT)
        wait_until(lambda: b"again within 2s" in read_into(master, said), 15,
                   "the line about a second Ctrl-C")
        self.assertEqual(p.wait(timeout=20), 40 + signal.SIGINT)
        self.assertIn(b"sbx: passed SIGINT on to 'tty'", said)


class Remove(SbxTestCase):
    def test_rm_removes_the_record_and_logs(self):
        r = self.run("run", "--rm", "--id", "gone", "--", "sh", "-c", "echo x; exit 4")
        self.assertEqual((r.returncode, r.stdout), (4, b"x\n"))
        self.assertErrorLine(self.run("show", "gone"), 3, "show of a run --rm")
        self.assertFalse(os.path.exists(self.logfile("gone", "stdout")))

    def test_rm_of_a_quick_process_loses_no_output(self):
        r = self.run("run", "--rm", "--", "echo", "quick")
        self.assertEqual((r.returncode, r.stdout), (0, b"quick\n"))
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"")

    def test_rm_of_a_command_that_cannot_start(self):
        r = self.run("run", "--rm", "--", "no-such-program-sbx-run")
        self.assertErrorLine(r, 127, "run --rm of a missing program")
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"")

    def test_the_record_is_kept_otherwise(self):
        r = self.run("run", "--id", "kept", "--", "sh", "-c", "echo x")
        self.assertEqual((r.returncode, r.stdout), (0, b"x\n"))
        self.assertEqual(self.show("kept")["status"], "completed")
        self.assertEqual(self.sbx_ok("logs", "kept").stdout, b"x\n")


if __name__ == "__main__":
    main()
