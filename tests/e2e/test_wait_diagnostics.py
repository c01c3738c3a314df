#!/usr/bin/env python3
"""What a failed readiness wait tells: a wait-log that timed out says how much the process
wrote (and, when nothing reached stdout, that it may be block-buffered); a wait that failed
because the process ended shows the last 20 lines of its output."""
from harness import PY, SbxTestCase, free_port, main, wait_until

HINT = (b"its stdout may be block-buffered: start it with --tty, or set PYTHONUNBUFFERED=1 / "
        b"run python3 -u")
# A print that sits in the buffer of a stdout that is not a terminal.
BUFFERED = "print('ready'); import time; time.sleep(300)"
# Prints line 1..30 on stdout, then exits 3.
THIRTY = "for i in range(1, 31): print('line', i)\nraise SystemExit(3)"
LAST_TWENTY = b"".join(b"  | line %d\n" % i for i in range(11, 31))


class TimeoutHint(SbxTestCase):
    def start_buffered(self, *start_args) -> str:
        return self.start(*start_args, "--", PY, "-c", BUFFERED, env_remove=("PYTHONUNBUFFERED",))

    def test_nothing_written_hints_at_buffering(self):
        i = self.start_buffered()
        r = self.run("wait-log", i, "ready", "--timeout", "500ms")
        self.assertErrorLine(r, 124, "wait-log of a block-buffered program")
        self.assertIn(b"has written 0 bytes to stdout and 0 to stderr so far: " + HINT, r.stderr)
        self.assertEqual(r.stderr.count(b"block-buffered"), 1)

    def test_start_wait_log_says_it_too(self):
        r = self.run("start", "--id", "b", "--wait-log", "ready", "--wait-timeout", "500ms", "--",
                     PY, "-c", BUFFERED, env_remove=("PYTHONUNBUFFERED",))
        self.show("b")
        self.assertEqual((r.returncode, r.stdout), (124, b"b\n"), r.stderr)
        self.assertIn(HINT, r.stderr)
        self.assertEqual(r.stderr.count(b"\n"), 1, r.stderr)

    def test_bytes_written_and_no_hint_when_stdout_has_some(self):
        i = self.start("--", PY, "-u", "-c",
                       "import sys,time; print('hello'); sys.stderr.write('oops\\n'); time.sleep(300)")
        self.wait_until_logged(i, b"hello\n")
        r = self.run("wait-log", i, "ready", "--timeout", "500ms")
        self.assertErrorLine(r, 124, "wait-log of a program that wrote something else")
        self.assertIn(b"has written 6 bytes to stdout and 5 to stderr so far", r.stderr)
        self.assertNotIn(b"block-buffered", r.stderr)

    def wait_until_logged(self, i: str, data: bytes):
        wait_until(lambda: self.read_log(i) == data and self.read_log(i, "stderr"), 15, "its output")


class LastLines(SbxTestCase):
    def check_tail(self, r, code: int = 1):
        err = r.stderr
        first, _, rest = err.partition(b"\n")
        self.assertEqual(r.returncode, code, err)
        self.assertTrue(first.startswith(b"sbx: ") and b"ended" in first, err)
        head, _, lines = rest.partition(b"\n")
        self.assertTrue(head.startswith(b"sbx: the end of its output"), err)
        self.assertEqual(lines, LAST_TWENTY)

    def ended_thirty(self, i: str) -> str:
        i = self.start("--id", i, "--", PY, "-c", THIRTY)
        self.wait_status(i, "failed", timeout=15)
        return i

    def test_wait_log(self):
        i = self.ended_thirty("w")
        self.check_tail(self.run("wait-log", i, "never", "--timeout", "20s"))

    def test_wait_port(self):
        i = self.ended_thirty("p")
        self.check_tail(self.run("wait-port", i, str(free_port()), "--timeout", "20s"))

    def test_start_wait_log(self):
        r = self.run("start", "--id", "s", "--wait-log", "never", "--", PY, "-c", THIRTY)
        self.show("s")
        self.assertEqual(r.stdout, b"s\n")
        self.check_tail(r)

    def test_start_wait_port(self):
        r = self.run("start", "--id", "sp", "--wait-port", str(free_port()), "--", PY, "-c", THIRTY)
        self.show("sp")
        self.assertEqual(r.stdout, b"sp\n")
        self.check_tail(r)

    def test_stderr_is_shown_too(self):
        i = self.start("--", "sh", "-c", "echo boom >&2; exit 2")
        self.wait_status(i, "failed", timeout=15)
        r = self.run("wait-log", i, "never")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.endswith(b"\n  | boom\n"), r.stderr)

    def test_no_output(self):
        i = self.start("--", "sh", "-c", "exit 2")
        self.wait_status(i, "failed", timeout=15)
        r = self.run("wait-log", i, "never")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count(b"\n"), 2, r.stderr)
        self.assertTrue(r.stderr.endswith(b"wrote no output\n"), r.stderr)


if __name__ == "__main__":
    main()
