"""Launching a run: sbxd waits for no exec. While a run's waiter has not yet said that the
program was exec'd, the record says starting (no pid), the daemon serves everyone else,
and a kill, a daemon stop or a daemon restart asked meanwhile is applied once it runs.

A stand-in waiter holds each launch until the test creates a 'go' file, then execs the
real sbx-shim (same pid), so every in-between state is reached without timing guesses.
"""
import json
import os
import shlex
import signal
import tomllib

from harness import SBXD, SbxTestCase, main, pid_alive, proc_stat, wait_until

REAL_SHIM = os.path.join(os.path.dirname(SBXD), "sbx-shim")


class LaunchCase(SbxTestCase):
    def setUp(self):
        super().setUp()
        self.go = os.path.join(self.home, "go")
        self.use_shim(f"while [ ! -e {shlex.quote(self.go)} ]; do sleep 0.01; done\n"
                      f'exec {shlex.quote(REAL_SHIM)} "$@"\n')

    def use_shim(self, body: str):
        shim = os.path.join(self.home, "held-shim")
        with open(shim, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(shim, 0o755)
        self.env["SBX_SHIM"] = shim

    def release(self):
        with open(self.go, "w"):
            pass

    def launching(self, i: str) -> dict:
        """Waits until `i` is being launched: status starting, no pid."""
        def probe():
            r = self.run("show", i, "--json")
            if r.returncode != 0:
                return None
            rec = json.loads(r.stdout)
            return rec if rec["status"] == "starting" else None
        rec = wait_until(probe, 10, f"{i} being launched")
        self.assertNotIn("pid", rec, "a run being launched has no pid yet")
        return rec

    def record_file(self, i: str) -> dict:
        with open(os.path.join(self.home, "state", "processes", f"{i}.toml"), "rb") as f:
            return tomllib.load(f)


class Launch(LaunchCase):
    def test_others_are_served_while_a_run_launches(self):
        p = self.spawn("start", "--id", "slow", "--", "sleep", "300")
        self.launching("slow")
        self.assertStillWaiting(p, "start")
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"slow\n")
        self.sbx_ok("daemon", "status")
        self.release()
        rc, out, err = self.finish(p, "start")
        self.assertEqual((rc, out), (0, b"slow\n"), err)
        rec = self.show("slow")
        self.assertEqual(rec["status"], "running")
        self.assertTrue(pid_alive(rec["pid"]))
        self.assertEqual(self.record_file("slow")["pid"], rec["pid"], "the record on disk has the pid")
        self.sbx_ok("kill", "slow")

    def test_kill_while_launching_stops_it_once_it_runs(self):
        p = self.spawn("start", "--id", "k", "--", "sleep", "300")
        self.launching("k")
        kp = self.spawn("kill", "k")
        self.assertStillWaiting(kp, "kill")
        self.release()
        rc, out, err = self.finish(kp, "kill")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.finish(p, "start")
        self.assertEqual((rc, out), (0, b"k\n"), err)
        rec = self.show("k")
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"), rec)
        self.assertFalse(pid_alive(rec["pid"]))
        self.assertEqual(self.run("wait", "k").returncode, 128 + 15)

    def test_signal_while_launching_is_delivered_once_it_runs(self):
        p = self.spawn("start", "--id", "h", "--", "sleep", "300")
        self.launching("h")
        self.sbx_ok("kill", "-s", "HUP", "--no-wait", "h")
        self.release()
        self.assertEqual(self.finish(p, "start")[0], 0)
        self.assertEqual(self.run("wait", "h", "--timeout", "5s").returncode, 128 + 1)
        self.assertEqual(self.show("h").get("signal"), "SIGHUP")

    def test_daemon_stop_while_launching_stops_it(self):
        p = self.spawn("start", "--id", "s", "--", "sleep", "300")
        self.launching("s")
        sp = self.spawn("daemon", "stop")
        self.assertStillWaiting(sp, "daemon stop")
        self.release()
        rc, out, err = self.finish(sp, "daemon stop")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.finish(p, "start")[0], 0)
        rec = self.record_file("s")
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"), rec)
        self.assertFalse(pid_alive(rec["pid"]))

    def test_daemon_restart_while_launching_hands_it_over_with_its_pid(self):
        p = self.spawn("start", "--id", "r", "--", "sleep", "300")
        self.launching("r")
        old = self.daemon_pid()
        rp = self.spawn("daemon", "restart")
        self.assertStillWaiting(rp, "daemon restart")
        self.release()
        rc, out, err = self.finish(rp, "daemon restart")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.finish(p, "start")[0], 0)
        rec = self.show("r")  # served by the new daemon, which adopted it
        self.assertNotEqual(self.daemon_pid(), old)
        self.assertEqual(rec["status"], "running", rec)
        self.assertTrue(pid_alive(rec["pid"]))
        self.sbx_ok("kill", "r")
        self.assertEqual(self.show("r")["status"], "killed")
        self.assertFalse(pid_alive(rec["pid"]))


class CrashWhileLaunching(LaunchCase):
    """sbxd dies between spawning a run's waiter and the exec's report: the record it wrote
    first already names the waiter, so the next daemon adopts the run and nothing runs
    untracked."""

    def crash_while_launching(self, i: str, *argv) -> tuple[dict, int]:
        self.spawn("start", "--id", i, "--", *argv)  # it loses its daemon: what it says is not the point
        self.launching(i)
        dpid = self.daemon_pid()
        os.kill(dpid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(dpid), 5, "daemon gone")
        return self.record_file(i), dpid

    def test_the_next_daemon_adopts_the_run(self):
        rec, old = self.crash_while_launching("c", "sleep", "300")
        self.assertEqual(rec["status"], "starting", rec)
        waiter = rec.get("waiter_pid")
        self.assertIsInstance(waiter, int, f"the record of a run being launched names no waiter: {rec}")
        self.track(waiter)
        self.release()  # the waiter execs the program now, its daemon gone
        run = wait_until(lambda: (lambda r: r if r["status"] == "running" else None)(self.show("c")), 10,
                         "the run adopted as running")
        self.assertNotEqual(self.daemon_pid(), old)
        self.assertTrue(pid_alive(run["pid"]))
        self.assertEqual(int(proc_stat(run["pid"])[1]), waiter, "its program is the waiter's child")
        self.assertEqual(self.record_file("c")["pid"], run["pid"], "the record on disk has the pid")
        self.sbx_ok("kill", "c")
        rec = self.show("c")
        self.assertEqual((rec["status"], rec.get("signal"), rec.get("reason")), ("killed", "SIGTERM", "kill"), rec)
        self.assertFalse(pid_alive(run["pid"]))
        self.assertEqual(self.run("wait", "c").returncode, 128 + 15)

    def test_its_exit_code_is_known(self):
        self.crash_while_launching("e", "sh", "-c", "exit 9")
        self.release()
        self.assertEqual(self.run("wait", "e", "--timeout", "10s").returncode, 9)
        self.assertEqual(self.show("e").get("exit_code"), 9)


class WaiterWithoutReport(LaunchCase):
    def test_a_waiter_that_ends_without_a_report_is_an_error(self):
        self.use_shim("exit 0\n")
        r = self.run("start", "--id", "x", "--", "sleep", "300")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr.decode(), r"^sbx: .*ended without a report.*\n$")
        rec = self.show("x")
        self.assertEqual(rec["status"], "error")
        self.assertNotIn("pid", rec)
        self.assertEqual(self.run("wait", "x").returncode, 127)
        self.sbx_ok("daemon", "status")


if __name__ == "__main__":
    main()
