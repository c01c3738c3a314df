#!/usr/bin/env python3
"""Forgetting processes: start --rm (waiters and followers get their answer first),
sbx rm [-f] (live ones refused, all-or-nothing), sbx prune."""
import os
import select
import subprocess
import time

from harness import PY, SbxTestCase, main, pid_alive, proc_stat, wait_until

# wait for the go-file argv[1], then write argv[2] KiB of numbered lines to stdout,
# a line to stderr, and exit argv[3]
BURST = ("import os,sys,time\n"
         "go,kib,code=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])\n"
         "sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
         "while not os.path.exists(go): time.sleep(0.01)\n"
         "out=sys.stdout.buffer\n"
         "for k in range(kib*16): out.write(b'%063d\\n' % k)\n"
         "out.flush()\n"
         "sys.stderr.write('bye\\n'); sys.stderr.flush()\n"
         "sys.exit(code)\n")


def burst_bytes(kib: int) -> bytes:
    return b"ready\n" + b"".join(b"%063d\n" % k for k in range(kib * 16))


class RemoveCase(SbxTestCase):
    def record_path(self, i: str) -> str:
        return os.path.join(self.home, "state", "processes", f"{i}.toml")

    def files_of(self, i: str) -> list[str]:
        return [p for p in (self.record_path(i), self.logfile(i, "stdout"), self.logfile(i, "stderr"))
                if os.path.exists(p)]

    def assertGone(self, i: str, grace: float = 0.5):
        """Record and both log files removed (allowing `grace` for the removal that
        follows the answer), and the daemon no longer knows the id."""
        try:
            wait_until(lambda: not self.files_of(i), grace, f"{i}'s files removed")
        except AssertionError:
            self.fail(f"{i}: still there {grace}s later: {self.files_of(i)}")
        self.assertErrorLine(self.run("status", i), 3, f"status {i} after removal")
        self.assertEqual(self.run("show", i).returncode, 3)
        self.assertNotIn(i, self.sbx_ok("ps", "-q").stdout.decode().split())

    def assertKept(self, i: str):
        self.assertTrue(os.path.exists(self.record_path(i)), f"{i}: record removed")
        self.assertTrue(os.path.exists(self.logfile(i, "stdout")), f"{i}: stdout log removed")
        self.assertTrue(os.path.exists(self.logfile(i, "stderr")), f"{i}: stderr log removed")
        self.assertEqual(self.run("status", i).returncode, 0)


