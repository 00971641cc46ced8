#!/usr/bin/env bash
# Encrypted files (XEP-0454, aesgcm://) with OMEMO against the lab server,
# python3-oldmemo and python3-cryptography as the peer
# (omemo_files_peer.py, importing omemo_peer.py):
# - xmsg send --omemo -m CAPTION --file F (5 MB): the peer decrypts two
#   messages, the caption and then exactly an aesgcm:// URL (12-byte IV,
#   88 hex digits); it fetches the https URL with the lab CA, decrypts it
#   with the fragment's key: the SHA-256 of F; the server stores F's size
#   + 16 bytes, not F; no stanza the peer received holds jabber:x:oob, the
#   URL, the file's name or the caption in clear; the slot was asked under
#   a random name; a recipient without OMEMO devices: exit 2, nothing
#   uploaded;
# - the peer uploads its own AES-GCM file and sends the aesgcm:// URL in an
#   OMEMO message: xmsg connect --download DIR decrypts the message, then
#   fetches and decrypts the file: the same SHA-256, its url the aesgcm://
#   one; a 16-byte IV (older clients) too; a tampered ciphertext, a body
#   shorter than its tag, a fragment of the wrong length: downloadError and
#   nothing in DIR; downloadMax counts the plaintext.
#   omemo_files_e2e.sh XMSG_BINARY PEER   with XMSG_LAB_ENV naming the
#   server's env file
set -u
xmsg=$1
peer=$2
# shellcheck source=tests/integration/files_lib.sh
. "$(dirname "$0")/files_lib.sh"
ppid_=
trap '[ -z "$ppid_" ] || kill "$ppid_" 2>/dev/null; cleanup' EXIT
me=o25 you=o26 nobody=o27

# py MODE USER ARGS...: the peer as USER, in the foreground; sets rc, out.
py() {
  local mode=$1 user=$2
  shift 2
  /usr/bin/python3 "$peer" "$mode" "$user@$D" "pw-$user-Zq8" "$@" \
    >"$tmp/py.out" 2>"$tmp/py.err"
  rc=$?
  out=$(cat "$tmp/py.out")
  [ "$rc" = 0 ] || grep omemo_peer "$tmp/py.err" >&2
}
# connect_dl DIR URL [ARGS...]: o25's waiting messages, downloads into
# DIR; sets rc, err, out (the line of the message whose url is URL, the
# one the peer sent last). The server may store the peer's message a
# moment after the peer left (ejabberd routes it on): connect again until
# it is there (30 tries).
connect_dl() {
  local dir=$1 want=$2 all
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir"
  for _ in $(seq 30); do
    "${runner:-xm}" "$me" connect --omemo -j "$me@$D" "${srv[@]}" --download "$dir" "$@"
    all=$(grep '"encrypted"' <<<"$out")
    out=$(jq -c --arg u "$want" 'select(.url == $u)' <<<"$all" | tail -n 1)
    [ -n "$all" ] && [ -z "$out" ] &&
      echo "# connect got other messages: $(jq -c '{url, decryptError}' <<<"$all")"
    [ -n "$out" ] && break
    sleep 1
  done
}
# sendfile ARGS...: the peer sends an encrypted file to o25; purl its URL.
# o25 publishes first: connect replaces a prekey it used up but publishes
# only with the next publish or send (docs/omemo.md), and a peer that
# picked a used one from the old bundle could not be read.
sendfile() {
  xm "$me" omemo publish -j "$me@$D" "${srv[@]}"
  py send "$you" "$me@$D" "$@"
  purl=$(grep "^{" <<<"$out" | jq -r .url)
}
msg() { jq -r "$1" <<<"$out"; }
# xm_peak USER ARGS...: xm, and kb the peak RSS (KB) of the CLI.
xm_peak() {
  local user=$1
  shift
  XMSG_PASSWORD=pw-$user-Zq8 /usr/bin/time -f %M -o "$tmp/peak" "$xmsg" "$@" \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  kb=$(tail -n 1 "$tmp/peak")
}

# 0. o25's device published, o25's queue empty.
xm "$me" omemo publish -j "$me@$D" "${srv[@]}"
check "o25 publishes its device: exit 0" '[ "$rc" = 0 ]'
xm "$me" connect --omemo -j "$me@$D" "${srv[@]}"

# 1. xmsg → python-omemo: a caption and a 5 MB file.
head -c 5000000 /dev/urandom >"$tmp/five.bin"
want=$(sha256sum <"$tmp/five.bin" | cut -d' ' -f1)
mkdir -p "$tmp/peerdir"
/usr/bin/python3 "$peer" recv "$you@$D" "pw-$you-Zq8" 2 "$tmp/peerdir" \
  >"$tmp/peer.out" 2>"$tmp/peer.err" &
