#!/bin/bash
# xmsg-notify.sh - a notification command for Icinga 2 and Nagios: one
# XMPP message per notification, its subject the one-line summary.
#
# Everything comes from the environment: Icinga 2's NotificationCommand
# "env" (see icinga2-xmsg.conf), or the NAGIOS_* macros Nagios exports
# (enable_environment_macros=1; the contact's JID is its pager):
#   XMSG_TO              the contact's JID (else NAGIOS_CONTACTPAGER)
#   NOTIFY_TYPE          PROBLEM, RECOVERY, ...    (NAGIOS_NOTIFICATIONTYPE)
#   NOTIFY_HOST, NOTIFY_HOSTSTATE, NOTIFY_HOSTOUTPUT
#   NOTIFY_SERVICE, NOTIFY_SERVICESTATE, NOTIFY_SERVICEOUTPUT  (services)
#   NOTIFY_DATE, NOTIFY_COMMENT
#   XMSG_ACCOUNT         account of the xmsg config file (default: its own)
#   XMSG_TYPE            message type: normal (default: stored for an
#                        offline contact) or headline (online only)
set -u
xmsg=${XMSG:-xmsg}
type=${NOTIFY_TYPE:-${NAGIOS_NOTIFICATIONTYPE:-}}
host=${NOTIFY_HOST:-${NAGIOS_HOSTNAME:-}}
hoststate=${NOTIFY_HOSTSTATE:-${NAGIOS_HOSTSTATE:-}}
hostoutput=${NOTIFY_HOSTOUTPUT:-${NAGIOS_HOSTOUTPUT:-}}
service=${NOTIFY_SERVICE:-${NAGIOS_SERVICEDESC:-}}
servicestate=${NOTIFY_SERVICESTATE:-${NAGIOS_SERVICESTATE:-}}
serviceoutput=${NOTIFY_SERVICEOUTPUT:-${NAGIOS_SERVICEOUTPUT:-}}
when=${NOTIFY_DATE:-${NAGIOS_LONGDATETIME:-$(date)}}
comment=${NOTIFY_COMMENT:-${NAGIOS_NOTIFICATIONCOMMENT:-}}
to=${XMSG_TO:-${NAGIOS_CONTACTPAGER:-}}
[ -n "$to" ] || {
    echo "xmsg-notify: XMSG_TO (the contact's JID) is not set" >&2
    exit 2
}

if [ -n "$service" ]; then
    subject="$type: $host/$service is $servicestate"
    output=$serviceoutput
else
    subject="$type: $host is $hoststate"
    output=$hostoutput
fi
account=()
[ -z "${XMSG_ACCOUNT:-}" ] || account=(-a "$XMSG_ACCOUNT")

{
    printf '%s\n' "$output"
    printf 'When: %s\n' "$when"
    [ -z "$comment" ] || printf 'Comment: %s\n' "$comment"
} | "$xmsg" send -q "${account[@]}" -t "$to" --subject "$subject" \
    --type "${XMSG_TYPE:-normal}" >/dev/null
