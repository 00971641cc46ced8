#!/usr/bin/env bash
# Delivery you can trust, under faults: the xmsg CLI through faultproxy.py
# (cuts, freezes, SIGSTOP/SIGKILL of the server at chosen stream points)
# and against peers that never answer. Every check asserts the exit code,
# error.code, "delivered":false and the time taken.
#   fault_e2e.sh XMSG_BINARY
# XMSG_LAB_ENV: env file of a server this script may stop and kill (its
#   own instance): Prosody in plain mode (stanzas visible to the proxy) or
#   ejabberd (TLS only: triggers count TLS records).
# XMSG_FAULT_TLS_ENV (optional): a Prosody in tls mode for the TLS cases;
#   shared with other tests, so it is only cut, never signalled.
# XMSG_FAULT_BREAK=code|delivered|time|scenario: every check expects
#   something wrong and must fail (proves that each check can fail).
# Users: t51 sends; t52 and t53 receive (no other test uses them).
set -u
xmsg=$1
here=$(cd "$(dirname "$0")" && pwd)
lab=$here/../lab
proxy=$here/faultproxy.py
brk=${XMSG_FAULT_BREAK:-}
tmp=$(mktemp -d)
proxy_pid='' stopped_pid=''
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  [ -n "$stopped_pid" ] && kill -CONT "$stopped_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }

SLACK=3    # any failing call: at most timeout + SLACK seconds
PROMPT=3   # a cut or a killed server is seen within PROMPT seconds
CUT_T=10   # --timeout of calls that must fail long before it
FREEZE_T=4 # --timeout of calls that log in, then wait for an answer
DEAD_T=2   # --timeout of calls to peers that never answer
# Under sanitizers a login is several times the CPU (SCRAM's PBKDF2): the
# bounds that hold the client's own work get room for it.
if [ "${XMSG_TEST_SLOW:-0}" = 1 ]; then
  SLACK=12 PROMPT=12 CUT_T=40 FREEZE_T=15
fi
max_over=0 max_prompt=0 timings=''
big=$(printf '%3000s' '' | tr ' ' x) # a TLS record of its own: biglen:2000
token=$$-$RANDOM

load() { # load ENVFILE: the server the next cases talk to
  # shellcheck disable=SC1090
  . "$1"
  D=$XMSG_LAB_DOMAIN
}

start_proxy() { # start_proxy ARGS...: sets proxy_pid, pport
  : >"$tmp/proxy.log" # no PORT line of the proxy before this one
  /usr/bin/python3 "$proxy" "$@" >"$tmp/proxy.log" 2>&1 &
  proxy_pid=$!
  pport=''
  for _ in $(seq 200); do
    pport=$(sed -n 's/^PORT //p' "$tmp/proxy.log")
    [ -n "$pport" ] && return 0
    kill -0 "$proxy_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "# faultproxy did not start: $(cat "$tmp/proxy.log")"
  return 1
}

stop_proxy() {
  [ -n "$proxy_pid" ] || return 0
  kill "$proxy_pid" 2>/dev/null
  wait "$proxy_pid" 2>/dev/null
  proxy_pid=''
}

# xm T HOST PORT ARGS...: runs the CLI as t51 with --timeout T at debug
# level; sets rc, out, code, delivered, el (seconds). A hung call is killed
# at T + 20 s (rc 124).
xm() {
  local t=$1 host=$2 port=$3 t0 t1
  shift 3
  cmd=$1
  t0=$EPOCHREALTIME
  XMSG_PASSWORD=pw-t51-Zq8 timeout -k 2 $((t + 20)) "${wrap[@]}" "$xmsg" "$1" \
    -j "t51@$D" -H "$host" -P "$port" -T "$t" -l debug "${@:2}" \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  t1=$EPOCHREALTIME
  el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  out=$(tail -n 1 "$tmp/out") # the status (connect prints messages first)
  code=$(printf '%s' "$out" | jq -r '.error.code // "none"' 2>/dev/null)
  delivered=$(printf '%s' "$out" | jq -r '.delivered' 2>/dev/null)
}

