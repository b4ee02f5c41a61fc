#!/usr/bin/env bash
# The Debian package: built by CPack into a scratch directory, its control fields and
# contents checked, its Depends compared with the binary's NEEDED libraries, and the
# unpacked binary, man pages, completion and copyright used.
# Usage: deb_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$1 version=$2
scratch=$(mktemp -d /tmp/ipctop-deb-test-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

arch=$(dpkg --print-architecture)
(cd "$scratch" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" >cpack.log 2>&1) ||
  { cat "$scratch/cpack.log" >&2; fail "cpack failed"; }
deb="$scratch/out/ipctop_${version}_${arch}.deb"
[ -f "$deb" ] || fail "no $deb; built: $(ls "$scratch/out")"

field() { dpkg-deb -f "$deb" "$1"; }
in_depends() { grep -qxF "$1" <<<"$(tr ',' '\n' <<<"$depends" | awk '{print $1}')"; }
[ "$(field Package)" = ipctop ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
echo "Depends: $depends"

contents=$(dpkg-deb -c "$deb" | awk '{print $1, $2, $NF}')
for path in ./usr/sbin/ipctop ./usr/sbin/ipctop-setcap ./usr/share/man/man8/ipctop.8.gz \
  ./usr/share/man/man8/ipctop-setcap.8.gz ./usr/share/bash-completion/completions/ipctop \
  ./usr/share/zsh/vendor-completions/_ipctop ./usr/share/doc/ipctop/copyright \
  ./usr/share/doc/ipctop/README.md; do
  grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
# Everything root:root; nothing setuid, setgid or writable by others.
if grep -q . <<<"$(grep -v '^[d-]r[w-][x-]r-[x-]r-[x-] root/root ' <<<"$contents")"; then
  fail "unexpected modes or owners: $(grep -v '^[d-]r[w-][x-]r-[x-]r-[x-] root/root ' <<<"$contents")"
fi

dpkg -x "$deb" "$scratch/root"
bin="$scratch/root/usr/sbin/ipctop"
[ "$("$bin" --version)" = "ipctop $version" ] || fail "--version says '$("$bin" --version)'"
grep -q '^Usage: ipctop' <<<"$("$bin" --help)" || fail "--help"
grep -q -- '--no-bpf' <<<"$("$bin" --help)" || fail "--help lacks --no-bpf"

# Every library the binary needs comes from a package in Depends (dpkg-shlibdeps at work),
# and the ones the brief names are there.
for soname in $(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}'); do
  # awk reads to the end: an early exit would kill ldconfig with SIGPIPE (pipefail).
  lib=$(ldconfig -p | awk -v s="$soname" '$1 == s && !found {print $NF; found = 1}')
  [ -n "$lib" ] || fail "$soname not found by ldconfig"
  pkg=$(dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1) ||
    pkg=$(dpkg-query -S "$lib" | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || fail "no package owns $lib"
  in_depends "$pkg" || fail "$soname ($pkg) is not in Depends: $depends"
done
for pkg in libbpf1 libc6 libstdc++6 libfmt9; do
  in_depends "$pkg" || fail "$pkg is not in Depends: $depends"
done

# The man pages: gzipped, and they format without a warning.
for page in ipctop ipctop-setcap; do
  gz="$scratch/root/usr/share/man/man8/$page.8.gz"
  gzip -t "$gz" || fail "$page.8.gz is not gzip"
  warnings=$(zcat "$gz" | groff -ww -man -Tutf8 -z 2>&1)
  [ -z "$warnings" ] || fail "$page(8) warnings: $warnings"
  grep -q '^NAME' <<<"$(MANWIDTH=80 man -l "$gz" 2>/dev/null)" || fail "man -l $page.8.gz"
  warnings=$(MANWIDTH=80 man --warnings -l "$gz" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man --warnings -l $page.8.gz: $warnings"
done
grep -q 'License: GPL-2.0-only' "$scratch/root/usr/share/doc/ipctop/copyright" || fail "copyright"

# The packaged completion works against the packaged binary.
out=$(bash -c 'source "$1"; COMP_WORDS=("$2" --js); COMP_CWORD=1; _ipctop; echo "${COMPREPLY[*]}"' \
  _ "$scratch/root/usr/share/bash-completion/completions/ipctop" "$bin")
[ "$out" = "--json" ] || fail "packaged completion of --js gave '$out'"
echo "ok: $deb"
