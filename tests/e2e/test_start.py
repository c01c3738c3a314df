#!/usr/bin/env python3
"""sbx start: ids, argv without a shell, shell lines, env, cwd, child set-up."""
import json
import os
import shlex
import stat
import tempfile

from harness import ID_RE, PY, SbxTestCase, main, pid_alive, proc_stat

ARGV_PRINTER = "import sys,json;print(json.dumps(sys.argv[1:]))"
ENV_PRINTER = ("import os,json,sys;"
               "print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))")


class StartBasics(SbxTestCase):
    def test_prints_id_and_newline_and_is_running(self):
        r = self.run("start", "--", "sleep", "300")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        out = r.stdout.decode()
        self.assertTrue(out.endswith("\n") and out.count("\n") == 1, repr(out))
        pid_id = out.strip()
        self.assertRegex(pid_id, ID_RE)
        rec = self.show(pid_id)
        # start returns only once the process runs: never "starting"
        self.assertEqual(rec["status"], "running")
        self.assertTrue(pid_alive(rec["pid"]))
        with open(f"/proc/{rec['pid']}/cmdline", "rb") as f:
            self.assertEqual(f.read(), b"sleep\x00300\x00")
        self.assertEqual(self.status(pid_id), "running")

    def test_custom_id(self):
        r = self.run("start", "--id", "web.1_x-y", "--", "sleep", "300")
        self.assertEqual((r.returncode, r.stdout), (0, b"web.1_x-y\n"), r.stderr)
        self.show("web.1_x-y")
        long_id = "a" * 64
        r = self.run("start", "--id", long_id, "--", "true")
        self.assertEqual((r.returncode, r.stdout), (0, long_id.encode() + b"\n"), r.stderr)

    def test_auto_ids_are_distinct(self):
        ids = [self.start("--", "true") for _ in range(6)]
        self.assertEqual(len(set(ids)), 6, ids)
        for i in ids:
            self.assertRegex(i, ID_RE)
            self.assertLessEqual(len(i), 64)

    def test_id_of_live_process_is_refused(self):
        self.start("--id", "dup", "--", "sleep", "300")
        pid = self.show("dup")["pid"]
        r = self.run("start", "--id", "dup", "--", "sleep", "1")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"")
        self.assertTrue(r.stderr.startswith(b"sbx: "), r.stderr)
        self.assertEqual(r.stderr.rstrip(b"\n").count(b"\n"), 0, r.stderr)
        rec = self.show("dup")
        self.assertEqual((rec["status"], rec["pid"]), ("running", pid))

    def test_exited_record_is_replaced(self):
        self.start("--id", "again", "--", "echo", "first")
        self.assertEqual(self.run("wait", "again").returncode, 0)
        self.start("--id", "again", "--", "echo", "second")
        self.assertEqual(self.run("wait", "again").returncode, 0)
        self.assertEqual(self.sbx_ok("logs", "again").stdout, b"second\n")
        self.assertEqual(self.show("again")["argv"], ["echo", "second"])
        self.assertEqual(self.sbx_ok("ps", "-q").stdout.split(), [b"again"])

    def test_start_json(self):
        r = self.run("start", "--json", "--id", "js", "--", "sleep", "300")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().count(b"\n"), 0, "one JSON object on one line")
        rec = json.loads(r.stdout)
        self.track(rec.get("pid"))
        self.assertEqual(rec["id"], "js")
        self.assertEqual(rec["status"], "running")
        self.assertEqual(rec["argv"], ["sleep", "300"])
        self.assertIsInstance(rec["pid"], int)
        self.assertEqual(rec["pid"], self.show("js")["pid"])

    def test_dash_dash_protects_flags_of_the_command(self):
        i = self.start("--", "echo", "--id", "x", "-e", "A=B", "--json")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i, "--stdout").stdout, b"--id x -e A=B --json\n")


