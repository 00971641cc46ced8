#!/usr/bin/env bash
# OMEMO's first slice against the lab server, with python3-oldmemo as the
# peer that reads what xmsg publishes:
# - xmsg omemo fingerprint: the identity created once, in the state dir
#   (0600), the same device id and fingerprint on every run; a corrupt
#   store is an input error (exit 2) and stays as it was;
# - xmsg omemo publish: our bundle and our device added to the device list
#   (another client's devices kept, never twice), open to anyone: a
#   stranger (another account, no subscription) fetches them, oldmemo
#   parses them against the schema, the signed prekey's signature checks,
#   the fingerprint is ours, 100 prekeys; a node another client left with
#   the server's default access model (Prosody: presence) is reconfigured
#   (precondition-not-met);
# - xmsg omemo devices JID: the same devices and fingerprint; none for an
#   account without OMEMO; usage errors.
# - the other way: python-omemo encrypts to xmsg; xmsg connect --omemo prints the
#   text with "encrypted": "omemo", the sender's device and fingerprint; a
#   tampered payload is handed over with decryptError, never dropped; the
#   prekey used up is replaced and published again in the same call;
# - several devices: two python-omemo clients of one recipient both
#   decrypt; our own second device (a second state dir) gets a key too;
# - SIGKILL mid-send: the store stays whole, the peer decrypts what went
#   out and the next message;
# - xmsg_omemo_send (tests/integration/omemo_send.c) and xmsg send
#   --omemo: a python-omemo
#   client (oldmemo) decrypts the text, twice (two runs, the session kept
#   in the store); the stanza's body is the fallback, never the text; a
#   recipient without devices is refused (exit 2) and gets nothing;
#   omemo trust: a pinned fingerprint keeps other devices out (warned);
#   omemo_e2e.sh XMSG_BINARY OMEMO_PEER OMEMO_SEND   with XMSG_LAB_ENV
#   naming the server's env file
set -u
xmsg=$1
peer=$2
send=$3
# shellcheck source=tests/integration/e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
peer_pid=

# py MODE USER ARGS...: the oldmemo peer as USER; sets rc, out.
py() {
  local mode=$1 user=$2
  shift 2
  /usr/bin/python3 "$peer" "$mode" "$user@$D" "pw-$user-Zq8" "$@" \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  [ "$rc" = 0 ] || grep omemo_peer "$tmp/err" >&2
}
first() { printf '%s' "$out" | head -n 1 | jq -r "$1"; }
store=$XDG_STATE_HOME/xmsg/o01@$D.omemo.json

# 1. The identity: created once, kept.
xm o01 omemo fingerprint -j "o01@$D" "${srv[@]}"
dev=$(first .device)
fp=$(first .fingerprint)
check "fingerprint: exit 0, a device id and a fingerprint" \
  '[ "$rc" = 0 ] && [ "$dev" -ge 1 ] && [[ "$fp" =~ ^([0-9a-f]{8} ){7}[0-9a-f]{8}$ ]]'
check "the store is in the state dir, mode 600" \
  '[ "$(stat -c %a "$store")" = 600 ]'
sum=$(sha256sum <"$store")
xm o01 omemo fingerprint -j "o01@$D" "${srv[@]}"
check "a second run: the same device and fingerprint, the store unchanged" \
  '[ "$(first .device)" = "$dev" ] && [ "$(first .fingerprint)" = "$fp" ] &&
   [ "$(sha256sum <"$store")" = "$sum" ]'
out=$(env -u XMSG_PASSWORD "$xmsg" omemo fingerprint -j "o01@$D" </dev/null 2>"$tmp/err")
rc=$?
check "fingerprint needs no password (the store alone): the same line" \
  '[ "$rc" = 0 ] && [ "$(first .device)" = "$dev" ] && [ "$(first .fingerprint)" = "$fp" ]'
out=$(env -u XMSG_PASSWORD "$xmsg" omemo fingerprint -j "not-a-jid" </dev/null 2>"$tmp/err")
rc=$?
check "fingerprint of a JID that is no account: exit 2, no store made" \
  '[ "$rc" = 2 ] && [[ "$(status .error.text)" == *"user@domain"* ]] &&
   ! ls "$XDG_STATE_HOME/xmsg/" | grep -q not-a-jid'

