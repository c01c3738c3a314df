#!/usr/bin/env python3
"""sbx ports and the owner rule of wait-port: the listeners of a process's tree (a grandchild
under sh -c, IPv4 and IPv6, UDP), `ports` in ps --json, wait-port without a PORT printing the
one the tree took, a port held by another process (124 naming its pid) and --any-owner,
start --wait-port and up's ready port under the same rule. Every server binds 127.0.0.1 or ::1."""
import json
import os
import signal
import socket
import subprocess
import time

from harness import PY, SbxTestCase, can_connect, free_port, ipv6_loopback, main, pid_alive, proc_stat, wait_until

# Binds every "PROTO:HOST:PORT" of argv (port 0: any), TCP ones listening, prints
# "ready P1 P2 ..." with the ports it got, then sleeps.
LISTENER = ("import socket,sys,time\n"
            "held=[]\n"
            "for spec in sys.argv[1:]:\n"
            "    proto,rest=spec.split(':',1);host,port=rest.rsplit(':',1)\n"
            "    fam=socket.AF_INET6 if ':' in host else socket.AF_INET\n"
            "    s=socket.socket(fam,socket.SOCK_STREAM if proto=='tcp' else socket.SOCK_DGRAM)\n"
            "    s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            "    s.bind((host,int(port)))\n"
            "    if proto=='tcp': s.listen(16)\n"
            "    held.append(s)\n"
            "print('ready',*[s.getsockname()[1] for s in held],flush=True)\n"
            "time.sleep(300)\n")


class PortsCase(SbxTestCase):
    def ports(self, i: str) -> list[dict]:
        r = self.sbx_ok("ports", i, "--json")
        return json.loads(r.stdout)

    def ready_ports(self, i: str) -> list[int]:
        wait_until(lambda: self.read_log(i).startswith(b"ready") and b"\n" in self.read_log(i), 10, f"{i} ready")
        line = self.read_log(i).split(b"\n")[0]
        return [int(p) for p in line.split()[1:]]

    def other_server(self, port: int) -> subprocess.Popen:
        """A listener on 127.0.0.1:port that sbx did not start; killed by pid at the end."""
        p = subprocess.Popen([PY, "-c", LISTENER, f"tcp:127.0.0.1:{port}"], stdout=subprocess.PIPE)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(), p.stdout.close()))
        self.assertTrue(p.stdout.readline().startswith(b"ready"))
        return p


