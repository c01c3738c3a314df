#!/usr/bin/env python3
"""The daemon: cold start race, status/stop, foreground mode, hostile clients, restart."""
import json
import os
import random
import signal
import struct
import subprocess
import threading
import time

from harness import (frame, parse_frames, ID_RE, SBX, SBXD, SbxTestCase, main, pid_alive, proc_exe, proc_stat,
                     wait_until)

HELLO, REQUEST, RESPONSE = 1, 2, 3


class DaemonLifecycle(SbxTestCase):
    def test_status_without_daemon_does_not_start_one(self):
        r = self.run("daemon", "status")
        self.assertErrorLine(r, 1, "daemon status without daemon")
        r = self.run("daemon", "status", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.daemon_pids_for_home(), [])
        self.assertFalse(os.path.exists(self.sock_path))
        dp = self.daemon_pid()
        self.assertTrue(dp is None or not pid_alive(dp))

    def test_status_json(self):
        self.start("--id", "live", "--", "sleep", "300")
        self.start("--id", "done", "--", "true")
        self.assertEqual(self.run("wait", "done").returncode, 0)
        r = self.sbx_ok("daemon", "status", "--json")
        st = json.loads(r.stdout)
        pid = self.daemon_pid()
        self.assertEqual(st["pid"], pid)
        self.assertTrue(pid_alive(pid))
        self.assertEqual(os.path.realpath(proc_exe(pid)), os.path.realpath(SBXD))
        self.assertEqual(st["socket"], self.sock_path)
        self.assertEqual(os.path.realpath(st["state_dir"]), os.path.realpath(os.path.join(self.home, "state")))
        self.assertIsInstance(st["uptime_ms"], int)
        self.assertGreaterEqual(st["uptime_ms"], 0)
        self.assertIsInstance(st["version"], str)
        self.assertTrue(st["version"])
        self.assertIsInstance(st["protocol"], int)
        self.assertEqual(st["processes"], {"total": 2, "running": 1})
        r = self.sbx_ok("daemon", "status")
        self.assertIn(str(pid).encode(), r.stdout)

    def test_daemon_is_detached(self):
        # a caller that reads sbx's output through pipes ($(sbx start ...)) must get EOF
        p = self.spawn("start", "--", "sleep", "300")
        pipes = {f"pipe:[{os.fstat(f.fileno()).st_ino}]" for f in (p.stdout, p.stderr)}
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("sbx start through pipes did not reach EOF: the daemon keeps the caller's stdout/stderr")
        self.assertEqual(p.returncode, 0, err)
        self.show(out.decode().strip())
        pid = self.daemon_pid()
        st = proc_stat(pid)
        self.assertNotEqual(int(st[3]), os.getsid(0), "daemon must leave the caller's session")
        held = set()
        for f in os.listdir(f"/proc/{pid}/fd"):
            try:
                held.add(os.readlink(f"/proc/{pid}/fd/{f}"))
            except OSError:
                pass
        self.assertEqual(held & pipes, set(), "daemon holds the caller's pipes")

    def test_stop(self):
        i = self.start("--", "sleep", "300")
        child = self.show(i)["pid"]
        dpid = self.daemon_pid()
        t0 = time.monotonic()
        r = self.run("daemon", "stop", timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(time.monotonic() - t0, 12)
        wait_until(lambda: not pid_alive(dpid), 5, "daemon gone")
        self.assertFalse(os.path.exists(self.sock_path), "socket left behind")
        self.assertFalse(pid_alive(child), "daemon stop must stop its processes")
        # the records survive; the next command starts a new daemon that knows them
        rec = self.show(i)
        self.assertEqual(rec["status"], "killed")
        self.assertEqual(rec.get("signal"), "SIGTERM")
        self.assertNotEqual(self.daemon_pid(), dpid)

    def test_stop_prints_the_ids_it_stopped(self):
        a = self.start("--", "sleep", "300")
        done = self.start("true")
        self.assertEqual(self.run("wait", done).returncode, 0)
        r = self.sbx_ok("daemon", "stop", timeout=20)
        self.assertEqual(r.stdout.decode(), a + "\n")
        b = self.start("--", "sleep", "300")
        r = self.sbx_ok("daemon", "stop", "-q", timeout=20)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.show(b)["status"], "killed")

    def test_records_survive_restart(self):
        self.start("--id", "a", "exit 3")
        self.assertEqual(self.run("wait", "a").returncode, 3)
        self.sbx_ok("daemon", "stop", timeout=20)
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"a\n")
        rec = self.show("a")
        self.assertEqual((rec["status"], rec["exit_code"]), ("failed", 3))
        self.assertEqual(self.run("wait", "a").returncode, 3)

    def test_adopts_running_process_after_daemon_crash(self):
        i = self.start("--id", "orphan", "--", "sleep", "300")
        child = self.show(i)["pid"]
        dpid = self.daemon_pid()
        os.kill(dpid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(dpid), 5, "daemon killed")
        self.assertTrue(pid_alive(child), "children survive a daemon crash")
        self.assertEqual(self.status(i), "running")  # forks a new daemon that adopts it
        self.assertNotEqual(self.daemon_pid(), dpid)
        self.sbx_ok("kill", i, timeout=20)
        wait_until(lambda: not pid_alive(child), 3, "adopted child killed")
        self.assertIn(self.status(i), ("killed", "failed"))

    def test_foreground(self):
        p = subprocess.Popen([SBXD, "--foreground", "--home", self.home], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={k: v for k, v in self.env.items() if k != "SBX_HOME"})
        self.popens.append(p)
        wait_until(lambda: os.path.exists(self.sock_path) or p.poll() is not None, 10, "socket")
        self.assertIsNone(p.poll(), "sbxd --foreground exited")
        st = json.loads(self.sbx_ok("daemon", "status", "--json").stdout)
        self.assertEqual(st["pid"], p.pid)
        self.assertEqual(self.daemon_pid(), p.pid)
        i = self.start("--", "echo", "hi")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"hi\n")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertFalse(os.path.exists(self.sock_path))


