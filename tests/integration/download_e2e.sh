#!/usr/bin/env bash
# connect|listen --download DIR against the lab server's HTTP File Upload:
# d01 sends a 1 MB file (send --file), d02 collects it with --download: the
# message's url, its file in DIR with the same SHA-256; the same file again
# gets a new name, the first untouched; listen --download too. Hostile
# URLs (sent as a jabber:x:oob payload, served by download_peer.py): over
# --download-max (announced, or growing), a path traversal, an untrusted
# certificate, http without --allow-plaintext: the message is still handed
# over, with downloadError, exit 0, nothing left outside (or in) DIR.
# A 64 MB file costs no more memory than a 1 KB one.
# The session API with params downloadDir (download_poll.c) too.
#   download_e2e.sh XMSG_BINARY PEER_SCRIPT POLL_BINARY   with XMSG_LAB_ENV
#   set
#   (XMSG_DOWNLOAD_RSS=0: no memory check)
set -u
xmsg=$1
peer_py=$2
poll=$3
# shellcheck source=tests/integration/files_lib.sh
. "$(dirname "$0")/files_lib.sh"

msgs() { printf '%s' "$out" | jq -cs '[.[] | select(has("body"))]'; }
# collect DIR [ARGS...]: d02 connect --download DIR; msgs in $got.
collect() {
  local dir=$1
  shift
  xm d02 connect -j "d02@$D" "${srv[@]}" --download "$dir" "$@"
  got=$(msgs)
}
# oob URL [BODY]: d01 sends a message whose payload is a jabber:x:oob URL.
oob() {
  xm d01 send -j "d01@$D" "${srv[@]}" -t "d02@$D" -m "${2:-a link}" \
    --payload "<x xmlns='jabber:x:oob'><url>$1</url></x>"
  [ "$rc" = 0 ] || bad "sending the OOB message to $1 (rc $rc: $err)"
}
# start_peer VAR LOG [CERT KEY]: a download_peer.py (its big file:
# $BIG bytes, default 300000); its port in VAR (waits for it to listen,
# up to 60 s).
start_peer() {
  local var=$1 log=$2 i
  shift 2
  : >"$log"
  /usr/bin/python3 "$peer_py" "$log" "${BIG:-300000}" 1000 "$@" >"$log.port" \
    2>"$log.err" &
  pids+=($!)
  for i in $(seq 600); do
    [ -s "$log.port" ] && break
    sleep 0.1
  done
  printf -v "$var" '%s' "$(head -n 1 "$log.port")"
  [ -n "${!var}" ] || bad "download_peer.py did not start: $(cat "$log.err")"
}
count_files() { find "$1" -mindepth 1 | wc -l; }

mkdir -p "$tmp/dl" "$tmp/dl2" "$tmp/h/dl"
xm d02 connect -j "d02@$D" "${srv[@]}" -l error # start from an empty queue

# 1. A 1 MB file: url, file, same SHA-256.
head -c 1000000 /dev/urandom >"$tmp/one.bin"
want=$(sha256sum <"$tmp/one.bin")
xm d01 send -j "d01@$D" "${srv[@]}" -t "d02@$D" -m "the file" \
  --file "$tmp/one.bin"
check "send --file exits 0" '[ "$rc" = 0 ]'
collect "$tmp/dl"
check "connect --download exits 0" '[ "$rc" = 0 ]'
check "one message arrived" '[ "$(jq length <<<"$got")" = 1 ]'
url=$(jq -r '.[0].url' <<<"$got")
file=$(jq -r '.[0].file' <<<"$got")
check "it has url, the https GET URL of the body" \
  '[[ "$url" == https://* ]] && [[ "$(jq -r ".[0].body" <<<"$got")" == *"$url" ]]'
check "it has file, in DIR, named after the URL" \
  '[ "$file" = "$tmp/dl/one.bin" ] && [ -f "$file" ]'
check "the file has the sent bytes (SHA-256)" \
  '[ "$(sha256sum <"$file")" = "$want" ]'
check "DIR holds that file only (no temp file left)" \
  '[ "$(count_files "$tmp/dl")" = 1 ]'

