"""sbx --host / SBX_HOST=ssh://...: every command drives the sbxd of another host over OpenSSH.

The other host is this machine through a private sshd on 127.0.0.1 (tests/e2e/sshd.py): its
own keys and config, a free port, a remote home of its own. The remote sbx is the one under
test (SBX_REMOTE_SBX), so the process lives in the remote home's daemon, never in the local
one's.
"""
from __future__ import annotations

import glob
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import (PROGS, PY, SBX, SbxTestCase, all_pids, free_port, kill_pid_tree, main, terminate,
                     pid_alive, proc_environ, wait_until)
from sshd import Sshd


class RemoteCase(SbxTestCase):
    """A test with an sshd of its own and a remote home; SBX_HOST points there."""

    def setUp(self):
        super().setUp()
        self.ssh_dir = tempfile.mkdtemp(prefix="sbxs", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.ssh_dir, True)
        self.rhome_parent = tempfile.mkdtemp(prefix="sbxr", dir="/tmp")  # the remote $HOME
        self.addCleanup(shutil.rmtree, self.rhome_parent, True)
        self.rhome = os.path.join(self.rhome_parent, "h")  # the remote SBX_HOME
        os.mkdir(os.path.join(self.rhome_parent, "sub"))
        self.sshd = Sshd(self.ssh_dir, {"REMOTE_MARK": "from-the-remote", "HOME": self.rhome_parent,
                                         "SBX_PROXY_PORT": "0"})
        self.addCleanup(self._teardown_remote)
        self.url = self.sshd.url(self.rhome)
        self.env["SBX_HOST"] = self.url
        self.env["SBX_SSH_COMMAND"] = self.sshd.ssh_command
        self.env["SBX_REMOTE_SBX"] = SBX

    def _teardown_remote(self):
        # every process of a remote run (its environment comes through our sshd), the remote
        # daemon by its pid file, the ssh ControlMaster by the pid it reports, then sshd
        port = f" {self.sshd.port}"
        for p in all_pids():
            env = proc_environ(p)
            if "SBX_PROCESS_ID" in env and env.get("SSH_CONNECTION", "").endswith(port):
                kill_pid_tree(p)
        pid = self.remote_daemon_pid()
        if pid:
            terminate(pid)
        for path in self.control_sockets():
            master = self.sshd.master_pid(path)
            if master:
                kill_pid_tree(master)
        self.sshd.stop()

    def remote_daemon_pid(self) -> int | None:
        try:
            with open(os.path.join(self.rhome, "sbxd.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def dial_stdio_pids(self) -> list[int]:
        """The remote `sbx dial-stdio` processes running now (one per open connection)."""
        out = []
        for p in all_pids():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if b"dial-stdio" in args and self.rhome.encode() in args and pid_alive(p):
                out.append(p)
        return out

    def control_sockets(self) -> list[str]:
        return glob.glob(os.path.join(self.home, "sbx-ssh-*"))

    def remote_record(self, pid_id: str) -> str:
        return os.path.join(self.rhome, "state", "processes", pid_id + ".toml")

    def assertOneLine(self, r, code: int, *needles: str):
        err = r.stderr.decode()
        self.assertEqual(r.returncode, code, err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertTrue(err.startswith("sbx: "), err)
        for n in needles:
            self.assertIn(n, err)
        return err


class RemoteProcesses(RemoteCase):
    def test_start_wait_logs_status_kill_live_in_the_remote_home(self):
        i = self.start("--id", "job", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
        self.assertEqual(i, "job")
        r = self.run("wait", "job")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(self.sbx_ok("status", "job").stdout, b"failed\n")
        self.assertEqual(self.sbx_ok("logs", "job", "--stdout").stdout, b"out\n")
        self.assertEqual(self.sbx_ok("logs", "job", "--stderr").stdout, b"err\n")
        self.assertTrue(os.path.exists(self.remote_record("job")))

        self.start("--id", "sleeper", "--", "sleep", "600")
        show = json.loads(self.sbx_ok("show", "sleeper", "--json").stdout)
        self.assertEqual(show["status"], "running")
        self.assertTrue(pid_alive(show["pid"]))
        # the process belongs to the remote home's daemon: its waiter's parent
        self.assertIn(self.remote_daemon_pid(), _ancestors(show["pid"]))
        self.sbx_ok("kill", "sleeper")
        self.assertFalse(pid_alive(show["pid"]))
        self.assertEqual(self.sbx_ok("status", "sleeper").stdout, b"killed\n")
        ids = self.sbx_ok("ps", "-q").stdout.split()
        self.assertEqual(sorted(ids), [b"job", b"sleeper"])
        # nothing ran here: no local daemon, no local record
        self.assertIsNone(self.daemon_pid())
        self.assertFalse(os.path.exists(os.path.join(self.home, "sbxd.sock")))
        self.assertFalse(os.path.exists(os.path.join(self.home, "state")))

    def test_logs_follow_streams_live(self):
        flag = os.path.join(self.rhome_parent, "go")
        self.start("--id", "talker", "--", "sh", "-c",
                   f"echo first; while [ ! -e {flag} ]; do sleep 0.02; done; echo second")
        self.assertTrue(os.path.exists(self.remote_record("talker")))
        p = self.spawn("logs", "-f", "talker")
        line = _read_line(p.stdout, 20)
        self.assertEqual(line, b"first\n")
        self.assertIsNone(p.poll(), "logs -f ended before the process did")
        open(flag, "w").close()
        self.assertEqual(_read_line(p.stdout, 20), b"second\n")
        self.assertEqual(p.wait(timeout=20), 0)

    def test_wait_rides_through_the_loss_of_the_ssh_connection(self):
        flag = os.path.join(self.rhome_parent, "end")
        self.start("--id", "slow", "--", "sh", "-c", f"while [ ! -e {flag} ]; do sleep 0.02; done; exit 5")
        p = self.spawn("wait", "slow")
        socks = self.control_sockets()
        master = self.sshd.master_pid(socks[0])
        wait_until(lambda: self.dial_stdio_pids(), 20, "the wait's dial-stdio over there")
        self.assertStillWaiting(p, "sbx wait")
        kill_pid_tree(master)  # every session on it breaks
        wait_until(lambda: (m := self.sshd.master_pid(socks[0])) and m != master, 20,
                   "a new ssh connection of the waiting sbx")
        open(flag, "w").close()
        rc, _out, err = self.finish(p, "sbx wait", timeout=30)
        self.assertEqual(rc, 5, err)

    def test_environment_is_the_remote_daemons_plus_e(self):
        envfile = os.path.join(self.home, "vars.env")  # read here, on the local side
        with open(envfile, "w") as f:
            f.write("FROM_FILE=file-value\n")
        self.start("--id", "env", "-e", "GIVEN=yes", "--env-file", envfile, "--", "env",
                   env_extra={"LOCAL_MARK": "only-here"})
        self.sbx_ok("wait", "env")
        lines = self.sbx_ok("logs", "env").stdout.decode().splitlines()
        env = dict(l.split("=", 1) for l in lines if "=" in l)
        self.assertEqual(env.get("REMOTE_MARK"), "from-the-remote")
        self.assertEqual(env.get("GIVEN"), "yes")
        self.assertEqual(env.get("FROM_FILE"), "file-value")
        self.assertNotIn("LOCAL_MARK", env)
        self.assertNotIn("SBX_HOST", env)
        self.assertEqual(env.get("HOME"), self.rhome_parent)

    def test_cwd_is_under_the_remote_home(self):
        local = tempfile.mkdtemp(prefix="sbxc", dir="/tmp")
        self.addCleanup(shutil.rmtree, local, True)
        for name, args, want in (("dflt", [], self.rhome_parent),
                                 ("rel", ["--cwd", "sub"], os.path.join(self.rhome_parent, "sub")),
                                 ("abs", ["--cwd", "/tmp"], "/tmp")):
            self.start("--id", name, *args, "--", "pwd", cwd=local)
            self.sbx_ok("wait", name)
            self.assertEqual(self.sbx_ok("logs", name).stdout.decode(), want + "\n", name)
            self.assertEqual(json.loads(self.sbx_ok("show", name, "--json").stdout)["cwd"], want)
        r = self.run("start", "--cwd", "no-such-folder", "--", "pwd")
        self.assertOneLine(r, 1, "no-such-folder")

    def test_up_reads_the_file_here_and_starts_there(self):
        proj = tempfile.mkdtemp(prefix="sbxp", dir="/tmp")
        self.addCleanup(shutil.rmtree, proj, True)
        with open(os.path.join(proj, "sbx.toml"), "w") as f:
            f.write('[process.a]\ncommand = "pwd"\ncwd = "sub"\n'
                    '[process.b]\ncommand = "sh -c \'echo up; exec sleep 600\'"\nready = { log = "up" }\n')
        r = self.run("up", cwd=proj)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.sbx_ok("wait", "a")
        self.assertEqual(self.sbx_ok("logs", "a").stdout.decode(),
                         os.path.join(self.rhome_parent, "sub") + "\n")
        self.assertEqual(self.sbx_ok("status", "b").stdout, b"running\n")
        self.assertTrue(os.path.exists(self.remote_record("b")))
        self.assertEqual(self.run("down", cwd=proj).returncode, 0)
        self.assertEqual(self.sbx_ok("status", "b").stdout, b"killed\n")

    def test_expose_prints_the_remote_url_and_the_tunnel_that_brings_it_here(self):
        self.start("--id", "web", "--", "sleep", "600")
        r = self.sbx_ok("expose", "web", "5173")
        url = r.stdout.decode().strip()
        proxy_port = int(url.rsplit(":", 1)[1].rstrip("/"))
        self.assertEqual(url, f"http://5173-web.localhost:{proxy_port}/")
        err = r.stderr.decode()
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn(f"ssh -N -L {proxy_port}:127.0.0.1:{proxy_port} -p {self.sshd.port} ", err)
        j = json.loads(self.sbx_ok("expose", "web", "5173", "--json").stdout)
        self.assertEqual((j["url"], j["proxy_port"]), (url, proxy_port))
        self.assertIn(f"-L {proxy_port}:127.0.0.1:{proxy_port}", j["tunnel"])
        self.sbx_ok("kill", "web")

    def test_daemon_status_json_says_the_host(self):
        self.start("--", "true")
        st = json.loads(self.sbx_ok("daemon", "status", "--json").stdout)
        self.assertEqual(st["host"], self.url)
        self.assertEqual(st["pid"], self.remote_daemon_pid())
        self.assertEqual(st["socket"], os.path.join(self.rhome, "sbxd.sock"))
        self.assertIn(f"host:       {self.url}", self.sbx_ok("daemon", "status").stdout.decode())

    def test_daemon_restart_and_stop_there(self):
        self.start("--id", "keep", "--", "sleep", "600")
        old = self.remote_daemon_pid()
        self.sbx_ok("daemon", "restart")
        self.assertNotEqual(self.remote_daemon_pid(), old)
        self.assertFalse(pid_alive(old))
        self.assertEqual(self.sbx_ok("status", "keep").stdout, b"running\n")
        r = self.sbx_ok("daemon", "stop")
        self.assertEqual(r.stdout, b"keep\n")
        self.assertFalse(os.path.exists(os.path.join(self.rhome, "sbxd.sock")))
        self.assertEqual(self.sbx_ok("start", "--id", "again", "--", "true").stdout, b"again\n")

    def test_host_option_wins_over_the_variable(self):
        url = self.url
        self.env["SBX_HOST"] = "ssh://nobody@127.0.0.1:1/nowhere"
        self.assertEqual(self.sbx_ok("--host", url, "start", "--id", "o", "--", "true").stdout, b"o\n")
        self.assertTrue(os.path.exists(self.remote_record("o")))
        self.sbx_ok(f"--host={url}", "wait", "o")
        # this machine: SBX_HOST empty, or unix:// and the socket of a home
        local = os.path.join(self.home, "state", "processes")
        self.sbx_ok("start", "--id", "here", "--", "true", env_extra={"SBX_HOST": ""})
        self.assertTrue(os.path.exists(os.path.join(local, "here.toml")))
        self.sbx_ok("--host", f"unix://{self.home}/sbxd.sock", "start", "--id", "here2", "--", "true")
        self.assertTrue(os.path.exists(os.path.join(local, "here2.toml")))
        other = os.path.join(self.home, "o")
        self.sbx_ok("--host", f"unix://{other}/sbxd.sock", "start", "--id", "there", "--", "true")
        self.assertTrue(os.path.exists(os.path.join(other, "state", "processes", "there.toml")))
        self.sbx_ok("daemon", "stop", env_extra={"SBX_HOME": other, "SBX_HOST": ""})
        self.assertFalse(os.path.exists(self.remote_record("here")))

    def test_connection_reuse_one_handshake(self):
        self.sbx_ok("ps")
        socks = self.control_sockets()
        self.assertEqual(len(socks), 1, socks)
        master = self.sshd.master_pid(socks[0])
        self.assertIsNotNone(master)
        self.assertEqual(self.sshd.logins(), 1)
        for _ in range(3):
            self.sbx_ok("ps")
        self.assertEqual(self.sshd.logins(), 1, "a later call made a new ssh handshake")
        self.assertEqual(self.sshd.master_pid(socks[0]), master)

    def test_own_control_master_is_left_alone(self):
        self.env["SBX_SSH_COMMAND"] = self.sshd.ssh_command + " -o ControlMaster=no"
        self.sbx_ok("ps")
        self.sbx_ok("ps")
        self.assertEqual(self.control_sockets(), [])
        self.assertEqual(self.sshd.logins(), 2)


class RemoteErrors(RemoteCase):
    def test_unreachable_host_fails_fast_in_one_line(self):
        port = free_port()
        t0 = time.monotonic()
        r = self.run("status", "x", env_extra={"SBX_HOST": f"ssh://{self.sshd.user}@127.0.0.1:{port}"})
        self.assertLess(time.monotonic() - t0, 30)
        self.assertOneLine(r, 1, f"cannot reach {self.sshd.user}@127.0.0.1:{port} over ssh: ",
                           "Connection refused")

    def test_daemon_stop_of_an_unreachable_host_is_no_success(self):
        port = free_port()
        r = self.run("daemon", "stop", env_extra={"SBX_HOST": f"ssh://127.0.0.1:{port}"})
        self.assertOneLine(r, 1, f"cannot reach 127.0.0.1:{port} over ssh: ")

    def test_silent_host_gives_up_within_30s(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        self.addCleanup(lsock.close)
        port = lsock.getsockname()[1]
        t0 = time.monotonic()
        r = self.run("ps", env_extra={"SBX_HOST": f"ssh://127.0.0.1:{port}"}, timeout=60)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertOneLine(r, 1, f"cannot reach 127.0.0.1:{port} over ssh: no answer within")

    def test_no_sbx_on_the_remote(self):
        r = self.run("ps", env_extra={"SBX_REMOTE_SBX": "/nonexistent/sbx"})
        self.assertOneLine(r, 1, "has no '/nonexistent/sbx' to run (set SBX_REMOTE_SBX)")
        r = self.run("ps", env_remove=("SBX_REMOTE_SBX",), env_extra={"SBX_REMOTE_SBX": "sbx-not-here"})
        self.assertOneLine(r, 1, "has no 'sbx-not-here' to run (set SBX_REMOTE_SBX)")

    def test_remote_sbx_without_dial_stdio(self):
        r = self.run("ps", env_extra={"SBX_REMOTE_SBX": os.path.join(PROGS, "old_sbx.sh")})
        self.assertOneLine(r, 1, "has no dial-stdio")

    def test_protocol_mismatch_names_both_versions(self):
        fake = f"{PY} {os.path.join(PROGS, 'other_protocol_dial.py')}"
        r = self.run("ps", env_extra={"SBX_REMOTE_SBX": fake})
        err = self.assertOneLine(r, 1, "sbxd 9.9.9 on ", "speaks protocol 99", "speaks 1")
        version = subprocess.run([SBX, "--version"], capture_output=True).stdout.split()[1].decode()
        self.assertIn(f"({version})", err)

    def test_host_key_failure_says_so(self):
        other = os.path.join(self.ssh_dir, "other_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other], check=True)
        with open(other + ".pub") as f:
            pub = " ".join(f.read().split()[:2])
        with open(self.sshd.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{self.sshd.port} {pub}\n")
        r = self.run("ps")
        self.assertOneLine(r, 1, "host key")
        self.assertEqual(self.sshd.logins(), 0)

    def test_no_remote_daemon_for_daemon_stop_and_status(self):
        r = self.run("daemon", "stop")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"sbx: no daemon is running\n")
        self.assertIsNone(self.remote_daemon_pid())
        r = self.run("daemon", "status")
        self.assertOneLine(r, 1, "no daemon is running for " + self.rhome)

    def test_bad_host_url_is_a_usage_error(self):
        for url in ("http://x", "ssh://", "ssh://h:99999", "ssh://-oProxyCommand=x"):
            r = self.run("ps", env_extra={"SBX_HOST": url})
            self.assertOneLine(r, 2, "ssh://[USER@]HOST[:PORT][/REMOTE_HOME]")


class DialStdio(SbxTestCase):
    """sbx dial-stdio on its own: the daemon of a home on stdin/stdout."""

    def test_relays_one_request_and_ends_with_stdin(self):
        import wire
        hello = wire.frame(wire.HELLO, json.dumps({"proto": 1, "name": "test", "pid": 1}).encode())
        req = wire.frame(wire.REQUEST, json.dumps({"op": "ps", "args": {}}).encode())
        p = self.spawn("dial-stdio", stdin=subprocess.PIPE)
        p.stdin.write(hello + req)
        p.stdin.flush()
        got = b""
        while len(wire.parse_frames(got)) < 2:
            chunk = _read_some(p.stdout, 20)
            self.assertTrue(chunk, f"dial-stdio ended early: {got!r}")
            got += chunk
        kinds = [k for k, _ in wire.parse_frames(got)]
        self.assertEqual(kinds, [wire.HELLO, wire.RESPONSE])
        self.assertTrue(json.loads(wire.parse_frames(got)[1][1])["ok"])
        self.assertIsNotNone(self.daemon_pid(), "dial-stdio started no daemon")
        p.stdin.close()
        self.assertEqual(p.wait(timeout=10), 0)

    def test_no_start_without_a_daemon(self):
        r = self.run("dial-stdio", "--no-start")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode(), f"sbx: no daemon is running for {self.home}\n")
        self.assertIsNone(self.daemon_pid())


def _ancestors(pid: int) -> list[int]:
    out = []
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                data = f.read()
        except OSError:
            break
        pid = int(data[data.rindex(b")") + 2:].split()[1])
        out.append(pid)
    return out


def _read_some(f, timeout: float) -> bytes:
    r, _, _ = select.select([f], [], [], timeout)
    return os.read(f.fileno(), 65536) if r else b""


def _read_line(f, timeout: float) -> bytes:
    """One line from a pipe within `timeout` (b"" if none came)."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        r, _, _ = select.select([f], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        c = os.read(f.fileno(), 1)
        if not c:
            break
        line += c
    return line


if __name__ == "__main__":
    main()
