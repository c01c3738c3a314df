"""What /proc says about a process: CPU time, context switches, RSS, identity."""
import os
import signal

CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """Fields of /proc/PID/stat after the comm (rest[0] is field 3, state), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_ticks(pid):
    """utime + stime of the whole process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime is field 14, stime field 15
    return int(rest[11]) + int(rest[12])


def ticks_ms(ticks):
    return ticks * 1000.0 / CLK_TCK


def sched_ns(pid):
    """On-CPU time in ns summed over all threads (/proc/PID/task/*/schedstat), or None."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            out[k] = v.strip()
    return out


def ctxt_switches(pid):
    """(voluntary + nonvoluntary context switches summed over every thread, thread count)."""
    total = 0
    tids = os.listdir(f"/proc/{pid}/task")
    for tid in tids:
        try:
            st = status(f"{pid}/task/{tid}")
        except OSError:
            continue
        total += int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
    return total, len(tids)


def rss_mib(pid):
    kb = status(pid)["VmRSS"].split()[0]
    return int(kb) / 1024.0


def pss_mib(pid):
    """Proportional set size (shared pages divided among their users), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for ln in f:
                if ln.startswith("Pss:"):
                    return int(ln.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def same_process(pid, start_ticks):
    """pid is alive (not a zombie) and, when known, started at start_ticks."""
    st = stat_fields(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return start_ticks is None or int(st[19]) == int(start_ticks)


def kill_pid(pid, start_ticks):
    """SIGKILL pid if it is still the process that started at start_ticks (None: any)."""
    if same_process(pid, start_ticks):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