class ArgvVerbatim(SbxTestCase):
    def test_argv_passed_verbatim_without_shell(self):
        args = ["a b", "'single'", '"double"', "$HOME", "${PATH}", "*", "", "back\\slash",
                "semi;colon", "a|b", "$(echo hi)", "`id`", "~", "new\nline", "tab\there",
                "-x", "--", "ünï", "  lead and trail  "]
        i = self.run_py(ARGV_PRINTER, *args)
        self.assertEqual(self.run("wait", i).returncode, 0, self.sbx_ok("logs", i).stderr)
        out = self.sbx_ok("logs", i, "--stdout").stdout
        self.assertEqual(json.loads(out), args)
        rec = self.show(i)
        self.assertEqual(rec["argv"], [PY, "-c", ARGV_PRINTER] + args)

    def test_single_word_is_not_split(self):
        # one argument after -- is argv (no shell), even if it contains spaces
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            prog = os.path.join(d, "my prog")
            with open(prog, "w") as f:
                f.write("#!/bin/sh\necho ran \"$#\"\n")
            os.chmod(prog, 0o755)
            i = self.start("--", prog)
            self.assertEqual(self.run("wait", i).returncode, 0)
            self.assertEqual(self.sbx_ok("logs", i).stdout, b"ran 0\n")


class ShellLine(SbxTestCase):
    def test_pipe(self):
        i = self.start("echo hello | tr a-z A-Z")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i, "--stdout").stdout, b"HELLO\n")

    def test_variable_expansion(self):
        i = self.start("-e", "GREETING=hi there", 'echo "$GREETING"; echo "$SBX_PROCESS_ID"')
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i, "--stdout").stdout, f"hi there\n{i}\n".encode())

    def test_variable_expansion_of_callers_env(self):
        i = self.start('echo "$SBX_E2E_WORD" $SBX_PROCESS_ID', env_extra={"SBX_E2E_WORD": "a  b"})
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i, "--stdout").stdout, f"a  b {i}\n".encode())

    def test_options_before_shell_line(self):
        # repeatable options (-e, --env-file) must not swallow the shell line
        env_file = os.path.join(self.home, "e.env")
        with open(env_file, "w") as f:
            f.write("FROM_FILE=yes\n")
        i = self.start("--env-file", env_file, 'echo "$FROM_FILE"')
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"yes\n")

    def test_exit_code(self):
        i = self.start("--id", "seven", "echo before; exit 7")
        self.assertEqual(self.run("wait", i).returncode, 7)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec["exit_code"]), ("failed", 7))
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"before\n")

    def test_glob_and_redirect(self):
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            for n in ("b.txt", "a.txt", "c.log"):
                open(os.path.join(d, n), "w").close()
            i = self.start("--cwd", d, "echo *.txt; echo oops >&2")
            self.assertEqual(self.run("wait", i).returncode, 0)
            self.assertEqual(self.sbx_ok("logs", i, "--stdout").stdout, b"a.txt b.txt\n")
            self.assertEqual(self.sbx_ok("logs", i, "--stderr").stdout, b"oops\n")


