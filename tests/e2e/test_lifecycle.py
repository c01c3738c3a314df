#!/usr/bin/env python3
"""Process lifecycle: --timeout, --restart/--max-restarts with back-off, tree kill of
descendants that left the group (double fork, setsid), kill --all --session, SBX_SESSION."""
import datetime
import os
import signal
import time

from harness import PY, SIGNUM, SbxTestCase, has_sig, main, pid_alive, proc_environ, proc_stat, prog, wait_until

FINAL = ("completed", "failed", "killed", "error")

# print "run N" (N counts runs through a file), also to stderr, then exit argv[2]
COUNTED_RUN = ('n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$1"; '
               'echo "run $n"; echo "err $n" >&2; exit "$2"')

# leader: one grandchild double-forked into its own process group, one in a new session
# (argv[1] = "ign" makes the setsid'd one ignore SIGTERM)
ESCAPERS = ("import os,signal,sys,time\n"
            "if os.fork() == 0:\n"
            "    os.setpgid(0, 0)\n"
            "    if os.fork() == 0:\n"
            "        os.execvp('sleep', ['sleep', '300'])\n"
            "    os._exit(0)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if sys.argv[1] == 'ign':\n"
            "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "    time.sleep(300)\n"
            "    os._exit(0)\n"
            "time.sleep(300)\n")


def rfc3339(s: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def run_secs(rec: dict) -> float:
    return (rfc3339(rec["end_time"]) - rfc3339(rec["start_time"])).total_seconds()


def ancestors(pid: int) -> set[int]:
    out = set()
    while pid > 1:
        try:
            pid = int(proc_stat(pid)[1])
        except (OSError, IndexError, ValueError):
            break
        out.add(pid)
    return out


class LifecycleCase(SbxTestCase):
    def descendants(self, i: str, leader: int) -> list[int]:
        """Live processes of id i other than the leader and its ancestors (a helper
        such as a per-process waiter above the leader carries the id too)."""
        skip = ancestors(leader) | {leader}
        return [p for p in self.pids_of(i) if p not in skip]

    def counter(self) -> str:
        return os.path.join(self.home, "runs")

    def assert_no_process(self, i: str, secs: float = 0.0):
        """No process of id i is alive now, nor appears during secs (its waiters, which
        go once the final record is durable, aside)."""
        deadline = time.monotonic() + secs
        while True:
            live = self.program_pids_of(i)
            for p in live:
                self.track(p)
            self.assertEqual(live, [], f"{i}: processes alive: {live}")
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)


class Timeout(LifecycleCase):
    def test_timeout_fires_on_time(self):
        t0 = time.monotonic()
        i = self.start("--timeout", "1s", "--", "sleep", "30")
        pid = self.show(i)["pid"]
        r = self.run("wait", i, timeout=20)
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 128 + 15, r.stderr)
        self.assertGreaterEqual(took, 1.0)
        self.assertLess(took, 10, "timeout 1s fired long before the 30 s sleep ended")
        self.assertFalse(pid_alive(pid))
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("reason"), rec.get("signal"), rec.get("timeout_ms")),
                         ("killed", "timeout", "SIGTERM", 1000), rec)
        self.assertNotIn("exit_code", rec)
        self.assertGreaterEqual(run_secs(rec), 0.999, rec)
        self.assertLess(run_secs(rec), 10, rec)

    def test_timeout_reaches_the_tree(self):
        i = self.start("--timeout", "500ms", "sleep 300 & setsid sleep 300 & wait")
        pid = self.show(i)["pid"]
        kids = wait_until(lambda: (lambda ps: ps if len(ps) == 2 else None)(
            self.descendants(i, pid)), 5, "two sleeps")
        for k in kids:
            self.track(k)
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 128 + 15)
        wait_until(lambda: not any(pid_alive(p) for p in kids + [pid]), 2, "whole tree dead after timeout")
        self.assertEqual(self.show(i).get("reason"), "timeout")

    def test_process_that_ends_first_is_untouched(self):
        i = self.start("--timeout", "300ms", "--", "sh", "-c", "sleep 0.05; exit 3")
        self.assertEqual(self.run("wait", i).returncode, 3)
        rec1 = self.show(i)
        time.sleep(0.5)
        rec2 = self.show(i)
        self.assertEqual(rec1, rec2)
        self.assertEqual((rec2["status"], rec2.get("exit_code")), ("failed", 3))
        self.assertNotIn("reason", rec2)
        self.assertNotIn("signal", rec2)
        self.assertEqual(rec2.get("timeout_ms"), 300)

    def test_exit_before_the_timeout_is_its_own_however_late_it_is_told(self):
        # The program ends by itself before its timeout; its waiter (stopped here, as a slow
        # or loaded one would be) tells sbxd only after the timeout fell due.
        flag = os.path.join(self.home, "end")
        i = self.start("--timeout", "2s", "--", "sh", "-c",
                       f"while [ ! -e {flag} ]; do sleep 0.01; done; exit 3")
        pid = self.show(i)["pid"]
        waiter = int(proc_stat(pid)[1])
        os.kill(waiter, signal.SIGSTOP)
        try:
            open(flag, "w").close()
            wait_until(lambda: proc_stat(pid)[0] == "Z", 10, "the program ended (a zombie)")
            time.sleep(2.5)  # past its timeout
        finally:
            os.kill(waiter, signal.SIGCONT)
        self.assertEqual(self.run("wait", i).returncode, 3)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code"), rec.get("reason")), ("failed", 3, None))

    def test_bad_timeout_is_usage(self):
        self.assertErrorLine(self.run("start", "--timeout", "5parsecs", "--", "true"), 2, "--timeout 5parsecs")

    def test_term_ignored_escalates_to_kill_after_grace(self):
        t0 = time.monotonic()
        i = self.start("--timeout", "500ms", "--", *prog("ignore_signal"), "SIGTERM")
        pid = self.show(i)["pid"]
        wait_until(lambda: has_sig(pid, "SigIgn", SIGNUM["TERM"]), 5, "child ignoring SIGTERM")
        r = self.run("wait", i, timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 128 + 9, r.stderr)
        self.assertGreaterEqual(took, 10.4)
        self.assertLess(took, 11.8, "SIGKILL 10s after the timeout's TERM")
        self.assertFalse(pid_alive(pid))
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("reason"), rec.get("signal"), rec.get("timeout_ms")),
                         ("killed", "timeout", "SIGKILL", 500), rec)
        self.assertGreaterEqual(run_secs(rec), 10.45, rec)
        self.assertLessEqual(run_secs(rec), 11.5, rec)


