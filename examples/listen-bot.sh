#!/bin/bash
# listen-bot.sh - a bot in a shell loop: xmsg listen prints each message
# as one JSON line, jq takes it apart, xmsg send answers.
#
#   listen-bot.sh [XMSG OPTIONS...]    e.g. -a bot, or -j bot@example.org
#
# It answers "uptime" with the machine's uptime, "date" with the date, and
# anything else with a list of the words it knows. Options are passed to
# both xmsg calls (an account of the config file, --count N, ...); the
# options of listen only (--count, --until-idle, --duration) go to listen.
set -u
xmsg=${XMSG:-xmsg}
common=() listen_only=()
while [ $# -gt 0 ]; do
    case $1 in
    --count | --until-idle | --duration) listen_only+=("$1" "$2"); shift 2 ;;
    *) common+=("$1"); shift ;;
    esac
done

reply() {
    case $1 in
    uptime) uptime ;;
    date) date -u ;;
    *) echo "I know: uptime, date" ;;
    esac
}

"$xmsg" listen "${common[@]}" "${listen_only[@]}" |
    while IFS= read -r line; do
        from=$(jq -r 'select(.kind == "message") | .from // empty' <<<"$line")
        body=$(jq -r '.body // empty' <<<"$line")
        [ -n "$from" ] && [ -n "$body" ] || continue # the status line, ...
        word=$(tr '[:upper:]' '[:lower:]' <<<"$body" | tr -dc 'a-z')
        reply "$word" | "$xmsg" send "${common[@]}" -t "${from%%/*}" -q ||
            echo "listen-bot: could not answer $from" >&2
    done
