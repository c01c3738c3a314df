#!/usr/bin/env python3
"""sbx up / sbx down from sbx.toml: readiness gates dependents, every ready kind, failures
(exit 1 naming the process, its last lines, dependents never started), timeouts (124),
completed dependencies, idempotence and restarts, --project, down's order."""
import json
import os
import pty
import signal
import sys
import textwrap

from harness import PY, SbxTestCase, free_port, main, pid_alive, wait_until


class ProjectCase(SbxTestCase):
    """A project folder in the test's home; sbx runs in it."""

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.home, "shop")
        os.mkdir(self.dir)

    def write(self, text: str, name: str = "sbx.toml") -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def script(self, name: str, code: str) -> str:
        """A Python program in the project folder; returns the command line that runs it."""
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(textwrap.dedent(code))
        return f"{PY} {name}"

    def up(self, *args, **kw):
        return self.run("up", *args, cwd=self.dir, **kw)

    def down(self, *args, **kw):
        return self.run("down", *args, cwd=self.dir, **kw)

    def record(self, pid_id: str) -> dict | None:
        r = self.run("show", pid_id, "--json")
        if r.returncode == 3:
            return None
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = json.loads(r.stdout)
        if isinstance(rec.get("pid"), int):
            self.track(rec["pid"])
        return rec

    def assertUp(self, r):
        self.assertEqual(r.returncode, 0, f"up -> {r.returncode}: {r.stderr.decode()}")