class Restart(LifecycleCase):
    def test_on_failure_stops_after_max_restarts(self):
        i = self.start("--restart", "on-failure", "--max-restarts", "3",
                       "--", "sh", "-c", COUNTED_RUN, "sh", self.counter(), "4")
        # between runs: starting, no pid, last run's exit code kept
        seen = {}

        def starting_seen():
            rec = self.show(i)
            if rec["status"] == "starting":
                seen["rec"] = rec
                return True
            return rec["status"] in FINAL
        wait_until(starting_seen, 5, "a starting state or the end")
        self.assertIn("rec", seen, "never saw status 'starting' between runs")
        self.assertNotIn("pid", seen["rec"], seen["rec"])
        self.assertEqual(seen["rec"].get("exit_code"), 4, seen["rec"])
        self.assertGreaterEqual(seen["rec"].get("restarts", -1), 0)

        r = self.run("wait", i, timeout=20)
        self.assertEqual(r.returncode, 4, r.stderr)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code"), rec.get("restarts")), ("failed", 4, 3), rec)
        self.assertEqual(rec.get("restart"), "on-failure")
        out = self.sbx_ok("logs", i, "--stdout").stdout
        self.assertEqual(out, b"run 1\nrun 2\nrun 3\nrun 4\n")
        self.assertEqual(self.read_log(i, "stderr"), b"err 1\nerr 2\nerr 3\nerr 4\n")
        # the limit is final: nothing runs any more
        self.assert_no_process(i, 0.5)
        self.assertEqual(self.show(i).get("restarts"), 3)

    def test_on_failure_restarts_after_a_signal(self):
        i = self.start("--restart", "on-failure", "--max-restarts", "2", "echo x; kill -9 $$")
        r = self.run("wait", i, timeout=20)
        self.assertEqual(r.returncode, 128 + 9, r.stderr)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("signal"), rec.get("restarts")), ("killed", "SIGKILL", 2), rec)
        self.assertEqual(self.read_log(i), b"x\nx\nx\n")

    def test_on_failure_does_not_restart_after_success(self):
        i = self.start("--restart", "on-failure", "--max-restarts", "3",
                       "--", "sh", "-c", COUNTED_RUN, "sh", self.counter(), "0")
        self.assertEqual(self.run("wait", i).returncode, 0)
        time.sleep(0.4)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code"), rec.get("restarts")), ("completed", 0, 0), rec)
        self.assertEqual(self.read_log(i), b"run 1\n")

    def test_always_restarts_after_exit_zero(self):
        i = self.start("--restart", "always", "--max-restarts", "2",
                       "--", "sh", "-c", COUNTED_RUN, "sh", self.counter(), "0")
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 0)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code"), rec.get("restarts")), ("completed", 0, 2), rec)
        self.assertEqual(rec.get("restart"), "always")
        self.assertEqual(self.read_log(i), b"run 1\nrun 2\nrun 3\n")

    def test_backoff_grows(self):
        i = self.start("--restart", "always", "--max-restarts", "4", "--", "sh", "-c", "date +%s.%N")
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 0)
        self.assertEqual(self.show(i).get("restarts"), 4)
        starts = [float(x) for x in self.read_log(i).split()]
        self.assertEqual(len(starts), 5, starts)
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        msg = f"gaps {[round(g, 3) for g in gaps]}"
        # Doubling from 100 ms: a back-off is never shorter than its due time (a gap also holds
        # the run itself); the upper bound leaves slack for a loaded machine.
        for k, g in enumerate(gaps):
            self.assertGreaterEqual(g, 0.1 * 2 ** k - 0.01, msg)
            self.assertLess(g, 0.1 * 2 ** k * 3 + 1.0, msg)

    def test_kill_during_backoff_is_final(self):
        for attempt in range(3):
            if os.path.exists(self.counter()):
                os.unlink(self.counter())
            i = self.start("--restart", "on-failure", "--", "sh", "-c", COUNTED_RUN, "sh", self.counter(), "1")
            # after 4 runs the next back-off is 0.8 s: catch it in 'starting'
            wait_until(lambda: self.in_backoff(i, b"run", 3), 5, "a back-off after the 3rd restart")
            t0 = time.monotonic()
            r = self.run("kill", i)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertLess(time.monotonic() - t0, 1.0, "kill during back-off returns at once")
            rec = self.show(i)
            if "pid" not in rec:
                break
            # 'starting' was a restart being launched (a millisecond, against 0.8 s of
            # back-off): the kill waited for its pid, then stopped it for good (unless it
            # failed on its own first; one that exits 1 as the stop reaches it ended on
            # request all the same: killed, with its own exit code).
            self.assertIn((rec["status"], rec.get("signal"), rec.get("exit_code")),
                          [("killed", "SIGTERM", None), ("killed", None, 1), ("failed", None, 1)], rec)
            self.assert_no_process(i, 0.3)
            self.assertEqual(self.show(i)["restarts"], rec["restarts"], "restarted after kill")
        self.assertIn(rec["status"], FINAL, rec)
        self.assertNotIn("pid", rec)
        n = rec.get("restarts")
        self.assertGreaterEqual(n, 3)
        w = self.run("wait", i, "--timeout", "2s")
        self.assertIn(w.returncode, (1, 128 + 15), "wait after kill during back-off returns at once")
        self.assert_no_process(i, 1.2)
        rec2 = self.show(i)
        self.assertEqual((rec2["status"], rec2.get("restarts")), (rec["status"], n), "no restart after kill")
        self.assertEqual(self.read_log(i), b"".join(b"run %d\n" % k for k in range(1, n + 2)))

    def test_kill_while_running_stops_restarting(self):
        i = self.start("--restart", "always", "--", "sh", "-c", "echo up; sleep 300")
        pid = self.show(i)["pid"]
        self.sbx_ok("kill", i)
        self.assertFalse(pid_alive(pid))
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("signal"), rec.get("restarts")), ("killed", "SIGTERM", 0), rec)
        self.assertEqual(self.run("wait", i).returncode, 128 + 15)
        self.assert_no_process(i, 0.6)
        self.assertEqual(self.show(i).get("restarts"), 0)

    def test_unlimited_always_keeps_restarting_until_killed(self):
        i = self.start("--restart", "always", "--", "sh", "-c", COUNTED_RUN, "sh", self.counter(), "0")
        wait_until(lambda: self.show(i).get("restarts", 0) >= 3, 5, "3 restarts")
        self.sbx_ok("kill", i)
        rec = self.show(i)
        self.assertIn(rec["status"], FINAL, rec)
        self.assert_no_process(i, 1.0)
        self.assertEqual(self.show(i).get("restarts"), rec.get("restarts"))

    def test_usage_errors(self):
        self.assertErrorLine(self.run("start", "--max-restarts", "3", "--", "true"), 2, "--max-restarts alone")
        self.assertErrorLine(self.run("start", "--restart", "no", "--max-restarts", "3", "--", "true"), 2,
                             "--restart no --max-restarts 3")
        self.assertErrorLine(self.run("start", "--restart", "bogus", "--", "true"), 2, "--restart bogus")
        self.assertErrorLine(self.run("start", "--restart", "always", "--max-restarts", "x", "--", "true"), 2,
                             "--max-restarts x")
        self.assertEqual(self.run("ps", "-q").stdout, b"", "nothing was started")