class Environment(SbxTestCase):
    def env_of(self, pid_id, keys):
        self.assertEqual(self.run("wait", pid_id).returncode, 0, self.sbx_ok("logs", pid_id).stderr)
        return json.loads(self.sbx_ok("logs", pid_id, "--stdout").stdout)

    def test_overrides_inherited_and_sbx_vars(self):
        self.ensure_daemon()  # the daemon's own environment must not leak into children
        keys = ["FOO", "EQ", "EMPTY", "SBX_E2E_CALLER", "SBX_E2E_OVR", "SBX_PROCESS_ID", "SBX_SESSION",
                "SBX_HOME"]
        i = self.start("--id", "envy", "-e", "FOO=bar", "--env", "EQ=a=b c", "-e", "EMPTY=",
                       "-e", "SBX_E2E_OVR=new", "--", PY, "-c", ENV_PRINTER, *keys,
                       env_extra={"SBX_E2E_CALLER": "from-caller", "SBX_E2E_OVR": "old"})
        got = self.env_of(i, keys)
        self.assertEqual(got, {"FOO": "bar", "EQ": "a=b c", "EMPTY": "", "SBX_E2E_CALLER": "from-caller",
                               "SBX_E2E_OVR": "new", "SBX_PROCESS_ID": "envy", "SBX_SESSION": "default",
                               "SBX_HOME": self.home})
        self.assertEqual(self.show(i)["env"], {"FOO": "bar", "EQ": "a=b c", "EMPTY": "", "SBX_E2E_OVR": "new"})

    def test_environment_is_the_callers_not_the_daemons(self):
        self.sbx_ok("ps", env_extra={"SBX_E2E_DAEMON_ONLY": "1"})  # this call forks the daemon
        r = self.run("start", "--", PY, "-c", ENV_PRINTER, "SBX_E2E_DAEMON_ONLY", "SBX_E2E_SECOND",
                     env_extra={"SBX_E2E_SECOND": "2"})
        self.assertEqual(r.returncode, 0, r.stderr)
        i = r.stdout.decode().strip()
        self.assertEqual(self.env_of(i, None), {"SBX_E2E_DAEMON_ONLY": None, "SBX_E2E_SECOND": "2"})

    def test_session(self):
        code = ENV_PRINTER
        a = self.start("--session", "s1", "--", PY, "-c", code, "SBX_SESSION")
        b = self.start("--", PY, "-c", code, "SBX_SESSION", env_extra={"SBX_SESSION": "from-env"})
        c = self.start("--session", "flag", "--", PY, "-c", code, "SBX_SESSION",
                       env_extra={"SBX_SESSION": "from-env"})
        self.assertEqual(self.env_of(a, None), {"SBX_SESSION": "s1"})
        self.assertEqual(self.env_of(b, None), {"SBX_SESSION": "from-env"})
        self.assertEqual(self.env_of(c, None), {"SBX_SESSION": "flag"})
        self.assertEqual([self.show(x)["session"] for x in (a, b, c)], ["s1", "from-env", "flag"])

    def test_env_file(self):
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            path = os.path.join(d, "vars.env")
            with open(path, "w") as f:
                f.write("# a comment\n"
                        "\n"
                        "A=1\n"
                        "export B=two words\n"
                        'C="double quoted"\n'
                        "D='single # not a comment'\n"
                        "   # indented comment\n"
                        "E=x=y\n"
                        "F=\n")
            keys = ["A", "B", "C", "D", "E", "F", "G"]
            i = self.start("--env-file", path, "-e", "G=flag", "--", PY, "-c", ENV_PRINTER, *keys)
            want = {"A": "1", "B": "two words", "C": "double quoted", "D": "single # not a comment",
                    "E": "x=y", "F": "", "G": "flag"}
            self.assertEqual(self.env_of(i, keys), want)
            self.assertEqual(self.show(i)["env"], want)

    def test_env_errors(self):
        r = self.run("start", "-e", "NOEQUALS", "--", "true")
        self.assertErrorLine(r, 2, "-e without =")
        r = self.run("start", "--env-file", "/tmp/sbx-e2e-no-such-env-file", "--", "true")
        self.assertErrorLine(r, 2, "missing env file")
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"", "no record may be created")


class WorkingDirectory(SbxTestCase):
    def pwd_of(self, pid_id):
        self.assertEqual(self.run("wait", pid_id).returncode, 0)
        return self.sbx_ok("logs", pid_id, "--stdout").stdout.decode().strip()

    def test_default_is_callers_cwd(self):
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            d = os.path.realpath(d)
            i = self.start("--", PY, "-c", "import os;print(os.getcwd())", cwd=d)
            self.assertEqual(self.pwd_of(i), d)
            self.assertEqual(os.path.realpath(self.show(i)["cwd"]), d)

    def test_cwd_absolute_and_relative(self):
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            d = os.path.realpath(d)
            os.mkdir(os.path.join(d, "sub"))
            i = self.start("--cwd", os.path.join(d, "sub"), "pwd -P")
            self.assertEqual(self.pwd_of(i), os.path.join(d, "sub"))
            j = self.start("--cwd", "sub", "--", PY, "-c", "import os;print(os.getcwd())", cwd=d)
            self.assertEqual(self.pwd_of(j), os.path.join(d, "sub"))
            self.assertEqual(os.path.realpath(self.show(j)["cwd"]), os.path.join(d, "sub"))


