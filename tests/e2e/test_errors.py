#!/usr/bin/env python3
"""Exit codes and error lines: unknown ids (3), usage errors (2), failures (1)."""
import os
import tempfile

from harness import SbxTestCase, main


class UnknownId(SbxTestCase):
    def test_every_command_exits_3(self):
        self.ensure_daemon()
        for args in (["status", "nosuch"], ["show", "nosuch"], ["show", "nosuch", "--json"],
                     ["logs", "nosuch"], ["logs", "nosuch", "--stderr"], ["logs", "-f", "nosuch"],
                     ["wait", "nosuch"], ["kill", "nosuch"], ["kill", "-s", "HUP", "nosuch"]):
            self.assertErrorLine(self.run(*args, timeout=10), 3, " ".join(args))

    def test_kill_with_one_unknown_among_known(self):
        i = self.start("--", "sleep", "300")
        r = self.run("kill", i, "nosuch")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertTrue(r.stderr.startswith(b"sbx: "), r.stderr)


class BadIds(SbxTestCase):
    BAD = ["bad id!", "-x", ".hidden", "_x", "a/b", "../etc", "a" * 65, "é"]

    def test_start_with_bad_id(self):
        for bad in self.BAD:
            self.assertErrorLine(self.run("start", "--id", bad, "--", "true"), 2, f"start --id {bad!r}")
        self.assertEqual(self.sbx_ok("ps", "-q").stdout, b"")

    def test_other_commands_with_bad_id(self):
        for bad in ("bad id!", "a/b", "../etc", "a" * 65):
            for cmd in (["status"], ["show"], ["logs"], ["wait"], ["kill"]):
                self.assertErrorLine(self.run(*cmd, bad), 2, f"{cmd[0]} {bad!r}")
        for cmd in (["status"], ["show"], ["logs"], ["wait"], ["kill"]):
            self.assertErrorLine(self.run(*cmd, "-x"), 2, f"{cmd[0]} -x")


class BadValues(SbxTestCase):
    def test_bad_durations(self):
        i = self.start("--", "sleep", "300")
        for d in ("5parsecs", "ms", "1d2", "s5"):
            self.assertErrorLine(self.run("wait", i, "--timeout", d), 2, f"wait --timeout {d}")
            self.assertErrorLine(self.run("kill", i, "--grace", d), 2, f"kill --grace {d}")
            self.assertErrorLine(self.run("start", "--timeout", d, "--", "true"), 2, f"start --timeout {d}")
        self.assertEqual(self.status(i), "running")

    def test_bad_signals(self):
        i = self.start("--", "sleep", "300")
        for sig in ("SIGFOO", "99", "FOO", "SIG", "1x"):
            self.assertErrorLine(self.run("kill", "-s", sig, i), 2, f"kill -s {sig}")
        self.assertEqual(self.status(i), "running")

    def test_bad_status_filter(self):
        self.assertErrorLine(self.run("ps", "--status", "bogus"), 2, "ps --status bogus")

    def test_wait_port_host_given_a_url_says_where_the_global_one_goes(self):
        i = self.start("--", "sleep", "300")
        r = self.run("wait-port", i, "8000", "--host", "ssh://build-box", "--timeout", "1s")
        self.assertErrorLine(r, 2, "wait-port --host ssh://")
        self.assertIn(b"sbx --host ssh://build-box wait-port", r.stderr)


class EmptyValues(SbxTestCase):
    """An empty string is not a valid id, signal or duration."""

    def test_empty_id(self):
        self.assertErrorLine(self.run("start", "--id", "", "--", "true"), 2, "start --id ''")
        self.assertErrorLine(self.run("status", ""), 2, "status ''")

    def test_empty_signal_and_duration(self):
        for args in (["kill", "-s", ""], ["kill", "--grace", ""], ["wait", "--timeout", ""]):
            with self.subTest(args=args):
                i = self.start("--", "sleep", "300")
                self.assertErrorLine(self.run(*args, i, timeout=5), 2, " ".join(args) + "''")
                self.assertEqual(self.status(i), "running")


