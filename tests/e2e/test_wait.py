#!/usr/bin/env python3
"""sbx wait: exit codes, signals, timeouts, several waiters."""
import os
import subprocess
import time

from harness import PY, SbxTestCase, main, pid_alive, prog, wait_until

SELF_SIGNAL = "import os,signal,sys;os.kill(os.getpid(), getattr(signal, sys.argv[1]))"


class WaitCodes(SbxTestCase):
    def test_exit_codes(self):
        for code in (0, 1, 7, 42, 255):
            i = self.start("--", PY, "-c", f"raise SystemExit({code})")
            r = self.run("wait", i)
            self.assertEqual(r.returncode, code, r.stderr)
            self.assertEqual(r.stderr, b"")

    def test_signal_deaths(self):
        for sig, num in (("SIGTERM", 15), ("SIGKILL", 9), ("SIGHUP", 1), ("SIGUSR1", 10)):
            i = self.start("--", PY, "-c", SELF_SIGNAL, sig)
            self.assertEqual(self.run("wait", i).returncode, 128 + num, sig)
            rec = self.show(i)
            self.assertEqual((rec["status"], rec.get("signal")), ("killed", sig))

    def test_wait_blocks_until_end(self):
        go = os.path.join(self.home, "go")
        i = self.start("--", *prog("exit_on_flag"), go, "3")
        p = self.spawn("wait", i, stdout=subprocess.DEVNULL)
        pid = self.show(i)["pid"]
        # the waiter must still be waiting while the process runs
        self.assertRaises(subprocess.TimeoutExpired, p.wait, 0.5)
        open(go, "w").close()
        self.assertEqual(p.wait(timeout=10), 3)
        self.assertFalse(pid_alive(pid))

    def test_wait_after_end_returns_at_once(self):
        i = self.start("exit 5")
        self.assertEqual(self.run("wait", i).returncode, 5)
        t0 = time.monotonic()
        self.assertEqual(self.run("wait", i).returncode, 5)
        self.assertEqual(self.run("wait", i, "--timeout", "100ms").returncode, 5)
        self.assertLess(time.monotonic() - t0, 3)

    def test_many_waiters(self):
        go = os.path.join(self.home, "go")
        i = self.start("--", *prog("exit_on_flag"), go, "9")
        ps = [self.spawn("wait", i, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(5)]
        open(go, "w").close()
        self.assertEqual([p.wait(timeout=15) for p in ps], [9] * 5)

    def test_wait_error_record(self):
        r = self.run("start", "--id", "e", "--", "/nonexistent/sbx-e2e")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.run("wait", "e").returncode, 127)
        self.assertEqual(self.run("wait", "e", "--timeout", "1s").returncode, 127)


class WaitTimeout(SbxTestCase):
    def test_timeout_runs_out(self):
        i = self.start("--", "sleep", "300")
        for d in ("250ms", "0.3", "1s"):
            t0 = time.monotonic()
            r = self.run("wait", i, "--timeout", d)
            took = time.monotonic() - t0
            self.assertEqual(r.returncode, 124, f"--timeout {d}: {r.stderr!r}")
            self.assertEqual(r.stdout, b"")
            self.assertGreaterEqual(took, 0.2, d)
            self.assertLess(took, 5, d)
        self.assertEqual(self.status(i), "running")

    def test_duration_forms_accepted(self):
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        for d in ("250ms", "5s", "2m", "1h", "1.5", "10"):
            self.assertEqual(self.run("wait", i, "--timeout", d).returncode, 0, d)

    def test_process_ends_before_timeout(self):
        i = self.start("--", PY, "-c", "import time;time.sleep(0.3);raise SystemExit(6)")
        t0 = time.monotonic()
        self.assertEqual(self.run("wait", i, "--timeout", "20s").returncode, 6)
        self.assertLess(time.monotonic() - t0, 10)

    def test_bad_duration(self):
        i = self.start("--", "sleep", "300")
        for d in ("5parsecs", "abc", "-1s", "1.2.3"):
            self.assertErrorLine(self.run("wait", i, "--timeout", d, timeout=5), 2, f"wait --timeout {d!r}")

    def test_unknown_id(self):
        self.assertErrorLine(self.run("wait", "nosuch"), 3, "wait nosuch")
        self.assertErrorLine(self.run("wait", "nosuch", "--timeout", "1s"), 3, "wait nosuch --timeout")


if __name__ == "__main__":
    main()
