#!/usr/bin/env python3
"""sbx logs of several processes (ids, --session, --all): merged in write order, each line
after its id padded to the widest, colours only on a terminal, -t/--json with several, -f
until every one ended (and those started meanwhile), kept through a kill -9 of sbxd."""
import json
import os
import pty
import re
import select
import signal
import subprocess
import tempfile
import time

from harness import PY, SbxTestCase, main, pid_alive, wait_until

# Lines "L<k>" at T0 + 0.2 s * k for each k given (argv[1] = T0, argv[2] = stdout|stderr).
AT_TIMES = ("import sys,time\n"
            "t0=float(sys.argv[1]); out=getattr(sys, sys.argv[2])\n"
            "for k in map(int, sys.argv[3:]):\n"
            "    time.sleep(max(0, t0 + 0.2 * k - time.time()))\n"
            "    out.write('L%d\\n' % k); out.flush()\n")
# Numbered lines "<tag> <k>", argv[2] of them, argv[3] s apart.
NUMBERED = ("import sys,time\n"
            "for k in range(int(sys.argv[2])):\n"
            "    print('%s %05d' % (sys.argv[1], k), flush=True); time.sleep(float(sys.argv[3]))\n")
# Waits for the file argv[1], then prints "done" and ends.
UNTIL_FILE = ("import os,sys,time\n"
              "print('waiting', flush=True)\n"
              "while not os.path.exists(sys.argv[1]): time.sleep(0.02)\n"
              "print('done', flush=True)\n")
ESC = b"\x1b["


