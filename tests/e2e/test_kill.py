#!/usr/bin/env python3
"""sbx kill: graceful stop, process tree, escalation, -s, --no-wait, --all."""
import os
import signal
import time

from harness import PY, SIGNUM, SbxTestCase, has_sig, main, pid_alive, proc_children, prog, wait_until

COUNT_HUP = ("import signal,sys,time\n"
             "n=0\n"
             "def h(s,f):\n"
             "  global n; n+=1; sys.stdout.write('hup %d\\n' % n); sys.stdout.flush()\n"
             "signal.signal(signal.SIGHUP, h)\n"
             "while True: time.sleep(300)\n")


class DefaultKill(SbxTestCase):
    def test_term_and_wait(self):
        i = self.start("--", "sleep", "300")
        pid = self.show(i)["pid"]
        t0 = time.monotonic()
        r = self.run("kill", i)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(time.monotonic() - t0, 5, "plain sleep dies on TERM at once")
        # kill waits for the end: no polling needed
        self.assertFalse(pid_alive(pid))
        rec = self.show(i)
        self.assertEqual((rec["status"], rec["signal"]), ("killed", "SIGTERM"))
        self.assertNotIn("exit_code", rec)
        self.assertEqual(self.run("wait", i).returncode, 128 + 15)

    def test_reaches_grandchildren(self):
        i = self.start("sleep 300 & sleep 300 & wait")
        pid = self.show(i)["pid"]
        kids = wait_until(lambda: (lambda c: c if len(c) == 2 else None)(proc_children(pid)),
                          5, "two sleeps under the shell")
        for k in kids:
            self.track(k)
            self.assertIn(k, self.pids_of(i))
        self.sbx_ok("kill", i)
        self.assertFalse(pid_alive(pid))
        wait_until(lambda: not any(pid_alive(k) for k in kids), 3, "both grandchildren dead")
        self.assertEqual(self.status(i), "killed")

    def test_reaches_descendant_that_left_the_group(self):
        # setsid moves the sleep into a new session/group; kill finds it by SBX_PROCESS_ID
        i = self.start("setsid sleep 300 & wait")
        pid = self.show(i)["pid"]

        def escaped():
            for p in self.pids_of(i):
                try:
                    if p != pid and os.getpgid(p) != pid:
                        return p
                except ProcessLookupError:
                    pass
            return None
        esc = wait_until(escaped, 5, "the setsid'd sleep")
        self.track(esc)
        self.sbx_ok("kill", i)
        wait_until(lambda: not pid_alive(esc), 3, "the setsid'd sleep dead")
        self.assertFalse(pid_alive(pid))

    def test_escalates_to_sigkill_after_grace(self):
        i = self.start("--", *prog("ignore_signal"), "SIGTERM")
        pid = self.show(i)["pid"]
        wait_until(lambda: has_sig(pid, "SigIgn", SIGNUM["TERM"]), 5, "child ignoring SIGTERM")
        t0 = time.monotonic()
        r = self.run("kill", i, "--grace", "300ms")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(took, 0.29)
        self.assertLess(took, 5)
        self.assertFalse(pid_alive(pid))
        rec = self.show(i)
        self.assertEqual((rec["status"], rec["signal"]), ("killed", "SIGKILL"))
        self.assertEqual(self.run("wait", i).returncode, 128 + 9)

    def test_graceful_exit_in_handler(self):
        code = ("import signal,sys,time\n"
                "signal.signal(signal.SIGTERM, lambda s,f: sys.exit(0))\n"
                "time.sleep(300)\n")
        i = self.start("--", PY, "-c", code)
        pid = self.show(i)["pid"]
        wait_until(lambda: has_sig(pid, "SigCgt", SIGNUM["TERM"]), 5, "handler installed")
        self.sbx_ok("kill", i)
        rec = self.show(i)
        # ended by sbx on request: killed, why, and the real exit code
        self.assertEqual((rec["status"], rec.get("reason"), rec.get("exit_code")), ("killed", "kill", 0), rec)
        self.assertNotIn("signal", rec)
        self.assertEqual(self.run("wait", i).returncode, 0)

    def test_several_ids(self):
        a = self.start("--", "sleep", "300")
        b = self.start("--", "sleep", "300")
        self.sbx_ok("kill", a, b)
        self.assertEqual([self.status(a), self.status(b)], ["killed", "killed"])

    def test_already_ended(self):
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.run("kill", i)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.status(i), "completed")
        r = self.run("start", "--id", "e", "--", "/nonexistent/sbx-e2e")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.run("kill", "e").returncode, 0)
        self.assertEqual(self.run("kill", "-s", "HUP", i).returncode, 0)

    def test_no_wait(self):
        code = ("import os,signal,sys,time\n"
                "def h(s,f):\n"
                "  while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                "  sys.exit(0)\n"
                "signal.signal(signal.SIGTERM, h)\n"
                "time.sleep(300)\n")
        go = os.path.join(self.home, "go")
        i = self.start("--", PY, "-c", code, go)
        pid = self.show(i)["pid"]
        wait_until(lambda: has_sig(pid, "SigCgt", SIGNUM["TERM"]), 5, "handler installed")
        r = self.run("kill", "--no-wait", i, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.status(i), "running")
        self.assertTrue(pid_alive(pid))
        open(go, "w").close()
        self.assertEqual(self.run("wait", i, "--timeout", "10s").returncode, 0)


