#!/usr/bin/env python3
"""The live view's own CPU cost with many processes and threads alive.

Starts tui_swarm (1000 processes x 10 threads by default, every thread waking
once a second, one pipe flow per process), then runs ipctop three ways for the
same time and reads its user+sys CPU time from /proc/PID/stat:

  tui          ipctop -d 1 in a 200x50 tmux pane, Processes view
  tui+threads  the same with threads expanded ('t': 10000+ rows to sort)
  json         ipctop --json -d 1 > /dev/null, for comparison

Each figure is the whole of ipctop: draining the kernel maps, aggregating,
naming new tasks from /proc, and drawing (or writing JSON). Needs root, cc
and tmux.
Usage: sudo python3 bench/tui_cost.py [--ipctop build/ipctop] [--duration 20]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True,
                          timeout=10).stdout


def measure(pid, warmup, duration):
    time.sleep(warmup)
    t0, w0 = ticks(pid), time.monotonic()
    time.sleep(duration)
    t1, w1 = ticks(pid), time.monotonic()
    hz = os.sysconf("SC_CLK_TCK")
    return 100.0 * (t1 - t0) / hz / (w1 - w0), peak_rss_kib(pid)


def run_json(ipctop, warmup, duration):
    with open(os.devnull, "w") as null:
        p = subprocess.Popen([ipctop, "--json", "-d", "1"], stdout=null, stderr=null)
    try:
        return measure(p.pid, warmup, duration), ""
    finally:
        p.terminate()
        p.wait(timeout=10)


def run_tui(ipctop, warmup, duration, keys):
    sock = f"ipctop-bench-{os.getpid()}"
    tmux(sock, "-f", "/dev/null", "new-session", "-d", "-s", sock, "-x", "200", "-y", "50",
         "env", "TERM=screen", "LANG=C.UTF-8", ipctop, "-d", "1")
    try:
        pid = int(tmux(sock, "display-message", "-p", "-t", sock, "#{pane_pid}").strip())
        time.sleep(1)
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() != "ipctop":
                raise RuntimeError("the pane does not run ipctop")
        for k in keys:
            tmux(sock, "send-keys", "-t", sock, k)
        result = measure(pid, warmup, duration)
        return result, tmux(sock, "capture-pane", "-p", "-t", sock)
    finally:
        tmux(sock, "kill-server")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ipctop", default="build/ipctop")
    ap.add_argument("--procs", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=10)
    ap.add_argument("--period-ms", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=4)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (it loads the probes)")
    if not shutil.which("tmux"):
        sys.exit("needs tmux (packaging/install-deps.sh installs it)")
    ipctop = os.path.abspath(args.ipctop)

    build = os.path.join(HERE, "build")
    os.makedirs(build, exist_ok=True)
    swarm_bin = os.path.join(build, "tui_swarm")
    subprocess.run(["cc", "-O2", "-pthread", "-o", swarm_bin, os.path.join(HERE, "tui_swarm.c")],
                   check=True)
    budget = int(3 * (args.duration + args.warmup + 5) + 60)
    swarm = subprocess.Popen([swarm_bin, str(args.procs), str(args.threads), str(args.period_ms),
                              str(budget)], stdout=subprocess.PIPE, text=True)
    try:
        ready = swarm.stdout.readline().strip()
        print(f"# {ready}, each thread waking every {args.period_ms} ms", flush=True)
        time.sleep(2)
        rows = []
        (cpu, rss), screen = run_tui(ipctop, args.warmup, args.duration, [])
        rows.append(("tui", cpu, rss))
        (cpu, rss), _ = run_tui(ipctop, args.warmup, args.duration, ["t"])
        rows.append(("tui+threads", cpu, rss))
        (cpu, rss), _ = run_json(ipctop, args.warmup, args.duration)
        rows.append(("json", cpu, rss))
        print(f"{'mode':<12} {'CPU % of one core':>18} {'peak RSS MiB':>13}")
        for name, c, r in rows:
            print(f"{name:<12} {c:>18.2f} {r / 1024:>13.1f}")
        print("# last screen of the tui run:")
        print("\n".join(screen.splitlines()[:12]))
    finally:
        swarm.terminate()
        swarm.wait(timeout=30)


if __name__ == "__main__":
    main()
