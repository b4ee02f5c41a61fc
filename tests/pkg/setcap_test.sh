#!/usr/bin/env bash
# ipctop-setcap on a copy of the binary in a scratch directory: the capabilities it sets,
# what it refuses, and that an unprivileged user (uid 65534, no groups) then traces for
# real, even with RLIMIT_MEMLOCK at 0 (CAP_SYS_RESOURCE is not needed). Needs root.
# Usage: setcap_test.sh IPCTOP_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
helper="$src/packaging/ipctop-setcap"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
command -v setcap >/dev/null || fail "setcap is not installed: packaging/install-deps.sh installs libcap2-bin"

scratch=$(mktemp -d /tmp/ipctop-setcap-test-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
chmod 0755 "$scratch"  # uid 65534 must reach the copy
copy="$scratch/ipctop"
install -m 0755 -o root -g root "$bin" "$copy"
# setpriv still holds root's capabilities when it calls execve, so the exec permission check
# would pass for anyone: let an unprivileged shell do the exec.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'exec "$@"' sh "$@"; }
other() { setpriv --reuid=65533 --regid=65533 --clear-groups sh -c 'exec "$@"' sh "$@"; }

# Without a choice of who may run it, nothing happens.
if sh "$helper" "$copy" 2>/dev/null; then fail "ran without --group or --all-users"; fi
[ -z "$(getcap "$copy")" ] || fail "capabilities set without a choice"

# Refusals: setuid, not owned by root, writable by others.
chmod 4755 "$copy"
if sh "$helper" --all-users "$copy" 2>"$scratch/err"; then fail "accepted a setuid binary"; fi
grep -q setuid "$scratch/err" || fail "setuid refusal says: $(cat "$scratch/err")"
chmod 0757 "$copy"
if sh "$helper" --all-users "$copy" 2>/dev/null; then fail "accepted a world-writable binary"; fi
chmod 0755 "$copy"
chown 65534 "$copy"
if sh "$helper" --all-users "$copy" 2>/dev/null; then fail "accepted a binary not owned by root"; fi
chown root "$copy"
[ -z "$(getcap "$copy")" ] || fail "a refusal left capabilities"

# --all-users: exactly CAP_BPF and CAP_PERFMON, effective and permitted, mode 0755, no setuid.
sh "$helper" --all-users "$copy" >/dev/null
caps=$(getcap "$copy")
[ "$caps" = "$copy cap_perfmon,cap_bpf=ep" ] || [ "$caps" = "$copy cap_bpf,cap_perfmon=ep" ] ||
  fail "getcap says '$caps'"
[ "$(stat -c %a "$copy")" = 755 ] || fail "mode $(stat -c %a "$copy")"

# An unprivileged user now traces: probes attached, a real snapshot from BPF, even with no
# locked memory allowed at all.
# shellcheck disable=SC2016 # $1 is the inner shell's
out=$(cd / && nobody sh -c 'ulimit -l 0; timeout 30 "$1" --json -n 1 -d 0.3' _ "$copy" 2>"$scratch/err") ||
  fail "unprivileged run failed: $(cat "$scratch/err")"
grep -q 'ipctop: tracing' "$scratch/err" || fail "not traced: $(cat "$scratch/err")"
grep -q '"source":"bpf"' <<<"$out" || fail "snapshot not from BPF: ${out:0:200}"
grep -q 'capabilities:   CAP_BPF, CAP_PERFMON' <<<"$(nobody "$copy" --features)" || fail "--features"

# --group: only the group may run it.
sh "$helper" --group nogroup "$copy" >/dev/null
[ "$(stat -c '%a %G' "$copy")" = "750 nogroup" ] || fail "--group left $(stat -c '%a %G' "$copy")"
grep -q 'cap_bpf' <<<"$(getcap "$copy")" || fail "--group dropped the capabilities"
nobody "$copy" --version >/dev/null || fail "a member of the group cannot run it"
if other "$copy" --version 2>/dev/null; then fail "a user outside the group can run it"; fi

# --status and --remove.
grep -q 'cap_bpf' <<<"$(sh "$helper" --status "$copy")" || fail "--status"
sh "$helper" --remove "$copy" >/dev/null
[ -z "$(getcap "$copy")" ] || fail "--remove left $(getcap "$copy")"
[ "$(stat -c '%a %G' "$copy")" = "755 root" ] || fail "--remove left $(stat -c '%a %G' "$copy")"

# Without the capabilities the same user gets the /proc view, and is told once.
out=$(cd / && nobody timeout 30 "$copy" --json -n 1 -d 0.3 2>"$scratch/err") || fail "fallback failed"
grep -q '"source":"procfs"' <<<"$out" || fail "no procfs snapshot: ${out:0:200}"
[ "$(grep -c 'not permitted' "$scratch/err")" -eq 1 ] || fail "stderr: $(cat "$scratch/err")"
echo ok
