#!/usr/bin/env python3
"""Waiting clients ride through a lost daemon: wait, wait-log, wait-port, logs -f and
start --wait-* across `sbx daemon restart` and a kill -9 of sbxd give the answer they would
have given without it (logs -f: every byte once, also across trims of a capped log); with
no daemon to be had for 10 s they exit 125; a daemon that does not answer is given up on."""
import os
import signal
import subprocess
import time

from harness import PY, SbxTestCase, free_port, main, pid_alive, prog, wait_until

# Prints two lines and half a third ("Listen"), then, once the file argv[1] exists, the
# rest of it ("ing on 8000"), then sleeps: the matching line is split across the loss.
SPLIT_LINE = ("import os,sys,time\n"
              "w=sys.stdout\n"
              "w.write('boot 1\\nboot 2\\nListen');w.flush()\n"
              "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
              "w.write('ing on 8000\\n');w.flush()\n"
              "time.sleep(300)\n")

# Listens on 127.0.0.1:argv[2] once the file argv[1] exists.
LISTEN_ON_FLAG = ("import os,socket,sys,time\n"
                  "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                  "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                  "s.bind(('127.0.0.1',int(sys.argv[2])));s.listen(16)\n"
                  "time.sleep(300)\n")

# Lines 0..argv[3]-1, then (once the file argv[1] exists) up to argv[3]+argv[4]-1, of
# 100 bytes on stdout, and "err N" on stderr every 500 lines. It never runs more than
# 16 KiB ahead of what the follower printed (the size of the file argv[2]), so a cap
# of 64K (which keeps >= 32K) never drops a byte the follower has not had (unless it
# lags for 10 s: then the test shows what it lost).
PACED_WRITER = ("import os,sys,time\n"
                "flag,seen,n1,n2=sys.argv[1],sys.argv[2],int(sys.argv[3]),int(sys.argv[4])\n"
                "w=sys.stdout.buffer\n"
                "written=0\n"
                "def size():\n"
                "    try: return os.path.getsize(seen)\n"
                "    except OSError: return 0\n"
                "def lines(a,b):\n"
                "    global written\n"
                "    for k in range(a,b,50):\n"
                "        t=time.monotonic()\n"
                "        while written-size()>16384 and time.monotonic()-t<10: time.sleep(0.002)\n"
                "        data=b''.join(b'%07d '%j+b'x'*91+b'\\n' for j in range(k,min(k+50,b)))\n"
                "        w.write(data);w.flush();written+=len(data)\n"
                "        if k%500==0: sys.stderr.write('err %07d\\n'%k);sys.stderr.flush()\n"
                "lines(0,n1)\n"
                "while not os.path.exists(flag): time.sleep(0.01)\n"
                "lines(n1,n1+n2)\n")

HOW = ("restart", "kill9")


class LossCase(SbxTestCase):
    def flag(self, name: str = "go") -> str:
        return os.path.join(self.home, name)

    @staticmethod
    def touch(path: str):
        open(path, "w").close()

    def lose_daemon(self, how: str) -> None:
        """`sbx daemon restart`, or kill -9 of sbxd (then the waiting clients start one)."""
        if how == "restart":
            self.sbx_ok("daemon", "restart", timeout=30)
            return
        pid = self.daemon_pid()
        self.assertTrue(pid and pid_alive(pid), "no daemon to kill")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")

    def new_daemon_serves(self, clients: int) -> int:
        """Waits until a live sbxd (not necessarily the first) has `clients` clients; its pid."""
        def ready():
            pid = self.daemon_pid()
            return pid if pid and pid_alive(pid) and self.daemon_sockets(pid) >= 1 + clients else None
        return wait_until(ready, 15, f"a daemon with {clients} client(s)")

    def spawn_env(self, env_extra: dict, *args) -> subprocess.Popen:
        return self.spawn(*args, env_extra=env_extra)


class Wait(LossCase):
    def check_wait(self, how: str):
        go = self.flag()
        i = self.start("--id", "l", "--", *prog("exit_on_flag"), go, "5")
        w = self.spawn("wait", i)
        self.new_daemon_serves(1)
        self.lose_daemon(how)
        self.assertStillWaiting(w, "wait after the daemon was lost (l still runs)")
        self.new_daemon_serves(1)
        self.assertEqual(self.status(i), "running")
        self.touch(go)
        rc, out, err = self.finish(w, "wait", timeout=20)
        self.assertEqual((rc, out, err), (5, b"", b""), "wait answers the exit code of l, as without the loss")

    def test_wait_across_daemon_restart(self):
        self.check_wait("restart")

    def test_wait_across_kill9(self):
        self.check_wait("kill9")

    def test_timeout_is_one_deadline_across_the_loss(self):
        i = self.start("--", "sleep", "300")
        t0 = time.monotonic()
        w = self.spawn("wait", i, "--timeout", "5s")
        self.new_daemon_serves(1)
        self.lose_daemon("kill9")
        rc, out, err = self.finish(w, "wait --timeout 5s", timeout=20)
        took = time.monotonic() - t0
        self.assertEqual(rc, 124, err)
        self.assertEqual(err, f"sbx: '{i}' still runs after 5s\n".encode())
        self.assertGreaterEqual(took, 5.0)
        # the new daemon got the time left, not 5 s again (which would end after about 5 s + the loss)
        self.assertLess(took, 5.0 + 3.0, "the timeout started again with the new daemon")


