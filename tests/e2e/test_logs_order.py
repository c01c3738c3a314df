#!/usr/bin/env python3
"""sbx logs through ID.index: the true order of stdout and stderr, write times (-t, --json),
--since/--until, -n of the merged view; kept through a kill -9 of sbxd and a log-cap cut."""
import json
import os
import signal
import subprocess
import tempfile
from datetime import datetime, timezone

from harness import PY, SbxTestCase, main, pid_alive, prog, wait_until

# o1 e1 o2 e2, alternating stdout and stderr, each written once the relay read the last.
ORDER = ["o:o1", "e:e1", "o:o2", "e:e2"]
# Numbered lines, alternating stdout and stderr, flushed one by one: argv[1] lines, a pause
# of argv[2] seconds between them.
ALTERNATE = ("import sys,time\n"
             "n=int(sys.argv[1]); pause=float(sys.argv[2])\n"
             "for k in range(n):\n"
             "    s = sys.stdout if k % 2 == 0 else sys.stderr\n"
             "    s.write('%08d %s\\n' % (k, 'x' * int(sys.argv[3]) if len(sys.argv) > 3 else 'line'))\n"
             "    s.flush()\n"
             "    if pause: time.sleep(pause)\n")


def assert_write_order(case, numbers: list[int], window: int = 1):
    """Lines in the order they were written, but for lines that arrived in the same poll
    round of the relay (stdout is read first there): a line comes after every line more
    than `window` before it. What one round can hold is what the pipes held: a starved
    relay finds up to 64 KiB in each."""
    highest = -1
    for k in numbers:
        case.assertGreaterEqual(k, highest - window, f"line {k} after line {highest}")
        highest = max(highest, k)


