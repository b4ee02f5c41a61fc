#!/usr/bin/env python3
"""ipctop overhead benchmark (project issue 3). Run as root from anywhere:

    python3 bench/run.py              # full run, about 9 minutes on 2 CPUs
    python3 bench/run.py --quick      # smoke test, about 2 minutes

Measures the slowdown ipctop adds to IPC-heavy workloads, next to a minimal
bpftrace script and a minimal libbpf aggregator (the "floor", and "floor_wake":
the floor plus a program at every wakeup), plus ipctop's
own CPU, peak RSS and start-up time, and checks them against the targets.
Writes bench/results/latest.md, latest.json and overhead.svg. See
bench/README.md. Only the standard library is used.
"""
import argparse
import ctypes
import json
import math
import os
import platform
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(HERE, "build")
RESULTS = os.path.join(HERE, "results")
TRACEFS = "/sys/kernel/tracing"
BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SYSV_KEY_PREFIX = 0x1B7C  # ipcbench's SysV keys are 0x1B7C0000 | pid
MODES = ["untraced", "ipctop", "floor", "floor_wake", "bpftrace"]
TRACERS = MODES[1:]

# id, ipcbench workload, placement, label
WORKLOADS = [
    ("pipe/1cpu", "pipe", "same", "pipe 1 B ping-pong, one core"),
    ("pipe/2cpu", "pipe", "cross", "pipe 1 B ping-pong, two cores"),
    ("unix_stream/1cpu", "unix_stream", "same", "unix stream 1 B, one core"),
    ("unix_stream/2cpu", "unix_stream", "cross", "unix stream 1 B, two cores"),
    ("unix_dgram/1cpu", "unix_dgram", "same", "unix dgram 1 B, one core"),
    ("unix_dgram/2cpu", "unix_dgram", "cross", "unix dgram 1 B, two cores"),
    ("tcp/1cpu", "tcp", "same", "TCP loopback 1 B, one core"),
    ("tcp/2cpu", "tcp", "cross", "TCP loopback 1 B, two cores"),
    ("sysv_msg/1cpu", "sysv_msg", "same", "SysV msg queue 1 B, one core"),
    ("sysv_msg/2cpu", "sysv_msg", "cross", "SysV msg queue 1 B, two cores"),
    ("posix_mq/1cpu", "posix_mq", "same", "POSIX mq 1 B, one core"),
    ("posix_mq/2cpu", "posix_mq", "cross", "POSIX mq 1 B, two cores"),
    ("sem/1cpu", "sem", "same", "shared-memory sem ping-pong, one core"),
    ("sem/2cpu", "sem", "cross", "shared-memory sem ping-pong, two cores"),
    ("stream64k/1cpu", "stream64k", "same", "pipe 64 KiB streaming, one core"),
    ("stream64k/2cpu", "stream64k", "cross", "pipe 64 KiB streaming, two cores"),
    ("yield/1cpu", "yield", "same", "sched_yield storm, one core"),
    ("devnull/1cpu", "devnull", "same", "write() 1 B to /dev/null"),
]
QUICK_WORKLOADS = ["pipe/1cpu", "unix_dgram/1cpu", "stream64k/1cpu", "yield/1cpu", "devnull/1cpu"]
PROFILE_WORKLOADS = ["pipe/1cpu", "unix_stream/1cpu", "unix_dgram/1cpu", "tcp/1cpu",
                     "sysv_msg/1cpu", "stream64k/1cpu", "yield/1cpu", "devnull/1cpu"]

# Syscall numbers of the IPC syscalls the floor and the bpftrace script count:
# read write sendto recvfrom sendmsg recvmsg msgsnd msgrcv mq_timedsend mq_timedreceive
SYSCALLS = {
    "x86_64": ([0, 1, 44, 45, 46, 47, 69, 70, 242, 243], 321, "x86"),
    "aarch64": ([63, 64, 206, 207, 211, 212, 189, 188, 182, 183], 280, "arm64"),
}
TRACING_PROG_TYPES = {"tracing", "raw_tracepoint", "raw_tracepoint_writable", "tracepoint",
                      "kprobe", "perf_event", "ext", "lsm"}

libc = ctypes.CDLL(None, use_errno=True)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Cleanup: everything started or changed is undone here, also on SIGINT,
# SIGTERM and the global timeout.
# --------------------------------------------------------------------------
class Cleanup:
    def __init__(self):
        self.procs = {}  # pid -> (Popen, polite signal)
        self.workload_pids = []
        self.unmount_tracefs = False
        self.bpf_stats_old = None
        self.tmpdir = None

    def add(self, p, polite=signal.SIGTERM):
        self.procs[p.pid] = (p, polite)
        return p

    def forget(self, p):
        self.procs.pop(p.pid, None)

    def stop(self, p, timeout=10.0):
        """Polite signal to the process, then SIGKILL to its process group."""
        polite = self.procs.get(p.pid, (p, signal.SIGTERM))[1]
        if p.poll() is None:
            try:
                p.send_signal(polite)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        # Every child runs in its own session: its pid is its group id.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.forget(p)
        return p.returncode

    def run(self):
        for p, _ in list(self.procs.values()):
            self.stop(p, timeout=3.0)
        remove_sysv_queues()
        for pid in self.workload_pids:
            unlink_mqs(pid)
        self.workload_pids.clear()
        if self.bpf_stats_old is not None:
            try:
                with open(BPF_STATS, "w") as f:
                    f.write(self.bpf_stats_old)
            except OSError as e:
                log(f"warning: cannot restore {BPF_STATS}: {e}")
            self.bpf_stats_old = None
        if self.unmount_tracefs:
            subprocess.run(["umount", TRACEFS], check=False)
            self.unmount_tracefs = False
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


CLEANUP = Cleanup()


class Abort(Exception):
    pass


def on_signal(sig, _frame):
    raise Abort(f"interrupted by {signal.Signals(sig).name}")


def on_alarm(_sig, _frame):
    raise Abort("global timeout reached")