class WaitLog(LossCase):
    def check_wait_log(self, how: str):
        go = self.flag()
        i = self.start("--", PY, "-c", SPLIT_LINE, go)
        w = self.spawn("wait-log", i, "Listening on")
        wait_until(lambda: self.read_log(i).endswith(b"Listen"), 10, "half the line written")
        self.new_daemon_serves(1)
        time.sleep(0.3)  # the daemon tells the client how far it scanned, a few times a second
        self.lose_daemon(how)
        self.assertStillWaiting(w, "wait-log after the daemon was lost")
        self.new_daemon_serves(1)
        self.touch(go)
        rc, out, err = self.finish(w, "wait-log", timeout=20)
        self.assertEqual((rc, out, err), (0, b"Listening on 8000\n", b""), "the line split across the loss matches")

    def test_wait_log_across_daemon_restart(self):
        self.check_wait_log("restart")

    def test_wait_log_across_kill9(self):
        self.check_wait_log("kill9")

    def test_wait_log_failure_answer_is_kept(self):
        # the process ends without the line while no daemon runs: the next one says so (1)
        go = self.flag()
        i = self.start("--", "sh", "-c", f"echo starting; while [ ! -e {go} ]; do sleep 0.01; done; exit 4")
        w = self.spawn("wait-log", i, "never printed")
        self.new_daemon_serves(1)
        pid = self.daemon_pid()
        os.kill(pid, signal.SIGSTOP)  # freeze it, end the process, then kill it
        try:
            self.touch(go)
            wait_until(lambda: not self.program_pids_of(i), 10, "process ended")
        finally:
            os.kill(pid, signal.SIGKILL)
        rc, out, err = self.finish(w, "wait-log", timeout=20)
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        self.assertIn(b"ended (failed, exit code 4) before a line matched", err)


class WaitPort(LossCase):
    def check_wait_port(self, how: str):
        go, port = self.flag(), free_port()
        i = self.start("--", PY, "-c", LISTEN_ON_FLAG, go, str(port))
        w = self.spawn("wait-port", i, port, "--timeout", "60s")
        self.new_daemon_serves(1)
        self.lose_daemon(how)
        self.assertStillWaiting(w, "wait-port after the daemon was lost")
        self.new_daemon_serves(1)
        self.touch(go)
        rc, out, err = self.finish(w, "wait-port", timeout=20)
        self.assertEqual((rc, err), (0, b""))

    def test_wait_port_across_daemon_restart(self):
        self.check_wait_port("restart")

    def test_wait_port_across_kill9(self):
        self.check_wait_port("kill9")


class StartWait(LossCase):
    def check_start_wait_log(self, how: str):
        go = self.flag()
        w = self.spawn("start", "--id", "s", "--wait-log", "READY", "--", "sh", "-c",
                       f"echo boot; while [ ! -e {go} ]; do sleep 0.01; done; echo READY; sleep 300")
        wait_until(lambda: self.read_log("s") == b"boot\n", 10, "s started")
        self.show("s")
        self.new_daemon_serves(1)
        self.lose_daemon(how)
        self.assertStillWaiting(w, "start --wait-log after the daemon was lost")
        self.new_daemon_serves(1)
        self.touch(go)
        rc, out, err = self.finish(w, "start --wait-log", timeout=20)
        self.assertEqual((rc, out, err), (0, b"s\n", b""))
        self.assertEqual(self.status("s"), "running")

    def test_start_wait_log_across_daemon_restart(self):
        self.check_start_wait_log("restart")

    def test_start_wait_log_across_kill9(self):
        self.check_start_wait_log("kill9")


