#!/usr/bin/env python3
"""sbx logs: separate streams, byte-exact output, -n, -f."""
import json
import os
import subprocess
import time

from harness import PY, SBX, SbxTestCase, main, wait_until

WRITER = ("import sys;"
          "sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]));sys.stdout.buffer.flush();"
          "sys.stderr.buffer.write(bytes.fromhex(sys.argv[2]));sys.stderr.buffer.flush()")


class ByteExact(SbxTestCase):
    def emit(self, out: bytes, err: bytes) -> str:
        i = self.start("--", PY, "-c", WRITER, out.hex(), err.hex())
        self.assertEqual(self.run("wait", i).returncode, 0)
        return i

    def test_binary_streams_kept_apart(self):
        out = b"\x00\xff\x01out\r\nline two\x00\xfe\xfd no newline"
        err = b"err\x00\xff\x80\n\nlast"
        i = self.emit(out, err)
        r = self.sbx_ok("logs", i)
        self.assertEqual(r.stdout, out)
        self.assertEqual(r.stderr, err)
        r = self.sbx_ok("logs", i, "--stdout")
        self.assertEqual((r.stdout, r.stderr), (out, b""))
        r = self.sbx_ok("logs", i, "--stderr")  # one stream alone goes to stdout
        self.assertEqual((r.stdout, r.stderr), (err, b""))
        self.assertEqual(self.read_log(i, "stdout"), out)
        self.assertEqual(self.read_log(i, "stderr"), err)

    def test_every_byte_value_and_large_output(self):
        blob = bytes(range(256)) * 4096 + os.urandom(300_000)  # ~1.3 MB
        code = ("import sys;d=open(sys.argv[1],'rb').read();"
                "[sys.stdout.buffer.write(d[k:k+4093]) for k in range(0,len(d),4093)]")
        src = os.path.join(self.home, "blob")
        with open(src, "wb") as f:
            f.write(blob)
        i = self.start("--", PY, "-c", code, src)
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.sbx_ok("logs", i, "--stdout")
        self.assertEqual(len(r.stdout), len(blob))
        self.assertTrue(r.stdout == blob, "large binary output differs")

    def test_empty_output(self):
        i = self.start("--", "true")
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.sbx_ok("logs", i)
        self.assertEqual((r.stdout, r.stderr), (b"", b""))

    def test_logs_of_running_process(self):
        i = self.start("echo ready; echo warn >&2; exec sleep 300")
        wait_until(lambda: self.read_log(i) == b"ready\n" and self.read_log(i, "stderr") == b"warn\n",
                   5, "output in the log files")
        r = self.sbx_ok("logs", i)
        self.assertEqual((r.stdout, r.stderr), (b"ready\n", b"warn\n"))
        self.assertEqual(self.status(i), "running")

    def test_error_record_has_empty_logs(self):
        r = self.run("start", "--id", "e", "--", "/nonexistent/sbx-e2e")
        self.assertEqual(r.returncode, 1)
        r = self.sbx_ok("logs", "e")
        self.assertEqual((r.stdout, r.stderr), (b"", b""))


