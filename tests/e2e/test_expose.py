#!/usr/bin/env python3
"""sbx expose / unexpose / expose --list and sbxd's preview proxy: routing by Host (two
exposures, IPv4 and IPv6 upstreams), 404 and 502, X-Forwarded-*, an Upgrade relayed both
ways, bodies over 1 MiB streamed, reserved ports, the end of an exposure with its process,
and listening only while something is exposed. Every server binds 127.0.0.1 or ::1."""
import hashlib
import http.client
import json
import os
import socket

from harness import PY, PROGS, SbxTestCase, can_connect, free_port, ipv6_loopback, main, wait_until

UPSTREAM = os.path.join(PROGS, "http_upstream.py")


class ProxyCase(SbxTestCase):
    def setUp(self):
        super().setUp()
        self.proxy_port = free_port()
        self.env["SBX_PROXY_PORT"] = str(self.proxy_port)

    def upstream(self, id_: str, host: str = "127.0.0.1") -> int:
        """Starts tests/e2e/progs/http_upstream.py as `id_` on a free port; returns the port."""
        port = free_port()
        self.start("--id", id_, "--", PY, UPSTREAM, str(port), host, id_)
        self.sbx_ok("wait-port", id_, port, "--host", host, "--timeout", "20s")
        return port

    def expose(self, *args) -> str:
        r = self.sbx_ok("expose", *args)
        return r.stdout.decode().strip()

    def request(self, name: str, path: str = "/hello", method: str = "GET", body=None, headers=None,
                conn: http.client.HTTPConnection | None = None):
        """(status, headers, body) of a request for NAME.localhost sent to the proxy on 127.0.0.1."""
        c = conn or http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=30)
        h = {"Host": f"{name}.localhost:{self.proxy_port}"}
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        res = c.getresponse()
        data = res.read()
        if conn is None:
            c.close()
        return res.status, res, data

    def listing(self) -> list[dict]:
        r = self.sbx_ok("expose", "--list", "--json")
        return json.loads(r.stdout)

    def proxy_status(self) -> dict:
        return json.loads(self.sbx_ok("daemon", "status", "--json").stdout)["proxy"]


class ExposeListUnexpose(ProxyCase):
    def test_expose_list_unexpose(self):
        port = self.upstream("web")
        # nothing exposed: the proxy does not listen
        self.assertEqual(self.proxy_status(), {"port": self.proxy_port, "listening": False, "exposed": 0})
        self.assertFalse(can_connect(self.proxy_port))
        url = self.expose("web", port)
        self.assertEqual(url, f"http://{port}-web.localhost:{self.proxy_port}/")
        self.assertEqual(self.proxy_status(), {"port": self.proxy_port, "listening": True, "exposed": 1})
        self.assertTrue(can_connect(self.proxy_port, "::1") or not ipv6_loopback())
        status, _, body = self.request(f"{port}-web")
        self.assertEqual((status, body), (200, b"hello from web\n"))
        # the same through ::1, and --json
        r = self.sbx_ok("expose", "web", port, "--json")
        row = {"name": f"{port}-web", "id": "web", "port": port, "url": url, "proxy_port": self.proxy_port}
        self.assertEqual(json.loads(r.stdout), row)
        self.assertEqual(self.listing(), [row])
        self.assertEqual(r.stderr, b"", "no tunnel hint on this machine")
        table = self.sbx_ok("expose", "--list").stdout.decode().splitlines()
        self.assertEqual(table[0].split(), ["NAME", "ID", "PORT", "URL"])
        self.assertEqual(table[1].split(), [f"{port}-web", "web", str(port), url])
        # unexpose: gone from the list, and the proxy stops listening; again is no error
        self.assertEqual(self.sbx_ok("unexpose", "web").stdout, b"")
        self.assertEqual(self.listing(), [])
        wait_until(lambda: not can_connect(self.proxy_port), 5, "the proxy to stop listening")
        self.sbx_ok("unexpose", "web")
        self.sbx_ok("unexpose", "web", port)
        self.assertErrorLine(self.run("unexpose", "nosuch"), 3, "unexpose of an unknown id")

    def test_unexpose_one_port_and_rename(self):
        port = self.upstream("web")
        other = free_port()
        self.expose("web", port)
        self.expose("web", other, "--name", "Second")
        names = [e["name"] for e in self.listing()]
        self.assertEqual(names, [f"{port}-web", "second"])
        # the same port again with another name renames it
        self.assertEqual(self.expose("web", port, "--name", "front"), f"http://front.localhost:{self.proxy_port}/")
        self.assertEqual(sorted(e["name"] for e in self.listing()), ["front", "second"])
        self.sbx_ok("unexpose", "web", other)
        self.assertEqual([(e["name"], e["port"]) for e in self.listing()], [("front", port)])
        self.assertTrue(can_connect(self.proxy_port))
        # a name that another exposure has
        self.upstream("api")
        self.assertErrorLine(self.run("expose", "api", 5555, "--name", "front"), 1, "a taken name")

    def test_proxy_port_zero_picks_one(self):
        self.env["SBX_PROXY_PORT"] = "0"
        port = self.upstream("web")
        self.assertEqual(self.proxy_status()["listening"], False)
        url = self.expose("web", port)
        proxy = self.proxy_status()
        self.assertTrue(proxy["listening"])
        self.assertNotEqual(proxy["port"], 0)
        self.assertEqual(url, f"http://{port}-web.localhost:{proxy['port']}/")
        self.proxy_port = proxy["port"]
        self.assertEqual(self.request(f"{port}-web")[0], 200)
        # the proxy's own port is reserved
        self.assertErrorLine(self.run("expose", "web", proxy["port"]), 2, "the proxy's own port")


