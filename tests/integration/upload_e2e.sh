#!/usr/bin/env bash
# xmsg send --file against the lab server's HTTP File Upload (XEP-0363):
# a 5 MB round trip (the GET URL's bytes and SHA-256 equal the file's), the
# message (caption, URL body, jabber:x:oob), the service cached in the state
# dir, an oversize file refused before any slot or PUT, a slot the server
# refuses, a missing file; no message in any failed case.
#   upload_e2e.sh XMSG_BINARY   with XMSG_LAB_ENV naming the server's env file
set -u
xmsg=$1
# shellcheck disable=SC1090
. "$XMSG_LAB_ENV"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME=$tmp/state
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

if [ -z "${XMSG_LAB_UPLOAD:-}" ]; then
  echo "FAIL - the lab server has no upload service (XMSG_LAB_UPLOAD)"
  exit 1
fi
srv=(-H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" --ca-file "$XMSG_LAB_CA" -T 60)
D=$XMSG_LAB_DOMAIN
cache="$XDG_STATE_HOME/xmsg/f01@$D.upload.json"

# xm USER ARGS...: runs the CLI as USER; sets rc, out, err.
xm() {
  local user=$1
  shift
  XMSG_PASSWORD=pw-$user-Zq8 "$xmsg" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
}
status() { printf '%s' "$out" | tail -n 1 | jq -r "$1"; }
# The messages waiting for f02, as a JSON array (drains them).
inbox() {
  xm f02 connect -j "f02@$D" "${srv[@]}" -l error
  printf '%s' "$out" | jq -cs '[.[] | select(has("body"))]'
}

inbox >/dev/null # start from an empty queue

# 1. 5 MB round trip with a caption.
head -c 5000000 /dev/urandom >"$tmp/five.bin"
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" -m "the graph" \
  --file "$tmp/five.bin" -l debug
check "send --file exits 0" '[ "$rc" = 0 ]'
check "send --file prints delivered:true" '[ "$(status .delivered)" = true ]'
sent=$out
# (Prosody's slot has an Authorization header; ejabberd's has none)
check "the debug log hides the slot's headers" \
  '[[ "$sent" != *Bearer* ]] && ! grep -q "<header name=[^>]*>[^[]" <<<"$sent"'
msgs=$(inbox)
check "one message arrived" '[ "$(jq length <<<"$msgs")" = 1 ]'
body=$(jq -r '.[0].body' <<<"$msgs")
url=${body#the graph$'\n'}
check "the body is the caption, a line break, the URL" \
  '[ "$body" = "the graph"$'"'"'\n'"'"'"$url" ] && [[ "$url" == https://* ]]'
# (connect hands over no payload: the stanza as sent, from the debug log)
check "the message carries jabber:x:oob with the same URL" \
  '[[ "$sent" == *"<x xmlns='"'"'jabber:x:oob'"'"'><url>$url</url></x></message>"* ]]'
curl -sS --fail --cacert "$XMSG_LAB_CA" -o "$tmp/got.bin" "$url"
check "the GET URL gives the file byte for byte" 'cmp -s "$tmp/five.bin" "$tmp/got.bin"'
check "... and its SHA-256" \
  '[ "$(sha256sum <"$tmp/got.bin")" = "$(sha256sum <"$tmp/five.bin")" ]'
check "the upload service is cached in the state dir" \
  '[ "$(jq -r .service "$cache")" = "$XMSG_LAB_UPLOAD" ] &&
   [ "$(jq -r .maxFileSize "$cache")" = "$XMSG_LAB_UPLOAD_MAX" ]'

# 2. Two files: two messages, the caption on the first only; the second
# login takes the service from the cache (no disco#items asked).
printf 'log line\n' >"$tmp/a.log"
printf 'second\n' >"$tmp/b.txt"
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" -m "logs" \
  --file "$tmp/a.log" --file "$tmp/b.txt" -l debug
check "send with two files exits 0" '[ "$rc" = 0 ]'
check "the cached service is used (no disco#items)" \
  '! grep -q "disco#items" <<<"$out"'
check "the slot asks for text/plain (from the name)" \
  'grep -q "content-type=.text/plain" <<<"$out"'
msgs=$(inbox)
check "two messages arrived" '[ "$(jq length <<<"$msgs")" = 2 ]'
u2=$(jq -r '.[1].body' <<<"$msgs")
check "the second is the URL alone, and serves its file" \
  '[[ "$u2" == https://* ]] && [ "$(curl -sS --cacert "$XMSG_LAB_CA" "$u2")" = second ]'

# 3. Oversize: input error, no slot asked, nothing uploaded, no message.
truncate -s $((XMSG_LAB_UPLOAD_MAX + 1)) "$tmp/big.bin"
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" --file "$tmp/big.bin" -l debug
check "an oversize file exits 2 (input)" '[ "$rc" = 2 ]'
check "... naming the limit" \
  '[[ "$(status .error.text)" == *"at most $XMSG_LAB_UPLOAD_MAX"* ]]'
check "... before any slot request" '! grep -q "http:upload:0.*filename" <<<"$out"'

# 4. A stale limit in the cache lets the request through: the server
# refuses the slot; protocol error, no message.
jq ".maxFileSize = 1000000000" "$cache" >"$tmp/c" && cp "$tmp/c" "$cache"
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" --file "$tmp/big.bin"
check "a refused slot exits 8 (protocol)" '[ "$rc" = 8 ]'
check "... saying the service refused it" \
  '[[ "$(status .error.text)" == *"refused the slot"* ]]'

# 5. A missing file is input, and one bad file of two sends nothing.
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" --file "$tmp/a.log" \
  --file "$tmp/missing"
check "a missing file exits 2 (input)" '[ "$rc" = 2 ]'
check "no message from the failed sends" '[ "$(inbox | jq length)" = 0 ]'

# 6. Usage: --file goes with neither --batch nor several recipients.
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" -t "f03@$D" --file "$tmp/a.log"
check "--file with two recipients is a usage error" '[ "$rc" = 2 ]'

echo "upload e2e: $pass passed, $failed failed"
[ "$failed" = 0 ]
