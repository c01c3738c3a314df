#!/usr/bin/env python3
"""sbx start --user USER[:GROUP] and `user =` in sbx.toml: sbxd resolves the names, the
program runs with the user's groups, gid and uid (and HOME, USER, LOGNAME), the waiter and
the logs stay the daemon's; a daemon that is not root refuses another user in one line."""
import grp
import json
import os
import pwd
import shutil
import subprocess
import textwrap
import unittest

from harness import PY, SbxTestCase, main, wait_until

ROOT = os.geteuid() == 0
NOBODY = pwd.getpwnam("nobody")


def ids(pid: int) -> dict[str, list[int]]:
    """Uid, Gid (real, effective, saved, fs) and Groups of a process, from /proc."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(v) for v in value.split()]
    return out


def drop_to_nobody():
    os.setgroups([])
    os.setgid(NOBODY.pw_gid)
    os.setuid(NOBODY.pw_uid)


class UserCase(SbxTestCase):
    def start_as(self, user: str, *args) -> dict:
        i = self.start("--user", user, "--cwd", "/", *args)
        rec = self.show(i)
        self.assertEqual(rec["status"], "running", rec)
        return rec


@unittest.skipUnless(ROOT, "a daemon that runs as root")
class AsRoot(UserCase):
    def test_nobody(self):
        rec = self.start_as("nobody", "--id", "n", "--", "sleep", "300")
        self.assertEqual(rec["user"], "nobody")
        u, g = NOBODY.pw_uid, NOBODY.pw_gid
        got = ids(rec["pid"])
        self.assertEqual(got["Uid"], [u] * 4)
        self.assertEqual(got["Gid"], [g] * 4)
        self.assertEqual(got["Groups"], sorted({g} | {x.gr_gid for x in grp.getgrall()
                                                      if "nobody" in x.gr_mem}))
        # The waiter stays the daemon's: it writes the logs.
        with open(f"/proc/{rec['pid']}/stat") as f:
            waiter = int(f.read().rsplit(")", 1)[1].split()[1])
        self.assertEqual(ids(waiter)["Uid"], [0] * 4)
        # And it is stopped as any other.
        self.sbx_ok("kill", "n")
        self.assertEqual(self.show("n")["status"], "killed")

    def test_output_and_environment_logs_stay_the_daemons(self):
        i = self.start("--user", "nobody", "--cwd", "/", "-e", "LOGNAME=kept", "--",
                       "sh", "-c", 'id -u; id -g; echo "$HOME $USER $LOGNAME"; touch /root/x 2>&1 || :')
        self.assertEqual(self.run("wait", i).returncode, 0)
        lines = self.read_log(i).decode().splitlines()
        self.assertEqual(lines[:3], [str(NOBODY.pw_uid), str(NOBODY.pw_gid),
                                     f"{NOBODY.pw_dir} nobody kept"])
        self.assertIn("Permission denied", lines[3], "it has the rights of nobody, not root's")
        for stream in ("stdout", "stderr"):
            st = os.stat(self.logfile(i, stream))
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (os.geteuid(), 0o600), stream)

    def test_user_and_group_by_number_without_an_entry(self):
        for n in range(4_000_000_100, 4_000_000_200):
            try:
                pwd.getpwuid(n)
            except KeyError:
                break
        rec = self.start_as(f"{n}:{n + 1}", "--", "sleep", "300")
        got = ids(rec["pid"])
        self.assertEqual((got["Uid"], got["Gid"], got["Groups"]), ([n] * 4, [n + 1] * 4, [n + 1]))
        r = self.run("start", "--user", str(n), "--", "true")
        self.assertErrorLine(r, 1, "a uid without an entry needs its group")
        self.assertIn(b":GROUP", r.stderr)

    def test_group_given_and_supplementary_groups(self):
        if not shutil.which("useradd"):
            self.skipTest("no useradd")
        tag = f"{os.getpid() % 100000}x{id(self) % 1000}"
        user, extra = f"sbxu{tag}", f"sbxg{tag}"
        subprocess.run(["groupadd", extra], check=True)
        self.addCleanup(subprocess.run, ["groupdel", extra], check=True)
        subprocess.run(["useradd", "-M", "-N", "-g", "nogroup", "-G", extra, "-d", "/nonexistent",
                        "-s", "/usr/sbin/nologin", user], check=True)
        self.addCleanup(subprocess.run, ["userdel", user], check=True)
        self.addCleanup(self.sbx_ok, "kill", "--all")  # first: userdel refuses a user that runs
        pw, extra_gid = pwd.getpwnam(user), grp.getgrnam(extra).gr_gid
        got = ids(self.start_as(user, "--", "sleep", "300")["pid"])
        self.assertEqual(got["Uid"], [pw.pw_uid] * 4)
        self.assertEqual(got["Gid"], [pw.pw_gid] * 4)
        self.assertEqual(got["Groups"], sorted({pw.pw_gid, extra_gid}))
        got = ids(self.start_as(f"{user}:{extra}", "--", "sleep", "300")["pid"])
        self.assertEqual(got["Gid"], [extra_gid] * 4)
        self.assertIn(extra_gid, got["Groups"])

    def test_restarts_run_as_the_user_too(self):
        i = self.start("--user", "nobody", "--cwd", "/", "--restart", "always", "--max-restarts", "1",
                       "--", "sh", "-c", "id -u")
        wait_until(lambda: self.show(i)["status"] == "completed" and self.show(i)["restarts"] == 1,
                   timeout=30, msg="the restart to end")
        self.assertEqual(self.read_log(i).decode().split(), [str(NOBODY.pw_uid)] * 2)

    def test_what_cannot_be(self):
        r = self.run("start", "--id", "x", "--user", "sbx-no-such-user", "--", "true")
        self.assertErrorLine(r, 1, "unknown user")
        self.assertIn(b"no user 'sbx-no-such-user'", r.stderr)
        rec = self.show("x")
        self.assertEqual((rec["status"], rec["user"]), ("error", "sbx-no-such-user"))
        self.assertIn("no user", rec["error"])
        r = self.run("start", "--user", "nobody:sbx-no-such-group", "--", "true")
        self.assertErrorLine(r, 1, "unknown group")
        # A folder the user may not enter: said, not run elsewhere.
        os.chmod(self.home, 0o700)
        r = self.run("start", "--user", "nobody", "--cwd", self.home, "--", "true")
        self.assertErrorLine(r, 1, "cwd the user cannot enter")
        self.assertIn(b"cannot enter its working directory: Permission denied", r.stderr)
        for bad in ("", ":x", "x:", "a:b:c", "a b"):
            self.assertErrorLine(self.run("start", "--user", bad, "--", "true"), 2, repr(bad))

    def test_sbx_toml_user(self):
        proj = os.path.join(self.home, "proj")
        os.mkdir(proj)
        with open(os.path.join(proj, "sbx.toml"), "w") as f:
            f.write(textwrap.dedent("""\
                [process.db]
                command = "sleep 300"
                cwd = "/"
                user = "nobody"
                """))
        r = self.run("up", cwd=proj)
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = self.show("db")
        self.assertEqual(rec["user"], "nobody")
        self.assertEqual(ids(rec["pid"])["Uid"], [NOBODY.pw_uid] * 4)
        with open(os.path.join(proj, "sbx.toml"), "a") as f:
            f.write('[process.bad]\ncommand = "true"\nuser = "a:b:c"\n')
        r = self.run("up", cwd=proj)
        self.assertErrorLine(r, 2, "a bad user in sbx.toml")
        self.assertIn(b"sbx.toml:7: process.bad.user: bad user 'a:b:c'", r.stderr)


class NotRoot(UserCase):
    """A daemon that is not root: itself only. As root, the test runs sbx (and so the
    daemon it starts) as nobody."""

    def setUp(self):
        super().setUp()
        if ROOT:
            os.chown(self.home, NOBODY.pw_uid, NOBODY.pw_gid)
        self.as_user = {"preexec_fn": drop_to_nobody} if ROOT else {}
        self.me = NOBODY if ROOT else pwd.getpwuid(os.geteuid())

    def sbx(self, *args):
        p = self.spawn(*args, cwd="/", **self.as_user)
        out, err = p.communicate(timeout=30)
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def test_another_user_refused_in_one_line(self):
        r = self.sbx("start", "--id", "r", "--user", "root", "--", "true")
        self.assertErrorLine(r, 1, "a daemon that is not root")
        self.assertIn(b"not as root", r.stderr)
        self.assertIn(f"sbxd runs as {self.me.pw_name}".encode(), r.stderr)
        rec = json.loads(self.sbx("show", "r", "--json").stdout)
        self.assertEqual(rec["status"], "error")

    def test_its_own_user_is_fine(self):
        r = self.sbx("start", "--id", "me", "--user", self.me.pw_name, "--", "id", "-u")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.sbx("wait", "me").returncode, 0)
        self.assertEqual(self.sbx("logs", "me").stdout, f"{self.me.pw_uid}\n".encode())


if __name__ == "__main__":
    main()