class Tail(SbxTestCase):
    def test_last_lines_without_trailing_newline(self):
        i = self.start("--", PY, "-c", WRITER, b"1\n2\n3\n4\n5".hex(), b"a\nb\nc\n".hex())
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.sbx_ok("logs", i, "-n", "2")  # of the merged view: stderr was written last
        self.assertEqual((r.stdout, r.stderr), (b"", b"b\nc\n"))
        r = self.sbx_ok("logs", i, "-n", "4")
        self.assertEqual((r.stdout, r.stderr), (b"5", b"a\nb\nc\n"))
        r = self.sbx_ok("logs", i, "-n", "1", "--stdout")
        self.assertEqual((r.stdout, r.stderr), (b"5", b""))
        r = self.sbx_ok("logs", i, "-n", "1", "--stderr")
        self.assertEqual((r.stdout, r.stderr), (b"c\n", b""))
        r = self.sbx_ok("logs", i, "-n", "100")
        self.assertEqual((r.stdout, r.stderr), (b"1\n2\n3\n4\n5", b"a\nb\nc\n"))
        r = self.sbx_ok("logs", i, "-n", "5", "--stdout")
        self.assertEqual(r.stdout, b"1\n2\n3\n4\n5")

    def test_last_lines_with_trailing_newline_and_blank_lines(self):
        i = self.start("--", PY, "-c", WRITER, b"x\n\n\ny\n".hex(), b"".hex())
        self.assertEqual(self.run("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i, "-n", "2", "--stdout").stdout, b"\ny\n")
        self.assertEqual(self.sbx_ok("logs", i, "-n", "3", "--stdout").stdout, b"\n\ny\n")

    def test_tail_of_big_log(self):
        code = "import sys\nfor k in range(200000): sys.stdout.write('line %d\\n' % k)"
        i = self.start("--", PY, "-c", code)
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.sbx_ok("logs", i, "-n", "3", "--stdout")
        self.assertEqual(r.stdout, b"line 199997\nline 199998\nline 199999\n")

    def test_bad_count_is_usage_error(self):
        i = self.start("--", "true")
        self.assertErrorLine(self.run("logs", i, "-n", "abc"), 2, "logs -n abc")
        self.assertErrorLine(self.run("logs", i, "-n", "-3"), 2, "logs -n -3")


class Follow(SbxTestCase):
    def test_follow_until_exit(self):
        # the child writes, waits for a go-file from the test, writes again, exits 3
        go = os.path.join(self.home, "go")
        code = ("import os,sys,time\n"
                "sys.stdout.write('first\\n');sys.stdout.flush()\n"
                "sys.stderr.write('e1\\n');sys.stderr.flush()\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                "sys.stdout.write('second');sys.stdout.flush();sys.exit(3)\n")
        i = self.start("--", PY, "-c", code, go)
        p = self.spawn("logs", "-f", i)
        wait_until(lambda: self.read_log(i) == b"first\n", 5, "first line")
        self.assertIsNone(p.poll(), "logs -f returned while the process was running")
        open(go, "w").close()
        out, err = p.communicate(timeout=15)
        self.assertEqual(out, b"first\nsecond")
        self.assertEqual(err, b"e1\n")
        self.assertEqual(self.status(i), "failed")

    def test_follow_ended_process_returns_at_once(self):
        i = self.start("--", "echo", "done")
        self.assertEqual(self.run("wait", i).returncode, 0)
        t0 = time.monotonic()
        r = self.sbx_ok("logs", "-f", i, timeout=10)
        self.assertEqual(r.stdout, b"done\n")
        self.assertLess(time.monotonic() - t0, 5)

    def test_follow_json(self):
        i = self.start("printf 'a\\n'; printf 'b' >&2; printf 'c\\n'; exit 4")
        r = self.sbx_ok("logs", "-f", "--json", i, timeout=15)
        events = [json.loads(ln) for ln in r.stdout.decode().splitlines() if ln.strip()]
        self.assertGreaterEqual(len(events), 3)
        out = "".join(e["data"] for e in events if e.get("type") == "stdout")
        err = "".join(e["data"] for e in events if e.get("type") == "stderr")
        self.assertEqual((out, err), ("a\nc\n", "b"))
        for e in events[:-1]:
            self.assertIn(e["type"], ("stdout", "stderr"))
            self.assertIn("time", e)
        self.assertEqual(events[-1].get("type"), "exit")
        self.assertEqual(events[-1].get("status"), "failed")
        self.assertEqual(events[-1].get("exit_code"), 4)


class OneStream(SbxTestCase):
    """A stream asked for alone is printed on stdout, so a pipe sees it (as pm2 logs --err
    and journalctl do); both streams keep their own fds."""

    def test_stderr_alone_reaches_a_pipe(self):
        i = self.start("echo out-x; echo err-x >&2; echo err-y >&2")
        self.assertEqual(self.run("wait", i).returncode, 0)
        for args, want in ((["--stderr"], b"err-x\n"), (["--stdout"], b"out-x\n"), (["-f", "--stderr"], b"err-x\n"),
                           (["-n", "1", "--stderr"], b"")):
            sh = subprocess.run(["sh", "-c", f"'{SBX}' logs {i} {' '.join(args)} | grep x"], env=self.env,
                                stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
            self.assertEqual((sh.returncode, sh.stdout, sh.stderr), (0 if want else 1, want, b""), args)
        r = self.sbx_ok("logs", i)
        self.assertEqual((r.stdout, r.stderr), (b"out-x\n", b"err-x\nerr-y\n"))
        r = self.sbx_ok("logs", i, "-f", "--stderr")
        self.assertEqual((r.stdout, r.stderr), (b"err-x\nerr-y\n", b""))


if __name__ == "__main__":
    main()