# judge NAME RC CODE TIMING T [+TEXT|-TEXT|@TEXT ...]: one check. TIMING is
# prompt (within PROMPT s) or deadline (not before T, within T + SLACK).
# +TEXT/-TEXT: the client's log must/must not contain TEXT; @TEXT/!TEXT:
# the proxy's event log must/must not contain TEXT (the fault happened as
# planned).
judge() {
  local name=$1 want_rc=$2 want_code=$3 timing=$4 t=$5 why='' n
  local want_del=false lo=0 hi=$PROMPT
  shift 5
  [ "$cmd" = connect ] && want_del=null # connect prints no "delivered"
  if [ "$timing" = deadline ]; then
    lo=$(awk -v t="$t" 'BEGIN { print t - 0.25 }')
    hi=$((t + SLACK))
  fi
  case $brk in
    code) want_rc=99 want_code=none ;;
    delivered) want_del=true ;;
    time) hi=0 ;;
    scenario) set -- "$@" "@no such event" ;;
  esac
  [ "$rc" = 124 ] && why+=" HUNG: killed after $el s;"
  [ "$rc" = "$want_rc" ] || why+=" exit $rc (want $want_rc);"
  [ "$code" = "$want_code" ] || why+=" error.code $code (want $want_code);"
  [ "$delivered" = "$want_del" ] ||
    why+=" delivered $delivered (want $want_del);"
  awk -v e="$el" -v lo="$lo" -v hi="$hi" 'BEGIN{exit !(e >= lo && e <= hi)}' ||
    why+=" took $el s (want $lo..$hi);"
  for n in "$@"; do
    case $n in
      +*) grep -qF -- "${n#+}" "$tmp/out" || why+=" log lacks '${n#+}';" ;;
      -*) ! grep -qF -- "${n#-}" "$tmp/out" || why+=" log has '${n#-}';" ;;
      @*) grep -qF -- "${n#@}" "$tmp/proxy.log" ||
        why+=" fault not reached: proxy log lacks '${n#@}';" ;;
      !*) ! grep -qF -- "${n#!}" "$tmp/proxy.log" ||
        why+=" fault not as planned: proxy log has '${n#!}';" ;;
    esac
  done
  timings+="$(printf '%-58s T=%-2s %6.3f s exit %s' "$name" "$t" "$el" "$rc")"$'\n'
  if [ "$timing" = deadline ]; then
    max_over=$(awk -v m="$max_over" -v e="$el" -v t="$t" \
      'BEGIN{d = e - t; print (d > m ? d : m)}')
  else
    max_prompt=$(awk -v m="$max_prompt" -v e="$el" \
      'BEGIN{print (e > m ? e : m)}')
  fi
  if [ -z "$why" ]; then
    ok "$name: exit $rc $code delivered=$delivered in $el s"
    return 0
  fi
  bad "$name:$why"
  echo "#   error: $(printf '%s' "$out" | jq -c '.error' 2>/dev/null)"
  printf '%s' "$out" | jq -r '.log[]?' 2>/dev/null | tail -n 8 |
    cut -c1-200 | sed 's/^/#   log: /'
  sed 's/^/#   proxy: /' "$tmp/proxy.log" | tail -n 6
  return 1
}

# raced: a !TEXT needle shows in the proxy's log: the client was faster
# than the fault (e.g. wrote before the cut), the case did not happen.
raced() {
  local n
  for n in "$@"; do
    case $n in !*) grep -qF -- "${n#!}" "$tmp/proxy.log" && return 0 ;; esac
  done
  return 1
}

