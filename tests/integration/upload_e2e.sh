#!/usr/bin/env bash
# xmsg send --file against the lab server's HTTP File Upload (XEP-0363):
# a 5 MB round trip (the GET URL's bytes and SHA-256 equal the file's), the
# message (caption, URL body, jabber:x:oob), the service cached in the state
# dir, an oversize file refused before any slot or PUT, a slot the server
# refuses, a missing file; no message in any failed case. The status's
# "files"; a message's "files" in JSON (--message); --file to two
# recipients and in a batch: each file uploaded once, its URL to each;
# the upload's progress on a terminal (a pty), none without one.
#   upload_e2e.sh XMSG_BINARY   with XMSG_LAB_ENV naming the server's env file
set -u
xmsg=$1
# shellcheck source=tests/integration/files_lib.sh
. "$(dirname "$0")/files_lib.sh"
cache="$XDG_STATE_HOME/xmsg/f01@$D.upload.json"

# The messages waiting for USER (default f02), as a JSON array (drains
# them).
inbox() {
  local user=${1:-f02}
  xm "$user" connect -j "$user@$D" "${srv[@]}" -l error
  printf '%s' "$out" | jq -cs '[.[] | select(has("body"))]'
}
# The number of PUTs in a debug log (the status's log is one line).
puts() { grep -o "upload: PUT" <<<"$1" | wc -l; }

inbox >/dev/null # start from an empty queue
inbox f03 >/dev/null

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
check "the status lists the file: path, the URL sent, its size" \
  '[ "$(printf "%s" "$sent" | tail -n 1 | jq -c ".files")" = \
     "$(jq -nc --arg p "$tmp/five.bin" --arg u "$url" \
        "[{path: \$p, url: \$u, size: 5000000}]")" ]'
check "no progress line when stderr is no terminal" \
  '! grep -q "xmsg: upload" "$tmp/err"'
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

# 6. --file to two recipients: one upload, the same URL to each.
xm f01 send -j "f01@$D" "${srv[@]}" -t "f02@$D" -t "f03@$D" -m "both" \
  --file "$tmp/b.txt" -l debug
check "--file with two recipients exits 0" '[ "$rc" = 0 ]'
check "... one PUT for both" '[ "$(puts "$out")" = 1 ]'
check "... the status lists the file once, 2 delivered" \
  '[ "$(status ".files | length")" = 1 ] && [ "$(status .batch.delivered)" = 2 ]'
u=$(status '.files[0].url')
m2=$(inbox f02)
m3=$(inbox f03)
check "... each recipient got the caption and the same URL" \
  '[ "$(jq -r ".[0].body" <<<"$m2")" = "both"$'"'"'\n'"'"'"$u" ] &&
   [ "$(jq -r ".[0].body" <<<"$m3")" = "both"$'"'"'\n'"'"'"$u" ] &&
   [ "$(jq length <<<"$m2")" = 1 ] && [ "$(jq length <<<"$m3")" = 1 ]'
check "... and that URL serves the file" \
  '[ "$(curl -sS --fail --cacert "$XMSG_LAB_CA" "$u")" = second ]'

# 7. A message's "files" in JSON (--message FILE): an object with its
# content type; the status tells path, URL and size.
printf 'a,b\n1,2\n' >"$tmp/t.csv"
jq -n --arg to "f02@$D" --arg p "$tmp/t.csv" \
  '{to: $to, body: "json", files: [{path: $p, contentType: "text/csv"}]}' \
  >"$tmp/m.json"
xm f01 send -j "f01@$D" "${srv[@]}" --message "$tmp/m.json" -l debug
check "JSON files: exits 0, delivered" \
  '[ "$rc" = 0 ] && [ "$(status .delivered)" = true ]'
check "... the slot asks for its contentType" \
  'grep -q "content-type=.text/csv" <<<"$out"'
