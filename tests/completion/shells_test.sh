#!/usr/bin/env bash
# The zsh and fish completions, asked about the same words as the bash one:
# commands, --type values of listen, log levels, accounts from the config
# file, and options read from "xmsg COMMAND --help".
#   shells_test.sh COMPLETIONS_DIR XMSG_BINARY
# fish runs its completion engine (complete -C); zsh runs _xmsg with
# compadd, _describe and _files replaced by functions that print what they
# are given (the completion system itself needs a terminal).
# Exit 0 all passed, 1 a failure, 77 when neither shell is installed.
set -u
dir=$1
xmsg=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 failed=0 ran=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
# has SHELL WHAT GOT WANT...: every WANT is a line of GOT.
has() {
  local sh=$1 what=$2 got=$3 w
  shift 3
  for w in "$@"; do
    if ! printf '%s\n' "$got" | grep -qx -- "$w"; then
      bad "$sh: $what offers $w (got: $(printf '%s' "$got" | tr '\n' ' '))"
      return
    fi
  done
  ok "$sh: $what"
}

mkdir -p "$tmp/cfg/xmsg" "$tmp/bin"
printf 'default = work\n[account work]\njid = a@b.c\n[account home]\njid = d@e.f\n' \
  >"$tmp/cfg/xmsg/config"
ln -s "$xmsg" "$tmp/bin/xmsg"
export XDG_CONFIG_HOME=$tmp/cfg PATH=$tmp/bin:$PATH

if command -v fish >/dev/null; then
  ran=1
  f() { fish -N -c "source '$dir/xmsg.fish'; complete -C '$1'" | cut -f1; }
  has fish "commands" "$(f 'xmsg se')" send
  has fish "accounts of the config" "$(f 'xmsg send -a ')" work home
  has fish "log levels" "$(f 'xmsg send --log-level ')" debug info warn error
  has fish "options" "$(f 'xmsg send --rec')" --recipients
  has fish "connect's --download options" "$(f 'xmsg connect --downl')" \
    --download --download-max
  has fish "--omemo's modes" "$(f 'xmsg send --omemo=')" \
    --omemo=required --omemo=optional
else
  echo "# fish not installed: its completion not checked"
fi

if command -v zsh >/dev/null; then
  ran=1
  cat >"$tmp/stubs.zsh" <<'ZSH'
compadd() {
  local arr=0 a
  while (( $# )); do
    case $1 in
      --) shift; break ;;
      -a) arr=1; shift ;;
      -*) shift ;;
      *) break ;;
    esac
  done
  for a in "$@"; do
    if (( arr )); then print -rl -- ${(P)a}; else print -r -- $a; fi
  done
}
_describe() { local -a arr; arr=(${(P)${@[-1]}}); print -rl -- ${arr%%:*}; }
_files() { print -r -- FILES; }
ZSH
  # z CURRENT PREFIX WORD...: what _xmsg offers for the words.
  z() {
    local cur=$1 prefix=$2
    shift 2
    zsh -f -c 'source "$1"; source "$2" >/dev/null 2>&1
      CURRENT=$3; PREFIX=$4; shift 4; words=("$@"); _xmsg' \
      zsh "$tmp/stubs.zsh" "$dir/_xmsg" "$cur" "$prefix" "$@"
  }
  has zsh "commands" "$(z 2 se xmsg se)" send listen --version
  has zsh "listen --type values" "$(z 4 '' xmsg listen --type '')" \
    message presence iq all
  has zsh "accounts of the config" "$(z 4 '' xmsg send -a '')" work home
  has zsh "files for --recipients" "$(z 4 '' xmsg send --recipients '')" FILES
  has zsh "files for --download" "$(z 4 '' xmsg connect --download '')" FILES
  has zsh "connect's --download options" "$(z 3 --down xmsg connect --down)" \
    --download --download-max
  has zsh "options" "$(z 3 --rec xmsg send --rec)" --recipients --subject
  has zsh "--omemo's modes" "$(z 3 --omemo= xmsg send --omemo=)" \
    --omemo=required --omemo=optional
else
  echo "# zsh not installed: its completion not checked"
fi

[ "$ran" = 1 ] || { echo "skipped: neither zsh nor fish"; exit 77; }
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
