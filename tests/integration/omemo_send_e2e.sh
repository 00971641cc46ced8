#!/usr/bin/env bash
# params omemo through the whole send path, against python-omemo
# (oldmemo) peers on the lab server (users o09..o16):
# - send --omemo to two recipients (-t twice) and --batch: each peer
#   decrypts its messages, in order, and the stanza's body is the
#   fallback, never the text; a batch line with files: its caption, then
#   its file's aesgcm:// URL (XEP-0454), each encrypted;
# - a recipient without OMEMO devices: --omemo exit 2 (input), it got
#   nothing; --omemo=optional (and params omemo "optional" in a params
#   file) delivers in clear and the status says "encrypted": false;
#   a groupchat message outside a joined room refused (input); usage
#   errors (--omemo=maybe, with --raw); rooms and files have tests of
#   their own (omemo_muc_e2e.sh, omemo_files_e2e.sh);
# - the session API (omemo_session.c): three encrypted messages on one
#   session, in order;
# - 1,000 messages (200 under the sanitizers) to one recipient by --batch
#   --omemo (one session), then a second run: the peer decrypts them all
#   and the next, in order; how long it
#   took is printed (no timed assertion);
# - SIGKILL in the middle of --batch --omemo runs: the store stays whole,
#   the next run works and the peer decrypts what went out and the next.
#   omemo_send_e2e.sh XMSG_BINARY OMEMO_SEND_PEER OMEMO_SESSION
#   with XMSG_LAB_ENV naming the server's env file
set -u
xmsg=$1
peer=$2
session=$3
E2E_T=120
# shellcheck source=tests/integration/e2e_lib.sh
. "$(dirname "$0")/e2e_lib.sh"
FALLBACK="I sent you an OMEMO encrypted message but your client doesn't seem to support that."

# peer USER UNTIL LIMIT: a python-omemo client of USER in the background,
# its output in $tmp/USER.out; waits until it is ready.
peer() {
  /usr/bin/python3 "$peer" "$1@$D" "pw-$1-Zq8" "$2" "$3" \
    >"$tmp/$1.out" 2>"$tmp/$1.err" &
  pids+=($!)
  eval "pid_$1=$!"
  for _ in $(seq 120); do
    grep -q ready "$tmp/$1.out" && return 0
    kill -0 "$!" 2>/dev/null || break
    sleep 1
  done
  grep omemo "$tmp/$1.err" >&2
  return 1
}
# finish USER SECONDS: waits for USER's peer to end; sets prc.
finish() {
  local p
  p=$(eval "echo \$pid_$1")
  for _ in $(seq "$2"); do
    kill -0 "$p" 2>/dev/null || break
    sleep 1
  done
  wait "$p"
  prc=$?
  grep -q '"error"' "$tmp/$1.out" && grep '"error"' "$tmp/$1.out" | head -n 3 >&2
}
bodies() { grep '^{' "$tmp/$1.out" | jq -r .body | paste -sd '|'; }
fallbacks_ok() {
  [ "$(grep '^{' "$tmp/$1.out" | jq -r .fallback | sort -u)" = "$FALLBACK" ]
}

# 1. Two recipients, then a batch.
check "two python-omemo peers are ready" \
  'peer o10 until:last 300 && peer o11 until:last 300'
xm o09 send --omemo -t "o10@$D" -t "o11@$D" -m "to both é" -j "o09@$D" "${srv[@]}"
check "send --omemo -t A -t B: exit 0, two results, both encrypted" \
  '[ "$rc" = 0 ] && [ "$(grep -c "\"index\"" <<<"$out")" = 2 ] &&
   [ "$(grep "\"index\"" <<<"$out" | jq -r "[.delivered, .encrypted] | @tsv" | sort -u)" = "$(printf "true\tomemo")" ]'