class AutoRemove(RemoveCase):
    def test_running_when_wait_starts(self):
        i = self.start("--rm", "--", "sh", "-c", "echo out; echo err >&2; sleep 0.5; exit 3")
        rec = self.show(i)
        self.assertIs(rec.get("auto_cleanup"), True, rec)
        self.assertEqual(rec["status"], "running")
        wait_until(lambda: self.read_log(i) == b"out\n", 5, "output")
        self.assertKept(i)
        r = self.run("wait", i)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertGone(i)

    def test_ended_before_wait_still_answers(self):
        r = self.run("start", "--rm", "--", "sh", "-c", "echo out; exit 7")
        self.assertEqual(r.returncode, 0, r.stderr)
        i = r.stdout.decode().strip()  # not self.start(): the record may be gone already
        # nobody waits: the record goes once the process ended
        wait_until(lambda: not self.files_of(i), 5, "record and logs removed")
        self.assertErrorLine(self.run("status", i), 3, "status of a removed --rm process")
        r = self.run("wait", i, "--timeout", "5s")
        self.assertEqual(r.returncode, 7, f"late wait must still get the exit code: {r.stderr!r}")
        self.assertEqual(self.run("wait", i, "--timeout", "5s").returncode, 7, "a second late wait")
        self.assertGone(i)

    def test_killed_by_signal(self):
        i = self.start("--rm", "--", "sleep", "300")
        pid = self.show(i)["pid"]
        self.sbx_ok("kill", i)
        self.assertFalse(pid_alive(pid))
        self.assertEqual(self.run("wait", i, "--timeout", "5s").returncode, 128 + 15)
        self.assertGone(i)

    def test_several_waiters(self):
        go = os.path.join(self.home, "go")
        i = self.start("--rm", "--", "sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.01; done; exit 5', "sh", go)
        ws = [self.spawn("wait", i, stdout=subprocess.DEVNULL) for _ in range(3)]
        self.wait_clients(3)
        self.assertTrue(all(w.poll() is None for w in ws))
        open(go, "w").close()
        for w in ws:
            w.wait(timeout=10)
            self.assertEqual(w.returncode, 5, w.stderr.read())
        self.assertGone(i)

    def test_follower_gets_every_byte_before_removal(self):
        go = os.path.join(self.home, "go")
        kib = 2048
        i = self.start("--rm", "--", PY, "-c", BURST, go, str(kib), "4")
        wait_until(lambda: self.read_log(i) == b"ready\n", 5, "ready")
        f = self.spawn("logs", "-f", i)
        # the follower has printed what was captured: it is attached
        fd = f.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + 10
        while b"ready\n" not in buf:
            self.assertLess(time.monotonic(), deadline, f"follower printed {buf!r}")
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 65536)
                self.assertNotEqual(chunk, b"", "follower ended early")
                buf += chunk
        open(go, "w").close()
        # the process ends while the follower is stuck on a full pipe
        wait_until(lambda: not any(pid_alive(p) for p in self.tracked), 10, "burst process ended")
        time.sleep(0.5)
        out, err = f.communicate(timeout=20)
        self.assertEqual(f.returncode, 0, err)
        got = buf + out
        want = burst_bytes(kib)
        self.assertEqual(len(got), len(want), "follower missed bytes")
        self.assertTrue(got == want, "follower output differs")
        self.assertEqual(err, b"bye\n")
        self.assertEqual(self.run("wait", i, "--timeout", "5s").returncode, 4)
        self.assertGone(i)

    def test_without_rm_the_record_stays(self):
        i = self.start("--", "sh", "-c", "echo out; exit 0")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertIs(self.show(i).get("auto_cleanup"), False)
        time.sleep(0.3)
        self.assertKept(i)


class Rm(RemoveCase):
    def test_rm_ended_removes_record_and_logs(self):
        a = self.start("--", "sh", "-c", "echo a; echo a2 >&2")
        b = self.start("--", "sh", "-c", "exit 2")
        self.assertEqual(self.run("wait", a).returncode, 0)
        self.assertEqual(self.run("wait", b).returncode, 2)
        self.assertKept(a)
        r = self.run("rm", a, b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGone(a, grace=0)
        self.assertGone(b, grace=0)
        # the id is free again
        self.assertEqual(self.start("--id", a, "--", "true"), a)

    def test_rm_refuses_a_live_process(self):
        live = self.start("--", "sleep", "300")
        pid = self.show(live)["pid"]
        ended = self.start("--", "true")
        self.assertEqual(self.run("wait", ended).returncode, 0)
        r = self.run("rm", live)
        self.assertErrorLine(r, 1, "rm of a live process")
        self.assertTrue(pid_alive(pid))
        self.assertKept(live)
        self.assertEqual(self.status(live), "running")
        # all or nothing: the ended one stays too
        for order in ((ended, live), (live, ended)):
            r = self.run("rm", *order)
            self.assertErrorLine(r, 1, f"rm {order}")
            self.assertKept(ended)
            self.assertKept(live)
        self.assertTrue(pid_alive(pid))

    def test_rm_force_kills_the_tree_and_removes(self):
        i = self.start("sleep 300 & setsid sleep 300 & wait")
        pid = self.show(i)["pid"]
        above = set()  # the leader's ancestors (a per-process waiter may carry the id too)
        p = pid
        while p > 1:
            p = int(proc_stat(p)[1])
            above.add(p)
        wait_until(lambda: len([p for p in self.pids_of(i) if p not in above]) == 3, 5, "the tree")
        tree = self.pids_of(i)
        for p in tree:
            self.track(p)
        r = self.run("rm", "-f", i)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_until(lambda: not any(pid_alive(p) for p in tree), 2, "whole tree dead after rm -f")
        self.assertFalse(pid_alive(pid))
        self.assertGone(i, grace=0)

    def test_rm_force_of_a_restarting_process(self):
        i = self.start("--restart", "always", "--", "sh", "-c", "sleep 0.05")
        wait_until(lambda: self.show(i).get("restarts", 0) >= 2, 5, "restarts")
        self.sbx_ok("rm", "--force", i)
        self.assertGone(i, grace=0)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self.assertEqual(self.pids_of(i), [], "restarted after rm -f")
            self.assertFalse(self.files_of(i), "record or logs came back after rm -f")
            time.sleep(0.02)

    def test_rm_force_of_an_ended_one(self):
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.sbx_ok("rm", "-f", i)
        self.assertGone(i, grace=0)

    def test_rm_errors(self):
        self.assertErrorLine(self.run("rm", "nosuch"), 3, "rm nosuch")
        self.assertErrorLine(self.run("rm", "-f", "nosuch"), 3, "rm -f nosuch")
        self.assertErrorLine(self.run("rm", "bad id!"), 2, "rm 'bad id!'")
        self.assertEqual(self.run("rm").returncode, 2)
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.run("rm", i, "nosuch").returncode, 3)