ppid_=$!
for _ in $(seq 120); do
  grep -q ready "$tmp/peer.out" && break
  kill -0 "$ppid_" 2>/dev/null || break
  sleep 1
done
check "the python-omemo peer published its device" 'grep -q ready "$tmp/peer.out"'
xm "$me" send --omemo -t "$you@$D" -m "the secret graph" --file "$tmp/five.bin" \
  -j "$me@$D" "${srv[@]}" -l debug
sent=$out
check "send --omemo --file: exit 0, delivered" \
  '[ "$rc" = 0 ] && [ "$(status .delivered)" = true ]'
check "the status lists the file with its aesgcm:// URL and plaintext size" \
  '[ "$(status ".files | length")" = 1 ] &&
   [[ "$(status ".files[0].url")" == aesgcm://* ]] &&
   [ "$(status ".files[0].size")" = 5000000 ]'
check "the slot is asked under a random name, for size + 16 bytes" \
  'grep -Eq "filename=.[0-9a-f]{32}\.bin. size=.5000016." <<<"$sent" &&
   ! grep -q "filename=.five.bin" <<<"$sent"'
for _ in $(seq 120); do
  kill -0 "$ppid_" 2>/dev/null || break
  sleep 1
done
wait "$ppid_"
prc=$?
ppid_=
got=$(grep '^{' "$tmp/peer.out")
echo "# the peer got: $(jq -c 'del(.raw)' <<<"$got")"
first=$(head -n 1 <<<"$got")
second=$(sed -n 2p <<<"$got")
url=$(jq -r .body <<<"$second")
check "python-omemo decrypts two messages: the caption, then the URL" \
  '[ "$prc" = 0 ] && [ "$(jq -r .body <<<"$first")" = "the secret graph" ] &&
   [[ "$url" =~ ^aesgcm://[^\ ]+#[0-9a-f]{88}$ ]]'
check "the peer fetched and decrypted the file: the same SHA-256" \
  '[ "$(jq -r .sha256 <<<"$second")" = "$want" ] &&
   cmp -s "$tmp/five.bin" "$tmp/peerdir/got-2"'
check "the server stores the ciphertext (size + 16), not the file" \
  '[ "$(jq -r .stored <<<"$second")" = 5000016 ] &&
   [ "$(jq -r .stored_sha256 <<<"$second")" != "$want" ]'
https=https://${url#aesgcm://}
https=${https%%#*}
curl -sS --fail --cacert "$XMSG_LAB_CA" -o "$tmp/stored.bin" "$https"
check "... as a plain GET shows too" \
  '[ "$(stat -c %s "$tmp/stored.bin")" = 5000016 ] && ! cmp -s "$tmp/stored.bin" "$tmp/five.bin"'
raw=$(jq -r .raw <<<"$got")
check "the stanzas as received: no jabber:x:oob, URL, name or caption in clear" \
  '[ -n "$raw" ] && [[ "$raw" != *jabber:x:oob* ]] && [[ "$raw" != *aesgcm* ]] &&
   [[ "$raw" != *https:* ]] && [[ "$raw" != *five.bin* ]] &&
   [[ "$raw" != *"secret graph"* ]] && [[ "$raw" == *eu.siacs.conversations.axolotl* ]]'
grep -v "stringprep\|Task\|task:\|Own device id" "$tmp/peer.err" >&2

# 2. A recipient without OMEMO devices: refused before any upload.
xm "$me" send --omemo -t "$nobody@$D" --file "$tmp/five.bin" \
  -j "$me@$D" "${srv[@]}" -l debug
check "--file to a recipient without OMEMO devices: exit 2, nothing uploaded" \
  '[ "$rc" = 2 ] && [ "$(status .error.code)" = input ] &&
   ! grep -q "upload: PUT" <<<"$out$err"'

# 3. python-omemo → xmsg: its own encrypted upload, decrypted by connect.
head -c 1000000 /dev/urandom >"$tmp/one.bin"
want1=$(sha256sum <"$tmp/one.bin" | cut -d' ' -f1)
sendfile "$tmp/one.bin"
check "the peer uploads and sends an encrypted file" '[ "$rc" = 0 ]'
connect_dl "$tmp/dl" "$purl"
file=$(msg .file)
check "connect --download: decrypted, url the aesgcm:// URL, a file in DIR" \
  '[ "$rc" = 0 ] && [ "$(msg .encrypted)" = omemo ] &&
   [ "$(msg .url)" = "$purl" ] && [ "$(msg .body)" = "$purl" ] &&
   [[ "$file" == "$tmp/dl/"* ]] && [ -f "$file" ]'
check "... the file decrypted: the same SHA-256" \
  '[ "$(sha256sum <"$file" | cut -d" " -f1)" = "$want1" ] &&
   [ "$(ls -A "$tmp/dl" | wc -l)" = 1 ]'

# listen --download does the same.
sendfile "$tmp/one.bin"
rm -rf "$tmp/ldl"
mkdir -p "$tmp/ldl"
xm "$me" listen --omemo -j "$me@$D" "${srv[@]}" --download "$tmp/ldl" --type message \
  --count 1 --duration 60
out=$(grep '"encrypted"' <<<"$out" | tail -n 1)
file=$(msg .file)
check "listen --download: decrypted, fetched, the same SHA-256" \
  '[ "$rc" = 0 ] && [ "$(msg .url)" = "$purl" ] && [[ "$file" == "$tmp/ldl/"* ]] &&
   [ "$(sha256sum <"$file" | cut -d" " -f1)" = "$want1" ]'
xm "$me" connect --omemo -j "$me@$D" "${srv[@]}"

# 4. The 16-byte IVs of older clients are read.
sendfile "$tmp/one.bin" old-iv
connect_dl "$tmp/dl" "$purl"
file=$(msg .file)
check "a 16-byte IV (96 hex digits): the file, the same SHA-256" \
  '[ "$rc" = 0 ] && [ -f "$file" ] &&
   [ "$(sha256sum <"$file" | cut -d" " -f1)" = "$want1" ]'

# 5. What must not be kept: nothing in DIR, downloadError.
for mode in tamper short badfrag; do
  sendfile "$tmp/one.bin" "$mode"
  prc=$rc
  connect_dl "$tmp/dl" "$purl"
  echo "# $mode (peer exit $prc, connect exit $rc): $(jq -c '{file, downloadError}' <<<"$out") $(ls -A "$tmp/dl")"
  [ "$rc" = 0 ] || tail -n 5 <<<"$err" | sed 's/^/# /'
  case $mode in
  tamper) why="protocol: the encrypted file does not authenticate" ;;
  short) why="protocol: the encrypted file is shorter than its tag" ;;
  badfrag) why="input: the aesgcm:// URL's fragment" ;;
  esac
  check "$mode: downloadError ($why...), no file, nothing in DIR" \
    '[ "$rc" = 0 ] && [ "$(msg .encrypted)" = omemo ] &&
     [[ "$(msg .downloadError)" == "$why"* ]] && [ "$(msg .file)" = null ] &&
     [ -z "$(ls -A "$tmp/dl")" ]'
done

# 6. downloadMax counts the plaintext (the ciphertext is 16 bytes more).
head -c 1000 /dev/urandom >"$tmp/k.bin"
sendfile "$tmp/k.bin"
connect_dl "$tmp/dl" "$purl" --download-max 1000
check "a 1000-byte file with downloadMax 1000: kept" \
  '[ -f "$(msg .file)" ] && cmp -s "$(msg .file)" "$tmp/k.bin"'
sendfile "$tmp/k.bin"
connect_dl "$tmp/dl" "$purl" --download-max 999
check "... with downloadMax 999: downloadError, nothing in DIR" \
  '[[ "$(msg .downloadError)" == "input: the file is over downloadMax"* ]] &&
   [ -z "$(ls -A "$tmp/dl")" ]'

# 7. Memory stays flat (streamed both ways): 8 MB sent and received with
# a peak RSS within 3 MB of a 1000-byte file's. (Not under ASan,
# XMSG_DOWNLOAD_RSS=0: its quarantine keeps freed memory.)
if [ "${XMSG_DOWNLOAD_RSS:-1}" = 1 ]; then
  head -c 8000000 /dev/urandom >"$tmp/eight.bin"
  xm_peak "$me" send --omemo -t "$you@$D" --file "$tmp/k.bin" -j "$me@$D" "${srv[@]}"
  s1=$kb
  xm_peak "$me" send --omemo -t "$you@$D" --file "$tmp/eight.bin" -j "$me@$D" "${srv[@]}"
  s8=$kb
  check "send --omemo --file: 8 MB within 3 MB of 1000 bytes ($s1 KB, $s8 KB)" \
    '[ "$rc" = 0 ] && [ -n "$s1" ] && [ "$s8" -lt $((s1 + 3072)) ]'
  sendfile "$tmp/k.bin"
  runner=xm_peak connect_dl "$tmp/dl" "$purl"
  r1=$kb
  sendfile "$tmp/eight.bin"
  runner=xm_peak connect_dl "$tmp/dl" "$purl"
  r8=$kb
  check "connect --download: 8 MB within 3 MB of 1000 bytes ($r1 KB, $r8 KB)" \
    'cmp -s "$(msg .file)" "$tmp/eight.bin" && [ -n "$r1" ] &&
     [ "$r8" -lt $((r1 + 3072)) ]'
fi

e2e_done
