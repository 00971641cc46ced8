#!/usr/bin/env bash
# The xmsg CLI against a real lab server: flags, files, stdin, exit codes,
# secrets, and (with XMSG_VALGRIND=1) memcheck of send and connect.
#   cli_e2e.sh XMSG_BINARY   with XMSG_LAB_ENV naming the server's env file
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

run=("$xmsg")
slow=()
if [ "${XMSG_VALGRIND:-}" = 1 ]; then
  run=(valgrind -q --error-exitcode=99 --leak-check=full
       --errors-for-leak-kinds=definite,indirect
       --show-leak-kinds=definite,indirect "$xmsg")
  # The client's own work (TLS, SCRAM) is some fifty times slower under
  # valgrind, on a machine other passes share: each wait gets a generous
  # -T (cases about -T itself are not run here).
  slow=(-T 60)
fi
srv=(-H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" --ca-file "$XMSG_LAB_CA")
D=$XMSG_LAB_DOMAIN

# xm USER ARGS...: runs the CLI as USER; sets rc, out, err.
xm() {
  local user=$1
  shift
  XMSG_PASSWORD=pw-$user-Zq8 "${run[@]}" "$1" "${slow[@]}" "${@:2}" \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
}
jqv() { printf '%s' "$out" | jq -r "$1"; }
# connect prints one JSON line per message, then the status line.
msgs() { printf '%s' "$out" | jq -rs "[.[] | select(has(\"body\"))] | $1"; }
status() { printf '%s' "$out" | tail -n 1 | jq -r "$1"; }

# Start from an empty queue, even when a run before this one failed.
xm t41 connect -j "t41@$D" "${srv[@]}" -l error

# 1. send with flags, body from -m, custom attribute; connect gets it.
xm alice send -j "alice@$D" "${srv[@]}" -t "t41@$D" -m "flag body" \
  --attr x-k=v --id cli-id-1 --type normal --lang de
check "send with flags exits 0" '[ "$rc" = 0 ]'
check "send prints delivered:true" '[ "$(jqv .delivered)" = true ]'
# 2. body from stdin, one trailing newline removed.
printf 'stdin body\n' | XMSG_PASSWORD=pw-alice-Zq8 "${run[@]}" send "${slow[@]}" \
  -j "alice@$D" "${srv[@]}" -t "t41@$D" >"$tmp/out" 2>"$tmp/err"
check "send with body on stdin exits 0" '[ $? = 0 ]'
# 3. params and message files.
printf '{"jid":"alice@%s","host":"%s","port":%s,"caFile":"%s","logLevel":"error"}' \
  "$D" "$XMSG_LAB_HOST" "$XMSG_LAB_PORT" "$XMSG_LAB_CA" >"$tmp/params.json"
printf '{"to":"t41@%s","body":"file body","x-file":"1"}' "$D" >"$tmp/msg.json"
xm alice send --params "$tmp/params.json" --message "$tmp/msg.json"
check "send with params and message files exits 0" '[ "$rc" = 0 ]'
check "logLevel error from the params file keeps the log empty" \
  '[ "$(jqv ".log | length")" = 0 ]'
xm t41 connect -j "t41@$D" "${srv[@]}" -l error
check "connect exits 0" '[ "$rc" = 0 ]'
check "connect collects the 3 messages in order" \
  '[ "$(msgs "[.[].body] | join(\"|\")")" = "flag body|stdin body|file body" ]'
check "the status line comes last and counts them" \
  '[ "$(status .collected)" = 3 ]'
check "type, id, xml:lang and custom attributes survive" \
  '[ "$(msgs ".[0] | [.type, .id, .[\"xml:lang\"], .[\"x-k\"]] | join(\",\")")" = "normal,cli-id-1,de,v" ]'
check "a custom attribute from the message file survives" \
  '[ "$(msgs ".[2][\"x-file\"]")" = 1 ]'
xm t41 connect -j "t41@$D" "${srv[@]}" -l error
check "a second connect hands nothing over again" \
  '[ "$(status .collected)" = 0 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ]'

# 4. exit codes for each failure, with error.code in the JSON.
XMSG_PASSWORD=wrong-Zebra-1 "${run[@]}" connect "${slow[@]}" -j "t42@$D" "${srv[@]}" \
  -l debug >"$tmp/out" 2>"$tmp/err"
rc=$?
out=$(cat "$tmp/out")
check "wrong password exits 5 (auth)" '[ "$rc" = 5 ] && [ "$(jqv .error.code)" = auth ]'
check "the wrong password is in no output" \
  '! grep -q "wrong-Zebra-1" "$tmp/out" "$tmp/err"'
xm t42 connect -j "t42@$D" -H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" \
  --ca-file "$XMSG_LAB_OTHER_CA"
check "unknown CA exits 4 (tls)" '[ "$rc" = 4 ] && [ "$(jqv .error.code)" = tls ]'
xm t42 connect -j "t42@$D" -H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" --insecure
check "--insecure accepts it" '[ "$rc" = 0 ]'
xm t42 connect -j "t42@$D" -H "$XMSG_LAB_HOST" -P 1
check "closed port exits 3 (connection)" '[ "$rc" = 3 ]'
xm alice send -j "alice@$D" "${srv[@]}" -t "nobody-here@$D" -m x
check "unknown recipient exits 8 (protocol)" '[ "$rc" = 8 ]'
xm alice send -j "alice@$D" "${srv[@]}" -t "not a jid" -m x
check "invalid JID exits 2 (input)" '[ "$rc" = 2 ] && [ "$(jqv .error.code)" = input ]'

# 5. the password never shows, at debug, in any output.
xm t43 send -j "t43@$D" "${srv[@]}" -l debug -t "t44@$D" -m secret-check
check "debug send exits 0" '[ "$rc" = 0 ]'
check "debug output is redacted" 'grep -q "\[redacted\]" "$tmp/out"'
check "password pw-t43-Zq8 is in no output" \
  '! grep -q "pw-t43-Zq8" "$tmp/out" "$tmp/err"'
check "nor its base64 form" '! grep -q "cHctdDQzLVpxOA" "$tmp/out" "$tmp/err"'

# 6. no core dump can hold the password: the limit is 0 while it runs.
if [ "${XMSG_VALGRIND:-}" != 1 ]; then
  mkfifo "$tmp/fifo"
  XMSG_PASSWORD=pw-t45-Zq8 "$xmsg" send -j "t45@$D" "${srv[@]}" -t "t46@$D" \
    <"$tmp/fifo" >/dev/null 2>&1 &
  pid=$!
  exec 7>"$tmp/fifo"
  # The limit is set first thing; a slow start (ASan, a loaded machine)
  # gets up to 30 s to reach it.
  for _ in $(seq 1 300); do
    grep -Eq "^Max core file size +0 +0 " "/proc/$pid/limits" 2>/dev/null &&
      break
    sleep 0.1
  done
  check "xmsg runs with a core file limit of 0" \
    'grep -Eq "^Max core file size +0 +0 " /proc/$pid/limits'
  echo "core check" >&7
  exec 7>&-
  wait "$pid"
fi

# 7. quiet by default: no debug or info line, no raw XML, no body in the
# status; -v adds info, -vv debug; -l and a params file's logLevel still
# choose.
xm alice send -j "alice@$D" "${srv[@]}" -t "t41@$D" -m "quiet-body-7"
check "a plain send keeps no log line below warn" \
  '[ "$rc" = 0 ] && [ "$(jqv "[.log[] | select(test(\"^(debug|info) \"))] | length")" = 0 ]'
check "a plain send does not show the body" '! grep -q quiet-body-7 "$tmp/out"'
xm alice send -j "alice@$D" "${srv[@]}" -t "t41@$D" -m "quiet-body-7" -v
check "-v logs info and no debug" \
  '[ "$(jqv "[.log[] | select(startswith(\"info \"))] | length")" -gt 0 ] &&
   [ "$(jqv "[.log[] | select(startswith(\"debug \"))] | length")" = 0 ]'
xm alice send -j "alice@$D" "${srv[@]}" -t "t41@$D" -m "quiet-body-7" -vv
check "-vv logs debug" \
  '[ "$(jqv "[.log[] | select(startswith(\"debug \"))] | length")" -gt 0 ]'
printf '{"logLevel":"debug"}' >"$tmp/debug.json"
xm alice send -j "alice@$D" "${srv[@]}" -t "t41@$D" -m "quiet-body-7" \
  --params "$tmp/debug.json"
check "a params file's logLevel overrides the CLI's default" \
  '[ "$(jqv "[.log[] | select(startswith(\"debug \"))] | length")" -gt 0 ]'
xm alice send -j "alice@$D" "${srv[@]}" -t "t41@$D" -m "quiet-body-7" -vv \
  -l error
check "the last of -v and -l wins" '[ "$(jqv ".log | length")" = 0 ]'
xm t41 connect -j "t41@$D" "${srv[@]}"

# 8. A slow reader of connect's output is not the server's fault: archive
# pages larger than a pipe's buffer (100 messages of ~900 bytes a line),
# read only after 6 s, with -T 3: everything is collected, exit 0.
if [ "${XMSG_VALGRIND:-}" != 1 ]; then
  xm t62 connect -j "t62@$D" "${srv[@]}" -l error # checkpoint at the end
  body=$(head -c 700 /dev/zero | tr '\0' x)
  for i in $(seq -w 300); do
    printf '{"to":"t62@%s","body":"%s %s"}\n' "$D" "$i" "$body"
  done | XMSG_PASSWORD=pw-t50-Zq8 "$xmsg" send -j "t50@$D" "${srv[@]}" \
    --batch -l error >"$tmp/out"
  rc=${PIPESTATUS[1]}
  check "300 messages for the slow reader sent" '[ "$rc" = 0 ]'
  XMSG_PASSWORD=pw-t62-Zq8 "$xmsg" connect -j "t62@$D" "${srv[@]}" -T 3 \
    --page-size 100 -l error 2>"$tmp/err" | (sleep 6; cat >"$tmp/slow")
  rc=${PIPESTATUS[0]}
  out=$(cat "$tmp/slow")
  check "connect to a reader slower than -T exits 0 (got $rc)" '[ "$rc" = 0 ]'
  check "and hands over all 300, in order" \
    '[ "$(msgs "[.[].body[0:3]] | join(\",\")")" = "$(seq -s, -w 300)" ]'
fi

# 9. Nothing but a config file: server, CA, account, passwordCommand.
cfg=$tmp/config
mkdir -p "$cfg/xmsg"
cat >"$cfg/xmsg/config" <<EOF
# lab defaults
host = $XMSG_LAB_HOST
port = $XMSG_LAB_PORT
caFile = $XMSG_LAB_CA
default = sender

[account sender]
jid = u01@$D
passwordCommand = printf '%s\n' pw-u01-Zq8

[account reader]
jid = u02@$D
passwordFile = $tmp/u02.pw
EOF
printf 'pw-u02-Zq8\n' >"$tmp/u02.pw"
chmod 600 "$tmp/u02.pw"
cfgrun() {
  env -u XMSG_PASSWORD XDG_CONFIG_HOME="$cfg" "${run[@]}" "$1" "${slow[@]}" \
    "${@:2}" \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  out=$(cat "$tmp/out")
}
cfgrun connect -a reader -l error
cfgrun send -t "u02@$D" -m "config-only body"
check "send with only a config file exits 0 (got $rc)" '[ "$rc" = 0 ]'
cfgrun connect -a reader
check "connect -a reader collects it" \
  '[ "$rc" = 0 ] && [ "$(msgs "[.[].body] | join(\"|\")")" = "config-only body" ]'
check "from the default account" \
  '[ "$(msgs ".[0].from" | cut -d/ -f1)" = "u01@$D" ]'

# 10. Several recipients: one login, one result line each, in order;
# --subject travels; --type headline reaches an online listener.
xm u03 connect -j "u03@$D" "${srv[@]}" -l error
xm u04 connect -j "u04@$D" "${srv[@]}" -l error
printf '# team\nu04@%s\n\nbad@@jid\n' "$D" >"$tmp/rcpts"
xm u01 send -j "u01@$D" "${srv[@]}" -v -t "u03@$D" --recipients "$tmp/rcpts" \
  -m "multi body" --subject "multi subj"
check "several recipients: exit is the worst (2: one bad JID; got $rc)" \
  '[ "$rc" = 2 ]'
# to:delivered:line of each result line
results() {
  printf '%s\n' "$out" | head -n 3 |
    jq -rs '[.[] | "\(.to // "-"):\(.delivered):\(.line // 0)"] | join(",")'
}
check "one result line each, in order, then the status" \
  '[ "$(results)" = "u03@$D:true:0,u04@$D:true:2,-:false:4" ]'
check "one login for all of them" \
  '[ "$(status "[.log[] | select(test(\"connecting to\"))] | length")" = 1 ] &&
   [ "$(status .batch.inputs)" = 3 ]'
for u in u03 u04; do
  xm $u connect -j "$u@$D" "${srv[@]}" -l error
  check "$u got the body and the subject" \
    '[ "$(msgs ".[0] | [.body, .subject] | join(\"|\")")" = "multi body|multi subj" ]'
done
XMSG_PASSWORD=pw-u05-Zq8 "$xmsg" listen -j "u05@$D" "${srv[@]}" --count 1 \
  --duration 120 -l error >"$tmp/listen" 2>&1 &
lpid=$!
# A headline is never stored for later: send until the listener is online.
for _ in $(seq 60); do
  xm u01 send -j "u01@$D" "${srv[@]}" -t "u05@$D" --type headline \
    --subject "alert" -m "disk full"
  kill -0 "$lpid" 2>/dev/null || break
  sleep 1
done
wait "$lpid"
out=$(cat "$tmp/listen")
check "the headline reached the listener, with its subject" \
  '[ "$(msgs ".[0] | [.type, .subject, .body] | join(\"|\")")" = "headline|alert|disk full" ]'

if [ "${XMSG_VALGRIND:-}" = 1 ]; then
  check "valgrind found no error or leak in the runs above" \
    '! grep -q "ERROR SUMMARY: [1-9]" "$tmp/err"'
fi
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