class SignalOption(SbxTestCase):
    def test_hup_delivery_in_all_spellings(self):
        i = self.start("--", PY, "-c", COUNT_HUP)
        pid = self.show(i)["pid"]
        wait_until(lambda: has_sig(pid, "SigCgt", SIGNUM["HUP"]), 5, "HUP handler installed")
        for n, spelling in enumerate(("HUP", "SIGHUP", "1", "hup", "SigHup"), start=1):
            t0 = time.monotonic()
            r = self.run("kill", "-s", spelling, i)
            self.assertEqual(r.returncode, 0, f"-s {spelling}: {r.stderr!r}")
            self.assertLess(time.monotonic() - t0, 5)
            want = "".join(f"hup {k}\n" for k in range(1, n + 1)).encode()
            wait_until(lambda: self.read_log(i) == want, 5, f"hup #{n} ({spelling}) handled")
            self.assertEqual(self.status(i), "running")
        self.assertTrue(pid_alive(pid))

    def test_signal_reaches_the_group(self):
        i = self.start("sleep 300 & sleep 300 & wait")
        pid = self.show(i)["pid"]
        kids = wait_until(lambda: (lambda c: c if len(c) == 2 else None)(proc_children(pid)), 5, "sleeps")
        for k in kids:
            self.track(k)
        self.sbx_ok("kill", "-s", "KILL", i)
        wait_until(lambda: not any(pid_alive(p) for p in kids + [pid]), 3, "whole group killed")
        rec = self.wait_status(i, "killed")
        self.assertEqual(rec["signal"], "SIGKILL")

    def test_term_and_kill_spellings_return_at_once(self):
        for spelling, num in (("TERM", 15), ("sigterm", 15), ("15", 15), ("kill", 9), ("SIGKILL", 9), ("9", 9)):
            i = self.start("--", "sleep", "300")
            self.sbx_ok("kill", "-s", spelling, i)
            self.assertEqual(self.run("wait", i, "--timeout", "5s").returncode, 128 + num, spelling)

    def test_signal_with_grace_escalates(self):
        i = self.start("--", *prog("ignore_signal"), "SIGINT")
        pid = self.show(i)["pid"]
        wait_until(lambda: has_sig(pid, "SigIgn", SIGNUM["INT"]), 5, "child ignoring SIGINT")
        t0 = time.monotonic()
        self.sbx_ok("kill", "-s", "INT", "--grace", "300ms", i)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)
        self.assertFalse(pid_alive(pid))
        self.assertEqual(self.show(i)["signal"], "SIGKILL")


class KillAll(SbxTestCase):
    def test_all_in_session(self):
        a = self.start("--session", "x", "--", "sleep", "300")
        b = self.start("--session", "x", "--", "sleep", "300")
        c = self.start("--session", "y", "--", "sleep", "300")
        self.sbx_ok("kill", "--all", "--session", "x")
        self.assertEqual([self.status(k) for k in (a, b, c)], ["killed", "killed", "running"])
        self.sbx_ok("kill", "--all")
        self.assertEqual(self.status(c), "killed")

    def test_all_prints_the_ids_it_stopped(self):
        a = self.start("--", "sleep", "300")
        b = self.start("--", "sleep", "300")
        ended = self.start("true")
        self.assertEqual(self.run("wait", ended).returncode, 0)
        r = self.sbx_ok("kill", "--all")
        self.assertEqual(sorted(r.stdout.decode().split("\n")), sorted(["", a, b]))
        self.assertEqual([self.status(k) for k in (a, b)], ["killed", "killed"])
        c = self.start("--", "sleep", "300")
        r = self.sbx_ok("kill", "--all", "-q")
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.status(c), "killed")
        self.assertEqual(self.sbx_ok("kill", "--all").stdout, b"", "nothing left to stop")


