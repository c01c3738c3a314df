#!/usr/bin/env python3
"""sbx.toml keys reach the run they describe (restart, max_restarts, timeout, log_max), and
down waits for a dependent to end before it stops what it depends on, escalating to KILL
after --grace."""
import os
import time

from harness import pid_alive, wait_until, main
from test_up import ProjectCase


class Keys(ProjectCase):
    def test_the_lifecycle_keys_reach_the_record_and_the_run(self):
        self.write("""
            [process.flaky]
            command = "echo try; exit 3"
            restart = "on-failure"
            max_restarts = 2
            [process.slow]
            command = "sleep 300"
            timeout = "1s"
            log_max = "128K"
        """)
        self.assertUp(self.up("slow"))
        self.up("flaky")  # up may see it fail; what matters is what it ran with
        wait_until(lambda: self.record("flaky")["status"] == "failed", 20, "flaky gave up")
        flaky = self.record("flaky")
        self.assertEqual((flaky["restart"], flaky.get("max_restarts"), flaky.get("restarts")),
                         ("on-failure", 2, 2), flaky)
        self.assertEqual(self.sbx_ok("logs", "flaky").stdout, b"try\n" * 3)
        slow = self.record("slow")
        self.assertEqual((slow.get("timeout_ms"), slow.get("log_max")), (1000, 128 * 1024), slow)
        self.assertEqual(self.run("wait", "slow", timeout=20).returncode, 128 + 15)
        self.assertEqual(self.record("slow").get("reason"), "timeout")


class DownOrder(ProjectCase):
    def test_a_dependency_is_stopped_only_once_its_dependent_ended(self):
        # api takes 1 s to end after TERM; db notes whether api was still alive when TERM came.
        os.mkdir(os.path.join(self.dir, "w"))
        self.write("""
            [process.db]
            command = "trap 'if [ -e api.alive ]; then echo early > ../db; else echo after > ../db; fi; exit 0' TERM; echo up; while :; do sleep 0.05; done"
            cwd = "w"
            ready = { log = "up" }
            [process.api]
            command = "trap 'sleep 1; rm -f api.alive; exit 0' TERM; touch api.alive; echo up; while :; do sleep 0.05; done"
            cwd = "w"
            depends_on = { db = "ready" }
            ready = { log = "up" }
        """)
        self.assertUp(self.up())
        self.assertEqual(self.down("--grace", "5s").returncode, 0)
        with open(os.path.join(self.dir, "db")) as f:
            self.assertEqual(f.read(), "after\n")

    def test_a_process_that_ignores_term_is_killed_after_the_grace(self):
        self.write("""
            [process.stubborn]
            command = "trap '' TERM; echo up; while :; do sleep 0.05; done"
            ready = { log = "up" }
        """)
        self.assertUp(self.up())
        pid = self.record("stubborn")["pid"]
        t0 = time.monotonic()
        self.assertEqual(self.down("--grace", "500ms").returncode, 0)
        took = time.monotonic() - t0
        self.assertFalse(pid_alive(pid))
        rec = self.record("stubborn")
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGKILL"), rec)
        self.assertGreaterEqual(took, 0.5)


if __name__ == "__main__":
    main()
