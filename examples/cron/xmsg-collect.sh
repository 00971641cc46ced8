#!/bin/bash
# xmsg-collect.sh - collect an account's waiting messages and file them:
# DIR/YYYY-MM-DD/SENDER.jsonl, one JSON line per message (the day of the
# server's timestamp when it has one, else today, UTC). Meant for cron:
#
#   */10 * * * *  /usr/local/lib/xmsg/xmsg-collect.sh -a archive /srv/xmpp
#
#   xmsg-collect.sh [XMSG OPTIONS...] DIR
#
# xmsg connect moves its checkpoint once it has written the messages out:
# here to a spool file on disk, filed afterwards. A run cut short leaves
# the spool, which the next run files first; nothing is lost (a message
# may be filed twice when a run dies in the middle of filing).
set -uo pipefail
xmsg=${XMSG:-xmsg}
[ $# -ge 1 ] || {
    echo "usage: xmsg-collect.sh [XMSG OPTIONS...] DIR" >&2
    exit 2
}
dir=${!#}
opts=("${@:1:$#-1}")
spool=$dir/.spool.jsonl
mkdir -p "$dir" || exit 1
exec 9>"$dir/.lock" # one collector at a time
flock -n 9 || exit 0

file_spool() {
    local line from day sender
    [ -s "$spool" ] || return 0
    while IFS= read -r line; do
        from=$(jq -r '.from // empty' <<<"$line")
        [ -n "$from" ] || continue # the status line
        day=$(jq -r '.stamp // "" | .[0:10]' <<<"$line")
        [ -n "$day" ] || day=$(date -u +%F)
        sender=$(printf '%s' "${from%%/*}" | tr -c 'A-Za-z0-9@._-' _)
        mkdir -p "$dir/$day"
        printf '%s\n' "$line" >>"$dir/$day/$sender.jsonl"
    done <"$spool"
    rm -f "$spool"
}

file_spool
"$xmsg" connect -q "${opts[@]}" >>"$spool"
rc=$? # a failure is cron's mail (xmsg wrote why on stderr)
file_spool
exit "$rc"
