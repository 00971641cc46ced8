#!/bin/bash
# bash_test.sh COMPLETION XMSG - loads the bash completion and checks what
# it offers for a few command lines: commands, options of a command (read
# from its --help), --type values, accounts of the config file.
set -u
COMPLETION=${1:?usage: bash_test.sh COMPLETION XMSG}
XMSG=${2:?usage: bash_test.sh COMPLETION XMSG}
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
failed=0
passed=0

# shellcheck disable=SC1090
. "$COMPLETION" || { echo "FAIL - cannot load $COMPLETION"; exit 1; }
complete -p xmsg >/dev/null 2>&1 || { echo "FAIL - no completion for xmsg"; exit 1; }

# offers "WORDS..." -- EXPECTED...: completes the last word.
offers() {
    local -a words=()
    while [ "$1" != -- ]; do
        words+=("$1")
        shift
    done
    shift
    COMP_WORDS=("$XMSG" "${words[@]}")
    COMP_CWORD=${#words[@]}
    COMPREPLY=()
    _xmsg
    local got=" ${COMPREPLY[*]} " w missing=
    for w in "$@"; do
        [[ $got == *" $w "* ]] || missing+=" $w"
    done
    if [ -z "$missing" ]; then
        passed=$((passed + 1))
        echo "ok - xmsg ${words[*]} -> $*"
    else
        failed=$((failed + 1))
        echo "FAIL - xmsg ${words[*]}: lacks$missing (got:$got)"
    fi
}

# lacks "WORDS..." -- UNEXPECTED...
lacks() {
    local -a words=()
    while [ "$1" != -- ]; do
        words+=("$1")
        shift
    done
    shift
    COMP_WORDS=("$XMSG" "${words[@]}")
    COMP_CWORD=${#words[@]}
    COMPREPLY=()
    _xmsg
    local got=" ${COMPREPLY[*]} " w bad=
    for w in "$@"; do
        [[ $got != *" $w "* ]] || bad+=" $w"
    done
    if [ -z "$bad" ]; then
        passed=$((passed + 1))
        echo "ok - xmsg ${words[*]} offers none of $*"
    else
        failed=$((failed + 1))
        echo "FAIL - xmsg ${words[*]}: offers$bad"
    fi
}

export XMSG_CONFIG=$TMP/config
printf '%s\n' 'default = work' '[account work]' 'jid = a@example.test' \
    '[account  alerts ]' 'jid = b@example.test' >"$XMSG_CONFIG"

offers "" -- send connect listen request config
offers "se" -- send
offers send --re -- --recipients
offers send --su -- --subject
offers send - -- -t --to -a --account --type --batch
lacks connect - -- --to --body --recipients
offers listen --ty -- --type
offers send --type "" -- chat normal headline
offers send --type h -- headline
offers listen --type "" -- message presence iq all
# --omemo=MODE (an OMEMO build lists --omemo in send --help), split at
# '=' as bash does by default, and whole.
if "$XMSG" send --help 2>/dev/null | grep -q -- --omemo; then
    offers send --om -- --omemo
fi
offers send --omemo = "" -- required optional
offers send --omemo = o -- optional
offers send --omemo=r -- --omemo=required
offers send -a "" -- work alerts
offers connect --account w -- work
lacks send -a "" -- default jid
offers send -l "" -- debug info warn error
offers connect --down -- --download --download-max
offers listen --down -- --download --download-max
lacks send --down -- --download --download-max
# --download DIR: directories only
mkdir "$TMP/dl-dir" && : >"$TMP/dl-file"
offers connect --download "$TMP/dl-" -- "$TMP/dl-dir"
lacks connect --download "$TMP/dl-" -- "$TMP/dl-file"

echo "bash completion: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
