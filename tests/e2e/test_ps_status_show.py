#!/usr/bin/env python3
"""sbx ps / status / show: the process table and the records."""
import datetime as dt
import json
import os
import tomllib

from harness import PY, TIME_RE, SbxTestCase, main, pid_alive

# The keys of the record (sbx(1) THE RECORD), for lifecycle and log caps too.
ALL_KEYS = {"id", "command", "argv", "cwd", "env", "session", "pid", "status", "start_time",
            "end_time", "exit_code", "signal", "error", "timeout_ms", "auto_cleanup", "restart",
            "restarts", "reason", "max_restarts", "log_max", "dropped_stdout", "dropped_stderr",
            "ports", "tree", "cgroup", "memory_max", "pids_max", "cpu_max"}


def parse_time(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


class Fixture(SbxTestCase):
    """One record of every status."""

    def make_all(self):
        self.start("--id", "run", "--session", "a", "--", "sleep", "300")
        self.start("--id", "ok", "--session", "a", "--", "true")
        self.start("--id", "bad", "--session", "b", "exit 7")
        self.start("--id", "dead", "--session", "b", "--", "sleep", "300")
        r = self.run("start", "--id", "err", "--", "/nonexistent/sbx-e2e-prog")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(self.run("wait", "ok").returncode, 0)
        self.assertEqual(self.run("wait", "bad").returncode, 7)
        self.sbx_ok("kill", "-s", "KILL", "dead")
        self.assertEqual(self.run("wait", "dead").returncode, 128 + 9)


class Status(Fixture):
    def test_status_words(self):
        self.make_all()
        for i, word in [("run", "running"), ("ok", "completed"), ("bad", "failed"),
                        ("dead", "killed"), ("err", "error")]:
            r = self.run("status", i)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, word.encode() + b"\n", b""), i)


class Ps(Fixture):
    def rows(self, *args):
        r = self.sbx_ok("ps", *args)
        lines = r.stdout.decode().splitlines()
        self.assertGreaterEqual(len(lines), 1, "ps prints a header")
        self.assertEqual(lines[0].split(), ["ID", "PID", "STATUS", "EXIT", "STARTED", "COMMAND"])
        return {ln.split()[0]: ln.split() for ln in lines[1:]}

    def test_table(self):
        self.make_all()
        rows = self.rows()
        self.assertEqual(set(rows), {"run", "ok", "bad", "dead", "err"})
        pid = self.show("run")["pid"]
        self.assertEqual(rows["run"][1:4], [str(pid), "running", "-"])
        self.assertEqual(rows["ok"][2:4], ["completed", "0"])
        self.assertEqual(rows["bad"][2:4], ["failed", "7"])
        self.assertEqual(rows["dead"][2:4], ["killed", "SIGKILL"])
        self.assertEqual(rows["err"][2:4], ["error", "-"])
        self.assertIn("sleep 300", " ".join(rows["run"][4:]))

    def test_empty(self):
        r = self.sbx_ok("ps")
        self.assertEqual(r.stdout.decode().split(), ["ID", "PID", "STATUS", "EXIT", "STARTED", "COMMAND"])
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"")
        self.assertEqual(json.loads(self.sbx_ok("ps", "--json").stdout), [])

    def test_quiet_and_json(self):
        self.make_all()
        q = self.sbx_ok("ps", "-q").stdout.decode()
        self.assertTrue(q.endswith("\n"))
        self.assertEqual(sorted(q.split("\n")[:-1]), ["bad", "dead", "err", "ok", "run"])
        arr = json.loads(self.sbx_ok("ps", "--json").stdout)
        self.assertIsInstance(arr, list)
        by_id = {r["id"]: r for r in arr}
        self.assertEqual(set(by_id), {"run", "ok", "bad", "dead", "err"})
        for i, rec in by_id.items():
            self.assertEqual(rec, self.show(i), f"ps --json and show --json differ for {i}")

    def test_json_has_only_design_keys(self):
        self.make_all()
        for rec in json.loads(self.sbx_ok("ps", "--json").stdout):
            self.assertEqual(set(rec) - ALL_KEYS, set(), f"undocumented keys in {rec['id']}")

    def test_filters(self):
        self.make_all()

        def q(*args):
            return sorted(self.sbx_ok("ps", "-q", *args).stdout.decode().split())
        self.assertEqual(q("--session", "a"), ["ok", "run"])
        self.assertEqual(q("--session", "b"), ["bad", "dead"])
        self.assertEqual(q("--session", "default"), ["err"])
        self.assertEqual(q("--session", "nobody"), [])
        self.assertEqual(q("--status", "running"), ["run"])
        self.assertEqual(q("--status", "completed"), ["ok"])
        self.assertEqual(q("--status", "failed"), ["bad"])
        self.assertEqual(q("--status", "killed"), ["dead"])
        self.assertEqual(q("--status", "error"), ["err"])
        self.assertEqual(q("--session", "b", "--status", "failed"), ["bad"])
        rows = self.rows("--session", "a")
        self.assertEqual(set(rows), {"ok", "run"})
        arr = json.loads(self.sbx_ok("ps", "--json", "--status", "killed").stdout)
        self.assertEqual([r["id"] for r in arr], ["dead"])
        self.assertErrorLine(self.run("ps", "--status", "bogus"), 2, "ps --status bogus")

    def test_status_list_live_and_ended(self):
        self.make_all()
        q = lambda *a: sorted(self.sbx_ok("ps", "-q", *a).stdout.decode().split())
        self.assertEqual(q("--status", "live"), ["run"])
        self.assertEqual(q("--status", "ended"), ["bad", "dead", "err", "ok"])
        self.assertEqual(q("--status", "completed,failed"), ["bad", "ok"])
        self.assertEqual(q("--status", "killed", "--status", "live"), ["dead", "run"])
        self.assertErrorLine(self.run("ps", "--status", "live,bogus"), 2, "ps --status live,bogus")


