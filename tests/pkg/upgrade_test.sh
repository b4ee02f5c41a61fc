#!/usr/bin/env bash
# The package on the real system, briefly: apt installs it, ipctop-setcap grants the
# capabilities and records the choice, a reinstall (as an upgrade would) gets them back
# through postinst, and purge removes everything. Needs root; refuses to touch an ipctop
# that was installed before.
# Usage: upgrade_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$1 version=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
if grep -q installed <<<"$(dpkg-query -W -f='${Status}' ipctop 2>/dev/null)"; then
  fail "ipctop is installed on this machine: this test installs and purges it, remove it first"
fi
scratch=$(mktemp -d /tmp/ipctop-upgrade-test-XXXXXX)
apt_opts=(-y -qq -o DPkg::Lock::Timeout=120)
cleanup() {
  DEBIAN_FRONTEND=noninteractive apt-get purge "${apt_opts[@]}" ipctop >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
(cd "$scratch" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" >cpack.log 2>&1) ||
  fail "cpack: $(cat "$scratch/cpack.log")"
deb=$(ls "$scratch"/out/ipctop_"${version}"_*.deb)
info=$(dpkg-deb -I "$deb")
grep -Eq ' postinst +#!' <<<"$info" || fail "no postinst"
grep -Eq ' postrm +#!' <<<"$info" || fail "no postrm"

export DEBIAN_FRONTEND=noninteractive
apt-get install "${apt_opts[@]}" "$deb" >/dev/null || fail "apt-get install $deb"
[ "$(/usr/sbin/ipctop --version)" = "ipctop $version" ] || fail "installed --version"
[ -z "$(getcap /usr/sbin/ipctop)" ] || fail "installed with capabilities"
[ ! -e /var/lib/ipctop/setcap ] || fail "a choice recorded before any"

ipctop-setcap --all-users >/dev/null
[ "$(cat /var/lib/ipctop/setcap)" = "--all-users" ] || fail "choice not recorded"
# A reinstall replaces the file, as an upgrade does; postinst applies the choice again.
apt-get install "${apt_opts[@]}" --reinstall "$deb" >/dev/null || fail "reinstall"
grep -q 'cap_bpf' <<<"$(getcap /usr/sbin/ipctop)" || fail "capabilities lost on reinstall: $(getcap /usr/sbin/ipctop)"

ipctop-setcap --remove >/dev/null
[ ! -e /var/lib/ipctop/setcap ] || fail "--remove kept the choice"
apt-get install "${apt_opts[@]}" --reinstall "$deb" >/dev/null || fail "reinstall"
[ -z "$(getcap /usr/sbin/ipctop)" ] || fail "capabilities came back after --remove"

ipctop-setcap --all-users >/dev/null
apt-get purge "${apt_opts[@]}" ipctop >/dev/null || fail "purge"
[ ! -e /usr/sbin/ipctop ] || fail "binary left after purge"
[ ! -e /var/lib/ipctop ] || fail "/var/lib/ipctop left after purge"
echo ok
