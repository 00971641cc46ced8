#!/usr/bin/env bash
# SRV (RFC 6120 3.2.1) and direct TLS (XEP-0368) end to end: the xmsg CLI,
# given no host, finds the lab server through the DNS. A dnsmasq on a
# loopback address of its own serves SRV records for the JID's domain that
# point at the lab's ports; the CLI runs in a private mount namespace whose
# /etc/resolv.conf names that dnsmasq. The SRV targets have names of their
# own: a login that passes shows the certificate was checked against the
# JID's domain, never the target.
#   srv_e2e.sh XMSG_BINARY     (XMSG_LAB_ENV names the server's env file)
# Exit 0 all passed, 1 a failure, 77 skipped (needs root, unshare, dnsmasq).
set -u
xmsg=$1
# shellcheck disable=SC1090
. "$XMSG_LAB_ENV"
if [ "$(id -u)" != 0 ] || ! command -v dnsmasq >/dev/null ||
  ! unshare -m true 2>/dev/null; then
  echo "skipped: needs root, unshare and dnsmasq"
  exit 77
fi
tmp=$(mktemp -d)
dns_pid=
cleanup() {
  [ -z "$dns_pid" ] || kill "$dns_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
D=$XMSG_LAB_DOMAIN

# A port that refuses connections, held for the whole run.
# shellcheck source=tests/closed_port.sh
. "$(dirname "$0")/../closed_port.sh"
closed_port "$tmp"
dead=$CLOSED_PORT

# dns RECORD...: a fresh dnsmasq serving only these records for $D.
dns() {
  local i addr=127.0.54.$((RANDOM % 200 + 20))
  if [ -n "$dns_pid" ]; then
    kill "$dns_pid" 2>/dev/null
    wait "$dns_pid" 2>/dev/null
  fi
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
    --listen-address="$addr" --port=53 --local="/$D/" --log-facility=- \
    --host-record="dtls.$D,127.0.0.1" --host-record="c2s.$D,127.0.0.1" \
    --host-record="dead.$D,127.0.0.1" "$@" >"$tmp/dnsmasq.log" 2>&1 &
  dns_pid=$!
  printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$addr" \
    >"$tmp/resolv.conf"
  for i in $(seq 1 100); do
    grep -q 'started' "$tmp/dnsmasq.log" && return 0
    sleep 0.05
  done
  echo "dnsmasq did not start:" >&2
  cat "$tmp/dnsmasq.log" >&2
  return 1
}

# send LABEL [CA]: v01 sends to v02 with no host or port, trusting CA (the
# lab's by default; -v: the target is logged); sets rc.
send() {
  XMSG_PASSWORD=pw-v01-Zq8 unshare -m sh -c \
    'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$tmp/resolv.conf" \
    "$xmsg" send -j "v01@$D" --ca-file "${2:-$XMSG_LAB_CA}" -t "v02@$D" \
    -m "srv $1" -T 30 -v >"$tmp/out" 2>"$tmp/err"
  rc=$?
}
delivered() { [ "$rc" = 0 ] && grep -q '"delivered": *true' "$tmp/out"; }
# The status's log (stdout) says which target was used.
logged() { grep -q -- "$1" "$tmp/out"; }

xmpps="_xmpps-client._tcp.$D"
xmpp="_xmpp-client._tcp.$D"

# 1. Both services: direct TLS (xmpps) is preferred at equal priority.
dns --srv-host="$xmpps,dtls.$D,$XMSG_LAB_TLS_PORT,0,0" \
  --srv-host="$xmpp,c2s.$D,$XMSG_LAB_PORT,0,0" || exit 1
send both
check "SRV, both services: delivered (exit $rc)" delivered
check "SRV, both services: direct TLS to dtls.$D:$XMSG_LAB_TLS_PORT" \
  "logged 'connected to dtls.$D at 127.0.0.1:$XMSG_LAB_TLS_PORT (direct TLS)'"

# 2. Priority orders the targets: STARTTLS first when it has the lower
# number.
dns --srv-host="$xmpps,dtls.$D,$XMSG_LAB_TLS_PORT,20,0" \
  --srv-host="$xmpp,c2s.$D,$XMSG_LAB_PORT,10,0" || exit 1
send priority
check "SRV priority: delivered (exit $rc)" delivered
check "SRV priority: STARTTLS to c2s.$D:$XMSG_LAB_PORT" \
  "logged 'connected to c2s.$D at 127.0.0.1:$XMSG_LAB_PORT (STARTTLS)'"

# 3. A dead first target: the next one is tried.
dns --srv-host="$xmpps,dead.$D,$dead,0,0" \
  --srv-host="$xmpps,dtls.$D,$XMSG_LAB_TLS_PORT,5,0" || exit 1
send dead
check "SRV, dead first target: delivered (exit $rc)" delivered
check "SRV, dead first target: it was tried, then the next" \
  "logged 'dead.$D' && logged 'connected to dtls.$D'"

# 4. STARTTLS only.
dns --srv-host="$xmpp,c2s.$D,$XMSG_LAB_PORT,0,0" || exit 1
send starttls
check "SRV, xmpp-client only: delivered (exit $rc)" delivered

# 5. A target whose certificate is not the domain's is still checked
# against the JID's domain: with the other CA, refused as tls (exit 4).
dns --srv-host="$xmpps,dtls.$D,$XMSG_LAB_TLS_PORT,0,0" || exit 1
send "other ca" "$XMSG_LAB_OTHER_CA"
check "SRV, unknown CA: exit 4 (tls), got $rc" '[ "$rc" = 4 ]'

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
