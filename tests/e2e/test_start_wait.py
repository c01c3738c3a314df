#!/usr/bin/env python3
"""sbx start --wait-log / --wait-port [--http] [--wait-timeout]: returns once ready;
exit 1 when the process ends first, 124 when the wait runs out (process left running)."""
import os
import socket
import time

from harness import can_connect, free_port, http_status, PY, SbxTestCase, main, pid_alive, wait_until


class StartWaitCase(SbxTestCase):
    def setUp(self):
        super().setUp()
        self.www = self.make_www()

    def start_waiting(self, *args, timeout=30):
        """sbx start ARGS; return (CompletedProcess, id or None, seconds); track the pid."""
        t0 = time.monotonic()
        r = self.run("start", *args, timeout=timeout)
        took = time.monotonic() - t0
        first = r.stdout.decode(errors="replace").split("\n", 1)[0].strip()
        pid_id = first or None
        if pid_id:
            self.show(pid_id)
        return r, pid_id, took

    def assertIdOnly(self, r, what=""):
        ctx = f"{what}: rc={r.returncode} stdout={r.stdout!r} stderr={r.stderr!r}"
        self.assertTrue(r.stdout.endswith(b"\n"), ctx)
        self.assertEqual(r.stdout.count(b"\n"), 1, ctx)

    def assertFailed(self, r, code, what):
        """One error line (for a process that ended first, then the end of its output)."""
        ctx = f"{what}: rc={r.returncode} stdout={r.stdout!r} stderr={r.stderr!r}"
        self.assertEqual(r.returncode, code, ctx)
        self.assertIdOnly(r, what)      # the id is printed before the wait
        self.assertTrue(r.stderr.startswith(b"sbx: "), ctx)
        if code == 1:
            self.assertEndedTail(r.stderr, what)
        else:
            self.assertEqual(r.stderr.rstrip(b"\n").count(b"\n"), 0, ctx)

    def server_argv(self, port: int, delay: float = 0.0):
        if delay:
            return ["--cwd", self.www, "--", "sh", "-c",
                    f'sleep {delay}; exec "$0" -m http.server {port} --bind 127.0.0.1', PY]
        return ["--cwd", self.www, "--", PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


class WaitLogOk(StartWaitCase):
    def test_returns_once_the_line_appears(self):
        code = ("import sys,time\nprint('booting',flush=True)\ntime.sleep(1.0)\n"
                "sys.stderr.write('server ready on 1234\\n');sys.stderr.flush()\ntime.sleep(300)\n")
        r, i, took = self.start_waiting("--id", "svc", "--wait-log", "ready on", "--wait-timeout", "20s",
                                        "--", PY, "-c", code)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"svc\n", b""))
        self.assertGreaterEqual(took, 0.9, "start returned before the line was written")
        self.assertLess(took, 10)
        self.assertIn(b"server ready on 1234\n", self.read_log(i, "stderr"))
        self.assertEqual(self.status(i), "running")

    def test_line_split_across_writes(self):
        code = ("import sys,time\nsys.stdout.write('rea');sys.stdout.flush();time.sleep(0.3)\n"
                "sys.stdout.write('dy\\n');sys.stdout.flush();time.sleep(300)\n")
        r, i, took = self.start_waiting("--wait-log", "ready", "--", PY, "-c", code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIdOnly(r)
        self.assertEqual(self.read_log(i), b"ready\n")
        self.assertEqual(self.status(i), "running")

    def test_immediate_line_and_shell_form(self):
        r, i, took = self.start_waiting("--wait-log", "hello", "--wait-timeout", "10s",
                                        "echo hello there; exec sleep 300")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIdOnly(r)
        self.assertLess(took, 5)
        self.assertEqual(self.status(i), "running")

    def test_line_then_exit_is_still_success(self):
        # the line was written before the end: the start succeeded
        r, i, took = self.start_waiting("--wait-log", "done", "--", PY, "-c", "print('done', flush=True)")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIdOnly(r)


class WaitLogFail(StartWaitCase):
    def test_process_ends_first(self):
        code = "import time\nprint('starting',flush=True)\ntime.sleep(1.0)\nraise SystemExit(3)"
        r, i, took = self.start_waiting("--wait-log", "never-printed", "--", PY, "-c", code)
        self.assertFailed(r, 1, "--wait-log, process exits first")
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 15, "start did not give up when the process ended")
        self.assertEqual(self.status(i), "failed")

    def test_process_ends_first_with_wait_timeout(self):
        r, i, took = self.start_waiting("--wait-log", "never-printed", "--wait-timeout", "30s",
                                        "--", PY, "-c", "import time;time.sleep(0.5)")
        self.assertFailed(r, 1, "--wait-log --wait-timeout 30s, process exits first")
        self.assertLess(took, 5)
        self.assertEqual(self.status(i), "completed")

    def test_wait_timeout_leaves_process_running(self):
        r, i, took = self.start_waiting("--id", "slow", "--wait-log", "never-printed", "--wait-timeout", "1s",
                                        "--", PY, "-c", "import time\nprint('working',flush=True)\ntime.sleep(300)")
        self.assertFailed(r, 124, "--wait-log --wait-timeout 1s")
        self.assertEqual(r.stdout, b"slow\n")
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 6)
        pid = self.show(i)["pid"]
        self.assertEqual(self.status(i), "running")
        self.assertEqual(self.run("wait", i, "--timeout", "300ms").returncode, 124)
        self.assertTrue(pid_alive(pid))
        self.sbx_ok("kill", i)
        self.assertEqual(self.status(i), "killed")
        self.assertFalse(pid_alive(pid))


