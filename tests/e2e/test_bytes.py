"""Bytes that are not UTF-8 (Latin-1 here) in argv, the environment, the working directory
and shell lines: start takes them, the program gets exactly those bytes, ps and show print
them readably (\\xNN), and --json and the record file carry them losslessly, also after
sbxd was killed with SIGKILL."""
import base64
import glob
import json
import os
import signal
import tomllib

from harness import PY, SbxTestCase, main, pid_alive, wait_until

# Writes its arguments, environment and working directory, as the kernel handed them to it
# (/proc/self/cmdline, /proc/self/environ), hex-encoded, to the file argv[1]. One line, so
# that ps shows it on one line.
PROBE = ("import json,os,sys; cmd=open('/proc/self/cmdline','rb').read().split(b'\\0')[:-1]; "
         "env=open('/proc/self/environ','rb').read().split(b'\\0')[:-1]; "
         "open(sys.argv[1],'w').write(json.dumps({'argv':[a.hex() for a in cmd[4:]],"
         "'env':[e.hex() for e in env],'cwd':os.getcwdb().hex()}))")

CALLER_VAR = b"\xe9t\xe9 \xe0 Paris"  # in the caller's environment
ARG = b"\xfcber"
CWD = b"d\xe9j\xe0"
E_VALUE = b"\xe0 la carte"            # -e
FILE_VALUE = b"na\xefve"              # --env-file
ODD_NAMES = {b"caf\xe9": b"1", b"BAD-NAME": b"\xff"}  # no variable names, passed on all the same


def unbytes(v) -> bytes:
    """Bytes from --json or the record file: a plain string, or {"base64": "..."}."""
    if isinstance(v, str):
        return v.encode()
    assert isinstance(v, dict) and set(v) == {"base64"}, v
    return base64.b64decode(v["base64"], validate=True)


