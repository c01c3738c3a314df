#!/usr/bin/env python3
"""sbx wait-log: substring and regex, streams, old and new output, split lines, timeouts,
a process that ends first, a last line without newline, usage errors."""
import json
import os
import time

from harness import PY, SbxTestCase, main, pid_alive, wait_until

# print argv[1] (\n-separated, python escapes allowed) to stdout, then sleep
PRINT_THEN_SLEEP = ("import sys,time\n"
                    "sys.stdout.write(sys.argv[1]);sys.stdout.flush()\n"
                    "time.sleep(300)\n")
# wait for the go-file argv[1], then write argv[2] to stdout and argv[3] to stderr, then sleep
GATED = ("import os,sys,time\n"
         "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
         "sys.stdout.write(sys.argv[2]);sys.stdout.flush()\n"
         "sys.stderr.write(sys.argv[3]);sys.stderr.flush()\n"
         "time.sleep(300)\n")


class WaitLogCase(SbxTestCase):
    def go_file(self) -> str:
        return os.path.join(self.home, "go")


class Match(WaitLogCase):
    def test_substring_in_new_output(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", GATED, go, "booting\nserver listening on 8080\nmore\n", "")
        p = self.spawn("wait-log", i, "listening on", "--timeout", "20s")
        self.assertStillWaiting(p, "wait-log")
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual((p.returncode, out, err), (0, b"server listening on 8080\n", b""))
        self.assertEqual(self.status(i), "running")

    def test_plain_pattern_is_not_a_regex(self):
        i = self.start("--", PY, "-c", PRINT_THEN_SLEEP, "abc\nx+y\nvalue a.c here\n")
        r = self.run("wait-log", i, "a.c", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"value a.c here\n"), r.stderr)
        r = self.run("wait-log", i, "x+y", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"x+y\n"), r.stderr)

    def test_first_matching_line_is_printed(self):
        i = self.start("--", PY, "-c", PRINT_THEN_SLEEP, "zero\nready 1\nready 2\n")
        r = self.run("wait-log", i, "ready", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"ready 1\n"), r.stderr)

    def test_regex_with_capture_groups_json(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", GATED, go, "starting\nlistening on port 4242 (worker 7)\n", "")
        p = self.spawn("wait-log", i, "-E", r"port ([0-9]+) \(worker ([0-9]+)\)", "--json", "--timeout", "20s")
        self.assertStillWaiting(p, "wait-log")
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out.count(b"\n"), 1, out)
        obj = json.loads(out)
        self.assertEqual(obj["line"], "listening on port 4242 (worker 7)")
        self.assertEqual(obj["match"], ["port 4242 (worker 7)", "4242", "7"])
        self.assertEqual(obj["stream"], "stdout")
        # plain output of the same regex: the line only
        r = self.run("wait-log", i, "-E", r"port ([0-9]+)", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"listening on port 4242 (worker 7)\n"), r.stderr)
        # anchors apply to the line (without its newline)
        r = self.run("wait-log", i, "-E", r"^starting$", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"starting\n"), r.stderr)

    def test_plain_json_match_is_the_pattern(self):
        i = self.start("--", PY, "-c", PRINT_THEN_SLEEP, "the server is ready now\n")
        r = self.run("wait-log", i, "ready", "--json", "--timeout", "10s")
        self.assertEqual(r.returncode, 0, r.stderr)
        obj = json.loads(r.stdout)
        self.assertEqual(obj["line"], "the server is ready now")
        self.assertEqual(obj["match"][0], "ready")
        self.assertEqual(obj["stream"], "stdout")


