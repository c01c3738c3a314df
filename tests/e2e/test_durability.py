#!/usr/bin/env python3
"""Durability: processes outlive a kill -9 of sbxd, a new daemon re-adopts them, learns their
exact exit codes (also when they ended while no daemon ran), loses no log byte, keeps every
record valid TOML, and survives corrupt records.  (test_daemon.py covers one adopted sleep
and one record across `daemon stop`; this file goes further.)"""
import json
import os
import re
import signal
import threading
import time
import tomllib

from harness import SbxTestCase, main, pid_alive, proc_exe, proc_stat, prog, wait_until

SHIM_NAME = "sbx-shim"

# Writes numbered lines to stdout ("N") and stderr ("eN"), flushing each, for SECONDS.
WRITER = r"""
import sys, time
secs = float(sys.argv[1])
t0 = time.monotonic()
i = 0
while time.monotonic() - t0 < secs:
    sys.stdout.write(f"{i}\n"); sys.stdout.flush()
    sys.stderr.write(f"e{i}\n"); sys.stderr.flush()
    i += 1
    time.sleep(0.002)
"""


class TomlWatcher:
    """Parses every STATE/processes/*.toml over and over in a thread; collects failures."""

    def __init__(self, folder: str):
        self.folder = folder
        self.errors: list[str] = []
        self.parses = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def check_once(self) -> list[str]:
        errors = []
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return errors
        for name in names:
            if not name.endswith(".toml"):
                continue
            try:
                with open(os.path.join(self.folder, name), "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue  # removed between listdir and open
            try:
                doc = tomllib.loads(data.decode("utf-8"))
                if doc.get("id") + ".toml" != name:
                    errors.append(f"{name}: id {doc.get('id')!r} does not match the file name")
            except Exception as e:  # noqa: BLE001 - any failure is a finding
                errors.append(f"{name}: {type(e).__name__}: {e}; content={data[:200]!r}")
            self.parses += 1
        return errors

    def _loop(self):
        while not self._stop.is_set():
            self.errors += self.check_once()
            time.sleep(0.002)

    def stop(self) -> list[str]:
        self._stop.set()
        self._thread.join(5)
        return self.errors + self.check_once()


class DurabilityCase(SbxTestCase):
    def setUp(self):
        super().setUp()
        self.processes_dir = os.path.join(self.home, "state", "processes")
        self.watcher = TomlWatcher(self.processes_dir)
        self.addCleanup(self.watcher.stop)

    def assert_records_stayed_valid(self):
        errors = self.watcher.stop()
        self.assertEqual(errors, [], "a record file was not valid TOML at some moment")
        self.assertGreater(self.watcher.parses, 0, "the TOML watcher never saw a record")

    def kill9_daemon(self) -> int:
        dpid = self.daemon_pid()
        self.assertIsNotNone(dpid, "no sbxd.pid")
        self.assertTrue(pid_alive(dpid), f"daemon {dpid} not alive before kill -9")
        os.kill(dpid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(dpid), 5, "daemon gone after kill -9")
        return dpid

    def shim_of(self, pid: int) -> int:
        """The parent of a managed program; asserts it is sbx-shim."""
        ppid = int(proc_stat(pid)[1])
        exe = proc_exe(ppid) or ""
        self.assertEqual(os.path.basename(exe), SHIM_NAME,
                         f"parent {ppid} of {pid} is {exe!r}, not the waiter {SHIM_NAME}")
        return ppid

    def flag(self, name: str) -> str:
        return os.path.join(self.home, name + ".flag")

    def touch(self, path: str):
        with open(path, "w"):
            pass


class SurviveKill9(DurabilityCase):
    def test_writer_keeps_writing_no_byte_lost(self):
        i = self.run_py(WRITER, "2.0", start_args=("--id", "writer"))
        rec = self.show(i)
        pid = rec["pid"]
        self.assertEqual(rec["status"], "running")
        shim = self.shim_of(pid)
        self.assertNotEqual(shim, self.daemon_pid(), "sbxd must not be the program's parent")
        wait_until(lambda: self.read_log(i).count(b"\n") >= 20, 5, "first lines written")
        old = self.kill9_daemon()
        # no daemon at all now: the program and its waiter keep running, the log keeps growing
        self.assertTrue(pid_alive(pid), "program died with the daemon")
        self.assertTrue(pid_alive(shim), "waiter died with the daemon")
        self.assertEqual(self.daemon_pids_for_home(), [], "a daemon is running although none was asked for")
        size0 = len(self.read_log(i))
        err0 = len(self.read_log(i, "stderr"))
        wait_until(lambda: len(self.read_log(i)) > size0 + 50, 3, "stdout log growing without a daemon")
        wait_until(lambda: len(self.read_log(i, "stderr")) > err0 + 50, 3, "stderr log growing without a daemon")
        # the harness can still find them (by SBX_PROCESS_ID + SBX_HOME) for teardown
        found = set(self.pids_of(i))
        self.assertIn(pid, found, "harness cannot find the program after kill -9 of the daemon")
        self.assertIn(shim, found, "harness cannot find the waiter after kill -9 of the daemon")
        # a new daemon adopts it while it still writes
        rec = self.show(i)
        self.assertNotEqual(self.daemon_pid(), old)
        self.assertEqual((rec["status"], rec["pid"]), ("running", pid), f"not re-adopted: {rec}")
        self.assertTrue(pid_alive(pid))
        # a second crash, mid-write, and a third daemon
        self.kill9_daemon()
        time.sleep(0.2)
        r = self.run("wait", i, "--timeout", "20s", timeout=30)
        self.assertEqual(r.returncode, 0, f"wait: {r.stderr!r}")
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code")), ("completed", 0), rec)
        out, err = self.read_log(i), self.read_log(i, "stderr")
        lines = out.decode().split("\n")
        self.assertEqual(lines[-1], "", "stdout log does not end with a newline")
        lines = lines[:-1]
        self.assertGreater(len(lines), 100, "the writer wrote suspiciously little")
        self.assertEqual(lines, [str(k) for k in range(len(lines))], "stdout lines lost, repeated or out of order")
        elines = err.decode().split("\n")[:-1]
        self.assertEqual(elines, [f"e{k}" for k in range(len(elines))], "stderr lines lost, repeated or out of order")
        self.assertIn(len(elines), (len(lines), len(lines) - 1, len(lines) + 1))
        r = self.sbx_ok("logs", i)
        self.assertEqual(r.stdout, out, "sbx logs stdout differs from the log file")
        self.assertEqual(r.stderr, err, "sbx logs stderr differs from the log file")
        self.assertEqual(self.sbx_ok("logs", i, "--stderr").stdout, err)
        self.assert_records_stayed_valid()

    def test_adopted_process_can_be_killed(self):
        a = self.start("--id", "a", "--", "sleep", "300")
        b = self.start("--id", "b", "--", "sleep", "300")
        pa, pb = self.show(a)["pid"], self.show(b)["pid"]
        self.kill9_daemon()
        self.assertTrue(pid_alive(pa) and pid_alive(pb))
        self.assertEqual(self.status(a), "running")
        self.kill9_daemon()  # adopted twice over
        for i, p in ((a, pa), (b, pb)):
            rec = self.show(i)
            self.assertEqual((rec["status"], rec["pid"]), ("running", p), rec)
        r = self.run("kill", a, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(pid_alive(pa), "sbx kill returned but the adopted process lives")
        rec = self.show(a)
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"), rec)
        self.assertNotIn("exit_code", rec)
        self.assertEqual(self.run("wait", a, timeout=10).returncode, 128 + 15)
        # the other one is untouched, and kill -s works on it too
        self.assertTrue(pid_alive(pb))
        self.assertEqual(self.status(b), "running")
        self.sbx_ok("kill", "-s", "KILL", b, timeout=20)
        rec = self.wait_status(b, "killed")
        self.assertEqual(rec.get("signal"), "SIGKILL", rec)
        self.assertEqual(self.run("wait", b, timeout=10).returncode, 128 + 9)
        self.assert_records_stayed_valid()

    def test_exit_code_of_adopted_process(self):
        f = self.flag("go")
        i = self.start("--id", "seven", "--", *prog("exit_on_flag"), f, "7")
        pid = self.show(i)["pid"]
        self.kill9_daemon()
        rec = self.show(i)
        self.assertEqual((rec["status"], rec["pid"]), ("running", pid), rec)
        self.touch(f)
        r = self.run("wait", i, "--timeout", "10s", timeout=20)
        self.assertEqual(r.returncode, 7, f"wait after adoption: rc={r.returncode} stderr={r.stderr!r}")
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code")), ("failed", 7), rec)
        self.assertNotIn("signal", rec)
        self.assertIn("end_time", rec)
        self.assert_records_stayed_valid()

    def test_waiter_on_adopted_process_wakes_up(self):
        # a `sbx wait` already blocked on the new daemon returns the exact code when the process ends
        f = self.flag("go")
        i = self.start("--id", "w", "--", *prog("exit_on_flag"), f, "42")
        self.kill9_daemon()
        self.assertEqual(self.status(i), "running")
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", self.run("wait", i, timeout=20)))
        t.start()
        self.wait_clients(1)
        self.assertNotIn("r", result, "wait returned while the process still runs")
        self.touch(f)
        t.join(25)
        self.assertEqual(result["r"].returncode, 42, result["r"].stderr)
        self.assert_records_stayed_valid()

    def test_exit_code_when_process_ended_without_daemon(self):
        f3, f0 = self.flag("three"), self.flag("zero")
        i3 = self.start("--id", "three", "--", *prog("exit_on_flag"), f3, "3")
        i0 = self.start("--id", "zero", "--", *prog("exit_on_flag"), f0, "0")
        it = self.start("--id", "term", "--", "sleep", "300")
        p3, p0, pt = self.show(i3)["pid"], self.show(i0)["pid"], self.show(it)["pid"]
        shims = [self.shim_of(p) for p in (p3, p0, pt)]
        self.kill9_daemon()
        self.touch(f3)
        self.touch(f0)
        os.kill(pt, signal.SIGTERM)  # someone else ends it while no daemon runs
        for p in [p3, p0, pt] + shims:
            wait_until(lambda p=p: not pid_alive(p), 5, f"pid {p} ended while no daemon runs")
        self.assertEqual(self.daemon_pids_for_home(), [])
        r = self.run("wait", i3, "--timeout", "10s", timeout=20)
        self.assertEqual(r.returncode, 3, f"wait: rc={r.returncode} stderr={r.stderr!r}")
        rec = self.show(i3)
        self.assertEqual((rec["status"], rec.get("exit_code")), ("failed", 3), rec)
        rec = self.show(i0)
        self.assertEqual((rec["status"], rec.get("exit_code")), ("completed", 0), rec)
        self.assertEqual(self.run("wait", i0, timeout=10).returncode, 0)
        rec = self.show(it)
        self.assertEqual((rec["status"], rec.get("signal")), ("killed", "SIGTERM"), rec)
        self.assertEqual(self.run("wait", it, timeout=10).returncode, 128 + 15)
        # and it stays that way across a clean restart
        self.sbx_ok("daemon", "stop", timeout=20)
        self.assertEqual(self.run("wait", i3, timeout=10).returncode, 3)
        self.assertEqual(self.show(i3).get("exit_code"), 3)
        self.assert_records_stayed_valid()

    def test_harness_teardown_finds_orphans(self):
        # kill -9 the daemon and do not start another: teardown must still end the tree
        i = self.start("--id", "tree", "sleep 300 & sleep 300 & wait")
        pid = self.show(i)["pid"]
        wait_until(lambda: len(self.pids_of(i)) >= 4, 5, "shim, sh and two sleeps")
        before = set(self.pids_of(i))
        self.kill9_daemon()
        self.tracked.clear()  # rely on the environment scan alone
        self.assertEqual(set(self.pids_of(i)), before)
        self._teardown_home()
        for p in before | {pid}:
            wait_until(lambda p=p: not pid_alive(p), 5, f"pid {p} ended by the harness teardown")
        self.assertEqual(self.daemon_pids_for_home(), [])
        os.makedirs(self.home, exist_ok=True)  # the cleanup runs teardown once more


class WaiterLost(DurabilityCase):
    def test_exit_code_when_the_waiter_is_killed_while_the_daemon_runs(self):
        # sbxd is the subreaper: the program of a killed waiter becomes its child, so sbxd
        # reaps it and learns its real status.
        f = self.flag("go")
        i = self.start("--id", "lost", "--", *prog("exit_on_flag"), f, "7")
        pid = self.show(i)["pid"]
        shim = self.shim_of(pid)
        os.kill(shim, signal.SIGKILL)
        wait_until(lambda: int(proc_stat(pid)[1]) == self.daemon_pid(), 5, "the program re-parented to sbxd")
        self.assertEqual(self.status(i), "running")
        self.touch(f)
        r = self.run("wait", i, "--timeout", "10s", timeout=20)
        self.assertEqual(r.returncode, 7, r.stderr)
        rec = self.show(i)
        self.assertEqual((rec["status"], rec.get("exit_code")), ("failed", 7), rec)
        self.assertNotIn("error", rec)
        self.assert_records_stayed_valid()

    def test_exit_code_when_the_waiter_is_killed_after_the_program_ended(self):
        # the program ends first and stays a zombie of the waiter, then the waiter is killed
        # before it reaped it (stopped, so the order is certain)
        f = self.flag("go")
        i = self.start("--id", "late", "--", *prog("exit_on_flag"), f, "5")
        pid = self.show(i)["pid"]
        shim = self.shim_of(pid)
        os.kill(shim, signal.SIGSTOP)
        self.touch(f)
        wait_until(lambda: proc_stat(pid)[0] == "Z", 5, "the program a zombie")
        os.kill(shim, signal.SIGKILL)
        r = self.run("wait", i, "--timeout", "10s", timeout=20)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertEqual(self.show(i).get("exit_code"), 5)


class AcrossBoots(DurabilityCase):
    def test_a_run_of_another_boot_is_never_adopted(self):
        # A reboot is simulated: the live record says another boot id, and the daemon that
        # reads it is new. Pids and start ticks restart at boot, so the still-running pid
        # with its start ticks must not be taken for the run, nor signalled.
        i = self.start("--id", "old", "--", "sleep", "300")
        pid = self.show(i)["pid"]
        self.kill9_daemon()
        path = os.path.join(self.processes_dir, "old.toml")
        with open(path, "rb") as f:
            text = f.read()
        other = b'boot_id = "00000000-0000-4000-8000-000000000000"'
        edited = re.sub(rb'(?m)^boot_id = ".*"$', other, text)
        if edited == text:  # a record without the key gets one
            edited = text.replace(b'\nstatus = ', b"\n" + other + b'\nstatus = ', 1)
        with open(path + ".new", "wb") as f:
            f.write(edited)
        os.rename(path + ".new", path)
        rec = self.show(i)
        self.assertEqual(rec["status"], "failed", rec)
        self.assertRegex(rec.get("error", ""), r"system was restarted", rec)
        self.assertNotIn("exit_code", rec)
        self.assertEqual(self.run("wait", i).returncode, 1)
        self.assertTrue(pid_alive(pid), "a process of this boot was signalled for a run of another")

    def test_a_live_record_holds_the_boot_id(self):
        i = self.start("--id", "now", "--", "sleep", "300")
        with open(os.path.join(self.processes_dir, "now.toml"), "rb") as f:
            rec = tomllib.load(f)
        with open("/proc/sys/kernel/random/boot_id") as f:
            self.assertEqual(rec.get("boot_id"), f.read().strip())
        self.sbx_ok("kill", i)


class Persistence(DurabilityCase):
    def test_stop_then_ps_lists_every_record(self):
        self.start("--id", "ok", "--", "true")
        self.start("--id", "three", "exit 3")
        k = self.start("--id", "killed", "--", "sleep", "300")
        r = self.run("start", "--id", "broken", "--", "/no/such/program")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(self.run("wait", "ok").returncode, 0)
        self.assertEqual(self.run("wait", "three").returncode, 3)
        self.sbx_ok("kill", k, timeout=20)
        self.start("--id", "live", "--", "sleep", "300")  # `daemon stop` stops it
        before = json.loads(self.sbx_ok("ps", "--json").stdout)
        dpid = self.daemon_pid()
        self.sbx_ok("daemon", "stop", timeout=30)
        wait_until(lambda: not pid_alive(dpid), 5, "daemon stopped")
        after = json.loads(self.sbx_ok("ps", "--json").stdout)
        self.assertNotEqual(self.daemon_pid(), dpid)
        by_id = {r["id"]: r for r in after}
        self.assertEqual(sorted(by_id), ["broken", "killed", "live", "ok", "three"])
        want = {"ok": ("completed", 0, None), "three": ("failed", 3, None),
                "killed": ("killed", None, "SIGTERM"), "live": ("killed", None, "SIGTERM")}
        for i, (st, code, sig) in want.items():
            r = by_id[i]
            self.assertEqual((r["status"], r.get("exit_code"), r.get("signal")), (st, code, sig), r)
        self.assertEqual(by_id["broken"]["status"], "error")
        self.assertTrue(by_id["broken"].get("error"))
        # the ended records did not change at all across the restart
        for old in before:
            if old["id"] != "live":
                self.assertEqual(by_id[old["id"]], old, f"record {old['id']} changed across a restart")
        # ids keep counting up past the old ones, and old ids still answer every query
        new = self.start("--", "true")
        self.assertNotIn(new, by_id)
        self.assertEqual(self.sbx_ok("logs", "three").stdout, b"")
        self.assertEqual(self.run("wait", "killed", timeout=10).returncode, 128 + 15)
        self.assert_records_stayed_valid()

    def test_restart_after_kill9_lists_everything(self):
        ids = [self.start("--id", f"p{k}", f"exit {k}") for k in range(5)]
        for k, i in enumerate(ids):
            self.assertEqual(self.run("wait", i).returncode, k)
        live = self.start("--id", "live", "--", "sleep", "300")
        pid = self.show(live)["pid"]
        self.kill9_daemon()
        listed = json.loads(self.sbx_ok("ps", "--json").stdout)
        got = {r["id"]: (r["status"], r.get("exit_code")) for r in listed}
        want = {f"p{k}": ("completed" if k == 0 else "failed", k) for k in range(5)}
        want["live"] = ("running", None)
        self.assertEqual(got, want)
        self.assertEqual([r["pid"] for r in listed if r["id"] == "live"], [pid])
        self.assert_records_stayed_valid()


class CorruptRecords(DurabilityCase):
    def test_corrupt_and_truncated_records_are_set_aside(self):
        self.start("--id", "good", "--", "true")
        self.assertEqual(self.run("wait", "good").returncode, 0)
        live = self.start("--id", "live", "--", "sleep", "300")
        pid = self.show(live)["pid"]
        self.kill9_daemon()
        self.watcher.stop()  # from here on, invalid files are planted on purpose
        d = self.processes_dir
        with open(os.path.join(d, "good.toml"), "rb") as f:
            real = f.read()
        with open(os.path.join(d, "bad.toml"), "wb") as f:
            f.write(b"\x00\xff garbage [[[ = = \"unterminated\n" + os.urandom(64))
        cut = real.index(b'command = "') + len(b'command = "') + 2  # inside a string
        with open(os.path.join(d, "trunc.toml"), "wb") as f:
            f.write(real.replace(b'id = "good"', b'id = "trunc"')[:cut])
        with open(os.path.join(d, "empty.toml"), "wb"):
            pass
        r = self.run("ps", "--json", timeout=20)
        self.assertEqual(r.returncode, 0, f"ps with corrupt records: {r.stderr!r}")
        dpid = self.daemon_pid()
        self.assertTrue(dpid and pid_alive(dpid), "daemon not running after loading corrupt records")
        listed = {x["id"]: x for x in json.loads(r.stdout)}
        self.assertEqual(sorted(listed), ["good", "live"])
        self.assertEqual(listed["good"]["status"], "completed")
        self.assertEqual((listed["live"]["status"], listed["live"]["pid"]), ("running", pid))
        names = sorted(os.listdir(d))
        for bad in ("bad", "trunc", "empty"):
            self.assertIn(f"{bad}.toml.corrupt", names, f"{bad}.toml not set aside: {names}")
            self.assertNotIn(f"{bad}.toml", names)
        with open(os.path.join(d, "bad.toml.corrupt"), "rb") as f:
            self.assertTrue(f.read().startswith(b"\x00\xff garbage"), "the corrupt file's content changed")
        with open(os.path.join(self.home, "state", "sbxd.log"), "rb") as f:
            log = f.read()
        for bad in ("bad.toml", "trunc.toml", "empty.toml"):
            self.assertIn(bad.encode(), log, f"sbxd.log does not mention {bad}")
        # it keeps serving: queries on the corrupt ids say "no such process", new work runs
        self.assertErrorLine(self.run("status", "bad"), 3, "status of a set-aside record")
        i = self.start("--id", "bad", "--", "echo", "fresh")
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"fresh\n")
        self.sbx_ok("kill", live, timeout=20)
        self.assertFalse(pid_alive(pid))
        self.assertEqual(TomlWatcher.check_once(self.watcher), [])
        self.assertEqual(self.daemon_pid(), dpid)

    def test_record_with_mismatched_id_is_set_aside(self):
        self.start("--id", "orig", "--", "true")
        self.assertEqual(self.run("wait", "orig").returncode, 0)
        self.sbx_ok("daemon", "stop", timeout=20)
        self.watcher.stop()
        d = self.processes_dir
        with open(os.path.join(d, "orig.toml"), "rb") as f:
            real = f.read()
        with open(os.path.join(d, "copy.toml"), "wb") as f:
            f.write(real)  # valid TOML, but says id = "orig"
        r = self.run("ps", "-q", timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"orig\n")
        self.assertIn("copy.toml.corrupt", os.listdir(d))


if __name__ == "__main__":
    main()
