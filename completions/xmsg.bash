# bash completion for xmsg(1). Installed as
# /usr/share/bash-completion/completions/xmsg.
#
# The options come from "xmsg COMMAND --help" (so they never drift from
# the program), the accounts from the config file's [account NAME]
# sections (xmsg-config(5)).

# The config file xmsg reads (the first that exists).
_xmsg_config_file()
{
    local f
    if [[ -n ${XMSG_CONFIG-} ]]; then
        printf '%s\n' "$XMSG_CONFIG"
        return
    fi
    if [[ ${XDG_CONFIG_HOME-} == /* ]]; then
        f=$XDG_CONFIG_HOME/xmsg/config
    else
        f=$HOME/.config/xmsg/config
    fi
    [[ -e $f ]] || f=/etc/xmsg/config
    printf '%s\n' "$f"
}

_xmsg_accounts()
{
    local f
    f=$(_xmsg_config_file)
    [[ -r $f ]] || return
    sed -n 's/^[[:space:]]*\[account[[:space:]][[:space:]]*\([^][:space:]]*\)[[:space:]]*\].*$/\1/p' "$f"
}

# The long and short options of a command, from its --help.
_xmsg_options()
{
    "$1" "$2" --help 2>/dev/null |
        grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' |
        grep -oE -- '-[A-Za-z]\b|--[a-z-]+'
}

_xmsg()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i
    local commands="send connect listen request config"

    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        send | connect | listen | request | config)
            cmd=${COMP_WORDS[i]}
            break
            ;;
        esac
    done
    COMPREPLY=()
    # --omemo=MODE: bash splits at '=' (COMP_WORDBREAKS), or not.
    if [[ $prev == = && ${COMP_WORDS[COMP_CWORD - 2]-} == --omemo ]]; then
        COMPREPLY=($(compgen -W "required optional" -- "$cur"))
        return
    fi
    if [[ $cur == --omemo=* ]]; then
        COMPREPLY=($(compgen -W "--omemo=required --omemo=optional" \
            -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return
    fi
    case $prev in
    -a | --account)
        COMPREPLY=($(compgen -W "$(_xmsg_accounts)" -- "$cur"))
        return
        ;;
    --type)
        if [[ $cmd == listen ]]; then
            COMPREPLY=($(compgen -W "message presence iq all" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "chat normal headline groupchat error get set result unavailable subscribe subscribed unsubscribe unsubscribed probe" -- "$cur"))
        fi
        return
        ;;
    --kind)
        COMPREPLY=($(compgen -W "message presence iq" -- "$cur"))
        return
        ;;
    --show)
        COMPREPLY=($(compgen -W "away chat dnd xa" -- "$cur"))
        return
        ;;
    -l | --log-level)
        COMPREPLY=($(compgen -W "debug info warn error" -- "$cur"))
        return
        ;;
    --params | --message | --password-file | --ca-file | --state-file | \
        --recipients)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --download)
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    -j | --jid | -t | --to | -H | --host | -P | --port | -T | --timeout | \
        -m | --body | --id | --from | --lang | --attr | --pin | --window | \
        --payload | --thread | --status | --count | --until-idle | \
        --duration | --room | --nick | --page-size | --subject | \
        --download-max)
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_xmsg_options "${COMP_WORDS[0]}" "$cmd")" \
            -- "$cur"))
    fi
}

complete -F _xmsg xmsg