class Ports(PortsCase):
    def test_grandchild_under_a_shell(self):
        # sh stays the leader (the listener is not exec'd): the port is the grandchild's
        i = self.start("--", "sh", "-c", f'"$0" -c "$1" tcp:127.0.0.1:0; echo done', PY, LISTENER)
        port, = self.ready_ports(i)
        leader = self.show(i)["pid"]
        entries = self.ports(i)
        self.assertEqual(len(entries), 1, entries)
        e = entries[0]
        self.assertEqual((e["port"], e["proto"], e["address"]), (port, "tcp", "127.0.0.1"))
        self.assertNotEqual(e["pid"], leader)
        self.assertTrue(pid_alive(e["pid"]))
        self.assertIn("import socket", e["command"])
        r = self.sbx_ok("ports", i)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["PORT", "PROTO", "ADDRESS", "PID", "COMMAND"])
        self.assertEqual(len(lines), 2, lines)  # the -c script's newlines stay in one row
        self.assertEqual(lines[1].split()[:4], [str(port), "tcp", "127.0.0.1", str(e["pid"])])

    def test_process_that_left_the_tree_by_double_fork(self):
        # setsid in a subshell that exits: the listener is no child of the leader any more,
        # but it is of the run (as kill finds it), for ports and for wait-port
        i = self.start("--", "sh", "-c", '( setsid "$0" -c "$1" tcp:127.0.0.1:0 & ); exec sleep 300', PY, LISTENER)
        port, = self.ready_ports(i)
        leader = self.show(i)["pid"]
        entries = self.ports(i)
        self.assertEqual([(e["port"], e["proto"]) for e in entries], [(port, "tcp")])
        holder = entries[0]["pid"]
        self.track(holder)
        self.assertNotEqual(proc_stat(holder)[1], str(leader), "the listener is still the leader's child")
        r = self.run("wait-port", i, "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout), (0, f"{port}\n".encode()), r.stderr)
        self.assertEqual(self.run("wait-port", i, str(port), "--timeout", "10s").returncode, 0)

    def test_ipv4_ipv6_and_udp(self):
        specs = ["tcp:127.0.0.1:0", "udp:127.0.0.1:0"] + (["tcp:::1:0", "udp:::1:0"] if ipv6_loopback() else [])
        i = self.run_py(LISTENER, *specs)
        got = self.ready_ports(i)
        want = sorted((p, s.split(":", 1)[0], s.split(":", 1)[1].rsplit(":", 1)[0]) for s, p in zip(specs, got))
        entries = self.ports(i)
        self.assertEqual([(e["port"], e["proto"], e["address"]) for e in entries], want)
        self.assertEqual({e["pid"] for e in entries}, {self.show(i)["pid"]})

    def test_no_listener_ended_and_unknown(self):
        i = self.start("--", "sleep", "300")
        self.assertEqual(self.ports(i), [])
        r = self.sbx_ok("ports", i)
        self.assertEqual(r.stdout.decode().split(), ["PORT", "PROTO", "ADDRESS", "PID", "COMMAND"])
        j = self.run_py(LISTENER, "tcp:127.0.0.1:0")
        self.ready_ports(j)
        self.sbx_ok("kill", j)
        self.wait_status(j, ("killed",))
        self.assertEqual(self.ports(j), [])
        self.assertErrorLine(self.run("ports", "nosuch"), 3, "ports nosuch")
        self.assertErrorLine(self.run("ports", "bad id!"), 2, "ports with a bad id")
        self.assertErrorLine(self.run("ports"), 2, "ports without an id")

    def test_ps_json_records_carry_ports(self):
        i = self.run_py(LISTENER, "tcp:127.0.0.1:0")
        port, = self.ready_ports(i)
        quiet = self.start("--", "true")
        self.sbx_ok("wait", quiet)
        records = {r["id"]: r for r in json.loads(self.sbx_ok("ps", "--json").stdout)}
        self.assertEqual([(e["port"], e["proto"]) for e in records[i]["ports"]], [(port, "tcp")])
        self.assertEqual(records[quiet]["ports"], [])
        self.assertEqual(self.show(i)["ports"], records[i]["ports"])
        self.assertEqual(self.show(quiet)["ports"], [])


class WaitPortWithoutPort(PortsCase):
    def test_prints_the_port_the_server_picked(self):
        # python3 -m http.server 0 picks a free port, under sh -c, after a while
        www = self.make_www()
        i = self.start("--cwd", www, "--", "sh", "-c", 'sleep 0.5; "$0" -m http.server 0 --bind 127.0.0.1', PY)
        r = self.run("wait-port", i, "--timeout", "20s")
        self.assertEqual((r.returncode, r.stderr), (0, b""), r)
        port = int(r.stdout.decode())
        self.assertEqual(r.stdout, f"{port}\n".encode())
        self.assertTrue(can_connect(port))
        self.assertEqual([e["port"] for e in self.ports(i)], [port])
        r = self.run("wait-port", i, "--http", "/", "--timeout", "20s")
        self.assertEqual((r.returncode, r.stdout), (0, f"{port}\n".encode()), r.stderr)

    def test_never_listens_and_ends(self):
        i = self.start("--", "sleep", "300")
        r = self.run("wait-port", i, "--timeout", "500ms")
        self.assertErrorLine(r, 124, "wait-port without a port, nothing listens")
        self.assertIn(b"listens on no TCP port", r.stderr)
        j = self.run_py("import time; time.sleep(0.5); raise SystemExit(3)")
        self.assertEndedError(self.run("wait-port", j, "--timeout", "20s"), 1, "wait-port of one that ends")


class OwnerRule(PortsCase):
    def test_port_of_another_process_times_out_naming_it(self):
        port = free_port()
        other = self.other_server(port)
        i = self.start("--", "sleep", "300")
        t0 = time.monotonic()
        r = self.run("wait-port", i, port, "--timeout", "1s")
        self.assertErrorLine(r, 124, "a port another process serves")
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertIn(f"pid {other.pid} ".encode(), r.stderr)
        self.assertIn(b"--any-owner", r.stderr)
        r = self.run("wait-port", i, port, "--any-owner", "--timeout", "10s")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        # without a port, the port is the tree's: any owner makes no sense
        self.assertErrorLine(self.run("wait-port", i, "--any-owner"), 2, "--any-owner without a port")

    def test_ready_once_its_own_server_takes_over(self):
        port = free_port()
        other = self.other_server(port)
        # the process waits for the port to be free, then serves it itself
        i = self.start("--", "sh", "-c",
                       f'while "$0" -c "import socket; socket.create_connection((\'127.0.0.1\', {port}))" '
                       f'2>/dev/null; do sleep 0.05; done; exec "$0" -c "$1" tcp:127.0.0.1:{port}',
                       PY, LISTENER)
        p = self.spawn("wait-port", i, str(port), "--timeout", "30s")
        self.assertStillWaiting(p, "wait-port while another process serves the port")
        other.send_signal(signal.SIGKILL)
        rc, out, err = self.finish(p, "wait-port after the other server went", timeout=30)
        self.assertEqual((rc, out, err), (0, b"", b""))
        self.assertEqual([e["port"] for e in self.ports(i)], [port])

    def test_start_wait_port_follows_the_rule(self):
        port = free_port()
        other = self.other_server(port)
        r = self.run("start", "--id", "s", "--wait-port", str(port), "--wait-timeout", "1s", "--", "sleep", "300")
        self.show("s")
        self.assertEqual(r.returncode, 124, r)
        self.assertEqual(r.stdout, b"s\n")
        self.assertIn(f"pid {other.pid} ".encode(), r.stderr)

    def test_up_ready_port_follows_the_rule(self):
        port = free_port()
        other = self.other_server(port)
        d = os.path.join(self.home, "proj")
        os.mkdir(d)
        with open(os.path.join(d, "sbx.toml"), "w") as f:
            f.write(f'[process.web]\ncommand = "sleep 300"\nready = {{ port = {port} }}\n')
        r = self.run("up", "--timeout", "1s", cwd=d)
        self.assertEqual(r.returncode, 124, r)
        self.assertIn(b"not ready", r.stderr)


if __name__ == "__main__":
    main()