class TreeKill(LifecycleCase):
    def escapers(self, i: str, leader: int) -> list[int]:
        def find():
            out = []
            for p in self.descendants(i, leader):
                try:
                    with open(f"/proc/{p}/cmdline", "rb") as f:
                        cmd = f.read()
                    if os.getpgid(p) != leader and (b"sleep" in cmd or b"time.sleep(300)" in cmd):
                        out.append(p)
                except (OSError, ProcessLookupError):
                    pass
            return out if len(out) == 2 else None
        kids = wait_until(find, 20, "a double-forked and a setsid'd grandchild")
        for k in kids:
            self.track(k)
        return kids

    def test_only_the_program_tree_carries_the_run_token(self):
        # The tree kill signals every process with the run's token: the waiter must not
        # have it (killing it would lose the exit status), the program and its children must.
        i = self.start("--", "sh", "-c", "sleep 300 & wait")
        leader = self.show(i)["pid"]
        waiter = int(proc_stat(leader)[1])
        self.assertNotIn("SBX_RUN_TOKEN", proc_environ(waiter), "the waiter carries the run token")
        self.assertEqual(proc_environ(waiter).get("SBX_PROCESS_ID"), i)
        token = proc_environ(leader).get("SBX_RUN_TOKEN")
        self.assertTrue(token, "the program has no run token")
        kids = wait_until(lambda: self.descendants(i, leader) or None, 5, "the child")
        for k in kids:
            self.track(k)
            self.assertEqual(proc_environ(k).get("SBX_RUN_TOKEN"), token)
        self.sbx_ok("kill", i)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"), rec)

    def test_double_fork_and_setsid_are_killed(self):
        i = self.start("--", PY, "-c", ESCAPERS, "plain")
        leader = self.show(i)["pid"]
        kids = self.escapers(i, leader)
        self.sbx_ok("kill", i)
        self.assertFalse(pid_alive(leader))
        wait_until(lambda: not any(pid_alive(k) for k in kids), 2, "escaped grandchildren dead")
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"), rec)

    def test_escaped_grandchild_ignoring_term_gets_kill(self):
        i = self.start("--", PY, "-c", ESCAPERS, "ign")
        leader = self.show(i)["pid"]
        kids = self.escapers(i, leader)
        wait_until(lambda: any(has_sig(k, "SigIgn", SIGNUM["TERM"]) for k in kids), 20, "grandchild ignoring TERM")
        t0 = time.monotonic()
        self.sbx_ok("kill", "--grace", "300ms", i)
        self.assertLess(time.monotonic() - t0, 5)
        wait_until(lambda: not any(pid_alive(k) for k in kids + [leader]), 2, "whole tree dead")
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"),
                         f"signal is the one that ended the leader: {rec}")


