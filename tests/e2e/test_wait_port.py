#!/usr/bin/env python3
"""sbx wait-port: TCP and HTTP readiness of real servers (all bound to 127.0.0.1),
late listeners, status ranges, a process that dies first, a server that never answers,
usage errors."""
import socket
import subprocess
import time

from harness import can_connect, free_port, http_status, PY, SbxTestCase, main, pid_alive, wait_until

# accepts every connection and keeps it open without ever writing a byte
SILENT_SERVER = ("import socket,sys\n"
                 "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                 "s.bind(('127.0.0.1',int(sys.argv[1])));s.listen(64)\n"
                 "print('listening',flush=True)\n"
                 "held=[]\n"
                 "while True:\n"
                 "    c,_=s.accept();held.append(c)\n")


class WaitPortCase(SbxTestCase):
    def setUp(self):
        super().setUp()
        self.www = self.make_www()

    def http_server(self, port: int, delay: float = 0.0) -> str:
        if delay:
            return self.start("--cwd", self.www, "--", "sh", "-c",
                              f'sleep {delay}; exec "$0" -m http.server {port} --bind 127.0.0.1', PY)
        return self.start("--cwd", self.www, "--", PY, "-m", "http.server", str(port), "--bind", "127.0.0.1")

    def assertTimedOut(self, r, lo: float, took: float, what: str):
        ctx = f"{what}: rc={r.returncode} stdout={r.stdout!r} stderr={r.stderr!r} took={took:.2f}"
        self.assertEqual(r.returncode, 124, ctx)
        self.assertEqual(r.stdout, b"", ctx)
        self.assertTrue(r.stderr.startswith(b"sbx: "), ctx)
        self.assertGreaterEqual(took, lo, ctx)
        self.assertLess(took, lo + 5, ctx)


class Tcp(WaitPortCase):
    def test_tcp_ready(self):
        port = free_port()
        i = self.http_server(port)
        r = self.run("wait-port", i, port, "--timeout", "20s")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertTrue(can_connect(port))
        self.assertEqual(self.status(i), "running")
        # already ready: returns at once; an explicit host too
        t0 = time.monotonic()
        self.assertEqual(self.run("wait-port", i, port, "--timeout", "5s").returncode, 0)
        self.assertEqual(self.run("wait-port", i, port, "--host", "127.0.0.1", "--timeout", "5s").returncode, 0)
        self.assertEqual(self.run("wait-port", i, port, "--host", "localhost", "--timeout", "5s").returncode, 0)
        self.assertLess(time.monotonic() - t0, 5)

    def test_late_listener(self):
        port = free_port()
        t0 = time.monotonic()
        i = self.http_server(port, delay=1)
        self.assertFalse(can_connect(port), "server listens too early for this test")
        r = self.run("wait-port", i, port, "--timeout", "20s")
        took = time.monotonic() - t0
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 10)
        self.assertTrue(can_connect(port), "wait-port returned but the port does not accept")

    def test_other_host_is_not_probed(self):
        # the server binds 127.0.0.1 only: asking for ::1 must not see it
        port = free_port()
        i = self.http_server(port)
        self.assertEqual(self.run("wait-port", i, port, "--timeout", "20s").returncode, 0)
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--host", "::1", "--timeout", "1s")
        self.assertTimedOut(r, 0.9, time.monotonic() - t0, "--host ::1")

    def test_never_listens_times_out(self):
        port = free_port()
        i = self.start("--", "sleep", "300")
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--timeout", "1s")
        self.assertTimedOut(r, 0.9, time.monotonic() - t0, "nobody listens")
        self.assertEqual(r.stderr.rstrip(b"\n").count(b"\n"), 0, r.stderr)
        self.assertEqual(self.status(i), "running")


