#!/usr/bin/env bash
# The privileged end-to-end suite on a second kernel: Debian 12's own 6.1
# kernel (the package linux-image-amd64 depends on), booted under QEMU with
# KVM when /dev/kvm is usable (TCG otherwise). The guest sees this machine's
# root file system read-only over 9p (so the binaries of BUILD_DIR and their
# libraries run unchanged), gets its own /proc, /sys, /tmp and bpffs, runs
# `ipctop --features` and the e2e tests, and writes the results to OUT_DIR.
#
#   sudo tests/kernel-matrix/run.sh [BUILD_DIR [OUT_DIR]]
#
# BUILD_DIR defaults to ./build (configure and build it first); OUT_DIR to
# /var/tmp/ipctop-kernel-matrix/out. GTEST_FILTER selects tests (default: all
# e2e tests); FORCED_FILTER the tests run a second time with the tracepoint
# variant of the pipe data path forced (IPCTOP_FORCE_NO_FEXIT=1; default: the
# flow tests, the pipe variant tests and the churn test; "-" skips that pass);
# GUEST_TIMEOUT (seconds, default 2700) bounds the whole run; STALL_TIMEOUT
# (default 900) stops a guest whose test log has not grown for that long,
# after writing where its vCPUs are to OUT_DIR/stall.txt (where.py);
# TCG_THREAD (default single) is QEMU's TCG threading, single or multi.
# Needs root (apt-get download, KVM) and about 300 MB in /var/tmp.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi
cd "$(dirname "$0")/../.."
repo=$(pwd)
build=$(realpath "${1:-build}")
cache=/var/tmp/ipctop-kernel-matrix
out=$(realpath -m "${2:-$cache/out}")
filter=${GTEST_FILTER:-*}
forced_filter=${FORCED_FILTER:-Flows.*:PipeVariants.*:Churn.*}
timeout_s=${GUEST_TIMEOUT:-2700}
stall_s=${STALL_TIMEOUT:-900}