cat >"$tmp/batch" <<JSON
{"to": "o10@$D", "body": "b1"}
{"to": "o11@$D", "body": "b2"}
{"to": "o10@$D", "body": "b3 with files", "files": ["/etc/hostname"]}
{"to": "o11@$D", "body": "b4"}
{"to": "o10@$D", "body": "b5"}
{"to": "o10@$D", "body": "last"}
{"to": "o11@$D", "body": "last"}
JSON
xm o09 send --omemo --batch -j "o09@$D" "${srv[@]}" <"$tmp/batch"
res=$(grep '"index"' <<<"$out")
check "--batch --omemo: exit 0, seven delivered encrypted" \
  '[ "$rc" = 0 ] && [ "$(jq -r "select(.delivered) | .encrypted" <<<"$res" | sort | uniq -c | tr -s " ")" = " 7 omemo" ]'
check "the line with files: delivered, its file uploaded encrypted (aesgcm://)" \
  '[ "$(jq -r "select(.index == 2) | .delivered" <<<"$res")" = true ] &&
   [[ "$(status ".files[0].url")" == aesgcm://* ]]'
finish o10 120
rc10=$prc
finish o11 120
check "each peer decrypts its messages, in order, without error" \
  '[ "$rc10" = 0 ] && [ "$prc" = 0 ] &&
   [ "$(bodies o10 | sed "s#aesgcm://[^|]*#AESGCM#")" = "to both é|b1|b3 with files|AESGCM|b5|last" ] &&
   [ "$(bodies o11)" = "to both é|b2|b4|last" ]'
check "no text in clear reached them: every stanza's body is the fallback" \
  'fallbacks_ok o10 && fallbacks_ok o11'

# 2. A recipient without OMEMO devices (o12 never published).
xm o09 send --omemo -t "o12@$D" -m "secret one" -j "o09@$D" "${srv[@]}"
check "--omemo to a recipient without devices: exit 2, input, not delivered" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   [ "$(status .delivered)" = false ] &&
   [[ "$(status .error.text)" == *"no device we can encrypt to"* ]]'
xm o09 send --omemo -t "o12@$D" -t "o10@$D" -m "secret two" -j "o09@$D" "${srv[@]}"
check "... among two recipients: that one refused (input), the other sent" \
  '[ "$rc" = 2 ] && [ "$(grep "\"to\":\"o12@$D\"" <<<"$out" | jq -r .error.code)" = input ] &&
   [ "$(grep "\"to\":\"o10@$D\"" <<<"$out" | jq -r .encrypted)" = omemo ]'
xm o09 send --omemo=optional -t "o12@$D" -m "in clear, as asked" -j "o09@$D" "${srv[@]}"
check "--omemo=optional: delivered in clear, encrypted false, a warning" \
  '[ "$rc" = 0 ] && [ "$(status .delivered)" = true ] &&
   [ "$(status .encrypted)" = false ] &&
   [[ "$out" == *"warn xmsg: OMEMO: message "*" goes in clear (params omemo optional)"* ]]'
printf '{"omemo": "optional"}\n' >"$tmp/params.json"
xm o09 send --params "$tmp/params.json" -t "o12@$D" -t "o10@$D" -m "mixed" \
  -j "o09@$D" "${srv[@]}"
check "params omemo optional (params file), two recipients: each result says" \
  '[ "$rc" = 0 ] && [ "$(grep "\"to\":\"o12@$D\"" <<<"$out" | jq -r .encrypted)" = false ] &&
   [ "$(grep "\"to\":\"o10@$D\"" <<<"$out" | jq -r .encrypted)" = omemo ]'
xm o12 connect -j "o12@$D" "${srv[@]}"
check "the recipient without devices got only what optional sent in clear" \
  '[ "$rc" = 0 ] && [ "$(grep "\"body\"" <<<"$out" | jq -r .body | paste -sd "|")" = "in clear, as asked|mixed" ]'
# (o11's next peer must not find a message waiting: o10 and o12 here.)
printf '# a comment\no10@%s\no12@%s\n' "$D" "$D" >"$tmp/rcpts"
xm o09 send --omemo=optional --recipients "$tmp/rcpts" -m "from a file" \
  -j "o09@$D" "${srv[@]}"
check "--omemo=optional --recipients FILE: each recipient's result says" \
  '[ "$rc" = 0 ] && [ "$(grep "\"index\"" <<<"$out" | jq -r .encrypted | paste -sd " ")" = "omemo false" ]'
mkdir -p "$tmp/bad/xmsg"
printf '{"version":1,' >"$tmp/bad/xmsg/o12@$D.omemo.json"
XDG_STATE_HOME=$tmp/bad xm o12 send --omemo=optional -t "o10@$D" \
  -m "never in clear" -j "o12@$D" "${srv[@]}"
check "optional with a store that cannot be read: exit 2, the store named, kept" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   [[ "$(status .error.text)" == *"o12@$D.omemo.json"* ]] &&
   [ "$(cat "$tmp/bad/xmsg/o12@$D.omemo.json")" = "{\"version\":1," ]'
xm o10 connect -j "o10@$D" "${srv[@]}"
check "... and nothing went in clear" \
  '[ "$rc" = 0 ] && ! grep -q "never in clear" <<<"$out"'
xm o09 send --omemo --type groupchat -t "o12@$D" -m "to a room" -j "o09@$D" "${srv[@]}"
check "--omemo with type groupchat, no room joined: exit 2, input" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   [[ "$(status .error.text)" == *"the room the session joined"* ]]'
xm o09 send --omemo=maybe -t "o12@$D" -m x -j "o09@$D" "${srv[@]}"
check "--omemo=maybe: usage, exit 2" '[ "$rc" = 2 ] && [[ "$err" == *"required or optional"* ]]'
xm o09 send --omemo --raw -m "<message to='o12@$D'/>" -j "o09@$D" "${srv[@]}"
check "--omemo with --raw: usage, exit 2" '[ "$rc" = 2 ] && [[ "$err" == *"--raw takes the whole stanza"* ]]'

# 3. The session API: three messages on one session.
check "a peer for the session API is ready" 'peer o11 3 300'
"$session" o09 "$XDG_STATE_HOME/xmsg/o09@$D.json" true "o11@$D" s1 s2 s3 \
  >"$tmp/sess" 2>&1
src=$?
check "xmsg_session_send x3 with params omemo: each delivered, encrypted" \
  '[ "$src" = 0 ] && [ "$(jq -r "[.delivered, .encrypted] | @tsv" "$tmp/sess" | sort | uniq -c | tr -s " \t" "  ")" = " 3 true omemo" ]'
check "one store opening and one publication check for the session" \
  '[ "$(grep -c "not published yet\|has new prekeys" "$tmp/sess")" = 0 ]'
finish o11 120
check "the peer decrypts the three, in order" \
  '[ "$prc" = 0 ] && [ "$(bodies o11)" = "s1|s2|s3" ] && fallbacks_ok o11'
"$session" o09 "$XDG_STATE_HOME/xmsg/o09@$D.json" optional "o12@$D" c1 \
  >"$tmp/sess2" 2>&1
check "a session with omemo optional to o12: delivered, encrypted false" \
  '[ "$?" = 0 ] && [ "$(jq -r .encrypted "$tmp/sess2")" = false ]'

# 4. 1,000 messages to one recipient, one session; then a second run.
#    Under the sanitizers (XMSG_TEST_SLOW) 200: the same paths, the count
#    is the plain pass's to show.
many=1000
[ "${XMSG_TEST_SLOW:-0}" = 1 ] && many=200
check "the peer of the $many is ready" 'peer o14 until:final 540'
seq "$many" | sed 's/.*/{"body": "m &"}/' >"$tmp/thousand"
t0=$(date +%s.%N)
xm o13 send --omemo --batch -t "o14@$D" -j "o13@$D" "${srv[@]}" <"$tmp/thousand"
t1=$(date +%s.%N)
echo "# $many encrypted messages by --batch --omemo: $(echo "$t1 - $t0" | bc) s (exit $rc)"
check "--batch --omemo of $many: exit 0, all delivered, all encrypted" \
  '[ "$rc" = 0 ] && [ "$(grep "\"index\"" <<<"$out" | jq -r "select(.delivered) | .encrypted" | grep -c omemo)" = "$many" ]'
store13=$XDG_STATE_HOME/xmsg/o13@$D.omemo.json
check "one session with the peer's device in the store" \
  '[ "$(jq ".sessions[\"o14@$D\"] | length" "$store13")" = 1 ]'
xm o13 send --omemo -t "o14@$D" -m final -j "o13@$D" "${srv[@]}"
check "a second run continues: exit 0, encrypted" \
  '[ "$rc" = 0 ] && [ "$(status .encrypted)" = omemo ] &&
   [ "$(jq ".sessions[\"o14@$D\"] | length" "$store13")" = 1 ]'
t2=$(date +%s.%N)
finish o14 540
t3=$(date +%s.%N)
echo "# the peer finished $(echo "$t3 - $t2" | bc) s after the last send"
echo "# key exchanges (prekey='true') among them: $(grep -c '"prekey": true' "$tmp/o14.out") of $(grep -c '^{' "$tmp/o14.out") (no answer from the peer: libsignal keeps the key exchange until one)"
check "the peer decrypts all $many and the next, in order, without error" \
  '[ "$prc" = 0 ] && [ "$(grep -c "^{" "$tmp/o14.out")" = $((many + 1)) ] &&
   [ "$(bodies o14)" = "$( (seq "$many" | sed "s/^/m /"; echo final) | paste -sd "|")" ] &&
   fallbacks_ok o14'

# 5. SIGKILL in the middle of --batch --omemo runs.
check "the peer of the killed runs is ready" 'peer o15 until:final 300'
store16=$XDG_STATE_HOME/xmsg/o16@$D.omemo.json
xm o16 omemo fingerprint -j "o16@$D" "${srv[@]}" # the store exists first
seq 1000 | sed 's/.*/{"body": "k &"}/' >"$tmp/killed"
intact=1 mid=0
got() { grep -c '^{' "$tmp/o15.out"; }
for i in 1 2 3; do
  # Killed once the peer has 20 of the run's messages: in the middle.
  before=$(got)
  XMSG_PASSWORD=pw-o16-Zq8 "$xmsg" send --omemo --batch -t "o15@$D" \
    -j "o16@$D" "${srv[@]}" <"$tmp/killed" >"$tmp/k$i" 2>&1 &
  k=$!
  for _ in $(seq 1200); do
    [ "$(got)" -ge $((before + 20)) ] && break
    kill -0 "$k" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$k" 2>/dev/null && mid=$((mid + 1))
  kill -9 "$k" 2>/dev/null
  wait "$k" 2>/dev/null
  jq -e .deviceId "$store16" >/dev/null 2>&1 || intact=0
  # What the killed run had sent arrives: the next one counts from there.
  last=-1
  for _ in $(seq 60); do
    [ "$(got)" = "$last" ] && break
    last=$(got)
    sleep 2
  done
done
echo "# the peer had $(got) message(s) after the kills"
check "3 runs killed in the middle (the peer had 20 of each, not all)" \
  '[ "$mid" = 3 ]'
check "after 3 SIGKILLs mid-batch the store is whole" '[ "$intact" = 1 ]'
xm o16 send --omemo -t "o15@$D" -m final -j "o16@$D" "${srv[@]}"
check "the next run: exit 0, encrypted" '[ "$rc" = 0 ] && [ "$(status .encrypted)" = omemo ]'
check "no temp file of a killed writer is left after it (private keys)" \
  '! ls "$XDG_STATE_HOME/xmsg" | grep -q "o16@$D.omemo.json.tmp"'
finish o15 300
echo "# the peer got $(grep -c '^{' "$tmp/o15.out") message(s); errors: $(grep -c '"error"' "$tmp/o15.out")"
check "the peer decrypts every message that went out, and the next" \
  '[ "$prc" = 0 ] && [ "$(grep "^{" "$tmp/o15.out" | tail -n 1 | jq -r .body)" = final ] &&
   ! grep -q "\"error\"" "$tmp/o15.out"'

e2e_done