class NonUtf8Bytes(SbxTestCase):
    def probe(self, path: str) -> dict:
        with open(path) as f:
            got = json.load(f)
        return {"argv": [bytes.fromhex(a) for a in got["argv"]], "env": [bytes.fromhex(e) for e in got["env"]],
                "cwd": bytes.fromhex(got["cwd"])}

    def check_record(self, rec: dict, cwd: bytes, out: str):
        self.assertEqual(rec["status"], "completed", rec)
        self.assertEqual(unbytes(rec["cwd"]), cwd)
        self.assertEqual([unbytes(a) for a in rec["argv"]], [PY.encode(), b"-c", PROBE.encode(), out.encode(), ARG])
        self.assertEqual(rec["argv"][0], PY, "text stays a plain string")
        self.assertEqual({k: unbytes(v) for k, v in rec["env"].items()}, {"EVAR": E_VALUE, "FILEVAR": FILE_VALUE})
        self.assertTrue(unbytes(rec["command"]).endswith(b" '" + ARG + b"'"), rec["command"])

    def test_argv_env_and_cwd_reach_the_program_and_come_back_exactly(self):
        cwd = os.path.join(os.fsencode(self.home), CWD)
        os.mkdir(cwd)
        out = os.path.join(self.home, "probe.json")
        env_file = os.path.join(self.home, "vars.env")
        with open(env_file, "wb") as f:
            f.write(b"FILEVAR=" + FILE_VALUE + b"\n")
        r = self.run("start", "--id", "lat", "--cwd", cwd, "-e", b"EVAR=" + E_VALUE, "--env-file", env_file,
                     "--", PY, "-c", PROBE, out, ARG, env_extra={b"LATIN1_VAR": CALLER_VAR, **ODD_NAMES})
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"lat\n", b""))
        self.assertEqual(self.run("wait", "lat", "--timeout", "20s").returncode, 0)

        got = self.probe(out)
        self.assertEqual(got["argv"], [ARG])
        self.assertEqual(got["cwd"], cwd)
        for entry in (b"LATIN1_VAR=" + CALLER_VAR, b"EVAR=" + E_VALUE, b"FILEVAR=" + FILE_VALUE,
                      *(k + b"=" + v for k, v in ODD_NAMES.items())):
            self.assertIn(entry, got["env"])

        ps = self.sbx_ok("ps").stdout
        line = [x for x in ps.split(b"\n") if x.startswith(b"lat ")]
        self.assertEqual(len(line), 1, ps)
        self.assertTrue(line[0].endswith(b" '\\xFCber'"), line[0])

        shown = self.sbx_ok("show", "lat").stdout
        self.assertTrue(shown.isascii(), shown)
        self.assertIn(b'cwd = "' + os.fsencode(self.home) + b'/d\\xE9j\\xE0"\n', shown)
        self.assertIn(b'EVAR = "\\xE0 la carte"\n', shown)
        self.assertIn(b', "\\xFCber" ]\n', shown)

        rec = self.show("lat")
        self.check_record(rec, cwd, out)
        record_file = os.path.join(self.home, "state", "processes", "lat.toml")
        with open(record_file, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.isascii())
        self.check_record(tomllib.loads(raw.decode()), cwd, out)

        # The next daemon reads the record back: nothing is set aside, nothing changed.
        daemon = self.daemon_pid()
        os.kill(daemon, signal.SIGKILL)
        wait_until(lambda: not pid_alive(daemon), 5, "sbxd gone")
        again = self.show("lat")
        self.assertNotEqual(self.daemon_pid(), daemon)
        self.assertEqual(again, rec)
        self.assertEqual(glob.glob(os.path.join(self.home, "state", "processes", "*.corrupt")), [])

    def test_shell_line(self):
        line = b"printf '%s' '\xe9t\xe9' > out.txt"
        r = self.run("start", "--id", "sh", "--cwd", self.home, line)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertEqual(self.run("wait", "sh", "--timeout", "20s").returncode, 0)
        with open(os.path.join(self.home, "out.txt"), "rb") as f:
            self.assertEqual(f.read(), b"\xe9t\xe9")
        rec = self.show("sh")
        self.assertEqual(unbytes(rec["command"]), line)
        self.assertEqual([unbytes(a) for a in rec["argv"]], [b"/bin/sh", b"-c", line])
        self.assertIn(b"printf '%s' '\\xE9t\\xE9' > out.txt\n", self.sbx_ok("ps").stdout)

    def test_a_missing_program_is_named_readably(self):
        r = self.run("start", "--id", "nope", "--", b"caf\xe9-no-such-program")
        self.assertErrorLine(r, 1, "start")
        self.assertIn(b"'caf\\xE9-no-such-program'", r.stderr)
        rec = self.show("nope")
        self.assertEqual(rec["status"], "error")
        self.assertIn(b"caf\xe9-no-such-program", unbytes(rec["error"]))
        exit_event = json.loads(self.sbx_ok("logs", "nope", "--json").stdout.splitlines()[-1])
        self.assertEqual(unbytes(exit_event["error"]), unbytes(rec["error"]))

    def test_session(self):
        session = b"s\xe9ance"
        i = self.start("--session", session, "--", "sleep", "60")
        self.assertEqual(unbytes(self.show(i)["session"]), session)
        self.assertEqual(self.sbx_ok("ps", "-q", "--session", session).stdout, i.encode() + b"\n")
        self.assertEqual(self.sbx_ok("ps", "-q", "--session", "other").stdout, b"")
        self.sbx_ok("kill", "--all", "--session", session)
        self.assertEqual(self.status(i), "killed")

    def test_wait_log_pattern_and_line(self):
        # printf makes the bytes: the start request itself is text.
        i = self.start("--", "sh", "-c", r"printf 'boot\npr\352t: \351t\351 (\377)\n'; sleep 60")
        r = self.sbx_ok("wait-log", i, b"\xe9t\xe9", "--timeout", "20s")
        self.assertEqual(r.stdout, b"pr\xeat: \xe9t\xe9 (\xff)\n", "the line, byte for byte")
        r = self.sbx_ok("wait-log", i, "-E", b"t: (\xe9)t", "--json", "--timeout", "20s")
        got = json.loads(r.stdout)
        self.assertEqual(unbytes(got["line"]), b"pr\xeat: \xe9t\xe9 (\xff)")
        self.assertEqual([unbytes(g) for g in got["match"]], [b"t: \xe9t", b"\xe9"])


if __name__ == "__main__":
    main()
