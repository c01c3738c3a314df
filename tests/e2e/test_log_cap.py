"""Bounded logs: --log-max keeps the newest output, counts what it dropped, loses nothing new."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import PY, SbxTestCase, main, wait_until

# Writes N numbered lines of 100 bytes each to stdout (and a few to stderr), flushing as it goes.
WRITER = (
    "import sys\n"
    "n = int(sys.argv[1])\n"
    "for i in range(n):\n"
    "    sys.stdout.write(f'{i:08d} ' + 'x' * 90 + '\\n')\n"
    "    if i % 1000 == 0: sys.stdout.flush()\n"
    "sys.stdout.flush()\n"
    "sys.stderr.write('done\\n')\n"
)


class LogCap(SbxTestCase):
    def lines(self, data: bytes) -> list[int]:
        """The line numbers of the complete lines in data (the first may be cut by the trim)."""
        out = []
        for line in data.split(b"\n")[1:-1]:
            out.append(int(line[:8]))
        return out

    def test_keeps_newest_output_and_counts_the_rest(self):
        n = 20000  # 2,000,000 bytes against a 256 KiB cap
        i = self.start("--log-max", "256K", "--", PY, "-c", WRITER, str(n))
        self.assertEqual(self.sbx_ok("wait", i).returncode, 0)
        rec = self.show(i)
        self.assertEqual(rec["log_max"], 256 * 1024)
        kept = self.sbx_ok("logs", i, "--stdout").stdout
        total = n * 100
        self.assertLessEqual(len(kept), 256 * 1024, "within the cap once the process ended")
        self.assertGreater(len(kept), 64 * 1024, "keeps about the newest half of the cap")
        self.assertEqual(rec.get("dropped_stdout", 0) + len(kept), total, "every byte is kept or counted")
        numbers = self.lines(kept)
        self.assertEqual(numbers[-1], n - 1, "the newest line is there")
        self.assertEqual(numbers, list(range(numbers[0], n)), "the kept lines are contiguous, none lost")
        self.assertEqual(os.path.getsize(self.logfile(i, "stdout")), len(kept))
        self.assertNotIn("dropped_stderr", rec)  # stderr stayed under its cap
        self.assertEqual(self.sbx_ok("logs", i, "--stderr").stdout, b"done\n")  # alone, on stdout

    def test_follower_sees_a_contiguous_stream_while_the_log_is_trimmed(self):
        n = 20000
        i = self.start("--log-max", "128K", "--", "sh", "-c", f"sleep 0.5; exec {PY} -c \"$0\" {n}", WRITER)
        r = self.sbx_ok("logs", "-f", i, "--stdout", timeout=60)
        numbers = [int(line[:8]) for line in r.stdout.split(b"\n")[:-1] if line[:8].isdigit()]
        # A follower that keeps up sees everything. One that lags (a loaded machine) loses
        # what the cap cut before it was read, and says how much: never a silent gap.
        self.assertEqual(numbers[-1], n - 1)
        lost = self.dropped_notices(r.stderr, i)
        self.assertEqual(len(r.stdout) + lost, n * 100, "every byte printed or reported lost")
        if not lost:
            self.assertEqual(numbers, list(range(0, n)))

    def dropped_notices(self, stderr: bytes, i: str) -> int:
        lost = 0
        for line in stderr.decode().splitlines():
            m = re.fullmatch(rf"sbx: (\d+) bytes of {i}'s stdout were dropped by its log cap "
                             r"\(--log-max\) before they could be printed", line)
            self.assertIsNotNone(m, line)
            lost += int(m.group(1))
        return lost

    def test_a_stalled_follower_says_how_much_the_cap_cut(self):
        n = 50000  # 5 MB: more than the pipe, the socket and the daemon's queue hold
        gate = os.path.join(self.home, "gate")
        os.mkfifo(gate)
        i = self.start("--log-max", "128K", "--", "sh", "-c", f"cat \"$1\" >/dev/null; exec {PY} -c \"$0\" {n}",
                       WRITER, gate)
        follower = self.spawn("logs", "-f", i, "--stdout")
        self.wait_clients(1)
        with open(gate, "w"):
            pass
        self.assertEqual(self.run("wait", i, "--timeout", "60s").returncode, 0)
        # Nobody read the follower's pipe until now: it lagged far behind the cap's cuts.
        rc, out, err = self.finish(follower, "logs -f", timeout=60)
        self.assertEqual(rc, 0, err)
        lost = self.dropped_notices(err, i)
        self.assertGreater(lost, 0, "the gap is reported")
        self.assertEqual(len(out) + lost, n * 100, "every byte printed or reported lost")
        self.assertEqual(out[-100:-92], b"%08d" % (n - 1), "the newest line is there")
        self.assertEqual(self.show(i)["dropped_stdout"] + len(self.sbx_ok("logs", i, "--stdout").stdout), n * 100)

    def test_a_stalled_json_follower_gets_a_dropped_event(self):
        n = 50000
        gate = os.path.join(self.home, "gate")
        os.mkfifo(gate)
        i = self.start("--log-max", "128K", "--", "sh", "-c", f"cat \"$1\" >/dev/null; exec {PY} -c \"$0\" {n}",
                       WRITER, gate)
        follower = self.spawn("logs", "-f", "--json", i, "--stdout")
        self.wait_clients(1)
        with open(gate, "w"):
            pass
        self.assertEqual(self.run("wait", i, "--timeout", "60s").returncode, 0)
        rc, out, err = self.finish(follower, "logs -f --json", timeout=60)
        self.assertEqual((rc, err), (0, b""))
        events = [json.loads(line) for line in out.splitlines()]
        drops = [e for e in events if e["type"] == "dropped"]
        self.assertTrue(drops)
        self.assertTrue(all(e["stream"] == "stdout" and e["bytes"] > 0 for e in drops), drops)
        printed = sum(len(e["data"]) for e in events if e["type"] == "stdout")
        self.assertEqual(printed + sum(e["bytes"] for e in drops), n * 100)
        self.assertEqual(events[-1]["type"], "exit")

    def test_unbounded_with_zero(self):
        n = 5000
        i = self.start("--log-max", "0", "--", PY, "-c", WRITER, str(n))
        self.sbx_ok("wait", i)
        self.assertEqual(len(self.sbx_ok("logs", i, "--stdout").stdout), n * 100)
        rec = self.show(i)
        self.assertEqual(rec["log_max"], 0)
        self.assertNotIn("dropped_stdout", rec)

    def test_bad_sizes_are_usage_errors(self):
        for bad in ("5Q", "-1", "10K", "", "1.5M"):
            r = self.run("start", "--log-max", bad, "--", "true")
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertTrue(r.stderr.startswith(b"sbx: "), r.stderr)


# Prints "go", waits until the fifo argv[1] is opened for writing, then writes argv[2] MB
# of numbered 9-byte lines and exits.
FLOOD = (
    "import sys\n"
    "print('go', flush=True)\n"
    "open(sys.argv[1]).close()\n"
    "out = sys.stdout\n"
    "for i in range(int(sys.argv[2]) * 1000000 // 9):\n"
    "    out.write(f'{i:08d}\\n')\n"
    "out.flush()\n"
)


@unittest.skipUnless(os.path.isdir("/dev/shm"), "needs /dev/shm")
class LogCapPunchedHoles(SbxTestCase):
    """On tmpfs a cap punches a hole (no collapse): a lagging reader must skip it."""

    def setUp(self):
        super().setUp()
        shutil.rmtree(self.home, ignore_errors=True)
        self.home = tempfile.mkdtemp(prefix="sbx", dir="/dev/shm")  # removed by the teardown
        self.env["SBX_HOME"] = self.home

    def test_a_lagging_follower_never_prints_bytes_the_process_did_not_write(self):
        fifo = os.path.join(self.home, "go")
        os.mkfifo(fifo)
        mb = 20
        i = self.start("--log-max", "64K", "--", PY, "-c", FLOOD, fifo, str(mb))
        follower = self.spawn("logs", "-f", i, "--stdout")
        self.assertEqual(follower.stdout.readline(), b"go\n")
        # The follower is reading; it reads no more until the process has written it all.
        with open(fifo, "w"):
            pass
        self.assertEqual(self.run("wait", i, "--timeout", "60s").returncode, 0)
        rec = self.show(i)
        self.assertGreater(rec.get("dropped_stdout", 0), mb * 1000000 // 2, "the cap dropped most of it")
        rc, out, err = self.finish(follower, "logs -f", timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.count(b"\0"), 0, "NUL bytes the process never wrote")
        lines = out.split(b"\n")
        self.assertEqual(lines[-1], b"")
        last = mb * 1000000 // 9 - 1
        self.assertEqual(lines[-2], b"%08d" % last, "the newest line is there")
        # Where the reader skipped dropped bytes a line may be cut; every other line is one
        # the process wrote, in order.
        numbers = [int(x) for x in lines[:-1] if len(x) == 8 and x.isdigit()]
        self.assertEqual(numbers, sorted(set(numbers)))
        # A cut can fall just before a newline: the piece of that line left is empty.
        self.assertTrue(all(len(x) <= 8 and (x.isdigit() or x == b"") for x in lines[:-1]),
                        "only digits and newlines")


if __name__ == "__main__":
    main()
