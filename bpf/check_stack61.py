#!/usr/bin/env python3
"""Linux 6.1's stack limit for BPF call chains, checked over a BPF object at build time.

The verifier adds up the stack of every function along each call chain of a
program (bpf-to-bpf calls, and callbacks such as bpf_loop's, counted where
their address is taken) and refuses the program when a chain needs more than
512 bytes. Linux 6.1 rounds each function's stack up to 32 bytes first (newer
kernels round the sum), so a program newer kernels load can be refused there
("combined stack size of N calls is M. Too large"). This check fails the build
instead. Usage: check_stack61.py [-v] <llvm-objdump> <object>...

A function's stack is the deepest r10-relative address its code forms, read
from the disassembly (every path, where the verifier sees only the reachable
ones: this errs on the safe side). -v prints each program's deepest chain.
"""
import re
import subprocess
import sys

LIMIT = 512
INSN = 8


def parse(objdump, obj):
    """{(section, name): {"start": insn index, "insns": [(idx, raw, text, reloc)]}}."""
    out = subprocess.run([objdump, "-dr", obj], check=True, capture_output=True, text=True).stdout
    funcs, sec, fn, last = {}, None, None, None
    for line in out.splitlines():
        m = re.match(r"Disassembly of section (.*):", line)
        if m:
            sec, fn = m.group(1), None
            continue
        m = re.match(r"([0-9a-f]+) <(.*)>:", line)
        if m:
            if not m.group(2).startswith("LBB"):
                fn = (sec, m.group(2))
                funcs[fn] = {"start": int(m.group(1), 16) // INSN, "insns": []}
            continue
        m = re.match(r"\s+(\d+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\t(.*)", line)
        if m and fn:
            last = [int(m.group(1)), bytes.fromhex(m.group(2).replace(" ", "")), m.group(3).strip(), None]
            funcs[fn]["insns"].append(last)
            continue
        m = re.match(r"\s+[0-9a-f]+:\s+(R_BPF_\S+)\s+(\S+)", line)
        if m and last is not None:
            last[3] = (m.group(1), m.group(2))
    return funcs


def stack_depth(insns):
    """The deepest r10-relative byte the function addresses."""
    depth, fp = 0, {}
    for _, _, text, _ in insns:
        for n in re.findall(r"r10 - (\d+)\)", text):
            depth = max(depth, int(n))
        m = re.match(r"(r\d+) = r10$", text)
        if m:
            fp[m.group(1)] = 0
            continue
        m = re.match(r"(r\d+) \+= (-?\d+)$", text)
        if m and m.group(1) in fp:
            fp[m.group(1)] += int(m.group(2))
            depth = max(depth, -fp[m.group(1)])
            continue
        m = re.match(r"(r\d+) ", text)
        if m:
            fp.pop(m.group(1), None)
    return depth


def callees(funcs, key, by_start, by_name):
    """Functions called from `key`, or whose address it takes (callbacks)."""
    sec = key[0]
    out = set()
    for idx, raw, text, reloc in funcs[key]["insns"]:
        target = None
        if raw[0] == 0x85 and raw[1] >> 4 == 1:  # a bpf-to-bpf call
            imm = int.from_bytes(raw[4:8], "little", signed=True)
            if reloc and reloc[1] in by_name:
                target = by_name[reloc[1]]
            elif reloc and reloc[1] == ".text":
                target = by_start.get((".text", imm + 1))
            elif not reloc:
                target = by_start.get((sec, idx + imm + 1))
        elif raw[0] == 0x18 and reloc and reloc[0] == "R_BPF_64_64":
            if reloc[1] in by_name:
                target = by_name[reloc[1]]
            elif reloc[1] == ".text":
                imm = int.from_bytes(raw[4:8], "little", signed=True)
                target = by_start.get((".text", imm // INSN))
        if target:
            out.add(target)
    return out


def deepest(graph, key, frames, seen=()):
    """(bytes, chain) of the deepest call chain from `key`."""
    own = (max(frames[key], 1) + 31) // 32 * 32
    best = (0, [])
    for c in graph[key]:
        if c in seen:
            continue  # recursion: refused by the verifier anyway
        best = max(best, deepest(graph, c, frames, seen + (key,)))
    return own + best[0], [f"{key[1]} ({own})"] + best[1]


def main():
    args = sys.argv[1:]
    verbose = args[:1] == ["-v"]
    args = args[1:] if verbose else args
    rc = 0
    for obj in args[1:]:
        funcs = parse(args[0], obj)
        frames = {k: stack_depth(f["insns"]) for k, f in funcs.items()}
        by_start = {(s, f["start"]): (s, n) for (s, n), f in funcs.items()}
        by_name = {n: (s, n) for (s, n) in funcs}
        graph = {k: callees(funcs, k, by_start, by_name) for k in funcs}
        for key in funcs:
            if key[0] == ".text":
                continue
            total, chain = deepest(graph, key, frames)
            if total > LIMIT or verbose:
                print(f"{obj}: {key[1]}: {total} bytes: {' -> '.join(chain)}"
                      + (f" (Linux 6.1 refuses more than {LIMIT})" if total > LIMIT else ""))
            rc |= total > LIMIT
    return rc


sys.exit(main())