# 2. The same file again: a new name, the first untouched.
xm d01 send -j "d01@$D" "${srv[@]}" -t "d02@$D" --file "$tmp/one.bin"
collect "$tmp/dl"
file2=$(jq -r '.[0].file' <<<"$got")
check "a second one.bin gets a new name" \
  '[ "$file2" = "$tmp/dl/one (1).bin" ] && [ "$(sha256sum <"$file2")" = "$want" ]'
check "... the first is untouched" \
  '[ "$(sha256sum <"$tmp/dl/one.bin")" = "$want" ] && [ "$(count_files "$tmp/dl")" = 2 ]'

# 3. listen --download.
printf 'listened\n' >"$tmp/two.txt"
xm d01 send -j "d01@$D" "${srv[@]}" -t "d02@$D" --file "$tmp/two.txt"
xm d02 listen -j "d02@$D" "${srv[@]}" --download "$tmp/dl2" --count 1 \
  --duration 120
got=$(msgs)
check "listen --download exits 0 with the message" \
  '[ "$rc" = 0 ] && [ "$(jq length <<<"$got")" = 1 ]'
check "... its url and its file" \
  '[[ "$(jq -r ".[0].url" <<<"$got")" == https://* ]] &&
   [ "$(jq -r ".[0].file" <<<"$got")" = "$tmp/dl2/two.txt" ] &&
   [ "$(cat "$tmp/dl2/two.txt")" = listened ]'

# 3b. listen --from: a file from another sender is neither printed nor
# fetched.
printf 'from d01\n' >"$tmp/d01.txt"
printf 'from d03\n' >"$tmp/d03.txt"
xm d01 send -j "d01@$D" "${srv[@]}" -t "d02@$D" --file "$tmp/d01.txt"
xm d03 send -j "d03@$D" "${srv[@]}" -t "d02@$D" --file "$tmp/d03.txt"
mkdir "$tmp/dl3"
xm d02 listen -j "d02@$D" "${srv[@]}" --download "$tmp/dl3" \
  --from "d03@$D" --count 1 --duration 120
got=$(msgs)
check "listen --from --download prints d03's message with its file" \
  '[ "$rc" = 0 ] && [ "$(jq length <<<"$got")" = 1 ] &&
   [ "$(jq -r ".[0].file" <<<"$got")" = "$tmp/dl3/d03.txt" ]'
check "... and fetched nothing of d01's" '[ "$(count_files "$tmp/dl3")" = 1 ]'
xm d02 connect -j "d02@$D" "${srv[@]}" -l error # drains the rest

# 3c. The session API: xmsg_session_poll() with params downloadDir.
printf 'polled\n' >"$tmp/three.txt"
xm d01 send -j "d01@$D" "${srv[@]}" -t "d02@$D" --file "$tmp/three.txt"
mkdir "$tmp/dl4"
"$poll" d02 "$tmp/dl4" >"$tmp/poll.out" 2>"$tmp/poll.err"
check "xmsg_session_poll with downloadDir hands over url and file" \
  '[ "$(jq -r .file "$tmp/poll.out")" = "$tmp/dl4/three.txt" ] &&
   [ "$(cat "$tmp/dl4/three.txt")" = polled ] ||
   { cat "$tmp/poll.out" "$tmp/poll.err"; false; }'
xm d02 connect -j "d02@$D" "${srv[@]}" -l error # drains what poll left

# 4. Hostile URLs from a server with the lab's certificate.
start_peer port "$tmp/peer.log" "$XMSG_LAB_DIR/certs/localhost.crt" \
  "$XMSG_LAB_DIR/certs/localhost.key"
base=https://localhost:$port
oob "$base/big.bin" "too big"
oob "$base/grow.bin" "growing"
oob "$base/%2e%2e%2f%2e%2e%2fescape.bin" "traversal"
oob "$base/a/../../..%2fabs%2fname.bin" "absolute"
oob "http://localhost:$port/plain.bin" "plaintext"
collect "$tmp/h/dl" --download-max 100000 -l warn
check "connect exits 0 whatever the downloads did" '[ "$rc" = 0 ]'
check "every message is handed over" '[ "$(jq length <<<"$got")" = 5 ]'
by() { jq -c --arg b "$1" '.[] | select(.body == $b)' <<<"$got"; }
check "announced over --download-max: downloadError, no file" \
  '[[ "$(by "too big" | jq -r .downloadError)" == "input: "*"over downloadMax (100000 bytes)"* ]] &&
   [ "$(by "too big" | jq -r .file)" = null ]'
