"""Helpers for the end-to-end tests of sbx/sbxd (Python 3.11, stdlib only).

Every test case gets its own short SBX_HOME under /tmp and runs the real binaries:
  SBX_BIN   path to sbx  (default: <repo>/build/src/sbx)
  SBXD_BIN  path to sbxd (default: sbxd next to sbx)
  SBX_TEST_KEEP_HOME=1   keep each home (its state/sbxd.log) after the test, to debug

Teardown kills every pid the test learned (process group first when the pid leads
its group), every process that carries SBX_HOME=<this home> and an SBX_PROCESS_ID in
its environment, then the daemon by the pid in $SBX_HOME/sbxd.pid, and removes the
home (unless SBX_TEST_KEEP_HOME is set).  Nothing is ever killed by name.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import wire
from wire import frame, parse_frames  # noqa: F401  tests import them from here

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SBX = os.path.abspath(os.environ.get("SBX_BIN") or os.path.join(REPO, "build", "src", "sbx"))
SBXD = os.path.abspath(os.environ.get("SBXD_BIN") or os.path.join(os.path.dirname(SBX), "sbxd"))
PY = sys.executable or "python3"
PROGS = os.path.join(HERE, "progs")  # the programs several tests run, one file each


def prog(name: str) -> list[str]:
    """The argv prefix that runs tests/e2e/progs/NAME.py."""
    return [PY, os.path.join(PROGS, name + ".py")]

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SIGNUM = {"HUP": 1, "INT": 2, "KILL": 9, "TERM": 15}


# ---------------------------------------------------------------- /proc helpers

def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = data[data.rindex(b")") + 2:][:1]
    return state not in (b"Z", b"X", b"x")


def proc_stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the comm: [state, ppid, pgrp, session, ...]."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return data[data.rindex(b")") + 2:].decode().split()


def proc_environ(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, _, v = item.partition(b"=")
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def proc_exe(pid: int) -> str | None:
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    return exe[:-len(" (deleted)")] if exe.endswith(" (deleted)") else exe


def is_waiter(pid: int) -> bool:
    """A run's waiter, sbx-shim (not a program that forked it and did not exec yet)."""
    exe = proc_exe(pid)
    return exe is not None and os.path.basename(exe) == "sbx-shim"


def is_waiter_of(pid: int, home: str) -> bool:
    """A waiter whose stdout is a log of `home`: one that was a spare (sbx-shim --spare)
    carries no environment of its run, so only its descriptors tell whose it is."""
    try:
        log = os.readlink(f"/proc/{pid}/fd/1")
    except OSError:
        return False
    return is_waiter(pid) and log.startswith(os.path.join(home, "state", "logs") + "/")


def proc_children(pid: int) -> list[int]:
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def pids_with_env(key: str, value: str) -> list[int]:
    return [p for p in all_pids() if p != os.getpid() and proc_environ(p).get(key) == value]


def sigmask(pid: int, field: str) -> int:
    """SigIgn / SigCgt / SigBlk of /proc/PID/status as an int."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    return 0


def has_sig(pid: int, field: str, signum: int) -> bool:
    try:
        return bool(sigmask(pid, field) & (1 << (signum - 1)))
    except OSError:
        return False


def wait_until(pred, timeout: float = 5.0, msg: str = "condition"):
    """Poll pred() every 10 ms until it returns a truthy value; return it or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {msg}")
        time.sleep(0.01)


def kill_pid_tree(pid: int) -> None:
    """SIGKILL pid's process group (when it leads one) and pid itself."""
    if pid <= 1 or pid == os.getpid():
        return
    try:
        if pid_alive(pid):
            try:
                if os.getpgid(pid) == pid and pid > 1 and pid != os.getpgrp():
                    os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------- network and wire helpers