class Streams(WaitLogCase):
    def test_pattern_on_stderr(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", GATED, go, "only stdout here\n", "warn: db READY on stderr\n")
        p = self.spawn("wait-log", i, "READY", "--timeout", "20s")
        self.assertStillWaiting(p, "wait-log")
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual((p.returncode, out), (0, b"warn: db READY on stderr\n"), err)
        r = self.run("wait-log", i, "READY", "--stream", "stderr", "--json", "--timeout", "10s")
        self.assertEqual(r.returncode, 0, r.stderr)
        obj = json.loads(r.stdout)
        self.assertEqual((obj["line"], obj["stream"]), ("warn: db READY on stderr", "stderr"))
        self.assertEqual(obj["match"], ["READY"])

    def test_stream_stdout_does_not_see_stderr(self):
        i = self.start("echo 'alpha on stdout'; echo 'beta on stderr' >&2; exec sleep 300")
        wait_until(lambda: self.read_log(i, "stderr") == b"beta on stderr\n", 5, "stderr line")
        t0 = time.monotonic()
        r = self.run("wait-log", i, "beta", "--stream", "stdout", "--timeout", "1s")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 124, f"stdout={r.stdout!r} stderr={r.stderr!r}")
        self.assertEqual(r.stdout, b"")
        self.assertGreaterEqual(took, 0.8)
        self.assertLess(took, 6)
        r = self.run("wait-log", i, "alpha", "--stream", "stderr", "--timeout", "500ms")
        self.assertEqual(r.returncode, 124, r.stderr)
        r = self.run("wait-log", i, "alpha", "--stream", "stdout", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"alpha on stdout\n"), r.stderr)


class OldOutput(WaitLogCase):
    def test_pattern_already_in_log(self):
        i = self.start("--", PY, "-c", PRINT_THEN_SLEEP, "x\nalready ready\ny\n")
        wait_until(lambda: self.read_log(i) == b"x\nalready ready\ny\n", 5, "output in the log")
        t0 = time.monotonic()
        r = self.run("wait-log", i, "ready", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"already ready\n", b""))
        self.assertLess(time.monotonic() - t0, 3)

    def test_pattern_in_log_of_ended_process(self):
        i = self.start("--", PY, "-c", "print('one');print('done: ok');print('three')")
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.run("wait-log", i, "done", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"done: ok\n"), r.stderr)


