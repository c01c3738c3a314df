"""A fresh SBX_HOME with its own daemon, and everything it started cleaned up by pid."""
import concurrent.futures
import os
import shlex
import shutil
import subprocess
import tempfile
import time

from lib import BenchError, proc, wire
from lib.report import note, say

MiB = 1 << 20


class Home:
    """A fresh SBX_HOME with its own daemon; cleaned up on exit. The bench's own questions
    (daemon status, the records) go over the socket; what is measured runs `sbx`."""

    TIMEOUT = 20  # seconds for one ordinary sbx command before we call the daemon hung
    PARENT = "/tmp"  # --dir

    def __init__(self, sbx, defer_rm=None):
        self.sbx_path = sbx
        self.defer_rm = defer_rm  # a list: leave the folder there, to be removed later
        self.dir = tempfile.mkdtemp(prefix="sbxb.", dir=Home.PARENT)
        env = dict(os.environ)
        for k in ("SBX_SESSION", "SBX_DAEMON", "SBX_LOG", "SBX_PROCESS_ID", "SBX_HOST"):
            env.pop(k, None)
        env["SBX_HOME"] = self.dir
        self.env = env
        self.daemon_pids = set()
        self.live_pids = {}  # pid -> pid_start_ticks of processes we had sbx start
        self.hung = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _hung(self, what, timeout, err):
        """`what` got no answer within `timeout`: say where the daemon is blocked, then fail."""
        self.hung = True
        where = ""
        for pid in self._daemon_pids_now():
            try:
                with open(f"/proc/{pid}/wchan") as f:
                    where = f" (sbxd pid {pid} is blocked in {f.read().strip() or '?'})"
            except OSError:
                pass
        note(f"{what}: expected an answer, got none within {timeout} s{where}")
        raise BenchError(err)

    def run(self, *args, check=True, timeout=None):
        argv = [self.sbx_path, *args]
        try:
            r = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=timeout or self.TIMEOUT)
        except subprocess.TimeoutExpired:
            self._hung(f"`sbx {shlex.join(args)}`", timeout or self.TIMEOUT,
                       f"sbx {shlex.join(args)} timed out")
        if check and r.returncode != 0:
            raise BenchError(f"sbx {shlex.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def call(self, op, args=None):
        """One request over this home's socket (the daemon must be running)."""
        try:
            return wire.call(os.path.join(self.dir, "sbxd.sock"), op, args, client="sbx-bench",
                             timeout=self.TIMEOUT)
        except TimeoutError:
            self._hung(f"`{op}` request over the socket", self.TIMEOUT, f"{op} request timed out")
        except wire.WireError as e:
            raise BenchError(str(e))

    def argv(self, *args):
        return [self.sbx_path, *args]

    def daemon_status(self):
        st = self.call("daemon_status")
        self.daemon_pids.add(int(st["pid"]))
        return st

    def daemon_pid(self):
        return int(self.daemon_status()["pid"])

    def state_dir(self):
        return self.daemon_status()["state_dir"]

    def ps_json(self):
        return self.call("ps")

    def start(self, *cmd):
        return self.run("start", "--", *cmd).stdout.strip()

    def start_log_max(self, log_max, *cmd):
        """`sbx start --log-max N -- cmd` (N in bytes; whole MiB are written as `NM`)."""
        size = f"{log_max // MiB}M" if log_max and log_max % MiB == 0 else str(log_max)
        return self.run("start", "--log-max", size, "--", *cmd).stdout.strip()

    def start_many(self, n, cmd, parallel=8):
        """n x `sbx start -- cmd`, `parallel` at a time; returns the ids."""
        if parallel <= 1:
            return [self.start(*cmd) for _ in range(n)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as ex:
            return list(ex.map(lambda _: self.start(*cmd), range(n)))

    def remember_live(self):
        for rec in self.ps_json():
            if rec.get("status") in ("running", "starting") and rec.get("pid"):
                self.live_pids[int(rec["pid"])] = rec.get("pid_start_ticks")

    def kill_all(self):
        """`sbx kill --all`; if that fails, kill the live pids from the records."""
        self.remember_live()
        r = self.run("kill", "--all", check=False, timeout=60)
        left = [x for x in self.ps_json() if x.get("status") in ("running", "starting")]
        if r.returncode != 0 or left:
            note(f"`sbx kill --all`: expected exit 0 and no live records; got exit "
                 f"{r.returncode} ({r.stderr.strip()}), {len(left)} still live")
            for rec in left:
                proc.kill_pid(int(rec["pid"]), rec.get("pid_start_ticks"))
        for pid, ticks in list(self.live_pids.items()):
            if not proc.same_process(pid, ticks):
                del self.live_pids[pid]

    def _daemon_pids_now(self):
        """Daemon pids of this home: the ones seen in `daemon status` plus sbxd.pid,
        kept only while they are a live sbxd serving this very SBX_HOME."""
        pids = set(self.daemon_pids)
        try:
            with open(os.path.join(self.dir, "sbxd.pid")) as f:
                pids.add(int(f.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
        mine = []
        for pid in pids:
            args = proc.cmdline(pid)
            if proc.same_process(pid, None) and any(b"sbxd" in a for a in args[:1]) \
                    and any(self.dir.encode() in a for a in args):
                mine.append(pid)
        return mine

    def close(self):
        try:
            if not self.hung:
                try:
                    self.remember_live()
                except Exception:
                    pass
            try:
                r = self.run("daemon", "stop", check=False, timeout=5 if self.hung else 30)
                if r.returncode != 0:
                    note(f"`sbx daemon stop`: expected exit 0, got {r.returncode}: {r.stderr.strip()}")
            except (BenchError, OSError) as e:
                say(f"  (cleanup: `sbx daemon stop` failed: {e})")
            deadline = time.monotonic() + 5
            while self._daemon_pids_now() and time.monotonic() < deadline:
                time.sleep(0.05)
            for pid in self._daemon_pids_now():
                kids = proc.children(pid)
                note(f"sbxd pid {pid} still alive after `sbx daemon stop`; killing it "
                     f"and its {len(kids)} child(ren) by pid")
                for k in kids:
                    proc.kill_pid(k, None)
                proc.kill_pid(pid, None)
            for pid, ticks in self.live_pids.items():
                if proc.same_process(pid, ticks):
                    note(f"pid {pid} ({b' '.join(proc.cmdline(pid)).decode(errors='replace')}) "
                         f"outlived `sbx daemon stop`; killing it")
                    proc.kill_pid(pid, ticks)
        finally:
            if self.defer_rm is not None:
                self.defer_rm.append(self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
