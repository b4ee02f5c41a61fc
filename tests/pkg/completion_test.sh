#!/usr/bin/env bash
# bash completion: sourced in a non-interactive bash, driven through COMP_WORDS like
# readline does, against the real binary. The zsh function must at least parse.
# Usage: completion_test.sh IPCTOP_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck source=/dev/null
source "$src/packaging/completion/ipctop.bash"

complete_words() {  # the words typed so far, the last one being completed
  COMP_WORDS=("$bin" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _ipctop
  printf '%s\n' "${COMPREPLY[@]}" | sort
}

[ "$(complete_words --j)" = "--json" ] || fail "--j gave '$(complete_words --j)'"
[ "$(complete_words --no-b)" = "--no-bpf" ] || fail "--no-b gave '$(complete_words --no-b)'"

# Every long option of --help is offered after "--", and nothing else.
want=$("$bin" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
got=$(complete_words -- | sort -u)
[ "$want" = "$got" ] || fail "options differ from --help: $(diff <(echo "$want") <(echo "$got") || true)"
# Short options too.
for short in -d -n -p -h -V; do
  grep -qx -- "$short" <<<"$(complete_words -)" || fail "$short not offered"
done

# The command, in first position only.
[ "$(complete_words l)" = "limits" ] || fail "l gave '$(complete_words l)'"
[ -z "$(complete_words --json l)" ] || fail "limits offered after an option"

# Values: process ids after -p and --pid (also --pid=...), nothing after -d.
grep -qx "$$" <<<"$(complete_words -p "$$")" || fail "-p does not offer this shell's pid $$"
grep -qx "1,$$" <<<"$(complete_words --pid "1,$$")" || fail "--pid 1,PID does not complete the list"
grep -qx "$$" <<<"$(complete_words --pid = "$$")" || fail "--pid=PID (split at =) does not offer pids"
grep -qx -- "--pid=$$" <<<"$(complete_words "--pid=$$")" || fail "--pid=PID (one word) does not offer pids"
[ -z "$(complete_words -d '')" ] || fail "-d offered '$(complete_words -d '')'"
[ -z "$(complete_words --interval 0)" ] || fail "--interval completes something"

# A binary that is not there completes nothing rather than failing.
COMP_WORDS=(/nonexistent/ipctop --j)
COMP_CWORD=1
_ipctop || fail "_ipctop failed without a binary"

command -v zsh >/dev/null || fail "zsh is not installed: packaging/install-deps.sh installs it"
zsh -n "$src/packaging/completion/_ipctop" || fail "_ipctop does not parse in zsh"
# zsh's completion system, for real, in a pseudo-terminal.
zdir=$(mktemp -d /tmp/ipctop-zsh-test-XXXXXX)
trap 'rm -rf "$zdir"' EXIT
cp "$src/packaging/completion/_ipctop" "$zdir/"
ln -s "$bin" "$zdir/ipctop"
timeout 60 zsh -f "$src/tests/pkg/zsh_completion.zsh" "$zdir" || fail "zsh completion"
echo ok