class WaitPortOk(StartWaitCase):
    def test_tcp_port(self):
        port = free_port()
        r, i, took = self.start_waiting("--wait-port", port, "--wait-timeout", "20s", *self.server_argv(port))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIdOnly(r)
        self.assertEqual(r.stderr, b"")
        self.assertTrue(can_connect(port), "start returned but the port does not accept")
        self.assertEqual(self.status(i), "running")

    def test_late_listener_http(self):
        port = free_port()
        r, i, took = self.start_waiting("--wait-port", port, "--http", "/hello.txt", "--wait-timeout", "20s",
                                        *self.server_argv(port, delay=1))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIdOnly(r)
        self.assertGreaterEqual(took, 0.9, "start returned before the server listened")
        self.assertEqual(http_status(port, "/hello.txt"), 200)
        self.assertEqual(self.status(i), "running")

    def test_late_listener_tcp(self):
        port = free_port()
        r, i, took = self.start_waiting("--wait-port", port, *self.server_argv(port, delay=1))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(took, 0.9)
        self.assertTrue(can_connect(port))


class WaitPortFail(StartWaitCase):
    def test_process_dies_before_listening(self):
        port = free_port()
        code = "import time\ntime.sleep(1.0)\nraise SystemExit(4)"
        r, i, took = self.start_waiting("--wait-port", port, "--", PY, "-c", code)
        self.assertFailed(r, 1, "--wait-port, process exits first")
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 15, "start did not give up when the process ended")
        self.assertEqual(self.status(i), "failed")

    def test_http_process_dies_before_ready(self):
        port = free_port()
        r, i, took = self.start_waiting("--wait-port", port, "--http", "/", "--wait-timeout", "30s",
                                        "--", PY, "-c", "import time;time.sleep(0.5)")
        self.assertFailed(r, 1, "--wait-port --http, process exits first")
        self.assertLess(took, 5)

    def test_wait_timeout_nobody_listens(self):
        port = free_port()
        r, i, took = self.start_waiting("--wait-port", port, "--wait-timeout", "1s", "--", "sleep", "300")
        self.assertFailed(r, 124, "--wait-port --wait-timeout 1s")
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 6)
        pid = self.show(i)["pid"]
        self.assertEqual(self.status(i), "running")
        self.assertTrue(pid_alive(pid))
        self.sbx_ok("kill", i)
        self.assertFalse(pid_alive(pid))

    def test_wait_timeout_on_http_status(self):
        port = free_port()
        r, i, took = self.start_waiting("--wait-port", port, "--http", "/missing", "--wait-timeout", "1.5s",
                                        *self.server_argv(port))
        self.assertFailed(r, 124, "--wait-port --http /missing --wait-timeout 1.5s")
        self.assertGreaterEqual(took, 1.4)
        self.assertLess(took, 7)
        self.assertEqual(self.status(i), "running")
        self.assertTrue(can_connect(port), "the server should still be up")
        self.assertEqual(http_status(port, "/missing"), 404)
        self.sbx_ok("kill", i)
        wait_until(lambda: not can_connect(port), 5, "server gone")


class Usage(StartWaitCase):
    def test_bad_wait_timeout_starts_nothing(self):
        marker = os.path.join(self.home, "ran")
        for args, what in ((("--wait-log", "x", "--wait-timeout", "5parsecs"), "bad --wait-timeout"),
                           (("--wait-port", "0"), "port 0"),
                           (("--wait-port", "70000"), "port 70000")):
            r = self.run("start", *args, "--", "sh", "-c", f"touch {marker}; exec sleep 300", timeout=10)
            self.assertErrorLine(r, 2, what)
        time.sleep(0.3)
        self.assertFalse(os.path.exists(marker), "a usage error still started the process")
        r = self.sbx_ok("ps", "-q")
        self.assertEqual(r.stdout.strip(), b"")


if __name__ == "__main__":
    main()
