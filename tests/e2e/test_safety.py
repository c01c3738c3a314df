#!/usr/bin/env python3
"""Safety of the daemon against hostile or careless clients: protocol version and unknown
ops, memory bound on oversized frames, a flood of abandoned connections (no fd leak),
clients of another uid, a socket path over the system limit.  Complements the hostile
frames of test_daemon.py (garbage, 0xFFFFFFFF lengths, invalid JSON, stalled clients)."""
import json
import os
import shutil
import socket
import struct
import subprocess
import threading

from harness import frame, parse_frames, PY, SbxTestCase, main, pid_alive, wait_until

HELLO, REQUEST, RESPONSE, EVENT, DATA, END = 1, 2, 3, 4, 5, 6
MAX_CONTROL = 1 << 20
MAX_REQUEST = 16 << 20  # a start request carries the whole environment
NOBODY = 65534


def hello(proto: int = 1) -> bytes:
    return frame(HELLO, json.dumps({"proto": proto, "client": "e2e", "pid": os.getpid()}).encode())


def request(op: str, args: dict | None = None) -> bytes:
    return frame(REQUEST, json.dumps({"op": op, "args": args or {}}).encode())


def proc_status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# Run as another uid: connect, send HELLO + REQUEST ps, read to EOF; print a JSON verdict.
FOREIGN_CLIENT = r"""
import json, os, socket, struct, sys
path = sys.argv[1]
out = {"uid": os.getuid()}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(path)
except OSError as e:
    out["connect_errno"] = e.errno
    print(json.dumps(out)); sys.exit(0)
out["connected"] = True
def frame(kind, payload):
    return struct.pack(">IBBH", len(payload), kind, 0, 0) + payload
try:
    s.sendall(frame(1, json.dumps({"proto": 1, "client": "intruder"}).encode()))
    s.sendall(frame(2, json.dumps({"op": "ps", "args": {}}).encode()))
except OSError as e:
    out["send_errno"] = e.errno
got = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            out["closed"] = True
            break
        got += chunk
except ConnectionResetError:
    out["closed"] = True
except socket.timeout:
    out["closed"] = False
out["received"] = got.hex()
print(json.dumps(out))
"""


