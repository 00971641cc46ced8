#!/usr/bin/env bash
# OMEMO to rooms (XEP-0384 in XEP-0045) against the lab server, with
# python-omemo (oldmemo) peers on slixmpp's xep_0045 (omemo_muc_peer.py):
# - a members-only, non-anonymous room made by its owner (o33, without
#   OMEMO devices); two python-omemo members joined (o35, o36); xmsg send
#   --omemo --room: both decrypt the text, from xmsg's device; the
#   stanza's body is the fallback; the owner and a member without devices
#   (o37) are left out at warn level; our second xmsg device (a second
#   state dir) gets a key;
# - an open room and a semi-anonymous one: exit 2 (input) naming what the
#   room is, and nothing reaches the occupant (only the plain message
#   sent after it);
# - a private room whose other members have no device: exit 2 (input).
#   omemo_muc_e2e.sh XMSG_BINARY ROOM_PEER   with XMSG_LAB_ENV naming the
#   server's env file
set -u
xmsg=$1
peer=$2
# shellcheck source=tests/integration/e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
M=${XMSG_LAB_MUC:-conference.$D}
FALLBACK="I sent you an OMEMO encrypted message but your client doesn't seem to support that."

# xj USER ARGS...: xm with USER's JID and the server's options.
xj() {
  local user=$1
  shift
  xm "$user" "$@" -j "$user@$D" "${srv[@]}"
}
# make ROOM KIND MEMBER...: o33 creates and configures ROOM.
make() {
  local room=$1
  shift
  /usr/bin/python3 "$peer" make "o33@$D" pw-o33-Zq8 "$room" "$@" \
    >"$tmp/make" 2>"$tmp/make.err"
  local r=$?
  [ "$r" = 0 ] || grep omemo_ "$tmp/make.err" >&2
  return "$r"
}
# recv NAME USER ROOM UNTIL: a python-omemo occupant in the background.
recv() {
  /usr/bin/python3 "$peer" recv "$2@$D" "pw-$2-Zq8" "$3" "until:$4" \
    >"$tmp/$1.out" 2>"$tmp/$1.err" &
  pids+=($!)
  eval "pid_$1=$!"
}
ready() {
  local p
  p=$(eval "echo \$pid_$1")
  for _ in $(seq 120); do
    grep -q ready "$tmp/$1.out" && return 0
    kill -0 "$p" 2>/dev/null || break
    sleep 1
  done
  echo "# peer $1 is not ready:" >&2
  grep -v "stringprep" "$tmp/$1.err" >&2
  return 1
}
# finish NAME: waits for the peer to stop (it stops at its last text).
finish() {
  local p
  p=$(eval "echo \$pid_$1")
  for _ in $(seq 120); do
    kill -0 "$p" 2>/dev/null || break
    sleep 1
  done
  wait "$p"
  eval "rc_$1=$?"
  grep omemo_ "$tmp/$1.err" >&2
  echo "# $1 got: $(grep '^{' "$tmp/$1.out" | paste -sd ' ')"
}

tag=$$-$RANDOM
priv=omemo-private-$tag@$M
open=omemo-open-$tag@$M
semi=omemo-semi-$tag@$M
none=omemo-nodevice-$tag@$M
make "$priv" private "o34@$D" "o35@$D" "o36@$D" "o37@$D"
check "the owner made a members-only, non-anonymous room" '[ "$?" = 0 ]'
make "$open" open "o34@$D" "o38@$D"
check "... an open one" '[ "$?" = 0 ]'
make "$semi" semi "o34@$D" "o39@$D"
check "... a semi-anonymous one" '[ "$?" = 0 ]'
make "$none" private "o34@$D" "o40@$D"
check "... a private one whose members have no device" '[ "$?" = 0 ]'

recv a o35 "$priv" end
recv b o36 "$priv" end
recv o o38 "$open" end-open
recv s o39 "$semi" end-semi
check "the python-omemo occupants are ready" \
  'ready a && ready b && ready o && ready s'

