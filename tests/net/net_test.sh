#!/usr/bin/env bash
# net_test.sh PROBE GROUP - src/net/ against real peers on loopback.
#   tls      openssl s_server with the lab's kind of PKI: CA ok, wrong CA,
#            wrong name, trustTLS, pins (s_server's output shows whether an
#            application byte arrived), ALPN and SNI, TLS 1.2 and 1.3
#            channel bindings against net_probe's own server, handshake
#            that never answers -> timeout at the deadline.
#   connect  a refused address then a working one; all refused.
#   srv      dnsmasq on a loopback address, seen through a private mount
#            namespace's /etc/resolv.conf: SRV order across both services,
#            a refused first target, the name checked is the JID's domain,
#            fallback to A/AAAA, ".", legacyTLS asks xmpps only.
# Exit 0 all passed, 1 a failure, 77 skipped (srv needs root and unshare).
set -uo pipefail
PROBE=$1
GROUP=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/xmsg-net.XXXXXX)
PIDS=()
FAILS=0

cleanup() {
	[ -n "${NET_TEST_TRACE:-}" ] && date +%s.%N >&2
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	"$PROBE" --free-port
}

# s_server NAME PORT CERT KEY [ARGS...]: one connection, output in
# $WORK/NAME.out; returns once it listens.
s_server() {
	local name=$1 port=$2 cert=$3 key=$4 i
	shift 4
	mkfifo "$WORK/$name.in"
	# A writer that never writes: s_server stops at EOF on its stdin.
	sleep 600 >"$WORK/$name.in" &
	PIDS+=($!)
	openssl s_server -accept "127.0.0.1:$port" -cert "$cert" -key "$key" \
		-naccept 1 "$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	PIDS+=($!)
	for i in $(seq 1 200); do
		grep -q '^ACCEPT' "$WORK/$name.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "s_server $name did not start:" >&2
	cat "$WORK/$name.out" >&2
	exit 1
}

# Waits (bounded) for s_server NAME to finish its one connection.
s_server_done() {
	local i
	for i in $(seq 1 100); do
		grep -q 'CONNECTION CLOSED\|shutdown accept socket' "$WORK/$1.out" && return 0
		sleep 0.05
	done
}

OUT=""
probe() {
	OUT=$("$PROBE" "$@" 2>>"$WORK/probe.err")
	local rc=$?
	probe_status $rc "$*"
}

# A probe that exits non-zero (a sanitizer's report, a crash, a usage
# error) is a failure whatever it printed.
probe_status() {
	if [ "$1" -ne 0 ]; then
		bad "probe exited $1: $2"
		tail -20 "$WORK/probe.err" >&2
	fi
	return 0
}

ok() {
	echo "ok   $1"
}
bad() {
	echo "FAIL $1" >&2
	echo "$OUT" | sed 's/^/     | /' >&2
	FAILS=$((FAILS + 1))
}
has() { # has NAME LINE...: every line is in $OUT
	local name=$1 l
	shift
	for l in "$@"; do
		if ! grep -qxF -- "$l" <<<"$OUT"; then
			bad "$name (missing: $l)"
			return
		fi
	done
	ok "$name"
}
has_re() { # has_re NAME REGEX: a line of $OUT matches
	if grep -qE -- "$2" <<<"$OUT"; then ok "$1"; else bad "$1 (no /$2/)"; fi
}
val() { sed -n "s/^$1=//p" <<<"$OUT" | head -1; }

pin_of() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64 | sed 's|^|sha256//|'
}

certs() {
	bash "$HERE/../lab/certs.sh" "$WORK" >/dev/null || exit 1
	C=$WORK/certs
}

# A certificate for $1 signed by the lab CA.
cert_for() {
	local n=$1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$n" -keyout "$C/$n.key" -out "$C/$n.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$n" >"$C/$n.ext"
	openssl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$C/$n.ext" \
		-out "$C/$n.crt" 2>/dev/null
}