class Show(Fixture):
    def check_times(self, rec, ended):
        self.assertRegex(rec["start_time"], TIME_RE)
        start = parse_time(rec["start_time"])
        now = dt.datetime.now(dt.timezone.utc)
        self.assertLess(abs((now - start).total_seconds()), 120, "start_time is not UTC now")
        if ended:
            self.assertRegex(rec["end_time"], TIME_RE)
            self.assertGreaterEqual(parse_time(rec["end_time"]), start)
        else:
            self.assertNotIn("end_time", rec)

    def test_running_record(self):
        d = os.path.realpath(self.home)
        i = self.start("--id", "r", "--cwd", d, "-e", "K=V", "--session", "s", "--", "sleep", "300")
        rec = self.show(i)
        self.assertEqual(rec["id"], "r")
        self.assertEqual(rec["argv"], ["sleep", "300"])
        self.assertIsInstance(rec["command"], str)
        self.assertIn("sleep", rec["command"])
        self.assertEqual(os.path.realpath(rec["cwd"]), d)
        self.assertEqual(rec["env"], {"K": "V"})
        self.assertEqual(rec["session"], "s")
        self.assertEqual(rec["status"], "running")
        self.assertTrue(pid_alive(rec["pid"]))
        for k in ("exit_code", "signal", "error"):
            self.assertNotIn(k, rec)
        self.check_times(rec, ended=False)

    def test_completed_failed_killed_error(self):
        self.make_all()
        ok = self.show("ok")
        self.assertEqual((ok["status"], ok["exit_code"]), ("completed", 0))
        self.assertNotIn("signal", ok)
        self.assertNotIn("error", ok)
        self.assertIsInstance(ok["pid"], int)
        self.check_times(ok, ended=True)

        bad = self.show("bad")
        self.assertEqual((bad["status"], bad["exit_code"]), ("failed", 7))
        self.assertNotIn("signal", bad)
        self.check_times(bad, ended=True)

        dead = self.show("dead")
        self.assertEqual((dead["status"], dead["signal"]), ("killed", "SIGKILL"))
        self.assertNotIn("exit_code", dead)
        self.assertFalse(pid_alive(dead["pid"]))
        self.check_times(dead, ended=True)

        err = self.show("err")
        self.assertEqual(err["status"], "error")
        self.assertTrue(err["error"])
        self.assertNotIn("pid", err)
        self.assertNotIn("exit_code", err)

    def test_default_kill_record(self):
        i = self.start("--", "sleep", "300")
        self.sbx_ok("kill", i)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec["signal"]), ("killed", "SIGTERM"))
        self.assertNotIn("exit_code", rec)
        self.check_times(rec, ended=True)

    def test_show_prints_no_empty_env_table(self):
        i = self.start("true")
        self.assertNotIn(b"[env]", self.sbx_ok("show", i).stdout)
        j = self.start("-e", "K=V", "true")
        self.assertIn(b"\n[env]\n", self.sbx_ok("show", j).stdout)

    def test_toml_show_and_file(self):
        self.make_all()
        for i in ("run", "ok", "bad", "dead", "err"):
            r = self.sbx_ok("show", i)
            shown = tomllib.loads(r.stdout.decode())
            path = os.path.join(self.home, "state", "processes", f"{i}.toml")
            with open(path, "rb") as f:
                on_disk = tomllib.load(f)
            js = self.show(i)
            for k in ("id", "status", "pid", "exit_code", "signal", "argv", "session", "env", "error"):
                # show prints no empty [env] table
                self.assertEqual(shown.get(k, {} if k == "env" else None), js.get(k), f"{i}: show TOML vs JSON, key {k}")
                self.assertEqual(on_disk.get(k), js.get(k), f"{i}: file vs JSON, key {k}")
            # times: TOML datetimes (or strings) describe the same instant as JSON
            for k in ("start_time", "end_time"):
                if k in js:
                    v = shown.get(k)
                    self.assertIsNotNone(v, f"{i}: {k} missing from TOML")
                    if isinstance(v, str):
                        v = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
                    self.assertEqual(v.astimezone(dt.timezone.utc).replace(microsecond=v.microsecond // 1000 * 1000),
                                     parse_time(js[k]), f"{i}: {k}")

    def test_json_timestamp_precision(self):
        i = self.start("--", PY, "-c", "pass")
        self.run("wait", i)
        rec = self.show(i)
        self.assertRegex(rec["start_time"], TIME_RE)
        self.assertRegex(rec["end_time"], TIME_RE)


if __name__ == "__main__":
    main()
