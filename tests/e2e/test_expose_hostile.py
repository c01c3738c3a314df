#!/usr/bin/env python3
"""The preview proxy against hostile clients: garbage, 10,000 headers, a head sent a byte
at a time, a client that never reads. Each gets its answer or its connection closed, the
daemon's memory stays bounded, and other clients are served meanwhile."""
import os
import socket
import time

from harness import main, wait_until
from test_expose import ProxyCase


def vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Hostile(ProxyCase):
    def setUp(self):
        super().setUp()
        if "ASAN_OPTIONS" in self.env:  # a sanitizer build: memory freed must be given back
            # at once, or its quarantine (256 MiB) is what RSS would measure
            self.env["ASAN_OPTIONS"] += ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
        port = self.upstream("web")
        self.expose("web", port, "--name", "app")

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.proxy_port), timeout=30)
        self.addCleanup(s.close)
        return s

    def answer(self, s: socket.socket) -> bytes:
        """All the proxy sends until it closes the connection."""
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return got
                got += chunk
        except ConnectionResetError:
            return got

    def assertServes(self):
        status, _, body = self.request("app")
        self.assertEqual((status, body), (200, b"hello from web\n"))

    def test_garbage_gets_400(self):
        for junk in (os.urandom(4096), b"\x00\x01\x02 / HTTP/1.1\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                     b"GET / HTTP/1.1\r\nHost app.localhost\r\n\r\n"):
            s = self.connect()
            self.send_quietly(s, junk)
            got = self.answer(s)
            self.assertTrue(got.startswith(b"HTTP/1.1 400 "), f"{junk[:40]!r} -> {got[:200]!r}")
        self.assertServes()

    def test_ten_thousand_headers_get_431(self):
        s = self.connect()
        head = b"GET /hello HTTP/1.1\r\nHost: app.localhost\r\n" + b"".join(
            b"X-Header-%d: %s\r\n" % (i, b"v" * 20) for i in range(10_000)) + b"\r\n"
        self.send_quietly(s, head)
        got = self.answer(s)
        self.assertTrue(got.startswith(b"HTTP/1.1 431 "), got[:200])
        self.assertServes()

    def test_slow_head_is_cut_off(self):
        s = self.connect()
        s.sendall(b"GET /hello HTTP/1.1\r\n")
        t0 = time.monotonic()
        closed = False
        # a byte every 100ms, forever: only a deadline on the whole head ends it
        while time.monotonic() - t0 < 40:
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            s.settimeout(0.1)
            try:
                if s.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
        self.assertTrue(closed, "a head trickling in for 40s was never cut off")
        self.assertServes()

    def test_client_that_never_reads(self):
        pid = self.daemon_pid()
        before = vm_rss_kib(pid)
        s = self.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /flood HTTP/1.1\r\nHost: app.localhost\r\n\r\n")
        # the upstream writes as fast as it can; the proxy may hold only its buffers
        peak = before
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            peak = max(peak, vm_rss_kib(pid))
            self.assertServes()
        self.assertLess(peak - before, 32 << 10, f"sbxd grew from {before} KiB to {peak} KiB")
        s.close()
        wait_until(lambda: vm_rss_kib(pid) > 0, 5, "sbxd alive")
        self.assertServes()


if __name__ == "__main__":
    main()