class Readiness(ProjectCase):
    def test_ready_log_gates_the_start_of_a_dependent(self):
        # api fails at once if db's file is not there yet: db writes it just before its ready line.
        self.write("""
            [process.db]
            command = "sleep 0.4; touch db.ready; echo 'ready to accept connections'; exec sleep 60"
            ready = { log = "ready to accept" }

            [process.api]
            command = "test -f db.ready || exit 7; echo api up; exec sleep 60"
            depends_on = { db = "ready" }
            ready = { log = "api up" }
        """)
        r = self.up()
        self.assertUp(r)
        err = r.stderr.decode()
        self.assertIn("db: started", err)
        self.assertRegex(err, r"db: ready in \d+\.\ds")
        self.assertLess(err.index("db: ready"), err.index("api: started"))
        self.assertEqual(self.record("api")["status"], "running")
        self.assertEqual(self.record("db")["session"], "shop")  # the folder's name

    def test_ready_regex(self):
        # The first line does not match the regex; the file comes before the one that does.
        cmd = self.script("srv.py", """
            import time
            print("listening on nothing", flush=True)
            time.sleep(0.4)
            open("srv.ready", "w").close()
            print("listening on 8123", flush=True)
            time.sleep(60)
        """)
        self.write(f"""
            [process.srv]
            command = "{cmd}"
            ready = {{ log = 'listening on (\\d+)', regex = true }}

            [process.client]
            command = "test -f srv.ready || exit 7; echo ok; exec sleep 60"
            depends_on = {{ srv = "ready" }}
            ready = {{ log = "ok" }}
        """)
        self.assertUp(self.up())
        self.assertEqual(self.record("client")["status"], "running")

    def test_ready_port(self):
        port = free_port()
        cmd = self.script("srv.py", f"""
            import socket, time
            time.sleep(0.4)
            open("srv.ready", "w").close()
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", {port}))
            s.listen()
            while True:
                s.accept()[0].close()
        """)
        self.write(f"""
            [process.srv]
            command = "{cmd}"
            ready = {{ port = {port} }}

            [process.client]
            command = "test -f srv.ready || exit 7; echo ok; exec sleep 60"
            depends_on = {{ srv = "ready" }}
            ready = {{ log = "ok" }}
        """)
        self.assertUp(self.up())
        self.assertEqual(self.record("client")["status"], "running")

    def test_ready_http_with_a_status_range(self):
        # 302 (good for a plain wait-port: 200-399) comes first, then 204: only 204 is in
        # the range asked for, and the file is written before the first 204.
        port = free_port()
        cmd = self.script("srv.py", f"""
            import http.server, time
            t0 = time.monotonic()
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    code = 302 if time.monotonic() - t0 < 0.5 else 204
                    if code == 204:
                        open("srv.ready", "w").close()
                    self.send_response(code)
                    self.end_headers()
                def log_message(self, *a):
                    pass
            http.server.HTTPServer(("127.0.0.1", {port}), H).serve_forever()
        """)
        self.write(f"""
            [process.srv]
            command = "{cmd}"
            ready = {{ port = {port}, http = "/health", status = "200-299" }}

            [process.client]
            command = "test -f srv.ready || exit 7; echo ok; exec sleep 60"
            depends_on = {{ srv = "ready" }}
            ready = {{ log = "ok" }}
        """)
        self.assertUp(self.up())
        self.assertEqual(self.record("client")["status"], "running")

    def test_ready_exec_runs_in_the_process_folder_until_it_exits_0(self):
        os.mkdir(os.path.join(self.dir, "db"))
        self.write("""
            [process.db]
            command = "sleep 0.4; touch flag; exec sleep 60"
            cwd = "db"
            env = { FLAG = "flag" }
            ready = { exec = "test -f \\"$FLAG\\"", interval = "50ms" }

            [process.api]
            command = "test -f db/flag || exit 7; echo ok; exec sleep 60"
            depends_on = { db = "ready" }
            ready = { log = "ok" }
        """)
        self.assertUp(self.up())
        self.assertEqual(self.record("api")["status"], "running")
        # The probes are gone: removed once they ended, in a session of their own.
        ps = json.loads(self.sbx_ok("ps", "--json").stdout)
        self.assertEqual(sorted(r["id"] for r in ps), ["api", "db"])

    def test_on_a_terminal_a_status_line_says_what_is_awaited(self):
        self.write("""
            [process.db]
            command = "sleep 1.5; echo ready; exec sleep 60"
            ready = { log = "ready" }
            [process.api]
            command = "exec sleep 60"
            depends_on = { db = "ready" }
        """)
        master, slave = pty.openpty()
        try:
            p = self.spawn("up", cwd=self.dir, stderr=slave, env_extra={"TERM": "xterm"})
            os.close(slave)
            slave = -1
            got = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every writer is gone
                    break
                if not chunk:
                    break
                got += chunk
            rc, _, _ = self.finish(p, "up on a terminal")
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)
        self.assertEqual(rc, 0, got)
        self.assertIn(b" waiting for db (ready), api ", got)
        self.assertIn(b"db: ready in", got)
        # Each progress line starts on a clean line: the status line is erased first.
        self.assertIn(b"\r\x1b[Kdb: ready in", got)

    def test_tty_gives_the_process_a_terminal_so_an_unflushed_line_is_seen(self):
        # Without a terminal Python block-buffers its stdout and `ready` would never be seen.
        self.write(f"""
            [process.web]
            command = ["{PY}", "-c", "import os, sys, time; print('tty', os.isatty(1)); print('ready'); time.sleep(60)"]
            tty = true
            ready = {{ log = "ready", timeout = "10s" }}
        """)
        r = self.run("up", cwd=self.dir, env_remove=("PYTHONUNBUFFERED",))
        self.assertUp(r)
        self.assertEqual(self.record("web")["tty"], True)
        self.assertIn(b"tty True\n", self.sbx_ok("logs", "web").stdout)

    def test_a_process_without_ready_is_up_once_started(self):
        self.write("""
            [process.a]
            command = ["sleep", "60"]
            [process.b]
            command = ["sleep", "60"]
            depends_on = { a = "started" }
        """)
        r = self.up()
        self.assertUp(r)
        self.assertEqual(self.record("b")["status"], "running")
        self.assertEqual(self.record("a")["argv"], ["sleep", "60"])


