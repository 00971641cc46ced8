#!/usr/bin/env bash
# The xmsg CLI against a hostile server: a clear error code, never a crash
# or a hang.   hostile_test.sh XMSG_BINARY
set -u
xmsg=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT
pass=0 failed=0

# scenario NAME WANT_EXIT WANT_CODE
scenario() {
  local name=$1 want=$2 code=$3 port rc got
  python3 "$here/hostile_server.py" "$name" >"$tmp/port" &
  for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  port=$(cat "$tmp/port")
  XMSG_PASSWORD=hostile-pw "$xmsg" connect -j alice@localhost -H 127.0.0.1 \
    -P "$port" --allow-plaintext -T 10 -l error >"$tmp/out" 2>"$tmp/err"
  rc=$?
  wait
  got=$(jq -r .error.code <"$tmp/out" 2>/dev/null | tail -n 1)
  if [ "$rc" = "$want" ] && [ "$got" = "$code" ]; then
    pass=$((pass + 1)); echo "ok - $name: exit $rc, $got"
  else
    failed=$((failed + 1)); echo "FAIL - $name: exit $rc ($want), $got ($code)"
    cat "$tmp/err"
  fi
}

# libstrophe 0.12.2 crashes (SIGSEGV) on these unless xmsg stops them.
scenario no-bind-empty 8 protocol
scenario no-bind-session 8 protocol
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