class SafetyCase(SbxTestCase):
    def responses(self, data: bytes, what: str) -> list[dict]:
        out = []
        for kind, payload in parse_frames(data):
            if kind in (RESPONSE, END):
                try:
                    out.append(json.loads(payload))
                except ValueError:
                    self.fail(f"{what}: reply frame that is not JSON: {payload[:100]!r}")
        return out

    def assert_alive_and_serving(self, dpid, what):
        self.assertTrue(pid_alive(dpid), f"daemon died after {what}")
        r = self.run("ps", timeout=10)
        self.assertEqual(r.returncode, 0, f"ps after {what}: {r.stderr!r}")
        self.assertEqual(self.daemon_pid(), dpid, f"daemon replaced after {what}")

    def daemon_log(self) -> bytes:
        try:
            with open(os.path.join(self.home, "state", "sbxd.log"), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""


class ProtocolHostility(SafetyCase):
    def test_wrong_protocol_version(self):
        dpid = self.ensure_daemon()
        for proto, follow in ((99, b""), (99, request("ps")), (0, request("ps")), (2, b"")):
            what = f"HELLO proto {proto}" + (" + REQUEST ps" if follow else "")
            s = self.raw_connect()
            self.send_quietly(s, hello(proto) + follow)
            got = self.read_until_closed(s, what)
            replies = self.responses(got, what)
            self.assertTrue(replies, f"{what}: no RESPONSE before the close; got {got[:200]!r}")
            self.assertFalse(any(r.get("ok") is True for r in replies), f"{what}: served anyway: {replies}")
            err = replies[0]
            self.assertIs(err.get("ok"), False, f"{what}: {err}")
            self.assertEqual(err.get("error", {}).get("code"), "protocol", f"{what}: {err}")
            self.assertTrue(err["error"].get("message"), f"{what}: error without a message: {err}")
            self.assert_alive_and_serving(dpid, what)

    def test_hello_without_proto(self):
        dpid = self.ensure_daemon()
        for payload in (b"{}", b'{"proto":"1"}', b'{"proto":1.5}', b'{"proto":-1}'):
            s = self.raw_connect()
            self.send_quietly(s, frame(HELLO, payload) + request("ps"))
            got = self.read_until_closed(s, f"HELLO {payload!r}")
            replies = self.responses(got, f"HELLO {payload!r}")
            self.assertFalse(any(r.get("ok") is True for r in replies),
                             f"HELLO {payload!r} was served: {replies}")
            self.assert_alive_and_serving(dpid, f"HELLO {payload!r}")

    def test_unknown_op_gets_error_reply(self):
        dpid = self.ensure_daemon()
        for body in ({"op": "no-such-op", "args": {}}, {"op": "", "args": {}}, {"op": 17, "args": {}},
                     {"args": {}}, {"op": "show"}, {"op": "show", "args": {"id": 5}}):
            what = f"REQUEST {body}"
            s = self.raw_connect()
            self.send_quietly(s, hello() + frame(REQUEST, json.dumps(body).encode()))
            got = self.read_until_closed(s, what)
            replies = self.responses(got, what)
            self.assertTrue(replies, f"{what}: no reply; got {got[:200]!r}")
            r = replies[-1]
            self.assertIs(r.get("ok"), False, f"{what}: {r}")
            self.assertIsInstance(r.get("error"), dict, f"{what}: {r}")
            self.assertIsInstance(r["error"].get("code"), str, f"{what}: {r}")
            self.assertTrue(r["error"].get("message"), f"{what}: {r}")
            self.assert_alive_and_serving(dpid, what)

    def test_args_must_be_an_object(self):
        # a REQUEST whose args is not an object is malformed, not an argument-less request
        dpid = self.ensure_daemon()
        for body in ({"op": "ps", "args": "not an object"}, {"op": "ps", "args": [1]},
                     {"op": "kill", "args": "all"}):
            what = f"REQUEST {body}"
            s = self.raw_connect()
            self.send_quietly(s, hello() + frame(REQUEST, json.dumps(body).encode()))
            replies = self.responses(self.read_until_closed(s, what), what)
            self.assertTrue(replies, f"{what}: no reply")
            self.assertIs(replies[-1].get("ok"), False, f"{what}: {replies[-1]}")
            self.assert_alive_and_serving(dpid, what)

    def test_request_before_hello_is_not_served(self):
        dpid = self.ensure_daemon()
        s = self.raw_connect()
        self.send_quietly(s, request("ps"))
        got = self.read_until_closed(s, "REQUEST without HELLO")
        self.assertFalse(any(r.get("ok") is True for r in self.responses(got, "REQUEST without HELLO")),
                         "a REQUEST without a HELLO was served")
        self.assert_alive_and_serving(dpid, "REQUEST without HELLO")

    def test_client_only_kinds_from_client(self):
        # RESPONSE/EVENT/DATA/END are daemon -> client only; sent by a client they are refused
        dpid = self.ensure_daemon()
        for kind in (RESPONSE, EVENT, DATA, END, 0, 7, 255):
            what = f"frame kind {kind} after HELLO"
            s = self.raw_connect()
            self.send_quietly(s, hello() + frame(kind, b'{"ok":true}'))
            got = self.read_until_closed(s, what)
            self.assertFalse(any(r.get("ok") is True for r in self.responses(got, what)), what)
            self.assert_alive_and_serving(dpid, what)

    def test_oversized_frames_do_not_grow_the_daemon(self):
        dpid = self.ensure_daemon()
        self.wait_clients(0)
        rss0 = proc_status_kb(dpid, "VmRSS")
        hwm0 = proc_status_kb(dpid, "VmHWM")
        blob = b"{" + b"x" * (MAX_CONTROL + 1024)
        failures = []

        def hostile(k):
            try:
                s = self.raw_connect(timeout=10)
                kind = (HELLO, REQUEST)[k % 2]
                lead = hello() if kind == REQUEST else b""
                limit = MAX_REQUEST if kind == REQUEST else MAX_CONTROL
                length = (limit + 1, limit * 4, 0x7FFFFFFF)[k % 3]
                self.send_quietly(s, lead + frame(kind, b"", length=length))
                # keep pushing the promised bytes: the daemon must not buffer them
                for off in range(0, len(blob), 65536):
                    try:
                        s.sendall(blob[off:off + 65536])
                    except OSError:
                        break
                got = b""
                try:
                    while True:
                        c = s.recv(65536)
                        if not c:
                            break
                        got += c
                except (ConnectionResetError, socket.timeout):
                    pass
                s.close()
                reps = [json.loads(p) for kd, p in parse_frames(got) if kd == RESPONSE]
                if not any(r.get("ok") is False for r in reps):
                    failures.append(f"conn {k} (kind {kind}, length {length}): no error reply, got {got[:100]!r}")
            except Exception as e:  # noqa: BLE001
                failures.append(f"conn {k}: {type(e).__name__}: {e}")

        threads = [threading.Thread(target=hostile, args=(k,)) for k in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        self.assert_alive_and_serving(dpid, "24 oversized frames")
        rss1 = proc_status_kb(dpid, "VmRSS")
        hwm1 = proc_status_kb(dpid, "VmHWM")
        limit = max(rss0, hwm0) + 20 * 1024
        self.assertLess(hwm1, limit, f"daemon peak RSS grew from {rss0} kB (peak {hwm0}) to {hwm1} kB")
        self.assertLess(rss1, rss0 + 20 * 1024, f"daemon RSS grew from {rss0} kB to {rss1} kB")

    def test_data_frame_over_its_limit(self):
        dpid = self.ensure_daemon()
        s = self.raw_connect()
        self.send_quietly(s, hello() + frame(DATA, b"", length=(64 << 10) + 1, flags=1) + b"x" * 70000)
        got = self.read_until_closed(s, "DATA frame over 64 KiB")
        self.assertFalse(any(r.get("ok") is True for r in self.responses(got, "DATA frame")))
        self.assert_alive_and_serving(dpid, "a DATA frame over 64 KiB")


class ConnectionFlood(SafetyCase):
    def test_200_abandoned_connections(self):
        dpid = self.ensure_daemon()
        # A start first: from then on the daemon holds its spare waiter's socket.
        self.assertEqual(self.run("wait", self.start("--", "true"), timeout=10).returncode, 0)
        self.wait_clients(0)
        base = fd_count(dpid)
        socks = []
        try:
            for _ in range(200):
                s = self.raw_connect()
                socks.append(s)
            for k, s in enumerate(socks):
                self.send_quietly(s, hello()[:4] if k % 2 == 0 else frame(REQUEST, b"{}", length=100)[:4])
            # still serving while they hang
            self.assert_alive_and_serving(dpid, "200 half-open connections")
            i = self.start("--", "echo", "still here")
            self.assertEqual(self.run("wait", i, timeout=10).returncode, 0)
        finally:
            for s in socks:
                s.close()
        self.assert_alive_and_serving(dpid, "closing 200 connections")
        try:
            wait_until(lambda: fd_count(dpid) <= base, 5, "fd count back to baseline")
        except AssertionError:
            self.fail(f"daemon fd count {fd_count(dpid)} did not return to the baseline {base}")

    def test_connect_and_close_storm(self):
        dpid = self.ensure_daemon()
        self.wait_clients(0)
        base = fd_count(dpid)

        def storm():
            for k in range(100):
                try:
                    s = self.raw_connect()
                except OSError:
                    continue
                try:
                    if k % 3 == 1:
                        s.sendall(hello())
                    elif k % 3 == 2:
                        s.sendall(hello() + request("ps"))
                except OSError:
                    pass
                finally:
                    s.close()
        threads = [threading.Thread(target=storm) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assert_alive_and_serving(dpid, "800 connect/close")
        try:
            wait_until(lambda: fd_count(dpid) <= base, 5, "fd count back to baseline")
        except AssertionError:
            self.fail(f"daemon fd count {fd_count(dpid)} did not return to the baseline {base}")


class OtherUid(SafetyCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to act as another uid")
        if not shutil.which("setpriv"):
            self.skipTest("needs setpriv")

    def as_nobody(self) -> dict:
        r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                            PY, "-c", FOREIGN_CLIENT, self.sock_path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20, cwd="/")
        self.assertEqual(r.returncode, 0, f"foreign client failed: {r.stderr!r}")
        out = json.loads(r.stdout)
        self.assertEqual(out["uid"], NOBODY)
        return out

    def test_socket_folder_is_private(self):
        dpid = self.ensure_daemon()
        self.assertEqual(os.stat(self.home).st_mode & 0o777, 0o700)
        out = self.as_nobody()
        self.assertEqual(out.get("connect_errno"), 13, f"nobody could reach the socket: {out}")  # EACCES
        self.assertTrue(pid_alive(dpid))

    def test_other_uid_is_refused(self):
        dpid = self.ensure_daemon()
        i = self.start("--id", "secret", "--", "sleep", "300")
        home_mode = os.stat(self.home).st_mode & 0o777
        sock_mode = os.stat(self.sock_path).st_mode & 0o777
        try:
            os.chmod(self.home, 0o755)
            os.chmod(self.sock_path, 0o666)
            out = self.as_nobody()
        finally:
            os.chmod(self.home, home_mode)
            os.chmod(self.sock_path, sock_mode)
        self.assertTrue(out.get("connected"), f"the kernel refused the connect; setup wrong: {out}")
        self.assertTrue(out.get("closed"), f"daemon kept a foreign client's connection open: {out}")
        got = bytes.fromhex(out["received"])
        served = [json.loads(p) for k, p in parse_frames(got) if k in (RESPONSE, END)]
        self.assertFalse(any(r.get("ok") is True for r in served), f"a foreign uid was served: {served}")
        self.assertNotIn(b"secret", got, "a foreign uid learned about a process")
        log = self.daemon_log()
        self.assertRegex(log, rb"(?i)refus", "sbxd.log does not record the refusal")
        self.assertIn(str(NOBODY).encode(), log, "sbxd.log does not name the refused uid")
        self.assert_alive_and_serving(dpid, "a foreign client")
        self.assertEqual(self.status(i), "running")


class LongSocketPath(SafetyCase):
    def long_home(self, socket_len: int) -> str:
        """A folder inside self.home whose sbxd.sock path is socket_len bytes long."""
        n = socket_len - len("/sbxd.sock") - len(self.home) - 1
        self.assertGreater(n, 0)
        return os.path.join(self.home, "h" * n)

    def test_over_the_limit(self):
        home = self.long_home(130)
        for create in (False, True):
            if create:
                os.makedirs(home)
            for args in (["ps"], ["start", "--", "sleep", "300"], ["daemon", "status"]):
                r = self.run(*args, env_extra={"SBX_HOME": home}, timeout=20)
                what = f"{' '.join(args)} with a {len(home)}-char SBX_HOME (exists={create})"
                self.assertErrorLine(r, 1, what)
                self.assertIn(b"SBX_HOME", r.stderr, what)
                self.assertRegex(r.stderr, rb"(?i)limit|too long", what)
                self.assertIn(b"107", r.stderr, f"{what}: the limit is not stated")
                self.assertEqual(self.daemon_pids_for_home(home), [], f"{what}: a daemon was started")
                self.assertEqual(self.pids_with_home(home), [], f"{what}: a process was started")
        self.assertFalse(os.path.exists(os.path.join(home, "sbxd.pid")))
        self.assertFalse(os.path.exists(os.path.join(home, "state", "processes")),
                         "state written although nothing can be served")

    def test_at_the_limit_boundary(self):
        # sun_path holds 108 bytes with the NUL: a 107-byte path works, 108 is refused
        ok_home = self.long_home(107)
        r = self.run("ps", env_extra={"SBX_HOME": ok_home}, timeout=20)
        try:
            self.assertEqual(r.returncode, 0, f"a 107-byte socket path must work: {r.stderr!r}")
        finally:
            self.run("daemon", "stop", env_extra={"SBX_HOME": ok_home}, timeout=20)
            for p in self.daemon_pids_for_home(ok_home):
                os.kill(p, 9)
        bad_home = self.long_home(108)
        r = self.run("ps", env_extra={"SBX_HOME": bad_home}, timeout=20)
        self.assertErrorLine(r, 1, "a 108-byte socket path")
        self.assertEqual(self.daemon_pids_for_home(bad_home), [])

    def test_sbxd_by_hand_refuses_too(self):
        home = self.long_home(130)
        r = subprocess.run([os.environ.get("SBXD_BIN") or self.env["SBXD_BIN"], "--foreground", "--home", home],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env, timeout=20)
        self.assertNotEqual(r.returncode, 0, "sbxd served on a socket path over the limit")
        self.assertRegex(r.stderr + r.stdout, rb"(?i)limit|too long")

    def pids_with_home(self, home: str) -> list[int]:
        from harness import all_pids, proc_environ
        return [p for p in all_pids() if pid_alive(p) and proc_environ(p).get("SBX_HOME") == home
                and "SBX_PROCESS_ID" in proc_environ(p)]


if __name__ == "__main__":
    main()