group_tls() {
	local p
	certs
	# Verified with the CA; ALPN offered for direct TLS; a byte sent.
	p=$(free_port)
	s_server ok "$p" "$C/localhost.crt" "$C/localhost.key" -alpn xmpp-client
	probe --domain localhost --host 127.0.0.1 --port "$p" --legacy \
		--ca "$C/ca.pem" --send HELLO-XMSG
	has "ca: handshake ok" "result=ok" "tls_version=1.3"
	has_re "ca: ALPN xmpp-client selected" '^log=TLS: .*\(ALPN xmpp-client\)$'
	s_server_done ok
	grep -q HELLO-XMSG "$WORK/ok.out" && ok "ca: the byte arrived" ||
		bad "ca: the byte did not arrive"

	p=$(free_port)
	s_server wrongca "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain localhost --host 127.0.0.1 --port "$p" --legacy \
		--ca "$C/other-ca.pem" --send HELLO-XMSG
	has "wrong CA: tls" "result=fail" "stage=tls" "code=tls"
	has_re "wrong CA: the verify error's text" '^text=.*not trusted: unable to get local issuer certificate'

	p=$(free_port)
	s_server wrongname "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain example.org --host 127.0.0.1 --port "$p" --legacy \
		--ca "$C/ca.pem" --send HELLO-XMSG
	has "wrong name: tls" "result=fail" "code=tls"
	has_re "wrong name: hostname mismatch" '^text=.*example.org.*hostname mismatch'

	# The system store is a hashed directory, looked up lazily: one made
	# here with the lab CA in it (and no caFile) verifies the server.
	mkdir -p "$WORK/hashed"
	ln -s "$C/ca.pem" "$WORK/hashed/$(openssl x509 -hash -noout -in "$C/ca.pem").0"
	p=$(free_port)
	s_server hashed "$p" "$C/localhost.crt" "$C/localhost.key"
	SSL_CERT_DIR=$WORK/hashed SSL_CERT_FILE= probe --domain localhost \
		--host 127.0.0.1 --port "$p" --legacy
	has "system store: hashed directory" "result=ok"
	# SSL_CERT_FILE naming another file than the system bundle is kept.
	p=$(free_port)
	s_server certfile "$p" "$C/localhost.crt" "$C/localhost.key"
	SSL_CERT_FILE=$C/ca.pem probe --domain localhost --host 127.0.0.1 \
		--port "$p" --legacy
	has "system store: SSL_CERT_FILE of the user's" "result=ok"
	# Neither: the lab CA is not trusted.
	p=$(free_port)
	s_server nostore "$p" "$C/localhost.crt" "$C/localhost.key"
	SSL_CERT_FILE= probe --domain localhost --host 127.0.0.1 --port "$p" --legacy
	has "system store: the lab CA is not in it" "result=fail" "code=tls"

	# A literal domain: the address is what the certificate must name.
	p=$(free_port)
	s_server literal "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain 127.0.0.1 --host 127.0.0.1 --port "$p" --legacy \
		--ca "$C/ca.pem"
	has "literal domain: tls" "result=fail" "code=tls"
	has_re "literal domain: IP address mismatch" '^text=.*IP address mismatch'

	p=$(free_port)
	s_server trust "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain example.org --host 127.0.0.1 --port "$p" --legacy --trust
	has "trustTLS: ok without CA and with another name" "result=ok"
	has_re "trustTLS: says so" '^log=TLS certificate verification is off'

	p=$(free_port)
	s_server pinok "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain localhost --host 127.0.0.1 --port "$p" --legacy \
		--ca "$C/ca.pem" --pin "$(pin_of "$C/other-ca.pem");$(pin_of "$C/localhost.crt")" \
		--send HELLO-XMSG
	has "pin ok" "result=ok"
	s_server_done pinok
	grep -q HELLO-XMSG "$WORK/pinok.out" && ok "pin ok: the byte arrived" ||
		bad "pin ok: the byte did not arrive"

	p=$(free_port)
	s_server pinbad "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain localhost --host 127.0.0.1 --port "$p" --legacy \
		--ca "$C/ca.pem" --pin "$(pin_of "$C/other-ca.pem")" --send HELLO-XMSG
	has "pin wrong: tls" "result=fail" "code=tls"
	has_re "pin wrong: says which key" '^text=.*public key sha256//.* matches no pin'
	s_server_done pinbad
	if grep -q 'CIPHER is' "$WORK/pinbad.out" && ! grep -q HELLO-XMSG "$WORK/pinbad.out"; then
		ok "pin wrong: handshake done, no application byte sent"
	else
		bad "pin wrong: s_server saw $(tr '\n' ' ' <"$WORK/pinbad.out" | head -c 300)"
	fi
	# Same with trustTLS: the pin still decides.
	p=$(free_port)
	s_server pintrust "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain localhost --host 127.0.0.1 --port "$p" --legacy --trust \
		--pin "$(pin_of "$C/other-ca.pem")" --send HELLO-XMSG
	has "pin wrong with trustTLS: tls" "result=fail" "code=tls"

	p=$(free_port)
	s_server tls12 "$p" "$C/localhost.crt" "$C/localhost.key" -tls1_2
	probe --domain localhost --host 127.0.0.1 --port "$p" --legacy --ca "$C/ca.pem"
	has "TLS 1.2 server" "result=ok" "tls_version=1.2"

	# Channel bindings, both sides in one loop (net_probe's own server).
	probe --domain localhost --ca "$C/ca.pem" --cb-cert "$C/localhost.crt" \
		--cb-key "$C/localhost.key" --cb-max 1.3
	has "TLS 1.3: tls-exporter and tls-server-end-point equal on both sides" \
		"result=ok" "tls_version=1.3" "cb=match" "cb_sni=localhost"
	has "TLS 1.3: reads until the server's close_notify" "read=PONG-XMSG" \
		"read_end=connection"
	[ "$(val cb_exporter_client | wc -c)" -eq 65 ] && ok "tls-exporter: 32 bytes" ||
		bad "tls-exporter: 32 bytes"
	probe --domain localhost --ca "$C/ca.pem" --cb-cert "$C/localhost.crt" \
		--cb-key "$C/localhost.key" --cb-max 1.2
	has "TLS 1.2: tls-unique and tls-server-end-point equal on both sides" \
		"result=ok" "tls_version=1.2" "cb=match" "read=PONG-XMSG" \
		"read_end=connection"
	[ "$(val cb_unique_client | wc -c)" -eq 25 ] && ok "tls-unique: 12 bytes" ||
		bad "tls-unique: 12 bytes"
	[ "$(val cb_endpoint_client)" = "$(openssl x509 -in "$C/localhost.crt" -outform der |
		openssl dgst -sha256 -r | cut -d' ' -f1)" ] &&
		ok "tls-server-end-point: SHA-256 of the certificate (as openssl computes it)" ||
		bad "tls-server-end-point: SHA-256 of the certificate"

	# A peer that accepts TCP and never answers: the deadline decides.
	probe --domain localhost --ca "$C/ca.pem" --silent --timeout-ms 1500
	has "silent server: timeout" "result=fail" "stage=tls" "code=timeout"
	local ms
	ms=$(val elapsed_ms)
	if [ -n "$ms" ] && [ "$ms" -ge 1450 ] && [ "$ms" -lt 60000 ]; then
		ok "silent server: ended at the deadline (${ms} ms of 1500)"
	else
		bad "silent server: ended after ${ms:-?} ms, deadline 1500"
	fi
}

