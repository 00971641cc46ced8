#!/usr/bin/env bash
# OMEMO received and decrypted by the library (params omemo, connect and
# listen --omemo, xmsg_session_poll), against python-omemo peers
# (omemo_recv_peer.py over omemo_peer.py; users o17..o24):
# - listen --omemo: the texts, "encrypted": "omemo", senderDevice, the
#   fingerprint that xmsg omemo devices shows for the sender's device;
#   after the first (a prekey message) xmsg answers with a heartbeat: the
#   peer decrypts an empty OMEMO message and its next message is no
#   longer a prekey message;
# - connect --omemo: the text; the used prekey replaced and our bundle
#   published again in the same call (the PEP bundle's prekeys are the
#   store's); without --omemo the message stays as it was (payload);
#   a tampered payload: decryptError, the fallback body;
# - pins: a prekey message from a device not pinned (a JID with pins)
#   and a message on an existing session after pinning another
#   fingerprint: both decryptError (untrusted), never the text; omemo
#   untrust removes the pin (twice: exit 2);
# - key transport: python-omemo answers our prekey message with an empty
#   OMEMO message: listen --omemo processes it (debug log) and hands only
#   the text after it over;
# - omemo_poll (xmsg_session_poll with params omemo): the text decrypted.
# XMSG_VALGRIND=1: the xmsg runs under valgrind memcheck (no error, no
# leak).
#   omemo_recv_e2e.sh XMSG_BINARY OMEMO_RECV_PEER OMEMO_POLL
#   with XMSG_LAB_ENV naming the server's env file
set -u
xmsg=$1
peer=$2
poll=$3
E2E_T=60
[ "${XMSG_VALGRIND:-}" != 1 ] || E2E_T=120
# shellcheck source=tests/integration/e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
vg=()
if [ "${XMSG_VALGRIND:-}" = 1 ]; then
  vg=(valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)
fi
run=("${vg[@]}" "$xmsg")
vg_log=$tmp/valgrind.log
: >"$vg_log"

# listen_bg USER NAME FROM ARGS...: listen --omemo as USER in the
# background, only what FROM sends, into $tmp/NAME.out and .err (--count:
# one more, for the probe); waits until it has printed a plaintext probe
# from FROM (it is online then: its log only comes with the status line
# at the end).
listen_bg() {
  local user=$1 name=$2 from=$3 i
  shift 3
  XMSG_PASSWORD=pw-$user-Zq8 "${run[@]}" listen --omemo -j "$user@$D" \
    "${srv[@]}" -vv --from "$from@$D" "$@" >"$tmp/$name.out" \
    2>"$tmp/$name.err" &
  lpid=$!
  pids+=("$lpid")
  XMSG_PASSWORD=pw-$from-Zq8 "$xmsg" send -t "$user@$D" -m "probe $name" \
    -j "$from@$D" "${srv[@]}" >/dev/null 2>&1
  for i in $(seq 600); do
    grep -q "probe $name" "$tmp/$name.out" && break
    kill -0 "$lpid" 2>/dev/null || break
    sleep 0.2
  done
}
# py MODE USER ARGS...: the python-omemo peer as USER (foreground).
py() {
  local mode=$1 user=$2
  shift 2
  /usr/bin/python3 "$peer" "$mode" "$user@$D" "pw-$user-Zq8" "$@" \
    >"$tmp/py.out" 2>"$tmp/py.err"
  prc=$?
  pout=$(cat "$tmp/py.out")
  [ "$prc" = 0 ] || grep omemo_ "$tmp/py.err" >&2
}
first() { printf '%s' "$out" | head -n 1 | jq -r "$1"; }
msgs() { grep '"kind":"message"' "$1" | grep -v '"log"\|"probe '; }

# 0. o17 publishes its device (the peers look it up).
xm o17 omemo publish -j "o17@$D" "${srv[@]}"
dev17=$(first .device)
check "o17 publishes its device" '[ "$rc" = 0 ] && [ "$dev17" -ge 1 ]'
store17=$XDG_STATE_HOME/xmsg/o17@$D.omemo.json

