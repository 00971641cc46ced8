#!/usr/bin/env bash
# The xmsg CLI against a hostile server: a clear error code, never a crash
# or a hang.   hostile_test.sh XMSG_BINARY
# Every scenario ends by itself on the error it provokes; -T is only the
# safety net against a hang, generous so that no scenario races the clock
# (under ASan on a loaded machine the entity bomb alone takes ~10 s of CPU).
set -u
xmsg=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT
pass=0 failed=0

# [T=S] scenario NAME WANT_EXIT WANT_CODE [MAX_RSS_KIB [COMMAND...]]
scenario() {
  local name=$1 want=$2 code=$3 max=${4:-262144} port rc got rss t0
  local t=${T:-120}
  local cmd=(connect --no-mam)
  [ $# -le 4 ] || cmd=("${@:5}")
  rm -f "$tmp/port"
  /usr/bin/python3 "$here/hostile_server.py" "$name" >"$tmp/port" &
  for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  port=$(cat "$tmp/port")
  t0=$SECONDS
  # A hang is killed (exit 137): every scenario ends long before.
  XMSG_PASSWORD=hostile-pw /usr/bin/python3 "$here/rss.py" "$tmp/rss" \
    timeout -s KILL 300 "$xmsg" \
    "${cmd[@]}" -j alice@localhost -H 127.0.0.1 -P "$port" \
    --allow-plaintext -T "$t" -l error >"$tmp/out" 2>"$tmp/err"
  rc=$?
  wait
  got=$(tail -n 1 "$tmp/out" | jq -r .error.code 2>/dev/null)
  rss=$(cat "$tmp/rss" 2>/dev/null || echo 0)
  if [ "$rc" = "$want" ] && [ "$got" = "$code" ] && [ "$rss" -le "$max" ]; then
    pass=$((pass + 1)); echo "ok - $name: exit $rc, $got, peak RSS $rss KiB, $((SECONDS - t0)) s"
  else
    failed=$((failed + 1))
    echo "FAIL - $name: exit $rc ($want), $got ($code), RSS $rss KiB ($max)"
    cat "$tmp/err"
  fi
}

# No resource binding after login: a protocol error, never a crash.
scenario no-bind-empty 8 protocol
scenario no-bind-session 8 protocol
# request exits with the login's failure, not as a usage error.
scenario no-bind-empty 8 protocol 262144 request -t bob@localhost -m hello
# 100 MB in one element: refused at 2 MiB, memory stays bounded.
scenario huge-stanza 8 protocol 65536
# Trees are walked without recursion; the parser bounds depth and
# attributes.
scenario deep-nesting 8 protocol 131072
scenario many-attrs 8 protocol 131072
# Not UTF-8: a protocol error, and still one JSON line.
scenario invalid-utf8 8 protocol
# An acknowledgement of more than was sent proves nothing.
scenario ack-more 8 protocol 262144 send -t bob@localhost -m hello
# A billion laughs before the stream: expat refuses it, memory bounded.
scenario entity-bomb 8 protocol 65536
# -T is the server's time for each wait: a login of 2.5 s and then a
# confirmation 2.5 s later are both within -T 4 (5 s in all).
T=4 scenario slow-steps 0 null 262144 send -t bob@localhost -m hello
# listen loses its connection, and every reconnection stalls (each attempt
# takes -T): --duration still ends it (not a sleep that never ends), with
# the failure that kept it offline.
T=1 scenario drop-silent 6 timeout 262144 listen --no-presence --duration 4
# Archive results not sent by the account itself are dropped: of a forged
# and a genuine result, only the genuine one is handed over.
mkdir -p "$tmp/state"
echo '{"version":1,"after":"G0","seen":[],"pending":false}' >"$tmp/state/s.json"
scenario forged-mam 0 null 262144 connect --state-file "$tmp/state/s.json"
bodies=$(jq -rs '[.[] | select(has("body")) | .body] | join(",")' <"$tmp/out")
if [ "$bodies" = genuine ]; then
  pass=$((pass + 1)); echo "ok - forged-mam: only the genuine result taken"
else
  failed=$((failed + 1)); echo "FAIL - forged-mam: took [$bodies]"
fi

# A server flooding small stanzas after login, answering nothing: the call
# ends at its timeout (-T 3), and keeps nothing it will not hand out (a
# one-shot send) or at most XMSG_SESSION_QUEUE_MAX stanzas (a session, with
# a log line), so memory stays bounded and nothing is left to free at
# length (the unbounded queue took 88 s and 118 MB here, at -T 3). The
# memory bound is what shows that defect; the wall-time bound only catches
# a call that never ends: 20 s (60 s under the sanitizers, where a loaded
# 2-core machine took 21 s for the work the client does at -T 3).
# flood_case NAME WANT_EXIT LOG_NEEDLE COMMAND...
flood_case() {
  local name=$1 want=$2 needle=$3 port rc t0 t1 wall rss text
  local max=$((40 * 1024)) asan=${ASAN_OPTIONS:-} limit=20000
  rm -f "$tmp/rss"
  shift 3
  # ASan keeps freed memory in quarantine (256 MB by default): keep it
  # small, and allow for its shadow memory.
  if [ "${XMSG_TEST_SLOW:-0}" = 1 ]; then
    max=$((128 * 1024)) asan=${asan:+$asan:}quarantine_size_mb=16 limit=60000
  fi
  rm -f "$tmp/port"
  /usr/bin/python3 "$here/hostile_server.py" flood >"$tmp/port" &
  for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  port=$(cat "$tmp/port")
  t0=$(date +%s%N)
  XMSG_PASSWORD=hostile-pw ASAN_OPTIONS=$asan timeout -s KILL 120 \
    /usr/bin/python3 "$here/rss.py" "$tmp/rss" "$xmsg" "$@" -j alice@localhost \
    -H 127.0.0.1 -P "$port" --allow-plaintext -T 3 -l warn \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  t1=$(date +%s%N)
  wait
  wall=$(((t1 - t0) / 1000000))
  rss=$(cat "$tmp/rss" 2>/dev/null || echo 0)
  text=$(tail -n 1 "$tmp/out" | jq -c '[.error.text, .log]' 2>/dev/null)
  if [ "$rc" = "$want" ] && [ "$wall" -le "$limit" ] && [ "$rss" -le "$max" ] &&
    [[ "$text" == *"$needle"* ]]; then
    pass=$((pass + 1))
    echo "ok - flood, $name: exit $rc in $wall ms, peak RSS $rss KiB"
  else
    failed=$((failed + 1))
    echo "FAIL - flood, $name: exit $rc ($want), $wall ms ($limit)," \
      "RSS $rss KiB ($max), [$needle] in ${text:0:300}"
    head -c 2000 "$tmp/err"
  fi
}

# The one-shot send: the message left, its confirmation never came.
flood_case send 7 "timed out after 3 s" send -t bob@localhost -m hello
# A session (request): the queue is bounded, and the log says it drops.
flood_case request 7 "the oldest are dropped" request -t bob@localhost -m hi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