def remove_sysv_queues():
    try:
        with open("/proc/sysvipc/msg") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if len(fields) > 1 and (int(fields[0]) & 0xFFFFFFFF) >> 16 == SYSV_KEY_PREFIX:
            libc.msgctl(int(fields[1]), 0, None)  # IPC_RMID


def unlink_mqs(pid):
    for i in (0, 1):
        libc.mq_unlink(f"/ipcbench.{pid}.{i}".encode())


# --------------------------------------------------------------------------
# Build: the workload program and the floor, into bench/build/.
# --------------------------------------------------------------------------
def newer(target, *sources):
    if not os.path.exists(target):
        return False
    t = os.path.getmtime(target)
    return all(os.path.getmtime(s) <= t for s in sources)


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def build(arch):
    os.makedirs(BUILD, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    src = os.path.join(HERE, "workload.c")
    ipcbench = os.path.join(BUILD, "ipcbench")
    if not newer(ipcbench, src):
        sh([cc, "-O2", "-g", "-Wall", "-Wextra", "-pthread", "-o", ipcbench, src])

    # The floor needs kernel types: dump them from the running kernel (bench only).
    release = platform.release()
    vmlinux = os.path.join(BUILD, "vmlinux.h")
    stamp = os.path.join(BUILD, "vmlinux.release")
    if not os.path.exists(vmlinux) or not os.path.exists(stamp) or open(stamp).read() != release:
        out = sh(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"])
        with open(vmlinux, "w") as f:
            f.write(out)
        with open(stamp, "w") as f:
            f.write(release)
    bpf_src = os.path.join(HERE, "floor.bpf.c")
    obj = os.path.join(BUILD, "floor.bpf.o")
    skel = os.path.join(BUILD, "floor.skel.h")
    if not newer(obj, bpf_src, vmlinux):
        multiarch = subprocess.run([cc, "-print-multiarch"], capture_output=True,
                                   text=True).stdout.strip()
        clang = shutil.which("clang") or shutil.which("clang-14") or "clang"
        sh([clang, "-g", "-O2", "-target", "bpf", f"-D__TARGET_ARCH_{SYSCALLS[arch][2]}",
            "-Wall", "-I", BUILD] + (["-idirafter", f"/usr/include/{multiarch}"] if multiarch else [])
           + ["-c", bpf_src, "-o", obj])
    if not newer(skel, obj):
        with open(skel, "w") as f:
            f.write(sh(["bpftool", "gen", "skeleton", obj, "name", "floor_bpf"]))
    loader_src = os.path.join(HERE, "floor.c")
    floor = os.path.join(BUILD, "floor")
    if not newer(floor, loader_src, skel):
        libs = subprocess.run(["pkg-config", "--cflags", "--libs", "libbpf"], capture_output=True,
                              text=True).stdout.split() or ["-lbpf"]
        sh([cc, "-O2", "-g", "-Wall", "-Wextra", "-I", BUILD, "-o", floor, loader_src] + libs)

    nrs = SYSCALLS[arch][0]
    cond = " || ".join(f"args->id == {n}" for n in nrs)
    script = os.path.join(BUILD, "minimal.bt")
    with open(script, "w") as f:
        f.write(f"""// Generated by bench/run.py: the bpftrace equivalent of the floor.
// Bytes per tgid at syscall exit of read write sendto recvfrom sendmsg recvmsg
// msgsnd msgrcv mq_timedsend mq_timedreceive, and a sched_switch count,
// printed once a second like ipctop -d 1.
BEGIN {{ printf("attached\\n"); }}
tracepoint:raw_syscalls:sys_exit /args->ret > 0 && ({cond})/ {{ @bytes[pid] = sum(args->ret); }}
tracepoint:sched:sched_switch {{ @switches = count(); }}
interval:s:1 {{ print(@bytes); print(@switches); }}
END {{ clear(@bytes); clear(@switches); }}
""")
    return ipcbench, floor, script


# --------------------------------------------------------------------------
# BPF program census: which programs exist, so that runs disturbed by
# somebody else's tracer (other ipctop tests, say) are noticed and redone.
# --------------------------------------------------------------------------
class Census:
    def __init__(self, sys_bpf):
        self.sys_bpf = sys_bpf
        self.benign = set()  # non-tracing programs (cgroup filters, ...)
        self.ours = set()
        self.types = {}
        self.load_wait = 5.0  # seconds to wait for other programs' CPU load to drop

    def ids(self):
        attr = (ctypes.c_uint32 * 4)()
        out, start = set(), 0
        while True:
            attr[0], attr[1] = start, 0
            if libc.syscall(self.sys_bpf, 11, ctypes.byref(attr), 16) != 0:  # BPF_PROG_GET_NEXT_ID
                return out
            start = attr[1]
            out.add(start)

    def classify(self, ids):
        unknown = [i for i in ids if i not in self.types]
        if unknown:
            r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
            try:
                for p in json.loads(r.stdout or "[]"):
                    self.types[p["id"]] = p.get("type", "?")
            except ValueError:
                pass
        for i in ids:
            if self.types.get(i, "gone") not in TRACING_PROG_TYPES and i in self.types:
                self.benign.add(i)

    def foreign(self, ids):
        """Tracing programs that are not ours, among `ids` (gone ones count too)."""
        rest = ids - self.benign - self.ours
        if rest:
            self.classify(rest)
            rest = ids - self.benign - self.ours
        return rest

    def wait_quiet(self, max_wait, max_load=0.05, load_wait=None):
        """Wait up to max_wait s until no foreign BPF tracer is loaded, and up to
        load_wait s until other programs use less than max_load of one CPU
        (sampled over 0.5 s)."""
        load_wait = self.load_wait if load_wait is None else load_wait
        t0 = time.monotonic()
        warned = False
        while True:
            f = self.foreign(self.ids())
            load = 0.0
            if load_wait > 0:
                a = others_cpu({os.getpid()})
                time.sleep(0.5)
                load = others_delta(a, others_cpu({os.getpid()})) / 0.5
            elif f:
                time.sleep(0.5)
            if not f and load <= max_load:
                return True
            why = (f"foreign BPF tracing programs {sorted(f)}" if f else
                   f"other programs using {100 * load:.0f} % of a CPU")
            limit = max_wait if f else min(max_wait, load_wait)
            if time.monotonic() - t0 > limit:
                log(f"  warning: still {why} after {limit:.0f} s; going on")
                return False
            if not warned:
                log(f"  waiting for a quiet machine: {why}")
                warned = True


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------
def raise_memlock():
    try:
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def proc_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        rest = s[s.rfind(")") + 2:].split()
        return int(rest[11]) + int(rest[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def proc_cpu_s(pid):
    """On-CPU seconds of all threads, from /proc/<pid>/task/*/schedstat (ns
    precision); falls back to utime+stime from /proc/<pid>/stat (ticks)."""
    try:
        total = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        ticks = proc_cpu_ticks(pid)
        return None if ticks is None else ticks / CLK_TCK


def proc_status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Tracer:
    """One tracer process with its output in a temp file."""

    def __init__(self, mode, cmd, ready, tmpdir):
        self.mode, self.cmd, self.ready = mode, cmd, ready
        self.out = os.path.join(tmpdir, f"{mode}.out")
        self.err = os.path.join(tmpdir, f"{mode}.err")
        self.p = None
        self.t_ready = None
        self.cpu_ready = None

    def start(self, census, timeout=30.0):
        before = census.ids()
        t0 = time.monotonic()
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.p = CLEANUP.add(subprocess.Popen(self.cmd, stdout=out, stderr=err,
                                                  stdin=subprocess.DEVNULL,
                                                  start_new_session=True,
                                                  preexec_fn=raise_memlock),
                                 polite=signal.SIGINT)
        while not self.ready(self.output(), self.p.pid):
            if self.p.poll() is not None:
                raise SystemExit(f"{self.mode} exited with {self.p.returncode} before attaching:\n"
                                 + open(self.err).read()[-2000:])
            if time.monotonic() - t0 > timeout:
                raise SystemExit(f"{self.mode} not attached after {timeout} s")
            time.sleep(0.01)
        self.t_ready = time.monotonic()
        self.cpu_ready = proc_cpu_s(self.p.pid)
        census.ours |= census.ids() - before
        return self.t_ready - t0

    def output(self):
        try:
            with open(self.out) as f:
                return f.read()
        except OSError:
            return ""

    def cpu_fraction(self):
        """CPU time (user+sys) per second of wall time since it attached."""
        cpu = proc_cpu_s(self.p.pid)
        if cpu is None or self.cpu_ready is None:
            return None
        return (cpu - self.cpu_ready) / max(time.monotonic() - self.t_ready, 1e-9)

    def stop(self):
        hwm = proc_status_kb(self.p.pid, "VmHWM")
        rc = CLEANUP.stop(self.p)
        return rc, hwm


def bpf_links(pid):
    """Number of BPF links a process holds: one per attached program."""
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf_link"
            except OSError:
                pass
    except OSError:
        pass
    return n


IPCTOP_LINKS = [0]  # links ipctop holds once attached, learned from a first-line start


def make_tracer(mode, args, floor, script, tmpdir, interval=1.0, fast_ready=False):
    """fast_ready: ipctop counts as attached once it holds all its BPF links,
    rather than at its first snapshot (one interval later)."""
    if mode == "ipctop":
        def ready(s, pid):
            if "\n" in s:
                IPCTOP_LINKS[0] = max(IPCTOP_LINKS[0], bpf_links(pid))
                return True
            return fast_ready and IPCTOP_LINKS[0] > 0 and bpf_links(pid) >= IPCTOP_LINKS[0]
        return Tracer(mode, [args.ipctop, "--json", "-d", str(interval)], ready, tmpdir)
    if mode in ("floor", "floor_wake"):
        argv = [floor, str(interval)] + (["wake"] if mode == "floor_wake" else [])
        return Tracer(mode, argv, lambda s, _: "attached" in s, tmpdir)
    if mode == "bpftrace":
        return Tracer(mode, ["bpftrace", script], lambda s, _: "attached" in s, tmpdir)
    raise ValueError(mode)


def others_cpu(exclude):
    """CPU ticks (user+sys, plus waited-for children) of every user-space process
    but the excluded ones: a later call minus this one is the CPU that other
    programs (somebody's build, say) took during a run."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in exclude:
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        if len(rest) < 15 or rest[1] in ("0", "2") or d == "2":  # kernel threads
            continue
        out[int(d)] = (rest[19], sum(int(x) for x in rest[11:15]))  # (start time, ticks)
    return out


def others_delta(a, b):
    total = 0
    for pid, (start, ticks) in b.items():
        old = a.get(pid)
        total += ticks - old[1] if old and old[0] == start else ticks
    # A process reaped in between moved its whole time into its parent's
    # children time: only what it used since `a` is new.
    for pid, (start, ticks) in a.items():
        if pid not in b or b[pid][0] != start:
            total -= ticks
    return max(total, 0) / CLK_TCK


def steal_s():
    with open("/proc/stat") as f:
        v = f.readline().split()
    return int(v[8]) / CLK_TCK if len(v) > 8 else 0.0


def run_workload(ipcbench, wl, placement, seconds, rate=None, tracer=None):
    """One run. Besides the workload's JSON, reports `foreign_s`: CPU time other
    user-space programs took during the run, and `steal_s` (hypervisor steal)."""
    cmd = [ipcbench, wl, placement, f"{seconds:g}"] + ([f"{rate:g}"] if rate else [])
    exclude = {os.getpid()} | ({tracer.p.pid} if tracer else set())
    others0, steal0 = others_cpu(exclude), steal_s()
    p = CLEANUP.add(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, start_new_session=True))
    CLEANUP.workload_pids.append(p.pid)
    try:
        out, err = p.communicate(timeout=seconds + 20)
    except subprocess.TimeoutExpired:
        CLEANUP.stop(p)
        raise SystemExit(f"workload {wl} {placement} hung")
    CLEANUP.forget(p)
    others1, steal1 = others_cpu(exclude), steal_s()
    if p.returncode != 0:
        raise SystemExit(f"workload {wl} {placement} failed ({p.returncode}): {err.strip()}")
    res = json.loads(out.strip().splitlines()[-1])
    res["foreign_s"] = others_delta(others0, others1)
    res["steal_s"] = steal1 - steal0
    return res


def run_clean(args, ipcbench, wl, placement, tracer, census):
    """Run; redo (up to `retries` times) when another BPF tracer was loaded
    meanwhile (other ipctop tests, say). Returns (result, attempts, note).
    Background CPU load is only recorded: the workloads are pinned and run at
    nice -20, so other programs mostly get the other CPU or little time."""
    note = ""
    for attempt in range(1 + args.retries):
        ids0 = census.ids()
        res = run_workload(ipcbench, wl, placement, args.duration, tracer=tracer)
        foreign_progs = census.foreign(ids0 | census.ids())
        if not foreign_progs:
            return res, attempt + 1, ""
        note = f"foreign BPF programs {sorted(foreign_progs)}"
        census.wait_quiet(args.quiet_wait, load_wait=0)
    return res, 1 + args.retries, note


def bpftool_progs(ids):
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    out = {}
    for p in json.loads(r.stdout or "[]"):
        if p["id"] in ids:
            out[p["id"]] = (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
    return out


# --------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------
def phase_attach(args, reps):
    """Time from exec to the first line of `ipctop --json -d 0.05`, minus 0.05 s."""
    times = []
    for _ in range(reps):
        t0 = time.monotonic()
        p = CLEANUP.add(subprocess.Popen([args.ipctop, "--json", "-d", "0.05"], stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                         start_new_session=True), polite=signal.SIGINT)
        line = b""
        while not line.endswith(b"\n") and time.monotonic() - t0 < 15:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                line += chunk
        t1 = time.monotonic()
        IPCTOP_LINKS[0] = max(IPCTOP_LINKS[0], bpf_links(p.pid))
        CLEANUP.stop(p)
        p.stdout.close()
        if not line.endswith(b"\n") and b"\n" not in line:
            raise SystemExit("ipctop printed no line within 15 s")
        times.append(t1 - t0 - 0.05)
        time.sleep(0.2)
    return times


def phase_main(args, census, ipcbench, floor, script, workloads):
    """Rounds of: for each workload, one run per mode back to back (a fresh
    tracer for each traced run), modes rotated from run group to run group, so
    that the runs compared with each other are seconds apart."""
    runs = {m: {w[0]: [None] * args.runs for w in workloads} for m in args.modes}
    info = {"ipctop_cpu": [], "ipctop_hwm_kb": [], "ipctop_lost": 0, "redone": 0, "foreign_s": [],
            "disturbed": [], "loadavg": [], "tracer_start_s": {m: [] for m in TRACERS},
            "bad_exit": []}
    for r in range(args.runs):
        t0 = time.monotonic()
        info["loadavg"].append(os.getloadavg()[0])
        for wi, (wid, wl, placement, _) in enumerate(workloads):
            k = (r + wi) % len(args.modes)
            for mode in args.modes[k:] + args.modes[:k]:
                census.wait_quiet(args.quiet_wait, load_wait=0)
                tracer = None
                if mode != "untraced":
                    tracer = make_tracer(mode, args, floor, script, CLEANUP.tmpdir, fast_ready=True)
                    info["tracer_start_s"][mode].append(tracer.start(census))
                    time.sleep(args.settle)
                res, attempts, note = run_clean(args, ipcbench, wl, placement, tracer, census)
                info["redone"] += attempts - 1
                info["foreign_s"].append(res["foreign_s"])
                if note:
                    info["disturbed"].append(f"{wid}/{mode}/r{r + 1}")
                    log(f"  {wid} under {mode}: still disturbed after {attempts} attempts ({note})")
                runs[mode][wid][r] = res["ops_per_s"]
                if tracer:
                    cpu = tracer.cpu_fraction()
                    rc, hwm = tracer.stop()
                    if rc not in (0, -signal.SIGINT):
                        info["bad_exit"].append(f"{mode}:{rc}")
                        log(f"  warning: {mode} exited with {rc}: "
                            + open(tracer.err).read().strip()[-300:])
                    if mode == "ipctop":
                        info["ipctop_cpu"].append(cpu)
                        info["ipctop_hwm_kb"].append(hwm)
                        info["ipctop_lost"] += count_ipctop_lost(tracer.output())
        done = {m: [runs[m][w[0]][r] for w in workloads] for m in args.modes}
        line = ", ".join(f"{m} {statistics.median([u / t for u, t in zip(done['untraced'], done[m])]):.2f}"
                         for m in TRACERS if m in args.modes)
        log(f"[round {r + 1}/{args.runs}] {len(workloads)} workloads × {len(args.modes)} modes in "
            f"{time.monotonic() - t0:5.1f} s; median slowdown {line}")
    return runs, info


def count_ipctop_lost(output):
    lost = 0
    for line in output.splitlines():
        try:
            lost += json.loads(line).get("lost", {}).get("events", 0)
        except ValueError:
            pass
    return lost


def phase_cpu(args, census, ipcbench, rate_ops, seconds):
    """ipctop's CPU with -d 1 while pipe ping-pong (4 syscalls/op) runs at `rate_ops`."""
    census.wait_quiet(args.quiet_wait)
    tracer = make_tracer("ipctop", args, None, None, CLEANUP.tmpdir, interval=1.0)
    tracer.start(census)
    res = run_workload(ipcbench, "pipe", "same", seconds, rate=rate_ops)
    cpu = tracer.cpu_fraction()
    tracer.stop()
    return cpu, res["ops_per_s"] * 4


def phase_rss(args, census, ipcbench, variant, nproc=20, nthreads=500):
    """Peak RSS of ipctop -d 1 over 3 intervals with nproc*nthreads idle threads alive."""
    census.wait_quiet(args.quiet_wait)
    helpers = []
    try:
        for _ in range(nproc):
            p = CLEANUP.add(subprocess.Popen([ipcbench, "threads", str(nthreads), "300", variant],
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             stdin=subprocess.DEVNULL, start_new_session=True))
            helpers.append(p)
        for p in helpers:
            r, _, _ = select.select([p.stdout], [], [], 30)
            if not r or not p.stdout.readline().startswith(b"ready"):
                raise SystemExit("thread helper did not start: " + p.stderr.read(500).decode())
        time.sleep(1.2)  # let waking threads go through one sleep cycle
        tracer = make_tracer("ipctop", args, None, None, CLEANUP.tmpdir)
        tracer.start(census)
        t0 = time.monotonic()
        while tracer.output().count("\n") < 3 and time.monotonic() - t0 < 30:
            time.sleep(0.05)
        out = tracer.output()
        hwm = proc_status_kb(tracer.p.pid, "VmHWM")
        # The last interval (printed on SIGINT) counts too: sample until it exits.
        tracer.p.send_signal(signal.SIGINT)
        while tracer.p.poll() is None:
            v = proc_status_kb(tracer.p.pid, "VmHWM")
            if v:
                hwm = max(hwm or 0, v)
            time.sleep(0.01)
        CLEANUP.stop(tracer.p)
        pids = {p.pid for p in helpers}
        seen = 0
        lines = out.splitlines()
        if len(lines) >= 3:
            snap = json.loads(lines[2])
            seen = sum(len(p.get("threads", [])) for p in snap.get("processes", [])
                       if p.get("pid") in pids)
        return hwm, seen, len(lines)
    finally:
        for p in helpers:
            CLEANUP.stop(p)
            p.stdout.close()
            p.stderr.close()


def phase_profile(args, census, ipcbench, floor, script, workloads):
    """Per-program BPF run time (kernel.bpf_stats_enabled) for ipctop and the floor."""
    with open(BPF_STATS) as f:
        CLEANUP.bpf_stats_old = f.read().strip() + "\n"
    with open(BPF_STATS, "w") as f:
        f.write("1\n")
    rows = []
    try:
        for mode in ("ipctop", "floor"):
            census.wait_quiet(args.quiet_wait)
            before = census.ids()
            tracer = make_tracer(mode, args, floor, script, CLEANUP.tmpdir)
            tracer.start(census)
            mine = census.ids() - before
            time.sleep(args.settle)
            for wid, wl, placement, _ in workloads:
                s0 = bpftool_progs(mine)
                res = run_workload(ipcbench, wl, placement, args.profile_duration)
                s1 = bpftool_progs(mine)
                ops = res["ops_total"]
                for pid, (name, ns1, cnt1) in sorted(s1.items()):
                    _, ns0, cnt0 = s0.get(pid, (name, 0, 0))
                    if cnt1 - cnt0 >= 0.01 * ops:  # lifecycle probes barely run
                        rows.append({"mode": mode, "workload": wid, "prog": name,
                                     "calls_per_op": (cnt1 - cnt0) / ops,
                                     "ns_per_call": (ns1 - ns0) / (cnt1 - cnt0),
                                     "ns_per_op": (ns1 - ns0) / ops})
            tracer.stop()
    finally:
        with open(BPF_STATS, "w") as f:
            f.write(CLEANUP.bpf_stats_old)
        CLEANUP.bpf_stats_old = None
    return rows


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def slowdowns(runs, mode, wid):
    base, traced = runs["untraced"][wid], runs[mode][wid]
    return [b / t for b, t in zip(base, traced) if b and t]


def fmt_sd(xs):
    if not xs:
        return "n/a"
    return f"{statistics.median(xs):.3f} ({min(xs):.2f}–{max(xs):.2f})"


def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def build_report(args, machine, workloads, runs, info, extras, profile, elapsed):
    L = []
    L.append("# ipctop overhead benchmark")
    L.append("")
    L.append(f"- machine: {machine['nproc']} CPUs ({machine['cpu']}), kernel {machine['kernel']}, "
             f"{machine['os']}")
    L.append(f"- ipctop: {machine['ipctop']}; bpftrace: {machine['bpftrace']}")
    L.append(f"- date: {machine['date']}; command: `{machine['command']}`; "
             f"total runtime {elapsed:.0f} s")
    L.append(f"- method: {args.runs} rounds, modes interleaved and rotated "
             f"({' → '.join(args.modes)}), {args.duration:g} s per run after a 0.1 s warm-up; "
             "each traced run has its own tracer, started before and stopped after it; "
             "slowdown = untraced ops/s ÷ traced ops/s of the same round, median (min–max); "
             f"workloads and tracers at nice {args.nice}")
    bg = [f / args.duration for f in info["foreign_s"]] or [0.0]
    if info["loadavg"]:
        L.append(f"- 1-min load average at session starts: {min(info['loadavg']):.2f}–"
                 f"{max(info['loadavg']):.2f}; CPU used by other programs during the runs: median "
                 f"{100 * statistics.median(bg):.0f} %, max {100 * max(bg):.0f} % of one CPU; "
                 f"runs redone because another BPF tracer was loaded: {info['redone']}; "
                 f"kept although one was: {len(info['disturbed'])} {' '.join(info['disturbed'])}")
    L.append("")
    L.append("## Slowdown by workload")
    L.append("")
    has = {m: m in args.modes for m in MODES}
    L.append("| workload | untraced ops/s | ipctop | floor | floor_wake | bpftrace | ipctop ÷ floor "
             "| ≤ 1.10 × floor | < bpftrace | ipctop ÷ floor_wake |")
    L.append("|---|---:|---:|---:|---:|---:|---:|:---:|:---:|---:|")
    summary = {"floor_ok": 0, "bpftrace_ok": 0, "wake_ok": 0, "n": 0, "rows": {}}
    for wid, _, _, label in workloads:
        base = med(runs["untraced"][wid])
        sd = {m: slowdowns(runs, m, wid) for m in TRACERS if has[m]}
        mi = med(sd.get("ipctop", []))
        mf = med(sd.get("floor", []))
        mb = med(sd.get("bpftrace", []))
        mw = med(sd.get("floor_wake", []))
        ratio = mi / mf if mi and mf else None
        ratio_w = mi / mw if mi and mw else None
        ok_f = ratio is not None and ratio <= 1.10
        ok_b = mi is not None and mb is not None and mi < mb
        summary["n"] += 1
        summary["floor_ok"] += ok_f
        summary["bpftrace_ok"] += ok_b
        summary["wake_ok"] += ratio_w is not None and ratio_w <= 1.10
        summary["rows"][wid] = {"label": label, "untraced": base, "ipctop": sd.get("ipctop"),
                                "floor": sd.get("floor"), "floor_wake": sd.get("floor_wake"),
                                "bpftrace": sd.get("bpftrace")}
        L.append(f"| {label} | {fmt_rate(base)} | {fmt_sd(sd.get('ipctop'))} | "
                 f"{fmt_sd(sd.get('floor'))} | {fmt_sd(sd.get('floor_wake'))} | "
                 f"{fmt_sd(sd.get('bpftrace'))} | "
                 f"{f'{ratio:.3f}' if ratio else 'n/a'} | {verdict(ok_f) if ratio else 'n/a'} | "
                 f"{verdict(ok_b) if has['bpftrace'] and mi else 'n/a'} | "
                 f"{f'{ratio_w:.3f}' if ratio_w else 'n/a'} |")
    L.append("")
    L.append("One op is a round trip (4 syscalls) for the ping-pongs, 64 KiB for streaming, one "
             "sched_yield() for the storm, one write() for /dev/null. floor_wake is the floor "
             "plus the least a tracer of wakeups does (a sched_waking program counting "
             "waker → wakee pairs), the hook ipctop needs for wakeups and shared-memory futexes; "
             "ipctop ÷ floor_wake is what ipctop costs beyond having that hook at all.")
    if has["floor_wake"] and "ipctop" in args.modes:
        L.append("")
        L.append(f"ipctop slowdown ≤ 1.10 × floor_wake slowdown (not an issue target; the "
                 f"closing note's argument): {summary['wake_ok']}/{summary['n']} workloads.")
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | measured | limit | result |")
    L.append("|---|---|---|:---:|")
    targets = []

    def target(name, measured, limit, ok):
        targets.append((name, ok))
        L.append(f"| {name} | {measured} | {limit} | {verdict(ok) if ok is not None else 'n/a'} |")

    if "ipctop" in args.modes:
        if has["floor"]:
            target(f"ipctop slowdown ≤ 1.10 × floor slowdown, every workload",
                   f"{summary['floor_ok']}/{summary['n']} workloads", f"{summary['n']}/{summary['n']}",
                   summary["floor_ok"] == summary["n"])
        if has["bpftrace"]:
            target(f"ipctop slowdown < bpftrace slowdown, every workload",
                   f"{summary['bpftrace_ok']}/{summary['n']} workloads",
                   f"{summary['n']}/{summary['n']}", summary["bpftrace_ok"] == summary["n"])
        for wid, limit in (("pipe/1cpu", 1.30), ("stream64k/1cpu", 1.03), ("stream64k/2cpu", 1.03)):
            row = summary["rows"].get(wid)
            if row and row["ipctop"]:
                m = statistics.median(row["ipctop"])
                target(f"{row['label']}: ipctop slowdown", fmt_sd(row["ipctop"]), f"≤ {limit:.2f}",
                       m <= limit)
    if "cpu" in extras:
        cpu, rate = extras["cpu"]
        target(f"ipctop CPU, -d 1, pipe ping-pong at {rate / 1e3:.0f} k IPC syscalls/s",
               f"{100 * cpu:.2f} % of one core", "≤ 2 %", cpu <= 0.02)
    for variant, desc in (("wake", "waking once a second"), ("sleep", "sleeping for good")):
        if variant in extras.get("rss", {}):
            hwm, seen, lines = extras["rss"][variant]
            target(f"ipctop peak RSS (VmHWM), 10 000 threads {desc}, 3 intervals",
                   f"{hwm / 1024:.1f} MiB ({seen} of the threads in interval 3)", "≤ 64 MiB",
                   hwm is not None and hwm <= 64 * 1024)
    if "attach" in extras:
        t = extras["attach"]
        target(f"start to attached (first line of -d 0.05, minus 0.05 s), median of {len(t)}",
               f"{statistics.median(t):.3f} s (max {max(t):.3f} s)", "< 1 s",
               statistics.median(t) < 1.0)
    L.append("")
    L.append("## Other measurements")
    L.append("")
    if info["ipctop_cpu"]:
        c = [x for x in info["ipctop_cpu"] if x is not None]
        h = [x for x in info["ipctop_hwm_kb"] if x is not None]
        L.append(f"- ipctop CPU from attached to stopped around each run (≈ 1 s, its start-up "
                 f"included, -d 1): median "
                 f"{100 * statistics.median(c):.2f} % of one core ({100 * min(c):.2f}–"
                 f"{100 * max(c):.2f} %); VmHWM median {statistics.median(h) / 1024:.1f} MiB; "
                 f"events lost: {info['ipctop_lost']}; tracer exits with an error: "
                 f"{len(info['bad_exit'])} {' '.join(info['bad_exit'])}")
    for m in TRACERS:
        if info["tracer_start_s"].get(m):
            L.append(f"- {m}: start to attached before the runs: median "
                     f"{statistics.median(info['tracer_start_s'][m]):.2f} s"
                     + (" (until it holds all its BPF links)" if m == "ipctop" else
                        " (until it prints that it is attached)"))
    if profile:
        L.append("")
        L.append("## BPF run time per program (kernel.bpf_stats_enabled=1, separate short runs)")
        L.append("")
        L.append("ns/op is the BPF time added to one op; compare with the untraced ns/op "
                 "(1e9 ÷ untraced ops/s).")
        L.append("")
        L.append("| workload | untraced ns/op | tracer | program | calls/op | ns/call | ns/op |")
        L.append("|---|---:|---|---|---:|---:|---:|")
        for p in profile:
            base = med(runs["untraced"].get(p["workload"], [])) if runs else None
            label = dict((w[0], w[3]) for w in WORKLOADS)[p["workload"]]
            L.append(f"| {label} | {1e9 / base:.0f} | {p['mode']} | {p['prog']} | "
                     f"{p['calls_per_op']:.2f} | {p['ns_per_call']:.0f} | {p['ns_per_op']:.0f} |"
                     if base else
                     f"| {label} | n/a | {p['mode']} | {p['prog']} | {p['calls_per_op']:.2f} | "
                     f"{p['ns_per_call']:.0f} | {p['ns_per_op']:.0f} |")
    L.append("")
    L.append("Chart: overhead.svg. Raw numbers: latest.json.")
    return "\n".join(L) + "\n", targets


def svg_chart(workloads, runs, modes, title):
    colors = {"ipctop": "#1f77b4", "floor": "#7f7f7f", "floor_wake": "#bcbd22", "bpftrace": "#ff7f0e"}
    tracers = [m for m in TRACERS if m in modes]
    rows = []
    for wid, _, _, label in workloads:
        rows.append((label, {m: slowdowns(runs, m, wid) for m in tracers}))
    vals = [x for _, d in rows for xs in d.values() for x in xs] or [1.0]
    lo = min(0.9, min(vals) * 0.97)
    hi = max(1.2, max(vals) * 1.03)
    left, right, top, bar, gap = 300, 40, 70, 9, 10
    width = 1000
    plot_w = width - left - right
    group_h = bar * len(tracers) + gap
    height = top + group_h * len(rows) + 50

    def x(v):  # log scale: equal ratios, equal distances
        return left + (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) * plot_w

    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{esc(title)}</text>',
         f'<text x="{width / 2}" y="38" text-anchor="middle" fill="#555">slowdown = untraced ÷ '
         f'traced throughput (log scale): bar = median, whisker = min–max over rounds; '
         f'red tick = 1.10 × floor</text>']
    ticks = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8, 10,
             15, 20, 30, 50, 100]
    for v in ticks:
        if lo <= v <= hi:
            o.append(f'<line x1="{x(v):.1f}" y1="{top - 8}" x2="{x(v):.1f}" y2="{height - 40}" '
                     f'stroke="{"#000" if v == 1.0 else "#ddd"}"/>')
            o.append(f'<text x="{x(v):.1f}" y="{height - 25}" text-anchor="middle">{v:g}</text>')
    for i, (label, d) in enumerate(rows):
        y0 = top + i * group_h
        o.append(f'<text x="{left - 8}" y="{y0 + group_h / 2 - gap / 2 + 4:.1f}" '
                 f'text-anchor="end">{esc(label)}</text>')
        for j, m in enumerate(tracers):
            xs = d[m]
            if not xs:
                continue
            y = y0 + j * bar
            mv = statistics.median(xs)
            a, b = sorted((x(1.0), x(mv)))
            o.append(f'<rect x="{a:.1f}" y="{y:.1f}" width="{max(b - a, 1):.1f}" height="{bar - 1}" '
                     f'fill="{colors[m]}"><title>{m}: {mv:.3f}</title></rect>')
            yc = y + (bar - 1) / 2
            o.append(f'<line x1="{x(min(xs)):.1f}" y1="{yc:.1f}" x2="{x(max(xs)):.1f}" y2="{yc:.1f}" '
                     f'stroke="#222" stroke-width="1"/>')
            if m == "ipctop" and d.get("floor"):
                xl = x(1.10 * statistics.median(d["floor"]))
                o.append(f'<line x1="{xl:.1f}" y1="{y - 1:.1f}" x2="{xl:.1f}" y2="{y + bar:.1f}" '
                         f'stroke="#d62728" stroke-width="2"/>')
    lx = left
    for m in tracers:
        o.append(f'<rect x="{lx}" y="{height - 16}" width="12" height="10" fill="{colors[m]}"/>')
        o.append(f'<text x="{lx + 16}" y="{height - 7}">{m}</text>')
        lx += 110
    o.append("</svg>")
    return "\n".join(o) + "\n"


def git_head():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                       text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (r.stdout.strip() or "?") + ("+dirty" if dirty else "")


def machine_info(args):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    osname = "?"
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    ver = subprocess.run([args.ipctop, "--version"], capture_output=True, text=True).stdout.strip()
    mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(args.ipctop_source)))
    bt = subprocess.run(["bpftrace", "--version"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("bpftrace") else "not installed"
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "os": osname,
            "ipctop": f"{ver} ({os.path.relpath(args.ipctop_source, ROOT)}, built {mtime}, "
                      f"git {git_head()})", "bpftrace": bt,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "command": " ".join(["python3", "bench/run.py"] + sys.argv[1:])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ipctop", default=os.path.join(ROOT, "build", "ipctop"), help="ipctop binary")
    ap.add_argument("--runs", type=int, default=5, help="rounds (runs per workload and mode)")
    ap.add_argument("--duration", type=float, default=0.5, help="seconds per workload run")
    ap.add_argument("--workloads", default="", help="comma-separated workload ids (default: all)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated, from " + ",".join(MODES))
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 3 rounds of 0.4 s, 5 workloads, shorter extras")
    ap.add_argument("--no-extras", action="store_true",
                    help="skip the CPU, RSS, start-up and BPF profile measurements")
    ap.add_argument("--no-profile", action="store_true", help="skip the BPF per-program profile")
    ap.add_argument("--settle", type=float, default=0.3, help="seconds after a tracer is ready")
    ap.add_argument("--retries", type=int, default=2,
                    help="extra attempts for a run during which another BPF tracer was loaded (default 2)")
    ap.add_argument("--quiet-wait", type=float, default=30.0,
                    help="seconds to wait, before each session, for other load and foreign BPF "
                    "tracers to go away (default 30)")
    ap.add_argument("--timeout", type=float, default=0, help="global timeout in seconds "
                    "(default: twice the estimate, at least 300)")
    ap.add_argument("--nice", type=int, default=-20,
                    help="nice value for this script, the workloads and the tracers "
                    "(default -20; 0 keeps the current one)")
    ap.add_argument("--out", default=RESULTS, help="results directory")
    args = ap.parse_args()

    if args.quick:
        args.runs, args.duration = 3, 0.4
        if not args.workloads:
            args.workloads = ",".join(QUICK_WORKLOADS)
    args.modes = [m for m in args.modes.split(",") if m]
    if "untraced" not in args.modes or any(m not in MODES for m in args.modes):
        ap.error(f"--modes must include untraced and come from {MODES}")
    workloads = WORKLOADS
    if args.workloads:
        want = args.workloads.split(",")
        workloads = [w for w in WORKLOADS if w[0] in want]
        if len(workloads) != len(want):
            ap.error("unknown workload; known: " + ",".join(w[0] for w in WORKLOADS))
    if os.geteuid() != 0:
        raise SystemExit("run as root (BPF, tracefs, sysctl)")
    if not os.access(args.ipctop, os.X_OK):
        raise SystemExit(f"{args.ipctop} not found: build it first with\n"
                         "  cmake -S . -B build && cmake --build build -j2")
    args.ipctop = os.path.abspath(args.ipctop)
    args.ipctop_source = args.ipctop
    arch = platform.machine()
    if arch not in SYSCALLS:
        raise SystemExit(f"unsupported architecture {arch}")
    if "bpftrace" in args.modes and not shutil.which("bpftrace"):
        raise SystemExit("bpftrace not installed: install it or pass --modes untraced,ipctop,floor")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs at least 2 CPUs")

    ntr = len([m for m in args.modes if m != "untraced"])
    estimate = args.runs * len(workloads) * (len(args.modes) * (args.duration + 0.15)
                                             + ntr * (args.settle + 0.35))
    extras_est = 0 if args.no_extras else 60 + (0 if args.no_profile else 2 * 8 * 1.5)
    if not args.timeout:
        args.timeout = max(300.0, 2 * (estimate + extras_est))
    log(f"ipctop bench: {len(workloads)} workloads × {len(args.modes)} modes × {args.runs} rounds "
        f"× {args.duration:g} s; estimated {(estimate + extras_est) / 60:.1f} min, "
        f"global timeout {args.timeout:.0f} s")

    if args.nice:
        # Workloads and tracers inherit this: background jobs of others then
        # take little CPU from the pinned runs.
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout))
    started = time.monotonic()
    status = 0
    try:
        ipcbench, floor, script = build(arch)
        # Others may rebuild build/ipctop meanwhile: run a private copy.
        snap = os.path.join(BUILD, "ipctop.snapshot")
        shutil.copy2(args.ipctop_source, snap)
        args.ipctop = snap
        CLEANUP.tmpdir = tempfile.mkdtemp(prefix="ipctop-bench.")
        census = Census(SYSCALLS[arch][1])
        census.classify(census.ids())
        if "bpftrace" in args.modes and not os.path.exists(os.path.join(TRACEFS, "available_events")):
            subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], check=True)
            CLEANUP.unmount_tracefs = True
        machine = machine_info(args)
        extras = {}
        if not args.no_extras:
            log("start-up time ...")
            extras["attach"] = phase_attach(args, 3 if args.quick else 5)
        if "ipctop" in args.modes and not IPCTOP_LINKS[0]:
            t = make_tracer("ipctop", args, None, None, CLEANUP.tmpdir)  # learn its link count
            t.start(census)
            t.stop()
        runs, info = phase_main(args, census, ipcbench, floor, script, workloads)
        profile = []
        if not args.no_extras:
            log("ipctop CPU at ~200 k IPC syscalls/s ...")
            extras["cpu"] = phase_cpu(args, census, ipcbench, 50000, 3 if args.quick else 6)
            extras["rss"] = {}
            for variant in ("wake", "sleep"):
                log(f"ipctop peak RSS with 10 000 threads ({variant}) ...")
                extras["rss"][variant] = phase_rss(args, census, ipcbench, variant)
            if not args.no_profile:
                log("BPF per-program run time ...")
                args.profile_duration = 0.5
                prof_w = [w for w in WORKLOADS if w[0] in PROFILE_WORKLOADS and w in workloads] \
                    or [w for w in WORKLOADS if w[0] in PROFILE_WORKLOADS]
                profile = phase_profile(args, census, ipcbench, floor, script, prof_w)
        elapsed = time.monotonic() - started
        report, targets = build_report(args, machine, workloads, runs, info, extras, profile, elapsed)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "latest.md"), "w") as f:
            f.write(report)
        with open(os.path.join(args.out, "latest.json"), "w") as f:
            json.dump({"machine": machine, "args": {k: v for k, v in vars(args).items()},
                       "workloads": workloads, "runs": runs, "info": info, "extras": extras,
                       "profile": profile, "elapsed_s": elapsed}, f, indent=1)
        title = (f"ipctop overhead — {machine['nproc']} CPUs, kernel {machine['kernel']}, "
                 f"{args.runs} rounds × {args.duration:g} s")
        with open(os.path.join(args.out, "overhead.svg"), "w") as f:
            f.write(svg_chart(workloads, runs, args.modes, title))
        print(report)
        failed = [n for n, ok in targets if ok is False]
        log(f"done in {elapsed:.0f} s: {len(targets) - len(failed)}/{len(targets)} targets pass; "
            f"results in {os.path.relpath(args.out)}/latest.md, overhead.svg")
        status = 1 if failed else 0
    except Abort as e:
        log(f"aborted: {e}; cleaning up")
        status = 130
    finally:
        signal.alarm(0)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # do not interrupt the cleanup
        CLEANUP.run()
    return status


if __name__ == "__main__":
    sys.exit(main())