check "... the status's files: path, https URL, size" \
  '[ "$(status ".files[0].path")" = "$tmp/t.csv" ] &&
   [[ "$(status ".files[0].url")" == https://* ]] &&
   [ "$(status ".files[0].size")" = 8 ]'
u=$(status '.files[0].url')
msgs=$(inbox)
check "... the message is the body, a line break, the URL" \
  '[ "$(jq -r ".[0].body" <<<"$msgs")" = "json"$'"'"'\n'"'"'"$u" ]'
check "... which serves the file" \
  '[ "$(curl -sS --fail --cacert "$XMSG_LAB_CA" "$u")" = "$(cat "$tmp/t.csv")" ]'
printf '{"to":"f02@%s","files":"%s"}' "$D" "$tmp/t.csv" >"$tmp/bad.json"
xm f01 send -j "f01@$D" "${srv[@]}" --message "$tmp/bad.json"
check "files that is not an array: exit 2 (input), named" \
  '[ "$rc" = 2 ] && [[ "$(status .error.text)" == *"message.files"* ]]'

# 8. A batch with files: a file shared by two inputs is uploaded once; a
# missing file fails its input alone, sending nothing for it.
{
  jq -nc --arg to "f02@$D" --arg p "$tmp/a.log" '{to: $to, files: [$p]}'
  jq -nc --arg to "f03@$D" --arg p "$tmp/a.log" \
    '{to: $to, body: "cap", files: [$p]}'
  jq -nc --arg to "f02@$D" --arg p "$tmp/missing" '{to: $to, files: [$p]}'
  jq -nc --arg to "f02@$D" '{to: $to, body: "plain"}'
  jq -nc --arg to "f03@$D" --arg p "$tmp/a.log" --arg q "$tmp/b.txt" \
    '{to: $to, files: [$p, $q]}'
} >"$tmp/batch.jsonl"
xm f01 send -j "f01@$D" "${srv[@]}" --batch -l debug <"$tmp/batch.jsonl"
res=$(grep '"index"' <<<"$out")
check "batch: the inputs with a file are delivered" \
  '[ "$(jq -sc "[.[] | select(.delivered)] | map(.index)" <<<"$res")" = "[0,1,3,4]" ]'
check "... the missing file fails its input as input" \
  '[ "$(jq -sr ".[2].error.code" <<<"$res")" = input ]'
check "... one result line per input (two files: one line)" \
  '[ "$(wc -l <<<"$res")" = 5 ]'
check "... one PUT for the shared file, one for the new one" \
  '[ "$(puts "$out")" = 2 ]'
check "... the status lists each once; 4 of 5 delivered" \
  '[ "$(status ".files | length")" = 2 ] && [ "$(status .batch.delivered)" = 4 ]'
u=$(status '.files[0].url')
fu=$(status '[.files[0].url, .files[1].url]' | jq -c .)
m2=$(inbox f02)
m3=$(inbox f03)
check "... f02 got the URL, then the plain message" \
  '[ "$(jq -c "map(.body)" <<<"$m2")" = "$(jq -nc --arg u "$u" "[\$u, \"plain\"]")" ]'
check "... f03 the caption and the same URL, then a message per file" \
  '[ "$(jq -r ".[0].body" <<<"$m3")" = "cap"$'"'"'\n'"'"'"$u" ] &&
   [ "$(jq -c "[.[1].body, .[2].body]" <<<"$m3")" = \
     "$fu" ]'

# 8b. --batch with --file: the files of every message input without its
# own (a presence carries none).
{
  jq -nc --arg to "f02@$D" '{to: $to, body: "dflt"}'
  echo '{"kind":"presence"}'
} >"$tmp/b2.jsonl"
xm f01 send -j "f01@$D" "${srv[@]}" --batch --file "$tmp/b.txt" \
  <"$tmp/b2.jsonl"
check "--batch --file: exits 0, the message got the file, the presence none" \
  '[ "$rc" = 0 ] && [ "$(status ".files[0].path")" = "$tmp/b.txt" ] &&
   [ "$(status .batch.delivered)" = 2 ]'
u=$(status '.files[0].url')
msgs=$(inbox)
check "... its body the caption and the URL" \
  '[ "$(jq -r ".[0].body" <<<"$msgs")" = "dflt"$'"'"'\n'"'"'"$u" ]'

# 8c. Files to a room: a message per file, delivered once the room
# reflected the last (it keeps the message's id).
xm f01 send -j "f01@$D" "${srv[@]}" --room "files@$XMSG_LAB_MUC" \
  --nick f01 -m "room cap" --file "$tmp/a.log" --file "$tmp/b.txt" -l debug
check "room: two files, exit 0, delivered" \
  '[ "$rc" = 0 ] && [ "$(status .delivered)" = true ]'
check "... two groupchat messages sent, each with jabber:x:oob" \
  '[ "$(status "[.log[] | select(contains(\"SENT: <message\") and
     contains(\"groupchat\") and contains(\"jabber:x:oob\"))] | length")" = 2 ]'

# 9. Progress: on a terminal (stderr a pty) a line with the bytes, whole;
# stdout holds the status alone.
XMSG_PASSWORD=pw-f01-Zq8 /usr/bin/python3 - "$xmsg" send -j "f01@$D" \
  "${srv[@]}" -t "f02@$D" --file "$tmp/five.bin" >"$tmp/pty" <<'EOF'
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=slave)
os.close(slave)
err = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    err += chunk
out = p.stdout.read()
p.wait()
print("rc=%d" % p.returncode)
print("out=%s" % out.decode().strip())
print("err=%r" % err.decode(errors="replace"))
EOF
check "progress: the send exits 0 under a pty" 'grep -q "^rc=0$" "$tmp/pty"'
check "... stderr shows the upload, whole, once" \
  '[ "$(grep -oF "xmsg: upload five.bin 5.0 MB / 5.0 MB (5000000/5000000 bytes, 100%)" \
        "$tmp/pty" | wc -l)" = 1 ]'
check "... stdout holds only the status" \
  'grep "^out=" "$tmp/pty" | grep -q "\"delivered\":true" &&
   ! grep "^out=" "$tmp/pty" | grep -q "xmsg: upload"'
inbox >/dev/null

e2e_done "upload e2e"
