#!/usr/bin/env python3
"""Shell integration: completion scripts (bash, zsh, fish), terminal output of ps,
the progress line of waits, --help and --version.

The completion scripts are driven non-interactively: bash by calling _sbx with COMP_WORDS
set, zsh through zpty with compadd wrapped to print the candidates, fish with
`complete -C`. A shell whose binary is missing is skipped, nothing else is.
"""
import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import tempfile
import termios
import time
import unittest

from harness import REPO, SBX, TIME_RE, SbxTestCase, main

COMPLETIONS = os.path.join(REPO, "completions")
FILES = {"bash": "sbx.bash", "zsh": "_sbx", "fish": "sbx.fish"}
ESC = b"\x1b"
ANSI_RE = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")

BASH_DRIVER = r'''
source "$1" || exit 99
shift
complete -p sbx >/dev/null || exit 98
COMP_LINE=$1; COMP_POINT=${#COMP_LINE}; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
COMPREPLY=()
_sbx sbx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''

# zsh: an interactive zsh on a pty (zpty) with the completion system loaded and compadd
# wrapped to print every candidate; typing "LINE<TAB>" then prints them between markers.
ZSH_INIT = r'''
autoload -Uz compinit && compinit -u -D
bindkey '^I' complete-word
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
_capture_begin() { print -r -- CAPTURE-BEGIN }
_capture_end() { print -r -- CAPTURE-END; exit }
compprefuncs=(_capture_begin)
comppostfuncs=(_capture_end)
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "$@"
  (( $#__hits )) || return 1
  print -rl -- "CAND:"${^__hits}
  builtin compadd "$@"
}
print -r -- CAPTURE-READY
'''
ZSH_DRIVER = r'''
zmodload zsh/zpty || exit 97
local dir=$1 cmdline=$2 line
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT= PS2=; fpath=($dir \$fpath); source $dir/init.zsh"
repeat 50; do
  zpty -r z line || exit 96
  [[ $line == *CAPTURE-READY* ]] && break
done
zpty -w -n z "$cmdline"$'\t'
while zpty -r z line; do
  [[ $line == *CAPTURE-END* ]] && break
  print -r -- ${line%$'\r'}
done
zpty -d z
'''


def on_terminal(spawn, args, stdout_pty=True, stderr_pty=True, timeout=30, env_extra=None):
    """Runs sbx ARGS (through the test's spawn) with stdout and/or stderr on a fresh pty
    (120 columns); the other goes to a pipe. Returns (returncode, pty bytes, pipe bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with tempfile.TemporaryFile() as other:
        p = spawn(*args, stdout=slave if stdout_pty else other, stderr=slave if stderr_pty else other,
                  env_extra=env_extra)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: every writer closed the pty
                        break
                    if not data:
                        break
                    out += data
                elif p.poll() is not None:
                    break
            else:
                p.kill()
                raise AssertionError(f"sbx {args} did not finish within {timeout}s: {out[-300:]!r}")
        finally:
            os.close(master)
        rc = p.wait(timeout=10)
        other.seek(0)
        return rc, out, other.read()


class ShellBase(SbxTestCase):
    def setUp(self):
        super().setUp()
        # `sbx` on PATH is the binary under test: the scripts run `sbx ps -q --no-start`.
        self.bindir = tempfile.mkdtemp(prefix="sbxbin", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.bindir, True)
        os.symlink(SBX, os.path.join(self.bindir, "sbx"))
        self.env["PATH"] = self.bindir + os.pathsep + self.env.get("PATH", "/usr/bin:/bin")
        for k in ("NO_COLOR", "COLUMNS", "LINES"):
            self.env.pop(k, None)
        self.env["TERM"] = "xterm"
        # shells must not read or write the caller's configuration or history
        self.env["HOME"] = self.home
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.home, "config")
        self.env["XDG_DATA_HOME"] = os.path.join(self.home, "data")

    def script(self, shell):
        return os.path.join(COMPLETIONS, FILES[shell])

    def need(self, shell):
        path = shutil.which(shell)
        if not path:
            raise unittest.SkipTest(f"{shell} is not installed")
        return path

    def live(self, *ids):
        for i in ids:
            self.start("--id", i, "--", "sleep", "300")
        return set(ids)

    # -- drivers: each returns the candidates for the word under the cursor --
    def bash_complete(self, line):
        words = line.split()
        if line.endswith(" "):
            words.append("")
        r = subprocess.run([self.need("bash"), "--norc", "--noprofile", "-c", BASH_DRIVER, "bash",
                            self.script("bash"), line, *words],
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, f"bash driver for {line!r}: {r.stderr!r}")
        self.assertEqual(r.stderr, b"", line)
        return [w for w in r.stdout.decode().split("\n") if w]

    def zsh_complete(self, line):
        zsh = self.need("zsh")
        d = tempfile.mkdtemp(prefix="sbxzsh", dir="/tmp")
        self.addCleanup(shutil.rmtree, d, True)
        shutil.copy(self.script("zsh"), os.path.join(d, "_sbx"))
        with open(os.path.join(d, "init.zsh"), "w") as f:
            f.write(ZSH_INIT)
        r = subprocess.run([zsh, "-f", "-c", ZSH_DRIVER, "zsh", d, line], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, f"zsh driver for {line!r}: {r.stdout!r} {r.stderr!r}")
        out = ANSI_RE.sub(b"", r.stdout).decode(errors="replace")
        self.assertNotIn("command not found", out)
        return [m for m in re.findall(r"CAND:(\S+)", out)]

    def fish_complete(self, line):
        fish = self.need("fish")
        cmd = f"source {self.script('fish')}; or exit 99; complete -C {line!r}"
        r = subprocess.run([fish, "--no-config", "-c", cmd], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, f"fish for {line!r}: {r.stderr!r}")
        self.assertEqual(r.stderr, b"", line)
        return [l.split("\t")[0] for l in r.stdout.decode().split("\n") if l]


class Completion(ShellBase):
    def test_generated_scripts_are_the_committed_ones(self):
        for shell, name in FILES.items():
            r = self.sbx_ok("completion", shell)
            with open(os.path.join(COMPLETIONS, name), "rb") as f:
                self.assertEqual(r.stdout, f.read(), f"completions/{name} differs from `sbx completion {shell}`")
            self.assertEqual(r.stderr, b"")
        self.assertEqual(self.daemon_pids_for_home(), [], "sbx completion started a daemon")

    def test_unknown_shell(self):
        self.assertErrorLine(self.run("completion", "tcsh"), 2, "completion tcsh")
        self.assertErrorLine(self.run("completion"), 2, "completion")

    def test_ps_no_start_is_quiet_and_fast_without_daemon(self):
        t0 = time.monotonic()
        r = self.run("ps", "-q", "--no-start")
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        self.assertEqual(self.daemon_pids_for_home(), [])
        self.assertFalse(os.path.exists(self.sock_path))
        # with a daemon, the ids
        ids = self.live("a1", "b2")
        self.assertEqual(set(self.sbx_ok("ps", "-q", "--no-start").stdout.decode().split()), ids)
        self.assertNotIn(b"no-start", self.sbx_ok("ps", "--help").stdout, "--no-start is hidden")

    def test_bash(self):
        self.assertEqual(self.bash_complete("sbx k"), ["kill"])
        self.assertEqual(self.bash_complete("sbx wait"), ["wait", "wait-log", "wait-port"])
        # no daemon: no ids, none started
        self.assertEqual(self.bash_complete("sbx logs "), [])
        self.assertEqual(self.daemon_pids_for_home(), [])
        ids = self.live("web", "worker")
        self.assertEqual(set(self.bash_complete("sbx logs ")), ids)
        self.assertEqual(self.bash_complete("sbx logs we"), ["web"])
        for cmd in ("status", "show", "wait", "wait-log", "wait-port", "kill", "rm"):
            self.assertEqual(set(self.bash_complete(f"sbx {cmd} ")), ids, cmd)
        self.assertEqual(set(self.bash_complete("sbx kill web ")), ids, "kill takes several ids")
        self.assertEqual(self.bash_complete("sbx wait-log web "), [], "the pattern is free text")
        self.assertEqual(self.bash_complete("sbx wait --timeout "), [])
        self.assertEqual(self.bash_complete("sbx daemon "), ["status", "stop", "restart"])
        self.assertEqual(self.bash_complete("sbx daemon status --"), ["--help", "--json"])
        sigs = self.bash_complete("sbx kill -s ")
        for s in ("TERM", "HUP", "INT", "KILL", "USR1", "USR2", "QUIT", "STOP", "CONT"):
            self.assertIn(s, sigs)
        self.assertEqual(self.bash_complete("sbx kill web --signal T"), ["TERM", "TRAP", "TSTP", "TTIN", "TTOU"])
        self.assertEqual(self.bash_complete("sbx start --restart "), ["no", "on-failure", "always"])
        self.assertEqual(self.bash_complete("sbx wait-log web x --stream "), ["stdout", "stderr"])
        self.assertEqual(self.bash_complete("sbx ps --status "),
                         ["starting", "running", "completed", "failed", "killed", "error", "live", "ended"])
        self.assertEqual(self.bash_complete("sbx completion "), ["bash", "zsh", "fish"])
        self.assertIn("--wait-port", self.bash_complete("sbx start --"))
        self.assertIn("sleep", self.bash_complete("sbx start --id x -- slee"))
        self.assertIn("sleep", self.bash_complete("sbx start --id x slee"))

    def test_zsh(self):
        self.need("zsh")
        self.assertEqual(self.zsh_complete("sbx k"), ["kill"])
        ids = self.live("web", "worker")
        self.assertEqual(set(self.zsh_complete("sbx logs ")), ids)
        self.assertEqual(set(self.zsh_complete("sbx daemon ")), {"status", "stop", "restart"})
        self.assertIn("TERM", self.zsh_complete("sbx kill web -s "))
        self.assertEqual(set(self.zsh_complete("sbx start --restart ")), {"no", "on-failure", "always"})
        self.assertIn("--json", self.zsh_complete("sbx daemon status --"))

    def test_fish(self):
        self.need("fish")
        self.assertEqual(self.fish_complete("sbx k"), ["kill"])
        self.assertEqual(self.fish_complete("sbx logs "), [], "no daemon, no ids")
        self.assertEqual(self.daemon_pids_for_home(), [])
        ids = self.live("web", "worker")
        self.assertEqual(set(self.fish_complete("sbx logs ")), ids)
        self.assertEqual(set(self.fish_complete("sbx daemon ")), {"status", "stop", "restart"})
        self.assertIn("TERM", self.fish_complete("sbx kill web -s "))
        self.assertNotIn("web", self.fish_complete("sbx kill -s "), "a signal, not an id")
        self.assertEqual(set(self.fish_complete("sbx ps --status ")),
                         {"starting", "running", "completed", "failed", "killed", "error", "live", "ended"})
        self.assertEqual(self.fish_complete("sbx wait-log web "), [])


class TerminalOutput(ShellBase):
    def ps_on_pty(self, *args, env_extra=None):
        rc, out, err = on_terminal(self.spawn, ["ps", *args], stderr_pty=False, env_extra=env_extra)
        self.assertEqual((rc, err), (0, b""))
        return out.replace(b"\r\n", b"\n")

    def records(self):
        self.live("web")
        self.start("--id", "bad", "exit 3")
        self.assertEqual(self.run("wait", "bad").returncode, 3)

    def test_ps_piped_is_plain_with_rfc3339(self):
        self.records()
        out = self.sbx_ok("ps").stdout
        self.assertNotIn(ESC, out)
        rows = [l.split() for l in out.decode().splitlines()[1:]]
        self.assertTrue(rows)
        for row in rows:
            self.assertRegex(row[4], TIME_RE)

    def test_ps_on_terminal_has_colour_and_relative_times(self):
        self.records()
        out = self.ps_on_pty()
        self.assertIn(b"\x1b[32mrunning\x1b[0m", out)
        self.assertIn(b"\x1b[31mfailed\x1b[0m", out)
        plain = ANSI_RE.sub(b"", out).decode()
        lines = plain.splitlines()
        header = lines[0]
        for col in ("PID", "STATUS", "EXIT", "STARTED", "COMMAND"):
            at = header.index(col)
            for line in lines[1:]:
                self.assertEqual(line[at - 2:at], "  ", f"{col} not aligned in {plain!r}")
                self.assertNotEqual(line[at], " ", f"{col} not aligned in {plain!r}")
        for line in lines[1:]:
            self.assertRegex(line, r"\s\d+[smhd] ago\s")
        # an empty NO_COLOR counts as unset
        self.assertIn(ESC, self.ps_on_pty(env_extra={"NO_COLOR": ""}))

    def test_ps_no_color_and_dumb_terminal(self):
        self.records()
        for extra in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
            out = self.ps_on_pty(env_extra=extra)
            self.assertNotIn(ESC, out, extra)
            self.assertIn(b"running", out)
            self.assertRegex(out.decode(), r"\d+s ago")

    def test_ps_json_on_terminal_keeps_rfc3339(self):
        import json
        self.records()
        out = self.ps_on_pty("--json")
        self.assertNotIn(ESC, out)
        for rec in json.loads(out):
            self.assertRegex(rec["start_time"], TIME_RE)


class Progress(ShellBase):
    def wait_on_pty(self, *args, stderr_pty=True, expect_rc=124):
        """Runs sbx ARGS with stderr on a pty (stdout a pipe); returns (pty, pipe) bytes."""
        rc, tty, other = on_terminal(self.spawn, args, stdout_pty=False, stderr_pty=stderr_pty)
        self.assertEqual(rc, expect_rc, f"{args}: {tty!r} {other!r}")
        return tty, other

    def assertProgress(self, err, label):
        err = err.replace(b"\r\n", b"\n")
        self.assertIn(("waiting for " + label).encode(), err)
        self.assertRegex(err, rb"\r[\xe2][^\r]* \xe2\x80\xa6 1\.\ds\x1b\[K")
        # erased before the final line
        self.assertRegex(err, rb"\r\x1b\[Ksbx: [^\r\x1b]*\n$")

    def test_wait_shows_progress_on_a_terminal(self):
        self.live("web")
        err, _ = self.wait_on_pty("wait", "web", "--timeout", "1.6s")
        self.assertProgress(err, "web to end")

    def test_wait_log_and_port(self):
        self.live("web")
        err, _ = self.wait_on_pty("wait-log", "web", "never", "--timeout", "1.5s")
        self.assertProgress(err, "web: log 'never'")
        err, _ = self.wait_on_pty("wait-port", "web", "9", "--http", "/health", "--timeout", "1.5s")
        self.assertProgress(err, "web: port 9 (GET /health)")

    def test_start_wait_log(self):
        err, _ = self.wait_on_pty("start", "--id", "slow", "--wait-log", "ready", "--wait-timeout", "1.5s",
                                  "--", "sleep", "30")
        self.show("slow")
        self.assertProgress(err, "slow: log 'ready'")

    def test_no_progress_when_stderr_is_a_pipe(self):
        self.live("web")
        tty, err = self.wait_on_pty("wait", "web", "--timeout", "1.5s", stderr_pty=False)
        self.assertEqual(tty, b"")
        self.assertNotIn(b"\r", err)
        self.assertNotIn(ESC, err)
        self.assertTrue(err.startswith(b"sbx: ") and err.count(b"\n") == 1, err)
        r = self.run("wait-log", "web", "never", "--timeout", "1.5s")
        self.assertErrorLine(r, 124, "wait-log on a pipe")
        self.assertNotIn(b"waiting", r.stderr)

    def test_no_progress_for_a_short_wait(self):
        self.start("--id", "quick", "--", "sleep", "0.3")
        tty, out = self.wait_on_pty("wait", "quick", expect_rc=0)
        self.assertEqual(tty, b"")
        self.assertEqual(out, b"")


class Help(ShellBase):
    def commands(self):
        out = self.sbx_ok("--help").stdout.decode()
        section = out.split("Subcommands:")[1].split("\n\n")[0]
        names = [l.split()[0] for l in section.strip().splitlines()]
        self.assertIn("completion", names)
        result = []
        for n in names:
            result.append([n])
            if n == "daemon":
                sub = self.sbx_ok("daemon", "--help").stdout.decode()
                for l in sub.split("Subcommands:")[1].split("\n\n")[0].strip().splitlines():
                    result.append(["daemon", l.split()[0]])
        return result

    def test_every_command_has_help_with_an_example(self):
        cmds = self.commands()
        self.assertGreaterEqual(len(cmds), 15)
        for cmd in [[]] + cmds:
            for flag in ("-h", "--help"):
                r = self.run(*cmd, flag)
                self.assertEqual((r.returncode, r.stderr), (0, b""), cmd)
                self.assertIn(b"\nExample:\n  ", r.stdout, f"sbx {' '.join(cmd)} {flag}")
        self.assertEqual(self.daemon_pids_for_home(), [])

    def test_version(self):
        r = self.sbx_ok("--version")
        self.assertRegex(r.stdout.decode(), r"^sbx \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    main()
