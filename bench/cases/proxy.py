"""proxy: requests/s and latency through sbxd's preview proxy (`sbx expose`) against the
same small fast upstream served directly."""
import multiprocessing
import os
import socket
import sys
import time

from lib import REPO, BenchError
from lib.report import fmt_ms, line, record
from lib.stats import median, p90

NAME = "proxy"
NEEDS = ()

UPSTREAM = os.path.join(REPO, "bench", "lib", "fast_upstream.py")


def _request(host_header):
    return f"GET / HTTP/1.1\r\nHost: {host_header}\r\n\r\n".encode()


def _exchange(s, req, buf):
    """One request on a kept-alive connection; returns the bytes after the answer."""
    s.sendall(req)
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0 and len(buf) >= end + 4 + 2:  # every answer has a 2-byte body
            if not buf.startswith(b"HTTP/1.1 200"):
                raise BenchError(f"unexpected answer {buf[:80]!r}")
            return buf[end + 6:]
        chunk = s.recv(65536)
        if not chunk:
            raise BenchError("the connection closed before the answer")
        buf += chunk


def latencies(port, host_header, n):
    """n sequential requests on one connection: each round trip, in s."""
    req = _request(host_header)
    out, buf = [], b""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(20):
            buf = _exchange(s, req, buf)
        for _ in range(n):
            t0 = time.perf_counter()
            buf = _exchange(s, req, buf)
            out.append(time.perf_counter() - t0)
    return out


def _worker(args):
    port, host_header, seconds = args
    req = _request(host_header)
    done, buf = 0, b""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            buf = _exchange(s, req, buf)
            done += 1
    return done


def throughput(port, host_header, clients, seconds):
    """Requests/s of `clients` processes, each on its own kept-alive connection."""
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        counts = pool.map(_worker, [(port, host_header, seconds)] * clients)
    return sum(counts) / seconds


def run(ctx):
    n = 1000 if ctx.quick else 3000
    seconds = 2 if ctx.quick else 5
    clients = 4
    with ctx.home() as h:
        h.env["SBX_PROXY_PORT"] = "0"
        h.run("ps")
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            port = sk.getsockname()[1]
        pid_id = h.run("start", "--id", "up", "--", sys.executable, UPSTREAM, str(port)).stdout.strip()
        h.run("wait-port", pid_id, str(port), "--timeout", "10s")
        h.run("expose", pid_id, str(port), "--name", "bench")
        proxy_port = int(h.daemon_status()["proxy"]["port"])
        direct_host, proxied_host = f"127.0.0.1:{port}", f"bench.localhost:{proxy_port}"

        direct = latencies(port, direct_host, n)
        proxied = latencies(proxy_port, proxied_host, n)
        added = median(proxied) - median(direct)
        label = "proxy: one request, kept-alive client"
        line(label, f"median {fmt_ms(median(proxied))}", f"p90 {fmt_ms(p90(proxied))}",
             f"direct {fmt_ms(median(direct))}", f"added {fmt_ms(added)}",
             f"ratio {median(proxied) / median(direct):.1f}x", f"n={n}")
        record(f"{label}: latency", median(proxied), "s", p90=p90(proxied), n=n, floor=median(direct),
               ratio=median(proxied) / median(direct), added=added)

        rate_direct = throughput(port, direct_host, clients, seconds)
        rate_proxied = throughput(proxy_port, proxied_host, clients, seconds)
        label = f"proxy: {clients} kept-alive clients, {seconds}s"
        line(label, f"{rate_proxied:.0f} req/s", f"direct {rate_direct:.0f} req/s",
             f"ratio {rate_proxied / rate_direct:.2f}")
        record(f"{label}: throughput", rate_proxied, "1/s", floor=rate_direct,
               ratio=rate_proxied / rate_direct)
        line("  (the upstream: bench/lib/fast_upstream.py, asyncio; direct: the same requests to its port)")
        h.kill_all()
