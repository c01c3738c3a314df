"""clients: 50 concurrent clients of `sbx status ID`, and the daemon's RSS with 1000 live processes."""
import concurrent.futures
import os
import subprocess
import threading
import time

from lib import proc
from lib.report import fmt_ms, fmt_s, line, note, record, verdict
from lib.stats import median, p99

NAME = "clients"
NEEDS = ()

TARGET_RSS_PER_PROCESS_KIB = 8.0


def hammer(argv, env, clients, per):
    """`clients` threads each running argv `per` times; (wall, latencies, failures)."""
    go = threading.Event()

    def worker():
        go.wait()
        lat, bad = [], 0
        for _ in range(per):
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lat.append(time.perf_counter() - t0)
            bad += r.returncode != 0
        return lat, bad

    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as ex:
        futs = [ex.submit(worker) for _ in range(clients)]
        time.sleep(0.1)                  # let every thread reach go.wait()
        t0 = time.perf_counter()
        go.set()
        res = [f.result() for f in futs]
        wall = time.perf_counter() - t0
    return wall, [x for lat, _ in res for x in lat], sum(b for _, b in res)


def run(ctx):
    clients, per = 50, (20 if ctx.quick else 100)
    total = clients * per
    with ctx.home() as h:
        h.run("ps")
        pid_id = h.start("sleep", "1000")
        wall, lat, bad = hammer(h.argv("status", pid_id), h.env, clients, per)
        fwall, flat, _ = hammer(["/bin/true"], dict(os.environ), clients, per)
        if bad:
            note(f"{bad} of {total} concurrent `sbx status {pid_id}` did not exit 0")
        label = f"clients: {clients} x {per} `sbx status ID`"
        line(label, f"{total / wall:.0f} req/s",
             f"latency median {fmt_ms(median(lat))} p99 {fmt_ms(p99(lat))}", f"n={total}")
        record(f"{label}: throughput", total / wall, "1/s", requests=total, floor=total / fwall)
        record(f"{label}: latency", median(lat), "s", p99=p99(lat), n=total, floor=median(flat),
               floor_p99=p99(flat))
        line(f"  floor: {clients} x {per} /bin/true, same threads", f"{total / fwall:.0f} /s",
             f"latency median {fmt_ms(median(flat))} p99 {fmt_ms(p99(flat))}")
        h.kill_all()

    n = 1000
    with ctx.home() as h:
        h.run("ps")
        dpid = h.daemon_pid()
        rss0 = proc.rss_mib(dpid)
        t0 = time.perf_counter()
        h.start_many(n, ["sleep", "1000"], parallel=ctx.parallel)
        t_up = time.perf_counter() - t0
        running = h.daemon_status()["processes"]["running"]
        if running != n:
            note(f"after {n} x `sbx start -- sleep 1000`: expected {n} running, got {running}")
        time.sleep(0.3)
        rss = proc.rss_mib(dpid)
        t0 = time.perf_counter()
        h.kill_all()
        t_down = time.perf_counter() - t0
        label = f"RSS, {n} live `sleep 1000`"
        line(label, f"{rss:.1f} MiB ({rss0:.1f} MiB with none)",
             f"started in {fmt_s(t_up)}, `kill --all` {fmt_s(t_down)}")
        record(label, rss, "MiB", rss_none=rss0, started_s=t_up, kill_all_s=t_down)
        per = (rss - rss0) * 1024 / n
        label = "  RSS per live process"
        line(label, f"{per:.1f} KiB", verdict(per, TARGET_RSS_PER_PROCESS_KIB, f"{TARGET_RSS_PER_PROCESS_KIB:g} KiB"))
        record(label, per, "KiB", target=TARGET_RSS_PER_PROCESS_KIB)
