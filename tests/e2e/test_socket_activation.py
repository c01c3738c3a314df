"""sbxd serves a listening socket handed over the way systemd does (LISTEN_FDS/LISTEN_PID)."""
import os
import signal
import socket
import subprocess
import time

from harness import SBXD, SbxTestCase, main, pid_alive, wait_until


class SocketActivation(SbxTestCase):
    def activate(self):
        """Binds and listens like systemd, then execs sbxd with the socket as fd 3."""
        path = os.path.join(self.home, "sbxd.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        os.chmod(path, 0o600)
        sock.listen(16)
        os.chmod(self.home, 0o700)
        fd = sock.fileno()

        def hand_over():  # in the child: the socket becomes fd 3, as sd_listen_fds(3) expects
            os.dup2(fd, 3)
            os.set_inheritable(3, True)

        env = dict(self.env)
        env.pop("SBX_HOME", None)
        # `exec` keeps the shell's pid, so LISTEN_PID=$$ names sbxd.
        daemon = subprocess.Popen(
            ["sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "{SBXD}" --foreground --home "{self.home}"'],
            env=env, preexec_fn=hand_over, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sock.close()  # only sbxd holds it now
        self.addCleanup(self.stop_daemon, daemon)
        self.track(daemon.pid)
        return daemon, path

    def stop_daemon(self, daemon):
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        daemon.stderr.close()

    def test_serves_the_passed_socket(self):
        daemon, path = self.activate()
        inode = os.stat(path).st_ino
        # The first request reaches the daemon through the passed socket: no other daemon starts.
        i = self.start("--", "sh", "-c", "echo activated")
        self.assertEqual(self.sbx_ok("wait", i).returncode, 0)
        self.assertEqual(self.sbx_ok("logs", i).stdout, b"activated\n")
        status = self.sbx_ok("daemon", "status", "--json").stdout
        self.assertIn(f'"pid":{daemon.pid}'.encode(), status)
        self.assertEqual(os.stat(path).st_ino, inode, "sbxd must not re-create a passed socket")
        # The variables are not passed on to the processes it starts.
        j = self.start("--", "sh", "-c", 'echo "[$LISTEN_FDS][$LISTEN_PID]"')
        self.sbx_ok("wait", j)
        self.assertEqual(self.sbx_ok("logs", j).stdout, b"[][]\n")

    def test_stop_leaves_the_socket_to_its_owner(self):
        daemon, path = self.activate()
        self.sbx_ok("ps")
        self.sbx_ok("daemon", "stop")
        wait_until(lambda: daemon.poll() is not None, 10, "sbxd exits")
        self.assertEqual(daemon.returncode, 0)
        self.assertTrue(os.path.exists(path), "the socket file belongs to the service manager")

    def test_ignores_listen_fds_meant_for_another_pid(self):
        env = dict(self.env)
        env["LISTEN_PID"] = "1"
        env["LISTEN_FDS"] = "1"
        # Not for us: sbxd binds its own socket (started by sbx as usual).
        r = self.run("ps", env_extra={"LISTEN_PID": "1", "LISTEN_FDS": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.home, "sbxd.sock")))


if __name__ == "__main__":
    main()
