#!/usr/bin/env python3
"""sbx logs -f: live and ended processes, -n, stream filters, --json events with exit
codes and signals, UTF-8 handling, followers that leave early, many concurrent followers."""
import json
import os
import re
import select
import subprocess
import tempfile
import time

from harness import PY, SBX, SbxTestCase, main, pid_alive, wait_until

EVENT_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

# print lines argv[2]..argv[3]-1 to stdout, wait for the go-file argv[1],
# print lines argv[3]..argv[4]-1, exit with argv[5]
TWO_PHASES = ("import os,sys,time\n"
              "go,a,b,c,code=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]),int(sys.argv[5])\n"
              "for k in range(a,b): sys.stdout.write('line %d\\n' % k);sys.stdout.flush()\n"
              "while not os.path.exists(go): time.sleep(0.01)\n"
              "for k in range(b,c): sys.stdout.write('line %d\\n' % k);sys.stdout.flush();time.sleep(0.005)\n"
              "sys.exit(code)\n")


def lines(a: int, b: int) -> bytes:
    return b"".join(b"line %d\n" % k for k in range(a, b))


def read_until(f, needle: bytes, timeout: float = 10.0) -> bytes:
    """Read from the pipe f (raw fd reads) until needle was seen; return what was read."""
    fd = f.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"did not see {needle!r} within {timeout}s; got {buf[-300:]!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"EOF before {needle!r}; got {buf[-300:]!r}")
            buf += chunk
    return buf