class Usage(SbxTestCase):
    def test_unknown_flags_and_commands(self):
        for args in (["--bogus"], ["ps", "--bogus"], ["start", "--bogus", "--", "true"],
                     ["start", "--bogus"], ["start", "--id", "x", "-z", "echo hi"],
                     ["status", "--bogus", "x"], ["show", "x", "--bogus"], ["logs", "x", "--bogus"],
                     ["wait", "x", "--bogus"], ["kill", "x", "--bogus"], ["daemon", "status", "--bogus"],
                     ["frobnicate"], ["daemon", "frobnicate"]):
            self.assertErrorLine(self.run(*args), 2, " ".join(args))

    def test_missing_arguments(self):
        for args in (["start"], ["start", "--"], ["status"], ["show"], ["logs"], ["wait"],
                     ["wait", "x", "--timeout"], ["kill", "x", "-s"], ["start", "--id"]):
            self.assertErrorLine(self.run(*args), 2, " ".join(args))

    def test_usage_errors_do_not_start_a_daemon(self):
        self.run("start", "--bogus", "--", "true")
        self.run("start", "--bogus")
        self.run("wait", "x", "--timeout", "5parsecs")
        self.assertEqual(self.daemon_pids_for_home(), [])

    def test_unknown_command_suggests_the_near_one(self):
        for args, line in ((["strat"], b"sbx: unknown command 'strat' (did you mean 'start'?)\n"),
                           (["help", "wiat"], b"sbx: unknown command 'wiat' (did you mean 'wait'?)\n"),
                           (["daemon", "stpo"], b"sbx: daemon: unknown command 'stpo' (did you mean 'stop'?)\n"),
                           (["frobnicate"], b"sbx: unknown command 'frobnicate' (see 'sbx help')\n")):
            r = self.run(*args)
            self.assertErrorLine(r, 2, " ".join(args))
            self.assertEqual(r.stderr, line)

    def test_unknown_option_names_its_command_help(self):
        for args, where in ((["ps", "--bogus"], b"'sbx ps --help'"), (["show", "x", "--bogus"], b"'sbx show --help'"),
                            (["daemon", "status", "--bogus"], b"'sbx daemon status --help'"),
                            (["start", "--idd", "web", "--", "sleep", "1"], b"'sbx start --help'"),
                            (["-v"], b"'sbx --help'")):
            r = self.run(*args)
            self.assertErrorLine(r, 2, " ".join(args))
            self.assertIn(b"unknown option", r.stderr)
            self.assertIn(where, r.stderr)
            self.assertNotIn(b"put options first", r.stderr)
        self.assertEqual(self.daemon_pids_for_home(), [])

    def test_help_and_version_commands(self):
        self.assertEqual(self.sbx_ok("help").stdout, self.sbx_ok("--help").stdout)
        self.assertEqual(self.sbx_ok("help", "start").stdout, self.sbx_ok("start", "--help").stdout)
        self.assertEqual(self.sbx_ok("help", "daemon", "stop").stdout, self.sbx_ok("daemon", "stop", "--help").stdout)
        for args in (["version"], ["-V"], ["--version"]):
            self.assertRegex(self.sbx_ok(*args).stdout.decode(), r"^sbx \d+\.\d+\.\d+\n$")
        self.assertEqual(self.daemon_pids_for_home(), [])

    def test_usage_lines_show_the_whole_form(self):
        out = self.sbx_ok("start", "--help").stdout.decode()
        self.assertIn("Usage: sbx start [OPTIONS] -- CMD [ARG...]", out)
        self.assertIn("Usage: sbx wait-port [OPTIONS] ID [PORT]", self.sbx_ok("wait-port", "--help").stdout.decode())
        self.assertNotIn("Excludes", self.sbx_ok("logs", "--help").stdout.decode())

    def test_help(self):
        for args in (["--help"], ["-h"], ["start", "--help"], ["kill", "-h"], ["ps", "--help"]):
            r = self.run(*args)
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr!r}")
            self.assertIn(b"sbx", r.stdout.lower() + r.stderr.lower())
            self.assertTrue(r.stdout, f"{args}: help goes to stdout")


class Unreachable(SbxTestCase):
    def test_daemon_cannot_be_started(self):
        with tempfile.TemporaryDirectory(dir="/tmp") as d:
            home = os.path.join(d, "file")
            with open(home, "w") as f:
                f.write("not a directory\n")
            r = self.run("ps", env_extra={"SBX_HOME": home}, timeout=20)
            self.assertErrorLine(r, 1, "ps with an unusable SBX_HOME")


if __name__ == "__main__":
    main()