class LogsMany(SbxTestCase):
    def alternate(self, session=None):
        """Two ended processes, 'a' (stdout: L0 L2 L4) and 'worker' (stderr: L1 L3 L5),
        their lines written 0.2 s apart, alternately."""
        t0 = "%.3f" % (time.time() + 0.5)
        extra = ["--session", session] if session else []
        for i, stream, ks in (("a", "stdout", "024"), ("worker", "stderr", "135")):
            self.start("--id", i, *extra, "--", PY, "-c", AT_TIMES, t0, stream, *ks)
        for i in ("a", "worker"):
            self.sbx_ok("wait", i)

    def merged(self, *args) -> bytes:
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", *args, stdout=out, stderr=subprocess.STDOUT)
            rc, _, _ = self.finish(p, "logs " + " ".join(args), timeout=30)
            self.assertEqual(rc, 0)
            out.seek(0)
            return out.read()

    def test_two_processes_interleaved_in_write_order_with_padded_prefixes(self):
        self.alternate()
        want = b"".join(b"%s | L%d\n" % (b"a     " if k % 2 == 0 else b"worker", k) for k in range(6))
        self.assertEqual(self.merged("a", "worker"), want)
        r = self.sbx_ok("logs", "a", "worker")  # stderr lines on stderr, stdout lines on stdout
        self.assertEqual(r.stdout, b"a      | L0\na      | L2\na      | L4\n")
        self.assertEqual(r.stderr, b"worker | L1\nworker | L3\nworker | L5\n")
        self.assertEqual(self.sbx_ok("logs", "worker", "a", "--stderr").stdout,
                         b"worker | L1\nworker | L3\nworker | L5\n")
        # Per process: the last line of each.
        self.assertEqual(self.merged("a", "worker", "-n", "1"), b"a      | L4\nworker | L5\n")
        # One id alone: exactly as it wrote, no prefix.
        self.assertEqual(self.sbx_ok("logs", "a").stdout, b"L0\nL2\nL4\n")
        self.assertEqual(self.sbx_ok("logs", "worker").stderr, b"L1\nL3\nL5\n")

    def test_session_and_all(self):
        self.alternate(session="s1")
        self.start("--id", "other-one", "--session", "s2", "--", "sh", "-c", "echo x")
        self.sbx_ok("wait", "other-one")
        self.assertEqual(self.merged("--session", "s1"),
                         b"".join(b"%s | L%d\n" % (b"a     " if k % 2 == 0 else b"worker", k)
                                  for k in range(6)))
        every = self.merged("--all").splitlines()
        self.assertEqual(len(every), 7)
        self.assertIn(b"other-one | x", every)
        self.assertIn(b"a         | L0", every)
        r = self.sbx_ok("logs", "--session", "nothing-here")
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"no process in session 'nothing-here'", r.stderr)
        r = self.run("logs", "--session", "s1", "a")
        self.assertErrorLine(r, 2, "ids and --session")

    def test_follow_until_every_one_ended_with_one_started_meanwhile(self):
        flag_a, flag_b = os.path.join(self.home, "a.go"), os.path.join(self.home, "b.go")
        self.start("--id", "a", "--session", "s", "--", PY, "-c", UNTIL_FILE, flag_a)
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", "-f", "--session", "s", stdout=out, stderr=subprocess.STDOUT)

            def printed():
                out.seek(0)
                return out.read()
            wait_until(lambda: b"a | waiting\n" in printed(), 10, "a's first line")
            self.start("--id", "late", "--session", "s", "--", PY, "-c", UNTIL_FILE, flag_b)
            wait_until(lambda: b"late | waiting\n" in printed(), 10, "the line of one started meanwhile")
            open(flag_a, "w").close()
            wait_until(lambda: b"a    | done\n" in printed(), 10, "a's last line")
            self.assertStillWaiting(p, "logs -f while 'late' runs")
            open(flag_b, "w").close()
            rc, _, _ = self.finish(p, "logs -f --session", timeout=20)
            self.assertEqual(rc, 0)
            lines = printed().splitlines()
        self.assertEqual(sorted(lines), sorted([b"a | waiting", b"late | waiting", b"a    | done",
                                                b"late | done"]))
        self.assertEqual(lines[-1], b"late | done")

    def test_follow_of_ids_until_both_ended(self):
        flag = os.path.join(self.home, "go")
        self.start("--id", "quick", "--", "sh", "-c", "echo q")
        self.start("--id", "slow", "--", PY, "-c", UNTIL_FILE, flag)
        p = self.spawn("logs", "-f", "quick", "slow")
        self.sbx_ok("wait", "quick")
        self.assertStillWaiting(p, "logs -f while 'slow' runs")
        open(flag, "w").close()
        rc, out, err = self.finish(p, "logs -f quick slow")
        self.assertEqual((rc, err), (0, b""))
        self.assertEqual(out, b"quick | q\nslow  | waiting\nslow  | done\n")

    def test_follow_merges_what_was_written_before_in_write_order(self):
        flag = os.path.join(self.home, "go")
        t0 = "%.3f" % (time.time() + 0.5)
        wait_flag = "import os,time\nwhile not os.path.exists(%r): time.sleep(0.02)\n" % flag
        for i, stream, ks in (("a", "stdout", "024"), ("worker", "stderr", "135")):
            self.start("--id", i, "--", PY, "-c", AT_TIMES + wait_flag, t0, stream, *ks)
        wait_until(lambda: b"L5" in self.read_log("worker", "stderr"), 10, "the last line written")
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", "-f", "a", "worker", stdout=out, stderr=subprocess.STDOUT)
            want = b"".join(b"%s | L%d\n" % (b"a     " if k % 2 == 0 else b"worker", k)
                            for k in range(6))

            def printed():
                out.seek(0)
                return out.read()
            wait_until(lambda: len(printed()) >= len(want), 10, "what was written before")
            self.assertStillWaiting(p, "logs -f of running processes")
            open(flag, "w").close()
            rc, _, _ = self.finish(p, "logs -f a worker")
            self.assertEqual((rc, printed()), (0, want))

    def on_pty(self, *args, env_extra=None) -> bytes:
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        p = self.spawn(*args, stdout=slave, env_extra=env_extra)
        os.close(slave)
        got = b""
        while True:
            r, _, _ = select.select([master], [], [], 10)
            self.assertTrue(r, "output on the pty")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: sbx closed it
                break
            if not data:
                break
            got += data
        self.assertEqual(p.wait(timeout=10), 0)
        return got

    def test_colours_only_on_a_terminal_and_not_with_no_color(self):
        self.alternate()
        piped = self.sbx_ok("logs", "a", "worker", "--stdout").stdout
        self.assertEqual(piped, b"a      | L0\na      | L2\na      | L4\n")
        coloured = self.on_pty("logs", "a", "worker", env_extra={"TERM": "xterm"})
        self.assertIn(ESC, coloured)
        plain = re.sub(rb"\x1b\[[0-9;]*m", b"", coloured).replace(b"\r\n", b"\n")
        self.assertEqual(plain, b"a      | L0\na      | L2\na      | L4\n")
        # Each id in its own colour.
        colours = set(re.findall(rb"\x1b\[([0-9;]+)m(?:a|worker)", coloured))
        self.assertEqual(len(colours), 1)  # only 'a' on stdout here
        both = self.on_pty("logs", "a", "worker", "--stderr", env_extra={"TERM": "xterm"})
        self.assertNotEqual(re.findall(rb"\x1b\[([0-9;]+)mworker", both),
                            re.findall(rb"\x1b\[([0-9;]+)ma", coloured))
        no_color = {"TERM": "xterm", "NO_COLOR": "1"}
        self.assertNotIn(ESC, self.on_pty("logs", "a", "worker", env_extra=no_color))

    def test_timestamps_with_several(self):
        self.alternate()
        lines = self.merged("-t", "a", "worker").decode().splitlines()
        self.assertEqual(len(lines), 6)
        times = []
        for k, line in enumerate(lines):
            m = re.fullmatch(r"(a     |worker) \| (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) L(\d)", line)
            self.assertIsNotNone(m, line)
            self.assertEqual(int(m.group(3)), k)
            times.append(m.group(2))
        self.assertEqual(times, sorted(times))

    def test_json_events_carry_their_id(self):
        self.alternate()
        events = [json.loads(x) for x in self.sbx_ok("logs", "--json", "a", "worker").stdout.splitlines()]
        lines = [e for e in events if e["type"] in ("stdout", "stderr")]
        self.assertEqual([(e["id"], e["type"], e["data"]) for e in lines],
                         [("a" if k % 2 == 0 else "worker", "stdout" if k % 2 == 0 else "stderr",
                           "L%d\n" % k) for k in range(6)])
        self.assertEqual([e["time"] for e in lines], sorted(e["time"] for e in lines))
        exits = [e for e in events if e["type"] == "exit"]
        self.assertEqual(sorted((e["id"], e["exit_code"]) for e in exits), [("a", 0), ("worker", 0)])

    def test_an_unknown_id_is_exit_3(self):
        self.start("--id", "a", "--", "sh", "-c", "echo x")
        self.sbx_ok("wait", "a")
        r = self.run("logs", "a", "nope")
        self.assertErrorLine(r, 3, "logs a nope")
        self.assertIn(b"nope", r.stderr)
        self.assertErrorLine(self.run("logs", "-f", "nope", "a"), 3, "logs -f nope a")

    def test_kill_9_of_sbxd_while_following_several(self):
        n = 150
        for tag in ("one", "two"):
            self.start("--id", tag, "--", PY, "-c", NUMBERED, tag, str(n), "0.02")
        with tempfile.TemporaryFile() as out:
            p = self.spawn("logs", "-f", "one", "two", stdout=out, stderr=subprocess.STDOUT)
            wait_until(lambda: os.path.getsize(self.logfile("two", "stdout")) > 200, 10, "output begun")
            pid = self.daemon_pid()
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5, "sbxd killed")
            rc, _, _ = self.finish(p, "logs -f across kill -9", timeout=40)
            out.seek(0)
            followed = out.read().splitlines()
        self.assertEqual(rc, 0)
        for tag, pad in ((b"one", b"one"), (b"two", b"two")):
            mine = [ln for ln in followed if ln.startswith(pad + b" | ")]
            self.assertEqual(mine, [b"%s | %s %05d" % (pad, tag, k) for k in range(n)],
                             "every line of %s once, in order" % tag.decode())
        self.assertEqual(len(followed), 2 * n)


if __name__ == "__main__":
    main()
