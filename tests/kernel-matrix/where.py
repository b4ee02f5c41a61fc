#!/usr/bin/env python3
"""Where a stalled kernel-matrix guest spends its time.

    where.py MONITOR_SOCKET KALLSYMS [SAMPLES]

Asks QEMU's monitor for every vCPU's registers SAMPLES times (default 10,
0.2 s apart) and prints, per sample and vCPU, the instruction pointer as a
kernel symbol (the guest copies its /proc/kallsyms to the out share at boot,
and boots with nokaslr, so those addresses hold) or "user" for user mode. A vCPU found at the same kernel
symbol in every sample is spinning there (a lock, a loop); idle vCPUs sit in
the idle loop's halt.
"""
import bisect
import re
import socket
import sys
import time


def load_map(path):
    addrs, names = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                addrs.append(int(parts[0], 16))
                names.append(parts[2])
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def symbol(addrs, names, ip):
    i = bisect.bisect_right(addrs, ip) - 1
    if i < 0 or ip - addrs[i] > 1 << 20:
        return f"{ip:#x}"
    return f"{names[i]}+{ip - addrs[i]:#x}"


def query(sock, cmd):
    sock.sendall((cmd + "\n").encode())
    out = b""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1 << 16)
        except socket.timeout:
            break
        if not data:
            break
        out += data
    return out.decode(errors="replace")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    addrs, names = load_map(sys.argv[2])
    samples = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sys.argv[1])
    sock.settimeout(0.3)
    query(sock, "")  # the banner
    for n in range(samples):
        regs = query(sock, "info registers -a")
        cpus = re.findall(r"RIP=([0-9a-f]+).*?CPL=(\d)", regs, re.S)
        print(f"sample {n}: " + ", ".join(
            f"cpu{i} " + ("user" if cpl == "3" else symbol(addrs, names, int(rip, 16)))
            for i, (rip, cpl) in enumerate(cpus)))
        time.sleep(0.2)


if __name__ == "__main__":
    main()