class Errors(ProxyCase):
    def test_reserved_ports_unknown_id_ended_bad_name(self):
        port = self.upstream("web")
        for p in (22, 80, 1023):
            r = self.run("expose", "web", p)
            self.assertErrorLine(r, 2, f"port {p}")
            self.assertIn(b"reserved", r.stderr)
        self.assertErrorLine(self.run("expose", "web", self.proxy_port), 2, "the proxy's own port")
        self.assertErrorLine(self.run("expose", "web", 65536), 2, "port 65536")
        self.assertErrorLine(self.run("expose", "nosuch", port), 3, "an unknown id")
        self.assertErrorLine(self.run("expose", "web", port, "--name", "-bad"), 2, "a bad name")
        self.assertErrorLine(self.run("expose", "web"), 2, "no port")
        self.assertErrorLine(self.run("expose", "--list", "web"), 2, "--list with an id")
        done = self.start("--", "true")
        self.wait_status(done, "completed")
        self.assertErrorLine(self.run("expose", done, port), 1, "an ended process")
        # none of them left the proxy listening
        self.assertEqual(self.listing(), [])
        self.assertFalse(can_connect(self.proxy_port))

    def test_proxy_port_taken(self):
        port = self.upstream("web")
        holder = socket.socket()
        self.addCleanup(holder.close)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", self.proxy_port))
        holder.listen(1)
        r = self.run("expose", "web", port)
        self.assertErrorLine(r, 1, "the proxy's port is taken")
        self.assertIn(b"SBX_PROXY_PORT", r.stderr)
        self.assertEqual(self.listing(), [])
        holder.close()
        self.assertEqual(self.expose("web", port), f"http://{port}-web.localhost:{self.proxy_port}/")

    def test_404_lists_names_and_502_says_not_listening(self):
        port = self.upstream("web")
        dead = free_port()
        self.expose("web", port)
        self.expose("web", dead, "--name", "dead")
        status, _, body = self.request("nosuch")
        self.assertEqual(status, 404)
        self.assertIn(b"nosuch.localhost", body)
        self.assertIn(f"{port}-web".encode(), body)
        self.assertIn(b"dead", body)
        status, _, body = self.request("dead")
        self.assertEqual(status, 502)
        self.assertIn(f"'web' is not listening on port {dead}".encode(), body)
        # the proxy still serves the other
        self.assertEqual(self.request(f"{port}-web")[0], 200)