class ChildSetup(SbxTestCase):
    def test_fds_session_and_group(self):
        i = self.start("--", "sleep", "300")
        pid = self.show(i)["pid"]
        fds = sorted(int(x) for x in os.listdir(f"/proc/{pid}/fd"))
        self.assertEqual(fds, [0, 1, 2], {f: os.readlink(f"/proc/{pid}/fd/{f}") for f in fds})
        self.assertEqual(os.readlink(f"/proc/{pid}/fd/0"), "/dev/null")
        # stdout and stderr: two pipes to its waiter (its parent), which relays them to the logs.
        out, err = os.readlink(f"/proc/{pid}/fd/1"), os.readlink(f"/proc/{pid}/fd/2")
        self.assertRegex(out, r"^pipe:\[\d+\]$")
        self.assertRegex(err, r"^pipe:\[\d+\]$")
        self.assertNotEqual(out, err)
        waiter = int(proc_stat(pid)[1])
        held = {os.readlink(f"/proc/{waiter}/fd/{f}") for f in os.listdir(f"/proc/{waiter}/fd")}
        self.assertLessEqual({out, err}, held, "the waiter holds the other ends")
        self.assertIn(os.path.realpath(self.logfile(i, "stdout")), held)
        st = proc_stat(pid)
        pgrp, sid = int(st[2]), int(st[3])
        self.assertEqual((pgrp, sid), (pid, pid), "child must lead its own session and group")

    def test_stdin_is_dev_null(self):
        i = self.start("--", PY, "-c", "import sys;d=sys.stdin.buffer.read();print(len(d))")
        self.assertEqual(self.run("wait", i, "--timeout", "10s").returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"0\n")


class StartFailures(SbxTestCase):
    def check_error(self, pid_id, r, words):
        self.assertErrorLine(r, 1, "start failure")
        msg = r.stderr.decode().lower()
        self.assertTrue(any(w.lower() in msg for w in words), f"reason not named: {msg!r}")
        rec = self.show(pid_id)
        self.assertEqual(rec["status"], "error")
        self.assertIsInstance(rec.get("error"), str)
        self.assertTrue(rec["error"])
        self.assertTrue(any(w.lower() in rec["error"].lower() for w in words), rec["error"])
        self.assertNotIn("pid", rec)
        self.assertEqual(self.status(pid_id), "error")
        self.assertEqual(self.run("wait", pid_id).returncode, 127)

    def test_missing_program(self):
        r = self.run("start", "--id", "nope", "--", "/nonexistent/sbx-e2e-prog", "x")
        self.check_error("nope", r, ["no such file", "not found", "sbx-e2e-prog"])

    def test_missing_program_in_path(self):
        r = self.run("start", "--id", "nope2", "--", "sbx-e2e-definitely-not-a-program")
        self.check_error("nope2", r, ["no such file", "not found", "sbx-e2e-definitely-not-a-program"])

    def test_missing_program_as_a_plain_shell_line(self):
        # One argument without shell syntax is exec'd directly: a missing program is refused
        # as in the argv form, not handed to sh (which would start and exit 127).
        prog = "sbx-e2e-definitely-not-a-program"
        r = self.run("start", "--id", "line", f"{prog} --flag x")
        self.check_error("line", r, [prog])
        self.assertEqual(self.show("line")["argv"], [prog, "--flag", "x"])
        r_argv = self.run("start", "--id", "line", "--", prog, "--flag", "x")
        self.assertEqual(r.stderr, r_argv.stderr, "the same message in both forms")
        self.check_error("line", self.run("start", "--id", "line", f"./{prog}"), [prog])

    def test_plain_shell_line_of_a_builtin_still_runs_with_sh(self):
        for n, (line, code) in enumerate((("exit 3", 3), ("cd /", 0), ("export A=1", 0), ("set -e", 0),
                                          (": x", 0), ("exec true", 0), ("wait", 0), ("read x", 1),
                                          (". /dev/null", 0), ("unset HOME", 0))):
            i = self.start("--id", f"b{n}", line)
            self.assertEqual(self.show(i)["argv"], ["/bin/sh", "-c", line])
            self.assertEqual(self.run("wait", i, "--timeout", "10s").returncode, code, line)

    def test_bad_cwd(self):
        r = self.run("start", "--id", "badcwd", "--cwd", "/nonexistent/sbx-e2e-dir", "--", "true")
        self.check_error("badcwd", r, ["sbx-e2e-dir", "no such file", "directory"])

    def test_not_executable(self):
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            prog = os.path.join(d, "script.sh")
            with open(prog, "w") as f:
                f.write("#!/bin/sh\necho hi\n")
            os.chmod(prog, stat.S_IRUSR | stat.S_IWUSR)
            r = self.run("start", "--id", "noexec", "--", prog)
            self.check_error("noexec", r, ["permission", "executable", "script.sh"])

    def test_start_without_command(self):
        self.assertErrorLine(self.run("start"), 2, "start")
        self.assertErrorLine(self.run("start", "--"), 2, "start --")
        self.assertErrorLine(self.run("start", "--id", "x"), 2, "start --id x")


if __name__ == "__main__":
    main()