# Our device and a second xmsg device of o34 (its own state dir).
xj o34 omemo publish
dev=$(printf '%s' "$out" | head -n 1 | jq -r .device)
XDG_STATE_HOME=$tmp/state2 XMSG_PASSWORD=pw-o34-Zq8 "$xmsg" omemo publish \
  -j "o34@$D" "${srv[@]}" >"$tmp/second" 2>&1
check "our two devices are published" '[ "$?" = 0 ] && [ "$dev" -ge 1 ]'
dev2=$(head -n 1 "$tmp/second" | jq -r .device)

# 1. The private room: both members decrypt.
t0=$(date +%s%N)
xj o34 send --omemo --room "$priv" -m "room secret é" -v
echo "# send --omemo --room (5 members, sessions made) took $((($(date +%s%N) - t0) / 1000000)) ms"
check "send --omemo --room: exit 0, delivered (reflected)" \
  '[ "$rc" = 0 ] && [ "$(status .delivered)" = true ]'
check "to both python devices and our second device" \
  '[[ "$out" == *"OMEMO: to 4 recipient(s): 2 device(s), 1 of our own"* ]]'
check "the owner and a member without devices: left out at warn level" \
  '[[ "$out" == *"warn xmsg: OMEMO: o33@$D left out"* ]] &&
   [[ "$out" == *"warn xmsg: OMEMO: o37@$D left out"* ]]'
t0=$(date +%s%N)
xj o34 send --omemo --room "$priv" -m "second, on the sessions kept"
echo "# a second send --omemo --room took $((($(date +%s%N) - t0) / 1000000)) ms"
check "a second send: exit 0, the same devices" \
  '[ "$rc" = 0 ] && [ "$(status .delivered)" = true ]'
xj o34 send --room "$priv" -m end
for n in a b; do finish "$n"; done
for n in a b; do
  got=$(grep '"body": "room secret' "$tmp/$n.out")
  check "python-omemo member $n decrypts it, from our device, real JID" \
    '[ "$(jq -r .body <<<"$got")" = "room secret é" ] &&
     [ "$(jq -r .from <<<"$got")" = "o34@$D" ] &&
     [ "$(jq -r .device <<<"$got")" = "$dev" ]'
  check "member $n: the stanza's body is the fallback, never the text" \
    '[ "$(jq -r .fallback <<<"$got")" = "$FALLBACK" ] &&
     ! grep -q "\"plain\": \"room secret" "$tmp/$n.out" && [ "$(eval echo \$rc_$n)" = 0 ]'
  check "member $n decrypts the second one too (sessions kept in the store)" \
    '[ "$(grep "^{" "$tmp/$n.out" | jq -r ".body // .plain" | paste -sd "|")" = "room secret é|second, on the sessions kept|end" ]'
done
check "our second device got a key" \
  '[ "$(jq -r ".rids | index($dev2) != null" <<<"$got")" = true ]'

# 2. Rooms that are not suitable: refused, nothing sent.
xj o34 send --omemo --room "$open" -m "open secret"
check "an open room: exit 2 (input), said so" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   [[ "$(status .error.text)" == *"open (not members-only)"* ]]'
xj o34 send --room "$open" -m end-open
xj o34 send --omemo --room "$semi" -m "semi secret"
check "a semi-anonymous room: exit 2 (input), said so" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   [[ "$(status .error.text)" == *"semi-anonymous"* ]]'
xj o34 send --room "$semi" -m end-semi
for n in o s; do
  finish "$n"
  check "nothing but the plain message reached the occupant ($n)" \
    '[ "$(grep -c "^{" "$tmp/$n.out")" = 1 ] && grep -q "\"plain\": \"end-" "$tmp/$n.out"'
done

# 3. No member with a device; usage errors.
xj o34 send --omemo --room "$none" -m "nobody"
check "a room whose members have no device: exit 2 (input)" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   [[ "$(status .error.text)" == *"has a device we can encrypt to"* ]]'
xj o34 send --omemo --room "$priv" -t "o35@$D" -m x
check "--omemo --room with -t: a usage error, exit 2" \
  '[ "$rc" = 2 ] && [[ "$err" == *"no -t"* ]]'

e2e_done
