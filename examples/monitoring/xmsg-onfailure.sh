#!/bin/bash
# xmsg-onfailure.sh UNIT - what xmsg-onfailure@.service runs: sends the
# failed unit's status (systemctl status: state and last log lines) to
# $XMSG_TO, subject "UNIT failed on HOST", as $XMSG_ACCOUNT.
set -u
xmsg=${XMSG:-xmsg}
unit=${1:?usage: xmsg-onfailure.sh UNIT}
[ -n "${XMSG_TO:-}" ] || {
    echo "xmsg-onfailure: XMSG_TO is not set" >&2
    exit 2
}
account=()
[ -z "${XMSG_ACCOUNT:-}" ] || account=(-a "$XMSG_ACCOUNT")
{
    systemctl status --no-pager --lines=20 -- "$unit" 2>&1
    true
} | "$xmsg" send -q "${account[@]}" -t "$XMSG_TO" --type normal \
    --subject "$unit failed on $(uname -n)" >/dev/null