class Http(WaitPortCase):
    def test_http_ready(self):
        port = free_port()
        i = self.http_server(port)
        r = self.run("wait-port", i, port, "--http", "/", "--timeout", "20s")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertEqual(http_status(port, "/hello.txt"), 200)
        r = self.run("wait-port", i, port, "--http", "/hello.txt", "--status", "200", "--timeout", "5s")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run("wait-port", i, port, "--http", "/hello.txt", "--status", "200-299", "--timeout", "5s")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_http_late_listener(self):
        port = free_port()
        t0 = time.monotonic()
        i = self.http_server(port, delay=1)
        r = self.run("wait-port", i, port, "--http", "/hello.txt", "--timeout", "20s")
        took = time.monotonic() - t0
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertGreaterEqual(took, 0.9)
        self.assertEqual(http_status(port, "/hello.txt"), 200)

    def test_status_mismatch_times_out(self):
        port = free_port()
        i = self.http_server(port)
        self.assertEqual(self.run("wait-port", i, port, "--timeout", "20s").returncode, 0)
        self.assertEqual(http_status(port, "/missing"), 404)
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--http", "/missing", "--timeout", "1.5s")
        self.assertTimedOut(r, 1.4, time.monotonic() - t0, "--http /missing")
        self.assertEqual(r.stderr.rstrip(b"\n").count(b"\n"), 0, r.stderr)
        self.assertIn(b"404", r.stderr, "the timeout message should say what was last seen")
        # the same path is fine when 404 is what we asked for
        r = self.run("wait-port", i, port, "--http", "/missing", "--status", "404", "--timeout", "5s")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        r = self.run("wait-port", i, port, "--http", "/missing", "--status", "400-499", "--timeout", "5s")
        self.assertEqual(r.returncode, 0, r.stderr)
        # and 200 is not in 404
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--http", "/hello.txt", "--status", "404", "--timeout", "500ms")
        self.assertTimedOut(r, 0.45, time.monotonic() - t0, "--status 404 on a 200 page")
        self.assertIn(b"200", r.stderr)
        self.assertEqual(self.status(i), "running")

    def test_server_that_never_answers(self):
        port = free_port()
        i = self.start("--", PY, "-c", SILENT_SERVER, str(port))
        wait_until(lambda: self.read_log(i) == b"listening\n", 10, "silent server listening")
        # plain TCP: it accepts, so it is ready
        self.assertEqual(self.run("wait-port", i, port, "--timeout", "5s").returncode, 0)
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--http", "/", "--timeout", "2s", timeout=15)
        self.assertTimedOut(r, 1.9, time.monotonic() - t0, "--http / on a silent server")
        self.assertEqual(self.status(i), "running")
        # the daemon is still responsive afterwards
        self.sbx_ok("ps")


class ProcessEndsFirst(WaitPortCase):
    def test_dies_before_listening(self):
        port = free_port()
        i = self.start("--", PY, "-c", "import time\ntime.sleep(1.0)\nraise SystemExit(3)")
        pid = self.show(i)["pid"]
        p = self.spawn("wait-port", i, port)   # no --timeout: only the end can stop it
        self.assert_gives_up_when_ended(p, pid, "wait-port")

    def test_dies_before_http_ready(self):
        port = free_port()
        i = self.start("--", PY, "-c", "import time\ntime.sleep(0.5)")
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--http", "/", "--timeout", "30s")
        self.assertEndedError(r, 1, "wait-port --http of a process that exits")
        self.assertLess(time.monotonic() - t0, 5)

    def test_ended_process_returns_at_once(self):
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        t0 = time.monotonic()
        self.assertEndedError(self.run("wait-port", i, free_port()), 1, "wait-port of an ended process")
        self.assertLess(time.monotonic() - t0, 3)

    def test_killed_while_waiting(self):
        port = free_port()
        i = self.start("--", "sleep", "300")
        p = self.spawn("wait-port", i, port, "--http", "/", "--timeout", "60s")
        self.assertRaises(subprocess.TimeoutExpired, p.wait, 0.4)
        self.sbx_ok("kill", i)
        t0 = time.monotonic()
        out, err = p.communicate(timeout=15)
        self.assertEqual((p.returncode, out), (1, b""), err)
        self.assertLess(time.monotonic() - t0, 2.0)


class Errors(WaitPortCase):
    def test_unknown_id(self):
        self.assertErrorLine(self.run("wait-port", "nosuch", "8000"), 3, "wait-port nosuch")
        self.assertErrorLine(self.run("wait-port", "nosuch", "8000", "--timeout", "1s"), 3, "wait-port nosuch --timeout")

    def test_usage_errors(self):
        i = self.start("--", "sleep", "300")
        cases = ((("0",), "port 0"),
                 (("65536",), "port 65536"),
                 (("-1",), "port -1"),
                 (("http",), "port http"),
                 (("8000", "--timeout", "5parsecs"), "bad --timeout"),
                 (("8000", "--interval", "abc"), "bad --interval"),
                 (("8000", "--status", "200"), "--status without --http"),
                 (("8000", "--http", "/", "--status", "abc"), "bad --status"),
                 (("8000", "--http", "/", "--status", "99"), "status 99"),
                 (("8000", "--http", "/", "--status", "1000"), "status 1000"),
                 (("8000", "--http", "/", "--status", "2xx"), "status 2xx"),
                 (("8000", "--http", "/", "--status", "300-200"), "reversed range"),
                 (("8000", "--http", "/", "--status", "200-"), "open range"))
        for args, what in cases:
            t0 = time.monotonic()
            self.assertErrorLine(self.run("wait-port", i, *args, timeout=10), 2, what)
            self.assertLess(time.monotonic() - t0, 3, what)
        self.assertEqual(self.status(i), "running")


if __name__ == "__main__":
    main()