# 2. Another client of the account published a device list (default
#    access model); xmsg adds itself and keeps the others.
py publish-list o01 1111 2222
check "the other client's device list is published" '[ "$rc" = 0 ]'
xm o01 omemo publish -j "o01@$D" "${srv[@]}" -v
check "publish: exit 0, our line" \
  '[ "$rc" = 0 ] && [ "$(first .device)" = "$dev" ] && [ "$(first .fingerprint)" = "$fp" ]'
check "publish: the device list had to be completed" \
  '[[ "$out" == *"device $dev added to our list (3 devices)"* ]]'
py devices o02 "o01@$D"
check "a stranger (oldmemo) reads our device list: the others and ours" \
  '[ "$rc" = 0 ] && [ "$(jq -s -c "[.[].device] | sort" <<<"$out")" = "$(jq -c -n "[1111, 2222, $dev] | sort")" ]'
mine=$(jq -c "select(.device == $dev)" <<<"$out")
check "oldmemo parses our bundle: our fingerprint, 100 prekeys, a good signature" \
  '[ "$(jq -r .fingerprint <<<"$mine")" = "$fp" ] &&
   [ "$(jq -r .prekeys <<<"$mine")" = 100 ] && [ "$(jq -r .signature <<<"$mine")" = true ]'
xm o01 omemo publish -j "o01@$D" "${srv[@]}" -v
py devices o02 "o01@$D"
check "publishing again: our device is listed once" \
  '[ "$(jq -s "[.[] | select(.device == $dev)] | length" <<<"$out")" = 1 ] &&
   [ "$(jq -s length <<<"$out")" = 3 ]'

# 3. A bundle node left closed by another client: reconfigured.
xm o03 omemo fingerprint -j "o03@$D" "${srv[@]}"
dev3=$(first .device)
fp3=$(first .fingerprint)
py publish-closed o03 "eu.siacs.conversations.axolotl.bundles:$dev3"
check "a closed bundle node exists" '[ "$rc" = 0 ]'
xm o03 omemo publish -j "o03@$D" "${srv[@]}" -v
check "publish over it: exit 0" '[ "$rc" = 0 ]'
py devices o04 "o03@$D"
mine=$(jq -c "select(.device == $dev3)" <<<"$out")
check "a stranger reads the bundle: the node is open now" \
  '[ "$rc" = 0 ] && [ "$(jq -r .fingerprint <<<"$mine")" = "$fp3" ] &&
   [ "$(jq -r .signature <<<"$mine")" = true ]'

# 4. xmsg omemo devices, as another account.
xm o02 omemo devices "o01@$D" -j "o02@$D" "${srv[@]}"
check "devices: exit 0, one line per device" \
  '[ "$rc" = 0 ] && [ "$(grep -c "\"device\"" <<<"$out")" = 3 ]'
check "devices: our fingerprint, null for devices without a bundle" \
  '[ "$(grep "\"device\":$dev," <<<"$out" | jq -r .fingerprint)" = "$fp" ] &&
   [ "$(grep "\"device\":1111," <<<"$out" | jq -r .fingerprint)" = null ]'
xm o02 omemo devices "o05@$D" -j "o02@$D" "${srv[@]}"
check "devices of an account without OMEMO: none, exit 0" \
  '[ "$rc" = 0 ] && [ "$(grep -c "\"device\"" <<<"$out")" = 0 ]'
if [ "$XMSG_LAB_SERVER" = prosody ]; then
  # Prosody: forbidden for a node that does not exist (to a stranger).
  check "devices of an account without OMEMO: Prosody's forbidden, a warning" \
    '[[ "$out" == *"warn xmsg: OMEMO: eu.siacs.conversations.axolotl.devicelist of o05@$D: forbidden"* ]]'
fi

# 5. Refusals.
xm o02 omemo devices "not a jid" -j "o02@$D" "${srv[@]}"
check "devices of something that is not a JID: exit 2 (input)" \
  '[ "$rc" = 2 ] && [ "$(printf "%s" "$out" | tail -n 1 | jq -r .error.code)" = input ]'
