# bash completion for rtmp-server(1) and rtmp-client(1)      -*- shell-script -*-
#
# Installed as share/bash-completion/completions/rtmp-server and
# .../rtmp-client; bash-completion loads it on the first completion of either
# command (or: source it). Option names, and rtmp-client's subcommands, come
# from the --help of the program being completed, so they follow that
# program; values are completed for the options named in _rtmp_value.

# Option names in --help output on stdin: "  -l,--listen TEXT ..." gives -l
# and --listen. With "value": only the options followed by a value type.
_rtmp_options()
{
    local script='s/^  \(-[^ ]*\).*/\1/p'
    [[ ${1-} == value ]] && script='s/^  \(-[^ ]*\) [A-Z].*/\1/p'
    sed -n "$script" | tr ',' '\n'
}

# The subcommands listed in --help output on stdin.
_rtmp_subcommands()
{
    sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

_rtmp_words()
{
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_rtmp_files()
{
    compopt -o filenames 2>/dev/null
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
}

# Completes the value of option $1; fails for an option whose values are
# free text (a number, an address, a token).
_rtmp_value()
{
    case $1 in
        --config | --tls-cert | --tls-key | --token-file | --ca-file | -o | --output | -i | --input)
            _rtmp_files ;;
        --record-path)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
        --log-level) _rtmp_words 'trace debug info warn error critical off' ;;
        --log-format) _rtmp_words 'text json' ;;
        --slow-subscriber) _rtmp_words 'drop disconnect' ;;
        --gop-cache | --wait-for-publisher | --publisher-takeover | --auth-fail-open) _rtmp_words 'on off' ;;
        --loop) _rtmp_words 'forever' ;;
        --publish) _rtmp_words 'synthetic'; _rtmp_files ;;
        *) return 1 ;;
    esac
}

_rtmp_complete()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local program=${COMP_WORDS[0]} help subcommands values sub='' i
    COMPREPLY=()
    # --option=value: bash splits it at "=".
    if [[ $cur == = ]]; then
        cur=''
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    help=$("$program" --help 2>/dev/null </dev/null)
    subcommands=" $(_rtmp_subcommands <<<"$help" | tr '\n' ' ') "
    values=" $(_rtmp_options value <<<"$help" | tr '\n' ' ') "
    # The subcommand given so far (a word that is not an option's value).
    for ((i = 1; i < COMP_CWORD; i++)); do
        local word=${COMP_WORDS[i]}
        if [[ $values == *" $word "* ]]; then
            ((i++))
        elif [[ $word != -* && $subcommands == *" $word "* ]]; then
            sub=$word
            help=$("$program" "$sub" --help 2>/dev/null </dev/null)
            values=" $(_rtmp_options value <<<"$help" | tr '\n' ' ') "
            break
        fi
    done

    if [[ $values == *" $prev "* ]]; then
        _rtmp_value "$prev"
        return 0
    fi
    if [[ -n $sub && $cur != -* ]]; then
        # The URL.
        compopt -o nospace 2>/dev/null
        _rtmp_words 'rtmp:// rtmps://'
    elif [[ $subcommands != "  " && -z $sub && $cur != -* ]]; then
        _rtmp_words "$subcommands"
    else
        _rtmp_words "$(_rtmp_options <<<"$help")"
    fi
    return 0
}

complete -F _rtmp_complete rtmp-server rtmp-client