# fault NAME RC CODE TIMING T "PROXY ARGS" [NEEDLES...] -- CLI ARGS...:
# the send of one case through a fresh proxy to the current server; run
# again (up to 5 times) when the client won a race against the fault.
fault() {
  local name=$1 want_rc=$2 want_code=$3 timing=$4 t=$5 pargs=$6 try
  local needles=() action=${6##*--action }
  shift 6
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    needles+=("$1")
    shift
  done
  shift
  for try in 1 2 3 4 5; do
    # shellcheck disable=SC2086
    start_proxy --target "$XMSG_LAB_HOST:$XMSG_LAB_PORT" $pargs || {
      bad "$name: no proxy"
      return 1
    }
    xm "$t" 127.0.0.1 "$pport" send -t "$to@$D" "$@"
    stop_proxy
    raced "${needles[@]}" || break
    echo "# $name: try $try: the client was faster than the fault" \
      "(exit $rc); again"
  done
  judge "$name" "$want_rc" "$want_code" "$timing" "$t" "${needles[@]}" \
    "@action ${action%% *}"
}

# collect USER: drains USER's offline storage (no archive, no checkpoint
# file) into $tmp/got: JSON lines, messages then the status.
collect() {
  XMSG_PASSWORD=pw-$1-Zq8 "$xmsg" connect -j "$1@$D" -H "$XMSG_LAB_HOST" \
    -P "$XMSG_LAB_PORT" "${tls[@]}" --no-mam -l error >"$tmp/got" 2>/dev/null
}

# received USER BODY: USER's offline storage (collected now) holds BODY.
received() {
  local want=$2
  [ -n "$brk" ] && want="$want-broken"
  for _ in 1 2 3 4 5 6; do
    collect "$1"
    jq -s -e --arg b "$want" 'any(.. | objects; .body? == $b)' "$tmp/got" \
      >/dev/null && return 0
    sleep 0.5
  done
  return 1
}

drain() { # drain USER...: empty their offline storage
  local u
  for u in "$@"; do collect "$u"; done
}

restart_server() { # the server was SIGKILLed: start it again, same DIR
  local script=prosody.sh
  [ "$XMSG_LAB_SERVER" = ejabberd ] && script=ejabberd.sh
  XMSG_LAB_QUIET=1 bash "$lab/$script" start "$XMSG_LAB_DIR" \
    "$XMSG_LAB_MODE" || return 1
  load "$XMSG_LAB_DIR/env"
}

# ---- peers that never answer: each call ends at its deadline ----
deadlines() {
  local what
  for what in silent header; do
    start_proxy "--$what"
    xm "$DEAD_T" 127.0.0.1 "$pport" send -t "t52@$D" -m x --no-tls
    stop_proxy
    judge "deadline: a listener that $( [ $what = silent ] &&
      echo "accepts and never speaks" ||
      echo "sends a stream header, then nothing") (send)" 6 timeout \
      deadline "$DEAD_T" @accepted
  done
  start_proxy --silent
  xm "$DEAD_T" 127.0.0.1 "$pport" connect --no-tls --no-mam
  stop_proxy
  judge "deadline: a listener that accepts and never speaks (connect)" \
    6 timeout deadline "$DEAD_T" @accepted
  # Backlog 0, filled by the proxy itself: this kernel drops further SYNs
  # (the proxy verifies it with a probe and exits 3 if it does not).
  start_proxy --syn-drop
  for _ in $(seq 100); do
    grep -q SYNDROP "$tmp/proxy.log" && break
    sleep 0.05
  done
  if grep -q 'SYNDROP verified' "$tmp/proxy.log"; then
    xm "$DEAD_T" 127.0.0.1 "$pport" send -t "t52@$D" -m x --no-tls
    judge "deadline: a port whose SYNs are dropped (full backlog)" 6 timeout \
      deadline "$DEAD_T" "+while connecting" "@SYNDROP verified"
  else
    bad "deadline: SYN drop: the kernel answered every SYN: $(cat "$tmp/proxy.log")"
  fi
  stop_proxy
  xm "$DEAD_T" xmsg-test.invalid 5222 send -t "t52@$D" -m x
  : >"$tmp/proxy.log"
  # NXDOMAIN: connection (3) at once; a resolver that never answers would
  # be timeout (6) at the deadline. Either way within T + SLACK.
  if [ "$rc" = 6 ]; then
    judge "deadline: unresolvable host xmsg-test.invalid" 6 timeout \
      deadline "$DEAD_T"
  else
    judge "deadline: unresolvable host xmsg-test.invalid" 3 connection \
      prompt "$DEAD_T"
  fi
  silent_resolver
}

# The same name with a resolver that never answers: the CLI runs in a
# mount namespace of its own whose /etc/resolv.conf names a silent DNS
# server on a loopback address of its own (getaddrinfo alone would wait
# 10 s). The address is random: other runs of this test may hold theirs.
silent_resolver() {
  local name="deadline: a resolver that never answers"
  local dns=127.0.77.$((RANDOM % 200 + 20))
  if ! unshare -m true 2>/dev/null; then
    echo "# SKIP $name: unshare -m is not permitted here"
    return 0
  fi
  printf 'nameserver %s\noptions timeout:10 attempts:1\n' "$dns" \
    >"$tmp/resolv.conf"
  start_proxy --silent-dns "$dns" || {
    bad "$name: cannot listen on $dns:53"
    return 1
  }
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
  wrap=(unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    "$tmp/resolv.conf")
  xm "$DEAD_T" xmsg-test.invalid 5222 send -t "t52@$D" -m x
  wrap=()
  judge "$name" 6 timeout deadline "$DEAD_T" "@DNS query"
  stop_proxy
}