class BigLog(WaitLogCase):
    def test_match_after_megabytes_and_in_a_long_line(self):
        code = ("import sys,time\n"
                "for k in range(60000): sys.stdout.write('noise line %06d ........................\\n' % k)\n"
                "sys.stdout.write('x' * 200000 + ' NEEDLE ' + 'y' * 1000 + '\\n');sys.stdout.flush()\n"
                "time.sleep(300)\n")
        i = self.start("--", PY, "-c", code)
        r = self.run("wait-log", i, "NEEDLE", "--timeout", "20s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"x" * 200000 + b" NEEDLE " + b"y" * 1000 + b"\n")
        r = self.run("wait-log", i, "noise line 059999", "--timeout", "20s")
        self.assertEqual((r.returncode, r.stdout), (0, b"noise line 059999 ........................\n"), r.stderr)


class SplitLines(WaitLogCase):
    def test_line_split_across_two_writes(self):
        go = self.go_file()
        code = ("import os,sys,time\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                "sys.stdout.write('rea');sys.stdout.flush();time.sleep(0.3)\n"
                "sys.stdout.write('dy\\n');sys.stdout.flush();time.sleep(300)\n")
        i = self.start("--", PY, "-c", code, go)
        p = self.spawn("wait-log", i, "ready", "--timeout", "20s")
        self.assertStillWaiting(p, "wait-log", 0.3)
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual((p.returncode, out, err), (0, b"ready\n", b""))

    def test_wait_begins_between_the_two_halves(self):
        code = ("import sys,time\n"
                "sys.stdout.write('first line\\nserver rea');sys.stdout.flush();time.sleep(1.0)\n"
                "sys.stdout.write('dy at last\\n');sys.stdout.flush();time.sleep(300)\n")
        i = self.start("--", PY, "-c", code)
        wait_until(lambda: self.read_log(i).endswith(b"rea"), 5, "first half")
        r = self.run("wait-log", i, "ready", "--timeout", "20s")
        self.assertEqual((r.returncode, r.stdout), (0, b"server ready at last\n"), r.stderr)
        r = self.run("wait-log", i, "-E", r"server (re)ady", "--json", "--timeout", "5s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["match"], ["server ready", "re"])


class Timeout(WaitLogCase):
    def test_timeout_runs_out(self):
        i = self.start("--", PY, "-c", PRINT_THEN_SLEEP, "something else\n")
        for d in ("1s", "0.5", "300ms"):
            t0 = time.monotonic()
            r = self.run("wait-log", i, "never-printed", "--timeout", d)
            took = time.monotonic() - t0
            self.assertEqual(r.returncode, 124, f"--timeout {d}: {r.stderr!r}")
            self.assertEqual(r.stdout, b"")
            self.assertGreaterEqual(took, 0.25, d)
            self.assertLess(took, 6, d)
        self.assertEqual(self.status(i), "running")


class ProcessEndsFirst(WaitLogCase):
    def test_exit_before_match_is_prompt(self):
        code = "import time\nprint('hello', flush=True)\ntime.sleep(1.0)\nprint('bye', flush=True)\n"
        i = self.start("--", PY, "-c", code)
        pid = self.show(i)["pid"]
        p = self.spawn("wait-log", i, "never-printed")   # no --timeout: only the end can stop it
        self.assert_gives_up_when_ended(p, pid, "wait-log")

    def test_exit_before_match_with_timeout(self):
        i = self.start("--", PY, "-c", "import time\ntime.sleep(0.5)\nraise SystemExit(3)")
        t0 = time.monotonic()
        r = self.run("wait-log", i, "never-printed", "--timeout", "30s")
        self.assertEndedError(r, 1, "wait-log of a process that exits")
        self.assertLess(time.monotonic() - t0, 5)

    def test_ended_process_without_match_returns_at_once(self):
        i = self.start("--", "echo", "done")
        self.assertEqual(self.run("wait", i).returncode, 0)
        t0 = time.monotonic()
        r = self.run("wait-log", i, "never-printed")
        self.assertEndedError(r, 1, "wait-log of an ended process")
        self.assertLess(time.monotonic() - t0, 3)

    def test_killed_process_ends_the_wait(self):
        i = self.start("--", PY, "-c", PRINT_THEN_SLEEP, "up\n")
        p = self.spawn("wait-log", i, "never-printed", "--timeout", "60s")
        self.assertStillWaiting(p, "wait-log", 0.3)
        self.sbx_ok("kill", i)
        t0 = time.monotonic()
        out, err = p.communicate(timeout=15)
        self.assertEqual((p.returncode, out), (1, b""), err)
        self.assertLess(time.monotonic() - t0, 15, "ended long before its 60 s timeout")


class LastLineWithoutNewline(WaitLogCase):
    def test_matched_after_exit_while_waiting(self):
        go = self.go_file()
        code = ("import os,sys,time\n"
                "sys.stdout.write('line one\\nfinal ready');sys.stdout.flush()\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n")
        i = self.start("--", PY, "-c", code, go)
        wait_until(lambda: self.read_log(i).endswith(b"final ready"), 5, "last line")
        p = self.spawn("wait-log", i, "ready", "--timeout", "20s")
        self.wait_clients(1)
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual((p.returncode, out), (0, b"final ready\n"), err)

    def test_matched_in_ended_process(self):
        i = self.start("--", PY, "-c",
                       "import sys;sys.stderr.write('e\\n');sys.stdout.write('a\\nlast words, no newline')")
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.run("wait-log", i, "no newline", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, b"last words, no newline\n"), r.stderr)
        r = self.run("wait-log", i, "-E", r"(\w+) words", "--json", "--timeout", "10s")
        self.assertEqual(r.returncode, 0, r.stderr)
        obj = json.loads(r.stdout)
        self.assertEqual((obj["line"], obj["match"], obj["stream"]),
                         ("last words, no newline", ["last words", "last"], "stdout"))


class Errors(WaitLogCase):
    def test_unknown_id(self):
        self.assertErrorLine(self.run("wait-log", "nosuch", "x"), 3, "wait-log nosuch")
        self.assertErrorLine(self.run("wait-log", "nosuch", "x", "--timeout", "1s"), 3, "wait-log nosuch --timeout")

    def test_usage_errors(self):
        i = self.start("--", "sleep", "300")
        for args, what in ((("-E", "("), "bad regex '('"),
                           (("-E", "a[b"), "bad regex 'a[b'"),
                           (("x", "--stream", "both"), "bad --stream"),
                           (("x", "--stream", ""), "empty --stream"),
                           (("x", "--timeout", "5parsecs"), "bad duration"),
                           (("x", "--timeout", "-1s"), "negative duration")):
            t0 = time.monotonic()
            self.assertErrorLine(self.run("wait-log", i, *args, timeout=10), 2, what)
            self.assertLess(time.monotonic() - t0, 3, what)
        self.assertEqual(self.status(i), "running")


if __name__ == "__main__":
    main()