xm o02 omemo -j "o02@$D" "${srv[@]}"
check "omemo without an action: usage, exit 2" '[ "$rc" = 2 ] && [[ "$err" == *"missing action"* ]]'
xm o02 omemo devices -j "o02@$D" "${srv[@]}"
check "omemo devices without a JID: exit 2" '[ "$rc" = 2 ]'
xm o02 omemo frobnicate -j "o02@$D" "${srv[@]}"
check "an unknown action: exit 2" '[ "$rc" = 2 ] && [[ "$err" == *"unknown action"* ]]'
printf '{"version":1,' >"$store"
xm o01 omemo fingerprint -j "o01@$D" "${srv[@]}"
check "a corrupt store: exit 2, the file named, left as it was" \
  '[ "$rc" = 2 ] && [[ "$out" == *"$store"* ]] && [ "$(cat "$store")" = "{\"version\":1," ]'
xm o01 omemo publish -j "o01@$D" "${srv[@]}"
check "publish with a corrupt store: exit 2, nothing replaced" \
  '[ "$rc" = 2 ] && [ "$(cat "$store")" = "{\"version\":1," ]'

# 6. Encrypted messages to a python-omemo client.
/usr/bin/python3 "$peer" recv "o06@$D" pw-o06-Zq8 2 >"$tmp/peer.out" \
  2>"$tmp/peer.err" &
peer_pid=$!
pids+=("$peer_pid")
for _ in $(seq 120); do
  grep -q ready "$tmp/peer.out" && break
  kill -0 "$peer_pid" 2>/dev/null || break
  sleep 1
done
check "the python-omemo peer published its device" 'grep -q ready "$tmp/peer.out"'
# o05 never ran publish: the first send publishes its device.
xm o05 omemo fingerprint -j "o05@$D" "${srv[@]}"
dev5=$(first .device)
"$send" o05 "$XDG_STATE_HOME/xmsg/o05@$D.json" "o06@$D" "first secret é" >"$tmp/s1"
rc1=$?
check "the first send published our device first" \
  'grep -q "device $dev5 not published yet: publishing it" "$tmp/s1"'
xm o05 send --omemo -t "o06@$D" -m "second secret" -j "o05@$D" "${srv[@]}"
rc2=$rc
check "two encrypted sends (the API, then xmsg send --omemo): exit 0" \
  '[ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$(status .delivered)" = true ]'
check "the first built a session with the peer's device, kept in the store" \
  '[ "$(jq ".sessions[\"o06@$D\"] | length" "$XDG_STATE_HOME/xmsg/o05@$D.omemo.json")" = 1 ]'
for _ in $(seq 120); do
  kill -0 "$peer_pid" 2>/dev/null || break
  sleep 1
done
wait "$peer_pid"
prc=$?
peer_pid=
got=$(grep '^{' "$tmp/peer.out")
echo "# the peer got: $got"
check "python-omemo decrypts both, from our device, in order" \
  '[ "$prc" = 0 ] && [ "$(jq -r .body <<<"$got" | paste -sd "|")" = "first secret é|second secret" ] &&
   [ "$(jq -r .device <<<"$got" | sort -u)" = "$dev5" ]'
check "the stanza's body is the fallback, never the text" \
  '[ "$(jq -r .fallback <<<"$got" | sort -u)" = "I sent you an OMEMO encrypted message but your client doesn'"'"'t seem to support that." ]'
grep -v "stringprep\|Task\|task:\|Own device id" "$tmp/peer.err" >&2
"$send" o05 "$XDG_STATE_HOME/xmsg/o05@$D.json" "o07@$D" "nobody can read" >"$tmp/s3"
rc3=$?
check "a recipient without OMEMO devices: refused, exit 2 (input)" \
  '[ "$rc3" = 2 ] && [[ "$(cat "$tmp/s3")" == *"has no device we can encrypt to"* ]]'
xm o05 send --omemo -t "o07@$D" -m "nobody can read" -j "o05@$D" "${srv[@]}"
check "send --omemo to it: exit 2, error input" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ]'
xm o05 send --omemo -t "o07@$D" -t "o06@$D" -m x -j "o05@$D" "${srv[@]}"
check "send --omemo to two recipients: the one without devices refused (input)" \
  '[ "$rc" = 2 ] && [ "$(grep "\"to\":\"o07@$D\"" <<<"$out" | jq -r .error.code)" = input ]'