class Failures(ProjectCase):
    def test_a_dependency_that_ends_before_it_is_ready(self):
        self.write("""
            [process.db]
            command = "for i in $(seq 1 30); do echo line-$i; done; echo boom >&2; exit 4"
            ready = { log = "ready to accept" }

            [process.api]
            command = "sleep 60"
            depends_on = { db = "ready" }

            [process.web]
            command = "sleep 60"
            depends_on = { api = "started" }
        """)
        r = self.up(timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        err = r.stderr.decode()
        self.assertRegex(err, r"^db: started\nsbx: db: 'db' ended \(.*exit code 4\).*; not started: api, web\n")
        # Its last 20 lines of output, both streams in write order, as sbx logs -n 20 prints them.
        self.assertIn("  | line-12\n", err)
        self.assertNotIn("line-11\n", err)
        self.assertTrue(err.endswith("  | line-30\n  | boom\n"), err)
        self.assertIsNone(self.record("api"))
        self.assertIsNone(self.record("web"))

    def test_a_process_without_ready_that_ended_failing_before_up_returned(self):
        # "slow" keeps up waiting for a second: by then "web" (exit 1 at once) has ended,
        # and up must not say all is up. "once" completed: a one-shot is up.
        self.write("""
            [process.web]
            command = "echo port taken >&2; exit 1"
            [process.once]
            command = "true"
            [process.slow]
            command = "sleep 1; echo ready; sleep 60"
            ready = { log = "ready" }
        """)
        r = self.up(timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        err = r.stderr.decode()
        self.assertIn("sbx: web: it ended before all was up (exit 1)", err)
        self.assertTrue(err.endswith("  | port taken\n"), err)
        self.assertEqual(self.record("once")["status"], "completed")
        self.record("slow")  # tracked: cleaned up by pid

    def test_a_command_that_cannot_start(self):
        self.write("""
            [process.db]
            command = ["./no-such-program"]
            [process.api]
            command = "sleep 60"
            depends_on = { db = "started" }
        """)
        r = self.up()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"sbx: db: cannot start: ", r.stderr)
        self.assertIn(b"not started: api", r.stderr)
        self.assertIsNone(self.record("api"))

    def test_a_ready_timeout_is_124_and_names_the_process(self):
        self.write("""
            [process.db]
            command = "echo starting; exec sleep 60"
            ready = { log = "never printed", timeout = "300ms" }
            [process.api]
            command = "sleep 60"
            depends_on = { db = "ready" }
        """)
        r = self.up(timeout=30)
        self.assertEqual(r.returncode, 124, r.stderr)
        self.assertIn(b"sbx: db: ", r.stderr)
        self.assertIn(b"not started: api", r.stderr)
        self.assertIsNone(self.record("api"))

    def test_an_exec_ready_command_that_hangs_is_stopped_at_the_timeout(self):
        self.write("""
            [process.db]
            command = "exec sleep 60"
            ready = { exec = "exec sleep 30", timeout = "300ms" }
        """)
        r = self.up(timeout=30)
        self.assertEqual(r.returncode, 124, r.stderr)
        self.assertIn(b"sbx: db: 'exec sleep 30' did not exit 0 within 300ms (the last one still ran)",
                      r.stderr)
        live = json.loads(self.sbx_ok("ps", "--session", "shop.ready", "--status", "live", "--json").stdout)
        self.assertEqual(live, [])

    def test_the_timeout_of_up_is_124_and_names_what_was_not_ready(self):
        self.write("""
            [process.db]
            command = "exec sleep 60"
            ready = { log = "never printed" }
            [process.api]
            command = "sleep 60"
            depends_on = { db = "ready" }
            [process.other]
            command = "sleep 60"
        """)
        r = self.up("--timeout", "400ms", timeout=30)
        self.assertEqual(r.returncode, 124, r.stderr)
        self.assertIn(b"not ready after 400ms (--timeout): db (not ready), api (not started)",
                      r.stderr)
        self.assertIsNone(self.record("api"))
        self.assertEqual(self.record("other")["status"], "running")

    def test_completed_dependency_a_migration(self):
        self.write("""
            [process.db]
            command = "echo ready; exec sleep 60"
            ready = { log = "ready" }
            [process.migrate]
            command = "sleep 0.3; touch migrated; echo migrated"
            depends_on = { db = "ready" }
            [process.api]
            command = "test -f migrated || exit 7; echo api up; exec sleep 60"
            depends_on = { migrate = "completed" }
            ready = { log = "api up" }
        """)
        r = self.up()
        self.assertUp(r)
        self.assertIn(b"migrate: completed", r.stderr)
        self.assertEqual(self.record("migrate")["status"], "completed")
        self.assertEqual(self.record("api")["status"], "running")

    def test_a_failed_migration_stops_its_dependents(self):
        self.write("""
            [process.migrate]
            command = "echo 'relation exists' >&2; exit 2"
            [process.api]
            command = "sleep 60"
            depends_on = { migrate = "completed" }
        """)
        r = self.up()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"sbx: migrate: 'migrate' did not complete: it ended (exit 2); not started: api",
                      r.stderr)
        self.assertIn(b"relation exists\n", r.stderr)
        self.assertIsNone(self.record("api"))