for f in "$build/ipctop" "$build/tests/ipctop_e2e_tests"; do
  [ -x "$f" ] || { echo "run.sh: $f missing: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
done
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v cpio >/dev/null || missing+=(cpio)
command -v strings >/dev/null || missing+=(binutils)
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The kernel: the image package Debian 12's linux-image-amd64 points to.
mkdir -p "$cache"
cd "$cache"
pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
[ -n "$pkg" ] || { echo "run.sh: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 1; }
if ! ls "$pkg"_*.deb >/dev/null 2>&1; then apt-get download "$pkg"; fi
if ! ls busybox-static_*.deb >/dev/null 2>&1; then apt-get download busybox-static; fi
rm -rf kernel bb initramfs
dpkg -x "$(ls "$pkg"_*.deb | head -1)" kernel
dpkg -x "$(ls busybox-static_*.deb | head -1)" bb
release=${pkg#linux-image-}
vmlinuz=kernel/boot/vmlinuz-$release
moddir=kernel/lib/modules/$release

# The initramfs: busybox, the modules a 9p root over virtio needs (in
# dependency order, read from each module's .modinfo), and /init.
mkdir -p initramfs/{bin,dev,proc,sys,newroot,modules}
cp bb/bin/busybox initramfs/bin/busybox
order=()
add_module() {
  local name=$1 file dep
  for m in "${order[@]:-}"; do [ "$m" = "$name" ] && return; done
  file=$(find "$moddir" -name "$name.ko" -o -name "$name.ko.xz" | head -1)
  [ -n "$file" ] || return 0  # built in
  for dep in $(strings -a "$file" | sed -n 's/^depends=//p' | tr ',' ' '); do add_module "$dep"; done
  cp "$file" initramfs/modules/
  order+=("$name")
}
# veth: the e2e tests that put a peer in another network namespace. The
# sock_diag modules: the /proc fallback asks sock_diag for unix and inet
# socket peers, and a Debian kernel loads those modules on demand, which the
# guest cannot (its /lib/modules is the host's).
for m in virtio_pci 9pnet_virtio 9p veth unix_diag inet_diag tcp_diag udp_diag; do add_module "$m"; done
printf '%s\n' "${order[@]}" > initramfs/modules/order
cat > initramfs/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod /modules/$m.ko* || echo "init: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot || { echo "init: no root"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot/mnt || echo "init: no out share"
for d in proc sys dev; do mount --move /$d /newroot/$d; done
exec chroot /newroot /bin/bash "$(cat /guest-script)"
EOF
chmod +x initramfs/init
echo "$repo/tests/kernel-matrix/guest.sh" > initramfs/guest-script
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -1) > initramfs.cpio.gz

# The guest's instructions, through the out share.
mkdir -p "$out"
rm -f "$out"/*
write_env() {
  # Under TCG the guest runs about ten times slower: the tests stretch their
  # timeouts (never their expectations) by IPCTOP_TEST_TIME_SCALE.
  local scale=1
  [[ "${accel[1]}" == tcg* ]] && scale=${TIME_SCALE:-8}
  cat > "$out/env" <<EOF
BUILD=$build
FILTER='$filter'
FORCED_FILTER='$forced_filter'
TIME_SCALE=$scale
ACCEL=${accel[1]}
EOF
}

# TCG runs both vCPUs in one host thread: with a thread each (QEMU 7.2), a
# vCPU was seen to keep executing a stale translation of kernel text that
# the other had just patched (a static key flipped as ipctop attached the
# sched_waking tracepoint): both vCPUs then trapped on the int3 that memory
# no longer held, forever (where.py: try_to_wake_up+0x9e, exc_int3).
tcg=tcg,thread=${TCG_THREAD:-single}
# KVM when it really works here (a VM that cannot initialise it exits at
# once; one that can waits, stopped, until the timeout).
accel=(-accel "$tcg" -cpu max)
kvm_rc=0
[ -c /dev/kvm ] && { timeout 3 qemu-system-x86_64 -accel kvm -machine none -S -display none -nodefaults \
  -monitor none </dev/null >/dev/null 2>&1 || kvm_rc=$?; }
[ "$kvm_rc" -eq 124 ] && accel=(-accel kvm -cpu host)
[ "${QEMU_ACCEL:-}" = tcg ] && accel=(-accel "$tcg" -cpu max)
# Whether the test logs have not grown for STALL_TIMEOUT seconds.
stalled() {
  local last
  last=$(stat -c %Y "$out"/e2e*.log 2>/dev/null | sort -n | tail -1)
  [ -n "$last" ] && [ $(($(date +%s) - last)) -ge "$stall_s" ]
}
# One boot; with KVM, a guest that prints no kernel banner within 60 s, or
# a QEMU that exits before the kernel starts, is taken as a nested KVM that
# does not really work (as on Firecracker hosts), and the run falls back to TCG.
boot() {
  echo "== booting $pkg ($release) under QEMU (${accel[1]}), results in $out"
  rm -f "$out/status" "$out/console.log"
  write_env
  timeout "$timeout_s" qemu-system-x86_64 "${accel[@]}" -m 2048 -smp 2 -nographic -no-reboot \
    -kernel "$vmlinuz" -initrd initramfs.cpio.gz \
    -append "earlyprintk=serial,ttyS0 console=ttyS0 rdinit=/init panic=-1 loglevel=4 no_timer_check nokaslr" -nic none \
    -monitor "unix:$cache/monitor.sock,server,nowait" \
    -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
    -fsdev local,id=out,path="$out",security_model=none \
    -device virtio-9p-pci,fsdev=out,mount_tag=out \
    </dev/null >"$out/console.log" 2>&1 &
  local qemu=$! waited=0
  while kill -0 "$qemu" 2>/dev/null; do
    if [ "${accel[1]}" = kvm ] && [ $waited -ge 60 ] && ! grep -q "Linux version" "$out/console.log"; then
      echo "run.sh: no kernel output under KVM after 60 s: retrying with TCG" >&2
      kill "$qemu"
      wait "$qemu" 2>/dev/null || true
      accel=(-accel "$tcg" -cpu max)
      boot
      return
    fi
    # A test log that stops growing: record where the vCPUs are, then stop.
    if [ $waited -ge "$stall_s" ] && stalled; then
      echo "run.sh: no test output for $stall_s s: the guest's vCPUs (tests/kernel-matrix/where.py):" >&2
      python3 "$repo/tests/kernel-matrix/where.py" "$cache/monitor.sock" \
        "$out/kallsyms" 20 > "$out/stall.txt" 2>&1 || true
      cat "$out/stall.txt" >&2
      kill "$qemu"
    fi
    sleep 5
    waited=$((waited + 5))
  done
  local rc=0
  wait "$qemu" 2>/dev/null || rc=$?
  # A nested KVM can also make QEMU abort at once (a refused MSR write).
  if [ "${accel[1]}" = kvm ] && ! grep -q "Linux version" "$out/console.log"; then
    echo "run.sh: QEMU under KVM stopped before the kernel started (exit $rc): retrying with TCG" >&2
    accel=(-accel "$tcg" -cpu max)
    boot
    return
  fi
  if [ "$rc" -eq 124 ]; then echo "run.sh: the guest timed out after $timeout_s s" >&2; fi
  tail -15 "$out/console.log"
}
boot
if [ ! -f "$out/status" ]; then
  echo "run.sh: the guest wrote no status (see $out/console.log)" >&2
  exit 1
fi
echo "== guest kernel $(cat "$out/uname" 2>/dev/null): e2e exit status $(cat "$out/status")"
grep -h "pipe_data" "$out/features.txt" "$out/features-forced.txt" 2>/dev/null | sed 's/^ */== /'
for log in "$out/e2e.log" "$out/e2e-forced.log"; do
  [ -f "$log" ] && echo "== $(basename "$log"): $(grep -E '^\[  (PASSED|FAILED)  \] [0-9]' "$log" | tr '\n' ' ')"
done
exit "$(cat "$out/status")"
