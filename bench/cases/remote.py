"""remote: `sbx status` and `sbx start` over ssh to localhost (a private sshd on 127.0.0.1),
with connection reuse (sbx's ControlMaster default) and without (ControlMaster=no: a
handshake each), next to `ssh host true` both ways and the same commands locally."""
import glob
import importlib.util
import os
import shutil
import tempfile

from lib import REPO, BenchError
from lib.report import say

NAME = "remote"
NEEDS = ("floor",)


def _load_sshd():
    """tests/e2e/sshd.py, the sshd fixture of the e2e tests, loaded by its path."""
    spec = importlib.util.spec_from_file_location("sbx_sshd", os.path.join(REPO, "tests", "e2e", "sshd.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(ctx):
    sshd_mod = _load_sshd()
    if not os.access(sshd_mod.SSHD, os.X_OK) or not shutil.which("ssh"):
        raise BenchError("needs OpenSSH: /usr/sbin/sshd and ssh (apt-get install openssh-server)")
    runs = 30 if ctx.quick else 60
    handshake_runs = 10 if ctx.quick else 20
    ssh_dir = tempfile.mkdtemp(prefix="sbxb-ssh.", dir="/tmp")
    server = sshd_mod.Sshd(ssh_dir)
    try:
        with ctx.home() as local, ctx.home() as remote:
            target = f"{server.user}@127.0.0.1"
            ssh = ["ssh", "-F", server.client_config, "-p", str(server.port)]
            mux = ["-o", "ControlMaster=auto", "-o", f"ControlPath={local.dir}/bench-mux-%C",
                   "-o", "ControlPersist=60s"]
            env = dict(local.env, SBX_HOST=server.url(remote.dir), SBX_SSH_COMMAND=server.ssh_command,
                       SBX_REMOTE_SBX=ctx.sbx)
            no_reuse = dict(env, SBX_SSH_COMMAND=server.ssh_command + " -o ControlMaster=no")
            first = local.start("true")
            rfirst = remote.start("true")  # the remote home's daemon, started here
            try:
                t = ctx.timer
                ssh_true = t.time(ssh + ["-o", "ControlMaster=no", target, "true"], handshake_runs,
                                  local.env, warmup=2)
                ssh_mux = t.time(ssh + mux + [target, "true"], runs, local.env, warmup=3)
                local_status = t.time(local.argv("status", first), runs, local.env, warmup=5)
                local_start = t.time(local.argv("start", "--", "true"), runs, local.env, warmup=5)
                status_reuse = t.time(local.argv("status", rfirst), runs, env, warmup=3)
                start_reuse = t.time(local.argv("start", "--", "true"), runs, env, warmup=3)
                status_new = t.time(local.argv("status", rfirst), handshake_runs, no_reuse, warmup=1)
                start_new = t.time(local.argv("start", "--", "true"), handshake_runs, no_reuse, warmup=1)
            finally:
                for path in glob.glob(os.path.join(local.dir, "sbx-ssh-*")) + \
                        glob.glob(os.path.join(local.dir, "bench-mux-*")):
                    pid = server.master_pid(path)
                    if pid:
                        os.kill(pid, 9)
            ctx.versus_floor("ssh localhost true (a handshake each)", ssh_true)
            ctx.versus_floor("ssh localhost true (ControlMaster reused)", ssh_mux)
            ctx.versus_floor("status ID, local", local_status)
            ctx.versus_floor("status ID over ssh, connection reused", status_reuse)
            ctx.versus_floor("status ID over ssh, a handshake each", status_new)
            ctx.versus_floor("start -- true, local", local_start)
            ctx.versus_floor("start -- true over ssh, connection reused", start_reuse)
            ctx.versus_floor("start -- true over ssh, a handshake each", start_new)
            say(f"  (sshd logins: {server.logins()}; reuse makes one per run of the reused lines)")
    finally:
        server.stop()
        shutil.rmtree(ssh_dir, ignore_errors=True)
