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
# Symbols for where.py (the kernel boots nokaslr, so they hold for the run;
# Debian's System.map is a placeholder).
cat /proc/kallsyms > /mnt/kallsyms
{
  echo "kernel: $(uname -a)"
  echo "kprobes: $(test -d /sys/kernel/tracing && echo tracefs present)"
  grep -cw pipe_write /proc/kallsyms | sed 's/^/pipe_write symbols: /'
  grep -cw anon_pipe_write /proc/kallsyms | sed 's/^/anon_pipe_write symbols: /'
} > /mnt/kernel.txt 2>&1
export IPCTOP_TEST_TIME_SCALE=$TIME_SCALE
echo "accelerator: $ACCEL, test time scale $TIME_SCALE" >> /mnt/kernel.txt
# Which pipe data variant is active (fexit where the kernel loads it), and
# the one the forced pass uses.
"$BUILD/ipctop" --features > /mnt/features.txt 2>&1
echo "features exit $?" >> /mnt/features.txt
"$BUILD/ipctop" --features --json > /mnt/features.json 2>&1
IPCTOP_FORCE_NO_FEXIT=1 "$BUILD/ipctop" --features > /mnt/features-forced.txt 2>&1
cd /tmp
"$BUILD/tests/ipctop_e2e_tests" --gtest_filter="$FILTER" --gtest_output=xml:/mnt/e2e.xml > /mnt/e2e.log 2>&1
status=$?
# The pipe and FIFO flow tests again with the tracepoint variant forced:
# both variants must give the same exact counts.
if [ "$FORCED_FILTER" != - ]; then
  IPCTOP_FORCE_NO_FEXIT=1 "$BUILD/tests/ipctop_e2e_tests" --gtest_filter="$FORCED_FILTER" \
    --gtest_output=xml:/mnt/e2e-forced.xml > /mnt/e2e-forced.log 2>&1
  forced=$?
  [ $status -eq 0 ] && status=$forced
fi
echo $status > /mnt/status
tail -5 /mnt/e2e.log
[ -f /mnt/e2e-forced.log ] && tail -5 /mnt/e2e-forced.log
sync
echo o > /proc/sysrq-trigger
sleep 10
