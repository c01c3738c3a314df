#!/usr/bin/env python3
"""Daemon shutdown (sbx daemon stop, SIGTERM to sbxd): every process stopped gracefully
and in parallel, restarting ones included; every record final; socket gone."""
import os
import signal
import time
import tomllib

from harness import PY, SbxTestCase, main, pid_alive, proc_stat, wait_until

FINAL = ("completed", "failed", "killed", "error")

# exits 0 argv[1] seconds after SIGTERM
SLOW_TERM = ("import signal,sys,time\n"
             "def h(s,f):\n"
             "    time.sleep(float(sys.argv[1])); sys.exit(0)\n"
             "signal.signal(signal.SIGTERM, h)\n"
             "print('ready', flush=True)\n"
             "while True: time.sleep(300)\n")


class ShutdownCase(SbxTestCase):

    def records(self) -> dict[str, dict]:
        d = os.path.join(self.home, "state", "processes")
        out = {}
        for name in os.listdir(d):
            if name.endswith(".toml"):
                with open(os.path.join(d, name), "rb") as f:
                    rec = tomllib.load(f)
                out[rec.get("id", name[:-5])] = rec
        return out

    def populate(self, slow: int = 2) -> dict[str, str]:
        ids = {}
        # a restarting process caught in a long back-off (0.8 s after 3 restarts)
        ids["backoff"] = self.start("--restart", "on-failure", "--", "sh", "-c", "echo try; exit 1")
        wait_until(lambda: self.in_backoff(ids["backoff"], b"try", 3), 5, "a long back-off")
        ids["always"] = self.start("--restart", "always", "--", "sh", "-c", "sleep 0.3")
        ids["plain"] = self.start("--", "sleep", "300")
        ids["tree"] = self.start("sleep 300 & setsid sleep 300 & wait")
        for k in range(slow):
            ids[f"slow{k}"] = self.start("--", PY, "-c", SLOW_TERM, "1.5")
        ids["trap"] = self.start("trap '' TERM; sleep 2; echo done")
        ids["ended"] = self.start("--", "sh", "-c", "exit 6")
        self.assertEqual(self.run("wait", ids["ended"]).returncode, 6)
        for k in range(slow):
            wait_until(lambda: self.read_log(ids[f"slow{k}"]) == b"ready\n", 5, "slow handler installed")
        leader = self.show(ids["tree"])["pid"]
        above = set()  # the leader's ancestors (a per-process waiter may carry the id too)
        p = leader
        while p > 1:
            p = int(proc_stat(p)[1])
            above.add(p)
        wait_until(lambda: len([p for p in self.pids_of(ids["tree"]) if p not in above]) == 3, 5,
                   "tree's sleeps")
        for p in self.home_processes():
            self.track(p)
        return ids

    def check_after_stop(self, ids: dict[str, str], before: list[int], took: float):
        self.assertGreaterEqual(took, 1.4, "the slow handlers had to finish")
        self.assertLess(took, 2.9, "processes are stopped in parallel, not one after another")
        wait_until(lambda: not os.path.exists(self.sock_path), 1, "socket removed")
        alive = [p for p in before if pid_alive(p)]
        self.assertEqual(alive, [], "processes outlived the daemon")
        self.assertEqual(self.home_processes(), [], "managed processes alive after shutdown")
        recs = self.records()
        self.assertEqual(sorted(recs), sorted(ids.values()))
        for i, rec in recs.items():
            self.assertIn(rec.get("status"), FINAL, f"record {i} not final: {rec}")
            self.assertIn("end_time", rec, rec)
        # ended by the stop: killed, reason stop, and each keeps its real exit code or signal
        for k in ("plain", "tree"):
            rec = recs[ids[k]]
            self.assertEqual((rec["status"], rec.get("reason"), rec.get("signal")), ("killed", "stop", "SIGTERM"), k)
        for k in ids:
            if k.startswith("slow") or k == "trap":
                rec = recs[ids[k]]
                self.assertEqual((rec["status"], rec.get("reason"), rec.get("exit_code")), ("killed", "stop", 0), k)
                self.assertNotIn("signal", rec)
        self.assertEqual(self.read_log(ids["trap"]), b"done\n")
        self.assertEqual((recs[ids["ended"]]["status"], recs[ids["ended"]].get("exit_code")), ("failed", 6))
        self.assertEqual(recs[ids["backoff"]]["status"], "failed", recs[ids["backoff"]])
        self.assertEqual(recs[ids["backoff"]].get("exit_code"), 1)
        # nothing comes back on its own
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self.assertEqual(self.home_processes(), [], "a process was (re)started after shutdown")
            time.sleep(0.05)
        self.assertEqual(self.records(), recs, "records changed after shutdown")
        # a new daemon reads the final records and restarts nothing
        for k in ("plain", "tree", "trap", "ended", "backoff", "always"):
            self.assertEqual(self.status(ids[k]), recs[ids[k]]["status"], k)
        self.assertEqual(self.run("wait", ids["slow0"], "--timeout", "2s").returncode, 0)
        self.assertEqual(self.run("wait", ids["plain"], "--timeout", "2s").returncode, 128 + 15)
        time.sleep(0.5)
        self.assertEqual(self.home_processes(), [], "the new daemon restarted a process")


class Shutdown(ShutdownCase):
    def test_daemon_stop(self):
        ids = self.populate(slow=2)
        dpid = self.daemon_pid()
        self.assertTrue(dpid and pid_alive(dpid))
        before = self.home_processes()
        t0 = time.monotonic()
        r = self.run("daemon", "stop", timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_until(lambda: not pid_alive(dpid), 2, "sbxd gone after daemon stop")
        self.check_after_stop(ids, before, took)

    def test_sigterm_to_sbxd(self):
        ids = self.populate(slow=1)
        dpid = self.daemon_pid()
        self.assertTrue(dpid and pid_alive(dpid))
        before = self.home_processes()
        t0 = time.monotonic()
        os.kill(dpid, signal.SIGTERM)
        wait_until(lambda: not pid_alive(dpid), 15, "sbxd gone after SIGTERM")
        took = time.monotonic() - t0
        self.check_after_stop(ids, before, took)

    def test_stop_with_nothing_running(self):
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        dpid = self.daemon_pid()
        t0 = time.monotonic()
        self.sbx_ok("daemon", "stop")
        self.assertLess(time.monotonic() - t0, 2)
        wait_until(lambda: not pid_alive(dpid), 2, "sbxd gone")
        self.assertFalse(os.path.exists(self.sock_path))
        self.assertEqual(self.records()[i]["status"], "completed")


if __name__ == "__main__":
    main()