def ts(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 UTC time (microseconds kept)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


class LogsOrder(SbxTestCase):
    def merged(self, *args, timeout=30) -> bytes:
        """sbx logs ARGS with stderr into the same file as stdout (2>&1)."""
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", *args, stdout=out, stderr=subprocess.STDOUT)
            rc, _, _ = self.finish(p, "sbx logs", timeout=timeout)
            out.seek(0)
            data = out.read()
        self.assertEqual(rc, 0, data[-300:])
        return data

    def ended(self, *start_args) -> tuple[str, dict]:
        i = self.start(*start_args)
        self.sbx_ok("wait", i)
        return i, self.show(i)

    def stamped(self, *args) -> list[tuple[float, str]]:
        out = self.merged("-t", *args).decode()
        lines = []
        for ln in out.splitlines():
            t, _, text = ln.partition(" ")
            lines.append((ts(t), text))
        return lines

    def test_true_order_with_2_to_1(self):
        i, _ = self.ended("--", *prog("in_order"), *ORDER)
        self.assertEqual(self.merged(i), b"o1\ne1\no2\ne2\n")
        # Each stream still goes to its own fd, and alone to stdout.
        r = self.sbx_ok("logs", i)
        self.assertEqual((r.stdout, r.stderr), (b"o1\no2\n", b"e1\ne2\n"))
        self.assertEqual(self.sbx_ok("logs", i, "--stderr").stdout, b"e1\ne2\n")

    def test_follow_prints_in_true_order(self):
        # What was written before the follower came, then what is written while it follows.
        go = os.path.join(self.home, "go")
        i = self.start("--", *prog("in_order"), *ORDER, f"wait:{go}", "o:o3", "e:e3", "o:o4")
        wait_until(lambda: self.read_log(i, "stderr") == b"e1\ne2\n", 10, "the first lines written")
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", "-f", i, stdout=out, stderr=subprocess.STDOUT)
            self.wait_clients(1)
            open(go, "w").close()
            rc, _, _ = self.finish(p, "logs -f", timeout=20)
            out.seek(0)
            self.assertEqual((rc, out.read()), (0, b"o1\ne1\no2\ne2\no3\ne3\no4\n"))

    def test_tail_is_of_the_merged_view(self):
        i, _ = self.ended("--", *prog("in_order"), *ORDER)
        self.assertEqual(self.merged("-n", "2", i), b"o2\ne2\n")
        self.assertEqual(self.merged("-n", "3", i), b"e1\no2\ne2\n")
        self.assertEqual(self.merged("-n", "0", i), b"")
        self.assertEqual(self.merged("-n", "1", "--stdout", i), b"o2\n")

    def test_timestamps_are_write_times_within_the_run(self):
        i, rec = self.ended("--", "sh", "-c", "echo first; sleep 1; echo second >&2; sleep .2; printf 'no newline'")
        lines = self.stamped(i)
        self.assertEqual([t for _, t in lines], ["first", "second", "no newline"])
        start, end = ts(rec["start_time"]), ts(rec["end_time"])
        for t, text in lines:  # the record's times are to the millisecond
            self.assertGreaterEqual(t, start, text)
            self.assertLessEqual(t, end + 0.001, text)
        self.assertGreaterEqual(lines[1][0] - lines[0][0], 0.9, "written 1 s apart")

    def test_no_run_starts_after_its_first_output(self):
        # A program that writes as soon as it runs: its start time is taken before it can.
        for k in range(30):
            i, rec = self.ended("--", "echo", f"at-once-{k}")
            [(t, text)] = self.stamped(i)
            self.assertEqual(text, f"at-once-{k}")
            self.assertGreaterEqual(t, ts(rec["start_time"]), f"run {k}: {rec['start_time']}")

    def test_a_line_split_over_writes_takes_the_time_of_its_first_byte(self):
        code = "import sys,time\nsys.stdout.write('be');sys.stdout.flush();time.sleep(1);print('gun')\n"
        i, _ = self.ended("--", PY, "-c", code)
        out = self.merged("-t", i).decode()
        stamp, _, text = out.partition(" ")
        self.assertEqual(text, "begun\n")
        lines = self.stamped(i)
        self.assertLess(lines[0][0], ts(self.show(i)["end_time"]) - 0.5, "the time of 'be', not of 'gun'")

    def test_since_and_until(self):
        i, _ = self.ended("--", "sh", "-c", "echo early; echo early2 >&2; sleep 1.2; echo late; echo late2 >&2")
        lines = self.stamped(i)
        self.assertEqual(len(lines), 4)
        between = datetime.fromtimestamp((lines[1][0] + lines[2][0]) / 2, timezone.utc)
        mid = between.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.assertEqual(self.merged("--since", mid, i), b"late\nlate2\n")
        self.assertEqual(self.merged("--until", mid, i), b"early\nearly2\n")
        # The exact write time of a line takes it in, from both ends.
        first = datetime.fromtimestamp(lines[0][0], timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.assertEqual(self.merged("--until", first, i), b"early\n")
        # Durations ago.
        self.assertEqual(self.merged("--since", "10m", i), b"early\nearly2\nlate\nlate2\n")
        self.assertEqual(self.merged("--until", "1h", i), b"")
        self.assertEqual(self.merged("--since", "2h", "--until", mid, "--stderr", i), b"early2\n")
        self.assertEqual(self.merged("-f", "--since", mid, i), b"late\nlate2\n")
        for bad in ("yesterday", "10x", "2026-12-01"):
            r = self.run("logs", "--since", bad, i)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertTrue(r.stderr.startswith(b"sbx: ") and b"--since" in r.stderr, r.stderr)
            self.assertEqual(r.stdout, b"")

    def test_json_replay_has_write_times_and_whole_lines(self):
        code = ("import sys,time\n"
                "w=sys.stdout.write\n"
                "w('par');sys.stdout.flush();time.sleep(.2);w('tial\\n');sys.stdout.flush()\n"
                "sys.stderr.write('err\\n');sys.stderr.flush();time.sleep(.1)\n"
                "w('L'*100000+'\\n');sys.stdout.flush();time.sleep(.1)\n"
                "w('end')\n")
        i, rec = self.ended("--", PY, "-c", code)
        for args in ((i,), ("-f", i)):
            r = self.sbx_ok("logs", "--json", *args)
            evs = [json.loads(ln) for ln in r.stdout.decode().splitlines()]
            self.assertEqual(evs[-1]["type"], "exit")
            out = evs[:-1]
            start, end = ts(rec["start_time"]), ts(rec["end_time"])
            for e in out:
                self.assertGreaterEqual(ts(e["time"]), start)
                self.assertLessEqual(ts(e["time"]), end + 0.001, "written before it ended")
            self.assertEqual((out[0]["type"], out[0]["data"]), ("stdout", "partial\n"))
            self.assertNotIn("partial", out[0])
            self.assertEqual((out[1]["type"], out[1]["data"]), ("stderr", "err\n"))
            big = [e for e in out if e["data"].startswith("L")]
            self.assertEqual("".join(e["data"] for e in big), "L" * 100000 + "\n")
            self.assertGreater(len(big), 1)
            self.assertTrue(all(e.get("partial") is True for e in big[:-1]))
            self.assertNotIn("partial", big[-1])
            self.assertEqual(out[-1]["data"], "end")
            self.assertNotIn("partial", out[-1])

    def test_order_and_times_survive_kill9_of_the_daemon(self):
        n = 50
        i = self.start("--", PY, "-c", ALTERNATE, str(n), "0.05")
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", "-f", i, stdout=out, stderr=subprocess.STDOUT)
            wait_until(lambda: os.path.getsize(self.logfile(i, "stdout")) > 100, 10, "output begun")
            pid = self.daemon_pid()
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")
            rc, _, _ = self.finish(p, "logs -f across kill -9", timeout=30)
            out.seek(0)
            followed = out.read()
        want = [b"%08d line" % k for k in range(n)]
        self.assertEqual(rc, 0)
        self.assertEqual(sorted(followed.splitlines()), want, "every line once")
        assert_write_order(self, [int(ln[:8]) for ln in followed.splitlines()])
        self.sbx_ok("wait", i)
        self.assertEqual(self.merged(i), followed)
        times = [t for t, _ in self.stamped(i)]
        self.assertEqual(times, sorted(times))
        self.assertGreater(times[-1] - times[0], n * 0.05 * 0.5)

    def test_order_and_times_survive_a_log_cap_cut(self):
        n = 400  # 1.6 MB over both streams against a 128 KiB cap
        i, rec = self.ended("--log-max", "128K", "--", PY, "-c", ALTERNATE, str(n), "0.004", "4000")
        self.assertGreater(rec.get("dropped_stdout", 0), 0, "the cap cut")
        data = self.merged(i)
        numbers = [int(ln[:8]) for ln in data.split(b"\n")[1:-1] if ln[:8].isdigit()]
        self.assertEqual(numbers[-1], n - 1)
        self.assertGreater(len(numbers), 20)
        # 4000-byte lines: a pipe holds 16 of them, so one round may hold 2 x 16.
        assert_write_order(self, numbers, window=2 * (65536 // 4000) + 1)
        stamped = self.stamped(i)
        times = [t for t, _ in stamped]
        self.assertEqual(times, sorted(times))
        self.assertEqual(stamped[-1][1][:8], "%08d" % (n - 1))

    def test_a_record_without_an_index_reads_as_before(self):
        # A run logged before ID.index existed: both streams whole, no made-up times.
        i, _ = self.ended("--", *prog("in_order"), *ORDER)
        os.unlink(os.path.join(os.path.dirname(self.logfile(i, "stdout")), f"{i}.index"))
        r = self.sbx_ok("logs", i)
        self.assertEqual((r.stdout, r.stderr), (b"o1\no2\n", b"e1\ne2\n"))
        self.assertEqual(self.sbx_ok("logs", "-t", "--stdout", i).stdout, b"- o1\n- o2\n")
        self.assertEqual(self.sbx_ok("logs", "-n", "1", "--stderr", i).stdout, b"e2\n")
        self.assertEqual(self.sbx_ok("logs", "-f", "--stdout", i).stdout, b"o1\no2\n")

    def test_bytes_the_index_does_not_cover_are_printed(self):
        # The waiter was killed between a write and its entry: the entry is missing, not the bytes.
        i, _ = self.ended("--", "sh", "-c", "echo one; sleep .1; echo two")
        index = os.path.join(os.path.dirname(self.logfile(i, "stdout")), f"{i}.index")
        with open(index, "r+b") as f:
            f.truncate(os.path.getsize(index) - 32)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"one\ntwo\n")
        self.assertEqual(self.sbx_ok("logs", "-f", i).stdout, b"one\ntwo\n")
        lines = self.stamped(i)
        self.assertEqual([t for _, t in lines], ["one", "two"])


if __name__ == "__main__":
    main()