class Idempotence(ProjectCase):
    PROJECT = """
        [process.db]
        command = "echo ready; exec sleep 60"
        ready = {{ log = "ready" }}
        [process.api]
        command = "{api}"
        depends_on = {{ db = "ready" }}
    """

    def test_up_twice_leaves_unchanged_processes_alone_and_restarts_changed_ones(self):
        self.write(self.PROJECT.format(api="exec sleep 60"))
        self.assertUp(self.up())
        db, api = self.record("db")["pid"], self.record("api")["pid"]
        r = self.up()
        self.assertUp(r)
        self.assertIn(b"db: running (unchanged)", r.stderr)
        self.assertEqual(self.record("db")["pid"], db)
        self.assertEqual(self.record("api")["pid"], api)
        # A change of api's command restarts api only.
        self.write(self.PROJECT.format(api="exec sleep 61"))
        r = self.up()
        self.assertUp(r)
        self.assertIn(b"api: changed: restarting", r.stderr)
        self.assertEqual(self.record("db")["pid"], db)
        rec = self.record("api")
        self.assertNotEqual(rec["pid"], api)
        self.assertEqual(rec["status"], "running")
        self.assertFalse(pid_alive(api))

    def test_the_definition_outlives_a_daemon_restart(self):
        self.write(self.PROJECT.format(api="exec sleep 60"))
        self.assertUp(self.up())
        db, api = self.record("db")["pid"], self.record("api")["pid"]
        definition = self.record("api")["definition"]
        self.assertRegex(definition, r"^[0-9a-f]{16}$")
        self.sbx_ok("daemon", "restart")
        self.assertEqual(self.record("api")["definition"], definition)
        r = self.up()
        self.assertUp(r)
        self.assertIn(b"api: running (unchanged)", r.stderr)
        self.assertEqual((self.record("db")["pid"], self.record("api")["pid"]), (db, api))
        # A process started by hand has none.
        self.start("--id", "solo", "--", "sleep", "60")
        self.assertNotIn("definition", self.record("solo"))

    def test_a_live_process_started_by_hand_or_by_another_project_is_an_error(self):
        self.write(self.PROJECT.format(api="exec sleep 60"))
        self.start("--id", "db", "--session", "shop", "--", "sleep", "60")
        r = self.up()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"sbx: db: 'db' is running and was started by hand (session 'shop')", r.stderr)
        self.assertIsNone(self.record("api"))
        self.sbx_ok("kill", "db")
        self.assertUp(self.up("--project", "other"))
        r = self.up()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"belongs to project 'other'", r.stderr)

    def test_project_names_the_session(self):
        self.write(self.PROJECT.format(api="exec sleep 60"))
        self.assertUp(self.up("--project", "ci-42"))
        self.assertEqual(self.record("api")["session"], "ci-42")
        ps = json.loads(self.sbx_ok("ps", "--session", "ci-42", "--json").stdout)
        self.assertEqual(sorted(r["id"] for r in ps), ["api", "db"])
        # down of another project stops nothing of it; its own does.
        self.assertEqual(self.down().returncode, 0)
        self.assertEqual(self.record("db")["status"], "running")
        os.remove(os.path.join(self.dir, "sbx.toml"))
        r = self.down("--project", "ci-42", "--grace", "2s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.record("db")["status"], "killed")
        self.assertEqual(self.record("api")["status"], "killed")

    def test_names_start_only_them_and_what_they_need(self):
        self.write(self.PROJECT.format(api="exec sleep 60") + """
        [process.other]
        command = "sleep 60"
        """)
        self.assertUp(self.up("api"))
        self.assertEqual(self.record("db")["status"], "running")
        self.assertIsNone(self.record("other"))
        r = self.up("nope")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"sbx: no process 'nope' in sbx.toml (it has: db, api, other)", r.stderr)