# ---- Prosody in plain mode: triggers on stanza text ----
plain_cases() {
  local b pid
  tls=(--no-tls)
  drain t52 t53
  fault "plain: cut after the client's stream header" 3 connection prompt \
    "$CUT_T" "--trigger s2c:bytes:0 --action cut" -- --no-tls -m "p1-$token"
  fault "plain: cut during SASL (<auth> not forwarded)" 3 connection prompt \
    "$CUT_T" "--trigger c2s:match:<auth --action cut" "+SENT: <auth" \
    "-RECV: <challenge" "-RECV: <success" -- --no-tls -m "p2-$token"
  # The bind result reaches the client and the stream is closed at once:
  # the client's writes after it fail, the message never leaves.
  fault "plain: cut after the bind result, before the message" 3 connection \
    prompt "$CUT_T" "--trigger s2c:match:</bind></iq> --at end --action cut" \
    "+resource bound" "!pending at the close" -- --no-tls -m "p3-$token"
  fault "plain: cut when the client's <message> arrives" 7 unconfirmed \
    prompt "$CUT_T" "--trigger c2s:match:<message --action cut" \
    "+SENT: <message" -- --no-tls -m "p4-$token"
  b="p5-$token"
  fault "plain: cut before the server's ack <a/>" 7 unconfirmed prompt \
    "$CUT_T" "--trigger s2c:match:<a --action cut" "-RECV: <a " \
    "@s2c trigger s2c:match:<a" -- --no-tls -m "$b"
  if received t52 "$b"; then
    ok "plain: the message cut before its ack did arrive (hence 7, not 3)"
  else
    bad "plain: the message cut before its ack is not in t52's queue"
  fi
  fault "plain: freeze when the client's <message> arrives" 7 unconfirmed \
    deadline "$FREEZE_T" "--trigger c2s:match:<message --action freeze" \
    "+SENT: <message" "+(timeout: timed out" -- --no-tls -m "p6-$token"
  b="p7-$token"
  pid=$XMSG_LAB_PID
  stopped_pid=$pid
  to=t53
  fault "plain: SIGSTOP the server before forwarding <message>" 7 \
    unconfirmed deadline "$FREEZE_T" \
    "--trigger c2s:match:<message --action stop --pid $pid" \
    "+(timeout: timed out" "@SIGSTOP $pid: stopped" -- --no-tls -m "$b"
  to=t52
  kill -CONT "$pid"
  stopped_pid=''
  if received t53 "$b"; then
    ok "plain: after SIGCONT the server delivered it (unconfirmed, not lost)"
  else
    bad "plain: after SIGCONT the message is not in t53's queue"
  fi
  pid=$XMSG_LAB_PID
  fault "plain: SIGKILL the server before forwarding <message>" 7 \
    unconfirmed prompt "$CUT_T" \
    "--trigger c2s:match:<message --action kill --pid $pid" \
    "@SIGKILL $pid: gone" -- --no-tls -m "p8-$token"
  if restart_server; then
    xm "$CUT_T" "$XMSG_LAB_HOST" "$XMSG_LAB_PORT" send -t "t52@$D" \
      -m "p9-$token" --no-tls
    if [ "$rc" = 0 ] && [ "$delivered" = true ] && [ -z "$brk" ]; then
      ok "plain: the killed server restarted; a send succeeds again"
    else
      bad "plain: send after the restart: exit $rc delivered $delivered"
    fi
  else
    bad "plain: the killed server did not restart"
  fi
}

