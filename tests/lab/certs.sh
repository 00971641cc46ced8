#!/usr/bin/env bash
# Test PKI for the throw-away XMPP lab servers (loopback only, never trusted system-wide).
#
#   tests/lab/certs.sh DIR        # run: makes DIR/certs
#   . tests/lab/certs.sh          # source: defines xmsg_lab_certs DIR
#
# DIR/certs gets (EC P-256, valid 30 days):
#   ca.pem, ca.key                 test CA that signs the server certificate
#   localhost.crt, localhost.key   server certificate, CN=localhost, subjectAltName=DNS:localhost
#   server.pem                     localhost.crt then localhost.key, mode 600 (ejabberd certfiles)
#   other-ca.pem, other-ca.key     an unrelated CA: a wrong trust anchor for negative tests
# Existing files are kept while complete and valid for at least one more day.

# Runs in a subshell so that sourcing this file changes no option of the caller's shell.
xmsg_lab_certs() (
	set -euo pipefail
	if [ "$#" -ne 1 ] || [ -z "$1" ]; then
		echo "usage: xmsg_lab_certs DIR" >&2
		exit 2
	fi
	command -v openssl >/dev/null || { echo "certs.sh: openssl not found" >&2; exit 1; }
	local d="$1/certs" f ok=1
	mkdir -p "$d"
	for f in ca.pem ca.key localhost.crt localhost.key server.pem other-ca.pem other-ca.key; do
		[ -s "$d/$f" ] || ok=0
	done
	if [ "$ok" = 1 ] &&
		openssl x509 -checkend 86400 -noout -in "$d/localhost.crt" >/dev/null 2>&1 &&
		openssl x509 -checkend 86400 -noout -in "$d/ca.pem" >/dev/null 2>&1; then
		return 0
	fi

	umask 077
	local tmp
	tmp=$(mktemp -d "$d/.new.XXXXXX")
	# shellcheck disable=SC2064  # expand $tmp now
	trap "rm -rf '$tmp'" EXIT

	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	local ca_ext=(-addext "basicConstraints=critical,CA:TRUE"
		-addext "keyUsage=critical,keyCertSign,cRLSign"
		-addext "subjectKeyIdentifier=hash")

	openssl req -x509 "${ec[@]}" -days 30 -subj "/O=xmsg lab/CN=xmsg lab test CA" \
		"${ca_ext[@]}" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; echo "certs.sh: creating the test CA failed" >&2; exit 1; }

	openssl req -x509 "${ec[@]}" -days 30 -subj "/O=xmsg lab/CN=xmsg lab unrelated CA" \
		"${ca_ext[@]}" -keyout "$tmp/other-ca.key" -out "$tmp/other-ca.pem" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; echo "certs.sh: creating the unrelated CA failed" >&2; exit 1; }

	openssl req -new "${ec[@]}" -subj "/O=xmsg lab/CN=localhost" \
		-keyout "$tmp/localhost.key" -out "$tmp/localhost.csr" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; echo "certs.sh: creating the server key/CSR failed" >&2; exit 1; }

	cat >"$tmp/server.ext" <<-'EOF'
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyAgreement
		extendedKeyUsage = serverAuth, clientAuth
		subjectAltName = DNS:localhost
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	openssl x509 -req -in "$tmp/localhost.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "$tmp/server.ext" \
		-out "$tmp/localhost.crt" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; echo "certs.sh: signing the server certificate failed" >&2; exit 1; }

	cat "$tmp/localhost.crt" "$tmp/localhost.key" >"$tmp/server.pem"
	chmod 600 "$tmp/server.pem" "$tmp/localhost.key" "$tmp/ca.key" "$tmp/other-ca.key"
	chmod 644 "$tmp/ca.pem" "$tmp/other-ca.pem" "$tmp/localhost.crt"
	for f in ca.pem ca.key localhost.crt localhost.key server.pem other-ca.pem other-ca.key; do
		mv -f "$tmp/$f" "$d/$f"
	done
)

# Run directly (not sourced): make the certificates for the DIR argument.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	if [ "$#" -ne 1 ]; then
		echo "usage: $0 DIR   (writes DIR/certs)" >&2
		exit 2
	fi
	xmsg_lab_certs "$1"
fi