class KillErrors(SbxTestCase):
    def test_usage_and_unknown(self):
        i = self.start("--", "sleep", "300")
        for sig in ("SIGFOO", "99", "0x", "-1"):
            self.assertErrorLine(self.run("kill", "-s", sig, i), 2, f"kill -s {sig!r}")
        self.assertErrorLine(self.run("kill", "--grace", "5parsecs", i), 2, "kill --grace 5parsecs")
        self.assertErrorLine(self.run("kill", "nosuch"), 3, "kill nosuch")
        self.assertErrorLine(self.run("kill", "-s", "HUP", "nosuch"), 3, "kill -s HUP nosuch")
        self.assertErrorLine(self.run("kill", "bad id!"), 2, "kill 'bad id!'")
        self.assertEqual(self.status(i), "running")


# Exits 0 on SIGTERM (a clean shutdown, as PostgreSQL's smart one), 3 on SIGHUP.
CLEAN_ON_TERM = ("import signal,sys,time\n"
                 "signal.signal(signal.SIGTERM, lambda s,f: sys.exit(0))\n"
                 "signal.signal(signal.SIGHUP, lambda s,f: sys.exit(3))\n"
                 "print('ready', flush=True)\n"
                 "time.sleep(300)\n")


class EndedOnRequest(SbxTestCase):
    """One rule: a process that sbx ended on request is `killed` with a `reason` (kill,
    timeout, stop) and keeps its real exit code or signal, which `sbx wait` returns; a
    signal nobody asked sbx for leaves `killed` with the signal and no reason."""

    def clean(self, *start_args) -> str:
        i = self.start(*start_args, "--", PY, "-c", CLEAN_ON_TERM)
        wait_until(lambda: self.read_log(i) == b"ready\n", 5, "handlers installed")
        return i

    def assertEnd(self, i, status, reason, code=None, sig=None, wait_rc=None):
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("reason"), rec.get("exit_code"), rec.get("signal")),
                         (status, reason, code, sig), rec)
        self.assertEqual(self.run("wait", i).returncode, wait_rc if wait_rc is not None else code)

    def test_kill_of_a_clean_shutdown(self):
        i = self.clean()
        self.sbx_ok("kill", i)
        self.assertEnd(i, "killed", "kill", code=0)

    def test_timeout_of_a_clean_shutdown(self):
        i = self.clean("--timeout", "300ms")
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 0)
        self.assertEnd(i, "killed", "timeout", code=0)

    def test_daemon_stop_of_a_clean_shutdown(self):
        i = self.clean()
        self.sbx_ok("daemon", "stop", timeout=20)
        self.assertEnd(i, "killed", "stop", code=0)

    def test_kill_through_a_wrapper_that_exits_128_plus_n(self):
        # runuser and many shells report the child's SIGTERM as exit 143
        i = self.start("--", "sh", "-c", "trap 'exit 143' TERM; echo ready; while :; do sleep 0.01; done")
        wait_until(lambda: self.read_log(i) == b"ready\n", 5, "trap installed")
        self.sbx_ok("kill", i)
        self.assertEnd(i, "killed", "kill", code=143)

    def test_kill_by_signal_keeps_the_signal(self):
        i = self.start("--", "sleep", "300")
        self.sbx_ok("kill", i)
        self.assertEnd(i, "killed", "kill", sig="SIGTERM", wait_rc=128 + 15)

    def test_signal_delivery_counts_only_when_it_ends_the_run(self):
        i = self.clean()
        self.sbx_ok("kill", "-s", "HUP", i)  # handled: it exits 3 by itself
        wait_until(lambda: self.status(i) != "running", 5, "end")
        self.assertEnd(i, "failed", None, code=3)
        j = self.start("--", "sleep", "300")
        self.sbx_ok("kill", "-s", "USR1", j)  # not handled: the signal ends it
        wait_until(lambda: self.status(j) != "running", 5, "end")
        self.assertEnd(j, "killed", "kill", sig="SIGUSR1", wait_rc=128 + 10)

    def test_a_signal_nobody_asked_sbx_for_has_no_reason(self):
        i = self.start("--", "sleep", "300")
        os.kill(self.show(i)["pid"], signal.SIGKILL)  # the OOM killer, say
        wait_until(lambda: self.status(i) != "running", 5, "end")
        self.assertEnd(i, "killed", None, sig="SIGKILL", wait_rc=128 + 9)


if __name__ == "__main__":
    main()