class Routing(ProxyCase):
    def test_two_exposures_by_name_ipv4_and_ipv6(self):
        a = self.upstream("a")
        hosts = ["127.0.0.1"]
        if ipv6_loopback():
            hosts.append("::1")
        b = self.upstream("b", hosts[-1])  # on ::1 only, when the host has IPv6: the fallback
        self.expose("a", a, "--name", "alpha")
        self.expose("b", b, "--name", "beta")
        for _ in range(3):
            self.assertEqual(self.request("alpha")[2], b"hello from a\n")
            self.assertEqual(self.request("beta")[2], b"hello from b\n")
        # case and a bare name route the same; over one kept-alive connection too
        c = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=30)
        for host in ("ALPHA.localhost", "alpha", "beta.localhost."):
            c.request("GET", "/hello", headers={"Host": host})
            res = c.getresponse()
            self.assertEqual(res.status, 200)
            self.assertEqual(res.read(), b"hello from " + (b"a" if "alpha" in host.lower() else b"b") + b"\n")
        c.close()

    def test_upstream_connection_kept_and_renewed(self):
        port = self.upstream("web")
        self.expose("web", port, "--name", "app")
        c = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=30)
        first = self.request("app", "/conn", conn=c)[2]
        self.assertEqual(self.request("app", "/conn", conn=c)[2], first, "a kept-alive client's "
                         "requests go on one upstream connection")
        # the upstream closes it after an answer (a keep-alive timeout): the next request
        # goes on a new one, with no error
        self.assertEqual(self.request("app", "/bye", conn=c)[:1], (200,))
        after = self.request("app", "/conn", conn=c)
        self.assertEqual(after[0], 200)
        self.assertNotEqual(after[2], first)
        c.close()

    def test_forwarded_headers(self):
        port = self.upstream("web")
        self.expose("web", port, "--name", "app")
        status, _, body = self.request("app", "/headers", headers={"X-Forwarded-For": "10.1.2.3"})
        self.assertEqual(status, 200)
        seen = json.loads(body)["headers"]
        self.assertEqual(seen["x-forwarded-for"], "10.1.2.3, 127.0.0.1")
        self.assertEqual(seen["x-forwarded-proto"], "http")
        self.assertEqual(seen["x-forwarded-host"], f"app.localhost:{self.proxy_port}")
        self.assertEqual(seen["host"], f"app.localhost:{self.proxy_port}")

    def test_exposure_ends_with_its_process(self):
        port = self.upstream("web")
        self.expose("web", port)
        self.assertTrue(can_connect(self.proxy_port))
        self.sbx_ok("kill", "web")
        wait_until(lambda: self.listing() == [], 10, "the exposure to end with its process")
        wait_until(lambda: not can_connect(self.proxy_port), 5, "the proxy to stop listening")
        self.assertEqual(self.proxy_status()["exposed"], 0)


class Streaming(ProxyCase):
    def test_upgrade_relayed_both_ways(self):
        port = self.upstream("web")
        self.expose("web", port, "--name", "ws")
        s = socket.create_connection(("127.0.0.1", self.proxy_port), timeout=10)
        with s:
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: ws.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            got = b""
            while b"hi web\n" not in got:  # the server speaks first, unasked
                chunk = s.recv(4096)
                self.assertTrue(chunk, f"closed early: {got!r}")
                got += chunk
            self.assertTrue(got.startswith(b"HTTP/1.1 101 "), got)
            for word in (b"first", b"second" * 5000):
                s.sendall(word)
                back = b""
                while len(back) < len(word):
                    chunk = s.recv(65536)
                    self.assertTrue(chunk)
                    back += chunk
                self.assertEqual(back, word.upper())
            # a half-close reaches the server, which answers and closes
            s.shutdown(socket.SHUT_WR)
            rest = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            self.assertEqual(rest, b"bye\n")

    def test_bodies_over_one_mib_streamed(self):
        port = self.upstream("web")
        self.expose("web", port, "--name", "big")
        body = os.urandom(5 << 20) + b"end"
        want = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        status, _, got = self.request("big", "/sha", "POST", body)
        self.assertEqual((status, json.loads(got)), (200, want))

        def chunks():
            for i in range(0, len(body), 300_000):
                yield body[i:i + 300_000]
        status, _, got = self.request("big", "/sha", "POST", chunks())  # no length: sent chunked
        self.assertEqual((status, json.loads(got)), (200, want))
        # with Expect: 100-continue (as curl sends for large bodies)
        status, _, got = self.request("big", "/sha", "POST", body, {"Expect": "100-continue"})
        self.assertEqual((status, json.loads(got)), (200, want))
        # a response the upstream ends by closing reaches an HTTP/1.1 client chunked, and the
        # client's connection stays usable
        c = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=30)
        status, res, got = self.request("big", f"/big?n={3 << 20}", conn=c)
        self.assertEqual((status, len(got), set(got)), (200, 3 << 20, {ord("x")}))
        self.assertEqual(res.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(self.request("big", "/hello", conn=c)[2], b"hello from web\n")
        c.close()


if __name__ == "__main__":
    main()
