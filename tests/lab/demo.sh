#!/usr/bin/env bash
# The demo, end to end on a fresh Debian machine: installs what it needs,
# builds xmsg, starts a throw-away Prosody on loopback, sends a message to
# a user who is offline, then logs in as that user and prints what was
# collected. The server is stopped on exit.
#   bash tests/lab/demo.sh        (XMSG_SKIP_DEPS=1 skips apt-get)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${XMSG_BUILD_DIR:-$top/build}
lab=$(mktemp -d /tmp/xmsg-demo.XXXXXX)

[ -n "${XMSG_SKIP_DEPS:-}" ] || bash "$top/tests/lab/deps.sh"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" --target xmsg_cli -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

cleanup() {
  bash "$top/tests/lab/prosody.sh" stop "$lab/prosody" || true
  rm -rf "$lab"
}
trap cleanup EXIT
XMSG_LAB_QUIET=1 bash "$top/tests/lab/prosody.sh" start "$lab/prosody"
# shellcheck disable=SC1091
. "$lab/prosody/env"
xmsg=$build/xmsg
common=(-H "$XMSG_LAB_HOST" -P "$XMSG_LAB_PORT" --ca-file "$XMSG_LAB_CA")
pretty() { if command -v jq >/dev/null; then jq .; else cat; fi; }

echo "== alice sends a message to bob, who is offline"
XMSG_PASSWORD=pw-alice-Zq8 "$xmsg" send -j alice@localhost "${common[@]}" \
  -l info -t bob@localhost -m "Hello Bob, from xmsg 👋" --attr x-demo=yes | pretty

echo "== bob logs in and collects what is waiting for him"
XMSG_PASSWORD=pw-bob-Zq8 "$xmsg" connect -j bob@localhost "${common[@]}" \
  --state-file "$lab/bob-checkpoint.json" \
  -l info | pretty
