"""A full disk: a clear error, the previous record intact, nothing lost once space is back."""
import os
import signal
import struct
import subprocess
import tomllib

from harness import PY, SbxTestCase, main, pid_alive, wait_until


class FullDisk(SbxTestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        self.state = os.path.join(self.home, "state")
        os.makedirs(self.state)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", self.state],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here: {r.stdout.decode().strip()}")
        # Cleanups run last-in first-out: stop the daemon, then unmount.
        self.addCleanup(subprocess.run, ["umount", "-l", self.state])
        self.addCleanup(self.run, "daemon", "stop")
        self.filler = os.path.join(self.state, "filler")

    def fill(self):
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    def settled(self, pid_id):
        """Waits for what the daemon still writes after its answers: the record past
        "starting", and for an ended run the removal of an exit file, if one was left (whose
        page would otherwise come free after the disk was filled)."""
        folder = os.path.join(self.state, "processes")
        wait_until(lambda: self.record(pid_id)["status"] != "starting"
                   and not os.path.exists(os.path.join(folder, f"{pid_id}.exit")),
                   5, "the daemon's writes after its answers")

    def no_spare(self, pid_id):
        """Removes the previous version that each record write keeps as the next one's file
        (ID.toml.tmp): without it, a full disk has no room for the next write."""
        self.settled(pid_id)
        os.unlink(os.path.join(self.state, "processes", f"{pid_id}.toml.tmp"))

    def record(self, pid_id):
        with open(os.path.join(self.state, "processes", f"{pid_id}.toml"), "rb") as f:
            return tomllib.load(f)

    def test_start_refused_with_a_clear_error_and_old_record_intact(self):
        self.start("--id", "a", "--", "sh", "-c", "exit 0")
        self.assertEqual(self.sbx_ok("wait", "a").returncode, 0)
        self.no_spare("a")
        before = self.record("a")
        self.fill()
        r = self.run("start", "--id", "a", "--", "true")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr.decode(), r"^sbx: .*No space left on device\n$")
        self.assertEqual(self.record("a"), before)
        self.assertEqual(self.status("a"), "completed")
        # With space back, the same start works.
        os.unlink(self.filler)
        self.start("--id", "a", "--", "true")

    def test_final_record_written_once_space_is_back(self):
        i = self.start("--id", "b", "--", "sleep", "300")
        self.no_spare(i)
        self.fill()
        self.sbx_ok("kill", i)
        self.assertEqual(self.status(i), "killed")  # the daemon knows, whatever the disk says
        self.assertEqual(self.record(i)["status"], "running")  # could not be written yet
        os.unlink(self.filler)
        wait_until(lambda: self.record(i)["status"] == "killed", 5, "the final record on disk")
        self.assertEqual(self.record(i)["signal"], "SIGTERM")


    def test_a_final_record_fits_in_the_file_of_the_previous_version(self):
        # Each write keeps the previous version's file for the next: on a full disk the
        # final record still reaches the disk, in place of the one it replaces.
        i = self.start("--id", "s", "--", "sleep", "300")
        self.settled(i)
        self.fill()
        self.sbx_ok("kill", i)
        self.assertEqual(self.record(i)["status"], "killed")
        self.assertEqual(self.record(i)["signal"], "SIGTERM")

    def end_on_a_full_disk(self, pid_id: str, code: int) -> str:
        """Starts `pid_id`, which exits `code` once let go; lets it go on a full disk, so the
        final record cannot be written. Returns the exit file's path, once the daemon knows
        the end: there is none, the waiter holds the status until a record does."""
        flag = os.path.join(self.home, "go")  # outside the full folder
        i = self.start("--id", pid_id, "--", "sh", "-c",
                       f"while [ ! -e {flag} ]; do sleep 0.01; done; exit {code}")
        exit_file = os.path.join(self.state, "processes", f"{i}.exit")
        self.no_spare(i)
        self.fill()
        with open(flag, "w"):
            pass
        wait_until(lambda: self.status(i) == "failed", 5, "the end")
        self.assertEqual(self.record(i)["status"], "running")  # the final record is not on disk
        self.assertTrue(pid_alive(self.record(i)["waiter_pid"]), "the waiter went before a record held its status")
        self.assertFalse(os.path.exists(exit_file), "an exit file although sbxd holds the status")
        return exit_file

    def test_a_status_unsaved_on_a_full_disk_survives_the_daemon(self):
        # The waiter holds the status until a durable record does: when the daemon dies
        # first, it writes its exit file, trying again while the disk is full, and the next
        # daemon reads it.
        exit_file = self.end_on_a_full_disk("c", 5)
        waiter = self.record("c")["waiter_pid"]
        dpid = self.daemon_pid()
        os.kill(dpid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(dpid), 5, "daemon gone")
        self.assertTrue(pid_alive(waiter), "the waiter gave up on a full disk")
        os.unlink(self.filler)
        self.assertEqual(self.run("wait", "c").returncode, 5)  # a new daemon, from the exit file
        self.assertEqual((self.record("c")["status"], self.record("c")["exit_code"]), ("failed", 5))
        # Removed once that record is fsync'd too, which follows within a fraction of a second.
        wait_until(lambda: not os.path.exists(exit_file), 2, "the exit file removed once the final record is durable")

    def test_the_waiter_goes_without_an_exit_file_once_the_retry_saved_the_final_record(self):
        exit_file = self.end_on_a_full_disk("r", 6)
        waiter = self.record("r")["waiter_pid"]
        os.unlink(self.filler)
        wait_until(lambda: self.record("r")["status"] == "failed", 5, "the final record on disk")
        self.assertEqual(self.record("r")["exit_code"], 6)
        wait_until(lambda: not pid_alive(waiter), 5, "the waiter told that the record holds the status")
        self.assertFalse(os.path.exists(exit_file))

    def test_output_written_on_a_full_disk_waits_for_space_and_is_all_kept(self):
        flag = os.path.join(self.home, "go")  # outside the full folder
        code = (f"import os, time\n"
                f"while not os.path.exists({flag!r}): time.sleep(.01)\n"
                f"for n in range(50): os.write(1, b'%05d' % n + b'x' * 4091)\n"
                f"os.write(2, b'done')\n")
        i = self.start("--id", "f", "--", PY, "-c", code)
        self.settled(i)
        self.fill()
        with open(flag, "w"):
            pass
        # The waiter cannot append: it waits for space, and the program blocks on its full pipe.
        wait_until(lambda: self.status(i) == "running" and os.path.getsize(self.filler) > 0, 2, "running")
        self.assertEqual(self.status(i), "running")
        os.unlink(self.filler)
        self.assertEqual(self.run("wait", i).returncode, 0)
        with open(os.path.join(self.state, "logs", "f.stdout"), "rb") as f:
            self.assertEqual(f.read(), b"".join(b"%05d" % n + b"x" * 4091 for n in range(50)))
        with open(os.path.join(self.state, "logs", "f.index"), "rb") as f:
            index = f.read()
        entries = [struct.unpack_from("<QQqIBBH", index, at) for at in range(0, len(index), 32)]
        self.assertEqual([e[0] for e in entries], list(range(1, len(entries) + 1)))
        out = [e for e in entries if e[4] == 1]
        self.assertEqual(sum(e[3] for e in out), 50 * 4096)

    def test_refused_start_runs_nothing(self):
        marker = os.path.join(self.home, "ran")
        self.fill()
        r = self.run("start", "--id", "d", "--", "sh", "-c", f"touch {marker}")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr.decode(), r"^sbx: cannot record 'd' before starting it: .*No space left on device\n$")
        self.assertEqual(self.run("status", "d").returncode, 3)
        self.assertFalse(os.path.exists(marker), "a start that could not be recorded ran its program")


if __name__ == "__main__":
    main()
