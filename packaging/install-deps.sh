#!/usr/bin/env bash
# Installs what ipctop needs to build, run and test on Debian 12 (bookworm).
# Idempotent; run as root.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi
packages=(
  build-essential cmake pkg-config clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  libfmt-dev nlohmann-json3-dev libncurses-dev libgtest-dev
  groff-base man-db zsh libcap2-bin tmux
  netcat-openbsd iproute2
  libclang-rt-14-dev
  python3-prometheus-client graphviz curl
  bpftrace  # bench/: the comparison tracer
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
