#!/bin/bash
# Runs inside the QEMU guest of tests/kernel-matrix/run.sh, as its init
# (chrooted into the host's root, read-only over 9p): gives the guest its own
# writable places and filesystems, runs ipctop --features and the e2e tests,
# writes the results to /mnt (the out share) and powers off.
set -u
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t tmpfs vartmp /var/tmp
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /dev/pts /dev/mqueue /dev/shm
mount -t devpts devpts /dev/pts
mount -t mqueue mqueue /dev/mqueue
mount -t tmpfs shm /dev/shm
ip link set lo up 2>/dev/null
. /mnt/env
uname -r > /mnt/uname
{
  echo "kernel: $(uname -a)"
  echo "kprobes: $(test -d /sys/kernel/tracing && echo tracefs present)"
  grep -cw pipe_write /proc/kallsyms | sed 's/^/pipe_write symbols: /'
  grep -cw anon_pipe_write /proc/kallsyms | sed 's/^/anon_pipe_write symbols: /'
} > /mnt/kernel.txt 2>&1
"$BUILD/ipctop" --features > /mnt/features.txt 2>&1
echo "features exit $?" >> /mnt/features.txt
cd /tmp
"$BUILD/tests/ipctop_e2e_tests" --gtest_filter="$FILTER" --gtest_output=xml:/mnt/e2e.xml > /mnt/e2e.log 2>&1
echo $? > /mnt/status
tail -5 /mnt/e2e.log
sync
echo o > /proc/sysrq-trigger
sleep 10