xm o07 connect -j "o07@$D" "${srv[@]}"
check "... and nothing reached it" \
  '[ "$rc" = 0 ] && ! grep -q "\"body\"" <<<"$out"'

# Pins: a fingerprint pinned for o06 that is not its device's: its device
# gets nothing (warned), the send is refused; pinning the real one too
# lets it through.
xm o05 omemo trust "o06@$D" "$(printf '%064d' 0)" -j "o05@$D" "${srv[@]}"
check "trust: exit 0" '[ "$rc" = 0 ]'
xm o05 send --omemo -t "o06@$D" -m "pinned away" -j "o05@$D" "${srv[@]}"
check "a device that is not the pinned one: left out (warn), refused (exit 2)" \
  '[ "$rc" = 2 ] && [[ "$out" == *"warn xmsg: OMEMO: device "*" of o06@$D left out: "*"pinned"* ]]'
xm o05 omemo devices "o06@$D" -j "o05@$D" "${srv[@]}"
fp6=$(first .fingerprint)
xm o05 omemo trust "o06@$D" "${fp6// /}" -j "o05@$D" "${srv[@]}"
xm o05 send --omemo -t "o06@$D" -m "pinned right" -j "o05@$D" "${srv[@]}"
check "its fingerprint pinned too (given without spaces): sent" \
  '[ "$rc" = 0 ] && [ "$(jq -c ".trust[\"o06@$D\"] | length" "$XDG_STATE_HOME/xmsg/o05@$D.omemo.json")" = 2 ]'
xm o05 omemo trust "o06@$D" "abc" -j "o05@$D" "${srv[@]}"
check "trust with something that is not a fingerprint: exit 2" '[ "$rc" = 2 ]'

# 7. From python-omemo to xmsg (o08 has published: the peer finds it).
xm o08 omemo publish -j "o08@$D" "${srv[@]}"
dev8=$(first .device)
store8=$XDG_STATE_HOME/xmsg/o08@$D.omemo.json
/usr/bin/python3 "$peer" send "o07@$D" pw-o07-Zq8 "o08@$D" "hello xmsg é" \
  "and again" >"$tmp/p1" 2>"$tmp/p1.err"
prc=$?
grep omemo_peer "$tmp/p1.err" >&2
check "python-omemo sent two encrypted messages" '[ "$prc" = 0 ] && grep -q sent "$tmp/p1"'
xm o08 connect --omemo -j "o08@$D" "${srv[@]}"
got=$(grep '"body"' <<<"$out")
echo "# xmsg got: $(jq -c '{body, encrypted, senderDevice, fingerprint, decryptError}' <<<"$got")"
check "connect decrypts both: the texts, encrypted omemo, the sender's device" \
  '[ "$rc" = 0 ] && [ "$(jq -r .body <<<"$got" | paste -sd "|")" = "hello xmsg é|and again" ] &&
   [ "$(jq -r .encrypted <<<"$got" | sort -u)" = omemo ] &&
   [ "$(jq -r .senderDevice <<<"$got" | sort -u | wc -l)" = 1 ] &&
   [[ "$(jq -r .fingerprint <<<"$got" | head -n 1)" =~ ^([0-9a-f]{8} ){7}[0-9a-f]{8}$ ]]'
check "the prekey it used is replaced (100 again) and published in the same call" \
  '[ "$(jq ".preKeys | length" "$store8")" = 100 ] && [ "$(jq .publishNeeded "$store8")" = null ]'
/usr/bin/python3 "$peer" send "o07@$D" pw-o07-Zq8 "o08@$D" --tamper "bent" \
  >"$tmp/p2" 2>"$tmp/p2.err"
xm o08 connect --omemo -j "o08@$D" "${srv[@]}"
got=$(grep '"encrypted"' <<<"$out")
check "a tampered payload: handed over with decryptError, the fallback body" \
  '[ "$rc" = 0 ] && [[ "$(jq -r .decryptError <<<"$got")" == *tampered* ]] &&
   [ "$(jq -r .body <<<"$got")" = "OMEMO (fallback)" ]'