# 1. listen --omemo; the peer's first message is a prekey message: xmsg
#    answers with a heartbeat, the peer's second one is a plain message.
listen_bg o17 l1 o18 --count 3 --duration 240
py converse o18 "o17@$D" "first é" "second"
wait "$lpid"
lrc=$?
cat "$tmp/l1.err" >>"$vg_log"
got=$(msgs "$tmp/l1.out")
echo "# peer: $(paste -sd ' ' <<<"$pout")"
echo "# xmsg got: $(jq -c '{body, encrypted, senderDevice, fingerprint, decryptError}' <<<"$got" | paste -sd ' ')"
check "listen --omemo: exit 0, both texts decrypted, encrypted omemo" \
  '[ "$lrc" = 0 ] && [ "$(jq -r .body <<<"$got" | paste -sd "|")" = "first é|second" ] &&
   [ "$(jq -r .encrypted <<<"$got" | sort -u)" = omemo ] &&
   [ "$(jq -r ".decryptError // empty" <<<"$got")" = "" ]'
sdev=$(jq -r .senderDevice <<<"$got" | sort -u)
sfp=$(jq -r .fingerprint <<<"$got" | sort -u)
xm o17 omemo devices "o18@$D" -j "o17@$D" "${srv[@]}"
check "senderDevice and fingerprint: the peer's, as omemo devices shows it" \
  '[ "$(wc -l <<<"$sdev")" = 1 ] && [ "$(wc -l <<<"$sfp")" = 1 ] &&
   [ "$(grep "\"device\":$sdev," <<<"$out" | jq -r .fingerprint)" = "$sfp" ]'
check "the first was a prekey message, the heartbeat reached the peer (empty)" \
  '[ "$prc" = 0 ] && grep -q "{\"sent\": \"first \\\\u00e9\", \"prekey\": true}" <<<"$pout" &&
   grep -q "{\"heartbeat\": true, \"empty\": true}" <<<"$pout"'
check "the peer left the prekey state: its second message is no prekey message" \
  'grep -q "{\"sent\": \"second\", \"prekey\": false}" <<<"$pout"'
check "listen logged the heartbeat (debug)" \
  'grep -q "OMEMO: heartbeat to device $sdev of o18@$D" "$tmp/l1.out" "$tmp/l1.err"'

# 2. connect --omemo: the text; the used prekey replaced and published in
#    the same call.
opy() { /usr/bin/python3 "$(dirname "$peer")/omemo_peer.py" "$@" >/dev/null 2>&1; }
opy send "o19@$D" pw-o19-Zq8 "o17@$D" "via connect" "again"
xm o17 connect --omemo -j "o17@$D" "${srv[@]}" -v
# OMEMO messages only: ejabberd may store listen's plaintext probe a moment
# after listen left, and connect gets it here.
got=$(grep '"encrypted"' <<<"$out" | grep -v '"log"')
echo "# connect got: $(jq -c '{body, decryptError}' <<<"$got" | paste -sd ' ')"
check "connect --omemo: both texts, encrypted omemo" \
  '[ "$rc" = 0 ] && [ "$(jq -r .body <<<"$got" | paste -sd "|")" = "via connect|again" ] &&
   [ "$(jq -r .encrypted <<<"$got" | sort -u)" = omemo ]'
check "the prekeys used are replaced and published in the same call" \
  '[ "$(jq ".preKeys | length" "$store17")" = 100 ] &&
   [ "$(jq .publishNeeded "$store17")" = null ]'
/usr/bin/python3 "$(dirname "$peer")/omemo_peer.py" devices "o24@$D" \
  pw-o24-Zq8 "o17@$D" >"$tmp/dv" 2>/dev/null
check "the PEP bundle has 100 prekeys and a good signature" \
  '[ "$(jq -r "select(.device == $dev17) | .prekeys" "$tmp/dv")" = 100 ] &&
   [ "$(jq -r "select(.device == $dev17) | .signature" "$tmp/dv")" = true ]'

# 3. Without --omemo: as before (the <encrypted/> in payload); tampered.
opy send "o19@$D" pw-o19-Zq8 "o17@$D" "kept sealed" "sealed too"
xm o17 connect -j "o17@$D" "${srv[@]}"
got=$(grep '"body"' <<<"$out" | grep -v '"log"')
check "connect without --omemo: the fallback body, the payload, no encrypted field" \
  '[ "$(jq -r .body <<<"$got" | sort -u)" = "OMEMO (fallback)" ] &&
   [ "$(jq -r .encrypted <<<"$got" | sort -u)" = null ] &&
   [[ "$(jq -r .payload <<<"$got" | head -n 1)" == *"<encrypted xmlns='"'"'eu.siacs.conversations.axolotl'"'"'>"* ]]'
opy send "o20@$D" pw-o20-Zq8 "o17@$D" --tamper "bent"
xm o17 connect --omemo -j "o17@$D" "${srv[@]}"
got=$(grep '"encrypted"' <<<"$out" | grep -v '"log"')
check "a tampered payload: decryptError, the fallback body" \
  '[ "$rc" = 0 ] && [[ "$(jq -r .decryptError <<<"$got")" == *tampered* ]] &&
   [ "$(jq -r .body <<<"$got")" = "OMEMO (fallback)" ]'

# connect_until TEXT: o17's connect --omemo, run again (30 times at most)
# until TEXT is in what it handed over: ejabberd may store a message a
# moment after the peer said it sent it. got: the OMEMO messages of all
# the runs; rc: the last run's exit.
connect_until() {
  local all=""
  for _ in $(seq 30); do
    xm o17 connect --omemo -j "o17@$D" "${srv[@]}"
    all+=$(grep '"encrypted"' <<<"$out" | grep -v '"log"')$'\n'
    grep -q -- "$1" <<<"$all" && break
    sleep 1
  done
  got=$(grep . <<<"$all")
}

# 4. Pins. o21 has a pin (not its device's): its prekey message is
#    refused. o22's session exists, then another fingerprint is pinned:
#    its next message is refused too (our own check on a session).
zero=$(printf '%064d' 0)
xm o17 omemo trust "o21@$D" "$zero" -j "o17@$D" "${srv[@]}"
opy send "o21@$D" pw-o21-Zq8 "o17@$D" "not pinned"
connect_until pinned
check "a prekey message from a device not pinned: decryptError, no text" \
  '[ "$rc" = 0 ] && [[ "$(jq -r .decryptError <<<"$got")" == *pinned* ]] &&
   [ "$(jq -r .body <<<"$got")" = "OMEMO (fallback)" ] && ! grep -q "not pinned" <<<"$got"'
/usr/bin/python3 "$peer" send-wait "o22@$D" pw-o22-Zq8 "o17@$D" "trusted" \
  "$tmp/go" "after the pin" >"$tmp/sw.out" 2>"$tmp/sw.err" &
swpid=$!
pids+=("$swpid")
for _ in $(seq 600); do
  grep -q '"sent"' "$tmp/sw.out" && break
  sleep 0.2
done
connect_until trusted
check "o22's first message (blind trust): decrypted" \
  '[ "$(jq -r "select(.body == \"trusted\") | .body" <<<"$got")" = trusted ]'
xm o17 omemo trust "o22@$D" "$zero" -j "o17@$D" "${srv[@]}"
touch "$tmp/go"
wait "$swpid"
connect_until untrusted
check "o22 got the heartbeat: its next message is no prekey message" \
  'grep -q "{\"sent\": \"after the pin\", \"prekey\": false}" "$tmp/sw.out"'
check "on the existing session, now not pinned: decryptError untrusted, no text" \
  '[ "$rc" = 0 ] && [[ "$(jq -r .decryptError <<<"$got")" == untrusted* ]] &&
   [ "$(jq -r .body <<<"$got")" = "OMEMO (fallback)" ] && ! grep -q "after the pin" <<<"$got"'
xm o17 omemo untrust "o22@$D" "$zero" -j "o17@$D" "${srv[@]}"
check "untrust: exit 0, the pin gone (no list left)" \
  '[ "$rc" = 0 ] && [ "$(jq -c ".trust[\"o22@$D\"]" "$store17")" = null ]'
xm o17 omemo untrust "o22@$D" "$zero" -j "o17@$D" "${srv[@]}"
check "untrust of a pin that is not there: exit 2" '[ "$rc" = 2 ]'
xm o17 omemo untrust "o22@$D" "xyz" -j "o17@$D" "${srv[@]}"
check "untrust with something that is not a fingerprint: exit 2" '[ "$rc" = 2 ]'

# 5. Key transport: python-omemo answers our prekey message with an empty
#    OMEMO message; listen --omemo processes it and hands only the text
#    after it over.
/usr/bin/python3 "$peer" reply "o23@$D" pw-o23-Zq8 1 "after the key" \
  >"$tmp/rp.out" 2>"$tmp/rp.err" &
rppid=$!
pids+=("$rppid")
for _ in $(seq 600); do
  grep -q ready "$tmp/rp.out" && break
  sleep 0.2
done
listen_bg o17 l2 o23 --count 2 --duration 240
xm o17 send --omemo -t "o23@$D" -m "hello peer" -j "o17@$D" "${srv[@]}"
check "send --omemo to the reply peer: exit 0" '[ "$rc" = 0 ]'
wait "$rppid"
prc=$?
wait "$lpid"
lrc=$?
cat "$tmp/l2.err" >>"$vg_log"
got=$(msgs "$tmp/l2.out")
check "the peer decrypted it and sent an empty OMEMO message (key transport)" \
  '[ "$prc" = 0 ] && grep -q "\"body\": \"hello peer\"" "$tmp/rp.out" &&
   grep -q "empty_sent" "$tmp/rp.out"'
[ "$prc" = 0 ] && grep -q "empty_sent" "$tmp/rp.out" ||
  sed "s/^/# reply peer (exit $prc): /" "$tmp/rp.out" "$tmp/rp.err"
echo "# listen got: $(jq -c '{body, decryptError}' <<<"$got" | paste -sd ' ')"
[ "$lrc" = 0 ] || tail -n 20 "$tmp/l2.err" | sed "s/^/# listen (exit $lrc): /"
check "listen: only the text after it, decrypted" \
  '[ "$lrc" = 0 ] && [ "$(jq -r .body <<<"$got")" = "after the key" ] &&
   [ "$(jq -s length <<<"$got")" = 1 ]'
check "listen processed the key transport (debug log)" \
  'grep -q "OMEMO: a key transport from device [0-9]* of o23@$D processed" "$tmp/l2.out" "$tmp/l2.err"'

# 6. xmsg_session_poll with params omemo (omemo_poll.c).
"${vg[@]}" "$poll" o24 1 >"$tmp/poll.out" 2>"$tmp/poll.err" &
ppid=$!
pids+=("$ppid")
for _ in $(seq 600); do
  grep -q ready "$tmp/poll.out" && break
  kill -0 "$ppid" 2>/dev/null || break
  sleep 0.2
done
opy send "o20@$D" pw-o20-Zq8 "o24@$D" "through poll"
wait "$ppid"
prc=$?
cat "$tmp/poll.err" >>"$vg_log"
got=$(grep '"kind":"message"' "$tmp/poll.out")
check "xmsg_session_poll with params omemo: the text decrypted" \
  '[ "$prc" = 0 ] && [ "$(jq -r .body <<<"$got")" = "through poll" ] &&
   [ "$(jq -r .encrypted <<<"$got")" = omemo ] &&
   [ "$(jq -r .senderDevice <<<"$got")" -ge 1 ]'

# 7. Staleness: 54 messages on one chain after the first heartbeat: xmsg
#    answers with another heartbeat (more than 53 received, as
#    Conversations does).
listen_bg o17 l3 o19 --count 56 --duration 400
py stale o19 "o17@$D" 54
wait "$lpid"
lrc=$?
cat "$tmp/l3.err" >>"$vg_log"
check "54 messages on one chain: all decrypted" \
  '[ "$lrc" = 0 ] && [ "$(msgs "$tmp/l3.out" | jq -r .body | tail -n 1)" = s54 ] &&
   [ "$(msgs "$tmp/l3.out" | jq -r ".decryptError // empty" | wc -w)" = 0 ]'
check "a second heartbeat past 53 (the peer saw two)" \
  '[ "$prc" = 0 ] && grep -q "{\"heartbeats\": 2}" <<<"$pout"'

# 8. Reserved names: a message setting them is refused as input.
for f in encrypted senderDevice fingerprint decryptError; do
  xm o17 send -t "o18@$D" -m x --attr "$f=v" -j "o17@$D" "${srv[@]}"
  check "send with attribute $f: exit 2 (reserved)" \
    '[ "$rc" = 2 ] && [[ "$out$err" == *"$f: reserved name"* ]]'
done

if [ "${XMSG_VALGRIND:-}" = 1 ]; then
  check "valgrind found no error or leak in the runs above" \
    '! grep -q "ERROR SUMMARY: [1-9]\|definitely lost\|indirectly lost" "$vg_log"'
fi
e2e_done