def read_rest(f, timeout: float = 20.0) -> bytes:
    fd = f.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no EOF within {timeout}s; got {buf[-300:]!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                return buf
            buf += chunk


class FollowCase(SbxTestCase):
    def go_file(self) -> str:
        return os.path.join(self.home, "go")

    def follow(self, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.Popen:
        return self.spawn("logs", *args, stdout=stdout, stderr=stderr)

    def events(self, out: bytes) -> list[dict]:
        evs = [json.loads(ln) for ln in out.decode().splitlines() if ln.strip()]
        self.assertTrue(evs, "no events")
        for e in evs[:-1]:
            self.assertIn(e.get("type"), ("stdout", "stderr"), e)
            self.assertIsInstance(e.get("data"), str, e)
            self.assertRegex(e.get("time", ""), EVENT_TIME_RE)
        self.assertEqual(evs[-1].get("type"), "exit", evs[-1])
        return evs

    @staticmethod
    def joined(evs, stream) -> str:
        return "".join(e["data"] for e in evs if e.get("type") == stream)


class Live(FollowCase):
    def test_follow_live_process(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", TWO_PHASES, go, 0, 10, 60, 0)
        p = self.follow("-f", i)
        # output so far arrives while the process is still running
        got = read_until(p.stdout, b"line 9\n")
        self.assertEqual(got, lines(0, 10))
        self.assertIsNone(p.poll(), "logs -f returned while the process was running")
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "logs -f returned while the process was running")
        open(go, "w").close()
        got += read_rest(p.stdout)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(got, lines(0, 60))
        self.assertEqual(p.stderr.read(), b"")
        self.assertEqual(self.status(i), "completed")
        self.assertEqual(got, self.read_log(i))

    def test_follow_returns_zero_for_a_failing_process(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", TWO_PHASES, go, 0, 3, 6, 5)
        p = self.follow("-f", i)
        read_until(p.stdout, b"line 2\n")
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out, lines(3, 6))
        self.assertEqual(self.status(i), "failed")

    def test_follow_both_streams_and_filters(self):
        go = self.go_file()
        code = ("import os,sys,time\n"
                "for k in range(5):\n"
                "    sys.stdout.write('out %d\\n' % k);sys.stdout.flush()\n"
                "    sys.stderr.write('err %d\\n' % k);sys.stderr.flush()\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                "sys.stdout.write('out end');sys.stderr.write('err end')\n")
        i = self.start("--", PY, "-c", code, go)
        both = self.follow("-f", i)
        only_out = self.follow("-f", "--stdout", i)
        only_err = self.follow("-f", "--stderr", i)
        read_until(both.stdout, b"out 4\n")
        read_until(both.stderr, b"err 4\n")
        open(go, "w").close()
        exp_out = b"".join(b"out %d\n" % k for k in range(5)) + b"out end"
        exp_err = b"".join(b"err %d\n" % k for k in range(5)) + b"err end"
        o, e = only_out.communicate(timeout=20)
        self.assertEqual((only_out.returncode, o, e), (0, exp_out, b""))
        o, e = only_err.communicate(timeout=20)
        self.assertEqual((only_err.returncode, o, e), (0, exp_err, b""))  # alone, on stdout
        rest_out = read_rest(both.stdout)
        self.assertEqual(both.wait(timeout=10), 0)
        self.assertTrue(exp_out.endswith(rest_out), rest_out)
        self.assertEqual(self.read_log(i, "stdout"), exp_out)
        self.assertEqual(self.read_log(i, "stderr"), exp_err)

    def test_follow_is_byte_exact(self):
        blob = bytes(range(256)) * 64 + b"\xff\xfe no newline at the end \x00"
        go = self.go_file()
        code = ("import os,sys,time\n"
                "d=bytes.fromhex(sys.argv[2])\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                "for k in range(0,len(d),777): sys.stdout.buffer.write(d[k:k+777]);sys.stdout.flush();time.sleep(0.002)\n")
        i = self.start("--", PY, "-c", code, go, blob.hex())
        p = self.follow("-f", "--stdout", i)
        self.wait_clients(1)
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertTrue(out == blob, f"binary follow output differs ({len(out)} vs {len(blob)} bytes)")


class Ended(FollowCase):
    def test_follow_ended_process_returns_at_once(self):
        i = self.start("--", PY, "-c", "import sys;print('a');print('b');sys.stderr.write('c\\n');sys.exit(2)")
        self.assertEqual(self.run("wait", i).returncode, 2)
        t0 = time.monotonic()
        r = self.run("logs", "-f", i, timeout=10)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"a\nb\n", b"c\n"))
        self.assertLess(time.monotonic() - t0, 3)
        t0 = time.monotonic()
        r = self.run("logs", "-f", "--json", i, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        evs = self.events(r.stdout)
        self.assertEqual((self.joined(evs, "stdout"), self.joined(evs, "stderr")), ("a\nb\n", "c\n"))
        self.assertEqual((evs[-1]["status"], evs[-1]["exit_code"]), ("failed", 2))
        self.assertLess(time.monotonic() - t0, 3)

    def test_follow_error_record(self):
        r = self.run("start", "--id", "e", "--", "/nonexistent/sbx-e2e")
        self.assertEqual(r.returncode, 1)
        r = self.run("logs", "-f", "e", timeout=10)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        r = self.run("logs", "-f", "--json", "e", timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        evs = self.events(r.stdout)
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[-1]["status"], "error")

    def test_follow_unknown_id(self):
        self.assertErrorLine(self.run("logs", "-f", "nosuch", timeout=10), 3, "logs -f nosuch")


class Tail(FollowCase):
    def test_n_with_follow_live(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", TWO_PHASES, go, 1, 11, 13, 0)
        wait_until(lambda: self.read_log(i) == lines(1, 11), 5, "first ten lines")
        p = self.follow("-f", "-n", 3, i)
        got = read_until(p.stdout, b"line 10\n")
        self.assertEqual(got, lines(8, 11))
        self.assertIsNone(p.poll())
        open(go, "w").close()
        got += read_rest(p.stdout)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(got, lines(8, 13))

    def test_n_zero_with_follow_prints_only_new_output(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", TWO_PHASES, go, 0, 5, 8, 0)
        wait_until(lambda: self.read_log(i) == lines(0, 5), 5, "first lines")
        p = self.follow("-f", "-n", 0, i)
        self.wait_clients(1)
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual((p.returncode, out), (0, lines(5, 8)), err)

    def test_n_with_follow_ended(self):
        i = self.start("--", PY, "-c", "for k in range(10): print('line %d' % k)")
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.run("logs", "-f", "-n", "2", i, timeout=10)
        self.assertEqual((r.returncode, r.stdout), (0, lines(8, 10)), r.stderr)


class Json(FollowCase):
    def test_json_exit_code(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", TWO_PHASES, go, 0, 2, 4, 7)
        p = self.follow("-f", "--json", i)
        out = read_until(p.stdout, b"line 1")
        open(go, "w").close()
        out += read_rest(p.stdout)
        self.assertEqual(p.wait(timeout=10), 0, p.stderr.read())
        evs = self.events(out)
        self.assertEqual(self.joined(evs, "stdout"), lines(0, 4).decode())
        self.assertEqual(evs[-1], {"type": "exit", "status": "failed", "exit_code": 7})

    def test_json_completed(self):
        i = self.start("--", PY, "-c", "print('fine')")
        r = self.run("logs", "-f", "--json", i, timeout=15)
        self.assertEqual(r.returncode, 0, r.stderr)
        evs = self.events(r.stdout)
        self.assertEqual(self.joined(evs, "stdout"), "fine\n")
        self.assertEqual(evs[-1], {"type": "exit", "status": "completed", "exit_code": 0})

    def test_json_signal_self(self):
        code = "import os,signal,sys,time\nprint('bye',flush=True)\ntime.sleep(0.3)\nos.kill(os.getpid(),signal.SIGTERM)"
        i = self.start("--", PY, "-c", code)
        r = self.run("logs", "-f", "--json", i, timeout=15)
        self.assertEqual(r.returncode, 0, r.stderr)
        evs = self.events(r.stdout)
        self.assertEqual(self.joined(evs, "stdout"), "bye\n")
        self.assertEqual(evs[-1], {"type": "exit", "status": "killed", "signal": "SIGTERM"})

    def test_json_killed_while_following(self):
        i = self.start("echo up; exec sleep 300")
        p = self.follow("-f", "--json", i)
        read_until(p.stdout, b'"up\\n"')
        self.assertIsNone(p.poll())
        self.sbx_ok("kill", i)
        out, err = p.communicate(timeout=15)
        self.assertEqual(p.returncode, 0, err)
        evs = self.events(out)
        self.assertEqual(evs[-1], {"type": "exit", "status": "killed", "signal": "SIGTERM"})

    def test_json_replaces_invalid_utf8_plain_mode_exact(self):
        raw = b"ok \xff\xfe end\n" + "h\u00e9llo \u2603 \U0001F600\n".encode()
        i = self.start("--", PY, "-c", "import sys;sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))", raw.hex())
        self.assertEqual(self.run("wait", i).returncode, 0)
        r = self.run("logs", "-f", "--json", i, timeout=15)
        self.assertEqual(r.returncode, 0, r.stderr)
        data = self.joined(self.events(r.stdout), "stdout")
        self.assertTrue(data.startswith("ok \ufffd"), repr(data))
        self.assertTrue(data.endswith(" end\nh\u00e9llo \u2603 \U0001F600\n"), repr(data))
        self.assertNotIn("\udcff", data)
        r = self.run("logs", "-f", i, timeout=15)
        self.assertEqual((r.returncode, r.stdout), (0, raw))

    def test_json_keeps_utf8_split_across_writes(self):
        # valid UTF-8 whose characters are cut by the writes must not be replaced
        text = "".join("\u2603\u00e9\U0001F600 %d\n" % k for k in range(3000))
        blob = text.encode()
        go = self.go_file()
        code = ("import os,sys,time\n"
                "d=open(sys.argv[2],'rb').read()\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                "for k in range(0,len(d),1001): sys.stdout.buffer.write(d[k:k+1001]);sys.stdout.flush();time.sleep(0.001)\n")
        src = os.path.join(self.home, "utf8")
        with open(src, "wb") as f:
            f.write(blob)
        i = self.start("--", PY, "-c", code, go, src)
        p = self.follow("-f", "--json", i)
        self.wait_clients(1)
        open(go, "w").close()
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        data = self.joined(self.events(out), "stdout")
        self.assertNotIn("\ufffd", data)
        self.assertTrue(data == text, f"json data differs: {len(data)} vs {len(text)} chars")


CHATTY_UNTIL_GO = ("import os,sys,time\n"
                   "k=0\n"
                   "while not os.path.exists(sys.argv[1]):\n"
                   "    sys.stdout.write('tick %d\\n' % k);sys.stdout.flush();k+=1;time.sleep(0.005)\n"
                   "sys.stdout.write('end\\n')\n")


class Disconnect(FollowCase):
    def test_follower_that_leaves_early(self):
        go = self.go_file()
        i = self.start("--", PY, "-c", CHATTY_UNTIL_GO, go)
        daemon = self.ensure_daemon()
        quitters = [self.follow("-f", i) for _ in range(4)]
        for q in quitters:
            read_until(q.stdout, b"tick 5\n")
        quitters[0].kill()                       # SIGKILL: the socket just closes
        quitters[1].terminate()                  # SIGTERM
        quitters[2].send_signal(2)               # SIGINT, as ^C
        quitters[3].kill()
        for q in quitters:
            q.wait(timeout=10)
        wait_until(lambda: self.daemon_sockets(daemon) <= 1, 10, "the daemon dropped the followers")
        self.assertTrue(pid_alive(daemon), "daemon died after followers left")
        self.assertEqual(self.daemon_pid(), daemon)
        r = self.sbx_ok("ps", "-q")
        self.assertIn(i.encode(), r.stdout.split())
        self.assertEqual(self.status(i), "running")
        # a second follower, attached after they left, gets everything
        second = self.follow("-f", i)
        got = read_until(second.stdout, b"tick 1\n")
        self.assertTrue(got.startswith(b"tick 0\ntick 1\n"), got[:50])
        time.sleep(0.2)
        open(go, "w").close()
        got += read_rest(second.stdout)
        self.assertEqual(second.wait(timeout=10), 0)
        log = self.read_log(i)
        self.assertTrue(log.endswith(b"end\n"), log[-50:])
        self.assertEqual(len(got), len(log))
        self.assertTrue(got == log, "second follower's output differs from the log")
        self.assertTrue(pid_alive(daemon))
        self.assertEqual(self.status(i), "completed")

    def test_follower_whose_reader_goes_away(self):
        # `sbx logs -f ID | head -2`: once the reader has gone, the follower must end
        # (as tail -f does), not keep following a live process into a closed pipe
        go = self.go_file()
        i = self.start("--", PY, "-c", CHATTY_UNTIL_GO, go)
        daemon = self.ensure_daemon()
        p = self.follow("-f", i, stderr=subprocess.DEVNULL)
        read_until(p.stdout, b"tick 2\n")
        p.stdout.close()
        p.stdout = None
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.fail("sbx logs -f kept running for 5 s after its stdout reader went away "
                      "(the process is still writing)")
        finally:
            open(go, "w").close()
        self.assertTrue(pid_alive(daemon))
        self.sbx_ok("ps")
        r = self.run("logs", "-f", i, timeout=15)
        self.assertEqual((r.returncode, r.stdout), (0, self.read_log(i)))

    def test_reader_that_goes_away_while_the_process_is_quiet(self):
        # `sbx logs -f ID | head -1` of a process that prints once and then sleeps: sbx
        # notices the closed pipe at once (as GNU tail does), exits as SIGPIPE would (141)
        # and the daemon drops the follower
        i = self.start("echo one; sleep 300")
        wait_until(lambda: self.read_log(i) == b"one\n", 10, "the line written")
        daemon = self.ensure_daemon()
        idle = 1  # its listener
        wait_until(lambda: self.daemon_sockets(daemon) == idle, 5, "no client left")
        for pipeline in ("{sbx} logs -f {i} | head -1", "{sbx} logs -f {i} --json | head -1",
                         "{sbx} logs -f {i} | grep -m1 one"):
            cmd = "set -o pipefail; " + pipeline.format(sbx=f"'{SBX}'", i=i)
            p = subprocess.Popen(["bash", "-c", cmd], env=self.env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.popens.append(p)
            rc, out, err = self.finish(p, pipeline, timeout=10)
            self.assertEqual((rc, err), (141, b""), pipeline)
            self.assertIn(b"one", out)
            wait_until(lambda: self.daemon_sockets(daemon) == idle, 5, "the daemon dropped the follower")
        self.assertEqual(self.status(i), "running")
        self.assertTrue(pid_alive(daemon))

    def test_reader_gone_before_any_output(self):
        # nothing was ever written: the reader's going is noticed all the same
        i = self.start("--", "sleep", "300")
        r, w = os.pipe()
        p = self.spawn("logs", "-f", i, stdout=w)
        os.close(w)
        self.assertStillWaiting(p, "logs -f with a reader")
        os.close(r)
        rc, out, err = self.finish(p, "logs -f after its reader went away", timeout=10)
        self.assertIn(rc, (-13, 141), err)  # killed by SIGPIPE, or exited as if
        self.assertEqual(err, b"")


class Many(FollowCase):
    def test_twenty_followers_of_a_chatty_process(self):
        # ~2 MB in 20,000 numbered lines of 100 bytes, written in 100 batches over ~1 s
        go = self.go_file()
        code = ("import os,sys,time\n"
                "while not os.path.exists(sys.argv[1]): time.sleep(0.005)\n"
                "w=sys.stdout.buffer\n"
                "for b in range(100):\n"
                "    w.write(b''.join(b'%07d ' % (b*200+k) + b'x'*91 + b'\\n' for k in range(200)));w.flush()\n"
                "    time.sleep(0.01)\n")
        expected = b"".join(b"%07d " % n + b"x" * 91 + b"\n" for n in range(20000))
        self.assertEqual(len(expected), 2_000_000)
        i = self.start("--", PY, "-c", code, go)
        outs, procs = [], []
        for k in range(20):
            f = tempfile.TemporaryFile(dir=self.home)
            outs.append(f)
            if k == 10:
                open(go, "w").close()            # half attach before the output, half during it
                time.sleep(0.2)
            procs.append(self.follow("-f", i, stdout=f, stderr=subprocess.PIPE))
        for k, p in enumerate(procs):
            try:
                _, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.fail(f"follower {k} did not return")
            self.assertEqual(p.returncode, 0, f"follower {k}: {err!r}")
        self.assertEqual(self.read_log(i), expected)
        for k, f in enumerate(outs):
            f.seek(0)
            got = f.read()
            f.close()
            self.assertTrue(got == expected, f"follower {k} got {len(got)} bytes, differs from the log")


if __name__ == "__main__":
    main()
