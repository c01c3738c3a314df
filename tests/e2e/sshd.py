"""A private OpenSSH server on 127.0.0.1 for the tests of `sbx --host` (and bench/), stdlib only.

Sshd(folder) generates a host key and a client key, writes its own sshd_config (a free port,
only that client key, its log in FOLDER/sshd.log) and an ssh_config for the client (that key,
a known_hosts holding that host key, BatchMode), starts /usr/sbin/sshd -D and stops it by pid.
The client is `ssh -F FOLDER/ssh_config` (SBX_SSH_COMMAND). Nothing of the user's ~/.ssh is
read or written.
"""
from __future__ import annotations

import getpass
import os
import re
import signal
import socket
import subprocess
import time

SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _keygen(path: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True,
                   stdout=subprocess.DEVNULL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(b")") + 2:][:1] not in (b"Z", b"X")


class Sshd:
    def __init__(self, folder: str, set_env: dict[str, str] | None = None):
        self.folder = folder
        self.user = getpass.getuser()
        self.port = _free_port()
        self.log = os.path.join(folder, "sshd.log")
        _keygen(os.path.join(folder, "host_key"))
        _keygen(os.path.join(folder, "client_key"))
        with open(os.path.join(folder, "client_key.pub")) as f:
            client_pub = f.read()
        with open(os.path.join(folder, "authorized_keys"), "w") as f:
            f.write(client_pub)
        with open(os.path.join(folder, "host_key.pub")) as f:
            host_pub = " ".join(f.read().split()[:2])
        self.known_hosts = os.path.join(folder, "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {host_pub}\n")
        env_line = " ".join(f"{k}={v}" for k, v in (set_env or {}).items())
        self.config = os.path.join(folder, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {folder}/host_key
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
MaxStartups 200
MaxSessions 200
LogLevel INFO
""" + (f"SetEnv {env_line}\n" if env_line else ""))
        self.client_config = os.path.join(folder, "ssh_config")
        with open(self.client_config, "w") as f:
            f.write(f"""Host *
  IdentityFile {folder}/client_key
  IdentitiesOnly yes
  UserKnownHostsFile {self.known_hosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
""")
        self.ssh_command = f"ssh -F {self.client_config}"
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation
        self.proc = subprocess.Popen([SSHD, "-D", "-f", self.config, "-E", self.log],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start; see {self.log}: {self.log_text()[-500:]}")
            time.sleep(0.01)

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def url(self, home: str = "") -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{home}"

    def log_text(self) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def logins(self) -> int:
        """How many ssh handshakes sshd accepted (one line each in its log)."""
        return len(re.findall(r"Accepted publickey for ", self.log_text()))

    def master_pid(self, control_path: str) -> int | None:
        """The pid of the ssh ControlMaster listening on control_path, else None."""
        r = subprocess.run(["ssh", "-F", self.client_config, "-o", f"ControlPath={control_path}",
                            "-O", "check", "-p", str(self.port), f"{self.user}@127.0.0.1"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        m = re.search(rb"Master running \(pid=(\d+)\)", r.stderr)
        return int(m.group(1)) if m else None

    def stop(self) -> None:
        """sshd and the per-connection sshd processes it forked, by pid."""
        children = []
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            pass
        for pid in [self.proc.pid] + children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in children:
            deadline = time.monotonic() + 5
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
