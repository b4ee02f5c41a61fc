# bash completion for ipctop(8).
# The options are read from `ipctop --help` (once per shell and binary), so they cannot drift
# from the program; what follows an option is completed by its placeholder in the help text:
# PID lists with process ids, FILE and PATH with file names, anything else not at all.

# Fills _ipctop_opts (every option) and _ipctop_args (option -> placeholder) for binary $1.
_ipctop_parse_help()
{
    local cmd=$1 line
    local re='^ +(-([A-Za-z0-9]), +)?(--[a-z][a-z0-9-]*)( ([A-Z[][^ ]*))?'
    [[ ${_ipctop_help_of-} == "$cmd" ]] && return 0
    _ipctop_opts=()
    declare -gA _ipctop_args=()
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        # "limits" repeats --json: list each option once.
        [[ " ${_ipctop_opts[*]} " == *" ${BASH_REMATCH[3]} "* ]] && continue
        _ipctop_opts+=("${BASH_REMATCH[3]}")
        [[ -n ${BASH_REMATCH[2]} ]] && _ipctop_opts+=("-${BASH_REMATCH[2]}")
        if [[ -n ${BASH_REMATCH[5]} ]]; then
            _ipctop_args[${BASH_REMATCH[3]}]=${BASH_REMATCH[5]}
            [[ -n ${BASH_REMATCH[2]} ]] && _ipctop_args[-${BASH_REMATCH[2]}]=${BASH_REMATCH[5]}
        fi
    done < <(LC_ALL=C "$cmd" --help 2>/dev/null)
    _ipctop_help_of=$cmd
}

# Completes the value of an option whose placeholder is $1, for the word $2.
_ipctop_value()
{
    local placeholder=$1 cur=$2
    case $placeholder in
        PID*)
            # Comma-separated lists: complete the last element.
            local head=${cur%"${cur##*,}"} pids
            pids=$(cd /proc 2>/dev/null && compgen -G '[0-9]*')
            mapfile -t COMPREPLY < <(compgen -P "$head" -W "$pids" -- "${cur##*,}")
            ;;
        FILE* | PATH* | DIR*)
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        *)
            COMPREPLY=()
            ;;
    esac
}

_ipctop()
{
    local cur=${COMP_WORDS[COMP_CWORD]-}
    local prev=${COMP_WORDS[COMP_CWORD-1]-}
    local cmd=${COMP_WORDS[0]-ipctop}
    COMPREPLY=()
    command -v "$cmd" >/dev/null 2>&1 || cmd=ipctop
    _ipctop_parse_help "$cmd" || return 0

    # --option=value
    if [[ $cur == --*=* ]]; then
        local opt=${cur%%=*}
        if [[ -n ${_ipctop_args[$opt]-} ]]; then
            _ipctop_value "${_ipctop_args[$opt]}" "${cur#*=}"
            COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
        fi
        return 0
    fi
    # bash splits "--opt=value" at '=' when COMP_WORDBREAKS has it (the default).
    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        local opt=${COMP_WORDS[COMP_CWORD-2]-}
        [[ -n ${_ipctop_args[$opt]-} ]] && _ipctop_value "${_ipctop_args[$opt]}" "$cur"
        return 0
    fi
    if [[ $COMP_CWORD -ge 2 || $prev != "$cmd" ]] && [[ -n ${_ipctop_args[$prev]-} ]]; then
        _ipctop_value "${_ipctop_args[$prev]}" "$cur"
        return 0
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "${_ipctop_opts[*]}" -- "$cur")
    elif [[ $COMP_CWORD -eq 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "limits" -- "$cur")
    fi
    return 0
}

complete -F _ipctop ipctop
