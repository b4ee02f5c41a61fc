# Drives zsh's completion system through a pseudo-terminal: types a command line, presses
# TAB, and waits (bounded) for the completed line. Usage: zsh -f zsh_completion.zsh DIR
# where DIR holds _ipctop and an "ipctop" on which to complete.
dir=$1
zmodload zsh/zpty || exit 1
zpty z "PS1='> ' PATH=$dir:\$PATH TERM=dumb zsh -f -i"
zpty -w z "fpath=($dir \$fpath); autoload -U compinit; compinit -u -D; print READY"
expect() {  # $1: pattern the terminal output must reach within 10 s
  local out= chunk i
  for i in {1..100}; do
    while zpty -r -t z chunk; do out+=$chunk; done
    [[ $out == *$~1* ]] && return 0
    sleep 0.1
  done
  print -r -- "FAIL: never saw '$1' in: ${(q)out}" >&2
  return 1
}
check() {  # $1: typed text, $2: pattern expected after TAB
  zpty -n -w z "$1"$'\t'
  expect "$2" || { zpty -d z; exit 1 }
  zpty -n -w z $'\x15'  # kill the line
}
expect READY || exit 1
check 'ipctop --no-b' 'ipctop --no-bpf '
check 'ipctop --js' 'ipctop --json '
check 'ipctop --max-t' 'ipctop --max-threads '
check 'ipctop lim' 'ipctop limits '
zpty -d z
print ok