class LeftBehind(RemoveCase):
    """A process that ended may have left something running on purpose (a setup script
    that starts a service with setsid): forgetting its record must not kill that."""

    def started_service(self) -> tuple[str, int]:
        pidfile = os.path.join(self.home, "service.pid")
        i = self.start("--", "sh", "-c", f'setsid sleep 300 & echo $! > {pidfile}; exit 0')
        self.assertEqual(self.run("wait", i).returncode, 0)
        svc = wait_until(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), 5, "the service's pid")
        svc = int(svc)
        self.track(svc)
        self.assertTrue(pid_alive(svc))
        return i, svc

    def test_rm_of_an_ended_process_only_forgets(self):
        i, svc = self.started_service()
        self.sbx_ok("rm", i)
        self.assertGone(i, grace=0)
        self.assertTrue(pid_alive(svc), "rm of an ended record killed what it left running")

    def test_rm_force_of_an_ended_process_only_forgets(self):
        i, svc = self.started_service()
        self.sbx_ok("rm", "-f", i)
        self.assertGone(i, grace=0)
        self.assertTrue(pid_alive(svc), "rm -f of an ended record killed what it left running")


class Prune(RemoveCase):
    def test_prune_keeps_live_and_removes_ended(self):
        live = self.start("--", "sleep", "300")
        live_pid = self.show(live)["pid"]
        done = self.start("--", "sh", "-c", "echo done")
        failed = self.start("--", "sh", "-c", "exit 3")
        killed = self.start("--", "sleep", "300")
        self.sbx_ok("kill", killed)
        r = self.run("start", "--id", "err", "--", "/nonexistent/sbx-e2e")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.run("wait", done).returncode, 0)
        self.assertEqual(self.run("wait", failed).returncode, 3)
        self.assertEqual(self.status("err"), "error")

        r = self.sbx_ok("prune")
        self.assertTrue(r.stdout == b"" or r.stdout.endswith(b"\n"), r.stdout)
        removed = r.stdout.decode().splitlines()
        self.assertEqual(sorted(removed), sorted([done, failed, killed, "err"]))
        for i in (done, failed, killed):
            self.assertGone(i, grace=0)
        self.assertFalse(os.path.exists(self.record_path("err")))
        self.assertEqual(self.run("status", "err").returncode, 3)
        self.assertKept(live)
        self.assertTrue(pid_alive(live_pid))
        self.assertEqual(self.sbx_ok("ps", "-q").stdout.decode().split(), [live])

        r = self.sbx_ok("prune")
        self.assertEqual(r.stdout, b"", "nothing left to prune")
        self.assertKept(live)

    def test_prune_on_empty_home(self):
        r = self.sbx_ok("prune")
        self.assertEqual(r.stdout, b"")


if __name__ == "__main__":
    main()