class Sessions(LifecycleCase):
    def test_kill_all_in_a_session_and_sbx_session(self):
        a = self.start("--session", "s1", "--", "sleep", "300")
        b = self.start("--session", "s1", "sleep 300 & setsid sleep 300 & wait")
        f = self.start("--session", "s1", "--restart", "always", "--", "sh", "-c", "sleep 0.05")
        c = self.start("--session", "s2", "--", "sleep", "300")
        d = self.start("--", "sleep", "300")
        e = self.start("--", "sleep", "300", env_extra={"SBX_SESSION": "s3"})
        g = self.start("--session", "s4", "--", "sleep", "300", env_extra={"SBX_SESSION": "s3"})
        self.assertEqual([self.show(k)["session"] for k in (a, c, d, e, g)], ["s1", "s2", "default", "s3", "s4"])
        b_pid = self.show(b)["pid"]
        wait_until(lambda: len(self.descendants(b, b_pid)) == 2, 5, "b's tree")
        b_tree = self.descendants(b, b_pid) + [b_pid]
        for p in b_tree:
            self.track(p)
        wait_until(lambda: self.show(f).get("restarts", 0) >= 1, 5, "f restarting")

        self.assertEqual(sorted(self.sbx_ok("ps", "--session", "s1", "-q").stdout.decode().split()),
                         sorted([a, b, f]))
        self.assertEqual(self.sbx_ok("ps", "--session", "s3", "-q").stdout.decode().split(), [e])

        self.sbx_ok("kill", "--all", "--session", "s1")
        self.assertEqual([self.status(k) for k in (a, b)], ["killed", "killed"])
        self.assertIn(self.status(f), FINAL)
        wait_until(lambda: not any(pid_alive(p) for p in b_tree), 2, "b's whole tree dead")
        self.assert_no_process(f, 0.5)
        self.assertEqual([self.status(k) for k in (c, d, e, g)], ["running"] * 4)

        self.sbx_ok("kill", "--all")
        self.assertEqual([self.status(k) for k in (c, d, e, g)], ["killed"] * 4)


if __name__ == "__main__":
    main()