# ---- a TLS-only server: triggers count TLS records ----
# tls_cases SASL_RECORD BIND_RECORD SIGNALS: SASL_RECORD is the client's
# application-data record carrying <auth>, BIND_RECORD the server's one
# carrying the bind result (both checked against the client's log).
tls_cases() {
  local sasl=$1 bind=$2 signals=$3 s=$XMSG_LAB_SERVER b pid
  tls=(--ca-file "$XMSG_LAB_CA")
  drain t52 t53
  fault "$s tls: cut after the client's stream header" 3 connection prompt \
    "$CUT_T" "--trigger s2c:bytes:0 --action cut" -- "${tls[@]}" -m x
  fault "$s tls: cut at <starttls/>" 3 connection prompt "$CUT_T" \
    "--trigger c2s:match:<starttls --action cut" "+SENT: <starttls" \
    -- "${tls[@]}" -m x
  # Decided: the peer vanishing (EOF, no TLS alert) is a lost connection
  # (3) wherever it happens; tls (4) is for what retrying cannot fix.
  fault "$s tls: cut inside the handshake (ClientHello dropped)" 3 \
    connection prompt "$CUT_T" "--trigger c2s:record:1 --action cut" \
    -- "${tls[@]}" -m x
  fault "$s tls: cut during SASL (record with <auth> dropped)" 3 connection \
    prompt "$CUT_T" "--trigger c2s:appdata:$sasl --action cut" \
    "+SENT: <auth" "-RECV: <challenge" "-RECV: <success" -- "${tls[@]}" -m x
  # The same two with TCP resets instead of a FIN: OpenSSL reports these
  # differently (SSL_ERROR_SYSCALL, not "unexpected eof while reading").
  fault "$s tls: reset inside the handshake (ClientHello dropped)" 3 \
    connection prompt "$CUT_T" "--trigger c2s:record:1 --action reset" \
    -- "${tls[@]}" -m x
  fault "$s tls: reset during SASL (record with <auth> dropped)" 3 \
    connection prompt "$CUT_T" "--trigger c2s:appdata:$sasl --action reset" \
    "+SENT: <auth" "-RECV: <challenge" "-RECV: <success" -- "${tls[@]}" -m x
  fault "$s tls: cut after the bind result, before the message" 3 \
    connection prompt "$CUT_T" \
    "--trigger s2c:appdata:$bind --at end --action cut" "+resource bound" \
    "-RECV: <enabled" "!pending at the close" -- "${tls[@]}" -m x
  fault "$s tls: cut when the client's message record arrives" 7 \
    unconfirmed prompt "$CUT_T" "--trigger c2s:biglen:2000 --action cut" \
    "+SENT: <message" -- "${tls[@]}" -m "$big"
  fault "$s tls: freeze when the client's message record arrives" 7 \
    unconfirmed deadline "$FREEZE_T" \
    "--trigger c2s:biglen:2000 --action freeze" "+(timeout: timed out" \
    -- "${tls[@]}" -m "$big"
  fault "$s tls: <proceed/>, then the ClientHello is held (frozen)" 6 \
    timeout deadline "$DEAD_T" "--trigger c2s:record:1 --action freeze" \
    "+RECV: <proceed" -- "${tls[@]}" -m x
  fault "$s tls: ServerHello held (frozen mid-handshake)" 6 timeout \
    deadline "$DEAD_T" "--trigger s2c:record:1 --action freeze" \
    -- "${tls[@]}" -m x
  [ "$signals" = 1 ] || return 0
  b="$big-$token"
  pid=$XMSG_LAB_PID
  stopped_pid=$pid
  to=t53
  fault "$s tls: SIGSTOP the server before forwarding the message" 7 \
    unconfirmed deadline "$FREEZE_T" \
    "--trigger c2s:biglen:2000 --action stop --pid $pid" \
    "+(timeout: timed out" "@SIGSTOP $pid: stopped" -- "${tls[@]}" -m "$b"
  to=t52
  kill -CONT "$pid"
  stopped_pid=''
  if received t53 "$b"; then
    ok "$s tls: after SIGCONT the server delivered it (unconfirmed, not lost)"
  else
    bad "$s tls: after SIGCONT the message is not in t53's queue"
  fi
  pid=$XMSG_LAB_PID
  fault "$s tls: SIGKILL the server before forwarding the message" 7 \
    unconfirmed prompt "$CUT_T" \
    "--trigger c2s:biglen:2000 --action kill --pid $pid" \
    "@SIGKILL $pid: gone" -- "${tls[@]}" -m "$big"
  if restart_server; then
    xm "$CUT_T" "$XMSG_LAB_HOST" "$XMSG_LAB_PORT" send -t "t52@$D" -m x \
      "${tls[@]}"
    if [ "$rc" = 0 ] && [ "$delivered" = true ] && [ -z "$brk" ]; then
      ok "$s tls: the killed server restarted; a send succeeds again"
    else
      bad "$s tls: send after the restart: exit $rc delivered $delivered"
    fi
  else
    bad "$s tls: the killed server did not restart"
  fi
}

load "$XMSG_LAB_ENV"
tls=() to=t52 cmd=send wrap=()
case $XMSG_LAB_SERVER/$XMSG_LAB_MODE in
  prosody/plain)
    deadlines
    plain_cases
    if [ -n "${XMSG_FAULT_TLS_ENV:-}" ]; then
      load "$XMSG_FAULT_TLS_ENV"
      tls_cases 3 11 0
    fi
    ;;
  ejabberd/*) tls_cases 4 14 1 ;;
  *)
    echo "fault_e2e.sh: needs Prosody in plain mode or ejabberd" >&2
    exit 2
    ;;
esac

echo "# timings:"
printf '%s' "$timings" | sed 's/^/#   /'
echo "# max (elapsed - timeout) of deadline-bound calls: $max_over s;" \
  "max elapsed of prompt ones: $max_prompt s"
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