xm o08 send --omemo -t "o07@$D" -m "reply" -j "o08@$D" "${srv[@]}" -v
check "the next send has nothing left to publish (connect did)" \
  '[ "$rc" = 0 ] && [[ "$out" != *"device $dev8 has new prekeys"* ]] &&
   [ "$(jq .publishNeeded "$store8")" = null ]'

# 8. Several devices: two python-omemo clients of o04 (started one after
#    the other: each adds itself to the list), and a second xmsg device of
#    o05 (its own state dir).
for n in 1 2; do
  /usr/bin/python3 "$peer" recv "o04@$D" pw-o04-Zq8 1 >"$tmp/m$n.out" \
    2>"$tmp/m$n.err" &
  pids+=($!)
  for _ in $(seq 120); do
    grep -q ready "$tmp/m$n.out" && break
    sleep 1
  done
done
check "two python-omemo devices of o04 are ready" \
  'grep -q ready "$tmp/m1.out" && grep -q ready "$tmp/m2.out"'
XDG_STATE_HOME=$tmp/state2 XMSG_PASSWORD=pw-o05-Zq8 "$xmsg" omemo publish \
  -j "o05@$D" "${srv[@]}" >"$tmp/second" 2>&1
check "our second device published" '[ "$?" = 0 ]'
xm o05 send --omemo -t "o04@$D" -m "to both" -j "o05@$D" "${srv[@]}" -v
check "send: to both devices of o04 and to our second device" \
  '[ "$rc" = 0 ] && [[ "$out" == *"OMEMO: to o04@$D: 2 device(s), 1 of our own"* ]]'
for n in 1 2; do
  for _ in $(seq 120); do
    grep -q '^{' "$tmp/m$n.out" && break
    sleep 1
  done
done
check "each python-omemo device decrypts it" \
  '[ "$(grep "^{" "$tmp/m1.out" | jq -r .body)" = "to both" ] &&
   [ "$(grep "^{" "$tmp/m2.out" | jq -r .body)" = "to both" ]'

# 9. SIGKILL in the middle of sends: the store stays readable, and what
#    went out and what comes next decrypt at the peer (the store is saved
#    before a stanza leaves). o03 sends to o02.
/usr/bin/python3 "$peer" recv "o02@$D" pw-o02-Zq8 until:final \
  >"$tmp/k.out" 2>"$tmp/k.err" &
kpid=$!
pids+=($kpid)
for _ in $(seq 120); do
  grep -q ready "$tmp/k.out" && break
  sleep 1
done
store3=$XDG_STATE_HOME/xmsg/o03@$D.omemo.json
intact=1
for i in $(seq 10); do
  XMSG_PASSWORD=pw-o03-Zq8 "$xmsg" send --omemo -t "o02@$D" -m "killed $i" \
    -j "o03@$D" "${srv[@]}" >/dev/null 2>&1 &
  k=$!
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 "$k" 2>/dev/null
  wait "$k" 2>/dev/null
  jq -e .deviceId "$store3" >/dev/null 2>&1 || intact=0
done
check "after 10 SIGKILLs mid-send the store is whole" '[ "$intact" = 1 ]'
xm o03 send --omemo -t "o02@$D" -m final -j "o03@$D" "${srv[@]}"
check "the next send: exit 0" '[ "$rc" = 0 ]'
check "no temp file of a killed writer is left (private keys)" \
  '! ls "$XDG_STATE_HOME/xmsg" | grep -q "o03@$D.omemo.json.tmp"'
for _ in $(seq 120); do
  kill -0 "$kpid" 2>/dev/null || break
  sleep 1
done
wait "$kpid"
krc=$?
echo "# the peer got $(grep -c '^{' "$tmp/k.out") message(s); errors: $(grep -c '"error"' "$tmp/k.out")"
check "the peer decrypts every message that went out, and the last" \
  '[ "$krc" = 0 ] && grep -q "\"body\": \"final\"" "$tmp/k.out" &&
   ! grep -q "\"error\"" "$tmp/k.out"'

e2e_done
