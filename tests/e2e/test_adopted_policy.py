#!/usr/bin/env python3
"""A run adopted by a daemon after `sbx daemon restart` or a kill -9 of sbxd keeps its
policies: its --timeout counts from its start, and --restart restarts it with the same
program and environment, so a wait gives the answer it would have given without the loss."""
import os
import signal
import time

from harness import SbxTestCase, main, pid_alive, prog, wait_until

HOW = ("restart", "kill9")


class AdoptedPolicy(SbxTestCase):
    def lose_daemon(self, how: str) -> None:
        if how == "restart":
            self.sbx_ok("daemon", "restart", timeout=30)
            return
        pid = self.daemon_pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")
        self.sbx_ok("ps")  # a new daemon, which adopts the run

    def check_timeout(self, how: str):
        t0 = time.monotonic()
        i = self.start("--timeout", "3s", "--", "sleep", "300")
        pid = self.show(i)["pid"]
        self.lose_daemon(how)
        r = self.run("wait", i, timeout=20)
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 128 + 15, r.stderr)
        self.assertFalse(pid_alive(pid))
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("reason"), rec.get("signal")), ("killed", "timeout", "SIGTERM"), rec)
        self.assertGreaterEqual(took, 3.0)
        self.assertLess(took, 3.0 + 4.0, "the timeout counted again from the adoption, or not at all")

    def test_timeout_across_daemon_restart(self):
        self.check_timeout("restart")

    def test_timeout_across_kill9(self):
        self.check_timeout("kill9")

    def check_restart(self, how: str):
        # Each run prints the caller's variable (not an -e one: only the environment the
        # daemon was given carries it), then waits for the flag and fails.
        go = os.path.join(self.home, "go")
        i = self.start("--restart", "on-failure", "--max-restarts", "1", "--", "sh", "-c",
                       f'echo "run with $ADOPTED_VAR"; while [ ! -e {go} ]; do sleep 0.01; done; exit 3',
                       env_extra={"ADOPTED_VAR": "from the caller"})
        wait_until(lambda: b"run with" in self.sbx_ok("logs", i).stdout, 5, "the first run's line")
        self.lose_daemon(how)
        self.assertEqual(self.status(i), "running")
        open(go, "w").close()
        # It fails, is restarted once (the flag still there, the second run fails at once).
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 3)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code"), rec.get("restarts")), ("failed", 3, 1), rec)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"run with from the caller\n" * 2)

    def test_restart_policy_across_daemon_restart(self):
        self.check_restart("restart")

    def test_restart_policy_across_kill9(self):
        self.check_restart("kill9")

    def test_removed_with_its_record(self):
        i = self.start("--restart", "always", "--", "sleep", "300")
        env_file = os.path.join(self.home, "state", "processes", f"{i}.env")
        self.assertTrue(os.path.exists(env_file))
        self.sbx_ok("rm", "-f", i)
        self.assertFalse(os.path.exists(env_file))
        # A run without a restart policy keeps none.
        j = self.start("--", "sleep", "300")
        self.assertFalse(os.path.exists(os.path.join(self.home, "state", "processes", f"{j}.env")))
        self.sbx_ok("rm", "-f", j)
        # Nor does a run that takes over the id of one that had a policy.
        k = self.start("--id", "k", "--restart", "on-failure", "--", "true")
        self.assertEqual(self.run("wait", k).returncode, 0)
        self.start("--id", "k", "--", "sleep", "300")
        self.assertFalse(os.path.exists(os.path.join(self.home, "state", "processes", "k.env")))
        self.sbx_ok("rm", "-f", "k")


if __name__ == "__main__":
    main()
