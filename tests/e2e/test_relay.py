#!/usr/bin/env python3
"""sbx-shim relays the program's output: byte-exact logs and ID.index, the order and write
time of every chunk (common/log_index.hpp), across runs, daemon loss, stragglers and caps."""
import os
import signal
import struct
import time
import tomllib

from harness import PY, SbxTestCase, main, pid_alive, wait_until

ENTRY = struct.Struct("<QQqIBBH")  # seq, offset, time_ns, length, stream, version, reserved
assert ENTRY.size == 32
STREAMS = {1: "stdout", 2: "stderr"}


class RelayCase(SbxTestCase):
    def index(self, i: str) -> list[tuple]:
        path = os.path.join(self.home, "state", "logs", f"{i}.index")
        self.assertTrue(os.path.exists(path), f"no index at {path}")
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(len(data) % ENTRY.size, 0, "the index holds whole entries")
        return [ENTRY.unpack_from(data, at) for at in range(0, len(data), ENTRY.size)]

    def record(self, i: str) -> dict:
        with open(os.path.join(self.home, "state", "processes", f"{i}.toml"), "rb") as f:
            return tomllib.load(f)

    def assert_tiles(self, i: str, entries=None) -> list[tuple]:
        """The written entries: seq 1, 2, 3 ... and, per stream, chunks that tile the bytes the
        file holds (from the logical offset the caps moved it by) with no gap or overlap."""
        entries = self.index(i) if entries is None else entries
        written = [e for e in entries if e[0] != 0]  # a punched hole reads as zeros
        for e in written:
            self.assertEqual(e[5], 1, f"version of {e}")
            self.assertEqual(e[6], 0, f"reserved of {e}")
            self.assertIn(e[4], STREAMS, f"stream of {e}")
            self.assertGreater(e[3], 0, f"length of {e}")
        seqs = [e[0] for e in written]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))) if seqs else [], "seq in order, none missing")
        rec = self.record(i)
        for stream, name in STREAMS.items():
            chunks = [e for e in written if e[4] == stream]
            size = os.path.getsize(self.logfile(i, name))
            end = rec.get(f"collapsed_{name}", 0) + size
            for a, b in zip(chunks, chunks[1:]):
                self.assertEqual(a[1] + a[3], b[1], f"{name}: chunk {b} does not follow {a}")
            if chunks:
                self.assertEqual(chunks[-1][1] + chunks[-1][3], end, f"{name}: the last chunk ends the file")
            else:
                self.assertEqual(size, 0, f"{name}: bytes without an entry")
        return written

    def chunks(self, i: str) -> list[tuple[int, bytes]]:
        """(stream, bytes) of every entry, in index order (no cap: file offset = logical)."""
        data = {s: self.read_log(i, n) for s, n in STREAMS.items()}
        return [(e[4], data[e[4]][e[1]:e[1] + e[3]]) for e in self.assert_tiles(i)]