group_connect() {
	local p dead
	certs
	p=$(free_port)
	dead=$(free_port)
	s_server second "$p" "$C/localhost.crt" "$C/localhost.key"
	probe --domain localhost --try "127.0.0.1:$dead" --try "127.0.0.1:$p" \
		--ca "$C/ca.pem"
	has "refused first, second works" "result=ok" "connected=127.0.0.1:$p"
	has_re "refused first: logged" "^log=connect: 127.0.0.1:$dead 127.0.0.1:$dead: Connection refused$"
	probe --domain localhost --try "127.0.0.1:$dead" --try "127.0.0.1:$(free_port)" \
		--ca "$C/ca.pem"
	has "all refused: connection" "result=fail" "stage=connect" "code=connection"

	# A first address that never answers (a full accept queue) gets its
	# share of the time (6000 ms / 2 candidates = 3000 ms), then the next
	# (net_probe's own listener).
	# TCP only (--no-tls): no CPU work races the time left.
	probe --domain localhost --hang --silent --no-tls --timeout-ms 6000
	has "silent address, then a working one" "result=ok" "connected=peer"
	has_re "silent address: gave up in its share" '^log=connect: hang .*no answer in its share of the time$'
	local ms
	ms=$(val elapsed_ms)
	if [ -n "$ms" ] && [ "$ms" -ge 2900 ] && [ "$ms" -lt 60000 ]; then
		ok "silent address: waited its share (${ms} ms)"
	else
		bad "silent address: ${ms:-?} ms, want about 3000"
	fi
	# Only silent addresses: the deadline.
	probe --domain localhost --hang --timeout-ms 1500
	has "only a silent address: timeout" "result=fail" "stage=connect" "code=timeout"
	ms=$(val elapsed_ms)
	if [ -n "$ms" ] && [ "$ms" -ge 1450 ] && [ "$ms" -lt 60000 ]; then
		ok "only a silent address: ended at the deadline (${ms} ms of 1500)"
	else
		bad "only a silent address: ended after ${ms:-?} ms, deadline 1500"
	fi
}