class ColdStartRace(SbxTestCase):
    def test_thirty_parallel_starts_one_daemon(self):
        self.assertFalse(os.path.exists(self.sock_path))
        results = [None] * 30

        def go(k):
            try:
                results[k] = subprocess.run([SBX, "start", "--", "true"], env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, timeout=30)
            except subprocess.TimeoutExpired as e:
                results[k] = subprocess.CompletedProcess(e.cmd, -1, b"", b"timed out")
        threads = [threading.Thread(target=go, args=(k,)) for k in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bad = [(r.returncode, r.stderr) for r in results if r.returncode != 0]
        self.assertEqual(bad, [], "some parallel starts failed")
        ids = [r.stdout.decode().strip() for r in results]
        for i in ids:
            self.assertRegex(i, ID_RE)
        self.assertEqual(len(set(ids)), 30, "ids not distinct")
        # losers of the race (if any were spawned) must be gone soon; then exactly one remains
        try:
            daemons = wait_until(lambda: (lambda d: d if len(d) == 1 else None)(self.daemon_pids_for_home()),
                                 3, "exactly one sbxd")
        except AssertionError:
            self.fail(f"sbxd processes for this home: {self.daemon_pids_for_home()}")
        self.assertEqual(daemons, [self.daemon_pid()])
        listed = self.sbx_ok("ps", "-q").stdout.decode().split()
        self.assertEqual(sorted(listed), sorted(ids))


class HostileClients(SbxTestCase):
    def expect_error_reply_and_close(self, s, what):
        """A malformed or oversized frame gets an error reply and a closed connection."""
        got = self.read_until_closed(s, what)
        replies = []
        for kind, payload in parse_frames(got):
            if kind == RESPONSE:
                try:
                    replies.append(json.loads(payload))
                except ValueError:
                    self.fail(f"{what}: RESPONSE frame that is not JSON: {payload[:100]!r}")
        self.assertTrue(any(isinstance(r, dict) and r.get("ok") is False for r in replies),
                        f"{what}: no error RESPONSE before the close; got {got[:200]!r}")

    def assert_same_daemon(self, dpid, what):
        self.assertTrue(pid_alive(dpid), f"daemon died after {what}")
        r = self.run("ps", timeout=10)
        self.assertEqual(r.returncode, 0, f"ps after {what}: {r.stderr!r}")
        self.assertEqual(self.daemon_pid(), dpid, f"daemon replaced after {what}")

    def test_garbage(self):
        dpid = self.ensure_daemon()
        rnd = random.Random(1234)
        for n in (1, 7, 8, 100, 65536):
            s = self.raw_connect()
            self.send_quietly(s, bytes(rnd.getrandbits(8) for _ in range(n)))
            s.close()
            self.assert_same_daemon(dpid, f"{n} random bytes")

    def test_huge_length(self):
        dpid = self.ensure_daemon()
        for kind in (HELLO, REQUEST, 77):
            s = self.raw_connect()
            self.send_quietly(s, frame(kind, b"{}", length=0xFFFFFFFF))
            self.expect_error_reply_and_close(s, f"length 0xFFFFFFFF kind {kind}")
            self.assert_same_daemon(dpid, "a frame of length 0xFFFFFFFF")
        s = self.raw_connect()  # just over the 1 MiB control limit
        self.send_quietly(s, frame(HELLO, b"", length=(1 << 20) + 1))
        self.send_quietly(s, b"{" * 4096)
        self.expect_error_reply_and_close(s, "length 1 MiB + 1")
        self.assert_same_daemon(dpid, "a frame over 1 MiB")

    def test_invalid_json(self):
        dpid = self.ensure_daemon()
        hello = json.dumps({"proto": 1, "client": "e2e", "pid": os.getpid(), "caps": []}).encode()
        cases = [
            [frame(HELLO, b"{not json")],
            [frame(REQUEST, b"\xff\xfe\x00garbage")],
            [frame(HELLO, hello), frame(REQUEST, b"{\"id\":1,\"op\":")],
            [frame(HELLO, hello), frame(REQUEST, b"[1,2,3]")],
            [frame(HELLO, hello), frame(REQUEST, b"{\"id\":1,\"op\":\"no-such-op\",\"args\":{}}")],
            [frame(HELLO, b"null")],
        ]
        for k, frames in enumerate(cases):
            s = self.raw_connect()
            for f in frames:
                self.send_quietly(s, f)
            if k < 3:
                self.expect_error_reply_and_close(s, f"invalid JSON case {k}")
            else:
                s.settimeout(1)
                try:
                    s.recv(65536)
                except OSError:
                    pass
                s.close()
            self.assert_same_daemon(dpid, f"invalid JSON case {k}")

    def test_disconnect_mid_request(self):
        dpid = self.ensure_daemon()
        payload = json.dumps({"proto": 1, "client": "e2e"}).encode()
        for cut in (1, 3, 5, 8, 8 + len(payload) // 2):
            s = self.raw_connect()
            self.send_quietly(s, frame(HELLO, payload)[:cut])
            s.close()
            self.assert_same_daemon(dpid, f"half a frame ({cut} bytes) then close")

    def test_stalled_client_does_not_block_others(self):
        dpid = self.ensure_daemon()
        stalled = []
        for _ in range(5):
            s = self.raw_connect()
            self.send_quietly(s, frame(HELLO, b"{}", length=100)[:10])  # promise 100 bytes, send 2
            stalled.append(s)
        idle = self.raw_connect()  # connected, silent
        stalled.append(idle)
        try:
            self.assert_same_daemon(dpid, "stalled clients")
            i = self.start("--", "echo", "still fine")
            self.assertEqual(self.run("wait", i, timeout=10).returncode, 0)
        finally:
            for s in stalled:
                s.close()
        self.assert_same_daemon(dpid, "closing stalled clients")


class OneDaemonPerStateFolder(SbxTestCase):
    """A login shell (XDG_RUNTIME_DIR set) and a cron job (not set) share the state folder
    ~/.local/state/sbx: its records must never have two daemons."""

    def test_second_daemon_on_the_same_state_folder_refuses(self):
        base = os.path.join(self.home, "xdg")
        state, run_a, run_b = (os.path.join(base, d) for d in ("state", "run-a", "run-b"))
        for d in (state, run_a, run_b):
            os.makedirs(d, mode=0o700)
        env = {k: v for k, v in self.env.items() if k != "SBX_HOME"}
        env["XDG_STATE_HOME"] = state
        env["HOME"] = base
        first_pid_file = os.path.join(run_a, "sbx", "sbxd.pid")

        def stop(pid_file):
            try:
                with open(pid_file) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                return
            if pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda: not pid_alive(pid), 10, "a daemon of this test stopped")
        # Last in, first out: a second daemon that should not exist, then the first.
        self.addCleanup(stop, first_pid_file)
        self.addCleanup(stop, os.path.join(run_b, "sbx", "sbxd.pid"))

        r = subprocess.run([SBXD], env={**env, "XDG_RUNTIME_DIR": run_a}, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        first = wait_until(lambda: os.path.exists(first_pid_file) and open(first_pid_file).read().strip(), 5,
                           "the first daemon's pid")
        r = subprocess.run([SBXD], env={**env, "XDG_RUNTIME_DIR": run_b}, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, b"")
        err = r.stderr.decode()
        self.assertRegex(err, r"^sbxd: [^\n]*\n$", "one line")
        self.assertIn(f"pid {first}", err, "the line names the first daemon")
        self.assertIn(os.path.join(state, "sbx"), err, "the line names the state folder")
        self.assertFalse(os.path.exists(os.path.join(run_b, "sbx", "sbxd.sock")), "the second one listens")
        self.assertTrue(pid_alive(int(first)))


if __name__ == "__main__":
    main()
