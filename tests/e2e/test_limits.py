#!/usr/bin/env python3
"""The daemon at the system's limits: file descriptors used up (no busy loop, no client
left hanging, starts refused with one line, programs keep the caller's limit, adopted
processes watched without a pidfd), inotify instances or watches used up (followers,
wait-log, log caps and the end of a run's cgroup poll instead), and environments as large as execve(2) takes (larger ones get
one line that says what and the limit)."""
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from harness import PY, SbxTestCase, frame, kill_pid_tree, main, pid_alive, wait_until

NOBODY = 65534
STACK_8M = 8 << 20
EXEC_LIMIT_8M = STACK_8M // 4
REQUEST_LIMIT = 16 << 20


def cpu_seconds(pid: int) -> float:
    """utime + stime of pid, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def soft_nofile(pid: int) -> int:
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError(f"no 'Max open files' in /proc/{pid}/limits")


def limits(nofile=None, stack=None, uid=None):
    """A preexec_fn that sets RLIMIT_NOFILE (soft, hard), RLIMIT_STACK (soft) and the uid."""
    def apply():
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
        if stack:
            resource.setrlimit(resource.RLIMIT_STACK, (stack, resource.getrlimit(resource.RLIMIT_STACK)[1]))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
    return apply


class LimitCase(SbxTestCase):
    def run_with(self, preexec, *args, timeout=30, env_extra=None, cwd=None):
        """sbx ARGS with `preexec` applied first (limits, uid); output through files."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = self.spawn(*args, stdout=out, stderr=err, env_extra=env_extra, preexec_fn=preexec, cwd=cwd or "/")
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                self.fail(f"sbx {' '.join(map(str, args))[:200]} did not return within {timeout}s")
            out.seek(0), err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())

    def daemon_log(self) -> str:
        try:
            with open(os.path.join(self.home, "state", "sbxd.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def assertOneLineOrOk(self, r, what):
        """rc 0, or rc 1 with one `sbx: ` line: an answer either way."""
        self.assertIn(r.returncode, (0, 1), f"{what}: rc={r.returncode} stderr={r.stderr!r}")
        if r.returncode == 1:
            self.assertErrorLine(r, 1, what)


class DescriptorLimit(LimitCase):
    def test_daemon_raises_its_limit_and_programs_keep_the_callers(self):
        hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
        self.assertGreater(hard, 48)
        r = self.run_with(limits(nofile=(48, hard)), "ps")
        self.assertEqual(r.returncode, 0, r.stderr)
        dpid = wait_until(self.daemon_pid, 5, "sbxd.pid")
        self.assertEqual(soft_nofile(dpid), hard, "sbxd did not raise its soft descriptor limit to the hard one")
        i = self.start("--", "sh", "-c", "ulimit -Sn; ulimit -Hn")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.read_log(i), f"48\n{hard}\n".encode(),
                         "a program must get the soft limit sbxd was started with")

    def test_out_of_descriptors_no_busy_loop_no_hang(self):
        # As `ulimit -n 48` in bash: soft and hard, so the daemon cannot raise it.
        r = self.run_with(limits(nofile=(48, 48)), "ps")
        self.assertEqual(r.returncode, 0, r.stderr)
        dpid = wait_until(self.daemon_pid, 5, "sbxd.pid")
        self.assertEqual(soft_nofile(dpid), 48)

        started, refusals = [], []
        for k in range(40):
            r = self.run("start", "--", "sleep", "300", timeout=20)
            self.assertOneLineOrOk(r, f"start {k}")
            if r.returncode == 0:
                started.append(r.stdout.decode().strip())
            else:
                refusals.append(r.stderr)
        self.assertTrue(started, "no start succeeded")
        self.assertTrue(refusals, "48 descriptors held 40 processes: the limit was not reached")

        def fds():
            return len(os.listdir(f"/proc/{dpid}/fd"))
        followers = []
        for k in range(6):  # one by one: each holds its connection and two log files
            before = fds()
            p = self.spawn("logs", "-f", started[k % len(started)])
            followers.append(p)
            wait_until(lambda: p.poll() is not None or fds() >= min(before + 3, 48), 10, f"logs -f {k} served")
        # Idle connections fill what the followers left: the daemon is out of descriptors.
        held = []

        def used_up():
            if fds() >= 48:
                return True
            held.append(self.raw_connect())
            return False
        wait_until(used_up, 10, "the daemon's descriptors used up")

        cpu0, t0 = cpu_seconds(dpid), time.monotonic()
        answers = {0: 0, 1: 0}
        while time.monotonic() - t0 < 3.0:
            # Kept used up: a descriptor the daemon frees meanwhile (an idle client it let go)
            # is taken again, so each ps meets a daemon that is out of them.
            wait_until(used_up, 10, "the daemon's descriptors used up")
            r = self.run("ps", timeout=10)
            self.assertOneLineOrOk(r, "ps while out of descriptors")
            answers[r.returncode] += 1
            if r.returncode == 1:
                self.assertIn(b"out of file descriptors", r.stderr)
        used = cpu_seconds(dpid) - cpu0
        self.assertGreater(answers[1], 0, f"the daemon never ran out of descriptors: {answers}")
        self.assertLess(used, 0.75, f"sbxd used {used:.2f}s of CPU in {time.monotonic() - t0:.1f}s while "
                                    f"out of descriptors: a busy loop")
        self.assertTrue(pid_alive(dpid))
        for err in refusals:
            self.assertIn(b"sbxd is out of file descriptors", err)
        log = self.daemon_log()
        episodes = log.count("cannot accept clients")
        self.assertGreaterEqual(episodes, 1, "the exhaustion is not in sbxd.log")
        self.assertLess(episodes, 4, f"the exhaustion is logged per accept, not per episode ({episodes} times)")

        # The load goes: every client and every process.
        for s in held:
            s.close()
        for p in self.home_processes():
            kill_pid_tree(p)
        for k, p in enumerate(followers):
            rc, out, err = self.finish(p, f"logs -f {k}", timeout=20)
            self.assertIn(rc, (0, 1), f"logs -f {k}: rc={rc} stderr={err!r}")
            if rc == 1:
                self.assertTrue(err.startswith(b"sbx: ") and err.count(b"\n") == 1, err)

        def all_ended():
            r = self.run("ps", "--json", timeout=10)
            return r.returncode == 0 and all(x["status"] not in ("running", "starting") for x in json.loads(r.stdout))
        wait_until(all_ended, 20, "every process ended and the daemon serving")
        i = self.start("--", "sh", "-c", "echo hello; sleep 0.2; echo bye; exit 3")
        f = self.run("logs", "-f", i, timeout=20)
        self.assertEqual((f.returncode, f.stdout), (0, b"hello\nbye\n"), f.stderr)
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 3)
        self.assertEqual(self.daemon_pid(), dpid)

    def test_adopted_processes_without_pidfds(self):
        self.ensure_daemon()
        ids = [self.start("--", "sleep", "300") for _ in range(30)]
        pids = {i: self.show(i)["pid"] for i in ids}
        # The next daemon gets 32 descriptors, soft and hard: not one pidfd for each.
        r = self.run_with(limits(nofile=(32, 32)), "daemon", "restart", timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        dpid = wait_until(self.daemon_pid, 5, "sbxd.pid")
        self.assertEqual(soft_nofile(dpid), 32)
        self.assertIn("with a pidfd", self.daemon_log(), "sbxd.log does not say it watches without a pidfd")
        ps = self.run("ps", "--json", timeout=10)
        self.assertEqual(ps.returncode, 0, ps.stderr)
        self.assertEqual({x["id"]: x["status"] for x in json.loads(ps.stdout)}, {i: "running" for i in ids})
        for i in ids:
            os.kill(pids[i], 15)

        def all_killed():
            r = self.run("ps", "--json", timeout=10)
            return r.returncode == 0 and all(x["status"] == "killed" for x in json.loads(r.stdout))
        wait_until(all_killed, 20, "every adopted process recorded as killed")
        for x in json.loads(self.run("ps", "--json").stdout):
            self.assertEqual(x.get("signal"), "SIGTERM", x)
        self.assertEqual(self.daemon_pid(), dpid)


# Run as another uid: take inotify instances until the kernel refuses one, say how many,
# hold them until stdin closes.
INOTIFY_HOLDER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while True:
    fd = libc.inotify_init1(0o2000000)
    if fd < 0:
        break
    fds.append(fd)
err = ctypes.get_errno()
print(len(fds), err, flush=True)
sys.stdin.read()
"""

# Run as another uid: leave 16 inotify instances to that uid and take all its watches (a
# file of the folder argv[1] watched by each instance), say how many, hold them until stdin
# closes.
WATCH_HOLDER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
folder = sys.argv[1].encode()
with open("/proc/sys/fs/inotify/max_user_instances") as f:
    instances = int(f.read()) - 16
with open("/proc/sys/fs/inotify/max_user_watches") as f:
    files = [b"%s/%d" % (folder, k) for k in range(int(f.read()) // max(instances, 1) + 1)]
for path in files:
    open(path, "w").close()
fds, taken, err = [], 0, 0
while not err and len(fds) < instances:
    fd = libc.inotify_init1(0o2000000)
    if fd < 0:
        err = ctypes.get_errno()
        break
    fds.append(fd)
    for path in files:
        if libc.inotify_add_watch(fd, path, 2) < 0:  # IN_MODIFY
            err = ctypes.get_errno()
            break
        taken += 1
print(taken, err, flush=True)
sys.stdin.read()
"""


def cgroup_procs(cgroup: str) -> list[int]:
    with open(os.path.join(cgroup, "cgroup.procs")) as f:
        return [int(p) for p in f.read().split()]


class InotifyLimit(LimitCase):
    """The other uid's inotify instances used up: inotify_init1 fails in sbxd."""
    WHY = "inotify_init1: Too many open files"

    def hold(self):
        """Takes what the other uid may have of inotify (here: every instance)."""
        holder = subprocess.Popen([self.py, "-c", INOTIFY_HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  preexec_fn=self.nobody, cwd="/")
        self.holder = holder
        self.addCleanup(self.stop_holder)
        n, err = self.holder.stdout.readline().split()
        self.assertEqual(int(err), 24, "the holder could not exhaust the instances")  # EMFILE
        with open("/proc/sys/fs/inotify/max_user_instances") as f:
            self.assertLessEqual(int(n), int(f.read()))

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to act as another uid")
        # The interpreter of the tests may live where another uid cannot run it.
        self.py = shutil.which("python3", path="/usr/bin:/bin")
        if not self.py:
            self.skipTest("needs a python3 in /usr/bin or /bin for another uid")
        os.chown(self.home, NOBODY, NOBODY)
        self.nobody = limits(uid=NOBODY)
        self.env["HOME"] = self.home
        self.hold()

    def stop_holder(self):
        self.holder.stdin.close()
        try:
            self.holder.wait(5)
        except subprocess.TimeoutExpired:
            kill_pid_tree(self.holder.pid)
            self.holder.wait()
        self.holder.stdout.close()

    def sbx_nobody(self, *args, timeout=30):
        return self.run_with(self.nobody, *args, timeout=timeout)

    def spawn_nobody(self, *args) -> subprocess.Popen:
        return self.spawn(*args, preexec_fn=self.nobody, cwd="/")

    def start_nobody(self, *args) -> str:
        r = self.sbx_nobody("start", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().strip()

    def test_followers_waiters_and_caps_poll(self):
        trig = os.path.join(self.home, "go")
        i = self.start_nobody("--", "sh", "-c",
                              f"echo first; while [ ! -e {trig}1 ]; do sleep 0.01; done; echo second; "
                              f"while [ ! -e {trig}2 ]; do sleep 0.01; done; echo third; exec sleep 300")
        follower = self.spawn_nobody("logs", "-f", i)
        waiter = self.spawn_nobody("wait-log", i, "third", "--timeout", "60s")
        os.set_blocking(follower.stdout.fileno(), False)
        got = bytearray()

        def follower_has(text):
            try:
                chunk = follower.stdout.read()
            except BlockingIOError:
                chunk = None
            if chunk:
                got.extend(chunk)
            return text in got
        wait_until(lambda: follower_has(b"first\n"), 10, "logs -f prints what was there")
        open(trig + "1", "w").close()
        wait_until(lambda: follower_has(b"second\n"), 5, "logs -f sees new output without inotify")
        self.assertIsNone(waiter.poll(), "wait-log returned before its line was written")
        open(trig + "2", "w").close()
        rc, out, err = self.finish(waiter, "wait-log", timeout=5)
        self.assertEqual((rc, out), (0, b"third\n"), err)
        wait_until(lambda: follower_has(b"third\n"), 5, "logs -f sees the last line")

        # A cap: one burst over it, then silence; the cap must notice while the process runs.
        c = self.start_nobody("--log-max", "64K", "--", "sh", "-c",
                              f"while [ ! -e {trig}3 ]; do sleep 0.01; done; head -c 1000000 /dev/zero; "
                              "exec sleep 300")
        open(trig + "3", "w").close()

        def trimmed():
            r = self.sbx_nobody("show", c, "--json")
            return r.returncode == 0 and json.loads(r.stdout).get("dropped_stdout", 0) > 0
        wait_until(trimmed, 5, "the log cap trims without inotify")
        log = self.daemon_log()
        self.assertEqual(log.count("inotify is unavailable"), 1, f"sbxd.log must say once that it polls:\n{log}")
        self.assertIn(f"inotify is unavailable ({self.WHY})", log)

    def delegated_cgroup(self) -> str:
        """A cgroup v2 below this test's own, given to the other uid (as systemd delegates
        one), for its daemon's runs; the test is skipped where there is none to make."""
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[2:3] == ["cgroup2"]]
        with open("/proc/self/cgroup") as f:
            own = [line.strip()[3:] for line in f if line.startswith("0::")]
        if not mounts or not own:
            self.skipTest("no cgroup v2 here")
        cg = os.path.join(mounts[0] + own[0].rstrip("/"), "sbx-test-" + os.path.basename(self.home))
        try:
            os.mkdir(cg)
        except OSError as e:
            self.skipTest(f"cannot make a cgroup: {e}")
        self.addCleanup(self.remove_cgroup, cg)  # after the teardown, which ends what was in it
        for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(cg, name), NOBODY, NOBODY)
        return cg

    @staticmethod
    def remove_cgroup(cg: str):
        """Ends what is left in `cg` (this test's daemon's waiters, say), by pid, and removes
        it and what is below it."""
        def removed():
            for folder, _, _ in sorted(os.walk(cg), key=lambda w: -len(w[0])):
                try:
                    for pid in cgroup_procs(folder):
                        kill_pid_tree(pid)
                    os.rmdir(folder)
                except FileNotFoundError:
                    pass
                except OSError:  # EBUSY: its last process is ending
                    return False
            return True
        wait_until(removed, 10, f"{cg} removed")

    def test_a_runs_cgroup_is_seen_to_end(self):
        # cgroup.events keeps its size and mtime when it changes: polled, it is read.
        if self.env.get("SBX_TREE") == "token":
            self.skipTest("SBX_TREE=token: no cgroup per run")
        cg = self.delegated_cgroup()

        def into_the_cgroup_as_nobody():
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            self.nobody()
        r = self.run_with(into_the_cgroup_as_nobody, "ps")  # its daemon starts in that cgroup
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(self.sbx_nobody("daemon", "status", "--json").stdout)
        self.assertEqual(status.get("tree"), "cgroup", status)
        # A child that ignores TERM outlives the program, then ends by itself.
        ready, go = os.path.join(self.home, "ready"), os.path.join(self.home, "go")
        i = self.start_nobody("--", "sh", "-c",
                              f"(trap '' TERM; : > {ready}; while [ ! -e {go} ]; do sleep 0.01; done) & "
                              "exec sleep 300")
        run_cg = self.sbx_nobody("show", i, "--json")
        run_cg = json.loads(run_cg.stdout)["cgroup"]
        wait_until(lambda: os.path.exists(ready), 10, "the child ignores TERM")
        kill = self.spawn_nobody("kill", i, "--grace", "300s")
        self.assertStillWaiting(kill, "kill while the child runs")
        open(go, "w").close()
        rc, out, err = self.finish(kill, "kill once the child ended by itself (not after the grace)", timeout=20)
        self.assertEqual((rc, err), (0, b""))
        self.assertEqual(cgroup_procs(run_cg) if os.path.isdir(run_cg) else [], [])
        rec = json.loads(self.sbx_nobody("show", i, "--json").stdout)
        self.assertEqual((rec["status"], rec.get("reason"), rec.get("signal")), ("killed", "kill", "SIGTERM"), rec)
        self.assertNotIn("outlived its grace", self.daemon_log())
        self.assertIn("inotify is unavailable", self.daemon_log())


class InotifyWatchLimit(InotifyLimit):
    """The other uid's inotify watches used up: inotify_add_watch fails in sbxd. Taking
    them all costs seconds, so only the followers' case runs here: a cgroup's file is
    polled by the same code as when no instance is left."""
    WHY = "inotify_add_watch: No space left on device"
    test_a_runs_cgroup_is_seen_to_end = None

    def hold(self):
        folder = os.path.join(self.home, "watched")
        os.mkdir(folder)
        os.chown(folder, NOBODY, NOBODY)
        self.holder = subprocess.Popen([self.py, "-c", WATCH_HOLDER, folder], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, preexec_fn=self.nobody, cwd="/")
        self.addCleanup(self.stop_holder)
        n, err = self.holder.stdout.readline().split()
        if int(err) == 24:  # EMFILE: another holds that uid's instances
            self.skipTest("the other uid's inotify instances are all taken")
        self.assertEqual(int(err), 28, "the holder could not exhaust the watches")  # ENOSPC
        with open("/proc/sys/fs/inotify/max_user_watches") as f:
            self.assertLessEqual(int(n), int(f.read()))


def big_env(n: int, size: int = 100_000) -> dict:
    return {f"BIG{k}": chr(ord("a") + k % 26) * size for k in range(n)}


# Prints, for each BIG* variable the program sees, its length and first character.
SHOW_BIG = "import json, os; print(json.dumps({k: [len(v), v[:1]] for k, v in os.environ.items() " \
           "if k.startswith('BIG')}, sort_keys=True))"


class LargeEnvironment(LimitCase):
    def setUp(self):
        super().setUp()
        # The daemon gets the usual 8 MiB stack, so execve takes 2 MiB of argv and environment.
        r = self.run_with(limits(stack=STACK_8M), "ps")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.dpid = wait_until(self.daemon_pid, 5, "sbxd.pid")

    def env_file(self, n: int) -> str:
        path = os.path.join(self.home, f"big{n}.env")
        with open(path, "w") as f:
            for k, v in big_env(n).items():
                f.write(f"{k}={v}\n")
        return path

    def test_a_large_environment_reaches_the_program(self):
        env = big_env(14)  # 1.4 MB
        r = self.run("start", "--", PY, "-c", SHOW_BIG, env_extra=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        i = r.stdout.decode().strip()
        self.assertEqual(self.run("wait", i, timeout=20).returncode, 0)
        self.assertEqual(json.loads(self.read_log(i)), {k: [len(v), v[0]] for k, v in env.items()})

    def test_too_large_for_exec(self):
        r = self.run("start", "--env-file", self.env_file(30), "--", "true")  # 3 MB
        self.assertErrorLine(r, 1, "a 3 MB environment")
        self.assertIn(b"argument list and environment too large", r.stderr)
        self.assertIn(f"the system allows {EXEC_LIMIT_8M}".encode(), r.stderr)
        # The same from the caller's own environment (its shell runs with a larger stack).
        r = self.run_with(limits(stack=64 << 20), "start", "--", "true", env_extra=big_env(30))
        self.assertErrorLine(r, 1, "a 3 MB environment of the caller")
        self.assertIn(b"argument list and environment too large", r.stderr)
        self.assertEqual(self.run("ps").returncode, 0)
        self.assertEqual(self.daemon_pid(), self.dpid)

    def test_over_the_request_limit(self):
        r = self.run("start", "--env-file", self.env_file(170), "--", "true")  # 17 MB
        self.assertErrorLine(r, 1, "a 17 MB environment")
        self.assertIn(b"environment", r.stderr)
        self.assertIn(str(REQUEST_LIMIT).encode(), r.stderr)
        self.assertEqual(self.run("ps").returncode, 0)
        self.assertEqual(self.daemon_pid(), self.dpid)


class RefusedRequest(LimitCase):
    def test_the_daemons_refusal_is_reported_not_a_broken_pipe(self):
        # A daemon with a smaller limit (an older sbxd) answers why and closes unread.
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.sock_path)
        srv.listen(4)
        self.addCleanup(srv.close)
        why = "a request of more than 1048576 bytes is refused"

        def serve():
            conn, _ = srv.accept()
            with conn:
                got = b""
                while len(got) < 8 or len(got) < 8 + struct.unpack(">I", got[:4])[0] + 8:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    got += chunk
                reply = json.dumps({"ok": False, "error": {"code": "protocol", "message": why}}).encode()
                hello = json.dumps({"proto": 1, "server": "sbxd", "pid": os.getpid()}).encode()
                conn.sendall(frame(1, hello) + frame(3, reply))
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        r = self.run("start", "--", "true", env_extra=big_env(14))
        t.join(10)
        self.assertErrorLine(r, 1, "a request the daemon refuses")
        self.assertIn(why.encode(), r.stderr)


if __name__ == "__main__":
    main()