class Relay(RelayCase):
    def test_bytes_are_exact_and_the_index_tiles_them(self):
        code = ("import os, sys\n"
                "os.write(1, bytes(range(256)) + b'\\0\\r\\n\\0no newline')\n"
                "os.write(2, b'\\xff\\xfe\\0err\\r')\n"
                "os.write(1, b'\\x00' * 70000)\n")
        t0 = time.time_ns()
        i = self.run_py(code)
        self.assertEqual(self.sbx_ok("wait", i).returncode, 0)
        t1 = time.time_ns()
        self.assertEqual(self.read_log(i, "stdout"), bytes(range(256)) + b"\0\r\n\0no newline" + b"\0" * 70000)
        self.assertEqual(self.read_log(i, "stderr"), b"\xff\xfe\0err\r")
        entries = self.assert_tiles(i)
        self.assertEqual(entries[0][0], 1, "a first run's index starts at seq 1")
        for e in entries:
            self.assertTrue(t0 <= e[2] <= t1, f"write time of {e} within the run")

    def test_true_order_of_stdout_and_stderr(self):
        i = self.start("--", "sh", "-c", "echo o1; sleep .1; echo e1 >&2; sleep .1; echo o2; sleep .1; echo e2 >&2")
        self.sbx_ok("wait", i)
        self.assertEqual(self.chunks(i), [(1, b"o1\n"), (2, b"e1\n"), (1, b"o2\n"), (2, b"e2\n")])

    def test_write_times_one_second_apart(self):
        i = self.start("--", "sh", "-c", "echo a; sleep 1; echo b >&2")
        self.sbx_ok("wait", i)
        entries = self.assert_tiles(i)
        self.assertEqual([e[4] for e in entries], [1, 2])
        self.assertGreaterEqual(entries[1][2] - entries[0][2], 0.9e9, "written a second apart")

    def test_a_second_run_goes_on_with_seq_and_offsets(self):
        i = self.start("--restart", "on-failure", "--max-restarts", "1", "--",
                       "sh", "-c", "echo out; echo err >&2; exit 1")
        wait_until(lambda: self.show(i).get("restarts") == 1 and self.show(i)["status"] == "failed", 10,
                   "the second run ended")
        self.assertEqual(self.read_log(i, "stdout"), b"out\nout\n")
        entries = self.assert_tiles(i)
        self.assertEqual([e[0] for e in entries], [1, 2, 3, 4])
        self.assertEqual([(e[4], e[1]) for e in entries], [(1, 0), (2, 0), (1, 4), (2, 4)])

    def test_a_new_start_of_an_id_starts_the_index_afresh(self):
        i = self.start("--id", "again", "--", "sh", "-c", "echo first")
        self.sbx_ok("wait", i)
        self.start("--id", "again", "--", "sh", "-c", "echo second")
        self.sbx_ok("wait", i)
        self.assertEqual(self.chunks(i), [(1, b"second\n")])
        self.assertEqual(self.index(i)[0][0], 1)

    def test_all_output_is_in_the_files_when_wait_returns(self):
        code = "import os\nfor n in range(64): os.write(1, b'%06d' % n + b'.' * 65530)\nos.write(2, b'bye')\n"
        i = self.run_py(code)
        self.sbx_ok("wait", i)
        # Read at once: nothing may still be on its way.
        entries = self.index(i)
        self.assertEqual(os.path.getsize(self.logfile(i, "stdout")), 64 * 65536)
        self.assertEqual(self.read_log(i, "stderr"), b"bye")
        self.assert_tiles(i, entries)

    def test_stragglers_output_is_appended_and_indexed(self):
        i = self.start("--", "sh", "-c", "(sleep 1; echo late) & echo early")
        self.sbx_ok("wait", i)
        self.assertEqual(self.show(i)["status"], "completed")
        wait_until(lambda: self.read_log(i, "stdout") == b"early\nlate\n", 10, "the straggler's line")
        wait_until(lambda: len(self.index(i)) == 2, 5, "its index entry")
        self.assertEqual(self.chunks(i), [(1, b"early\n"), (1, b"late\n")])

    def test_a_restart_stops_the_last_runs_straggler_relay_and_the_index_stays_whole(self):
        i = self.start("--restart", "always", "--max-restarts", "2", "--",
                       "sh", "-c", "(for n in 1 2 3 4 5 6 7 8 9 10; do sleep .1; echo tick; done) & echo run")
        wait_until(lambda: self.show(i).get("restarts") == 2 and self.show(i)["status"] == "completed", 15,
                   "the third run ended")
        time.sleep(1.5)  # the last run's straggler ticks on, then ends
        self.assert_tiles(i)
        self.assertEqual(self.read_log(i, "stdout").count(b"run\n"), 3)

    def check_new_start_stops_the_old_straggler_relay(self, lose_daemon: bool):
        ticks = "(for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do sleep .1; echo tick; done) & echo run"
        i = self.start("--id", "s", "--", "sh", "-c", ticks)
        self.sbx_ok("wait", i)
        wait_until(lambda: b"tick" in self.read_log(i, "stdout"), 5, "the straggler's first tick")
        if lose_daemon:  # the next daemon learns of the relay from the record
            pid = self.daemon_pid()
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")
        self.start("--id", "s", "--", "sh", "-c", "echo again")
        self.sbx_ok("wait", i)
        time.sleep(2)  # the old straggler would have ticked on by now
        self.assertEqual(self.read_log(i, "stdout"), b"again\n")
        self.assertEqual(self.chunks(i), [(1, b"again\n")])

    def test_a_new_start_of_an_id_stops_its_last_runs_straggler_relay(self):
        self.check_new_start_stops_the_old_straggler_relay(False)

    def test_a_new_start_after_kill_9_of_sbxd_stops_the_last_runs_straggler_relay(self):
        self.check_new_start_stops_the_old_straggler_relay(True)

    def test_kill_9_of_sbxd_mid_output_loses_nothing(self):
        code = ("import os, sys, time\n"
                "for n in range(300):\n"
                "    os.write(1, b'line %d\\n' % n)\n"
                "    if n % 50 == 0: os.write(2, b'mark %d\\n' % n)\n"
                "    time.sleep(.005)\n")
        i = self.run_py(code)
        wait_until(lambda: len(self.read_log(i, "stdout")) > 0, 5, "some output")
        pid = self.daemon_pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")
        self.assertEqual(self.sbx_ok("wait", i, timeout=30).returncode, 0)
        self.assertEqual(self.read_log(i, "stdout"), b"".join(b"line %d\n" % n for n in range(300)))
        self.assertEqual(self.read_log(i, "stderr"), b"".join(b"mark %d\n" % n for n in range(0, 300, 50)))
        self.assert_tiles(i)

    def test_a_log_cap_cuts_the_index_but_keeps_every_entry_of_a_kept_byte(self):
        # Each write waits until the relay has read it (the pipe is empty again), so that
        # every write is an entry however loaded the machine is (a relay that lags reads many
        # writes at once: one entry).
        code = ("import fcntl, os, struct, termios, time\n"
                "def put(fd, data):\n"
                "    os.write(fd, data)\n"
                "    while struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD, b'0000'))[0]:\n"
                "        time.sleep(.0005)\n"
                "for n in range(600): put(1, b'%08d ' % n + b'x' * 991)\n"
                "put(2, b'done')\n"
                "for n in range(100): put(1, b'%08d ' % n + b'y' * 991)\n")
        i = self.run_py(code, start_args=("--log-max", "64K"))
        self.sbx_ok("wait", i)
        rec = self.record(i)
        self.assertGreater(rec.get("dropped_stdout", 0), 0, "the cap cut stdout")
        path = os.path.join(self.home, "state", "logs", f"{i}.index")
        entries = [e for e in self.index(i) if e[0] != 0]
        self.assertGreater(entries[0][0], 1, "the oldest entries were cut with their bytes")
        self.assertEqual(entries[0][0] % 128, 1, "cut in whole blocks of 128 entries")
        seqs = [e[0] for e in entries]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "what is left is in order")
        for stream, name in STREAMS.items():
            log = self.logfile(i, name)
            with open(log, "rb") as f:
                try:
                    hole = os.lseek(f.fileno(), 0, os.SEEK_DATA)
                except OSError:
                    hole = os.path.getsize(log)
            first_kept = rec.get(f"collapsed_{name}", 0) + hole
            end = rec.get(f"collapsed_{name}", 0) + os.path.getsize(log)
            chunks = [e for e in entries if e[4] == stream]
            if first_kept == end:
                continue
            self.assertLessEqual(chunks[0][1], first_kept, f"{name}: the first kept byte has its entry")
            for a, b in zip(chunks, chunks[1:]):
                self.assertEqual(a[1] + a[3], b[1], f"{name}: chunk {b} does not follow {a}")
            self.assertEqual(chunks[-1][1] + chunks[-1][3], end, f"{name}: the last kept byte has its entry")

    def test_removing_a_record_removes_its_index(self):
        i = self.start("--", "sh", "-c", "echo x")
        self.sbx_ok("wait", i)
        path = os.path.join(self.home, "state", "logs", f"{i}.index")
        self.assertTrue(os.path.exists(path))
        self.sbx_ok("rm", i)
        self.assertFalse(os.path.exists(path))


