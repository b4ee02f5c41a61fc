#!/usr/bin/env python3
"""Linux 6.1's check_cfg() rule, run over every function of a BPF object at build time.

Before 6.4, the verifier's depth-first walk of the control-flow graph allows a
back-edge (a loop) only on a jump; a loop that clang closes by falling through
from a plain instruction or a call into the loop header is refused with
"back-edge from insn X to Y", and the whole program with it. Newer kernels
accept it, so only an older kernel would show it: this check fails the build
instead. Usage: check_cfg61.py <llvm-objdump> <object>...
The walk visits an instruction's fall-through before its branch target, as
push_insn()/visit_insn() in 6.1's kernel/bpf/verifier.c do."""
import re, subprocess, sys

def functions(objdump, obj):
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj],
                         check=True, capture_output=True, text=True).stdout
    sec = fn = None
    funcs = {}
    for line in out.splitlines():
        m = re.match(r"Disassembly of section (.*):", line)
        if m:
            sec = m.group(1); continue
        m = re.match(r"[0-9a-f]+ <(.*)>:", line)
        if m:
            if not m.group(1).startswith("LBB"):
                fn = (sec, m.group(1)); funcs[fn] = []
            continue
        m = re.match(r"\s+(\d+):\s+(.*)", line)
        if m and fn:
            funcs[fn].append((int(m.group(1)), m.group(2).strip()))
    return funcs

def edges(idx, text, nxt):
    """(target, is_fallthrough_of_plain_insn) pairs for one instruction."""
    if text == "exit":
        return []
    m = re.search(r"goto ([+-]\d+)", text)
    if m:
        tgt = idx + int(m.group(1)) + 1
        if text.startswith("goto"):
            return [(tgt, False)]
        return [(nxt, False), (tgt, False)]
    return [(nxt, True)]

def check(insns):
    pos = {i: k for k, (i, _) in enumerate(insns)}
    nxt = {i: (insns[k + 1][0] if k + 1 < len(insns) else None) for k, (i, _) in enumerate(insns)}
    text = dict(insns)
    state = {}  # 1 discovered, 2 explored
    start = insns[0][0]
    stack = [(start, iter(edges(start, text[start], nxt[start])))]
    state[start] = 1
    bad = []
    while stack:
        t, it = stack[-1]
        for w, plain in it:
            if w not in text:
                continue
            if w not in state:
                state[w] = 1
                stack.append((w, iter(edges(w, text[w], nxt[w]))))
                break
            if state[w] == 1 and plain:
                bad.append((t, w))
        else:
            state[t] = 2
            stack.pop()
    return bad

def main():
    rc = 0
    for obj in sys.argv[2:]:
        for (sec, name), insns in functions(sys.argv[1], obj).items():
            for t, w in check(insns):
                print(f"{obj}: {sec} {name}: back-edge from insn {t} to {w} "
                      f"(6.1 refuses a loop closed by a fall-through): {dict(insns)[t]}")
                rc = 1
    return rc

sys.exit(main())
