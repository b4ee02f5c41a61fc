#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is needed,
# builds with warnings as errors, runs the unit and the privileged end-to-end
# tests, then does it again under AddressSanitizer and UBSan.
# Needs root (the end-to-end tests load BPF programs); needs no terminal.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
jobs=$(nproc)

run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DIPCTOP_WERROR=ON "$@"
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure --timeout 300)
}

echo "== build and test (RelWithDebInfo, -Werror)"
run_suite build-ci
echo "== build and test under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suite build-ci-asan -DIPCTOP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