class Follow(LossCase):
    def check_follow(self, how: str):
        n1, n2 = 3000, 3000  # 300 KB each side of the loss, against a 64K cap: trimmed often
        go = self.flag()
        out_path, err_path = os.path.join(self.home, "out"), os.path.join(self.home, "err")
        i = self.start("--id", "f", "--log-max", "64K", "--", PY, "-c", PACED_WRITER, go, out_path, str(n1), str(n2))
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            p = self.spawn("logs", "-f", i, stdout=out, stderr=err)
        last = b"%07d " % (n1 - 1) + b"x" * 91 + b"\n"

        def printed() -> bytes:
            with open(out_path, "rb") as f:
                return f.read()
        wait_until(lambda: printed().endswith(last), 30, "the first half printed")
        self.assertGreater(self.show(i).get("dropped_stdout", 0), 0, "the log was trimmed before the loss")
        self.new_daemon_serves(1)
        if how == "kill9":
            # Bytes the follower has not had when the daemon dies: freeze sbxd, let the
            # writer run 16 KiB ahead, then kill it. The next daemon must start at them.
            pid = self.daemon_pid()
            size = os.path.getsize(self.logfile(i, "stdout"))
            os.kill(pid, signal.SIGSTOP)
            self.touch(go)
            wait_until(lambda: os.path.getsize(self.logfile(i, "stdout")) >= size + 16000, 10, "16 KiB more written")
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")
        else:
            self.lose_daemon(how)
            self.new_daemon_serves(1)
            self.touch(go)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("logs -f did not end with the process")
        with open(err_path, "rb") as f:
            err_bytes = f.read()
        self.assertEqual(p.returncode, 0, err_bytes)
        expected = b"".join(b"%07d " % j + b"x" * 91 + b"\n" for j in range(n1 + n2))
        got = printed()
        if got != expected:
            numbers = [int(ln[:7]) for ln in got.split(b"\n")[:-1] if ln[:7].isdigit()]
            self.fail(f"stdout differs: {len(got)} bytes for {len(expected)}; lines "
                      f"{numbers[:2]}..{numbers[-2:]}, doubled {len(numbers) - len(set(numbers))}")
        self.assertEqual(err_bytes, b"".join(b"err %07d\n" % k for k in range(0, n1 + n2, 500)))
        self.assertGreater(self.show(i).get("dropped_stdout", 0), n1 * 100 // 2, "trimmed after the loss too")

    def test_follow_across_daemon_restart(self):
        self.check_follow("restart")

    def test_follow_across_kill9(self):
        self.check_follow("kill9")

    def test_follow_with_tail_resumes_without_repeating(self):
        # -n applies to the first connection only: the next daemon goes on, it does not tail again
        go = self.flag()
        i = self.start("--", "sh", "-c", f"seq 1 50; while [ ! -e {go} ]; do sleep 0.01; done; echo after")
        wait_until(lambda: self.read_log(i).endswith(b"50\n"), 10, "seq written")
        p = self.spawn("logs", "-f", "-n", "2", i)
        self.new_daemon_serves(1)
        self.lose_daemon("kill9")
        self.new_daemon_serves(1)
        self.touch(go)
        rc, out, err = self.finish(p, "logs -f -n 2", timeout=20)
        self.assertEqual((rc, out, err), (0, b"49\n50\nafter\n", b""))


class NoDaemon(LossCase):
    def test_gives_up_with_125_when_no_daemon_can_be_had(self):
        i = self.start("--", "sleep", "300")
        self.new_daemon_serves(0)
        t0 = time.monotonic()
        waiters = {
            "wait": self.spawn_env({"SBX_DAEMON": "/nonexistent/sbxd"}, "wait", i),
            "logs -f": self.spawn_env({"SBX_DAEMON": "/bin/false"}, "logs", "-f", i),
        }
        self.new_daemon_serves(2)
        self.lose_daemon("kill9")
        for what, w in waiters.items():
            rc, out, err = self.finish(w, what, timeout=30)
            took = time.monotonic() - t0
            self.assertEqual(rc, 125, f"{what}: {err!r}")
            self.assertEqual(out, b"")
            self.assertTrue(err.startswith(b"sbx: lost sbxd"), err)
            self.assertEqual(err.rstrip(b"\n").count(b"\n"), 0, err)
            self.assertGreaterEqual(took, 10.0, f"{what} gave up before 10 s without a daemon")
            self.assertLess(took, 20.0, f"{what} did not give up")
        self.assertTrue(self.pids_of(i), "the process runs on")

    def test_daemon_that_does_not_answer(self):
        # sbxd is frozen: its socket accepts, but it says nothing
        i = self.start("--", "sleep", "300")
        pid = self.ensure_daemon()
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(os.kill, pid, signal.SIGCONT)
        t0 = time.monotonic()
        ps = self.spawn("ps")
        wait = self.spawn("wait", i)
        rc, out, err = self.finish(ps, "ps", timeout=30)
        self.assertEqual((rc, out), (1, b""), err)
        self.assertRegex(err, rb"^sbx: sbxd \(pid \d+\) does not answer: no reply within 10s; see .*\n$")
        rc, out, err = self.finish(wait, "wait", timeout=30)
        self.assertEqual((rc, out), (125, b""), err)
        self.assertTrue(err.startswith(b"sbx: lost sbxd"), err)
        self.assertGreaterEqual(time.monotonic() - t0, 10.0)


if __name__ == "__main__":
    main()