check "growing past --download-max: aborted, downloadError" \
  '[[ "$(by growing | jq -r .downloadError)" == *"over downloadMax"* ]]'
check "a traversal name stays in DIR" \
  '[ "$(by traversal | jq -r .file)" = "$tmp/h/dl/_.._escape.bin" ] &&
   [ ! -e "$tmp/escape.bin" ] && [ ! -e "$tmp/h/escape.bin" ]'
check "an absolute name stays in DIR" \
  '[ "$(by absolute | jq -r .file)" = "$tmp/h/dl/_abs_name.bin" ]'
check "http without --allow-plaintext is refused, not fetched" \
  '[[ "$(by plaintext | jq -r .downloadError)" == *"not an https URL"* ]] &&
   ! grep -q plain.bin "$tmp/peer.log"'
check "DIR holds the two small files only" \
  '[ "$(count_files "$tmp/h/dl")" = 2 ] && [ "$(count_files "$tmp/h")" = 3 ]'
check "the log says which downloads failed" \
  '[ "$(status ".log[]" | grep -c "download of .* failed")" = 3 ]'

# 5. An untrusted certificate: refused (tls), nothing fetched.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$tmp/evil.key" \
  -out "$tmp/evil.crt" 2>/dev/null
start_peer eport "$tmp/evil.log" "$tmp/evil.crt" "$tmp/evil.key"
oob "https://localhost:$eport/evil.bin" "untrusted"
collect "$tmp/h/dl"
check "an untrusted certificate: downloadError tls, no file" \
  '[[ "$(by untrusted | jq -r .downloadError)" == tls:* ]] &&
   [ "$(by untrusted | jq -r .file)" = null ] && [ "$(count_files "$tmp/h/dl")" = 2 ]'
check "... and the message is still there" \
  '[ "$rc" = 0 ] && [ "$(by untrusted | jq -r .url)" = "https://localhost:$eport/evil.bin" ]'

# 6. Plaintext allowed: http is fetched.
start_peer pport "$tmp/plain.log"
oob "http://localhost:$pport/plain.bin" "plain"
collect "$tmp/h/dl" --allow-plaintext
check "--allow-plaintext lets an http URL through" \
  '[ "$(by plain | jq -r .file)" = "$tmp/h/dl/plain.bin" ] &&
   [ "$(wc -c <"$tmp/h/dl/plain.bin")" = 1000 ]'

# 7. Memory: a 64 MB file costs no more than a 1 MB one (streamed to
# disk). Peak RSS of connect --download, in KB, from getrusage.
# rss OUT ARGS...: runs the CLI as d02 with ARGS, stdout in OUT.
rss() {
  local out=$1
  shift
  XMSG_PASSWORD=pw-d02-Zq8 /usr/bin/python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$out" "$xmsg" "$@"
}
mkdir "$tmp/m1" "$tmp/m64"
BIG=64000000 start_peer mport "$tmp/mem.log" \
  "$XMSG_LAB_DIR/certs/localhost.crt" "$XMSG_LAB_DIR/certs/localhost.key"
oob "https://localhost:$mport/small.bin" "one"
r1=$(rss "$tmp/r1" connect -j "d02@$D" "${srv[@]}" --download "$tmp/m1")
oob "https://localhost:$mport/big.bin" "sixty-four"
r64=$(rss "$tmp/r64" connect -j "d02@$D" "${srv[@]}" --download "$tmp/m64" \
  --download-max 100000000)
check "a 64 MB download arrives whole" \
  '[ "$(stat -c %s "$tmp/m64/big.bin")" = 64000000 ]'
# (Not under ASan, XMSG_DOWNLOAD_RSS=0: its quarantine keeps freed memory.)
if [ "${XMSG_DOWNLOAD_RSS:-1}" = 1 ]; then
  check "... with peak RSS within 8 MB of a 1 KB one ($r1 KB, $r64 KB)" \
    '[ -n "$r1" ] && [ -n "$r64" ] && [ "$r64" -lt $((r1 + 8192)) ]'
fi

e2e_done "download e2e"