def terminate(pid: int, grace: float = 5.0) -> None:
    """SIGTERM to `pid`, then SIGKILL if it is still there after `grace` seconds."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    if pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_loopback() -> bool:
    """True when ::1 can be bound here (a host or container may have no IPv6)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def can_connect(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def http_status(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


# ---------------------------------------------------------------- test case

class SbxTestCase(unittest.TestCase):
    """Base class: own SBX_HOME, run()/start()/show() helpers, strict teardown."""

    maxDiff = None

    def setUp(self):
        for b in (SBX, SBXD):
            if not os.access(b, os.X_OK):
                self.fail(f"binary not found or not executable: {b} (set SBX_BIN/SBXD_BIN)")
        self.home = tempfile.mkdtemp(prefix="sbx", dir="/tmp")
        self.tracked: set[int] = set()
        self.popens: list[subprocess.Popen] = []
        # SBX_TREE passes: the suite runs in either tree mode (.ci/run runs both).
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SBX_") or k == "SBX_TREE"}
        self.env["SBX_HOME"] = self.home
        self.env["SBXD_BIN"] = SBXD
        self.addCleanup(self._teardown_home)

    # -- running sbx --------------------------------------------------------
    def run_env(self, env_extra=None, env_remove=()):
        env = dict(self.env)
        for k in env_remove:
            env.pop(k, None)
        if env_extra:
            env.update(env_extra)
        return env

    def run(self, *args, input=None, timeout=30, env_extra=None, cwd=None, env_remove=()):
        """Run sbx ARGS; return CompletedProcess(stdout/stderr bytes, returncode).

        Output goes through temporary files, so a daemon that wrongly keeps the
        caller's stdout/stderr open cannot hang the test suite.
        """
        if len(args) == 1 and isinstance(args[0], unittest.TestResult):
            return super().run(*args)  # unittest's own TestCase.run(result)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = self.spawn(*args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                           stdout=out, stderr=err, env_extra=env_extra, env_remove=env_remove, cwd=cwd)
            try:
                if input is not None:
                    p.communicate(input, timeout=timeout)
                else:
                    p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                out.seek(0), err.seek(0)
                raise AssertionError(f"sbx {' '.join(map(str, args))!s} did not return within {timeout}s; "
                                     f"stdout={out.read()[:300]!r} stderr={err.read()[:300]!r}")
            out.seek(0), err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())

    def spawn(self, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
              env_extra=None, env_remove=(), cwd=None, preexec_fn=None) -> subprocess.Popen:
        """sbx ARGS in the background (stdin /dev/null unless given); killed at teardown if
        still running. The one place a test starts sbx: run() waits for what this starts."""
        argv = [SBX] + [a if isinstance(a, bytes) else str(a) for a in args]
        p = subprocess.Popen(argv, env=self.run_env(env_extra, env_remove), stdin=stdin, stdout=stdout,
                             stderr=stderr, cwd=cwd, preexec_fn=preexec_fn)
        self.popens.append(p)
        return p

    def assertStillWaiting(self, p: subprocess.Popen, what: str = "sbx", secs: float = 0.4):
        """`p` has not returned within `secs`."""
        try:
            out, err = p.communicate(timeout=secs)
        except subprocess.TimeoutExpired:
            return
        self.fail(f"{what} returned early: rc={p.returncode} stdout={out!r} stderr={err!r}")

    def finish(self, p: subprocess.Popen, what: str, timeout=10) -> tuple[int, bytes, bytes]:
        """Waits for `p`: (exit code, stdout, stderr); fails if it takes over `timeout`."""
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"{what} did not return within {timeout}s")
        return p.returncode, out, err

    def __call__(self, *args, **kwds):  # keep unittest working although run() is overridden
        return unittest.TestCase.run(self, *args, **kwds)

    def sbx_ok(self, *args, **kw) -> subprocess.CompletedProcess:
        r = self.run(*args, **kw)
        self.assertEqual(r.returncode, 0, f"sbx {args} -> {r.returncode}, stderr={r.stderr!r}")
        return r

    def start(self, *args, **kw) -> str:
        """sbx start ARGS; assert success; track its pid; return the id."""
        r = self.run("start", *args, **kw)
        self.assertEqual(r.returncode, 0, f"sbx start {args} -> {r.returncode}, stderr={r.stderr!r}")
        self.assertTrue(r.stdout.endswith(b"\n"), f"start output lacks newline: {r.stdout!r}")
        pid_id = r.stdout.decode().strip()
        self.assertRegex(pid_id, ID_RE)
        self.show(pid_id)  # tracks the pid
        return pid_id

    def show(self, pid_id: str) -> dict:
        r = self.run("show", pid_id, "--json")
        self.assertEqual(r.returncode, 0, f"show {pid_id} --json -> {r.returncode} {r.stderr!r}")
        rec = json.loads(r.stdout)
        self.assertIsInstance(rec, dict)
        if isinstance(rec.get("pid"), int):
            self.track(rec["pid"])
        return rec

    def status(self, pid_id: str) -> str:
        r = self.sbx_ok("status", pid_id)
        return r.stdout.decode().strip()

    def wait_status(self, pid_id: str, statuses, timeout=5.0) -> dict:
        if isinstance(statuses, str):
            statuses = (statuses,)
        box = {}

        def pred():
            box["rec"] = self.show(pid_id)
            return box["rec"].get("status") in statuses
        try:
            wait_until(pred, timeout, f"{pid_id} status in {statuses}")
        except AssertionError:
            self.fail(f"{pid_id}: status never in {statuses}; last record {box.get('rec')}")
        return box["rec"]

    def assert_gives_up_when_ended(self, waiter: subprocess.Popen, pid: int, what: str):
        """A wait running in `waiter` exits 1, with one `sbx: ` line, once pid ended (a wait that
        missed the end would run until communicate's timeout)."""
        wait_until(lambda: not pid_alive(pid), 10, "process end")
        out, err = waiter.communicate(timeout=15)
        self.assertEqual(waiter.returncode, 1, f"stdout={out!r} stderr={err!r}")
        self.assertEqual(out, b"")
        self.assertEndedTail(err, what)

    def track(self, pid: int):
        if isinstance(pid, int) and pid > 1:
            self.tracked.add(pid)

    def pids_of(self, pid_id: str) -> list[int]:
        """Live processes launched for pid_id in this home (found by their environment),
        its waiter included."""
        return [p for p in pids_with_env("SBX_PROCESS_ID", pid_id)
                if pid_alive(p) and proc_environ(p).get("SBX_HOME") == self.home]

    def program_pids_of(self, pid_id: str) -> list[int]:
        """pids_of without the waiter (sbx-shim), which outlives its program until the
        daemon's final record is durable (a fraction of a second)."""
        return [p for p in self.pids_of(pid_id) if not is_waiter(p)]

    def logfile(self, pid_id: str, stream: str) -> str:
        return os.path.join(self.home, "state", "logs", f"{pid_id}.{stream}")

    def read_log(self, pid_id: str, stream: str = "stdout") -> bytes:
        try:
            with open(self.logfile(pid_id, stream), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def run_py(self, code: str, *args, start_args=()) -> str:
        """Start `python3 -c CODE ARGS` (argv form); return the id."""
        return self.start(*start_args, "--", PY, "-c", code, *args)

    # -- assertions ---------------------------------------------------------
    def assertErrorLine(self, r: subprocess.CompletedProcess, code: int, what: str = ""):
        """Exit code `code`, nothing on stdout, exactly one line `sbx: ...` on stderr."""
        ctx = f"{what}: rc={r.returncode} stdout={r.stdout!r} stderr={r.stderr!r}"
        self.assertEqual(r.returncode, code, ctx)
        self.assertEqual(r.stdout, b"", ctx)
        self.assertTrue(r.stderr.startswith(b"sbx: "), ctx)
        self.assertEqual(r.stderr.rstrip(b"\n").count(b"\n"), 0, "more than one line: " + ctx)

    def assertEndedError(self, r: subprocess.CompletedProcess, code: int, what: str = ""):
        """A readiness wait that failed because the process ended: exit `code`, nothing on
        stdout, one `sbx: ...` line on stderr, then the end of the process's output."""
        ctx = f"{what}: rc={r.returncode} stdout={r.stdout!r} stderr={r.stderr!r}"
        self.assertEqual(r.returncode, code, ctx)
        self.assertEqual(r.stdout, b"", ctx)
        self.assertEndedTail(r.stderr, what)

    def assertEndedTail(self, err: bytes, what: str = ""):
        """`err` is one `sbx: ...` line, then the end of the process's output: a line that
        says so and its lines framed by "  | ", or a line that it wrote no output."""
        first, _, rest = err.partition(b"\n")
        self.assertTrue(first.startswith(b"sbx: "), f"{what}: {err!r}")
        head, _, lines = rest.partition(b"\n")
        if head.endswith(b"wrote no output"):
            self.assertEqual(lines, b"", f"{what}: {err!r}")
            return
        self.assertTrue(head.startswith(b"sbx: the end of its output"), f"{what}: {err!r}")
        self.assertTrue(lines.endswith(b"\n"), f"{what}: {err!r}")
        for line in lines[:-1].split(b"\n"):
            self.assertTrue(line.startswith(b"  | "), f"{what}: {err!r}")

    # -- daemon -------------------------------------------------------------
    def raw_connect(self, timeout=5.0) -> socket.socket:
        """A bare connection to this home's socket, to speak (or abuse) the protocol."""
        return wire.connect(self.sock_path, timeout)

    @staticmethod
    def send_quietly(s: socket.socket, data: bytes):
        """sendall that ignores the daemon having closed the connection already."""
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_until_closed(self, s: socket.socket, what: str, timeout=5.0) -> bytes:
        """Everything the daemon sends until it closes the connection; fails if it does not
        close within `timeout`."""
        got = b""
        deadline = time.monotonic() + timeout
        try:
            while True:
                if time.monotonic() > deadline:
                    self.fail(f"{what}: daemon did not close the connection (got {got[:120]!r})")
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            self.fail(f"{what}: daemon did not close the connection (got {got[:120]!r})")
        finally:
            s.close()
        return got

    def home_processes(self, waiters: bool = True) -> list[int]:
        """Every live process started for this home (they carry its SBX_HOME and an id, or,
        waiters, write its logs); without `waiters`, only programs and what they started."""
        out = []
        for p in all_pids():
            env = proc_environ(p)
            ours = env.get("SBX_HOME") == self.home and "SBX_PROCESS_ID" in env
            if (ours or is_waiter_of(p, self.home)) and pid_alive(p):
                if waiters or not is_waiter(p):
                    out.append(p)
        return out

    def assertNothingLeft(self, what: str = "processes left behind"):
        """No program of this home runs, and their waiters go on their own (each once the
        final record of its run is durable, within a fraction of a second)."""
        self.assertEqual(self.home_processes(waiters=False), [], what)
        wait_until(lambda: not self.home_processes(), 5, f"the waiters to go ({what})")
        # Told by a live daemon that their records hold the status: none wrote an exit file.
        folder = os.path.join(self.home, "state", "processes")
        left = [f for f in os.listdir(folder) if f.endswith(".exit")] if os.path.isdir(folder) else []
        self.assertEqual(left, [], "exit files although the daemon held every status")

    def make_www(self) -> str:
        """A folder with hello.txt in it, for `python3 -m http.server` to serve."""
        www = os.path.join(self.home, "www")
        os.mkdir(www)
        with open(os.path.join(www, "hello.txt"), "w") as f:
            f.write("hello\n")
        return www

    def in_backoff(self, i: str, marker: bytes, restarts: int) -> bool:
        """`i` waits out a restart back-off after at least `restarts` restarts: status
        starting and the output of every run in (each run prints `marker` once). A restart
        being launched says starting too, but its run has not printed yet."""
        r = self.show(i)
        n = r.get("restarts", 0)
        return r["status"] == "starting" and n >= restarts and self.read_log(i).count(marker) == n + 1

    @property
    def sock_path(self) -> str:
        return os.path.join(self.home, "sbxd.sock")

    def daemon_pid(self) -> int | None:
        try:
            with open(os.path.join(self.home, "sbxd.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def daemon_pids_for_home(self, home: str | None = None) -> list[int]:
        """Live processes whose exe is sbxd and whose environ has SBX_HOME=home."""
        home = home or self.home
        target = os.path.realpath(SBXD)
        out = []
        for p in all_pids():
            exe = proc_exe(p)
            if exe and os.path.realpath(exe) == target and pid_alive(p) \
                    and proc_environ(p).get("SBX_HOME") == home:
                out.append(p)
        return out

    def daemon_sockets(self, pid: int) -> int:
        """Sockets sbxd holds open on this home's socket path: its listener and one per
        client (0 once it is gone). Its other sockets (a waiter's report socket) do not count."""
        ours = set()
        try:
            with open("/proc/net/unix") as f:
                next(f)
                for row in f:
                    cols = row.split()
                    # sbxd binds at SOCKET.new and renames it into place once it listens;
                    # the kernel keeps the name it was bound with.
                    if len(cols) >= 8 and cols[7] in (self.sock_path, self.sock_path + ".new"):
                        ours.add(cols[6])
        except OSError:
            return 0
        n = 0
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return 0
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            n += link.startswith("socket:[") and link[8:-1] in ours
        return n

    def wait_clients(self, n: int, timeout: float = 10.0) -> int:
        """Waits until the home's daemon holds `n` client connections; its pid. The daemon
        closes a one-shot request's connection once it replied, so these are the clients it
        still serves (a follower, a waiter); each sent its request right after connecting."""
        def ready():
            pid = self.daemon_pid()
            return pid if pid and self.daemon_sockets(pid) == 1 + n else None
        return wait_until(ready, timeout, f"{n} client(s) connected to the daemon")

    def ensure_daemon(self) -> int:
        self.sbx_ok("ps")
        pid = wait_until(self.daemon_pid, 5, "sbxd.pid")
        self.assertTrue(pid_alive(pid), f"daemon pid {pid} from sbxd.pid is not alive")
        return pid

    def _teardown_home(self):
        # 1. every pid the test learned, and every process launched for this home
        for p in all_pids():
            env = proc_environ(p)
            if env.get("SBX_HOME") == self.home and "SBX_PROCESS_ID" in env:
                self.tracked.add(p)
        for pid in sorted(self.tracked):
            kill_pid_tree(pid)
        # 2. the daemon by pid
        dpids = set(self.daemon_pids_for_home())
        dp = self.daemon_pid()
        if dp:
            dpids.add(dp)
        for pid in dpids:
            terminate(pid)
        for p in self.popens:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                if f:
                    f.close()
        # a daemon stopped above may have left late children behind
        for p in self.home_processes():
            kill_pid_tree(p)
        self._remove_cgroups()
        if not os.environ.get("SBX_TEST_KEEP_HOME"):
            shutil.rmtree(self.home, ignore_errors=True)

    def _remove_cgroups(self):
        """The run cgroups the records name, and sbxd's subtree above them, once empty: a
        daemon killed with SIGKILL (and not started again) cannot remove them itself."""
        folder = os.path.join(self.home, "state", "processes")
        subtrees = set()
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if not name.endswith(".toml"):
                continue
            with open(os.path.join(folder, name), errors="replace") as f:
                m = re.search(r'^cgroup = "([^"]+)"$', f.read(), re.M)
            if m and os.path.isdir(m.group(1)):
                subtrees.add(os.path.dirname(m.group(1)))
                deadline = time.monotonic() + 5  # its processes were killed: they are ending
                while time.monotonic() < deadline:
                    try:
                        os.rmdir(m.group(1))
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.01)
        for d in subtrees:
            try:
                os.rmdir(d)
            except OSError:
                pass


def main():
    unittest.main(verbosity=int(os.environ.get("SBX_TEST_VERBOSITY", "2")))
