#!/usr/bin/env python3
"""Scale: a thousand live processes (start, list, kill --all, none left behind) and fifty
concurrent clients hammering one daemon.  Slow by nature: tens of seconds."""
import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from harness import SBX, SbxTestCase, main, pid_alive

N_PROCS = 1000
N_CLIENTS = 50
N_REQUESTS = 100


class Scale(SbxTestCase):
    def sbx_quiet(self, *args, timeout=60) -> subprocess.CompletedProcess:
        """sbx ARGS through pipes (cheaper than harness.run's temporary files).

        Retries for a few seconds while the binary is missing or being relinked."""
        deadline = time.monotonic() + 10
        while True:
            try:
                return subprocess.run([SBX, *map(str, args)], env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            except subprocess.TimeoutExpired as e:
                return subprocess.CompletedProcess(e.cmd, -1, b"", b"timed out")
            except OSError as e:  # ENOENT, EACCES, ETXTBSY during a relink
                if time.monotonic() > deadline:
                    return subprocess.CompletedProcess([SBX], -1, b"", f"cannot run sbx: {e}".encode())
                time.sleep(0.2)

    def test_thousand_processes(self):
        self.ensure_daemon()
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as ex:
            results = list(ex.map(lambda k: self.sbx_quiet("start", "--id", f"s{k}", "--", "sleep", "1000"),
                                  range(N_PROCS)))
        took_start = time.monotonic() - t0
        bad = [(r.returncode, r.stderr[:200]) for r in results if r.returncode != 0]
        self.assertEqual(bad[:5], [], f"{len(bad)} of {N_PROCS} starts failed")
        r = self.sbx_quiet("ps", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = json.loads(r.stdout)
        for rec in listed:
            if isinstance(rec.get("pid"), int):
                self.track(rec["pid"])
        self.assertEqual(len(listed), N_PROCS)
        self.assertEqual(sorted(rec["id"] for rec in listed), sorted(f"s{k}" for k in range(N_PROCS)))
        self.assertEqual([rec["id"] for rec in listed if rec["status"] != "running"], [])
        pids = [rec["pid"] for rec in listed]
        self.assertEqual(len(set(pids)), N_PROCS, "pids not distinct")
        dead = [p for p in pids if not pid_alive(p)]
        self.assertEqual(dead, [], "listed as running but not alive")
        r = self.sbx_quiet("ps", "--status", "running", "-q")
        self.assertEqual(len(r.stdout.split()), N_PROCS)
        st = json.loads(self.sbx_quiet("daemon", "status", "--json").stdout)
        self.assertEqual(st["processes"], {"total": N_PROCS, "running": N_PROCS})

        t1 = time.monotonic()
        r = self.sbx_quiet("kill", "--all", timeout=120)
        took_kill = time.monotonic() - t1
        print(f"\n  {N_PROCS} starts {took_start:.1f}s, kill --all {took_kill:.1f}s", flush=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        alive = [p for p in pids if pid_alive(p)]
        self.assertEqual(alive, [], f"{len(alive)} processes alive after kill --all returned")
        self.assertNothingLeft("children left behind")
        listed = json.loads(self.sbx_quiet("ps", "--json").stdout)
        statuses = {rec["status"] for rec in listed}
        self.assertEqual(statuses, {"killed"}, f"statuses after kill --all: {statuses}")
        self.assertEqual({rec.get("signal") for rec in listed}, {"SIGTERM"})
        self.assertLess(took_kill, 30, f"kill --all of {N_PROCS} sleeps took {took_kill:.1f}s")

    def test_fifty_concurrent_clients(self):
        ids = [self.start("--id", f"c{k}", "--", "sleep", "1000") for k in range(5)]
        done = self.start("--id", "done", "exit 4")
        self.assertEqual(self.run("wait", done).returncode, 4)
        dpid = self.daemon_pid()

        def client(k):
            target = ids[k % len(ids)] if k % 10 else done
            want = b"running\n" if k % 10 else b"failed\n"
            failures = []
            for _ in range(N_REQUESTS):
                r = self.sbx_quiet("status", target, timeout=30)
                if r.returncode != 0 or r.stdout != want:
                    failures.append((r.returncode, r.stdout[:50], r.stderr[:200]))
            return failures

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=N_CLIENTS) as ex:
            failures = [f for fs in ex.map(client, range(N_CLIENTS)) for f in fs]
        took = time.monotonic() - t0
        self.assertEqual(failures[:5], [], f"{len(failures)} of {N_CLIENTS * N_REQUESTS} requests failed")
        self.assertEqual(self.daemon_pid(), dpid, "the daemon was replaced under load")
        self.assertTrue(pid_alive(dpid))
        print(f"\n  {N_CLIENTS * N_REQUESTS} status requests from {N_CLIENTS} clients: {took:.1f}s", flush=True)



if __name__ == "__main__":
    main()
