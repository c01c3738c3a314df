"""wait-port: lag from listen() to `sbx wait-port` returning: with the owner check (the
port must be the tree's, the default), with --any-owner (anything that accepts), and
without a PORT (the first the tree listens on)."""
import os
import socket
import time

from lib.ready import LISTEN_PY, lag_line, py, ready_lag, stamp_in, status_reference

NAME = "wait-port"
NEEDS = ()


def run(ctx):
    reps = 20
    with ctx.home() as h:
        h.run("ps")
        state = h.state_dir()
        ports = {}

        def cmd():
            with socket.socket() as sk:  # a free port on 127.0.0.1, for the child to take
                sk.bind(("127.0.0.1", 0))
                ports["next"] = sk.getsockname()[1]
            return [*py(), "-c", LISTEN_PY, str(ports["next"]), "0.3", "0.5"]

        def stamp(pid_id, _out):
            path = os.path.join(state, "logs", f"{pid_id}.stdout")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # the line follows listen() by a little
                with open(path) as f:
                    st = stamp_in(f.read(), "LISTEN")
                if st is not None:
                    return st
                time.sleep(0.01)
            return None

        variants = (("wait-port: listen() -> returned", lambda i: ["wait-port", i, str(ports["next"])]),
                    ("wait-port --any-owner: listen() -> returned",
                     lambda i: ["wait-port", i, str(ports["next"]), "--any-owner"]),
                    ("wait-port, no PORT: listen() -> returned", lambda i: ["wait-port", i]))
        for label, args in variants:
            lags, early = ready_lag(h, "wait-port", cmd, args, stamp, reps)
            lag_line(label, lags, early, 25e-3, "25 ms")
        status_reference(ctx, h)        # unless wait-log printed it already
        h.kill_all()
