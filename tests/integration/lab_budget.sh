#!/usr/bin/env bash
# The lab's start budget (tests/lab/lib.sh, lab_wait_ready): a server that is
# not ready within XMSG_LAB_START_CPU s of its own CPU, or XMSG_LAB_START_WALL
# s, is stopped, its logs are shown and start fails; with the defaults the
# same server comes up. Prosody, in a directory of its own.
set -u
lab=$(cd "$(dirname "$0")/../lab" && pwd)
tmp=$(mktemp -d)
trap 'bash "$lab/prosody.sh" stop "$tmp/p" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
left() { pgrep -f -- "$tmp/p/" >/dev/null; }
# shown: start's output holds the tail of every log the stopped server
# wrote (at a budget of 0 it may have written none yet)
shown() {
  local f
  for f in "$tmp"/p/logs/*; do
    [ ! -s "$f" ] || [[ "$out" == *"----- tail of $f -----"* ]] || return 1
  done
}

start() { # start ENV...: prosody.sh start with ENV; sets rc, out
  env "$@" bash "$lab/prosody.sh" start "$tmp/p" >"$tmp/out" 2>&1
  rc=$?
  out=$(cat "$tmp/out")
}

start XMSG_LAB_START_CPU=0
check "no CPU budget: start fails, says why, shows the logs" \
  '[ "$rc" != 0 ] && [[ "$out" == *"of the server'"'"'s CPU (budget 0 s"* ]] &&
   [[ "$out" == *"did not come up"* ]] && shown'
check "... and no process of it is left" '! left'
start XMSG_LAB_START_WALL=0
check "no wall-clock time: start fails, says why" \
  '[ "$rc" != 0 ] && [[ "$out" == *"(XMSG_LAB_START_WALL)"* ]]'
check "... and no process of it is left" '! left'
start XMSG_LAB_QUIET=1
check "the defaults: the same server comes up" \
  '[ "$rc" = 0 ] && [ -s "$tmp/p/env" ] && left'
bash "$lab/prosody.sh" stop "$tmp/p" >/dev/null 2>&1
check "... and stops" '! left'
echo "# $pass passed, $failed failed"
[ "$failed" = 0 ]
