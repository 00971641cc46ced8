#!/bin/bash
# examples_e2e.sh XMSG ECHO_BOT EXAMPLES - runs each example of examples/
# against a lab server (XMSG_LAB_ENV): the session-API echo bot, the
# listen-driven shell bot, the Icinga/Nagios notification command, the
# systemd OnFailure= script, the cron collector. Accounts come from a
# config file, as a user would set them up.
set -u
XMSG_BIN=${1:?usage: examples_e2e.sh XMSG ECHO_BOT EXAMPLES}
BOT=${2:?usage}
EX=${3:?usage}
# shellcheck disable=SC1090
. "$XMSG_LAB_ENV"
D=$XMSG_LAB_DOMAIN
tmp=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

export XMSG=$XMSG_BIN XDG_STATE_HOME=$tmp/state XMSG_CONFIG=$tmp/config
unset XMSG_PASSWORD
{
    printf 'host = %s\nport = %s\ncaFile = %s\ntimeout = 30\n' \
        "$XMSG_LAB_HOST" "$XMSG_LAB_PORT" "$XMSG_LAB_CA"
    for u in u06 u07 u08 u09 u10 u11 u12 u15 u16; do
        printf '[account %s]\njid = %s@%s\npassword = pw-%s-Zq8\n' \
            "$u" "$u" "$D" "$u"
    done
} >"$XMSG_CONFIG"
chmod 600 "$XMSG_CONFIG"
# drain USER: collects what waits, so that a test sees only its own.
drain() { "$XMSG" connect -q -a "$1" >/dev/null; }
# bodies USER: the collected messages as "subject|body" lines.
bodies() {
    "$XMSG" connect -q -a "$1" |
        jq -r 'select(.body) | "\(.subject // "")|\(.body | gsub("\n"; " / "))"'
}
# wait_for FILE TEXT: until FILE holds TEXT (at most 120 s: a login).
wait_for() {
    local i
    for i in $(seq 240); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}

# 1. The session API: echo-bot answers a request.
printf '{"jid":"u06@%s","host":"%s","port":%s,"caFile":"%s","logLevel":"warn"}' \
    "$D" "$XMSG_LAB_HOST" "$XMSG_LAB_PORT" "$XMSG_LAB_CA" >"$tmp/bot.json"
drain u06
XMSG_PASSWORD=pw-u06-Zq8 "$BOT" "$tmp/bot.json" 1 >"$tmp/bot.out" 2>&1 &
bot=$!
pids+=("$bot")
check "echo-bot goes online" 'wait_for "$tmp/bot.out" "^ready u06@$D"'
"$XMSG" request -a u07 -t "u06@$D" -m ping >"$tmp/req.out"
check "echo-bot answers the request in its thread" \
    '[ "$(head -n 1 "$tmp/req.out" | jq -r .body)" = "echo: ping" ]'
wait "$bot"
check "echo-bot ends after its count (exit 0)" '[ $? = 0 ]'

# 2. The listen-driven shell bot.
drain u10
drain u11
bash "$EX/listen-bot.sh" -a u10 --count 1 >"$tmp/lb.out" 2>&1 &
lb=$!
pids+=("$lb")
"$XMSG" send -q -a u11 -t "u10@$D" -m "Date?" >/dev/null
wait "$lb"
check "listen-bot ends after its count (exit 0)" '[ $? = 0 ]'
check "listen-bot answered with the date" \
    'bodies u11 | grep -q "^|.*UTC"'

# 3. The notification command, as Icinga 2 (env) and Nagios (NAGIOS_*).
drain u09
env XMSG_TO="u09@$D" XMSG_ACCOUNT=u08 NOTIFY_TYPE=PROBLEM \
    NOTIFY_HOST=web01 NOTIFY_SERVICE=http NOTIFY_SERVICESTATE=CRITICAL \
    NOTIFY_SERVICEOUTPUT="HTTP 500 in 0.2 s" bash "$EX/monitoring/xmsg-notify.sh"
check "xmsg-notify.sh (Icinga 2 env) exits 0" '[ $? = 0 ]'
env NAGIOS_CONTACTPAGER="u09@$D" XMSG_ACCOUNT=u08 \
    NAGIOS_NOTIFICATIONTYPE=RECOVERY NAGIOS_HOSTNAME=db01 \
    NAGIOS_HOSTSTATE=UP NAGIOS_HOSTOUTPUT="PING OK" \
    bash "$EX/monitoring/xmsg-notify.sh"
check "xmsg-notify.sh (Nagios NAGIOS_*) exits 0" '[ $? = 0 ]'
bodies u09 >"$tmp/notify"
check "the service problem arrived, summary in the subject" \
    'grep -q "^PROBLEM: web01/http is CRITICAL|HTTP 500 in 0.2 s" "$tmp/notify"'
check "the host recovery arrived" \
    'grep -q "^RECOVERY: db01 is UP|PING OK" "$tmp/notify"'
env -u NAGIOS_CONTACTPAGER bash "$EX/monitoring/xmsg-notify.sh" 2>"$tmp/err"
check "xmsg-notify.sh without a JID: exit 2, says so" \
    '[ $? = 2 ] && grep -q XMSG_TO "$tmp/err"'

# 4. systemd OnFailure=: the template runs xmsg-onfailure.sh with the
# unit's name (systemctl is a stand-in: no systemd here).
unit=$EX/monitoring/xmsg-onfailure@.service
script=$(sed -n 's|^ExecStart=\([^ ]*\) %i$|\1|p' "$unit")
check "the template's ExecStart is the example's script, given %i" \
    '[ -n "$script" ] && [ -f "$EX/monitoring/$(basename "$script")" ]'
mkdir -p "$tmp/bin"
printf '#!/bin/sh\necho "x $3 - Backup"; echo "   Active: failed (Result: exit-code)"; exit 3\n' \
    >"$tmp/bin/systemctl"
chmod +x "$tmp/bin/systemctl"
drain u16
PATH=$tmp/bin:$PATH XMSG_TO="u16@$D" XMSG_ACCOUNT=u15 \
    bash "$EX/monitoring/xmsg-onfailure.sh" backup.service
check "xmsg-onfailure.sh exits 0" '[ $? = 0 ]'
check "the failure arrived with the unit's status" \
    'bodies u16 | grep -q "^backup.service failed on .*|.*Active: failed"'

# 5. The cron collector files each message once.
drain u12
"$XMSG" send -q -a u11 -t "u12@$D" -m "from eleven" >/dev/null
"$XMSG" send -q -a u07 -t "u12@$D" -m "from seven" >/dev/null
bash "$EX/cron/xmsg-collect.sh" -a u12 "$tmp/archive"
check "xmsg-collect.sh exits 0" '[ $? = 0 ]'
check "one file per sender and day, one line each" \
    '[ "$(cat "$tmp"/archive/*/"u11@$D.jsonl" | jq -r .body)" = "from eleven" ] &&
     [ "$(cat "$tmp"/archive/*/"u07@$D.jsonl" | jq -r .body)" = "from seven" ]'
bash "$EX/cron/xmsg-collect.sh" -a u12 "$tmp/archive"
check "a second run files nothing again, leaves no spool" \
    '[ "$(cat "$tmp"/archive/*/*.jsonl | wc -l)" = 2 ] &&
     [ ! -e "$tmp/archive/.spool.jsonl" ]'

echo "examples: $pass passed, $failed failed"
[ "$failed" = 0 ]