group_srv() {
	local ns p dead dns
	if [ "$(id -u)" != 0 ] || ! command -v dnsmasq >/dev/null ||
		! unshare -m true 2>/dev/null; then
		echo "skipped: needs root, unshare and dnsmasq"
		exit 77
	fi
	certs
	cert_for example.test
	p=$(free_port)
	dead=$(free_port)
	# A loopback address of our own: other test runs may hold 127.0.0.53.
	dns=127.0.53.$((RANDOM % 200 + 20))
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address="$dns" --port=53 --local=/test/ --log-facility=- \
		--pid-file="$WORK/dnsmasq.pid" \
		--srv-host=_xmpps-client._tcp.example.test,dead.example.test,"$dead",0,0 \
		--srv-host=_xmpps-client._tcp.example.test,tls.example.test,"$p",5,0 \
		--srv-host=_xmpp-client._tcp.example.test,plain.example.test,5222,10,0 \
		--host-record=dead.example.test,127.0.0.1 \
		--host-record=tls.example.test,127.0.0.1 \
		--host-record=plain.example.test,127.0.0.1 \
		--host-record=nosrv.test,127.0.0.1,::1 \
		--srv-host=_xmpp-client._tcp.dot.test \
		--srv-host=_xmpp-client._tcp.gap.test,nowhere.gap.test,5222,0,0 \
		--srv-host=_xmpp-client._tcp.gap.test,there.gap.test,5269,10,0 \
		--host-record=there.gap.test,127.0.0.2 \
		--host-record=dot.test,127.0.0.1 \
		>"$WORK/dnsmasq.log" 2>&1 &
	PIDS+=($!)
	echo "nameserver $dns" >"$WORK/resolv.conf"
	local i
	for i in $(seq 1 100); do
		grep -q 'started' "$WORK/dnsmasq.log" && break
		sleep 0.05
	done
	ns() { # runs the probe with our resolv.conf
		OUT=$(unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
			"$WORK/resolv.conf" "$PROBE" "$@" 2>>"$WORK/probe.err")
		probe_status $? "$*"
	}
	s_server srv "$p" "$C/example.test.crt" "$C/example.test.key" -alpn xmpp-client
	ns --domain example.test --ca "$C/ca.pem" --send HELLO-XMSG
	has "SRV: both services in priority order" \
		"cands=dead.example.test@127.0.0.1:$dead/D,tls.example.test@127.0.0.1:$p/D,plain.example.test@127.0.0.1:5222/S"
	has "SRV: refused first target, then the second; example.test verified" \
		"connected=tls.example.test" "result=ok"
	has_re "SRV: the target used is logged" "^log=connected to tls.example.test at 127.0.0.1:$p \(direct TLS\)$"
	has_re "SRV: ALPN on an xmpps target" '\(ALPN xmpp-client\)$'
	ns --domain example.test --legacy --resolve-only
	has "SRV with legacyTLS: xmpps only" \
		"cands=dead.example.test@127.0.0.1:$dead/D,tls.example.test@127.0.0.1:$p/D"
	ns --domain nosrv.test --resolve-only
	has_re "no SRV: A/AAAA of the domain on 5222" \
		'^cands=(nosrv.test@\[::1\]:5222/S,nosrv.test@127.0.0.1:5222/S|nosrv.test@127.0.0.1:5222/S,nosrv.test@\[::1\]:5222/S)$'
	ns --domain dot.test --resolve-only
	has "SRV \".\": no service, no fallback" "result=fail" "code=connection"
	has_re "SRV \".\": says so" '^text=dot.test offers no XMPP service'
	ns --domain gap.test --resolve-only
	has "SRV target without address: skipped" "cands=there.gap.test@127.0.0.2:5269/S"
	has_re "SRV target without address: logged" '^log=DNS: no address for nowhere.gap.test'
	ns --domain missing.test --resolve-only
	has "NXDOMAIN everywhere: connection" "result=fail" "code=connection"
	ns --domain example.test --host tls.example.test --port 5300 --resolve-only
	has "explicit host skips SRV" "cands=tls.example.test@127.0.0.1:5300/S"

	# A DNS server that never answers: the deadline.
	local sink=127.0.54.$((RANDOM % 200 + 20))
	"$PROBE" --udp-sink "$sink" >"$WORK/sink.out" 2>&1 &
	PIDS+=($!)
	for i in $(seq 1 100); do
		grep -q listening "$WORK/sink.out" && break
		sleep 0.05
	done
	echo "nameserver $sink" >"$WORK/resolv.conf"
	ns --domain example.test --resolve-only --timeout-ms 1500
	has "silent DNS server: timeout" "result=fail" "stage=resolve" "code=timeout"
	local ms
	ms=$(val elapsed_ms)
	if [ -n "$ms" ] && [ "$ms" -ge 1450 ] && [ "$ms" -lt 60000 ]; then
		ok "silent DNS server: ended at the deadline (${ms} ms of 1500)"
	else
		bad "silent DNS server: ended after ${ms:-?} ms, deadline 1500"
	fi
	# No DNS server at all (ICMP port unreachable): a connection error.
	echo "nameserver 127.0.55.$((RANDOM % 200 + 20))" >"$WORK/resolv.conf"
	ns --domain example.test --resolve-only
	has "no DNS server: connection" "result=fail" "stage=resolve" "code=connection"
}

case "$GROUP" in
tls) group_tls ;;
connect) group_connect ;;
srv) group_srv ;;
*)
	echo "unknown group $GROUP" >&2
	exit 2
	;;
esac
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed" >&2
	exit 1
fi
echo "all passed"