class Down(ProjectCase):
    def test_dependents_are_stopped_first_records_and_logs_stay(self):
        # Each writes who got TERM into one file, in the order they got it.
        trap = "trap 'echo {n} >> ../order; exit 0' TERM; echo up; while :; do sleep 0.05; done"
        os.mkdir(os.path.join(self.dir, "w"))
        self.write(f"""
            [process.db]
            command = "{trap.format(n='db')}"
            cwd = "w"
            ready = {{ log = "up" }}
            [process.api]
            command = "{trap.format(n='api')}"
            cwd = "w"
            depends_on = {{ db = "ready" }}
            ready = {{ log = "up" }}
            [process.web]
            command = "{trap.format(n='web')}"
            cwd = "w"
            depends_on = {{ api = "started" }}
            ready = {{ log = "up" }}
        """)
        self.assertUp(self.up())
        pids = [self.record(n)["pid"] for n in ("db", "api", "web")]
        r = self.down("--grace", "5s")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "order")) as f:
            self.assertEqual(f.read().split(), ["web", "api", "db"])
        for n, pid in zip(("db", "api", "web"), pids):
            rec = self.record(n)
            self.assertEqual(rec["status"], "killed")
            self.assertFalse(pid_alive(pid))
        self.assertEqual(self.sbx_ok("logs", "db").stdout, b"up\n")
        # Nothing left: a second down is fine.
        self.assertEqual(self.down().returncode, 0)