class Tty(RelayCase):
    def test_stdout_is_a_terminal_stderr_apart_and_the_bytes_exact(self):
        code = ("import os, sys\n"
                "os.write(1, b'%d %d\\n' % (os.isatty(1), os.isatty(2)))\n"
                "os.write(1, b'a\\nb\\r\\n\\0c')\n"
                "os.write(2, b'err\\n')\n")
        i = self.start("--tty", "--", PY, "-c", code)
        self.assertEqual(self.sbx_ok("wait", i).returncode, 0)
        self.assertEqual(self.read_log(i, "stdout"), b"1 0\na\nb\r\n\0c", "no CR added, nothing changed")
        self.assertEqual(self.read_log(i, "stderr"), b"err\n")
        self.assert_tiles(i)
        self.assertIn(b"tty = true", self.sbx_ok("show", i).stdout)

    def test_an_unflushed_python_print_is_seen_by_wait_log(self):
        i = self.start("--tty", "--", PY, "-c", "import time; print('ready'); time.sleep(60)",
                       env_remove=("PYTHONUNBUFFERED",))
        r = self.run("wait-log", i, "ready", "--timeout", "20s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read_log(i, "stdout"), b"ready\n")
        self.sbx_ok("kill", i)

    def test_the_window_is_80x24_unless_tty_size_says(self):
        code = "import os; print(tuple(os.get_terminal_size()))"
        i = self.start("--tty", "--", PY, "-c", code)
        j = self.start("--tty", "--tty-size", "132x50", "--", PY, "-c", code)
        self.sbx_ok("wait", i)
        self.sbx_ok("wait", j)
        self.assertEqual(self.read_log(i, "stdout"), b"(80, 24)\n")
        self.assertEqual(self.read_log(j, "stdout"), b"(132, 50)\n")

    def test_the_terminal_is_the_controlling_one(self):
        # /dev/tty opens only for a process that has a controlling terminal.
        i = self.start("--tty", "--", "sh", "-c", "echo via-dev-tty >/dev/tty")
        self.assertEqual(self.sbx_ok("wait", i).returncode, 0)
        self.assertEqual(self.read_log(i, "stdout"), b"via-dev-tty\n")

    def test_bad_tty_sizes_are_usage_errors(self):
        for args, what in ((("--tty-size", "80x24"), "goes with --tty"),
                           (("--tty", "--tty-size", "80"), "COLSxROWS"),
                           (("--tty", "--tty-size", "0x24"), "COLSxROWS")):
            r = self.run("start", *args, "--", "true")
            self.assertErrorLine(r, 2, what)
            self.assertIn(what.encode(), r.stderr)


if __name__ == "__main__":
    main()
