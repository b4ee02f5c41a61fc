#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/TARGET/)
from the unit-test fixtures and hand-made hostile cases. Run again after
changing the fixtures; libFuzzer's own findings are added next to these."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures")


def chunked(parts):
    out = b""
    for p in parts:
        p = p[:65535]
        out += struct.pack("<H", len(p)) + p
    return out


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


HOSTILE = [b"\x1b[2J\x1b]0;title\x07", b"\xff\xfe\xc0\x80\xed\xa0\x80", b"\xe2\x80\xae\xc2\x9b",
           b") x (", b"\n\\n\\\\", b"18446744073709551615", b"18446744073692774399", b"-1", b"",
           b"9" * 40, "名前\U0001F600".encode()]

# procfs: status, stat, comm, cmdline, net/unix of the fixture processes.
proc = os.path.join(FIX, "proc")
for pid in sorted(os.listdir(proc)):
    files = [read(os.path.join(proc, pid, f)) for f in ("status", "stat", "comm", "cmdline")]
    if all(f is None for f in files):
        continue
    files = [f or b"" for f in files] + [read(os.path.join(proc, "net", "unix")) or b""]
    write("procfs", "fixture-" + pid, chunked(files))
live_status = read(os.path.join(proc, "600", "status"))
for i, h in enumerate(HOSTILE):
    status = live_status.replace(live_status.split(b"\n")[0], b"Name:\t" + h)
    stat = b"42 (" + h + b") S 1 42 42 0 -1 4194560 " + b" ".join([b"0"] * 14) + b" 123456 0\n"
    write("procfs", "hostile-%d" % i, chunked([status, stat, h + b"\n", h + b"\0arg\0", b"Num RefCount\n"]))

# limits: every fixture tree.
LIMIT_PATHS = ["proc/sys/kernel/shmmax", "proc/sys/kernel/shmall", "proc/sys/kernel/shmmni",
               "proc/sys/kernel/msgmax", "proc/sys/kernel/msgmnb", "proc/sys/kernel/msgmni",
               "proc/sys/kernel/sem", "proc/sysvipc/shm", "proc/sysvipc/msg", "proc/sysvipc/sem",
               "proc/meminfo", "proc/sys/fs/mqueue/msg_max", "proc/sys/fs/mqueue/msgsize_max",
               "proc/sys/fs/mqueue/queues_max", "proc/sys/fs/pipe-max-size",
               "proc/sys/fs/pipe-user-pages-soft", "proc/sys/fs/file-nr", "proc/sys/fs/file-max"]
lim = os.path.join(FIX, "limits")
for name in sorted(os.listdir(lim)):
    tree = os.path.join(lim, name)
    if not os.path.isdir(tree):
        continue
    write("limits", "fixture-" + name, chunked([read(os.path.join(tree, p)) or b"" for p in LIMIT_PATHS]))
for i, h in enumerate(HOSTILE):
    write("limits", "hostile-%d" % i, chunked([h] * len(LIMIT_PATHS)))

# decode: one valid record of each type, then two flow entries.
def record(rtype, comm, size=48):
    hdr = struct.pack("<HHIQII", rtype, size, 1, 123456789, 4242, 4243)
    return hdr + struct.pack("<II16s", 4200, 0, comm)


def flow(kind, ino, src, dst, nbytes, msgs):
    return struct.pack("<QIIIIIIII", ino, 0, kind, src, src, dst, dst, 0, 1) + struct.pack("<QQ", nbytes, msgs)


for t in (1, 2, 3, 4):
    rec = record(t, b"\x1b[2Jevil\xff\xfe")
    write("decode", "record-%d" % t,
          chunked([rec, record(t, b"x" * 16)]) + b"\0\0" + flow(1, 77, 4242, 4243, 100, 2) +
          flow(4, 78, 4243, 4242, 2**64 - 1, 1))
write("decode", "bad-size", chunked([record(1, b"x", size=47)[:47]]))
write("decode", "bad-type", chunked([record(99, b"x")]))

# cli: argument lists, NUL-separated.
for i, argv in enumerate([["--json", "-d", "0.5", "-n", "3"], ["--interval", "1e309"], ["-d", "nan"],
                          ["--pid", "1,2,,3"], ["--max-flows", "99999999999999999999"],
                          ["--ringbuf-size", "4097"], ["limits", "--json", "--raw"], ["--features", "limits"],
                          ["-d0.01", "-n1"], ["--count=", "--json"], ["--pid", "\xff\x1b"], ["-"], ["--"]]):
    write("cli", "argv-%d" % i, b"\0".join(a.encode("utf-8", "surrogateescape") for a in argv))

# text: hostile strings.
for i, h in enumerate(HOSTILE + [b"\x00\x01\x7f\x9b", b"a\xcc\x81" * 10, b"\xf4\x90\x80\x80"]):
    write("text", "hostile-%d" % i, h)