class ExitFrom(ProjectCase):
    def project(self, tests_cmd: str):
        self.write(f"""
            [process.db]
            command = "echo db ready; exec sleep 60"
            ready = {{ log = "db ready" }}
            [process.tests]
            command = "{tests_cmd}"
            depends_on = {{ db = "ready" }}
        """)

    def check_exit(self, tests_cmd: str, code: int):
        self.project(tests_cmd)
        r = self.up("--exit-from", "tests", timeout=30)
        self.assertEqual(r.returncode, code, r.stderr)
        out = r.stdout.decode()
        # As sbx logs -f --session prints them: in write order, the ids padded to the widest.
        self.assertIn("db    | db ready\n", out)
        self.assertIn("tests | running the tests\n", out)
        self.assertLess(out.index("db    | db ready"), out.index("tests | running"))
        for n in ("db", "tests"):
            self.assertNotIn(self.record(n)["status"], ("running", "starting"))
        self.assertEqual(self.record("db")["status"], "killed")
        self.assertNothingLeft()
        return r

    def test_exit_0(self):
        self.check_exit("echo running the tests", 0)

    def test_exit_3(self):
        r = self.check_exit("echo running the tests; exit 3", 3)
        self.assertIn(b"tests: ended (exit 3); exit 3", r.stderr)

    def test_a_signal_is_128_plus_n(self):
        self.check_exit("echo running the tests; kill -USR1 $$", 128 + signal.SIGUSR1)

    def test_its_end_before_the_others_are_ready_is_the_answer(self):
        # tests needs nothing and exits 3 at once, while db takes a second to be ready: up
        # still waits for db, then answers with tests' code, not with a failure of up.
        self.write("""
            [process.db]
            command = "sleep 1; echo db ready; exec sleep 60"
            ready = { log = "db ready" }
            [process.tests]
            command = "echo running the tests; exit 3"
        """)
        r = self.up("--exit-from", "tests", timeout=30)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotIn(b"before all was up", r.stderr)
        self.assertIn("tests | running the tests\n", r.stdout.decode())
        self.assertEqual(self.record("db")["status"], "killed")
        self.assertNothingLeft()

    def test_a_second_run_prints_its_own_output_not_the_last_runs(self):
        # down keeps a run's records and logs; the next run's tests start only after db is
        # ready, well after the follower first looked at the project's session.
        self.write("""
            [process.db]
            command = "echo db-$RUN; sleep 0.5; echo db ready; exec sleep 60"
            ready = { log = "db ready" }
            [process.tests]
            command = "echo tests-$RUN"
            depends_on = { db = "ready" }
        """)
        for run in ("one", "two"):
            r = self.up("--exit-from", "tests", env_extra={"RUN": run}, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("db    | db-two\n", out)
        self.assertIn("tests | tests-two\n", out)
        self.assertNotIn("-one", out)
        self.assertNothingLeft()

    def test_a_failed_up_tears_down_what_it_started(self):
        self.write("""
            [process.db]
            command = "exec sleep 60"
            [process.tests]
            command = "exit 5"
            depends_on = { db = "started" }
            ready = { log = "never" }
        """)
        r = self.up("--exit-from", "tests", timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(self.record("db")["status"], "killed")
        self.assertNothingLeft()

    def test_ctrl_c_stops_the_project_and_exits_130(self):
        self.project("echo running the tests; exec sleep 60")
        p = self.spawn("up", "--exit-from", "tests", cwd=self.dir)
        wait_until(lambda: (self.record("tests") or {}).get("status") == "running", 10, "tests running")
        wait_until(lambda: b"running" in self.read_log("tests"), 10, "output")
        p.send_signal(signal.SIGINT)
        rc, out, err = self.finish(p, "up --exit-from after SIGINT", timeout=30)
        self.assertEqual(rc, 130, err)
        self.assertIn(b"sbx: SIGINT: stopping project shop", err)
        self.assertEqual(self.record("db")["status"], "killed")
        self.assertEqual(self.record("tests")["status"], "killed")
        self.assertNothingLeft()

    def test_ctrl_c_while_up_waits_stops_what_it_started(self):
        self.write("""
            [process.db]
            command = "echo starting; exec sleep 60"
            ready = { log = "never printed" }
            [process.tests]
            command = "sleep 60"
            depends_on = { db = "ready" }
        """)
        p = self.spawn("up", "--exit-from", "tests", cwd=self.dir)
        wait_until(lambda: b"starting" in self.read_log("db"), 10, "db's output")
        p.send_signal(signal.SIGINT)
        rc, out, err = self.finish(p, "up --exit-from after SIGINT", timeout=30)
        self.assertEqual(rc, 130, err)
        self.assertEqual(self.record("db")["status"], "killed")
        self.assertIsNone(self.record("tests"))
        self.assertNothingLeft()

    def test_exit_from_names_a_process_of_the_file(self):
        self.project("true")
        r = self.up("--exit-from", "nope")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--exit-from nope: no such process in sbx.toml", r.stderr)


class Procfile(ProjectCase):
    def test_procfile_when_there_is_no_sbx_toml_and_with_f(self):
        self.write("# the app\nweb: exec sleep 60\nworker: exec sleep 61\n", "Procfile")
        self.assertUp(self.up())
        self.assertEqual(self.record("web")["session"], "shop")
        self.assertEqual(self.record("worker")["argv"][-1], "exec sleep 61")
        self.assertEqual(self.down().returncode, 0)
        self.assertEqual(self.record("web")["status"], "killed")
        self.write("other: exec sleep 62\n", "Procfile.dev")
        self.assertUp(self.up("-f", "Procfile.dev", "--project", "dev"))
        self.assertEqual(self.record("other")["session"], "dev")

    def test_a_bad_procfile_line(self):
        self.write("web: sleep 60\nnot a process line\n", "Procfile")
        r = self.up()
        self.assertErrorLine(r, 2)
        self.assertIn(b"sbx: Procfile:2: not a 'name: command' line", r.stderr)


class UsageErrors(ProjectCase):
    CASES = [
        ("[process.a]\ncommand = 'x'\nbogus = 1\n", "sbx.toml:3: unknown key 'bogus' in [process.a]"),
        ("[process.a]\ncommand = 'x'\ndepends_on = { b = 'ready' }\n",
         "sbx.toml:3: 'a' depends on 'b', which is not a process of this file"),
        ("[process.a]\ncommand = 'x'\ndepends_on = { b = 'ready' }\n[process.b]\ncommand = 'y'\n"
         "depends_on = { a = 'ready' }\n", "sbx.toml:6: a dependency cycle: a -> b -> a"),
        ("[process.a]\ncommand = 'x'\ntimeout = 'soon'\n", "sbx.toml:3: process.a.timeout: bad duration 'soon'"),
        ("[process.a]\ncommand = 'x'\nlog_max = '1K'\n", "sbx.toml:3: process.a.log_max: --log-max must be"),
        ("[process.a]\ncommand = 'x'\nrestart = 'sometimes'\n", "sbx.toml:3: process.a.restart: bad --restart"),
        ("[process.a]\ncommand = 'x'\nready = { port = 70000 }\n", "sbx.toml:3: process.a.ready.port: the port"),
        ("[process.a]\ncommand = 'x'\nready = { log = 'x', port = 1 }\n",
         "sbx.toml:3: process.a.ready takes exactly one of log, port or exec"),
        ("[process.a]\ncommand = 'x'\ndepends_on = { a = 'done' }\n", "sbx.toml:3: process.a.depends_on.a must be"),
        # Found bad when the file is read, not once the process was started to be waited for.
        ("[process.a]\ncommand = 'sleep 60'\nready = { log = 'on (\\d+', regex = true }\n",
         "sbx.toml:3: process.a.ready.log: bad regex 'on (\\d+'"),
        ("[process.a]\ncwd = 'x'\n", "sbx.toml:1: [process.a] has no command"),
        ("[process.a\n", "sbx.toml:1: not valid TOML"),
    ]

    def test_every_usage_error_names_file_and_line(self):
        for text, want in self.CASES:
            with self.subTest(want=want):
                self.write(text)
                r = self.up()
                self.assertErrorLine(r, 2, want)
                self.assertIn(("sbx: " + want).encode(), r.stderr)
                r = self.down()
                self.assertErrorLine(r, 2, want)
        self.assertNothingLeft()

    def test_no_file(self):
        r = self.up()
        self.assertErrorLine(r, 2)
        self.assertIn(b"no sbx.toml or Procfile in this folder", r.stderr)
        r = self.up("-f", "missing.toml")
        self.assertErrorLine(r, 2)
        self.assertEqual(r.stderr, b"sbx: cannot read missing.toml: No such file or directory\n")

    def test_env_file_errors_and_values(self):
        with open(os.path.join(self.dir, ".env"), "w") as f:
            f.write("A=from-file\nB=file\n")
        self.write("""
            [process.a]
            command = "echo $A-$B; exec sleep 60"
            env_file = ".env"
            env = { B = "env" }
            ready = { log = "from-file-env" }
        """)
        self.assertUp(self.up())
        self.write("""
            [process.b]
            command = "sleep 60"
            env_file = "missing.env"
        """, "other.toml")
        r = self.up("-f", "other.toml")
        self.assertErrorLine(r, 2)
        self.assertEqual(r.stderr, f"sbx: other.toml:2: process.b.env_file: cannot read {self.dir}/missing.env: "
                                   "No such file or directory\n".encode())
        with open(os.path.join(self.dir, ".env"), "w") as f:
            f.write("not an assignment\n")
        r = self.up()
        self.assertErrorLine(r, 2)
        self.assertIn(f"{self.dir}/.env:1: ".encode(), r.stderr)


if __name__ == "__main__":
    main()
